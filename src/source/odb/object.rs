//! One packed object: its header (type, size, delta base), its zlib-compressed data, and
//! git's delta format (copy/insert instructions that rebuild an object from its base).
//! Any malformed input is an error, never a panic.

use std::cell::RefCell;

use flate2::{Decompress, FlushDecompress, Status};

/// The type code of a blob.
pub const BLOB: u8 = 3;

/// Where a packed object's content comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A whole object of this type (1 commit, 2 tree, 3 blob, 4 tag).
    Whole(u8),
    /// A delta against the object at this earlier offset of the same pack.
    OfsDelta(u64),
    /// A delta against the object with this id.
    RefDelta([u8; 20]),
}

/// A parsed object header.
#[derive(Debug, Clone, Copy)]
pub struct Header {
    /// Whole object or delta.
    pub kind: Kind,
    /// Inflated size of the data (the object, or the delta instructions).
    pub size: u64,
    /// Offset of the zlib stream.
    pub data: usize,
}

/// Parses the header of the object at `offset` of `pack`.
pub fn header(pack: &[u8], offset: u64) -> Result<Header, String> {
    let mut at = usize::try_from(offset).map_err(|_| "offset out of range")?;
    let mut byte = *pack.get(at).ok_or("object header past the end of the pack")?;
    at += 1;
    let code = (byte >> 4) & 7;
    let mut size = u64::from(byte & 0x0f);
    let mut shift = 4;
    while byte & 0x80 != 0 {
        byte = *pack.get(at).ok_or("truncated object header")?;
        at += 1;
        if shift > 57 {
            return Err("object size overflows".into());
        }
        size |= u64::from(byte & 0x7f) << shift;
        shift += 7;
    }
    let kind = match code {
        1..=4 => Kind::Whole(code),
        6 => {
            let (rel, next) = ofs_distance(pack, at)?;
            at = next;
            Kind::OfsDelta(offset.checked_sub(rel).filter(|_| rel > 0).ok_or("bad delta base")?)
        }
        7 => {
            let id = pack.get(at..at + 20).ok_or("truncated delta base id")?;
            at += 20;
            Kind::RefDelta(id.try_into().expect("20 bytes"))
        }
        _ => return Err(format!("unknown object type {code}")),
    };
    Ok(Header { kind, size, data: at })
}

/// The base distance of an offset delta (git's big-endian base-128 with a +1 per byte).
fn ofs_distance(pack: &[u8], mut at: usize) -> Result<(u64, usize), String> {
    let mut byte = *pack.get(at).ok_or("truncated delta offset")?;
    at += 1;
    let mut rel = u64::from(byte & 0x7f);
    while byte & 0x80 != 0 {
        byte = *pack.get(at).ok_or("truncated delta offset")?;
        at += 1;
        rel =
            rel.checked_add(1).and_then(|r| r.checked_mul(128)).ok_or("delta offset overflows")?;
        rel |= u64::from(byte & 0x7f);
    }
    Ok((rel, at))
}

thread_local! {
    static INFLATER: RefCell<Decompress> = RefCell::new(Decompress::new(true));
}

/// zlib never expands data more than ~1032 times: a declared size beyond that (plus slack)
/// for the compressed bytes available is a damaged or hostile header, not an allocation
/// to make.
pub fn plausible_size(size: u64, compressed: usize) -> Option<usize> {
    usize::try_from(size)
        .ok()
        .filter(|&s| s <= compressed.saturating_mul(1100).saturating_add(1024))
}

/// Inflates the zlib stream at `data` of `pack`, which must hold exactly `size` bytes.
pub fn inflate(pack: &[u8], data: usize, size: u64) -> Result<Vec<u8>, String> {
    let input = pack.get(data..).ok_or("object data past the end of the pack")?;
    let size = plausible_size(size, input.len())
        .ok_or("object size is larger than its data could hold")?;
    let mut out = Vec::new();
    out.try_reserve_exact(size).map_err(|_| "object too large to hold in memory")?;
    INFLATER.with(|cell| {
        let mut z = cell.borrow_mut();
        z.reset(true);
        let status = z
            .decompress_vec(input, &mut out, FlushDecompress::Finish)
            .map_err(|e| format!("corrupt object data: {e}"))?;
        match status {
            Status::StreamEnd if out.len() == size => Ok(out),
            _ => Err("object data does not match its size".to_string()),
        }
    })
}

