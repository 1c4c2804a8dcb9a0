//! A progress line on stderr for long scans — objects done of total, MB/s and ETA —
//! redrawn a few times a second by a background thread, and only when stderr is a
//! terminal (silent in CI and pipes). While a history walk is still listing objects, the
//! total is extrapolated from the share of commits walked (shown with `~`). Reads shared
//! counters; knows nothing of git or rules.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Counters a scan bumps as it reads objects.
#[derive(Debug, Default)]
pub struct Counters {
    /// Objects known so far (grows while a history walk is still listing them).
    pub total: AtomicU64,
    /// Objects visited.
    pub objects: AtomicU64,
    /// Bytes read.
    pub bytes: AtomicU64,
    /// Commits to walk (0: not a walk, or not known yet).
    pub commits_total: AtomicU64,
    /// Commits walked so far.
    pub commits_done: AtomicU64,
}

impl Counters {
    /// Objects in all: exact once every commit is walked, else an extrapolation from the
    /// commits walked so far (`true`: estimated).
    pub fn expected_total(&self) -> (u64, bool) {
        let total = self.total.load(Ordering::Relaxed);
        let all = self.commits_total.load(Ordering::Relaxed);
        let done = self.commits_done.load(Ordering::Relaxed);
        if all == 0 || done >= all {
            return (total, false);
        }
        let estimate = (total as f64 * all as f64 / done.max(1) as f64) as u64;
        (estimate.max(total), true)
    }
}

/// A running progress display; stops and clears its line when dropped.
pub struct Progress {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts drawing `counters`, if stderr is a terminal.
    pub fn start(label: &'static str, counters: Arc<Counters>) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::io::stderr().is_terminal().then(|| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || draw_loop(label, &counters, &stop))
        });
        Progress { stop, thread }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
            eprint!("\r\x1b[2K");
        }
    }
}

fn draw_loop(label: &str, counters: &Counters, stop: &AtomicBool) {
    let started = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(200));
        let done = counters.objects.load(Ordering::Relaxed);
        let total = counters.expected_total();
        let bytes = counters.bytes.load(Ordering::Relaxed);
        let line = render(label, done, total, bytes, started.elapsed());
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
    }
}

/// `history [#####·····]  12034/58211 objects  312.4 MB/s  ETA 3s` (`/~58211` while the
/// total is an estimate).
pub fn render(
    label: &str,
    done: u64,
    (total, estimated): (u64, bool),
    bytes: u64,
    elapsed: Duration,
) -> String {
    const WIDTH: u64 = 24;
    let filled = (done * WIDTH).checked_div(total).unwrap_or(0).min(WIDTH) as usize;
    let bar = format!("{}{}", "#".repeat(filled), "·".repeat(WIDTH as usize - filled));
    let secs = elapsed.as_secs_f64().max(0.001);
    let mbs = bytes as f64 / 1e6 / secs;
    let eta = if done == 0 || done >= total {
        "--".to_string()
    } else {
        format!("{:.0}s", secs * (total - done) as f64 / done as f64)
    };
    let approx = if estimated { "~" } else { "" };
    format!("{label} [{bar}] {done}/{approx}{total} objects  {mbs:.1} MB/s  ETA {eta}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_rate_and_eta() {
        let s = render("history", 50, (100, false), 10_000_000, Duration::from_secs(2));
        assert!(s.contains("50/100 objects"), "{s}");
        assert!(s.contains("5.0 MB/s"), "{s}");
        assert!(s.contains("ETA 2s"), "{s}");
    }

    #[test]
    fn total_is_extrapolated_from_commits_while_walking() {
        let c = Counters::default();
        c.total.store(1_000, Ordering::Relaxed);
        c.commits_total.store(400, Ordering::Relaxed);
        c.commits_done.store(100, Ordering::Relaxed);
        assert_eq!(c.expected_total(), (4_000, true));
        c.commits_done.store(400, Ordering::Relaxed);
        c.total.store(3_000, Ordering::Relaxed);
        assert_eq!(c.expected_total(), (3_000, false));
        let s = render("history", 10, (4_000, true), 0, Duration::from_secs(1));
        assert!(s.contains("10/~4000 objects"), "{s}");
    }
}
