//! Suppressions: inline markers on a finding's line (or `warden:allow-next-line` on the line
//! before), path excludes, allowed regexes (matched against the secret) and allowed
//! fingerprints (`rule:hash`, optionally `rule:hash:path`). Knows nothing of matching or git.

use std::collections::HashSet;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use regex::bytes::Regex;

/// Inline markers that silence a finding on their own line.
pub const INLINE_MARKERS: &[&str] = &[
    "warden:allow",
    "gitleaks:allow",
    "trufflehog:ignore",
    "ggignore",
    "pragma: allowlist secret",
];
/// The marker that silences the next line.
pub const NEXT_LINE_MARKER: &str = "warden:allow-next-line";

/// The compiled suppressions of one configuration.
#[derive(Debug, Default)]
pub struct Allow {
    /// Per-directory suppressions (nested `warden.toml`): (dir with trailing `/`, its allow).
    scopes: Vec<(String, Allow)>,
    /// Rules that apply only below a directory (custom rules of a nested config), and rules
    /// a nested config disabled below its directory: (rule id, dir, owned?).
    scoped_rules: Vec<(String, String, bool)>,
    paths: Option<GlobSet>,
    path_regexes: Vec<Regex>,
    regexes: Vec<Regex>,
    fingerprints: HashSet<String>,
}

/// Why a finding was suppressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowReason {
    /// An inline comment marker.
    Inline(&'static str),
    /// A `[allow] paths` glob.
    Path,
    /// An `[allow] regexes` entry.
    Regex(usize),
    /// An `[allow] fingerprints` entry.
    Fingerprint,
}

impl std::fmt::Display for AllowReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AllowReason::Inline(m) => write!(f, "inline marker {m}"),
            AllowReason::Path => write!(f, "path excluded"),
            // NOTE: the pattern itself is not printed: it may spell out the very secret.
            AllowReason::Regex(i) => write!(f, "[allow] regexes entry #{}", i + 1),
            AllowReason::Fingerprint => write!(f, "allowed fingerprint"),
        }
    }
}

/// Builds an [`Allow`]; errors name the offending entry.
pub fn build(
    paths: &[String],
    regexes: &[String],
    fingerprints: &[String],
) -> Result<Allow, (String, String)> {
    build_with_path_regexes(paths, &[], regexes, fingerprints)
}

/// Builds an [`Allow`] that also excludes paths matching regexes.
pub fn build_with_path_regexes(
    paths: &[String],
    path_regexes: &[String],
    regexes: &[String],
    fingerprints: &[String],
) -> Result<Allow, (String, String)> {
    let path_regexes = path_regexes
        .iter()
        .map(|r| Regex::new(r).map_err(|e| (r.clone(), crate::error::one_line(&e.to_string()))))
        .collect::<Result<_, _>>()?;
    let mut set = GlobSetBuilder::new();
    for p in paths {
        let pattern =
            if p.contains('/') { p.trim_start_matches('/').to_string() } else { format!("**/{p}") };
        let glob = GlobBuilder::new(&pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| (p.clone(), e.to_string()))?;
        set.add(glob);
        if !p.contains('*') {
            let dir = GlobBuilder::new(&format!("{}/**", pattern.trim_end_matches('/')))
                .build()
                .map_err(|e| (p.clone(), e.to_string()))?;
            set.add(dir);
        }
    }
    let regexes = regexes
        .iter()
        .map(|r| Regex::new(r).map_err(|e| (r.clone(), crate::error::one_line(&e.to_string()))))
        .collect::<Result<_, _>>()?;
    Ok(Allow {
        scopes: Vec::new(),
        scoped_rules: Vec::new(),
        path_regexes,
        paths: (!paths.is_empty()).then(|| set.build().expect("globs built one by one")),
        regexes,
        fingerprints: fingerprints.iter().cloned().collect(),
    })
}

impl Allow {
    /// Adds the suppressions of a nested config governing `dir` (paths relative to it).
    pub fn add_scope(&mut self, dir: String, allow: Allow) {
        self.scopes.push((dir, allow));
    }

