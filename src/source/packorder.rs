//! Pack order: where each object sits in the repository's packfiles, read straight from the
//! `.idx` files (version 2). Reading blobs sorted by pack offset keeps delta bases hot in
//! libgit2's cache and the pack's pages in sequence; object-id order is ~2.3x slower.
//! Knows nothing of scanning; objects missing from every index (loose objects, alternates)
//! sort last.

use std::path::Path;

use git2::Oid;

const MAGIC: [u8; 4] = [0xff, b't', b'O', b'c'];
const HEADER: usize = 8 + 256 * 4;

/// One parsed `.idx` file.
struct PackIndex {
    bytes: Vec<u8>,
    count: usize,
}

impl PackIndex {
    fn parse(bytes: Vec<u8>) -> Option<PackIndex> {
        if bytes.len() < HEADER || bytes[..4] != MAGIC || be32(&bytes, 4) != 2 {
            return None;
        }
        let count = be32(&bytes, HEADER - 4) as usize;
        (bytes.len() >= HEADER + count * 28).then_some(PackIndex { bytes, count })
    }

    fn sha(&self, i: usize) -> &[u8] {
        &self.bytes[HEADER + i * 20..HEADER + i * 20 + 20]
    }

    /// The offset of `oid` in the pack, if this index lists it.
    fn offset(&self, oid: &[u8]) -> Option<u64> {
        let first = oid[0] as usize;
        let lo = if first == 0 { 0 } else { be32(&self.bytes, 8 + (first - 1) * 4) as usize };
        let hi = be32(&self.bytes, 8 + first * 4) as usize;
        let (mut lo, mut hi) = (lo, hi.min(self.count));
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.sha(mid).cmp(oid) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(self.offset_at(mid)),
            }
        }
        None
    }

    fn offset_at(&self, i: usize) -> u64 {
        let table = HEADER + self.count * 24;
        let small = be32(&self.bytes, table + i * 4);
        if small & 0x8000_0000 == 0 {
            return u64::from(small);
        }
        let large = table + self.count * 4 + (small & 0x7fff_ffff) as usize * 8;
        self.bytes
            .get(large..large + 8)
            .map_or(u64::MAX, |b| u64::from_be_bytes(b.try_into().expect("8 bytes")))
    }
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// The pack positions of a repository's objects.
pub struct PackOrder {
    packs: Vec<PackIndex>,
}

impl PackOrder {
    /// Reads every `objects/pack/*.idx` below `git_dir` (unreadable ones are ignored: they
    /// only cost speed, never correctness).
    pub fn load(git_dir: &Path) -> PackOrder {
        let dir = git_dir.join("objects").join("pack");
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|e| e == "idx"));
        names.sort();
        let packs = names.iter().filter_map(|p| std::fs::read(p).ok()).filter_map(PackIndex::parse);
        PackOrder { packs: packs.collect() }
    }

    /// A sort key: (pack number, offset); objects in no pack sort last.
    pub fn key(&self, oid: Oid) -> (u32, u64) {
        let raw = oid.as_bytes();
        self.packs
            .iter()
            .enumerate()
            .find_map(|(n, p)| p.offset(raw).map(|off| (n as u32, off)))
            .unwrap_or((u32::MAX, 0))
    }

    /// Number of pack indexes read.
    pub fn packs(&self) -> usize {
        self.packs.len()
    }
}
