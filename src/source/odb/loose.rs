//! Loose objects (`objects/xx/yyyy…`, one zlib stream of `blob <size>\0<content>`): what
//! `git add` writes, so what a staged change usually is. Read whole, inflated with zlib-rs;
//! the header is inflated first so a blob over the size limit is never built.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use flate2::{Decompress, FlushDecompress, Status};
use git2::Oid;

use super::object;

/// A loose blob: its content, or its size when over the limit.
pub enum Loose {
    /// The content.
    Bytes(Vec<u8>),
    /// Larger than the limit: not inflated.
    TooLarge(u64),
}

/// Longest header: `blob ` + 20 digits + NUL.
const HEADER_MAX: usize = 32;
/// Compressed bytes read before the header is known (plenty for 32 inflated bytes).
const HEAD_READ: u64 = 4096;

/// Reads the loose blob `oid` under `objects`; `None` when there is no such file (or it is
/// not a readable blob: the caller's libgit2 path then reports it precisely).
pub fn read(objects: &Path, oid: Oid, max_size: u64) -> Option<Loose> {
    let hex = oid.to_string();
    let mut file = File::open(objects.join(&hex[..2]).join(&hex[2..])).ok()?;
    let mut input = Vec::new();
    // NOTE: the first bytes hold the header; a blob over the limit is not read further.
    (&mut file).take(HEAD_READ).read_to_end(&mut input).ok()?;
    let mut z = Decompress::new(true);
    let mut head = Vec::with_capacity(HEADER_MAX);
    z.decompress_vec(&input, &mut head, FlushDecompress::None).ok()?;
    let nul = head.iter().position(|&b| b == 0)?;
    let size: u64 = std::str::from_utf8(head[..nul].strip_prefix(b"blob ")?).ok()?.parse().ok()?;
    if size > max_size {
        return Some(Loose::TooLarge(size));
    }
    file.read_to_end(&mut input).ok()?;
    let size = object::plausible_size(size, input.len())?;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&head[nul + 1..]);
    let consumed = z.total_in() as usize;
    let status = z.decompress_vec(&input[consumed..], &mut out, FlushDecompress::Finish).ok()?;
    (status == Status::StreamEnd && out.len() == size).then_some(Loose::Bytes(out))
}
