//! Reporting: one [`Report`] model, one module per format, each writing to any `Write`.
//! Knows nothing of git, config or exit codes.

mod github;
mod human;
mod json;
pub mod rules;

use std::io::{self, Write};

use serde::Serialize;

use crate::finding::Finding;
use crate::scan::{Explained, ScanStats};

/// The version of the JSON report schema; bump on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// For people: one block per finding, colour on a terminal.
    Human,
    /// One JSON document (versioned).
    Json,
    /// One JSON object per finding per line.
    Jsonl,
    /// GitHub Actions workflow commands (`::error file=…`).
    Github,
}

/// Everything a run has to say.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// What was scanned (`staged`, `directory`, …).
    pub mode: String,
    /// Findings, sorted.
    pub findings: Vec<Finding>,
    /// Counters.
    pub stats: ScanStats,
    /// Non-reported candidates and why (only with `--explain`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub explained: Vec<Explained>,
    /// Wall time of the scan in milliseconds.
    #[serde(skip)]
    pub elapsed_ms: u128,
}

/// Presentation switches.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// ANSI colours.
    pub color: bool,
}

/// Writes `report` in `format`.
pub fn write(report: &Report, format: Format, style: Style, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Human => human::write(report, style, out),
        Format::Json => json::write(report, out),
        Format::Jsonl => json::write_lines(report, out),
        Format::Github => github::write(report, out),
    }
}

/// Removes control characters (ANSI escapes, newlines) from text taken from scanned content.
pub fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

/// The one-line summary of a report (what was scanned, skipped, found).
pub fn summary_line(report: &Report) -> String {
    human::summary(report)
}
