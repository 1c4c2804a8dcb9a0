//! Turns the parsed command line into plain settings and runs each mode as a list of named
//! steps: plan → collect → scan → report → outcome. The only place that combines config,
//! rules, sources and reporters.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};

mod history;
mod scanner;

use crate::checks::{self, Skips};
use crate::cli::{
    CheckArgs, Cli, Command, ConfigCommand, FormatArg, OutputArgs, RulesCommand, ScanArgs,
};
use crate::exit::Outcome;
use crate::install;
use crate::layered::{self, Layered};
use crate::policy::Policy;
use crate::report::{self, Format, Report, Style};
use crate::rules::{selftest, RuleSet};
use crate::source::{dir, staged, BlobReader, Item, LineScope};
use crate::timing::Phases;

/// `println!` that returns a broken pipe as an error (`main` maps it) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {
        writeln!(io::stdout().lock(), $($arg)*)?
    };
}

/// Output settings, free of clap types.
#[derive(Debug, Clone)]
pub struct OutputSettings {
    /// Report format.
    pub format: Format,
    /// Report file (stdout when `None`).
    pub output: Option<PathBuf>,
    /// Explicit config file.
    pub config: Option<PathBuf>,
    /// Size cap override.
    pub max_file_size: Option<u64>,
    /// Keep non-reported candidates.
    pub explain: bool,
    /// Which baseline hides accepted findings.
    pub baseline: BaselineChoice,
}

/// Where the accepted-findings baseline comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaselineChoice {
    /// `[scan] baseline` of warden.toml, if set.
    Configured,
    /// `--baseline FILE`.
    File(PathBuf),
    /// None (`warden baseline` itself sees every finding).
    Ignore,
}

impl From<&OutputArgs> for OutputSettings {
    fn from(a: &OutputArgs) -> Self {
        let format = match a.format {
            FormatArg::Human => Format::Human,
            FormatArg::Json => Format::Json,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Github => Format::Github,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Bfg => Format::Remediation(report::remediation::Tool::Bfg),
            FormatArg::FilterRepo => Format::Remediation(report::remediation::Tool::FilterRepo),
        };
        OutputSettings {
            format,
            output: a.output.clone(),
            config: a.config.clone(),
            max_file_size: a.max_file_size,
            explain: a.explain,
            baseline: a.baseline.clone().map_or(BaselineChoice::Configured, BaselineChoice::File),
        }
    }
}

/// Runs one command.
pub fn run(cli: Cli) -> Result<Outcome> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    match cli.command {
        Command::Scan(args) => run_scan(&cwd, &args),
        Command::Hook(out) => run_staged(&cwd, &OutputSettings::from(&out), false, true),
        Command::Check(args) => run_check(&cwd, &args),
        Command::Init { print } => run_init(&cwd, print),
        Command::Ci(args) => history::run_ci(&cwd, &args),
        Command::Baseline(args) => history::run_baseline(&cwd, &args),
        Command::Install => run_install(&cwd),
        Command::Uninstall { force } => run_uninstall(&cwd, force),
        Command::Rules(cmd) => run_rules(&cwd, cmd),
        Command::Doctor => run_doctor(&cwd),
        Command::Config(ConfigCommand::Show) => run_config_show(&cwd),
    }
}

fn run_scan(cwd: &Path, args: &ScanArgs) -> Result<Outcome> {
    let out = OutputSettings::from(&args.output);
    let repo_at = args.path.as_ref().map_or_else(|| cwd.to_path_buf(), |p| cwd.join(p));
    if args.history {
        return history::run_history(&repo_at, &out, args.branch.as_deref());
    }
    if let Some(range) = &args.range {
        return history::run_range(&repo_at, &out, range);
    }
    if args.staged {
        return run_staged(cwd, &out, args.all_lines, false);
    }
    let report = directory_scan(cwd, args.path.as_deref(), &out)?;
    emit(&report, &out, false)
}

