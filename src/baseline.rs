//! Baseline files: the fingerprints (`rule:hash`) of accepted findings, one per line, sorted
//! and unique, with no secret values, line numbers or timestamps, so that two branches that
//! each add a finding merge without conflict. Reading turns them into allowed fingerprints;
//! matching happens in `allow`.

use std::collections::BTreeSet;
use std::path::Path;

use crate::error::ConfigError;
use crate::finding::Finding;

/// The first line of every baseline file.
pub const HEADER: &str = "# warden baseline v1: accepted findings, one fingerprint per line";

/// The baseline text for `findings`.
pub fn render(findings: &[Finding]) -> String {
    let entries: Vec<String> = findings.iter().map(|f| f.fingerprint.clone()).collect();
    render_entries(&entries)
}

/// The baseline text for a list of entries (sorted, unique).
pub fn render_entries(entries: &[String]) -> String {
    let set: BTreeSet<&str> = entries.iter().map(String::as_str).collect();
    let mut out = format!("{HEADER}\n");
    for fp in set {
        out.push_str(fp);
        out.push('\n');
    }
    out
}

/// The fingerprints listed in baseline text (comments and blank lines ignored).
pub fn parse(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Reads a baseline file.
pub fn load(path: &Path) -> Result<Vec<String>, ConfigError> {
    std::fs::read_to_string(path).map(|t| parse(&t)).map_err(|e| ConfigError::Io {
        file: path.display().to_string(),
        message: format!("reading the baseline: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_ignores_comments() {
        let text = format!("{HEADER}\nb:2\n\na:1\n");
        assert_eq!(parse(&text), vec!["b:2".to_string(), "a:1".to_string()]);
    }
}
