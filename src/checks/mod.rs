//! Pre-commit checks (typecheck, lint, format): the `[[check]]` schema ([`spec`]), validation
//! and path selection ([`plan`]), processes ([`process`]) and scheduling ([`runner`]), output
//! ([`report`]) and `warden init` ([`init`]). Shares only the list of staged paths with the
//! secret scan; never imports `matcher` or `rules`. Working-tree isolation is
//! [`crate::worktree_guard`].

pub mod init;
pub mod paths;
pub mod plan;
pub mod process;
pub mod report;
pub mod runner;
pub mod spec;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;

pub use plan::Check;
pub use spec::{CheckSpec, ChecksSettings};

use crate::timing::Phases;
use crate::worktree_guard;

/// How one check ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Every run exited 0.
    Passed,
    /// A run exited non-zero or died of a signal (the description says which).
    Failed(String),
    /// Killed after its timeout.
    TimedOut(Duration),
    /// Killed because warden was interrupted (Ctrl-C, SIGTERM, SIGHUP).
    Interrupted,
    /// Killed because another check failed under `fail_fast`.
    Cancelled,
    /// Not run, and why.
    Skipped(String),
    /// Could not be started (command not found, missing workdir…).
    Error(String),
}

impl Status {
    /// True when the check blocks the commit.
    pub fn is_failure(&self) -> bool {
        !matches!(self, Status::Passed | Status::Skipped(_))
    }
}

/// The outcome of one check.
#[derive(Debug, Clone)]
pub struct CheckResult {
    /// The check's name.
    pub name: String,
    /// How it ended.
    pub status: Status,
    /// Captured stdout and stderr of its runs.
    pub output: Vec<u8>,
    /// Wall time from its first run's start to its last run's end.
    pub duration: Duration,
    /// The command line of its first failing run (else of its first run).
    pub command: String,
    /// How many commands it ran.
    pub runs: usize,
}

/// Which checks the user skipped through the environment.
#[derive(Debug, Clone, Default)]
pub struct Skips {
    /// `WARDEN_SKIP=1`: every check.
    pub all: bool,
    /// `SKIP=a,b`: these names.
    pub names: Vec<String>,
}

impl Skips {
    /// Reads `WARDEN_SKIP` and `SKIP`.
    pub fn from_env() -> Self {
        let all = std::env::var("WARDEN_SKIP").is_ok_and(|v| !matches!(v.trim(), "" | "0"));
        let names = std::env::var("SKIP")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        Skips { all, names }
    }

    fn skips(&self, name: &str) -> Option<&'static str> {
        if self.all {
            Some("WARDEN_SKIP is set")
        } else if self.names.iter().any(|n| n == name) {
            Some("named in SKIP")
        } else {
            None
        }
    }
}

/// One run of the configured checks.
pub struct Request<'a> {
    /// The repository (for isolation) and its working tree root.
    pub repo: &'a git2::Repository,
    /// Working tree root.
    pub root: PathBuf,
    /// Repository-relative paths the checks may receive.
    pub paths: Vec<PathBuf>,
    /// Hide unstaged changes while the checks run (staged mode).
    pub isolate: bool,
    /// Parallelism and fail-fast.
    pub settings: ChecksSettings,
    /// Skipped by the environment.
    pub skips: Skips,
}

/// Everything a run has to say.
#[derive(Debug)]
pub struct RunReport {
    /// One result per configured check, in config order.
    pub results: Vec<CheckResult>,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// Set when a signal stopped the run.
    pub interrupted: bool,
    /// What the working-tree guard put back.
    pub restored: Option<worktree_guard::Restored>,
}

impl RunReport {
    /// True when some check blocks the commit.
    pub fn failed(&self) -> bool {
        self.interrupted || self.results.iter().any(|r| r.status.is_failure())
    }
}

/// Runs `checks` for `req`: selects paths, sets aside unstaged changes when asked, runs,
/// and puts everything back.
pub fn run(checks: &[Check], req: &Request) -> Result<RunReport> {
    let started = Instant::now();
    let mut phases = Phases::start();
    let (selected, skipped) = select(checks, req);
    let any = selected.iter().any(Option::is_some);
    let interrupt = if any { install_signal_flag() } else { Arc::default() };
    phases.mark("checks-plan");
    let guard = match any && req.isolate {
        true => worktree_guard::engage(req.repo)?,
        false => None,
    };
    phases.mark("checks-isolate");
    let opts = runner::RunOptions {
        jobs: req.settings.jobs(),
        fail_fast: req.settings.fail_fast(),
        root: req.root.clone(),
        interrupt: interrupt.clone(),
    };
    let mut results = runner::run(checks, selected, &opts);
    phases.mark("checks-run");
    let restored = guard.map(worktree_guard::Guard::restore).transpose()?;
    phases.mark("checks-restore");
    for (r, why) in results.iter_mut().zip(skipped) {
        if let Some(why) = why {
            r.status = Status::Skipped(why.into());
        }
    }
    Ok(RunReport {
        results,
        elapsed: started.elapsed(),
        interrupted: interrupt.load(std::sync::atomic::Ordering::SeqCst) != 0,
        restored,
    })
}

type Selection = (Vec<Option<Vec<OsString>>>, Vec<Option<&'static str>>);

fn select(checks: &[Check], req: &Request) -> Selection {
    checks
        .iter()
        .map(|c| match req.skips.skips(&c.name) {
            Some(why) => (None, Some(why)),
            None => (c.select(&req.paths), None),
        })
        .unzip()
}

/// Makes SIGINT, SIGTERM and SIGHUP set a flag (the signal number) instead of killing
/// warden, so the runner can kill its checks and the guard can restore the tree.
fn install_signal_flag() -> Arc<AtomicUsize> {
    let flag = Arc::new(AtomicUsize::new(0));
    for sig in
        [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP]
    {
        let _ = signal_hook::flag::register_usize(sig, flag.clone(), sig as usize);
    }
    flag
}

/// True when some check must run even without staged paths.
pub fn any_always_run(specs: &[CheckSpec]) -> bool {
    specs.iter().any(|s| s.always_run)
}

/// Repository-relative paths from git's byte strings.
pub fn paths_from_bytes<'a>(paths: impl Iterator<Item = &'a [u8]>) -> Vec<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    paths.map(|p| Path::new(std::ffi::OsStr::from_bytes(p)).to_path_buf()).collect()
}
