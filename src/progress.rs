//! A progress line on stderr for long scans — objects done of total, MB/s and ETA —
//! redrawn a few times a second by a background thread, and only when stderr is a
//! terminal (silent in CI and pipes). Reads shared counters; knows nothing of git or rules.

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
        let total = counters.total.load(Ordering::Relaxed);
        let bytes = counters.bytes.load(Ordering::Relaxed);
        let line = render(label, done, total, bytes, started.elapsed());
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
    }
}

/// `history [#####·····]  12034/58211 objects  312.4 MB/s  ETA 3s`
pub fn render(label: &str, done: u64, total: u64, bytes: u64, elapsed: Duration) -> String {
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
    format!("{label} [{bar}] {done}/{total} objects  {mbs:.1} MB/s  ETA {eta}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_rate_and_eta() {
        let s = render("history", 50, 100, 10_000_000, Duration::from_secs(2));
        assert!(s.contains("50/100 objects"), "{s}");
        assert!(s.contains("5.0 MB/s"), "{s}");
        assert!(s.contains("ETA 2s"), "{s}");
    }
}
