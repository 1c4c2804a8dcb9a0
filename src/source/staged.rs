//! The staged change: entries of the index (honouring GIT_INDEX_FILE) that differ from
//! HEAD, or every entry before the first commit. Added, modified, renamed, copied and
//! type-changed files are items; deletions and submodules are not. Modified files only
//! count their added lines unless `all_lines` is set.

use std::path::PathBuf;
use std::sync::OnceLock;

use anyhow::{Context, Result};
use git2::{Delta, DiffFindOptions, DiffOptions, FileMode, Repository};

use super::index_file::{self, Change};
use super::odb::{Blob, ObjectStore};
use super::{BlobReader, BlobRef, Item, LineScope};
use crate::git;
use crate::timing::Phases;

/// The staged change: its items, and the directories holding a tracked per-directory
/// `warden.toml` (from the same read of the index).
#[derive(Debug, Default)]
pub struct Staged {
    /// Added, modified, renamed and type-changed files.
    pub items: Vec<Item>,
    /// Repo-relative directories with a nested `warden.toml`.
    pub nested_dirs: Vec<String>,
}

/// Reads the index once and lists what it stages relative to `HEAD`.
pub fn collect(repo: &Repository, all_lines: bool, phases: &mut Phases) -> Result<Staged> {
    let head = git::head_tree(repo)?;
    let merge_parents = git::merge_head_trees(repo)?;
    phases.mark("head-tree");
    let ctx = ItemMaker { merge_parents: &merge_parents, all_lines };
    let parsed = match std::env::var_os("WARDEN_NO_FAST_INDEX") {
        Some(_) => None,
        None => index_file::read(&git::index_path(repo)?),
    };
    if let Some(index) = &parsed {
        let nested_dirs = nested_dirs(index.entries.iter().map(|e| e.path.as_slice()));
        if let Some(changes) = fast_changes(repo, head.as_ref().map(git2::Tree::id), index)? {
            phases.mark("index-diff");
            let scannable = changes.into_iter().filter(|c| is_blob_mode(c.entry.mode));
            let items = scannable.map(|c| ctx.item(c.entry.path, c.entry.oid, c.old)).collect();
            return Ok(Staged { items, nested_dirs });
        }
    }
    let index = git::index(repo)?;
    phases.mark("index-read");
    let paths: Vec<Vec<u8>> = index.iter().map(|e| e.path).collect();
    let nested_dirs = nested_dirs(paths.iter().map(Vec::as_slice));
    let items = libgit2_items(repo, head.as_ref(), &index, &ctx)?;
    phases.mark("diff-tree-to-index");
    Ok(Staged { items, nested_dirs })
}

/// The staged items of `repo` (see [`collect`]).
pub fn items(repo: &Repository, all_lines: bool, phases: &mut Phases) -> Result<Vec<Item>> {
    Ok(collect(repo, all_lines, phases)?.items)
}

/// libgit2's tree-to-index diff, with rename detection when the change both adds and
/// deletes files.
fn libgit2_items(
    repo: &Repository,
    head: Option<&git2::Tree<'_>>,
    index: &git2::Index,
    ctx: &ItemMaker<'_>,
) -> Result<Vec<Item>> {
    let mut opts = DiffOptions::new();
    opts.include_typechange(true).ignore_submodules(true);
    let mut diff = repo
        .diff_tree_to_index(head, Some(index), Some(&mut opts))
        .context("comparing the index with HEAD")?;
    let has_adds = diff.deltas().any(|d| d.status() == Delta::Added);
    let has_deletes = diff.deltas().any(|d| d.status() == Delta::Deleted);
    if has_adds && has_deletes {
        diff.find_similar(Some(DiffFindOptions::new().renames(true)))
            .context("detecting renames")?;
    }
    let mut out = Vec::new();
    for delta in diff.deltas() {
        let new = delta.new_file();
        let scannable = matches!(
            new.mode(),
            FileMode::Blob | FileMode::BlobExecutable | FileMode::BlobGroupWritable
        );
        let changed = matches!(
            delta.status(),
            Delta::Added | Delta::Modified | Delta::Renamed | Delta::Copied | Delta::Typechange
        );
        if !scannable || !changed || new.id().is_zero() {
            continue;
        }
        let old = delta.old_file();
        let has_old = matches!(delta.status(), Delta::Modified | Delta::Renamed | Delta::Copied)
            && !old.id().is_zero();
        let path = new.path_bytes().unwrap_or_default().to_vec();
        out.push(ctx.item(path, new.id(), has_old.then(|| old.id())));
    }
    Ok(out)
}

