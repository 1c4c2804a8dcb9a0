//! Resolving many objects at once. Every requested object's delta chain is followed to a
//! whole object; the chains form a forest (a base with its deltas as children). Walking it
//! depth-first from each root inflates every node exactly once and applies every delta
//! once, holding only the bases still needed in memory — where reading objects one by one
//! re-inflates shared bases whenever a cache misses. Roots, and branches near them, run in
//! parallel (rayon); the walk itself uses an explicit stack, never deep recursion.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use super::object::{self, Header, Kind};
use super::{Blob, Loc, ObjectStore};
use crate::timing::{self, Counter};

/// A chain followed further than this without reaching a whole object (git allows depths
/// up to 4095) is a cycle of ref deltas in a damaged pack: its requests go back to the
/// caller.
const MAX_CHAIN: usize = 1 << 16;

/// Branch points this close to a root hand their subtrees to other threads; deeper ones
/// are walked on an explicit stack, so no pack, however deep or branchy, deepens the
/// call stack beyond this many levels.
const PARALLEL_LEVELS: u32 = 6;

struct Node {
    loc: Loc,
    header: Header,
    children: Vec<usize>,
    /// Indices of the requests this object answers.
    wanted: Vec<usize>,
}

/// The forest of the requested objects' delta chains.
pub(super) struct Forest<'s> {
    store: &'s ObjectStore,
    nodes: Vec<Node>,
    roots: Vec<usize>,
    at: HashMap<Loc, usize>,
}

/// What the caller asked for and how to hand results back.
pub(super) struct Job<'v> {
    pub max_size: u64,
    pub visit: &'v (dyn Fn(usize, Blob<'_>) + Sync),
    /// Requests given back: a subtree fails before any object in it is built, so these
    /// were never visited.
    pub failed: Mutex<Vec<usize>>,
}

impl<'s> Forest<'s> {
    pub(super) fn new(store: &'s ObjectStore) -> Self {
        Forest { store, nodes: Vec::new(), roots: Vec::new(), at: HashMap::new() }
    }

    /// Adds request `i` for the object at `loc`; `false` when its chain cannot be followed.
    pub(super) fn want(&mut self, i: usize, loc: Loc) -> bool {
        match self.node(loc) {
            Some(n) => {
                self.nodes[n].wanted.push(i);
                true
            }
            None => false,
        }
    }

    /// The node for `loc`, adding it and any new bases on its chain.
    fn node(&mut self, loc: Loc) -> Option<usize> {
        let mut chain: Vec<(Loc, Header)> = Vec::new();
        let mut cur = loc;
        let anchor = loop {
            if let Some(&n) = self.at.get(&cur) {
                break Some(n);
            }
            let header = object::header(self.store.data(cur.pack), cur.offset).ok()?;
            chain.push((cur, header));
            if chain.len() > MAX_CHAIN {
                return None;
            }
            cur = match header.kind {
                // NOTE: only blobs are served; a tree or commit asked for as a blob goes back
                // to libgit2, which reports the type mismatch.
                Kind::Whole(object::BLOB) => break None,
                Kind::Whole(_) => return None,
                Kind::OfsDelta(base) => Loc { pack: cur.pack, offset: base },
                Kind::RefDelta(id) => self.store.locate_raw(&id)?,
            };
        };
        let mut parent = anchor;
        for (loc, header) in chain.into_iter().rev() {
            let n = self.nodes.len();
            self.nodes.push(Node { loc, header, children: Vec::new(), wanted: Vec::new() });
            self.at.insert(loc, n);
            match parent {
                Some(p) => self.nodes[p].children.push(n),
                None => self.roots.push(n),
            }
            parent = Some(n);
        }
        parent
    }

    /// Materializes every wanted object, handing each to `job.visit`.
    pub(super) fn resolve(&self, job: &Job<'_>) {
        self.roots.par_iter().for_each(|&r| {
            let node = &self.nodes[r];
            if self.leaf_too_large(node, node.header.size, job) {
                return;
            }
            let data = self.store.data(node.loc.pack);
            let inflated = timing::count(Counter::Read, || {
                object::inflate(data, node.header.data, node.header.size)
            });
            match inflated {
                Ok(content) => self.descend(r, content, job, PARALLEL_LEVELS),
                Err(_) => self.fail(r, job),
            }
        });
    }