/// Scans a directory or file with the enclosing repository's configuration layers.
fn directory_scan(cwd: &Path, path: Option<&Path>, out: &OutputSettings) -> Result<Report> {
    let started = Instant::now();
    let given = cwd.join(path.unwrap_or(Path::new(".")));
    let root = std::fs::canonicalize(&given).unwrap_or(given);
    let config_root = scan_config_root(&root, cwd);
    let items = dir::items(&root, &config_root).map_err(|e| anyhow!(e))?;
    let paths: Vec<String> = items.iter().map(Item::display_path).collect();
    let mut nested = layered::nested_dirs(paths.iter().map(String::as_str));
    nested.extend(ancestor_dirs(&root, &config_root));
    let layers = load_layers(out, &config_root, &nested)?;
    let mut phases = Phases::start();
    scan_items(&items, &dir::FileReader, &layers, out, "directory", started, &mut phases)
}

/// Where a directory scan looks for `warden.toml`: the enclosing repository's work tree,
/// else the scanned directory (or, for a file, the current directory).
fn scan_config_root(root: &Path, cwd: &Path) -> PathBuf {
    let repo = git2::Repository::discover(root).ok();
    let workdir =
        repo.as_ref().and_then(|r| r.workdir()).and_then(|w| std::fs::canonicalize(w).ok());
    match workdir {
        Some(w) if root.starts_with(&w) => w,
        _ if root.is_dir() => root.to_path_buf(),
        _ => cwd.to_path_buf(),
    }
}

/// Repo-relative directories between the config root and the scanned root (their
/// `warden.toml` governs the scanned files too).
fn ancestor_dirs(root: &Path, base: &Path) -> Vec<String> {
    let Ok(rel) = root.strip_prefix(base) else { return Vec::new() };
    let mut dirs = Vec::new();
    let mut cur = PathBuf::new();
    for c in rel.components() {
        cur.push(c);
        if cur.as_path() != rel || root.is_dir() {
            dirs.push(cur.to_string_lossy().replace('\\', "/"));
        }
    }
    dirs
}

/// The staged scan, shared by `scan --staged` and `hook`; the hook then runs the checks
/// when the scan is clean (`scan` never runs them).
fn run_staged(cwd: &Path, out: &OutputSettings, all_lines: bool, hook: bool) -> Result<Outcome> {
    let started = Instant::now();
    let mut phases = Phases::start();
    let repo = crate::git::open(cwd)?;
    if hook {
        recover_tree(&repo)?;
    }
    phases.mark("repo-open");
    let staged::Staged { mut items, nested_dirs: nested } =
        staged::collect(&repo, all_lines, &mut phases)?;
    let root = repo.workdir().map_or_else(|| cwd.to_path_buf(), Path::to_path_buf);
    if items.is_empty() {
        // NOTE: nothing staged means no rule parsing at all: the fast path. The hook reads
        // the base and repo configs only to honour checks with `always_run = true` (a
        // config that does not load has none: nothing is committed either way). The
        // human format says nothing; a machine format or a report file still gets an
        // (empty) report, so a CI step reading it never finds it missing.
        let layers = hook.then(|| load_layers(out, &root, &[]).ok()).flatten();
        if let Some(layers) = layers.filter(|l| checks::any_always_run(&l.effective().check)) {
            return run_checks(&repo, &root, &layers, Vec::new(), true, Some("commit"));
        }
        if out.format == Format::Human && out.output.is_none() {
            return Ok(Outcome::Clean);
        }
        let report = Report {
            mode: "staged".into(),
            elapsed_ms: started.elapsed().as_millis(),
            ..Report::default()
        };
        return emit(&report, out, hook);
    }
    let layers = load_layers(out, &root, &nested)?;
    if layers.effective().scan.all_lines == Some(true) {
        items.iter_mut().for_each(|i| i.scope = LineScope::All);
    }
    phases.mark("config");
    let reader = staged::GitReader::new(&repo);
    let report = scan_items(&items, &reader, &layers, out, "staged", started, &mut phases)?;
    let outcome = emit(&report, out, hook)?;
    phases.mark("output");
    // NOTE: the process exits right after this returns; freeing the repository (its index
    // entries, object cache and pack maps) was ~5% of a 1-file hook's instructions, so
    // leave that to the OS.
    if !hook || outcome != Outcome::Clean {
        std::mem::forget(repo);
        return Ok(outcome);
    }
    let paths = checks::paths_from_bytes(items.iter().map(|i| i.path.as_slice()));
    let outcome = run_checks(&repo, &root, &layers, paths, true, Some("commit"));
    phases.mark("checks");
    std::mem::forget(repo);
    outcome
}