/// Rebuilds an object from `base` and the delta instructions `delta`.
pub fn apply_delta(base: &[u8], delta: &[u8]) -> Result<Vec<u8>, String> {
    let (src_size, at) = varint(delta, 0)?;
    let (dst_size, at) = varint(delta, at)?;
    if src_size != base.len() as u64 {
        return Err("delta base size mismatch".into());
    }
    // NOTE: the instructions are checked and measured before anything is allocated, so a
    // damaged size never turns into a huge allocation.
    let mut len = 0u64;
    for_each_op(base, delta, at, |part| len += part.len() as u64)?;
    if len != dst_size {
        return Err("delta result size mismatch".into());
    }
    let mut out = Vec::with_capacity(len as usize);
    for_each_op(base, delta, at, |part| out.extend_from_slice(part))?;
    Ok(out)
}

/// Runs the delta instructions from `at`, handing each produced slice to `f`.
fn for_each_op(
    base: &[u8],
    delta: &[u8],
    mut at: usize,
    mut f: impl FnMut(&[u8]),
) -> Result<(), String> {
    while at < delta.len() {
        let op = delta[at];
        at += 1;
        if op & 0x80 != 0 {
            let (offset, size, next) = copy_args(delta, at, op)?;
            at = next;
            let end = offset.checked_add(size).ok_or("delta copy overflows")?;
            f(base.get(offset..end).ok_or("delta copy out of range")?);
        } else if op != 0 {
            f(delta.get(at..at + op as usize).ok_or("truncated delta insert")?);
            at += op as usize;
        } else {
            return Err("reserved delta opcode".into());
        }
    }
    Ok(())
}

/// The result size a delta declares, from its first bytes.
pub fn delta_result_size(delta: &[u8]) -> Result<u64, String> {
    let (_, at) = varint(delta, 0)?;
    Ok(varint(delta, at)?.0)
}

/// A copy instruction's offset and size: bits 0-3 of `op` select offset bytes, 4-6 size
/// bytes (little-endian); a size of 0 means 0x10000.
fn copy_args(delta: &[u8], mut at: usize, op: u8) -> Result<(usize, usize, usize), String> {
    let mut arg = |bits: std::ops::Range<u8>| -> Result<usize, String> {
        let mut v = 0usize;
        for (n, bit) in bits.enumerate() {
            if op & (1 << bit) != 0 {
                v |= usize::from(*delta.get(at).ok_or("truncated delta copy")?) << (8 * n);
                at += 1;
            }
        }
        Ok(v)
    };
    let offset = arg(0..4)?;
    let size = match arg(4..7)? {
        0 => 0x10000,
        s => s,
    };
    Ok((offset, size, at))
}

/// A little-endian base-128 size at `at`; returns it and the next offset.
fn varint(b: &[u8], mut at: usize) -> Result<(u64, usize), String> {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let byte = *b.get(at).ok_or("truncated delta header")?;
        at += 1;
        if shift > 63 {
            return Err("delta size overflows".into());
        }
        v |= u64::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            return Ok((v, at));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_copies_and_inserts() {
        let base = b"hello brave world";
        // src 17, dst 15; copy base[0..6]; insert "new "; copy base[12..17]
        let mut d = vec![17, 15, 0x80 | 0x10, 6, 4];
        d.extend_from_slice(b"new ");
        d.extend_from_slice(&[0x80 | 0x01 | 0x10, 12, 5]);
        assert_eq!(apply_delta(base, &d).unwrap(), b"hello new world");
        assert_eq!(delta_result_size(&d).unwrap(), 15);
    }

    #[test]
    fn malformed_deltas_are_errors() {
        let base = b"abc";
        for d in
            [&[][..], &[3], &[4, 1, 1, b'x'], &[3, 1, 0], &[3, 9, 0x91, 0, 9], &[3, 2, 5, b'x']]
        {
            assert!(apply_delta(base, d).is_err(), "{d:?}");
        }
    }

    #[test]
    fn absurd_sizes_are_errors_not_allocations() {
        assert!(inflate(&[0x78, 0x9c, 0x03, 0x00], 0, 1 << 60).is_err());
        assert!(apply_delta(b"abc", &[3, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x91, 0, 3]).is_err());
    }

    #[test]
    fn headers_parse_and_reject_garbage() {
        // blob (3) of size 0x25: 0b1_011_0101, 0b0000_0010
        let h = header(&[0xb5, 0x02, 0x78], 0).unwrap();
        assert_eq!((h.kind, h.size, h.data), (Kind::Whole(BLOB), 0x25, 2));
        // offset delta of size 3, base 10 bytes back, at offset 20
        let mut pack = vec![0u8; 20];
        pack.extend_from_slice(&[0x63, 10]);
        let h = header(&pack, 20).unwrap();
        assert_eq!(h.kind, Kind::OfsDelta(10));
        assert!(header(&[0x50], 0).is_err(), "type 5 is reserved");
        assert!(header(&[0xb5], 0).is_err(), "truncated");
        assert!(header(&[0x63, 30], 0).is_err(), "base before the pack start");
    }
}