    /// Restricts `rule` to paths below `dir` (`owned`), or disables it there (`!owned`).
    pub fn scope_rule(&mut self, rule: String, dir: String, owned: bool) {
        self.scoped_rules.push((rule, dir, owned));
    }

    /// True when `rule` must not report at `path` (disabled there, or owned elsewhere).
    pub fn rule_disabled(&self, rule: &str, path: &str) -> bool {
        let mut owners =
            self.scoped_rules.iter().filter(|(r, _, owned)| r == rule && *owned).peekable();
        let owned_elsewhere =
            owners.peek().is_some() && !owners.any(|(_, d, _)| path.starts_with(d.as_str()));
        owned_elsewhere
            || self
                .scoped_rules
                .iter()
                .any(|(r, d, owned)| r == rule && !owned && path.starts_with(d.as_str()))
    }

    fn scopes_for<'a>(&'a self, path: &'a str) -> impl Iterator<Item = (&'a str, &'a Allow)> + 'a {
        self.scopes
            .iter()
            .filter_map(move |(d, a)| path.strip_prefix(d.as_str()).map(|rel| (rel, a)))
    }

    /// True when the path is excluded entirely (checked before reading the blob).
    pub fn path_excluded(&self, path: &str) -> bool {
        self.paths.as_ref().is_some_and(|s| s.is_match(path))
            || self.path_regexes.iter().any(|r| r.is_match(path.as_bytes()))
            || self.scopes_for(path).any(|(rel, a)| a.path_excluded(rel))
    }

    /// Why a secret with this fingerprint at this path is allowed, if it is.
    pub fn value_allowed(
        &self,
        secret: &[u8],
        fingerprint: &str,
        path: &str,
    ) -> Option<AllowReason> {
        if self.fingerprints.contains(fingerprint)
            || self.fingerprints.contains(&format!("{fingerprint}:{path}"))
        {
            return Some(AllowReason::Fingerprint);
        }
        let own = self.regexes.iter().position(|r| r.is_match(secret)).map(AllowReason::Regex);
        own.or_else(|| {
            self.scopes_for(path).find_map(|(rel, a)| a.value_allowed(secret, fingerprint, rel))
        })
    }
}

/// The inline marker that silences a finding at `offset` in `haystack`, if any.
pub fn inline_marker(haystack: &[u8], offset: usize) -> Option<&'static str> {
    let start = memchr::memrchr(b'\n', &haystack[..offset]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &haystack[offset..]).map_or(haystack.len(), |i| offset + i);
    let line = &haystack[start..end];
    if let Some(m) =
        INLINE_MARKERS.iter().find(|m| memchr::memmem::find(line, m.as_bytes()).is_some())
    {
        return Some(m);
    }
    if start == 0 {
        return None;
    }
    let prev_start = memchr::memrchr(b'\n', &haystack[..start - 1]).map_or(0, |i| i + 1);
    let prev = &haystack[prev_start..start - 1];
    memchr::memmem::find(prev, NEXT_LINE_MARKER.as_bytes()).map(|_| NEXT_LINE_MARKER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_markers_same_and_previous_line() {
        let hay = b"a = 1\nkey = S # warden:allow\n// warden:allow-next-line\nkey = T\nkey = U\n";
        let at = |c: u8| hay.iter().position(|&b| b == c).unwrap();
        assert_eq!(inline_marker(hay, at(b'S')), Some("warden:allow"));
        assert_eq!(inline_marker(hay, at(b'T')), Some(NEXT_LINE_MARKER));
        assert_eq!(inline_marker(hay, at(b'U')), None);
    }

    #[test]
    fn path_globs() {
        let a = build(&["docs/".into(), "*.snap".into()], &[], &[]).unwrap();
        assert!(a.path_excluded("docs/a.md"));
        assert!(a.path_excluded("x/y.snap"));
        assert!(!a.path_excluded("src/docs.rs"));
    }
}
