//! Cheap, rule-independent filters applied to every captured secret before validators:
//! Shannon entropy, the global placeholder filter (references, placeholder words, trivial
//! bodies) and the key-name deny list for context rules. Pure functions over bytes.

/// Shannon entropy in bits per byte.
pub fn entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    let n = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

const PLACEHOLDER_WORDS: &[&str] = &[
    "xxxx",
    "***",
    "...",
    "\u{2026}",
    "changeme",
    "change_me",
    "change-me",
    "replaceme",
    "replace_me",
    "replace-me",
    "replace_with",
    "replace-with",
    "replacewith",
    "example",
    "placeholder",
    "your_key",
    "your-key",
    "yourkey",
    "your_token",
    "your-token",
    "yourtoken",
    "your_secret",
    "your-secret",
    "yoursecret",
    "your_password",
    "your-password",
    "yourpassword",
    "your_api",
    "your-api",
    "insert_",
    "dummy",
    "redacted",
    "<redacted>",
    "super-secret",
    "super_secret",
    "supersecret",
    "django-insecure",
    "not-a-secret",
    "notasecret",
];

/// Why a captured value is a placeholder or reference rather than a secret, if it is one.
pub fn placeholder_reason(secret: &[u8]) -> Option<&'static str> {
    let s = String::from_utf8_lossy(secret);
    let lower = s.to_ascii_lowercase();
    if is_reference(&s) {
        return Some("a variable or template reference");
    }
    if PLACEHOLDER_WORDS.iter().any(|w| lower.contains(w)) {
        return Some("a placeholder word");
    }
    if trivial_body(secret) {
        return Some("a repeated or sequential body");
    }
    None
}

fn is_reference(s: &str) -> bool {
    let t = s.trim_matches(|c| c == '"' || c == '\'');
    let simple_var = t.starts_with('$')
        && t.trim_start_matches('$')
            .trim_start_matches('{')
            .trim_end_matches('}')
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && t.len() > 1;
    simple_var
        || t.contains("{{")
        || t.contains("${")
        || t.contains("%{")
        || (t.starts_with('%') && t.ends_with('%') && t.len() > 2)
        || t.contains("process.env")
        || t.contains("os.getenv")
        || t.contains("os.environ")
        || (t.starts_with('<') && t.ends_with('>'))
        || (t.starts_with('[') && t.ends_with(']'))
}

/// All one character (separators aside), a character repeated 8+ times where the run is a
/// quarter of the value or more (or 16+ times anywhere), or a sequential run of 8+.
///
/// A run of 8-15 in a long value is not a placeholder by itself: binary-header tokens
/// encode zero bytes as `AAAA…` (an Upstash v2 token for a database number below 65536
/// starts with ten `A`s in 62 characters).
fn trivial_body(s: &[u8]) -> bool {
    let mut body = s.iter().filter(|b| !matches!(b, b'-' | b'_' | b'.' | b':'));
    if let Some(&first) = body.next() {
        if s.len() >= 2 && body.all(|&b| b == first) {
            return true;
        }
    }
    let (mut rep, mut seq) = (1, 1);
    for w in s.windows(2) {
        rep = if w[1] == w[0] { rep + 1 } else { 1 };
        seq =
            if w[1] == w[0].wrapping_add(1) && w[0].is_ascii_alphanumeric() { seq + 1 } else { 1 };
        if (rep >= 8 && (rep * 4 >= s.len() || rep >= 16)) || seq >= 8 {
            return true;
        }
    }
    false
}

const DENY_WORDS: &[&str] = &["ID", "URL", "URI", "SHA", "RELEASE", "ENDPOINT", "HOST"];
const DENY_PARTS: &[&str] = &["HASH", "CHECKSUM", "DIGEST", "PUBLIC", "PUBLISHABLE", "ANON"];

/// Why a key name (the text a context rule matched before the value) is never a secret
/// binding (`RAILWAY_PROJECT_ID`, `SENTRY_RELEASE`, `NEXT_PUBLIC_…`), if it is one. Only the
/// value's own line counts: a multi-line (nested-section) match is judged by the child key,
/// not by sibling keys between the section header and the value.
pub fn denied_key(key: &[u8]) -> Option<String> {
    let key = match key.iter().rposition(|&b| b == b'\n') {
        Some(i) => &key[i + 1..],
        None => key,
    };
    let key = String::from_utf8_lossy(key);
    let upper = key.to_ascii_uppercase();
    if let Some(p) = DENY_PARTS.iter().find(|p| upper.contains(*p)) {
        return Some(format!("key name contains {p}"));
    }
    split_words(&key)
        .into_iter()
        .find(|w| DENY_WORDS.contains(&w.as_str()))
        .map(|w| format!("key name has the word {w}"))
}

/// Splits `RAILWAY_PROJECT_ID`, `railwayProjectId` and `railway-project.id` into upper words.
fn split_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for ch in key.chars() {
        if !ch.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if ch.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = ch.is_ascii_lowercase();
        cur.push(ch.to_ascii_uppercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_bounds() {
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn placeholders() {
        for p in [
            "${API_KEY}",
            "$TOKEN",
            "{{ .Values.key }}",
            "<your-token>",
            "[TOKEN]",
            "xxxxxxxx",
            "changeme",
            "sk-your-key-here",
            "base64:REPLACE_WITH_php_artisan_key_generate",
            "process.env.KEY",
            "%API_KEY%",
            "pw_%{alnum:24}",
            "aaaaaaaaaaa",
            "abcdefghij",
            "12345678",
        ] {
            assert!(placeholder_reason(p.as_bytes()).is_some(), "{p}");
        }
        assert!(placeholder_reason(b"Zk3q9PLm2Xc8Vn4R").is_none());
        assert!(placeholder_reason(b"00000000-0000-0000-0000-000000000000").is_some());
        assert!(placeholder_reason(b"AKIA00000000000000000000").is_some());
        // An Upstash v2 token for a small database number: zero bytes, not a placeholder.
        use crate::rules::template::{expand, Rng};
        let v2 = expand("%{upstash-v2:2835}", &mut Rng::new(1)).unwrap();
        assert!(v2.starts_with("gQAAAAAAAA"), "{v2}");
        assert!(placeholder_reason(v2.as_bytes()).is_none());
    }

    #[test]
    fn denied_keys() {
        assert!(denied_key(b"RAILWAY_PROJECT_ID=").is_some());
        assert!(denied_key(b"railwayServiceId: ").is_some());
        assert!(denied_key(b"SENTRY_RELEASE=").is_some());
        assert!(denied_key(b"NEXT_PUBLIC_KEY=").is_some());
        assert!(denied_key(b"RAILWAY_TOKEN=").is_none());
        assert!(denied_key(b"RAILWAY_API_TOKEN: \"").is_none());
        assert!(denied_key(b"railway:\n  projectId: x\n  token: ").is_none());
        assert!(denied_key(b"railway:\n  projectId: ").is_some());
    }
}
