//! Reading blobs straight from a repository's object database, many at a time, inflated
//! with zlib-rs. Packs and their `.idx` are memory-mapped; packed objects are located
//! through the indexes and resolved together (`forest`), so shared delta bases are
//! inflated once. Loose objects (what `git add` writes) are read whole, in parallel
//! (`loose`). Used for large reads (history, big staged sets, ranges); anything it cannot
//! serve — alternates, unusual or damaged objects — is handed back to the caller, which
//! reads it through libgit2. Knows nothing of scanning.

mod forest;
mod index;
mod loose;
mod map;
mod object;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use git2::Oid;
use rayon::prelude::*;

use crate::timing::{self, Counter};
use index::PackIndex;
use loose::Loose;
use map::Mapped;

/// Where an object sits: pack number and byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Loc {
    /// Index into the store's packs.
    pub pack: u32,
    /// Offset of the object header in the pack.
    pub offset: u64,
}

/// A requested object, as handed to the visitor.
#[derive(Debug, Clone, Copy)]
pub enum Blob<'a> {
    /// The content.
    Bytes(&'a [u8]),
    /// Larger than the limit: not built.
    TooLarge(u64),
}

struct Pack {
    index: PackIndex,
    data: Mapped,
}

/// The mapped packs and the loose objects of one repository.
pub struct ObjectStore {
    packs: Vec<Pack>,
    objects: PathBuf,
}

impl ObjectStore {
    /// Maps every `objects/pack/*.idx` under `git_dir` with its `.pack` (pairs that cannot
    /// be read are left out: their objects go back to the caller).
    pub fn open(git_dir: &Path) -> ObjectStore {
        let dir = git_dir.join("objects").join("pack");
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|e| e == "idx"));
        names.sort();
        let packs = names.iter().filter_map(|idx| {
            let index = PackIndex::open(idx)?;
            let data = Mapped::open(&idx.with_extension("pack")).ok()?;
            // NOTE: an index paired with another pack (a half-finished repack) is skipped.
            let b = data.bytes();
            let paired = b.len() >= 32 && b[b.len() - 20..] == *index.pack_checksum();
            (b.starts_with(b"PACK") && paired).then_some(Pack { index, data })
        });
        ObjectStore { packs: packs.collect(), objects: git_dir.join("objects") }
    }

    /// Number of packs mapped.
    pub fn packs(&self) -> usize {
        self.packs.len()
    }

    /// Where `oid` is packed, if it is.
    pub fn locate(&self, oid: Oid) -> Option<Loc> {
        self.locate_raw(oid.as_bytes())
    }

    fn locate_raw(&self, raw: &[u8]) -> Option<Loc> {
        self.packs
            .iter()
            .enumerate()
            .find_map(|(n, p)| p.index.offset(raw).map(|offset| Loc { pack: n as u32, offset }))
    }

    fn data(&self, pack: u32) -> &[u8] {
        self.packs[pack as usize].data.bytes()
    }

    /// Reads the objects `oids` (blobs), calling `visit(i, blob)` once for each one it
    /// serves, from several threads and in no particular order; objects over `max_size`
    /// bytes are reported as [`Blob::TooLarge`] without being built. Returns the indices
    /// it did not serve (sorted), for the caller to read another way.
    pub fn read_many(
        &self,
        oids: &[Oid],
        max_size: u64,
        visit: &(dyn Fn(usize, Blob<'_>) + Sync),
    ) -> Vec<usize> {
        let mut forest = forest::Forest::new(self);
        let mut unpacked = Vec::new();
        timing::count(Counter::Read, || {
            for (i, oid) in oids.iter().enumerate() {
                if !self.locate(*oid).is_some_and(|loc| forest.want(i, loc)) {
                    unpacked.push(i);
                }
            }
        });
        let job = forest::Job { max_size, visit, failed: Mutex::new(Vec::new()) };
        let (not_loose, ()) = rayon::join(
            || self.read_loose(oids, &unpacked, max_size, visit),
            || forest.resolve(&job),
        );
        let mut rest = job.failed.into_inner().expect("failed list");
        rest.extend(not_loose);
        rest.sort_unstable();
        rest.dedup();
        rest
    }

    /// Reads the requests `which` as loose objects, in parallel; returns those that are not.
    fn read_loose(
        &self,
        oids: &[Oid],
        which: &[usize],
        max_size: u64,
        visit: &(dyn Fn(usize, Blob<'_>) + Sync),
    ) -> Vec<usize> {
        let one = |&i: &usize| {
            let read =
                timing::count(Counter::Read, || loose::read(&self.objects, oids[i], max_size));
            match read {
                Some(Loose::Bytes(b)) => visit(i, Blob::Bytes(&b)),
                Some(Loose::TooLarge(n)) => visit(i, Blob::TooLarge(n)),
                None => return Some(i),
            }
            None
        };
        if which.len() < 2 {
            return which.iter().filter_map(one).collect();
        }
        which.par_iter().filter_map(one).collect()
    }
}
