//! The on-disk journal of the working-tree guard, under `<git dir>/warden/`:
//!
//! ```text
//! lock                    flock held by the live run (the kernel drops it when the run dies)
//! isolate.new/            a journal being written; nothing in the tree was touched yet
//! isolate/                the committed journal: the tree may differ from the user's
//!   manifest.json         paths, what each held, the backup file names, directories to remove
//!   files/<n>             the user's versions (same mode and mtime), moved back on restore
//!   staged/<path>         staged versions from `git checkout-index`, moved into the tree
//!   staged.json           what each staged version holds; written before the first swap
//!   RESTORE.txt           how to restore by hand
//! isolate.done-<pid>/     a journal being deleted after a complete restore
//! saved/<time>-<pid>/     versions that changed while checks ran, kept for the user
//! ```
//!
//! `isolate.new` becomes `isolate` by one rename, so a journal is either complete or absent.

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::fsops::{self, sh_quote, Held};

/// The version of `manifest.json`.
pub const VERSION: u32 = 1;

/// Paths of the journal for one git directory.
#[derive(Debug, Clone)]
pub struct Layout {
    /// `<git dir>/warden`.
    pub base: PathBuf,
}

impl Layout {
    /// The layout under `git_dir`.
    pub fn new(git_dir: &Path) -> Self {
        Layout { base: git_dir.join("warden") }
    }
    /// The committed journal.
    pub fn journal(&self) -> PathBuf {
        self.base.join("isolate")
    }
    /// The journal being written.
    pub fn pending(&self) -> PathBuf {
        self.base.join("isolate.new")
    }
    /// Where changed versions are kept.
    pub fn saved(&self) -> PathBuf {
        self.base.join("saved")
    }
}

/// One path whose working-tree content differed from the index.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// Repository-relative path (bytes).
    pub path: Vec<u8>,
    /// What the working tree held.
    pub backup: Held,
    /// The backup's file name under `files/` (files and symlinks).
    pub file: Option<String>,
}

impl Entry {
    /// The path as a `Path`.
    pub fn rel(&self) -> &Path {
        Path::new(std::ffi::OsStr::from_bytes(&self.path))
    }
}

/// `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version.
    pub version: u32,
    /// The working tree root (bytes).
    pub root: Vec<u8>,
    /// The process that wrote it.
    pub pid: u32,
    /// The paths set aside.
    pub entries: Vec<Entry>,
    /// Directories created to hold staged files (shallowest first); removed when empty.
    pub created_dirs: Vec<Vec<u8>>,
}

impl Manifest {
    /// The working tree root.
    pub fn root(&self) -> PathBuf {
        PathBuf::from(std::ffi::OsStr::from_bytes(&self.root))
    }
}

/// Writes `value` as JSON to `path` and flushes it to disk.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let mut f = File::create(path)?;
    f.write_all(&serde_json::to_vec_pretty(value).map_err(io::Error::other)?)?;
    f.sync_all()
}

/// Reads the committed journal's manifest.
pub fn read_manifest(journal: &Path) -> Result<Manifest> {
    let path = journal.join("manifest.json");
    let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let m: Manifest = serde_json::from_slice(&bytes).with_context(|| damaged(journal, &path))?;
    if m.version != VERSION {
        bail!("{} has version {}, this warden reads {VERSION}", path.display(), m.version);
    }
    Ok(m)
}

fn damaged(journal: &Path, file: &Path) -> String {
    let how = journal.join("RESTORE.txt");
    format!("{} is damaged; restore by hand with the commands in {}", file.display(), how.display())
}

/// Reads `staged.json` if the run got that far (`None`: nothing was swapped yet).
pub fn read_staged(journal: &Path) -> Result<Option<Vec<Held>>> {
    let path = journal.join("staged.json");
    match fs::read(&path) {
        Ok(b) => Ok(Some(serde_json::from_slice(&b).with_context(|| damaged(journal, &path))?)),
        Err(e) if fsops::is_missing(&e) => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// The manual restore instructions, also written to `RESTORE.txt`.
pub fn instructions(journal: &Path, m: &Manifest) -> String {
    let mut s = format!(
        "# warden set aside your unstaged changes while checks ran and did not finish putting\n\
         # them back. Running `warden check` (or committing) in this repository restores them.\n\
         # To restore by hand instead, run these commands from {}:\n",
        sh_quote(&m.root())
    );
    for e in &m.entries {
        let dst = sh_quote(e.rel());
        match (&e.backup, &e.file) {
            (Held::Absent, _) => s.push_str(&format!("rm -f -- {dst}\n")),
            (_, Some(f)) => {
                let src = sh_quote(&journal.join("files").join(f));
                s.push_str(&format!("test -e {src} && mv -f -- {src} {dst}\n"));
            }
            _ => {}
        }
    }
    s.push_str(&format!("rm -rf -- {}\n", sh_quote(journal)));
    s
}
