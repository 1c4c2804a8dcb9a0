//! Opt-in phase timings for profiling the hook path. With `WARDEN_TIMING=1` in the
//! environment, each named phase of a staged scan prints one line to stderr
//! (`warden-timing: <phase> <ms>`), plus the CPU time summed over all threads for blob reads
//! and matching. Off by default; when off, a phase mark is one relaxed atomic load.
//! Never part of a report: the JSON output stays byte-stable.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static ENABLED: OnceLock<bool> = OnceLock::new();
static READ_NS: AtomicU64 = AtomicU64::new(0);
static MATCH_NS: AtomicU64 = AtomicU64::new(0);
static PRINTED: AtomicBool = AtomicBool::new(false);

/// True when `WARDEN_TIMING` is set to anything but `0` or empty.
pub fn enabled() -> bool {
    *ENABLED.get_or_init(|| {
        std::env::var_os("WARDEN_TIMING").is_some_and(|v| !v.is_empty() && v != "0")
    })
}

/// Which per-blob counter a duration adds to.
#[derive(Debug, Clone, Copy)]
pub enum Counter {
    /// Object size lookup and blob read (zlib, delta application).
    Read,
    /// Prefilter, regexes, validators.
    Match,
}

/// Runs `f`, adding its duration to `counter` when timings are on.
pub fn count<T>(counter: Counter, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let t = Instant::now();
    let out = f();
    let ns = t.elapsed().as_nanos() as u64;
    match counter {
        Counter::Read => READ_NS.fetch_add(ns, Ordering::Relaxed),
        Counter::Match => MATCH_NS.fetch_add(ns, Ordering::Relaxed),
    };
    out
}

/// Wall-clock phases of one run.
#[derive(Debug)]
pub struct Phases {
    last: Instant,
}

impl Phases {
    /// Starts timing now.
    pub fn start() -> Self {
        Phases { last: Instant::now() }
    }

    /// Ends the current phase, naming it.
    pub fn mark(&mut self, phase: &str) {
        if enabled() {
            let now = Instant::now();
            print(phase, now - self.last);
            self.last = now;
        }
    }

    /// Prints the summed per-blob counters (once per process).
    pub fn counters(&self) {
        if enabled() && !PRINTED.swap(true, Ordering::Relaxed) {
            let ns = |c: &AtomicU64| Duration::from_nanos(c.load(Ordering::Relaxed));
            print("cpu:blob-read", ns(&READ_NS));
            print("cpu:match", ns(&MATCH_NS));
        }
    }
}

fn print(phase: &str, d: Duration) {
    eprintln!("warden-timing: {phase} {:.3}", d.as_secs_f64() * 1e3);
}