    /// Emits node `n` (built as `content`) and everything below it, depth-first on an
    /// explicit stack; `levels` more branch points may still split across threads.
    fn descend(&self, n: usize, content: Vec<u8>, job: &Job<'_>, levels: u32) {
        let mut stack: Vec<(usize, Arc<Vec<u8>>)> = Vec::new();
        self.built(n, content, &mut stack, job, levels);
        while let Some((c, base)) = stack.pop() {
            let built = self.child(&base, c, job);
            drop(base);
            if let Some(content) = built {
                self.built(c, content, &mut stack, job, levels);
            }
        }
    }

    /// Hands node `n`'s content to its requests, builds its leaf children at once, and
    /// schedules the others: on other threads near the root, else on `stack`.
    fn built(
        &self,
        n: usize,
        content: Vec<u8>,
        stack: &mut Vec<(usize, Arc<Vec<u8>>)>,
        job: &Job<'_>,
        levels: u32,
    ) {
        self.emit(n, &content, job);
        let (leaves, inner): (Vec<usize>, Vec<usize>) =
            self.nodes[n].children.iter().partition(|&&c| self.nodes[c].children.is_empty());
        for c in leaves {
            if let Some(leaf) = self.child(&content, c, job) {
                self.emit(c, &leaf, job);
            }
        }
        if inner.len() > 1 && levels > 0 {
            inner.par_iter().for_each(|&c| {
                if let Some(cc) = self.child(&content, c, job) {
                    self.descend(c, cc, job, levels - 1);
                }
            });
            return;
        }
        let shared = Arc::new(content);
        stack.extend(inner.into_iter().map(|c| (c, Arc::clone(&shared))));
    }

    /// Rebuilds child `c` from its base's content (`None`: failed, or emitted as too large).
    fn child(&self, base: &[u8], c: usize, job: &Job<'_>) -> Option<Vec<u8>> {
        let node = &self.nodes[c];
        let data = self.store.data(node.loc.pack);
        let inflated = timing::count(Counter::Read, || {
            object::inflate(data, node.header.data, node.header.size)
        });
        let built = inflated.and_then(|delta| match object::delta_result_size(&delta) {
            Ok(size) if self.leaf_too_large(node, size, job) => Ok(None),
            _ => timing::count(Counter::Read, || object::apply_delta(base, &delta)).map(Some),
        });
        match built {
            Ok(content) => content,
            Err(_) => {
                self.fail(c, job);
                None
            }
        }
    }

    /// A leaf over the size limit is reported as such without being built.
    fn leaf_too_large(&self, node: &Node, size: u64, job: &Job<'_>) -> bool {
        let too_large = node.children.is_empty() && size > job.max_size;
        if too_large {
            hand(node, Blob::TooLarge(size), job);
        }
        too_large
    }

    /// Hands a built object to its requests (as too large when it is over the limit: a
    /// base of other objects is built even then).
    fn emit(&self, n: usize, content: &[u8], job: &Job<'_>) {
        let blob = match content.len() as u64 {
            size if size > job.max_size => Blob::TooLarge(size),
            _ => Blob::Bytes(content),
        };
        hand(&self.nodes[n], blob, job);
    }

    /// Gives back every request in the subtree of `n` (the caller reads them one by one,
    /// which also reports the damage precisely).
    fn fail(&self, n: usize, job: &Job<'_>) {
        let mut failed = job.failed.lock().expect("failed list");
        let mut stack = vec![n];
        while let Some(n) = stack.pop() {
            failed.extend(&self.nodes[n].wanted);
            stack.extend(&self.nodes[n].children);
        }
    }
}

/// Hands `blob` to every request `node` answers.
fn hand(node: &Node, blob: Blob<'_>, job: &Job<'_>) {
    for &i in &node.wanted {
        (job.visit)(i, blob);
    }
}
