//! A fast path for "what is staged": reads git's index file directly (versions 2–4) with
//! its cache-tree (`TREE`) extension, and compares it with HEAD by loading only the trees
//! of directories whose cached tree id differs from HEAD's. A one-file commit in a large
//! repository then reads a handful of trees instead of all of them (libgit2's
//! tree-to-index diff inflates every tree and re-hashes the whole index file).
//!
//! Anything unusual returns `None` and the caller falls back to libgit2: split or sparse
//! indexes, unmerged stages, intent-to-add or other extended flags, unknown required
//! extensions, malformed data.

use git2::{Oid, Repository};

/// One index entry (stage 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Repository-relative path, `/`-separated.
    pub path: Vec<u8>,
    /// Git file mode (0o100644, 0o100755, 0o120000, 0o160000).
    pub mode: u32,
    /// Blob (or gitlink commit) id.
    pub oid: Oid,
}

/// A cache-tree node: the tree id git recorded for a directory, when still valid.
#[derive(Debug, Clone, Default)]
struct CacheTree {
    /// Tree id; `None` when invalidated (entry count -1).
    oid: Option<Oid>,
    children: Vec<(Vec<u8>, CacheTree)>,
}

impl CacheTree {
    fn child(&self, name: &[u8]) -> Option<&CacheTree> {
        self.children.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }
}

/// A parsed index file.
#[derive(Debug, Default)]
pub struct IndexFile {
    /// Entries, sorted by path as git keeps them.
    pub entries: Vec<Entry>,
    tree: Option<CacheTree>,
}

/// A staged change relative to HEAD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The index entry.
    pub entry: Entry,
    /// HEAD's blob at the same path, when it was a file of the same kind.
    pub old: Option<Oid>,
}

/// What the index changes relative to HEAD.
#[derive(Debug, Default)]
pub struct Diff {
    /// Added or modified entries (submodules included; the caller filters by mode).
    pub changes: Vec<Change>,
    /// True when HEAD has a path the index lacks.
    pub has_deletions: bool,
}

/// Reads and parses the index at `path`; `None` when the fast path does not apply.
pub fn read(path: &std::path::Path) -> Option<IndexFile> {
    let data = std::fs::read(path).ok()?;
    parse(&data)
}

fn parse(data: &[u8]) -> Option<IndexFile> {
    if data.len() < 12 + 20 || &data[..4] != b"DIRC" {
        return None;
    }
    let version = be32(data, 4)?;
    if !(2..=4).contains(&version) {
        return None;
    }
    let count = be32(data, 8)? as usize;
    let body = &data[..data.len() - 20];
    let mut pos = 12;
    let mut entries = Vec::with_capacity(count);
    let mut prev: Vec<u8> = Vec::new();
    for _ in 0..count {
        let (entry, next) = parse_entry(body, pos, version, &prev)?;
        prev.clone_from(&entry.path);
        entries.push(entry);
        pos = next;
    }
    let tree = parse_extensions(body, pos)?;
    Some(IndexFile { entries, tree })
}

fn be32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn parse_entry(data: &[u8], start: usize, version: u32, prev: &[u8]) -> Option<(Entry, usize)> {
    let mode = be32(data, start + 24)?;
    let oid = Oid::from_bytes(data.get(start + 40..start + 60)?).ok()?;
    let flags = u16::from_be_bytes(data.get(start + 60..start + 62)?.try_into().ok()?);
    let stage = (flags >> 12) & 0x3;
    if stage != 0 || flags & 0x4000 != 0 {
        return None; // unmerged, or extended flags (intent-to-add, skip-worktree…)
    }
    let name_at = start + 62;
    if version < 4 {
        let len = memchr::memchr(0, data.get(name_at..)?)?;
        let path = data[name_at..name_at + len].to_vec();
        let entry_len = (62 + len + 8) & !7;
        return Some((Entry { path, mode, oid }, start + entry_len));
    }
    let (strip, used) = varint(data.get(name_at..)?)?;
    let suffix_at = name_at + used;
    let len = memchr::memchr(0, data.get(suffix_at..)?)?;
    let keep = prev.len().checked_sub(strip)?;
    let mut path = prev[..keep].to_vec();
    path.extend_from_slice(&data[suffix_at..suffix_at + len]);
    Some((Entry { path, mode, oid }, suffix_at + len + 1))
}

/// git's offset varint (used by index v4 path compression).
fn varint(data: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    let mut byte = *data.first()?;
    let mut value = usize::from(byte & 0x7f);
    while byte & 0x80 != 0 {
        i += 1;
        byte = *data.get(i)?;
        value = ((value + 1) << 7) | usize::from(byte & 0x7f);
    }
    Some((value, i + 1))
}

