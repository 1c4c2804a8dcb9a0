//! Working-tree isolation: while checks run, every tracked path whose working-tree content
//! differs from the index (an unstaged edit or deletion) temporarily holds its staged
//! version, so checks see exactly what will be committed; afterwards the user's versions go
//! back. Untracked and unchanged files are never touched, and when nothing is unstaged nothing
//! is touched at all. No `git stash`, no `git checkout .`, and the index is only read.
//!
//! Crash safety rests on the journal ([`journal`]): the user's versions are copied (with mode
//! and mtime) and flushed to disk, and the journal is committed by one rename, before the
//! first file in the tree changes. A `flock` tells a live run from a dead one; [`recover`],
//! called at the start of every `warden hook` and `warden check`, puts back what a killed run
//! left. Restoring never overwrites a version it does not know: anything that changed while
//! checks ran is first kept under `.git/warden/saved/`.

pub mod fsops;
pub mod journal;

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{anyhow, bail, Context, Result};
use git2::{Delta, DiffOptions, Repository};

use fsops::Held;
use journal::{Entry, Layout, Manifest};

/// The steps at which `WARDEN_TEST_KILL_AT=<step>` makes warden SIGKILL itself (tests only).
pub const KILL_POINTS: &[&str] =
    &["lock", "backup", "journal", "staged", "swap", "swapped", "restore", "restored", "cleanup"];

/// Test hook: SIGKILLs this process when `WARDEN_TEST_KILL_AT` names `step`.
fn kill_point(step: &str) {
    if std::env::var_os("WARDEN_TEST_KILL_AT").is_some_and(|v| v == step) {
        let _ =
            rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
    }
}

/// The exclusive lock of one working tree's journal (released when dropped or on death).
struct Lock(
    // NOTE: never read: holding the open file is what holds the flock.
    #[allow(dead_code)] File,
);

impl Lock {
    fn acquire(layout: &Layout) -> Result<Lock> {
        fs::create_dir_all(&layout.base)
            .with_context(|| format!("creating {}", layout.base.display()))?;
        let path = layout.base.join("lock");
        let f = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        match rustix::fs::flock(&f, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(Lock(f)),
            Err(rustix::io::Errno::WOULDBLOCK) => bail!(
                "another warden run is checking this working tree right now ({} is locked); wait for it to finish",
                path.display()
            ),
            Err(e) => Err(anyhow!("locking {}: {e}", path.display())),
        }
    }
}

/// What a restore did, for the user.
#[derive(Debug, Default)]
pub struct Restored {
    /// Paths put back.
    pub restored: usize,
    /// Versions that changed during the run, kept (path, where it was kept).
    pub kept: Vec<(PathBuf, PathBuf)>,
}

/// A working tree whose unstaged changes are set aside; [`Guard::restore`] puts them back
/// (dropping the guard restores too, as a last resort).
pub struct Guard {
    layout: Layout,
    manifest: Manifest,
    _lock: Lock,
    done: bool,
}

/// Restores what an interrupted run left in the working tree of `repo`, if anything.
/// `Ok(None)`: nothing to do (one `stat` when warden never set anything aside here).
pub fn recover(repo: &Repository) -> Result<Option<Restored>> {
    let layout = Layout::new(repo.path());
    if !layout.base.exists() {
        return Ok(None);
    }
    let journal = layout.journal();
    let leftovers = layout.pending().exists() || has_done_dirs(&layout);
    if !journal.exists() && !leftovers {
        return Ok(None);
    }
    let lock = Lock::acquire(&layout)?;
    remove_leftovers(&layout);
    if !journal.exists() {
        return Ok(None);
    }
    let mut manifest = journal::read_manifest(&journal)?;
    if let Some(root) = repo.workdir() {
        // The working tree may have been moved since; the journal's paths are relative.
        manifest.root = root.as_os_str().as_bytes().to_vec();
    }
    let guard = Guard { layout, manifest, _lock: lock, done: false };
    guard.restore().map(Some)
}