/// The index read directly and compared with HEAD through its cache-tree (see
/// `index_file`); `None` when that fast path does not apply (then libgit2 diffs). A change
/// that both adds and deletes files may hold renames, which libgit2 detects: fall back.
fn fast_changes(
    repo: &Repository,
    head: Option<git2::Oid>,
    index: &index_file::IndexFile,
) -> Result<Option<Vec<Change>>> {
    let diff = index_file::diff(repo, head, index).context("comparing the index with HEAD")?;
    let adds = diff.changes.iter().any(|c| c.old.is_none());
    Ok((!(adds && diff.has_deletions)).then_some(diff.changes))
}

fn is_blob_mode(mode: u32) -> bool {
    matches!(mode, 0o100644 | 0o100755 | 0o100664)
}

/// Builds items with the right line scope.
struct ItemMaker<'a> {
    merge_parents: &'a [git2::Tree<'a>],
    all_lines: bool,
}

impl ItemMaker<'_> {
    fn item(&self, path: Vec<u8>, new: git2::Oid, old: Option<git2::Oid>) -> Item {
        let mut olds: Vec<git2::Oid> = old.into_iter().collect();
        // NOTE: in a merge, a line the other parent already has is not added by this commit
        // (it was committed on that branch): count only lines new to every parent.
        olds.extend(self.merge_parents.iter().filter_map(|t| blob_at(t, &path)));
        let scope = match olds.as_slice() {
            _ if self.all_lines => LineScope::All,
            [] => LineScope::All,
            [one] => LineScope::AddedSince(*one),
            _ => LineScope::AddedSinceAll(olds),
        };
        Item { path, blob: BlobRef::Git(new), scope, commit: None }
    }
}

/// The blob at `path` in `tree`, if the path is a file there.
fn blob_at(tree: &git2::Tree<'_>, path: &[u8]) -> Option<git2::Oid> {
    #[cfg(unix)]
    let path =
        std::path::Path::new(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(path));
    #[cfg(not(unix))]
    let path = std::path::Path::new(std::str::from_utf8(path).ok()?);
    let entry = tree.get_path(path).ok()?;
    (entry.kind() == Some(git2::ObjectType::Blob)).then(|| entry.id())
}

/// Directories (repo-relative) whose `warden.toml` is tracked in the index: the per-directory
/// configs of a monorepo.
pub fn nested_config_dirs(repo: &Repository) -> Result<Vec<String>> {
    match index_file::read(&git::index_path(repo)?) {
        Some(index) => Ok(nested_dirs(index.entries.iter().map(|e| e.path.as_slice()))),
        None => {
            let paths: Vec<Vec<u8>> = git::index(repo)?.iter().map(|e| e.path).collect();
            Ok(nested_dirs(paths.iter().map(Vec::as_slice)))
        }
    }
}

/// Directories holding a `warden.toml`, from index paths.
fn nested_dirs<'a>(paths: impl Iterator<Item = &'a [u8]>) -> Vec<String> {
    let suffix = format!("/{}", crate::config::FILE_NAME);
    let found: Vec<String> = paths
        .filter(|p| p.ends_with(suffix.as_bytes()))
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    crate::layered::nested_dirs(found.iter().map(String::as_str))
}

/// Reads blobs from the object database: many at once through an [`ObjectStore`] (opened
/// on first use), one by one through libgit2 (one repository handle per thread).
pub struct GitReader {
    git_dir: PathBuf,
    /// Where the objects live (the main git dir of a linked worktree).
    common_dir: PathBuf,
    store: OnceLock<ObjectStore>,
}

impl GitReader {
    /// A reader over the repository whose git directory is `git_dir`.
    pub fn new(repo: &Repository) -> Self {
        GitReader {
            git_dir: repo.path().to_path_buf(),
            common_dir: repo.commondir().to_path_buf(),
            store: OnceLock::new(),
        }
    }
}

fn oid(item: &Item) -> Result<git2::Oid, String> {
    match item.blob {
        BlobRef::Git(oid) => Ok(oid),
        BlobRef::File(_) => Err("not a git item".into()),
    }
}

impl BlobReader for GitReader {
    fn size(&self, item: &Item) -> Result<u64, String> {
        let id = oid(item)?;
        git::with_repo(&self.git_dir, |r| git::blob_size(r, id))
    }
    fn read(&self, item: &Item) -> Result<Vec<u8>, String> {
        let id = oid(item)?;
        git::with_repo(&self.git_dir, |r| git::blob_bytes(r, id))
    }
    fn added_lines(&self, old: git2::Oid, item: &Item) -> Result<Vec<u32>, String> {
        let id = oid(item)?;
        git::with_repo(&self.git_dir, |r| git::added_lines(r, old, id))
    }
    fn read_many(
        &self,
        items: &[&Item],
        max_size: u64,
        visit: &(dyn Fn(usize, Blob<'_>) + Sync),
    ) -> Vec<usize> {
        let store = self.store.get_or_init(|| ObjectStore::open(&self.common_dir));
        super::read_from_store(store, items, max_size, visit)
    }
}
