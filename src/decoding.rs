//! Decoding layers: secrets hidden one encoding deep. For a blob's text this module derives
//! small synthetic texts — a JSON/JS-escaped line unescaped (PEM keys in JSON, notebooks), a
//! base64 value decoded in place (Kubernetes Secret `data:`, `.npmrc` `_auth`), a
//! percent-encoded URL decoded — each tied to the byte offset of its origin in the blob, so
//! findings in them are reported at the original line. Cheap by construction: only lines
//! holding a trigger (`\`, `%XX`, a long base64 run in value position) are touched.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// A derived text and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    /// The decoded text to scan.
    pub text: Vec<u8>,
    /// Byte offset in the original blob that findings in `text` are reported at.
    pub origin: usize,
    /// Which layer produced it (`json-escape`, `base64`, `percent`).
    pub layer: &'static str,
}

/// Lines longer than this are not decoded (minified bundles): bounded cost.
const MAX_LINE: usize = 256 * 1024;
/// Shortest base64 run worth decoding.
const MIN_B64: usize = 24;
/// Longest base64 run decoded.
const MAX_B64: usize = 16 * 1024;
/// At most this many derived texts per blob.
const MAX_DERIVED: usize = 4096;

/// Every derived text of `text`. Each layer finds its triggers in one pass over the whole
/// blob (`memchr` for `\` and `%`, eight bytes at a time for long base64 runs), so text
/// without triggers costs little.
pub fn derive(text: &[u8]) -> Vec<Derived> {
    let mut out = Vec::new();
    escaped_lines(text, &mut out);
    percent_lines(text, &mut out);
    base64_values(text, &mut out);
    out.truncate(MAX_DERIVED);
    out
}

/// Start and end (exclusive, before the newline) of the line holding `pos`.
fn line_bounds(text: &[u8], pos: usize) -> (usize, usize) {
    let start = memchr::memrchr(b'\n', &text[..pos]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &text[pos..]).map_or(text.len(), |i| pos + i);
    (start, end)
}

/// Calls `f` once per line holding a `trigger` byte (lines over `MAX_LINE` are skipped).
fn for_lines_with(
    text: &[u8],
    trigger: u8,
    out: &mut Vec<Derived>,
    f: impl Fn(&[u8], usize, &mut Vec<Derived>),
) {
    let mut next = 0;
    for pos in memchr::memchr_iter(trigger, text) {
        if pos < next {
            continue;
        }
        let (start, end) = line_bounds(text, pos);
        next = end + 1;
        if end - start <= MAX_LINE {
            f(&text[start..end], start, out);
        }
        if out.len() >= MAX_DERIVED {
            return;
        }
    }
}

fn escaped_lines(text: &[u8], out: &mut Vec<Derived>) {
    for_lines_with(text, b'\\', out, |line, start, out| {
        // NOTE: only escapes that hide structure matter: quotes around a value, slashes in a
        // URL, \u sequences. A line whose only escapes are \n/\t (a format string; a PEM key
        // in JSON, which the private-key rules read as it is) is not worth a second scan.
        if !has_structural_escape(line) {
            return;
        }
        if let Some(text) = unescape(line) {
            out.push(Derived { text, origin: start, layer: "json-escape" });
        }
    });
}

fn percent_lines(text: &[u8], out: &mut Vec<Derived>) {
    for_lines_with(text, b'%', out, |line, start, out| {
        if memchr::memmem::find(line, b"://").is_some() {
            if let Some(text) = percent_decode(line) {
                out.push(Derived { text, origin: start, layer: "percent" });
            }
        }
    });
}

/// Base64 values decoded in place. A value starts a maximal run of base64 characters (the
/// `:`/`=`, space or quote before it is none), so only long runs are looked at, each with
/// the one `:` or `=` it can belong to.
fn base64_values(text: &[u8], out: &mut Vec<Derived>) {
    let mut from = 0;
    while let Some((start, end)) = next_long_run(text, from) {
        from = end;
        let Some(pos) = key_before(text, start) else { continue };
        if let Some(decoded) = decode_run(text, start, end) {
            let line_start = memchr::memrchr(b'\n', &text[..pos]).map_or(0, |i| i + 1);
            let mut derived = text[line_start..start].to_vec();
            derived.extend_from_slice(&decoded);
            out.push(Derived { text: derived, origin: start, layer: "base64" });
            if out.len() >= MAX_DERIVED {
                return;
            }
        }
    }
}

