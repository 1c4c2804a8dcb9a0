//! Turns raw blob bytes into scannable text: UTF-16 (with a BOM, or detected by its NUL
//! pattern) is decoded to UTF-8; anything else with a NUL byte in its first 8 KiB is
//! binary and skipped. Non-UTF-8 bytes are scanned as they are.

use std::borrow::Cow;

const SNIFF: usize = 8192;

/// What a blob is, for scanning.
#[derive(Debug)]
pub enum Content<'a> {
    /// Text to scan (borrowed, or decoded from UTF-16).
    Text(Cow<'a, [u8]>),
    /// Binary: not scanned.
    Binary,
}

/// Classifies and, where needed, decodes a blob.
pub fn prepare(bytes: &[u8]) -> Content<'_> {
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return Content::Text(Cow::Owned(decode_utf16(rest, true)));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return Content::Text(Cow::Owned(decode_utf16(rest, false)));
    }
    let head = &bytes[..bytes.len().min(SNIFF)];
    if memchr::memchr(0, head).is_none() {
        return Content::Text(Cow::Borrowed(bytes));
    }
    match utf16_without_bom(head) {
        Some(little) => Content::Text(Cow::Owned(decode_utf16(bytes, little))),
        None => Content::Binary,
    }
}

/// Detects BOM-less UTF-16 of mostly ASCII text: NULs on one parity, printable on the other.
fn utf16_without_bom(head: &[u8]) -> Option<bool> {
    if head.len() < 8 {
        return None;
    }
    let pairs = head.len() / 2;
    let (mut even_nul, mut odd_nul) = (0, 0);
    for p in head.chunks_exact(2) {
        even_nul += usize::from(p[0] == 0);
        odd_nul += usize::from(p[1] == 0);
    }
    if odd_nul * 10 >= pairs * 9 && even_nul == 0 {
        Some(true)
    } else if even_nul * 10 >= pairs * 9 && odd_nul == 0 {
        Some(false)
    } else {
        None
    }
}

fn decode_utf16(bytes: &[u8], little: bool) -> Vec<u8> {
    let units = bytes.chunks_exact(2).map(|p| {
        if little {
            u16::from_le_bytes([p[0], p[1]])
        } else {
            u16::from_be_bytes([p[0], p[1]])
        }
    });
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect::<String>()
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut v = if bom { vec![0xFF, 0xFE] } else { vec![] };
        v.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        v
    }

    #[test]
    fn decodes_utf16_with_and_without_bom() {
        for bom in [true, false] {
            match prepare(&utf16le("TOKEN=abc\r\n", bom)) {
                Content::Text(t) => assert_eq!(&*t, b"TOKEN=abc\r\n"),
                Content::Binary => panic!("utf16 seen as binary"),
            }
        }
    }

    #[test]
    fn nul_bytes_mean_binary() {
        assert!(matches!(prepare(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\x01\x02"), Content::Binary));
        assert!(matches!(prepare(b"plain"), Content::Text(_)));
    }
}