/// Puts back what an interrupted run set aside (see `worktree_guard`).
fn recover_tree(repo: &git2::Repository) -> Result<()> {
    let Some(r) = crate::worktree_guard::recover(repo)? else {
        return Ok(());
    };
    eprintln!(
        "warden: an earlier warden run was interrupted while checks ran; restored {} unstaged change(s) it had set aside",
        r.restored
    );
    for (path, kept) in &r.kept {
        eprintln!(
            "warden: {} had changed since; that version is kept at {}",
            path.display(),
            kept.display()
        );
    }
    Ok(())
}

/// Runs the configured checks on `paths`; `isolate` hides unstaged changes meanwhile.
fn run_checks(
    repo: &git2::Repository,
    root: &Path,
    layers: &Layered,
    paths: Vec<PathBuf>,
    isolate: bool,
    blocking: Option<&str>,
) -> Result<Outcome> {
    let list = checks::plan::from_layers(layers)?;
    if list.is_empty() {
        return Ok(Outcome::Clean);
    }
    let req = checks::Request {
        repo,
        root: root.to_path_buf(),
        paths,
        isolate,
        settings: layers.effective().checks,
        skips: Skips::from_env(),
    };
    let report = checks::run(&list, &req)?;
    checks::report::write(&report, blocking, &mut io::stderr().lock())?;
    let errored = report.results.iter().any(|r| matches!(r.status, checks::Status::Error(_)));
    Ok(if report.interrupted || errored {
        Outcome::Error
    } else if report.failed() {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// `warden check`: the checks alone, on the staged files (isolated), all files or a range.
fn run_check(cwd: &Path, args: &CheckArgs) -> Result<Outcome> {
    let repo = crate::git::open(cwd)?;
    recover_tree(&repo)?;
    let root =
        repo.workdir().ok_or_else(|| anyhow!("warden check needs a working tree"))?.to_path_buf();
    let nested = staged::nested_config_dirs(&repo)?;
    let layers = Layered::load(&root, args.config.as_deref(), &nested)?;
    let (paths, isolate) = match (&args.from_ref, &args.to_ref) {
        (Some(a), Some(b)) => (checks::paths::changed_between(&repo, a, b)?, false),
        _ if args.all_files => (checks::paths::tracked(&repo)?, false),
        _ => {
            let items = staged::items(&repo, false, &mut Phases::start())?;
            let paths = checks::paths_from_bytes(items.iter().map(|i| i.path.as_slice()));
            (paths, true)
        }
    };
    run_checks(&repo, &root, &layers, paths, isolate, None)
}

/// `warden init`: proposes checks and writes (or appends to) warden.toml.
fn run_init(cwd: &Path, print: bool) -> Result<Outcome> {
    let root = crate::git::open(cwd)
        .ok()
        .and_then(|r| r.workdir().map(Path::to_path_buf))
        .unwrap_or_else(|| cwd.to_path_buf());
    checks::init::run(&root, print, &mut io::stdout().lock())?;
    Ok(Outcome::Clean)
}

fn load_layers(out: &OutputSettings, root: &Path, nested: &[String]) -> Result<Layered> {
    let mut layers = Layered::load(root, out.config.as_deref(), nested)?;
    let accepted = history::baseline_fingerprints(&layers.effective(), &out.baseline)?;
    layers.ignored.extend(accepted);
    Ok(layers)
}

fn scan_items(
    items: &[Item],
    reader: &dyn BlobReader,
    layers: &Layered,
    out: &OutputSettings,
    mode: &str,
    started: Instant,
    phases: &mut Phases,
) -> Result<Report> {
    let mut report = scanner::scan_once(items, reader, layers, out, mode, phases)?.report;
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(report)
}

/// Writes the report and derives the outcome.
fn emit(report: &Report, out: &OutputSettings, hook: bool) -> Result<Outcome> {
    if let Format::Remediation(_) = out.format {
        bail!("--format bfg and filter-repo rewrite history: use them with --history or --range");
    }
    let outcome = if !report.stats.errors.is_empty() {
        Outcome::Error
    } else if report.findings.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    };
    match &out.output {
        Some(path) => {
            let mut f = io::BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("creating {}", path.display()))?,
            );
            report::write(report, out.format, Style::default(), &mut f)?;
            f.flush()?;
            note(&report::summary_line(report));
        }
        None if hook && out.format == Format::Human && outcome == Outcome::Clean => {
            note(&report::summary_line(report));
        }
        None => {
            let stdout = io::stdout();
            let color = out.format == Format::Human
                && stdout.is_terminal()
                && std::env::var_os("NO_COLOR").is_none();
            let mut lock = io::BufWriter::new(stdout.lock());
            let written = report::write(report, out.format, Style { color }, &mut lock)
                .and_then(|()| lock.flush());
            match written {
                // NOTE: a reader that went away (`git commit 2>&1 | head -1`) must not turn
                // findings into exit 0: the report is lost, the outcome stands (fail closed).
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                other => other?,
            }
        }
    }
    if hook && outcome == Outcome::Findings {
        note("warden: commit blocked. Remove the secret from the staged change (and rotate it if it was ever pushed).");
        note("warden: a false positive? Add `warden:allow` on its line, or its fingerprint to [allow] fingerprints in warden.toml.");
    }
    Ok(outcome)
}

