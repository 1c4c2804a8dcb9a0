//! The git-history modes of the app: `scan --history`, `scan --range`, `ci` and `baseline`,
//! each a list of named steps (plan → scan → provenance → report), plus the remediation
//! writer's file handling (0600, never stdout) and baseline loading. Shares config, rule
//! and allowlist construction with the parent `app` module.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use git2::{Oid, Repository};

use super::scanner::{Scanned, Scanner};
use super::{emit, load_layers, BaselineChoice, OutputSettings};
use crate::cli::{BaselineArgs, CiArgs};
use crate::config::Config;
use crate::error::ConfigError;
use crate::exit::Outcome;
use crate::finding::Finding;
use crate::progress::{Counters, Progress};
use crate::report::{self, remediation, Format, HistoryInfo, Report, Style};
use crate::scan;
use crate::source::history::{self as walk, Depth, HistoryReader, RefSelection};
use crate::source::{provenance, range, staged, Item};
use crate::timing::Phases;
use crate::{baseline, ci, git};

/// `warden scan --history [--branch REF]`.
pub(super) fn run_history(
    cwd: &Path,
    out: &OutputSettings,
    branch: Option<&str>,
) -> Result<Outcome> {
    let refs = branch.map_or(RefSelection::All, |b| RefSelection::Branch(b.to_string()));
    let scanned = history_scan(cwd, out, &refs)?;
    finish(&scanned, out)
}

/// Items per batch handed from the walk to the scanners: large enough that a batch's delta
/// chains share most of their bases (each batch is read as one delta forest), small
/// enough to start scanning early.
const BATCH: usize = 8192;

fn history_scan(cwd: &Path, out: &OutputSettings, refs: &RefSelection) -> Result<Scanned> {
    let started = Instant::now();
    let repo = git::open(cwd)?;
    // NOTE: libgit2 re-hashes (SHA-1 with collision detection) every object it inflates;
    // that alone costs more than scanning. Corruption is still caught by zlib's checksum and
    // by pack CRCs, and reported per object. Each tree and commit is read once by the walk,
    // so libgit2's object cache would only cost memory.
    git2::opts::strict_hash_verification(false);
    git2::opts::enable_caching(false);
    let layers = load_layers(out, &config_root(&repo, cwd), &nested_dirs(&repo))?;
    let scanner = Scanner::new(&layers, out, &mut Phases::start())?;
    let counters = Arc::new(Counters::default());
    let (result, summary) = {
        let _bar = Progress::start("history", Arc::clone(&counters));
        walk_and_scan(&repo, refs, &scanner, &counters)?
    };
    let mut scanned = scanner.report("history", result);
    let report = &mut scanned.report;
    report.stats.errors.extend(summary.errors);
    if summary.depth == Depth::Shallow {
        // NOTE: fail closed: a shallow clone hides history, so "no leaks" cannot be said.
        report.stats.errors.push(
            "incomplete: shallow clone: history before the cut-off is not scanned \
             (run `git fetch --unshallow` for a complete scan)"
                .into(),
        );
    }
    report.history = Some(HistoryInfo { commits: summary.commits, depth: summary.depth });
    let commits = provenance::commits(&repo, &report.findings);
    let when: HashMap<&str, &str> =
        commits.iter().map(|c| (c.id.as_str(), c.date.as_str())).collect();
    first_commit_only(&mut report.findings, |c| (when.get(c).copied(), c.to_string()));
    report.commits = provenance::commits(&repo, &report.findings);
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(scanned)
}

/// Runs the walk on its own thread and scans its batches (read in bulk) as they arrive.
fn walk_and_scan(
    repo: &Repository,
    refs: &RefSelection,
    scanner: &Scanner<'_>,
    counters: &Counters,
) -> Result<(scan::ScanOutput, walk::WalkSummary)> {
    let git_dir = repo.path().to_path_buf();
    let reader = HistoryReader::new(repo, counters);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Item>>(4);
    std::thread::scope(|s| {
        let walker = s.spawn(move || {
            let repo = Repository::open(&git_dir).context("opening the repository")?;
            walk::walk(&repo, refs, BATCH, counters, &mut |batch| drop(tx.send(batch)))
        });
        let mut result = scan::ScanOutput::default();
        for batch in rx {
            result.absorb([scanner.scan(&batch, &reader)]);
        }
        let summary = walker.join().map_err(|_| anyhow!("the history walk panicked"))??;
        Ok((result, summary))
    })
}

