//! The whole history as a source: every blob reachable from the selected refs, each unique
//! blob once, with the commit and path where it first appeared. Commits are walked oldest
//! first and every tree is expanded only the first time it is seen, so the first sighting
//! of a blob is the commit that introduced it (its provenance comes for free). Items go to
//! the caller in batches while the walk goes on. Owns no scanning and no output; blob bytes
//! are read later through [`HistoryReader`] (in bulk from the packs).

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use anyhow::{Context, Result};
use git2::{ObjectType, Oid, Repository, Sort};

use super::odb::Blob;
use super::staged::GitReader;
use super::{BlobReader, BlobRef, Item, LineScope};
use crate::progress::Counters;

/// Which refs a history scan starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefSelection {
    /// Every branch, tag and remote-tracking branch, plus HEAD.
    All,
    /// One revision (a branch, tag or any rev-parse expression) and its ancestors.
    Branch(String),
}

/// Whether the repository holds its whole history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Depth {
    /// Every ancestor is present.
    Complete,
    /// A shallow clone: commits beyond the cut-off were never fetched and are not scanned.
    Shallow,
}

/// What a history walk covered (its items went to the caller's sink in batches).
#[derive(Debug)]
pub struct WalkSummary {
    /// Commits walked.
    pub commits: usize,
    /// Complete or shallow.
    pub depth: Depth,
    /// Objects that could not be read during the walk (the scan is incomplete).
    pub errors: Vec<String>,
}

/// Walks the history of `repo` from `refs`, handing every unique blob (with its first
/// commit and path) to `sink` in batches of about `batch` items, so that scanning can start
/// before the walk ends. Commits to walk and walked go to `progress`.
pub fn walk(
    repo: &Repository,
    refs: &RefSelection,
    batch: usize,
    progress: &Counters,
    sink: &mut dyn FnMut(Vec<Item>),
) -> Result<WalkSummary> {
    // NOTE: a reverse topological walk is computed in full before its first commit comes
    // out, so collecting it costs nothing and gives the progress line its denominator.
    let revs: Vec<_> = revwalk(repo, refs)?.collect();
    progress.commits_total.store(revs.len() as u64, Ordering::Relaxed);
    let mut state = WalkState::default();
    let mut commits = 0;
    for oid in revs {
        match oid {
            Ok(oid) => {
                commits += 1;
                state.commit(repo, oid);
            }
            Err(e) => state.errors.push(format!("walking history: {}", e.message())),
        }
        progress.total.store(state.blobs.len() as u64, Ordering::Relaxed);
        progress.commits_done.fetch_add(1, Ordering::Relaxed);
        if state.items.len() >= batch {
            sink(std::mem::take(&mut state.items));
        }
    }
    if !state.items.is_empty() {
        sink(std::mem::take(&mut state.items));
    }
    let depth = if repo.is_shallow() { Depth::Shallow } else { Depth::Complete };
    Ok(WalkSummary { commits, depth, errors: state.errors })
}

/// A revision walk, oldest commit first, from the selected refs.
fn revwalk<'r>(repo: &'r Repository, refs: &RefSelection) -> Result<git2::Revwalk<'r>> {
    let mut walk = repo.revwalk().context("starting a revision walk")?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
    match refs {
        RefSelection::All => {
            for glob in ["refs/heads", "refs/tags", "refs/remotes"] {
                walk.push_glob(glob).with_context(|| format!("reading {glob}"))?;
            }
            // A detached HEAD (as in CI checkouts) may be on no branch; an unborn one is fine.
            let _ = walk.push_head();
        }
        RefSelection::Branch(rev) => {
            let commit = repo
                .revparse_single(rev)
                .and_then(|o| o.peel_to_commit())
                .with_context(|| format!("{rev}: not a branch, tag or commit"))?;
            walk.push(commit.id())?;
        }
    }
    Ok(walk)
}

#[derive(Default)]
struct WalkState {
    seen_trees: HashSet<Oid>,
    blobs: HashSet<Oid>,
    items: Vec<Item>,
    errors: Vec<String>,
}

impl WalkState {
    fn commit(&mut self, repo: &Repository, oid: Oid) {
        let tree = match repo.find_commit(oid) {
            Ok(c) => c.tree_id(),
            Err(e) => return self.errors.push(format!("commit {oid}: {}", e.message())),
        };
        let hex = oid.to_string();
        let mut path = Vec::new();
        self.tree(repo, tree, &mut path, &hex);
    }

    /// Expands `tree` unless it was seen before; every blob in a seen tree is already listed.
    fn tree(&mut self, repo: &Repository, id: Oid, path: &mut Vec<u8>, commit: &str) {
        if !self.seen_trees.insert(id) {
            return;
        }
        let tree = match repo.find_tree(id) {
            Ok(t) => t,
            Err(e) => return self.errors.push(format!("tree {id}: {}", e.message())),
        };
        let base = path.len();
        for entry in tree.iter() {
            if base > 0 {
                path.push(b'/');
            }
            path.extend_from_slice(entry.name_bytes());
            match entry.kind() {
                Some(ObjectType::Tree) => self.tree(repo, entry.id(), path, commit),
                Some(ObjectType::Blob) => self.blob(entry.id(), path, commit),
                _ => {} // submodule commits live in another repository
            }
            path.truncate(base);
        }
    }

    fn blob(&mut self, id: Oid, path: &[u8], commit: &str) {
        if self.blobs.insert(id) {
            self.items.push(Item {
                path: path.to_vec(),
                blob: BlobRef::Git(id),
                scope: LineScope::All,
                commit: Some(commit.to_string()),
            });
        }
    }
}

/// Reads history blobs through a [`GitReader`] and counts them as it goes.
pub struct HistoryReader<'c> {
    inner: GitReader,
    counters: &'c Counters,
}

impl<'c> HistoryReader<'c> {
    /// A reader over `repo` that adds to `counters`.
    pub fn new(repo: &Repository, counters: &'c Counters) -> Self {
        HistoryReader { inner: GitReader::new(repo), counters }
    }
}

impl BlobReader for HistoryReader<'_> {
    fn size(&self, item: &Item) -> Result<u64, String> {
        // Every blob is sized first (skipped and failed ones never reach `read`): count here.
        self.counters.objects.fetch_add(1, Ordering::Relaxed);
        self.inner.size(item)
    }
    fn read(&self, item: &Item) -> Result<Vec<u8>, String> {
        let bytes = self.inner.read(item)?;
        self.counters.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(bytes)
    }
    fn added_lines(&self, old: Oid, item: &Item) -> Result<Vec<u32>, String> {
        self.inner.added_lines(old, item)
    }
    fn read_many(
        &self,
        items: &[&Item],
        max_size: u64,
        visit: &(dyn Fn(usize, Blob<'_>) + Sync),
    ) -> Vec<usize> {
        let counted = |i: usize, blob: Blob<'_>| {
            self.counters.objects.fetch_add(1, Ordering::Relaxed);
            if let Blob::Bytes(b) = blob {
                self.counters.bytes.fetch_add(b.len() as u64, Ordering::Relaxed);
            }
            visit(i, blob);
        };
        self.inner.read_many(items, max_size, &counted)
    }
}
