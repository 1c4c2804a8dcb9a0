//! A thin git2 wrapper: opening the repository as git would (GIT_DIR, GIT_INDEX_FILE,
//! linked worktrees), the HEAD tree (absent before the first commit), blob reads with a
//! per-thread repository handle, and added-line computation between two blobs.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use git2::{DiffOptions, Oid, Repository, Tree};

/// Opens the repository the way git hooks see it: from the environment (GIT_DIR,
/// GIT_INDEX_FILE…) when set, else by discovery from `start`.
pub fn open(start: &Path) -> Result<Repository> {
    configure();
    let from_env = std::env::var_os("GIT_DIR").is_some();
    let repo = if from_env { Repository::open_from_env() } else { Repository::discover(start) };
    repo.with_context(|| format!("{}: not inside a git repository", start.display()))
}

/// Process-wide libgit2 settings, applied once before the first repository is opened.
///
/// NOTE: strict hash verification re-hashes (SHA-1, collision-detecting) every object read
/// from the database: every tree the staged diff walks and every blob scanned. git itself
/// only does this in `fsck`; `git cat-file` and `git diff` trust the object store. Turning it
/// off removed about a fifth of the CPU time of a 1000-file staged scan.
fn configure() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| git2::opts::strict_hash_verification(false));
}

/// The index git would commit: `$GIT_INDEX_FILE` when set (as during `git commit -a`),
/// else the repository's own index.
pub fn index(repo: &Repository) -> Result<git2::Index> {
    if let Some(path) = std::env::var_os("GIT_INDEX_FILE") {
        let path = PathBuf::from(path);
        let path = if path.is_absolute() { path } else { std::env::current_dir()?.join(path) };
        return git2::Index::open(&path)
            .with_context(|| format!("reading index {}", path.display()));
    }
    repo.index().context("reading the index")
}

/// The tree of HEAD, or `None` on an unborn branch (before the first commit).
pub fn head_tree(repo: &Repository) -> Result<Option<Tree<'_>>> {
    match repo.head() {
        Ok(head) => Ok(Some(head.peel_to_tree().context("resolving HEAD to a tree")?)),
        Err(e)
            if e.code() == git2::ErrorCode::UnbornBranch
                || e.code() == git2::ErrorCode::NotFound =>
        {
            Ok(None)
        }
        Err(e) => Err(e).context("resolving HEAD"),
    }
}

/// The trees of the other parents of a merge in progress (`MERGE_HEAD`), empty otherwise.
pub fn merge_head_trees(repo: &Repository) -> Result<Vec<Tree<'_>>> {
    // NOTE: read the file (one id a line) rather than `mergehead_foreach`, which needs a
    // mutable repository; MERGE_HEAD lives in the (worktree's) git dir.
    let file = repo.path().join("MERGE_HEAD");
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let oid =
                Oid::from_str(line).with_context(|| format!("MERGE_HEAD: bad id {line:?}"))?;
            repo.find_commit(oid)
                .and_then(|c| c.tree())
                .with_context(|| format!("resolving MERGE_HEAD {oid} to a tree"))
        })
        .collect()
}

thread_local! {
    static REPO: RefCell<Option<(PathBuf, Repository)>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's handle on the repository at `git_dir` (opened once per thread).
pub fn with_repo<T>(
    git_dir: &Path,
    f: impl FnOnce(&Repository) -> Result<T, String>,
) -> Result<T, String> {
    REPO.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|(p, _)| p != git_dir) {
            configure();
            let repo = Repository::open(git_dir)
                .map_err(|e| format!("opening {}: {}", git_dir.display(), e.message()))?;
            *slot = Some((git_dir.to_path_buf(), repo));
        }
        f(&slot.as_ref().expect("just set").1)
    })
}

/// Size of a blob from its object header.
pub fn blob_size(repo: &Repository, oid: Oid) -> Result<u64, String> {
    let odb = repo.odb().map_err(|e| e.message().to_string())?;
    odb.read_header(oid)
        .map(|(size, _)| size as u64)
        .map_err(|e| format!("object {oid}: {}", e.message()))
}

/// The content of a blob.
pub fn blob_bytes(repo: &Repository, oid: Oid) -> Result<Vec<u8>, String> {
    repo.find_blob(oid)
        .map(|b| b.content().to_vec())
        .map_err(|e| format!("object {oid}: {}", e.message()))
}

/// 1-based numbers of the lines of `new` that are added relative to `old` (sorted).
pub fn added_lines(repo: &Repository, old: Oid, new: Oid) -> Result<Vec<u32>, String> {
    let err = |e: git2::Error| format!("diffing {old}..{new}: {}", e.message());
    let old_blob = repo.find_blob(old).map_err(err)?;
    let new_blob = repo.find_blob(new).map_err(err)?;
    let mut opts = DiffOptions::new();
    opts.context_lines(0).force_text(true);
    let patch =
        git2::Patch::from_blobs(&old_blob, None, &new_blob, None, Some(&mut opts)).map_err(err)?;
    let mut lines = Vec::new();
    for h in 0..patch.num_hunks() {
        for l in 0..patch.num_lines_in_hunk(h).map_err(err)? {
            let line = patch.line_in_hunk(h, l).map_err(err)?;
            if line.origin() == '+' {
                lines.extend(line.new_lineno());
            }
        }
    }
    lines.sort_unstable();
    Ok(lines)
}