/// The next maximal run of at least `MIN_B64` base64 characters starting after `from`
/// (which is 0 or just past a run): (start, end).
///
/// NOTE: such a run holds two whole aligned 8-byte words of base64, one of them at an even
/// index, so only even words are tested (eight bytes at once, no branch per byte) and only
/// runs passing that test are measured byte by byte. Visiting every ':' and '=' (the
/// value positions) instead was most of this layer's cost in source code.
fn next_long_run(text: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut w = from.div_ceil(16) * 2;
    while w * 8 < text.len() {
        let pair = |n: usize| full_word(text, n) && full_word(text, n + 1);
        if !full_word(text, w) || !(w > 0 && pair(w - 1) || pair(w)) {
            w += 2;
            continue;
        }
        let start = text[..w * 8].iter().rposition(|&b| !is_b64(b)).map_or(0, |i| i + 1);
        let end = text[w * 8..].iter().position(|&b| !is_b64(b)).map_or(text.len(), |i| w * 8 + i);
        if end - start >= MIN_B64 {
            return Some((start, end));
        }
        w = end.div_ceil(16) * 2;
    }
    None
}

const HIGH: u64 = 0x8080_8080_8080_8080;

/// `b` in every byte of a word.
const fn splat(b: u8) -> u64 {
    0x0101_0101_0101_0101 * b as u64
}

/// The high bit of each byte of `x` whose low seven bits are in `lo..=hi`.
fn in_range(x: u64, lo: u8, hi: u8) -> u64 {
    ((x | HIGH) - splat(lo)) & ((splat(hi) | HIGH) - (x & !HIGH)) & HIGH
}

/// True when the `n`th aligned 8-byte word of `text` exists and is all base64.
fn full_word(text: &[u8], n: usize) -> bool {
    text.get(n * 8..n * 8 + 8).is_some_and(all_b64)
}

/// True when all eight bytes are base64 characters (`is_b64`), tested at once.
fn all_b64(word: &[u8]) -> bool {
    let x = u64::from_le_bytes(word.try_into().expect("8 bytes"));
    let alpha = in_range(x | splat(0x20), b'a', b'z');
    let hit = alpha | in_range(x, b'/', b'9') | in_range(x, b'+', b'+');
    (hit & !x) == HIGH
}

/// The ':' or '=' a value starting at `start` belongs to (one optional quote and any
/// spaces before it).
fn key_before(text: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    if i > 0 && matches!(text[i - 1], b'"' | b'\'') {
        i -= 1;
    }
    while i > 0 && text[i - 1] == b' ' {
        i -= 1;
    }
    (i > 0 && matches!(text[i - 1], b':' | b'=')).then(|| i - 1)
}

fn has_structural_escape(line: &[u8]) -> bool {
    memchr::memchr_iter(b'\\', line)
        .any(|i| matches!(line.get(i + 1), Some(b'"' | b'\'' | b'/' | b'u' | b'`')))
}

/// JSON/JS string escapes undone (`\n`, `\"`, `\\`, `\/`, `\t`, `\uXXXX`); `None` when
/// nothing changes.
fn unescape(line: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    let mut changed = false;
    while i < line.len() {
        let used = if line[i] == b'\\' { escape_into(&line[i + 1..], &mut out) } else { 0 };
        if used == 0 {
            out.push(line[i]);
            i += 1;
        } else {
            changed = true;
            i += 1 + used;
        }
    }
    changed.then_some(out)
}

/// Decodes one escape after a backslash into `out`; returns its length (0: not an escape).
fn escape_into(rest: &[u8], out: &mut Vec<u8>) -> usize {
    let Some(&c) = rest.first() else { return 0 };
    let simple = match c {
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'"' | b'\'' | b'\\' | b'/' | b'`' => Some(c),
        _ => None,
    };
    if let Some(b) = simple {
        out.push(b);
        return 1;
    }
    if c != b'u' || rest.len() < 5 {
        return 0;
    }
    let hex = std::str::from_utf8(&rest[1..5]).ok().and_then(|h| u32::from_str_radix(h, 16).ok());
    match hex.and_then(char::from_u32) {
        Some(ch) => {
            let mut buf = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            5
        }
        None => 0,
    }
}

