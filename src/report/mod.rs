//! Reporting: one [`Report`] model, one module per format, each writing to any `Write`.
//! Knows nothing of git, config or exit codes.

mod github;
mod human;
mod json;
pub mod remediation;
pub mod rules;
mod sarif;

use std::io::{self, Write};

use serde::Serialize;

use crate::finding::{CommitInfo, Finding};
use crate::scan::{Explained, ScanStats};
use crate::source::history::Depth;

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
    /// SARIF 2.1.0.
    Sarif,
    /// A remediation file (BFG or filter-repo replace-text): the only output holding
    /// secrets, written by [`remediation`] alone, never by [`write()`].
    Remediation(remediation::Tool),
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
    /// The commits that introduced the findings (history and range scans).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub commits: Vec<CommitInfo>,
    /// What a history or range scan covered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<HistoryInfo>,
}

/// The coverage of a history or range scan.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HistoryInfo {
    /// Commits walked.
    pub commits: usize,
    /// `complete`, or `shallow` when a shallow clone hides older history.
    pub depth: Depth,
}

impl Report {
    /// The commit record of a finding, when it has one.
    pub fn commit(&self, id: &str) -> Option<&CommitInfo> {
        self.commits.iter().find(|c| c.id == id)
    }
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
        Format::Sarif => sarif::write(report, out),
        Format::Remediation(_) => Err(io::Error::other(
            "remediation files hold secrets and are written by report::remediation only",
        )),
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