/// Reads extensions: keeps `TREE`, skips optional ones, refuses required unknown ones
/// (uppercase first letter = optional in git's format).
fn parse_extensions(data: &[u8], mut pos: usize) -> Option<Option<CacheTree>> {
    let mut tree = None;
    while pos + 8 <= data.len() {
        let sig = &data[pos..pos + 4];
        let size = be32(data, pos + 4)? as usize;
        let payload = data.get(pos + 8..pos + 8 + size)?;
        match sig {
            b"TREE" => tree = Some(parse_tree(payload, &mut 0)?.1),
            _ if sig[0].is_ascii_uppercase() && sig != b"SDIR" => {}
            _ => return None, // "link" (split index), "sdir" (sparse index), unknown required
        }
        pos += 8 + size;
    }
    Some(tree)
}

/// One cache-tree record (its own name, then its subtrees, depth first).
fn parse_tree(data: &[u8], pos: &mut usize) -> Option<(Vec<u8>, CacheTree)> {
    let name_end = *pos + memchr::memchr(0, data.get(*pos..)?)?;
    let name = data[*pos..name_end].to_vec();
    let line_end = name_end + 1 + memchr::memchr(b'\n', data.get(name_end + 1..)?)?;
    let header = std::str::from_utf8(&data[name_end + 1..line_end]).ok()?;
    let (count, subtrees) = header.split_once(' ')?;
    let (count, subtrees): (i64, usize) = (count.parse().ok()?, subtrees.parse().ok()?);
    *pos = line_end + 1;
    let oid = if count >= 0 {
        let oid = Oid::from_bytes(data.get(*pos..*pos + 20)?).ok()?;
        *pos += 20;
        Some(oid)
    } else {
        None
    };
    let mut node = CacheTree { oid, children: Vec::with_capacity(subtrees) };
    for _ in 0..subtrees {
        node.children.push(parse_tree(data, pos)?);
    }
    Some((name, node))
}

const GITLINK: u32 = 0o160000;
const SYMLINK: u32 = 0o120000;
const TREE: u32 = 0o040000;

/// Regular files (any permission) are one kind; symlinks, gitlinks and trees are others.
fn kind(mode: u32) -> u32 {
    match mode {
        GITLINK | SYMLINK | TREE => mode,
        _ => 0o100000,
    }
}

/// Compares the index with HEAD's tree (`None`: an unborn branch, everything is added).
pub fn diff(repo: &Repository, head: Option<Oid>, index: &IndexFile) -> Result<Diff, git2::Error> {
    let mut out = Diff::default();
    let ctx = Walk { repo };
    ctx.dir(&index.entries, 0, index.tree.as_ref(), head, &mut out)?;
    Ok(out)
}

struct Walk<'r> {
    repo: &'r Repository,
}

impl Walk<'_> {
    fn dir(
        &self,
        entries: &[Entry],
        prefix: usize,
        cache: Option<&CacheTree>,
        head: Option<Oid>,
        out: &mut Diff,
    ) -> Result<(), git2::Error> {
        if let (Some(Some(cached)), Some(h)) = (cache.map(|c| c.oid), head) {
            if cached == h {
                return Ok(());
            }
        }
        let tree = head.map(|h| self.repo.find_tree(h)).transpose()?;
        let mut seen = 0usize;
        let mut i = 0;
        while i < entries.len() {
            let rel = &entries[i].path[prefix..];
            match memchr::memchr(b'/', rel) {
                Some(slash) => {
                    let name = &rel[..slash];
                    let end = i + entries[i..]
                        .iter()
                        .take_while(|e| {
                            let r = &e.path[prefix..];
                            r.len() > slash && &r[..slash] == name && r[slash] == b'/'
                        })
                        .count();
                    let head_sub = tree.as_ref().and_then(|t| t.get_name_bytes(name));
                    seen += usize::from(head_sub.is_some());
                    let is_tree =
                        |e: &git2::TreeEntry<'_>| e.kind() == Some(git2::ObjectType::Tree);
                    out.has_deletions |= head_sub.as_ref().is_some_and(|e| !is_tree(e));
                    let sub = head_sub.filter(is_tree);
                    let child = cache.and_then(|c| c.child(name));
                    self.dir(
                        &entries[i..end],
                        prefix + slash + 1,
                        child,
                        sub.map(|e| e.id()),
                        out,
                    )?;
                    i = end;
                }
                None => {
                    let head_entry = tree.as_ref().and_then(|t| t.get_name_bytes(rel));
                    seen += usize::from(head_entry.is_some());
                    let old = head_entry.map(|e| (e.filemode() as u32, e.id()));
                    compare(&entries[i], old, out);
                    i += 1;
                }
            }
        }
        if tree.as_ref().is_some_and(|t| t.len() > seen) {
            out.has_deletions = true;
        }
        Ok(())
    }
}

fn compare(entry: &Entry, old: Option<(u32, Oid)>, out: &mut Diff) {
    match old {
        Some((mode, oid)) if mode == entry.mode && oid == entry.oid => {}
        Some((mode, oid)) if kind(mode) == kind(entry.mode) => {
            out.changes.push(Change { entry: entry.clone(), old: Some(oid) });
        }
        Some(_) | None => out.changes.push(Change { entry: entry.clone(), old: None }),
    }
}
