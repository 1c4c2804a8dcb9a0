//! Pack index files (`.idx`, version 2): object id → offset in the pack, by binary search
//! within the fan-out bucket of the id's first byte.

use std::path::Path;

use super::map::Mapped;

const MAGIC: [u8; 4] = [0xff, b't', b'O', b'c'];
const HEADER: usize = 8 + 256 * 4;

/// One mapped `.idx` file.
pub struct PackIndex {
    map: Mapped,
    count: usize,
}

impl PackIndex {
    /// Maps and checks `path`; `None` when it is not a readable version-2 index.
    pub fn open(path: &Path) -> Option<PackIndex> {
        let map = Mapped::open(path).ok()?;
        let b = map.bytes();
        if b.len() < HEADER || b[..4] != MAGIC || be32(b, 4) != 2 {
            return None;
        }
        let count = be32(b, HEADER - 4) as usize;
        (b.len() >= HEADER + count * 28 + 40).then_some(PackIndex { map, count })
    }

    /// The checksum of the pack this index describes (from the index's trailer).
    pub fn pack_checksum(&self) -> &[u8] {
        let b = self.map.bytes();
        &b[b.len() - 40..b.len() - 20]
    }

    fn sha(&self, i: usize) -> &[u8] {
        &self.map.bytes()[HEADER + i * 20..HEADER + i * 20 + 20]
    }

    /// The offset of the object `oid` (20 raw bytes) in the pack, if this index lists it.
    pub fn offset(&self, oid: &[u8]) -> Option<u64> {
        let b = self.map.bytes();
        let first = *oid.first()? as usize;
        let lo = if first == 0 { 0 } else { be32(b, 8 + (first - 1) * 4) as usize };
        let hi = be32(b, 8 + first * 4) as usize;
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
        let b = self.map.bytes();
        let table = HEADER + self.count * 24;
        let small = be32(b, table + i * 4);
        if small & 0x8000_0000 == 0 {
            return u64::from(small);
        }
        let large = table + self.count * 4 + (small & 0x7fff_ffff) as usize * 8;
        b.get(large..large + 8).map_or(u64::MAX, |b| u64::from_be_bytes(b.try_into().expect("8")))
    }
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}
