//! Turns the parsed command line into plain settings and runs each mode as a list of named
//! steps: plan → collect → scan → report → outcome. The only place that combines config,
//! rules, sources and reporters.

use std::collections::HashSet;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};

use crate::allow::{self, Allow};
use crate::cli::{Cli, Command, FormatArg, OutputArgs, RulesCommand, ScanArgs};
use crate::config::Config;
use crate::error::ConfigError;
use crate::exit::Outcome;
use crate::install;
use crate::matcher::{Matcher, MatcherBuilder};
use crate::report::{self, Format, Report, Style};
use crate::rules::{selftest, RuleSet};
use crate::scan::{self, ScanOptions};
use crate::source::{dir, staged, BlobReader, Item, LineScope};
use crate::timing::Phases;

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
}

impl From<&OutputArgs> for OutputSettings {
    fn from(a: &OutputArgs) -> Self {
        let format = match a.format {
            FormatArg::Human => Format::Human,
            FormatArg::Json => Format::Json,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Github => Format::Github,
        };
        OutputSettings {
            format,
            output: a.output.clone(),
            config: a.config.clone(),
            max_file_size: a.max_file_size,
            explain: a.explain,
        }
    }
}

/// Runs one command.
pub fn run(cli: Cli) -> Result<Outcome> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    match cli.command {
        Command::Scan(args) => run_scan(&cwd, &args),
        Command::Hook(out) => run_staged(&cwd, &OutputSettings::from(&out), false, true),
        Command::Install => run_install(&cwd),
        Command::Uninstall { force } => run_uninstall(&cwd, force),
        Command::Rules(cmd) => run_rules(&cwd, cmd),
    }
}

fn run_scan(cwd: &Path, args: &ScanArgs) -> Result<Outcome> {
    let out = OutputSettings::from(&args.output);
    if args.staged {
        return run_staged(cwd, &out, args.all_lines, false);
    }
    let root = cwd.join(args.path.clone().unwrap_or_else(|| PathBuf::from(".")));
    let started = Instant::now();
    let config_root = if root.is_dir() { root.clone() } else { cwd.to_path_buf() };
    let config = load_config(&out, &config_root)?;
    let items = dir::items(&root).map_err(|e| anyhow!(e))?;
    let mut phases = Phases::start();
    let report =
        scan_items(&items, &dir::FileReader, &config, &out, "directory", started, &mut phases)?;
    emit(&report, &out, false)
}

/// The staged scan, shared by `scan --staged` and `hook`.
fn run_staged(cwd: &Path, out: &OutputSettings, all_lines: bool, hook: bool) -> Result<Outcome> {
    let started = Instant::now();
    let mut phases = Phases::start();
    let repo = crate::git::open(cwd)?;
    phases.mark("repo-open");
    let mut items = staged::items(&repo, all_lines, &mut phases)?;
    if items.is_empty() {
        // NOTE: nothing staged means no config or rule parsing at all: the fast path.
        return Ok(Outcome::Clean);
    }
    let root = repo.workdir().map_or_else(|| cwd.to_path_buf(), Path::to_path_buf);
    let config = load_config(out, &root)?;
    if config.scan.all_lines == Some(true) {
        items.iter_mut().for_each(|i| i.scope = LineScope::All);
    }
    phases.mark("config");
    let reader = staged::GitReader::new(&repo);
    let report = scan_items(&items, &reader, &config, out, "staged", started, &mut phases)?;
    let outcome = emit(&report, out, hook);
    phases.mark("output");
    // NOTE: the process exits right after this returns; freeing the repository (its index
    // entries, object cache and pack maps) was ~5% of a 1-file hook's instructions, so
    // leave that to the OS.
    std::mem::forget(repo);
    outcome
}

fn load_config(out: &OutputSettings, root: &Path) -> Result<Config> {
    let cfg = match &out.config {
        Some(p) => Config::load(p),
        None => Config::discover(root),
    };
    Ok(cfg?)
}

/// Builtin rules plus the config's custom rules and rule files, minus disabled ids.
pub fn rule_set(config: &Config) -> Result<RuleSet, ConfigError> {
    let mut set = RuleSet::builtin()?;
    let base = config.source.as_ref().and_then(|p| p.parent()).unwrap_or(Path::new("."));
    for file in &config.rules.files {
        set.add_file(&base.join(file))?;
    }
    let file = config.file_name();
    for rule in &config.rule {
        crate::rules::validate_rule(rule).map_err(|message| crate::error::RuleError::Invalid {
            file: file.clone(),
            line: config.line_of(&format!("\"{}\"", rule.id)),
            id: rule.id.clone(),
            message,
        })?;
        set.upsert(rule.clone());
    }
    let disabled: HashSet<String> = config.rules.disable.iter().cloned().collect();
    set.disable(&disabled);
    Ok(set)
}

