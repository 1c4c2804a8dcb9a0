//! The finding model: where a secret is, which rule found it, a redacted preview and a
//! stable fingerprint. Pure data plus serde; the full secret never enters a `Finding`.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::rules::{Confidence, Severity};

/// A reported secret.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    /// Rule id.
    pub rule: String,
    /// Provider name.
    pub provider: String,
    /// What the rule detects.
    pub description: String,
    /// Severity after validation and path demotion.
    pub severity: Severity,
    /// Confidence after validation.
    pub confidence: Confidence,
    /// Path (lossy UTF-8 for non-UTF-8 names).
    pub path: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column in characters.
    pub column: u32,
    /// 1-based end column (characters) on the start line.
    pub end_column: u32,
    /// Commit that introduced it, for history and range scans.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// A short prefix of the secret and `…`: never the whole value.
    pub redacted: String,
    /// `rule:hash` of the secret: stable across lines, commits and rebases.
    pub fingerprint: String,
    /// Where to rotate or revoke it.
    pub rotate: String,
    /// Decoded, non-secret metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Finding {
    /// Sort key: path, line, column, rule.
    pub fn sort_key(&self) -> (&str, u32, u32, &str) {
        (&self.path, self.line, self.column, &self.rule)
    }
}

/// A secret's full value, for the remediation writer only: never serialized, never printed
/// (its `Debug` shows the fingerprint alone).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    /// The finding's fingerprint.
    pub fingerprint: String,
    /// Rule id.
    pub rule: String,
    /// The raw bytes of the secret.
    pub value: Vec<u8>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({})", self.fingerprint)
    }
}

/// Where a commit came from: shown for findings of history and range scans.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CommitInfo {
    /// Full commit id.
    pub id: String,
    /// Author name.
    pub author: String,
    /// Author email.
    pub email: String,
    /// Author date, RFC 3339 in UTC.
    pub date: String,
    /// First line of the message.
    pub summary: String,
}

/// A short, non-reversible hash of a secret (16 hex characters of SHA-256).
pub fn secret_hash(secret: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"warden-fingerprint-v1:");
    h.update(secret);
    h.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The fingerprint of a secret found by a rule: `rule:hash`.
pub fn fingerprint(rule: &str, secret: &[u8]) -> String {
    format!("{rule}:{}", secret_hash(secret))
}

/// A preview that never reveals the secret: the known prefix (if any) plus at most four
/// characters, never more than a quarter of the value, then `…`.
pub fn redact(secret: &[u8], keywords: &[String]) -> String {
    let text = String::from_utf8_lossy(secret);
    let chars: Vec<char> = text.chars().filter(|c| !c.is_control()).collect();
    let lower = text.to_ascii_lowercase();
    let prefix = keywords
        .iter()
        .filter(|k| lower.starts_with(&k.to_ascii_lowercase()) && k.len() < chars.len() / 2)
        .map(|k| k.chars().count())
        .max()
        .unwrap_or(0);
    let body = chars.len() - prefix;
    let shown = prefix + (body / 4).min(4);
    let mut out: String = chars[..shown].iter().collect();
    out.push('…');
    out
}

/// Line, column and end column (1-based, characters) of a byte range.
pub fn location(haystack: &[u8], start: usize, end: usize) -> (u32, u32, u32) {
    let line = memchr::memchr_iter(b'\n', &haystack[..start]).count() + 1;
    let line_start = memchr::memrchr(b'\n', &haystack[..start]).map_or(0, |i| i + 1);
    let line_end = memchr::memchr(b'\n', &haystack[start..]).map_or(haystack.len(), |i| start + i);
    let col = char_count(&haystack[line_start..start]) + 1;
    let end_col = col + char_count(&haystack[start..end.min(line_end)]);
    (line as u32, col as u32, end_col as u32)
}

fn char_count(bytes: &[u8]) -> usize {
    String::from_utf8_lossy(bytes).chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_never_shows_more_than_a_quarter() {
        let kw = vec!["sk-or-v1-".to_string()];
        let r = redact(b"sk-or-v1-0123456789abcdef0123456789abcdef", &kw);
        assert_eq!(r, "sk-or-v1-0123…");
        assert_eq!(redact(b"abcdefgh", &[]), "ab…");
        assert_eq!(redact(b"abc", &[]), "…");
    }

    #[test]
    fn location_counts_chars() {
        let hay = "a\nxé=SECRET\n".as_bytes();
        let start = hay.iter().position(|&b| b == b'S').unwrap();
        assert_eq!(location(hay, start, start + 6), (2, 4, 10));
    }

    #[test]
    fn fingerprint_is_stable_and_hides_the_secret() {
        let f = fingerprint("rule-x", b"value");
        assert_eq!(f, fingerprint("rule-x", b"value"));
        assert!(!f.contains("value"));
    }
}