/// A line on stderr that never panics: `eprintln!` would on a closed stderr, and a hook that
/// panics there blocks a clean commit (exit 101).
fn note(line: &str) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

fn run_install(cwd: &Path) -> Result<Outcome> {
    let repo = crate::git::open(cwd)?;
    let dir = install::hooks_dir(&repo)?;
    let bin = std::env::current_exe().context("locating the warden binary")?;
    match install::install(&dir, &bin)? {
        install::Action::Chained { hook, previous } => {
            say!(
                "installed {}; the previous hook was kept as {} and runs first",
                hook.display(),
                previous.display()
            )
        }
        install::Action::Installed(p) => say!("installed {}", p.display()),
        install::Action::Updated(p) => say!("updated {}", p.display()),
        install::Action::Nothing(msg) => say!("{msg}"),
        other => bail!("unexpected install result {other:?}"),
    }
    Ok(Outcome::Clean)
}

fn run_uninstall(cwd: &Path, force: bool) -> Result<Outcome> {
    let repo = crate::git::open(cwd)?;
    let dir = install::hooks_dir(&repo)?;
    match install::uninstall(&dir, force)? {
        install::Action::Removed(p) => say!("removed {}", p.display()),
        install::Action::Restored(p) => {
            say!("removed warden's hook and restored the previous {}", p.display())
        }
        install::Action::Nothing(msg) => say!("{msg}"),
        other => bail!("unexpected uninstall result {other:?}"),
    }
    Ok(Outcome::Clean)
}