/// `warden scan --range BASE..HEAD`.
pub(super) fn run_range(cwd: &Path, out: &OutputSettings, spec: &str) -> Result<Outcome> {
    let repo = git::open(cwd)?;
    let (base, head) = range::ends(&repo, spec).map_err(|e| shallow_hint(&repo, e, None))?;
    let scanned = range_scan(&repo, cwd, out, Some(base), head)?;
    finish(&scanned, out)
}

fn range_scan(
    repo: &Repository,
    cwd: &Path,
    out: &OutputSettings,
    base: Option<Oid>,
    head: Oid,
) -> Result<Scanned> {
    let started = Instant::now();
    let plan = range::plan(repo, base, head)?;
    let layers = load_layers(out, &config_root(repo, cwd), &nested_dirs(repo))?;
    let reader = staged::GitReader::new(repo);
    let mut scanned = super::scanner::scan_once(
        &plan.items,
        &reader,
        &layers,
        out,
        "range",
        &mut Phases::start(),
    )?;
    let report = &mut scanned.report;
    report.stats.errors.extend(plan.errors);
    let order: HashMap<&str, usize> =
        plan.commits.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();
    first_commit_only(&mut report.findings, |c| order.get(c).copied());
    let depth = if repo.is_shallow() { Depth::Shallow } else { Depth::Complete };
    report.history = Some(HistoryInfo { commits: plan.commits.len(), depth });
    report.commits = provenance::commits(repo, &report.findings);
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(scanned)
}

/// The same secret at the same path in several commits (several versions of a file): keep
/// the finding of the oldest commit, as `rank` orders commit ids.
fn first_commit_only<R: Ord>(findings: &mut Vec<Finding>, rank: impl Fn(&str) -> R) {
    let rank = |f: &Finding| f.commit.as_deref().map(&rank);
    let mut best: HashMap<(String, String), Option<R>> = HashMap::new();
    for f in findings.iter() {
        let r = rank(f);
        match best.entry((f.fingerprint.clone(), f.path.clone())) {
            Entry::Occupied(mut e) if r < *e.get() => *e.get_mut() = r,
            Entry::Occupied(_) => {}
            Entry::Vacant(e) => drop(e.insert(r)),
        }
    }
    findings.retain(|f| {
        let key = (f.fingerprint.clone(), f.path.clone());
        best.get(&key).is_some_and(|b| *b == rank(f)) && best.remove(&key).is_some()
    });
}

/// `warden ci`: the range from CI variables, annotations on GitHub, SARIF when asked.
pub(super) fn run_ci(cwd: &Path, args: &CiArgs) -> Result<Outcome> {
    let out = OutputSettings::from(&args.output);
    let env = |k: &str| std::env::var(k).ok();
    let event = env("GITHUB_EVENT_PATH")
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
    let plan = ci::detect(args.range.as_deref(), &env, event.as_ref())
        .map_err(|e| anyhow!("warden ci: {e}"))?;
    let repo = git::open(cwd)?;
    let (base, head) = resolve(&repo, &plan)?;
    match base {
        Some(base) => eprintln!("warden ci: scanning {base:.12}..{head:.12} ({})", plan.reason),
        None => eprintln!("warden ci: scanning every commit of {head:.12} ({})", plan.reason),
    }
    let scanned = range_scan(&repo, cwd, &out, base, head)?;
    if let Some(path) = &args.sarif {
        write_file(path, Access::Shared, |f| {
            report::write(&scanned.report, Format::Sarif, Style::default(), f)
        })?;
    }
    if plan.provider == ci::Provider::GitHub && out.format != Format::Github {
        report::write(&scanned.report, Format::Github, Style::default(), &mut io::stdout())?;
    }
    finish(&scanned, &out)
}

