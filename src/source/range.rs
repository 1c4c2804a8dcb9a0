//! A commit range (`BASE..HEAD`, as a pull request) as a source: every commit of the range,
//! not only the net diff, so a secret added and removed inside the range is still found.
//! Each commit contributes the files it adds or changes against its parent (only the added
//! lines of changed files count; renames are detected). A merge commit contributes only
//! what differs from *every* parent — conflict resolutions and "evil merge" edits — with
//! only the lines that no parent's version of the file has: the merged branch's own commits
//! are scanned on their own when they are in the range, and are not the pull request's when
//! they are not.
//! Identical (blob, scope) pairs are scanned once, under the oldest commit.

use std::collections::{HashMap, HashSet};

use anyhow::{bail, Context, Result};
use git2::{Delta, Diff, DiffFindOptions, DiffOptions, FileMode, Oid, Repository, Sort, Tree};

use super::{BlobRef, Item, LineScope};

/// What a range walk found.
#[derive(Debug)]
pub struct RangePlan {
    /// Items to scan, oldest commit first.
    pub items: Vec<Item>,
    /// Commits of the range, oldest first (full ids).
    pub commits: Vec<String>,
    /// Commits whose changes could not be read (the scan is incomplete).
    pub errors: Vec<String>,
}

/// Resolves `BASE..HEAD` (or `BASE...HEAD`, from the merge base) to its two ends.
pub fn ends(repo: &Repository, spec: &str) -> Result<(Oid, Oid)> {
    if !spec.contains("..") {
        bail!("{spec}: expected a range BASE..HEAD");
    }
    let rs = repo.revparse(spec).with_context(|| format!("{spec}: cannot resolve the range"))?;
    let peel = |o: Option<&git2::Object<'_>>, end: &str| -> Result<Oid> {
        let o = o.with_context(|| format!("{spec}: missing {end}"))?;
        Ok(o.peel_to_commit().with_context(|| format!("{spec}: {end} is not a commit"))?.id())
    };
    let (from, to) = (peel(rs.from(), "BASE")?, peel(rs.to(), "HEAD")?);
    if rs.mode().contains(git2::RevparseMode::MERGE_BASE) {
        let base = repo.merge_base(from, to).with_context(|| format!("{spec}: no merge base"))?;
        return Ok((base, to));
    }
    Ok((from, to))
}

/// Lists the items of every commit reachable from `head` but not from `base` (every commit
/// of `head`'s history when there is no base).
pub fn plan(repo: &Repository, base: Option<Oid>, head: Oid) -> Result<RangePlan> {
    let mut walk = repo.revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
    walk.push(head)?;
    if let Some(base) = base {
        walk.hide(base)?;
    }
    let mut plan = RangePlan { items: Vec::new(), commits: Vec::new(), errors: Vec::new() };
    let mut seen: HashSet<(Oid, Vec<Oid>)> = HashSet::new();
    for oid in walk {
        let oid = oid.context("walking the range")?;
        let hex = oid.to_string();
        let items = match commit_items(repo, oid) {
            Ok(items) => items,
            Err(e) => {
                plan.errors.push(format!("commit {hex}: {e}"));
                Vec::new()
            }
        };
        for item in items {
            if seen.insert(key(&item)) {
                plan.items.push(Item { commit: Some(hex.clone()), ..item });
            }
        }
        plan.commits.push(hex);
    }
    Ok(plan)
}

fn key(item: &Item) -> (Oid, Vec<Oid>) {
    let blob = match item.blob {
        BlobRef::Git(o) => o,
        BlobRef::File(_) => Oid::zero(),
    };
    (blob, olds(&item.scope))
}

/// The older blobs a scope compares against.
fn olds(scope: &LineScope) -> Vec<Oid> {
    match scope {
        LineScope::All => Vec::new(),
        LineScope::AddedSince(o) => vec![*o],
        LineScope::AddedSinceAll(v) => v.clone(),
    }
}

/// The items one commit adds: against its parent, or for a merge against all of them.
fn commit_items(repo: &Repository, oid: Oid) -> Result<Vec<Item>> {
    let commit = repo.find_commit(oid)?;
    let tree = commit.tree()?;
    let parents: Vec<Tree<'_>> = commit.parents().map(|p| p.tree()).collect::<Result<_, _>>()?;
    let Some(first) = parents.first() else {
        return changed(repo, None, &tree);
    };
    let mut items = changed(repo, Some(first), &tree)?;
    for other in &parents[1..] {
        let mut also: HashMap<Vec<u8>, Item> =
            changed(repo, Some(other), &tree)?.into_iter().map(|i| (i.path.clone(), i)).collect();
        items.retain_mut(|i| match also.remove(&i.path) {
            Some(o) if o.blob == i.blob => {
                let mut all = olds(&i.scope);
                all.extend(olds(&o.scope));
                i.scope =
                    if all.is_empty() { LineScope::All } else { LineScope::AddedSinceAll(all) };
                true
            }
            _ => false,
        });
    }
    Ok(items)
}

/// Files added or changed from `old` to `new` (renames detected), as items.
fn changed(repo: &Repository, old: Option<&Tree<'_>>, new: &Tree<'_>) -> Result<Vec<Item>> {
    let mut opts = DiffOptions::new();
    opts.include_typechange(true).ignore_submodules(true);
    let mut diff = repo.diff_tree_to_tree(old, Some(new), Some(&mut opts))?;
    diff.find_similar(Some(DiffFindOptions::new().renames(true)))?;
    Ok(items_of(&diff))
}

fn items_of(diff: &Diff<'_>) -> Vec<Item> {
    let mut out = Vec::new();
    for delta in diff.deltas() {
        let new = delta.new_file();
        let blob_mode = matches!(
            new.mode(),
            FileMode::Blob | FileMode::BlobExecutable | FileMode::BlobGroupWritable
        );
        let status = delta.status();
        let changed = matches!(
            status,
            Delta::Added | Delta::Modified | Delta::Renamed | Delta::Copied | Delta::Typechange
        );
        if !blob_mode || !changed || new.id().is_zero() {
            continue;
        }
        let old = delta.old_file();
        let has_old = matches!(status, Delta::Modified | Delta::Renamed | Delta::Copied)
            && !old.id().is_zero();
        let scope = if has_old { LineScope::AddedSince(old.id()) } else { LineScope::All };
        let path = new.path_bytes().unwrap_or_default().to_vec();
        out.push(Item { path, blob: BlobRef::Git(new.id()), scope, commit: None });
    }
    out
}