fn allow_list(config: &Config) -> Result<Allow, ConfigError> {
    let a = &config.allow;
    allow::build(&a.paths, &a.regexes, &a.fingerprints).map_err(|(entry, message)| {
        ConfigError::Invalid {
            file: config.file_name(),
            line: config.line_of(&entry),
            key: "allow".into(),
            message: format!("{entry:?}: {message}"),
        }
    })
}

fn scan_items(
    items: &[Item],
    reader: &dyn BlobReader,
    config: &Config,
    out: &OutputSettings,
    mode: &str,
    started: Instant,
    phases: &mut Phases,
) -> Result<Report> {
    let set = rule_set(config)?;
    phases.mark("rules-load");
    let matcher: Matcher = MatcherBuilder::new(&set).build();
    phases.mark("matcher-build");
    let allow = allow_list(config)?;
    let opts = ScanOptions {
        max_file_size: out.max_file_size.unwrap_or_else(|| config.max_file_size()),
        explain: out.explain,
    };
    let result = scan::run(items, reader, &matcher, &allow, &opts);
    phases.mark("scan");
    phases.counters();
    Ok(Report {
        mode: mode.into(),
        findings: result.findings,
        stats: result.stats,
        explained: result.explained,
        elapsed_ms: started.elapsed().as_millis(),
    })
}

/// Writes the report and derives the outcome.
fn emit(report: &Report, out: &OutputSettings, hook: bool) -> Result<Outcome> {
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
            eprintln!("{}", report::summary_line(report));
        }
        None if hook && out.format == Format::Human && outcome == Outcome::Clean => {
            eprintln!("{}", report::summary_line(report));
        }
        None => {
            let stdout = io::stdout();
            let color = out.format == Format::Human
                && stdout.is_terminal()
                && std::env::var_os("NO_COLOR").is_none();
            let mut lock = io::BufWriter::new(stdout.lock());
            report::write(report, out.format, Style { color }, &mut lock)?;
            lock.flush()?;
        }
    }
    if hook && outcome == Outcome::Findings {
        eprintln!("warden: commit blocked. Remove the secret from the staged change (and rotate it if it was ever pushed).");
        eprintln!("warden: a false positive? Add `warden:allow` on its line, or its fingerprint to [allow] fingerprints in warden.toml.");
    }
    Ok(outcome)
}

fn run_install(cwd: &Path) -> Result<Outcome> {
    let repo = crate::git::open(cwd)?;
    let dir = install::hooks_dir(&repo)?;
    let bin = std::env::current_exe().context("locating the warden binary")?;
    match install::install(&dir, &bin)? {
        install::Action::Chained { hook, previous } => {
            println!(
                "installed {}; the previous hook was kept as {} and runs first",
                hook.display(),
                previous.display()
            )
        }
        install::Action::Installed(p) => println!("installed {}", p.display()),
        install::Action::Updated(p) => println!("updated {}", p.display()),
        install::Action::Nothing(msg) => println!("{msg}"),
        other => bail!("unexpected install result {other:?}"),
    }
    Ok(Outcome::Clean)
}

fn run_uninstall(cwd: &Path, force: bool) -> Result<Outcome> {
    let repo = crate::git::open(cwd)?;
    let dir = install::hooks_dir(&repo)?;
    match install::uninstall(&dir, force)? {
        install::Action::Removed(p) => println!("removed {}", p.display()),
        install::Action::Restored(p) => {
            println!("removed warden's hook and restored the previous {}", p.display())
        }
        install::Action::Nothing(msg) => println!("{msg}"),
        other => bail!("unexpected uninstall result {other:?}"),
    }
    Ok(Outcome::Clean)
}

fn run_rules(cwd: &Path, cmd: RulesCommand) -> Result<Outcome> {
    match cmd {
        RulesCommand::List { json } => {
            let config = Config::discover(cwd)?;
            let set = rule_set(&config)?;
            crate::report::rules::list(&set, json, &mut io::stdout().lock())?;
            Ok(Outcome::Clean)
        }
        RulesCommand::Check { file } => {
            let mut set = RuleSet::default();
            set.add_file(&file)?;
            let failures = selftest::check(&set, 4);
            for f in &failures {
                println!("{}: rule {}: {}", file.display(), f.rule, f.message);
            }
            println!("{}: {} rules, {} problems", file.display(), set.len(), failures.len());
            Ok(if failures.is_empty() { Outcome::Clean } else { Outcome::Findings })
        }
        RulesCommand::Explain { id } => {
            let config = Config::discover(cwd)?;
            let set = rule_set(&config)?;
            let rule = set
                .get(&id)
                .ok_or_else(|| anyhow!("no rule with id {id:?} (see `warden rules list`)"))?;
            crate::report::rules::explain(rule, &mut io::stdout().lock())?;
            Ok(Outcome::Clean)
        }
    }
}