/// Resolves the CI plan to two commits, explaining a too-shallow checkout. A push whose
/// previous tip is not in a complete clone was a force-push (the old commits are gone):
/// then every commit of HEAD is scanned (`None`), never fewer.
fn resolve(repo: &Repository, plan: &ci::Plan) -> Result<(Option<Oid>, Oid)> {
    let p = Some(plan.provider);
    let commit = |rev: &str| -> Result<Oid> {
        let o = repo.revparse_single(rev).with_context(|| format!("{rev}: not found"))?;
        Ok(o.peel_to_commit().with_context(|| format!("{rev}: not a commit"))?.id())
    };
    let head = commit(&plan.head).map_err(|e| shallow_hint(repo, e, p))?;
    let base = match &plan.base {
        ci::Base::Range(spec) => {
            let (base, head) = range::ends(repo, spec).map_err(|e| shallow_hint(repo, e, p))?;
            return Ok((Some(base), head));
        }
        ci::Base::Commit(sha) if !repo.is_shallow() && commit(sha).is_err() => {
            eprintln!(
                "warden ci: the previous tip {sha:.12} is not in this clone (a force-push?): \
                 scanning the whole history of HEAD"
            );
            return Ok((None, head));
        }
        ci::Base::Commit(sha) => commit(sha),
        ci::Base::MergeBaseWith(branch) => {
            let tip = [format!("refs/remotes/origin/{branch}"), branch.clone()]
                .iter()
                .find_map(|r| commit(r).ok())
                .with_context(|| format!("base branch {branch}: not fetched"));
            tip.and_then(|t| repo.merge_base(t, head).context("no merge base with HEAD"))
        }
    };
    Ok((Some(base.map_err(|e| shallow_hint(repo, e, p))?), head))
}

/// Adds the fetch-depth advice to an error when the repository is shallow.
fn shallow_hint(repo: &Repository, e: anyhow::Error, p: Option<ci::Provider>) -> anyhow::Error {
    if !repo.is_shallow() {
        return e;
    }
    e.context(ci::shallow_advice(p.unwrap_or(ci::Provider::Local)))
}

/// `warden baseline [PATH | --history] [-o FILE]`.
pub(super) fn run_baseline(cwd: &Path, args: &BaselineArgs) -> Result<Outcome> {
    let out = OutputSettings {
        format: Format::Human,
        output: None,
        config: args.config.clone(),
        max_file_size: None,
        explain: false,
        baseline: BaselineChoice::Ignore,
    };
    let report = if args.history {
        history_scan(cwd, &out, &RefSelection::All)?.report
    } else {
        super::directory_scan(cwd, args.path.as_deref(), &out)?
    };
    if args.prune {
        return prune_baseline(args, &report);
    }
    let text = baseline::render(&report.findings);
    match &args.output {
        Some(path) => {
            write_file(path, Access::Shared, |f| f.write_all(text.as_bytes()))?;
            union_merge(cwd, path)?;
        }
        None => io::stdout().lock().write_all(text.as_bytes())?,
    }
    eprintln!("warden: baseline of {} finding(s)", text.lines().count() - 1);
    Ok(if report.stats.errors.is_empty() { Outcome::Clean } else { Outcome::Error })
}

/// `warden baseline --prune -o FILE`: drops the entries of FILE that no current finding has,
/// says which, and adds nothing.
fn prune_baseline(args: &BaselineArgs, report: &Report) -> Result<Outcome> {
    let Some(path) = &args.output else { bail!("--prune needs the baseline file: -o FILE") };
    let entries = baseline::load(path)?;
    let current: std::collections::HashSet<&str> =
        report.findings.iter().map(|f| f.fingerprint.as_str()).collect();
    let (kept, stale): (Vec<String>, Vec<String>) =
        entries.into_iter().partition(|e| current.contains(e.as_str()));
    write_file(path, Access::Shared, |f| f.write_all(baseline::render_entries(&kept).as_bytes()))?;
    for e in &stale {
        eprintln!("warden: stale baseline entry dropped: {e}");
    }
    eprintln!("warden: baseline keeps {} entr(ies), dropped {}", kept.len(), stale.len());
    Ok(if report.stats.errors.is_empty() { Outcome::Clean } else { Outcome::Error })
}