fn percent_decode(line: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    let mut changed = false;
    while i < line.len() {
        let hex = line.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (line[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) if b >= 0x20 => {
                out.push(b);
                i += 3;
                changed = true;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    changed.then_some(out)
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// The maximal base64 run `start..run_end` (with up to two `=` of padding after it)
/// decoded to printable text.
fn decode_run(text: &[u8], start: usize, run_end: usize) -> Option<Vec<u8>> {
    let len = run_end - start;
    let mut end = run_end;
    while end < text.len() && end - run_end < 2 && text[end] == b'=' {
        end += 1;
    }
    let boundary = end == text.len() || !text[end].is_ascii_alphanumeric() && text[end] != b'_';
    if !(MIN_B64..=MAX_B64).contains(&len) || !boundary || !looks_encoded(&text[start..run_end]) {
        return None;
    }
    let decoded = STANDARD.decode(pad(&text[start..end])).ok()?;
    printable(&decoded).then_some(decoded)
}

/// Mixed case and a digit: base64 of text, not a word or a hex digest. JWT segments and
/// JSON (`eyJ`) are left to their own rules.
fn looks_encoded(run: &[u8]) -> bool {
    !run.starts_with(b"eyJ")
        && run.iter().any(u8::is_ascii_digit)
        && run.iter().any(u8::is_ascii_uppercase)
        && run.iter().any(u8::is_ascii_lowercase)
}

fn pad(run: &[u8]) -> Vec<u8> {
    let mut v: Vec<u8> = run.iter().copied().filter(|&b| b != b'=').collect();
    while v.len() % 4 != 0 {
        v.push(b'=');
    }
    v
}

/// Decoded text that is almost all printable ASCII (or UTF-8), at least 12 bytes long.
fn printable(data: &[u8]) -> bool {
    if data.len() < 12 || std::str::from_utf8(data).is_err() {
        return false;
    }
    let good =
        data.iter().filter(|&&b| b >= 0x20 || b == b'\n' || b == b'\r' || b == b'\t').count();
    good * 100 >= data.len() * 98
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_values_decode_in_place_with_their_key() {
        let password = ["Zq8Lm", "2Xc9VbN4R"].concat();
        let value = STANDARD.encode(format!("postgres://app:{password}@db.internal:5432/app"));
        let text = format!("data:\n  DATABASE_URL: {value}\n");
        let d = derive(text.as_bytes());
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].layer, "base64");
        assert!(d[0].text.starts_with(b"  DATABASE_URL: postgres://app:"));
        assert_eq!(d[0].origin, text.find(&value).unwrap());
    }

    #[test]
    fn json_escapes_and_percent_encoding() {
        let d = derive(br#"{"cmd": "export KEY=\"v1\" && curl https:\/\/h\n"}"#);
        assert_eq!(d[0].layer, "json-escape");
        assert!(d[0].text.windows(8).any(|w| w == b"KEY=\"v1\""));
        assert!(d[0].text.windows(9).any(|w| w == b"https://h"));
        // format strings and PEM-in-JSON lines (only \n escapes) are not re-scanned
        assert!(derive(br#"println!("total: {}\n", n);"#).is_empty());
        let d = derive(b"url=https://u:p%40ss@host/x");
        assert_eq!(d[0].text, b"url=https://u:p@ss@host/x");
    }

    #[test]
    fn word_test_agrees_with_byte_test() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut word = *b"aZ09+/xQ";
                word[at] = b;
                assert_eq!(all_b64(&word), is_b64(b), "byte {b:#x} at {at}");
            }
        }
    }

    /// The value start after a ':' or '=' at `pos` (spaces, then one optional quote) and
    /// that run decoded, as the layer was first written.
    fn base64_value(text: &[u8], pos: usize) -> Option<(usize, Vec<u8>)> {
        let mut start = pos + 1;
        while text.get(start) == Some(&b' ') {
            start += 1;
        }
        if matches!(text.get(start), Some(b'"' | b'\'')) {
            start += 1;
        }
        let len = text.get(start..)?.iter().take_while(|&&b| is_b64(b)).count();
        Some((start, decode_run(text, start, start + len)?))
    }

    /// The layer as it was first written: every ':' and '=' tried as a value position.
    fn base64_values_reference(text: &[u8]) -> Vec<Derived> {
        let mut out = Vec::new();
        for pos in memchr::memchr2_iter(b':', b'=', text) {
            if let Some((run_start, decoded)) = base64_value(text, pos) {
                let line_start = memchr::memrchr(b'\n', &text[..pos]).map_or(0, |i| i + 1);
                let mut derived = text[line_start..run_start].to_vec();
                derived.extend_from_slice(&decoded);
                out.push(Derived { text: derived, origin: run_start, layer: "base64" });
            }
        }
        out
    }

    #[test]
    fn base64_runs_found_as_by_visiting_every_value_position() {
        let mut rng = crate::rules::template::Rng::new(0xb64);
        let value = STANDARD.encode("postgres://app:Zq8Lm2Xc9VbN4R@db.internal:5432/app");
        let pieces = [": ", "=", ":\"", "= '", " ", "\n", "==", "key", "a1B2c3D4e5", &value];
        let mut found = 0;
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..rng.range(0, 40) {
                let p = pieces[rng.range(0, pieces.len() - 1)];
                text.push_str(&p[..rng.range(1, p.len())]);
            }
            let mut got = Vec::new();
            base64_values(text.as_bytes(), &mut got);
            assert_eq!(got, base64_values_reference(text.as_bytes()), "{text:?}");
            found += got.len();
        }
        assert!(found > 500, "{found}");
    }

    #[test]
    fn words_hashes_and_binary_are_left_alone() {
        assert!(derive(b"name: averyveryverylongidentifierwithoutdigits\n").is_empty());
        let bin =
            STANDARD.encode([0u8, 1, 2, 3, 250, 251, 252, 253, 254, 255, 9, 8, 7, 6, 5, 4, 3, 2]);
        assert!(derive(format!("k: {bin}\n").as_bytes()).is_empty());
    }
}
