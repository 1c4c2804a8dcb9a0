//! The staged change: entries of the index (honouring GIT_INDEX_FILE) that differ from
//! HEAD, or every entry before the first commit. Added, modified, renamed, copied and
//! type-changed files are items; deletions and submodules are not. Modified files only
//! count their added lines unless `all_lines` is set.

use std::path::PathBuf;

use anyhow::{Context, Result};
use git2::{Delta, DiffFindOptions, DiffOptions, FileMode, Repository};

use super::{BlobReader, BlobRef, Item, LineScope};
use crate::git;
use crate::timing::Phases;

/// Lists the staged items of `repo`.
pub fn items(repo: &Repository, all_lines: bool, phases: &mut Phases) -> Result<Vec<Item>> {
    let index = git::index(repo)?;
    phases.mark("index-read");
    let head = git::head_tree(repo)?;
    let merge_parents = git::merge_head_trees(repo)?;
    phases.mark("head-tree");
    let mut opts = DiffOptions::new();
    opts.include_typechange(true).ignore_submodules(true);
    let mut diff = repo
        .diff_tree_to_index(head.as_ref(), Some(&index), Some(&mut opts))
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
        let mut olds: Vec<git2::Oid> = has_old.then(|| old.id()).into_iter().collect();
        // NOTE: in a merge, a line the other parent already has is not added by this commit
        // (it was committed on that branch): count only lines new to every parent.
        olds.extend(merge_parents.iter().filter_map(|t| blob_at(t, &path)));
        let scope = match olds.as_slice() {
            _ if all_lines => LineScope::All,
            [] => LineScope::All,
            [one] => LineScope::AddedSince(*one),
            _ => LineScope::AddedSinceAll(olds),
        };
        out.push(Item { path, blob: BlobRef::Git(new.id()), scope, commit: None });
    }
    phases.mark("diff-tree-to-index");
    Ok(out)
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
    let index = git::index(repo)?;
    let suffix = format!("/{}", crate::config::FILE_NAME);
    let paths: Vec<String> = index
        .iter()
        .filter(|e| e.path.ends_with(suffix.as_bytes()))
        .map(|e| String::from_utf8_lossy(&e.path).into_owned())
        .collect();
    Ok(crate::layered::nested_dirs(paths.iter().map(String::as_str)))
}

/// Reads blobs from the object database, one repository handle per thread.
pub struct GitReader {
    git_dir: PathBuf,
}

impl GitReader {
    /// A reader over the repository whose git directory is `git_dir`.
    pub fn new(repo: &Repository) -> Self {
        GitReader { git_dir: repo.path().to_path_buf() }
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
}