fn run_config_show(cwd: &Path) -> Result<Outcome> {
    let root = crate::git::open(cwd).ok().and_then(|r| r.workdir().map(Path::to_path_buf));
    let root = root.unwrap_or_else(|| cwd.to_path_buf());
    let nested = crate::git::open(cwd).ok().map(|r| staged::nested_config_dirs(&r)).transpose()?;
    let layers = Layered::load(&root, None, &nested.unwrap_or_default())?;
    say!("# layers, first to last (later values override, lists accumulate)");
    say!("builtin defaults");
    for l in layers.global.iter().chain(&layers.nested) {
        say!("{}", l.origin);
    }
    say!("\n# values");
    let eff = layers.effective();
    say!(
        "scan.max_file_size = {}   # {}",
        eff.max_file_size(),
        if eff.scan.max_file_size.is_some() { "configured" } else { "default" }
    );
    say!(
        "scan.all_lines = {}   # {}",
        eff.scan.all_lines.unwrap_or(false),
        if eff.scan.all_lines.is_some() { "configured" } else { "default" }
    );
    for s in layers.settings() {
        // NOTE: an allow regex may spell out the very secret it allows: never echo it.
        let value = if s.key.ends_with("allow.regexes") || s.key.ends_with("allow_regexes") {
            format!("<{} pattern(s), not shown>", s.value.matches("\", \"").count() + 1)
        } else {
            s.value
        };
        say!("{} = {}   # {}", s.key, value, s.origin);
    }
    let policy = Policy::from_layers(&layers)?;
    let builtin = crate::rules::RuleSet::builtin()?.len();
    say!("\n# rules in force: {} ({builtin} builtin before disable/override)", policy.rules.len());
    for n in &policy.notes {
        say!("# note: {n}");
    }
    Ok(Outcome::Clean)
}

fn run_doctor(cwd: &Path) -> Result<Outcome> {
    let repo = crate::git::open(cwd)?;
    let lines = crate::doctor::run(&repo)?;
    for l in &lines {
        say!("{} {}", if l.ok { "ok  " } else { "FAIL" }, l.what);
        if let Some(fix) = &l.fix {
            say!("     fix: {fix}");
        }
    }
    let live = lines.iter().all(|l| l.ok);
    say!("{}", if live { "warden: the guard is live" } else { "warden: the guard is NOT live" });
    Ok(if live { Outcome::Clean } else { Outcome::Findings })
}

fn run_rules(cwd: &Path, cmd: RulesCommand) -> Result<Outcome> {
    match cmd {
        RulesCommand::List { json } => {
            let set = Policy::from_layers(&Layered::load(cwd, None, &[])?)?.rules;
            crate::report::rules::list(&set, json, &mut io::stdout().lock())?;
            Ok(Outcome::Clean)
        }
        RulesCommand::Check { file } => {
            let mut set = RuleSet::default();
            set.add_file(&file)?;
            let failures = selftest::check(&set, 4);
            for f in &failures {
                say!("{}: rule {}: {}", file.display(), f.rule, f.message);
            }
            say!("{}: {} rules, {} problems", file.display(), set.len(), failures.len());
            Ok(if failures.is_empty() { Outcome::Clean } else { Outcome::Findings })
        }
        RulesCommand::ImportGitleaks { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let imported = crate::import::gitleaks::import(&file.display().to_string(), &text)?;
            for n in &imported.notes {
                eprintln!("warden: note: {n}");
            }
            print!("{}", crate::report::rules::to_toml(&imported.rules)?);
            Ok(Outcome::Clean)
        }
        RulesCommand::Explain { id } => {
            let set = Policy::from_layers(&Layered::load(cwd, None, &[])?)?.rules;
            let rule = set
                .get(&id)
                .ok_or_else(|| anyhow!("no rule with id {id:?} (see `warden rules list`)"))?;
            crate::report::rules::explain(rule, &mut io::stdout().lock())?;
            Ok(Outcome::Clean)
        }
    }
}
