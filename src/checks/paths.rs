//! The path lists `warden check` runs on besides the staged change: every tracked file
//! (`--all-files`) and the files changed between two commits (`--from-ref/--to-ref`).
//! Regular files only (no symlinks, submodules or deletions).

use std::path::PathBuf;

use anyhow::{Context, Result};
use git2::{Delta, FileMode, Repository};

const SKIP_WORKTREE: u16 = 1 << 14;

fn is_file_mode(mode: u32) -> bool {
    matches!(mode, 0o100644 | 0o100755 | 0o100664)
}

/// Every file of the index (stage 0) present in the working tree's sparse cone.
pub fn tracked(repo: &Repository) -> Result<Vec<PathBuf>> {
    let index = crate::git::index(repo)?;
    let bytes: Vec<Vec<u8>> = index
        .iter()
        .filter(|e| is_file_mode(e.mode) && e.flags_extended & SKIP_WORKTREE == 0)
        .filter(|e| (e.flags >> 12) & 0x3 == 0)
        .map(|e| e.path)
        .collect();
    Ok(super::paths_from_bytes(bytes.iter().map(Vec::as_slice)))
}

/// Files added, modified, renamed or copied from `from` to `to`.
pub fn changed_between(repo: &Repository, from: &str, to: &str) -> Result<Vec<PathBuf>> {
    let tree = |r: &str| {
        repo.revparse_single(r)
            .and_then(|o| o.peel_to_tree())
            .with_context(|| format!("{r:?} is not a commit or tree here"))
    };
    let (a, b) = (tree(from)?, tree(to)?);
    let mut diff = repo.diff_tree_to_tree(Some(&a), Some(&b), None)?;
    diff.find_similar(None)?;
    let bytes: Vec<Vec<u8>> = diff
        .deltas()
        .filter(|d| {
            matches!(
                d.status(),
                Delta::Added | Delta::Modified | Delta::Renamed | Delta::Copied | Delta::Typechange
            )
        })
        .filter(|d| matches!(d.new_file().mode(), FileMode::Blob | FileMode::BlobExecutable))
        .filter_map(|d| d.new_file().path_bytes().map(<[u8]>::to_vec))
        .collect();
    Ok(super::paths_from_bytes(bytes.iter().map(Vec::as_slice)))
}
