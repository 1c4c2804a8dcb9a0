//! Errors the user must fix, with structure (file, line, rule id). Everything else is an
//! `anyhow` error with context, added in `app`.

use thiserror::Error;

/// A broken rule file or rule.
#[derive(Debug, Error)]
pub enum RuleError {
    /// The TOML does not parse or does not fit the schema.
    #[error("{file}:{line}:{col}: invalid rule file: {message}")]
    Parse { file: String, line: usize, col: usize, message: String },
    /// A rule parsed but is unusable (bad regex, duplicate id…).
    #[error("{file}:{line}: rule {id:?}: {message}")]
    Invalid { file: String, line: usize, id: String, message: String },
    /// The file could not be read.
    #[error("{file}: {message}")]
    Io { file: String, message: String },
}

/// A broken `warden.toml`.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The TOML does not parse or does not fit the schema.
    #[error("{file}:{line}:{col}: invalid config: {message}")]
    Parse { file: String, line: usize, col: usize, message: String },
    /// A value parsed but is unusable (bad glob or regex).
    #[error("{file}:{line}: {key}: {message}")]
    Invalid { file: String, line: usize, key: String, message: String },
    /// A custom rule in the config is broken.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The file could not be read.
    #[error("{file}: {message}")]
    Io { file: String, message: String },
}

/// 1-based line and column of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let col = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
    (line, col)
}

/// A possibly multi-line message (TOML, regex and glob errors) as one line, so every error
/// is a single `file:line: …` line.
pub fn one_line(s: &str) -> String {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" | ")
}

/// 1-based line of the first line in `text` that contains `needle` (0 when absent).
pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).map_or(0, |i| i + 1)
}
