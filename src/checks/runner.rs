//! Runs checks: expands each into jobs (one command each: a batch of paths, one path, or no
//! path), schedules them under the parallelism limit in priority groups and `after` order,
//! enforces timeouts, fail-fast and interruption by killing each running job's whole process
//! group, and folds job outcomes into one [`CheckResult`] per check.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::process::Signal;

use super::plan::Check;
use super::process::{self, Running};
use super::spec::FilesMode;
use super::{CheckResult, Status};

/// How long a killed process group gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(2);
/// How often the loop looks at the interrupt flag while nothing else happens.
const TICK: Duration = Duration::from_millis(50);

/// Scheduling settings.
pub struct RunOptions {
    /// Most commands at once.
    pub jobs: usize,
    /// Stop at the first failure.
    pub fail_fast: bool,
    /// The repository root (workdirs are relative to it).
    pub root: PathBuf,
    /// Set to a signal number by the signal handler (0: none).
    pub interrupt: Arc<AtomicUsize>,
}

/// One command to run for a check.
struct Job {
    check: usize,
    words: Vec<OsString>,
    paths: usize,
}

/// Why warden killed a running job.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kill {
    Timeout,
    Cancelled,
    Interrupted,
}

struct Active {
    id: usize,
    job: Job,
    pgid: u32,
    output: std::fs::File,
    deadline: Option<Instant>,
    killed: Option<(Kill, Instant)>,
}

/// Per-check progress.
#[derive(Default)]
struct State {
    queue: VecDeque<Job>,
    started: Option<Instant>,
    ended: Option<Instant>,
    running: usize,
    expanded: bool,
    result: Option<Status>,
    output: Vec<u8>,
    command: String,
    runs: usize,
}

struct Exit {
    id: usize,
    status: std::io::Result<std::process::ExitStatus>,
}

/// Runs every check with its selected paths (`None`: skipped, nothing matched).
pub fn run(
    checks: &[Check],
    selected: Vec<Option<Vec<OsString>>>,
    opts: &RunOptions,
) -> Vec<CheckResult> {
    let mut s = Scheduler::new(checks, opts);
    for (i, sel) in selected.into_iter().enumerate() {
        s.prepare(i, sel);
    }
    s.main_loop();
    s.finish()
}

struct Scheduler<'a> {
    checks: &'a [Check],
    opts: &'a RunOptions,
    states: Vec<State>,
    selected: Vec<Option<Vec<OsString>>>,
    active: Vec<Active>,
    tx: Sender<Exit>,
    rx: Receiver<Exit>,
    next_id: usize,
    stopping: Option<Kill>,
}

impl<'a> Scheduler<'a> {
    fn new(checks: &'a [Check], opts: &'a RunOptions) -> Self {
        let (tx, rx) = mpsc::channel();
        Scheduler {
            checks,
            opts,
            states: checks.iter().map(|_| State::default()).collect(),
            selected: vec![None; checks.len()],
            active: Vec::new(),
            tx,
            rx,
            next_id: 0,
            stopping: None,
        }
    }

    fn prepare(&mut self, i: usize, sel: Option<Vec<OsString>>) {
        if sel.is_none() {
            self.states[i].result = Some(Status::Skipped("no matching staged files".into()));
        }
        self.selected[i] = sel;
    }

    fn main_loop(&mut self) {
        loop {
            self.check_interrupt();
            self.start_ready();
            if self.active.is_empty() {
                break;
            }
            self.wait_one();
            self.enforce_deadlines();
        }
    }

    fn check_interrupt(&mut self) {
        let sig = self.opts.interrupt.load(Ordering::SeqCst);
        if sig == 0 || self.stopping == Some(Kill::Interrupted) {
            return;
        }
        let names: Vec<String> = self
            .active
            .iter()
            .map(|a| format!("{} (process group {})", self.checks[a.job.check].name, a.pgid))
            .collect();
        if !names.is_empty() {
            eprintln!(
                "warden: interrupted by signal {sig}: killing the whole process group of each running check: {}",
                names.join(", ")
            );
        }
        self.stop(Kill::Interrupted);
    }

    /// Kills every running job and starts no more.
    fn stop(&mut self, why: Kill) {
        self.stopping = Some(why);
        let now = Instant::now();
        for a in self.active.iter_mut().filter(|a| a.killed.is_none()) {
            process::kill_group(a.pgid, Signal::TERM);
            a.killed = Some((why, now));
        }
    }

    fn start_ready(&mut self) {
        while self.stopping.is_none() && self.active.len() < self.opts.jobs {
            let Some(job) = self.next_job() else { return };
            self.launch(job);
        }
    }