/// Marks the baseline file `merge=union` in the repository's `.gitattributes`, so two
/// branches that each add entries merge without a conflict.
fn union_merge(cwd: &Path, baseline: &Path) -> Result<()> {
    let Ok(repo) = git::open(cwd) else { return Ok(()) };
    let Some(root) = repo.workdir() else { return Ok(()) };
    let abs = std::fs::canonicalize(baseline).unwrap_or_else(|_| baseline.to_path_buf());
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let Ok(rel) = abs.strip_prefix(&root) else { return Ok(()) };
    let line = format!("/{} merge=union", rel.to_string_lossy().replace('\\', "/"));
    let attrs = root.join(".gitattributes");
    let text = std::fs::read_to_string(&attrs).unwrap_or_default();
    if text.lines().any(|l| l.trim() == line) {
        return Ok(());
    }
    let sep = if text.is_empty() || text.ends_with('\n') { "" } else { "\n" };
    std::fs::write(&attrs, format!("{text}{sep}{line}\n"))
        .with_context(|| format!("updating {}", attrs.display()))?;
    eprintln!(
        "warden: {} now says `{line}` so branches adding entries merge cleanly",
        attrs.display()
    );
    Ok(())
}

/// The fingerprints of the chosen baseline (none when there is none).
pub(super) fn baseline_fingerprints(
    config: &Config,
    choice: &BaselineChoice,
) -> Result<Vec<String>, ConfigError> {
    let path = match choice {
        BaselineChoice::Ignore => return Ok(Vec::new()),
        BaselineChoice::File(p) => p.clone(),
        BaselineChoice::Configured => match &config.scan.baseline {
            None => return Ok(Vec::new()),
            Some(p) => {
                config.source.as_ref().and_then(|s| s.parent()).unwrap_or(Path::new(".")).join(p)
            }
        },
    };
    baseline::load(&path)
}

/// Directories holding a per-directory warden.toml, from the index (none in a bare
/// repository).
fn nested_dirs(repo: &Repository) -> Vec<String> {
    if repo.is_bare() {
        return Vec::new();
    }
    staged::nested_config_dirs(repo).unwrap_or_default()
}

/// Where warden.toml is looked up: the work tree, or for a bare repository the directory
/// the command runs in.
fn config_root(repo: &Repository, cwd: &Path) -> PathBuf {
    repo.workdir().map_or_else(|| cwd.to_path_buf(), Path::to_path_buf)
}

/// Writes the report, or for a remediation format the 0600 replace-text file and the steps.
fn finish(scanned: &Scanned, out: &OutputSettings) -> Result<Outcome> {
    let Format::Remediation(tool) = out.format else {
        return emit(&scanned.report, out, false);
    };
    let Some(path) = &out.output else {
        bail!("--format bfg/filter-repo writes full secrets: refusing stdout, pass --output FILE");
    };
    write_file(path, Access::OwnerOnly, |f| remediation::write(&scanned.secrets, f))?;
    let skipped = remediation::skipped(&scanned.secrets);
    let count = scanned.secrets.len() - skipped;
    let shown = path.display().to_string();
    eprint!("{}", remediation::steps(tool, &shown, &scanned.report.findings, count));
    if skipped > 0 {
        eprintln!(
            "warden: {skipped} non-UTF-8 secret(s) cannot be expressed in a replace-text file"
        );
    }
    eprintln!("{}", report::summary_line(&scanned.report));
    Ok(outcome(&scanned.report))
}

fn outcome(report: &Report) -> Outcome {
    if !report.stats.errors.is_empty() {
        Outcome::Error
    } else if report.findings.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    }
}

/// Who may read a written file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// The usual permissions (umask).
    Shared,
    /// Owner only (0600): files that hold secrets.
    OwnerOnly,
}

/// Creates (or truncates) `path` and fills it.
fn write_file(
    path: &Path,
    access: Access,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if access == Access::OwnerOnly {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let file = opts.open(path).with_context(|| format!("creating {}", path.display()))?;
    #[cfg(unix)]
    if access == Access::OwnerOnly {
        use std::os::unix::fs::PermissionsExt;
        // An existing file keeps its mode on open: tighten it explicitly.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    let mut w = io::BufWriter::new(file);
    fill(&mut w).and_then(|_| w.flush()).with_context(|| format!("writing {}", path.display()))
}
