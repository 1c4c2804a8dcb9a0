//! `warden doctor`: proves the guard is live. Checks that the pre-commit hook sits where git
//! will run it (core.hooksPath, linked worktrees), is executable and calls a warden binary
//! that exists; then plants a generated canary secret in a *temporary* index, runs the hook
//! against it exactly as `git commit` would, and checks that the hook blocks it. The real
//! index and working tree are never touched; the temporary index and the canary blob are
//! removed afterwards.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use git2::{IndexEntry, IndexTime, Repository};

use crate::install;
use crate::rules::template::{expand, Rng};

/// One line of the doctor's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckLine {
    /// Passed?
    pub ok: bool,
    /// What was checked.
    pub what: String,
    /// How to fix it, when it failed.
    pub fix: Option<String>,
}

fn pass(what: impl Into<String>) -> CheckLine {
    CheckLine { ok: true, what: what.into(), fix: None }
}

fn fail(what: impl Into<String>, fix: impl Into<String>) -> CheckLine {
    CheckLine { ok: false, what: what.into(), fix: Some(fix.into()) }
}

/// Runs every check; stops after the first failure that makes later checks meaningless.
pub fn run(repo: &Repository) -> Result<Vec<CheckLine>> {
    let mut lines = Vec::new();
    if repo.is_bare() {
        lines.push(fail("repository has a work tree", "hooks do not run in a bare repository"));
        return Ok(lines);
    }
    let dir = install::hooks_dir(repo)?;
    let hook = dir.join("pre-commit");
    let Some(text) = std::fs::read(&hook).ok().map(|b| String::from_utf8_lossy(&b).into_owned())
    else {
        lines.push(fail(format!("hook exists at {}", hook.display()), "run `warden install`"));
        return Ok(lines);
    };
    lines.push(pass(format!("hook exists at {}", hook.display())));
    if !text.contains(install::MARKER) && !text.contains("warden") {
        lines.push(fail(
            "the hook calls warden",
            "run `warden install` (it chains the current hook)",
        ));
        return Ok(lines);
    }
    lines.push(pass("the hook calls warden"));
    if !is_executable(&hook) {
        lines.push(fail("the hook is executable", format!("chmod +x {}", hook.display())));
        return Ok(lines);
    }
    lines.push(pass("the hook is executable"));
    lines.push(binary_check(&text));
    lines.push(canary_check(repo, &hook)?);
    Ok(lines)
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.exists()
    }
}

/// The binary named in the hook exists (or `warden` is on PATH as the hook's fallback).
fn binary_check(text: &str) -> CheckLine {
    let named = text
        .lines()
        .find_map(|l| l.strip_prefix("warden_bin='"))
        .map(|rest| rest.trim_end_matches('\'').replace("'\\''", "'"));
    match named {
        Some(bin) if Path::new(&bin).is_file() => pass(format!("the hook's binary exists ({bin})")),
        Some(bin) if on_path("warden") => pass(format!("{bin} is gone, but `warden` is on PATH")),
        Some(bin) => {
            fail(format!("the hook's binary exists ({bin})"), "run `warden install` again")
        }
        None => pass("the hook runs a warden command"),
    }
}

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
}

/// Stages a canary secret in a temporary copy of the index and runs the hook on it.
fn canary_check(repo: &Repository, hook: &Path) -> Result<CheckLine> {
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos();
    let canary = expand("OPENROUTER_API_KEY=sk-or-v1-%{hex:64}\n", &mut Rng::new(seed as u64))
        .map_err(anyhow::Error::msg)?;
    let oid = repo.blob(canary.as_bytes()).context("writing the canary blob")?;
    let tmp_index = repo.path().join(format!("warden-doctor-{}.index", std::process::id()));
    let result = stage_and_run(repo, hook, &tmp_index, oid);
    let _ = std::fs::remove_file(&tmp_index);
    remove_loose_object(repo, oid);
    let (status, output) = result?;
    if status == Some(1) && output.contains("openrouter-api-key") {
        Ok(pass("the hook blocks a staged canary secret"))
    } else {
        let shown: String = output.lines().take(5).collect::<Vec<_>>().join(" | ");
        Ok(fail(
            format!("the hook blocks a staged canary secret (exit {status:?}: {shown})"),
            "run `warden install`; check that no other hook manager replaced the hook",
        ))
    }
}

fn stage_and_run(
    repo: &Repository,
    hook: &Path,
    tmp_index: &PathBuf,
    oid: git2::Oid,
) -> Result<(Option<i32>, String)> {
    // NOTE: the temporary index is HEAD plus the canary, so whatever the user has staged
    // neither hides nor fakes the verdict.
    let mut copy = git2::Index::open(tmp_index).context("opening the temporary index")?;
    if let Some(tree) = crate::git::head_tree(repo)? {
        copy.read_tree(&tree).context("reading HEAD into the temporary index")?;
    }
    copy.add(&canary_entry(oid)).context("staging the canary")?;
    copy.write().context("writing the temporary index")?;
    let workdir = repo.workdir().unwrap_or_else(|| repo.path());
    let out = Command::new(hook)
        .current_dir(workdir)
        .env("GIT_INDEX_FILE", tmp_index)
        .env("GIT_DIR", repo.path())
        .env("NO_COLOR", "1")
        .output()
        .with_context(|| format!("running {}", hook.display()))?;
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    Ok((out.status.code(), text))
}

fn canary_entry(oid: git2::Oid) -> IndexEntry {
    let path = b".warden-doctor-canary".to_vec();
    IndexEntry {
        ctime: IndexTime::new(0, 0),
        mtime: IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode: 0o100644,
        uid: 0,
        gid: 0,
        file_size: 0,
        id: oid,
        flags: path.len().min(0xfff) as u16,
        flags_extended: 0,
        path,
    }
}

/// The canary blob is unreferenced: delete its loose object so nothing of it stays behind.
fn remove_loose_object(repo: &Repository, oid: git2::Oid) {
    let hex = oid.to_string();
    let path = repo.path().join("objects").join(&hex[..2]).join(&hex[2..]);
    let _ = std::fs::remove_file(path);
}