    /// The next job of the first ready check (priority, then config order).
    fn next_job(&mut self) -> Option<Job> {
        let mut order: Vec<usize> = (0..self.checks.len()).collect();
        order.sort_by_key(|&i| (self.checks[i].priority, i));
        for i in order {
            if self.states[i].result.is_some() || !self.ready(i) {
                continue;
            }
            if !self.states[i].expanded {
                self.expand(i);
            }
            if let Some(job) = self.states[i].queue.pop_front() {
                return Some(job);
            }
        }
        None
    }

    /// True when every lower-priority check and every `after` dependency has finished;
    /// a failed dependency settles this check as skipped.
    fn ready(&mut self, i: usize) -> bool {
        let prio = self.checks[i].priority;
        let lower_done = (0..self.checks.len())
            .filter(|&j| self.checks[j].priority < prio)
            .all(|j| self.states[j].result.is_some());
        let deps = &self.checks[i].after;
        if !lower_done || deps.iter().any(|&d| self.states[d].result.is_none()) {
            return false;
        }
        let failed = deps.iter().find(|&&d| {
            !matches!(self.states[d].result, Some(Status::Passed | Status::Skipped(_)))
        });
        if let Some(&d) = failed {
            let why = format!("after failed check {:?}", self.checks[d].name);
            self.states[i].result = Some(Status::Skipped(why));
            return false;
        }
        true
    }

    fn expand(&mut self, i: usize) {
        let check = &self.checks[i];
        let paths = self.selected[i].take().unwrap_or_default();
        let base: Vec<OsString> = check.argv.iter().map(OsString::from).collect();
        let groups: Vec<Vec<OsString>> = match check.files {
            FilesMode::None => vec![Vec::new()],
            _ if paths.is_empty() => vec![Vec::new()],
            FilesMode::Each => paths.into_iter().map(|p| vec![p]).collect(),
            FilesMode::Batch => {
                process::batches(paths, process::path_budget(&check.argv, &check.env))
            }
        };
        let st = &mut self.states[i];
        st.expanded = true;
        for g in groups {
            let mut words = base.clone();
            let paths = g.len();
            words.extend(g);
            st.queue.push_back(Job { check: i, words, paths });
        }
    }

    fn launch(&mut self, job: Job) {
        let check = &self.checks[job.check];
        let cwd = check.cwd(&self.opts.root);
        let st = &mut self.states[job.check];
        st.started.get_or_insert_with(Instant::now);
        match process::spawn(&job.words, &cwd, &check.env) {
            Ok(Running { child, output }) => self.track(job, child, output),
            Err(e) if process::is_too_big(&e) && job.paths > 1 => self.split(job),
            Err(e) => {
                let msg = spawn_error(&job.words[0], &cwd, &e);
                st.command = render_command(&job.words);
                self.settle(job.check, Status::Error(msg));
            }
        }
    }

    /// The kernel refused the batch as too big after all: run it as two halves.
    fn split(&mut self, job: Job) {
        let fixed = job.words.len() - job.paths;
        let mut words = job.words;
        let tail = words.split_off(fixed + job.paths / 2);
        let mut second = words[..fixed].to_vec();
        second.extend(tail);
        let (a, b) = (words.len() - fixed, second.len() - fixed);
        let q = &mut self.states[job.check].queue;
        q.push_front(Job { check: job.check, words: second, paths: b });
        q.push_front(Job { check: job.check, words, paths: a });
    }

    fn track(&mut self, job: Job, mut child: std::process::Child, output: std::fs::File) {
        let id = self.next_id;
        self.next_id += 1;
        let pgid = child.id();
        let tx = self.tx.clone();
        std::thread::spawn(move || {
            let status = child.wait();
            let _ = tx.send(Exit { id, status });
        });
        let deadline = self.checks[job.check].timeout.map(|t| Instant::now() + t);
        self.states[job.check].running += 1;
        self.states[job.check].runs += 1;
        self.active.push(Active { id, job, pgid, output, deadline, killed: None });
    }

    fn wait_one(&mut self) {
        let now = Instant::now();
        let next = self
            .active
            .iter()
            .filter_map(|a| a.killed.map(|(_, t)| t + GRACE).or(a.deadline))
            .min()
            .map_or(TICK, |d| d.saturating_duration_since(now).min(TICK));
        match self.rx.recv_timeout(next) {
            Ok(exit) => self.on_exit(exit),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => unreachable!("the scheduler holds a sender"),
        }
    }