fn has_done_dirs(layout: &Layout) -> bool {
    fs::read_dir(&layout.base).is_ok_and(|rd| {
        rd.flatten().any(|e| e.file_name().as_bytes().starts_with(b"isolate.done-"))
    })
}

/// Removes half-written and half-deleted journals (only called under the lock).
fn remove_leftovers(layout: &Layout) {
    let _ = fs::remove_dir_all(layout.pending());
    if let Ok(rd) = fs::read_dir(&layout.base) {
        for e in rd.flatten() {
            if e.file_name().as_bytes().starts_with(b"isolate.done-") {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
}

/// Sets aside the unstaged changes of the working tree of `repo`, if any.
pub fn engage(repo: &Repository) -> Result<Option<Guard>> {
    let root = repo.workdir().ok_or_else(|| anyhow!("the repository has no working tree"))?;
    let paths = unstaged_paths(repo, root)?;
    if paths.is_empty() {
        return Ok(None);
    }
    let layout = Layout::new(repo.path());
    let lock = Lock::acquire(&layout)?;
    kill_point("lock");
    remove_leftovers(&layout);
    let manifest = write_journal(&layout, root, &paths).map_err(|e| {
        let _ = fs::remove_dir_all(layout.pending());
        e.context("could not save your unstaged changes, so nothing was changed and the checks did not run")
    })?;
    kill_point("journal");
    let mut guard = Guard { layout, manifest, _lock: lock, done: false };
    if let Err(e) = guard.swap_in_staged() {
        let restored = guard.restore_inner();
        return Err(match restored {
            Ok(_) => e.context(
                "could not show the checks the staged versions; your files are back as they were",
            ),
            Err(r) => e.context(format!("and restoring failed too: {r:#}")),
        });
    }
    kill_point("swapped");
    Ok(Some(guard))
}

/// Tracked paths whose working-tree content differs from the index git will commit (minus
/// paths where a directory now stands: those are left alone).
fn unstaged_paths(repo: &Repository, root: &Path) -> Result<Vec<Vec<u8>>> {
    const SKIP_WORKTREE: u16 = 1 << 14;
    const INTENT_TO_ADD: u16 = 1 << 13;
    const ASSUME_VALID: u16 = 0x8000;
    let index = crate::git::index(repo)?;
    let mut opts = DiffOptions::new();
    opts.include_typechange(true).ignore_submodules(true);
    let diff = repo
        .diff_index_to_workdir(Some(&index), Some(&mut opts))
        .context("comparing the working tree with the index")?;
    let mut out = Vec::new();
    for d in diff.deltas() {
        if !matches!(d.status(), Delta::Modified | Delta::Deleted | Delta::Typechange) {
            continue;
        }
        let path = d.old_file().path_bytes().unwrap_or_default().to_vec();
        let Some(entry) = index.get_path(Path::new(OsStr::from_bytes(&path)), 0) else {
            continue;
        };
        let ignored = entry.flags_extended & (SKIP_WORKTREE | INTENT_TO_ADD) != 0
            || entry.flags & ASSUME_VALID != 0
            || fs::symlink_metadata(root.join(OsStr::from_bytes(&path))).is_ok_and(|m| m.is_dir());
        if !ignored {
            out.push(path);
        }
    }
    Ok(out)
}

/// Copies the user's versions into `isolate.new`, then commits it as `isolate`.
fn write_journal(layout: &Layout, root: &Path, paths: &[Vec<u8>]) -> Result<Manifest> {
    let pending = layout.pending();
    fs::create_dir_all(pending.join("files"))?;
    let mut manifest = Manifest {
        version: journal::VERSION,
        root: root.as_os_str().as_bytes().to_vec(),
        pid: std::process::id(),
        entries: Vec::new(),
        created_dirs: Vec::new(),
    };
    for (n, p) in paths.iter().enumerate() {
        let entry = back_up(root, &pending, n, p)?;
        if n == 0 {
            kill_point("backup");
        }
        if entry.backup == Held::Absent {
            note_missing_dirs(root, entry.rel(), &mut manifest.created_dirs);
        }
        manifest.entries.push(entry);
    }
    journal::write_json(&pending.join("manifest.json"), &manifest)?;
    fs::write(pending.join("RESTORE.txt"), journal::instructions(&layout.journal(), &manifest))?;
    fsops::sync_dir(&pending.join("files"))?;
    fsops::sync_dir(&pending)?;
    fs::rename(&pending, layout.journal())?;
    fsops::sync_dir(&layout.base)?;
    Ok(manifest)
}

fn back_up(root: &Path, pending: &Path, n: usize, path: &[u8]) -> Result<Entry> {
    let rel = Path::new(OsStr::from_bytes(path));
    let abs = root.join(rel);
    let backup = fsops::held(&abs).with_context(|| format!("reading {}", abs.display()))?;
    let file = match backup {
        Held::File { .. } | Held::Symlink { .. } => {
            let name = n.to_string();
            fsops::copy_durable(&abs, &pending.join("files").join(&name))
                .with_context(|| format!("backing up {}", rel.display()))?;
            Some(name)
        }
        Held::Absent | Held::Dir => None,
    };
    Ok(Entry { path: path.to_vec(), backup, file })
}

/// Records the ancestors of `rel` that do not exist (shallowest first, each once).
fn note_missing_dirs(root: &Path, rel: &Path, dirs: &mut Vec<Vec<u8>>) {
    let mut missing: Vec<&Path> = rel
        .ancestors()
        .skip(1)
        .filter(|a| !a.as_os_str().is_empty() && !root.join(a).exists())
        .collect();
    missing.reverse();
    for d in missing {
        let b = d.as_os_str().as_bytes().to_vec();
        if !dirs.contains(&b) {
            dirs.push(b);
        }
    }
}

impl Guard {
    fn journal(&self) -> PathBuf {
        self.layout.journal()
    }

    fn abs(&self, e: &Entry) -> PathBuf {
        self.manifest.root().join(e.rel())
    }

    /// Checks out the staged versions into the journal, records them, then moves each into
    /// the working tree.
    fn swap_in_staged(&mut self) -> Result<()> {
        let staged_dir = self.journal().join("staged");
        checkout_index(&self.manifest, &staged_dir)?;
        let held = self
            .manifest
            .entries
            .iter()
            .map(|e| fsops::held(&staged_dir.join(e.rel())))
            .collect::<std::io::Result<Vec<_>>>()?;
        journal::write_json(&self.journal().join("staged.json"), &held)?;
        kill_point("staged");
        for d in &self.manifest.created_dirs {
            fs::create_dir_all(self.manifest.root().join(OsStr::from_bytes(d)))?;
        }
        for (n, e) in self.manifest.entries.iter().enumerate() {
            let dst = self.abs(e);
            fsops::move_into_place(&staged_dir.join(e.rel()), &dst)
                .with_context(|| format!("putting the staged {} in place", e.rel().display()))?;
            if n == 0 {
                kill_point("swap");
            }
        }
        Ok(())
    }

    /// Puts the user's versions back and deletes the journal.
    pub fn restore(mut self) -> Result<Restored> {
        self.restore_inner()
    }

    fn restore_inner(&mut self) -> Result<Restored> {
        self.done = true;
        let journal = self.journal();
        let staged = journal::read_staged(&journal)?;
        let mut report = Restored::default();
        let mut failures = Vec::new();
        for (i, e) in self.manifest.entries.iter().enumerate() {
            let known = staged.as_ref().map(|s| &s[i]);
            match self.restore_entry(e, known, &mut report) {
                Ok(()) => {}
                Err(err) => failures.push(format!("{}: {err:#}", e.rel().display())),
            }
        }
        if !failures.is_empty() {
            return Err(self.restore_failed(&failures));
        }
        self.remove_created_dirs();
        kill_point("restored");
        self.delete_journal()?;
        Ok(report)
    }

    fn restore_failed(&self, failures: &[String]) -> anyhow::Error {
        let how = journal::instructions(&self.journal(), &self.manifest);
        anyhow!(
            "could not put back every unstaged change: {}\nyour versions are safe in {}; run `warden check` again, or restore by hand:\n{how}",
            failures.join("; "),
            self.journal().display()
        )
    }

    /// Puts one path back unless it already holds the user's version.
    fn restore_entry(&self, e: &Entry, staged: Option<&Held>, report: &mut Restored) -> Result<()> {
        let dst = self.abs(e);
        fsops::remove_file_if_any(&fsops::temp_sibling(&dst))?;
        let now = fsops::held(&dst)?;
        if now == e.backup {
            return Ok(());
        }
        let Some(staged) = staged else {
            // NOTE: nothing was swapped yet, so what is there is the user's newer edit.
            return Ok(());
        };
        if now != *staged && now != Held::Absent {
            report.kept.push((e.rel().to_path_buf(), self.keep_aside(e, &dst)?));
        }
        self.put_back(e, &dst)?;
        report.restored += 1;
        if report.restored == 1 {
            kill_point("restore");
        }
        Ok(())
    }

    fn put_back(&self, e: &Entry, dst: &Path) -> Result<()> {
        match (&e.backup, &e.file) {
            (Held::Absent, _) => Ok(fsops::remove_file_if_any(dst)?),
            (_, Some(f)) => {
                let src = self.journal().join("files").join(f);
                if !src.exists() && fs::symlink_metadata(&src).is_err() {
                    bail!("its backup {} is missing", src.display());
                }
                Ok(fsops::move_into_place(&src, dst)?)
            }
            _ => bail!("nothing to restore it from"),
        }
    }

    /// Copies a version that changed during the run to `.git/warden/saved/…`.
    fn keep_aside(&self, e: &Entry, dst: &Path) -> Result<PathBuf> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let kept =
            self.layout.saved().join(format!("{stamp}-{}", std::process::id())).join(e.rel());
        if let Some(parent) = kept.parent() {
            fs::create_dir_all(parent)?;
        }
        fsops::copy_durable(dst, &kept).with_context(|| format!("keeping {}", dst.display()))?;
        Ok(kept)
    }

    fn remove_created_dirs(&self) {
        for d in self.manifest.created_dirs.iter().rev() {
            let _ = fs::remove_dir(self.manifest.root().join(OsStr::from_bytes(d)));
        }
    }

    fn delete_journal(&self) -> Result<()> {
        let done = self.layout.base.join(format!("isolate.done-{}", std::process::id()));
        fs::rename(self.journal(), &done).context("closing the journal")?;
        let _ = fsops::sync_dir(&self.layout.base);
        kill_point("cleanup");
        let _ = fs::remove_dir_all(&done);
        Ok(())
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if !self.done {
            if let Err(e) = self.restore_inner() {
                eprintln!("warden: error: {e:#}");
            }
        }
    }
}

/// Writes the staged version of each entry under `dir` with `git checkout-index --prefix`
/// (which applies the repository's filters: line endings, LFS…).
fn checkout_index(m: &Manifest, dir: &Path) -> Result<()> {
    let mut prefix = dir.as_os_str().to_os_string();
    prefix.push("/");
    let mut cmd = Command::new("git");
    cmd.current_dir(m.root())
        .arg("checkout-index")
        .arg("-z")
        .arg("--stdin")
        .arg({
            let mut a = std::ffi::OsString::from("--prefix=");
            a.push(&prefix);
            a
        })
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(idx) = absolute_index_file() {
        cmd.env("GIT_INDEX_FILE", idx);
    }
    let mut child = cmd.spawn().context("running git checkout-index")?;
    let mut stdin = child.stdin.take().expect("piped");
    for e in &m.entries {
        stdin.write_all(&e.path)?;
        stdin.write_all(b"\0")?;
    }
    drop(stdin);
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!("git checkout-index failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

fn absolute_index_file() -> Option<PathBuf> {
    let p = PathBuf::from(std::env::var_os("GIT_INDEX_FILE")?);
    if p.is_absolute() {
        return Some(p);
    }
    std::env::current_dir().ok().map(|c| c.join(p))
}

#[cfg(test)]
mod tests;