    fn on_exit(&mut self, exit: Exit) {
        let Some(pos) = self.active.iter().position(|a| a.id == exit.id) else {
            return;
        };
        let a = self.active.swap_remove(pos);
        if a.killed.is_some() {
            // Sweep what is left of the group: warden promised to kill all of it.
            process::kill_group(a.pgid, Signal::KILL);
        }
        let out = process::read_output(a.output);
        let status = job_status(&a.killed, exit.status, &self.checks[a.job.check]);
        let st = &mut self.states[a.job.check];
        st.running -= 1;
        let first_failure = !matches!(status, Status::Passed) && st.result.is_none();
        if st.command.is_empty() || first_failure {
            st.command = render_command(&a.job.words);
        }
        st.output.extend_from_slice(&out);
        self.record(a.job.check, status);
    }

    /// Folds one job's status into its check's result.
    fn record(&mut self, i: usize, status: Status) {
        let st = &mut self.states[i];
        let failed = !matches!(status, Status::Passed);
        if failed && st.result.is_none() {
            st.result = Some(status);
            st.queue.clear();
        }
        if st.running == 0 && st.queue.is_empty() && st.expanded {
            st.ended = Some(Instant::now());
            st.result.get_or_insert(Status::Passed);
        }
        if failed && self.opts.fail_fast && self.stopping.is_none() {
            self.stop(Kill::Cancelled);
        }
    }

    fn settle(&mut self, i: usize, status: Status) {
        self.states[i].queue.clear();
        self.record(i, status);
    }

    fn enforce_deadlines(&mut self) {
        let now = Instant::now();
        for a in &mut self.active {
            match a.killed {
                Some((_, at)) if now >= at + GRACE => {
                    process::kill_group(a.pgid, Signal::KILL);
                }
                None if a.deadline.is_some_and(|d| now >= d) => {
                    let name = &self.checks[a.job.check].name;
                    eprintln!(
                        "warden: check {name:?} timed out after {}: killing its whole process group ({})",
                        super::report::secs(self.checks[a.job.check].timeout.unwrap_or_default()),
                        a.pgid
                    );
                    process::kill_group(a.pgid, Signal::TERM);
                    a.killed = Some((Kill::Timeout, now));
                }
                _ => {}
            }
        }
    }

    fn finish(mut self) -> Vec<CheckResult> {
        let stop_reason = match self.stopping {
            Some(Kill::Interrupted) => "interrupted",
            _ => "fail_fast: an earlier check failed",
        };
        self.checks
            .iter()
            .zip(self.states.iter_mut())
            .map(|(c, st)| CheckResult {
                name: c.name.clone(),
                status: st.result.take().unwrap_or_else(|| Status::Skipped(stop_reason.into())),
                output: std::mem::take(&mut st.output),
                duration: match (st.started, st.ended) {
                    (Some(a), Some(b)) => b - a,
                    (Some(a), None) => a.elapsed(),
                    _ => Duration::ZERO,
                },
                command: std::mem::take(&mut st.command),
                runs: st.runs,
            })
            .collect()
    }
}

fn job_status(
    killed: &Option<(Kill, Instant)>,
    status: std::io::Result<std::process::ExitStatus>,
    check: &Check,
) -> Status {
    match (killed, status) {
        (Some((Kill::Timeout, _)), _) => Status::TimedOut(check.timeout.unwrap_or_default()),
        (Some((Kill::Cancelled, _)), _) => Status::Cancelled,
        (Some((Kill::Interrupted, _)), _) => Status::Interrupted,
        (None, Ok(st)) if st.success() => Status::Passed,
        (None, Ok(st)) => Status::Failed(process::describe(st)),
        (None, Err(e)) => Status::Error(format!("waiting for the command: {e}")),
    }
}

fn spawn_error(program: &OsString, cwd: &Path, e: &std::io::Error) -> String {
    let prog = program.to_string_lossy();
    match e.kind() {
        std::io::ErrorKind::NotFound if !cwd.is_dir() => {
            format!("workdir {} does not exist", cwd.display())
        }
        std::io::ErrorKind::NotFound => {
            format!("command not found: {prog} (is it installed and on PATH?)")
        }
        std::io::ErrorKind::PermissionDenied => {
            format!("{prog}: permission denied (not executable?)")
        }
        _ => format!("cannot start {prog}: {e}"),
    }
}

/// The command as a shell would need it typed, with long path lists shortened.
pub fn render_command(words: &[OsString]) -> String {
    const SHOWN: usize = 12;
    let quoted: Vec<String> = words
        .iter()
        .take(SHOWN)
        .map(|w| {
            let s = w.to_string_lossy();
            shlex::try_quote(&s).map_or_else(|_| format!("{s:?}"), |q| q.into_owned())
        })
        .collect();
    let mut line = quoted.join(" ");
    if words.len() > SHOWN {
        line.push_str(&format!(" … ({} more arguments)", words.len() - SHOWN));
    }
    line
}
