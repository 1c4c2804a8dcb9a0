//! The human format: one block per finding (location, rule, redacted value, rotation link),
//! then a summary line of what was scanned and skipped.

use std::io::{self, Write};

use super::{sanitize, Report, Style};
use crate::rules::Severity;
use crate::source::history::Depth;

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

pub fn write(report: &Report, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let p = Paint(style.color);
    for f in &report.findings {
        let sev_color = match f.severity {
            Severity::Critical | Severity::High => "1;31",
            Severity::Medium => "33",
            Severity::Low => "36",
        };
        let commit = f
            .commit
            .as_deref()
            .map(|c| format!(" (commit {})", &c[..c.len().min(12)]))
            .unwrap_or_default();
        writeln!(out, "{}:{}:{}{commit}", p.wrap("1", &sanitize(&f.path)), f.line, f.column)?;
        writeln!(
            out,
            "  {} {} [{}, {} severity, {} confidence]",
            p.wrap(sev_color, "secret"),
            p.wrap("1", &f.rule),
            f.provider,
            f.severity.as_str(),
            f.confidence.as_str()
        )?;
        writeln!(out, "    value:       {}", f.redacted)?;
        if let Some(note) = &f.note {
            writeln!(out, "    note:        {}", sanitize(note))?;
        }
        writeln!(out, "    rotate:      {}", f.rotate)?;
        writeln!(out, "    fingerprint: {}", f.fingerprint)?;
        if let Some(c) = f.commit.as_deref().and_then(|c| report.commit(c)) {
            let who = sanitize(&format!("{} <{}>", c.author, c.email));
            writeln!(out, "    introduced:  {} by {who} on {}", &c.id[..12], c.date)?;
            writeln!(out, "                 {}", sanitize(&c.summary))?;
        }
    }
    for e in &report.explained {
        let keyword = e.keyword.as_deref().map(|k| format!("keyword {k:?}, ")).unwrap_or_default();
        let note = e.note.as_deref().map(|n| format!("; {}", sanitize(n))).unwrap_or_default();
        writeln!(
            out,
            "{}:{}  {}  {}  ({keyword}entropy {:.2}{note})  {}",
            sanitize(&e.path),
            e.line,
            e.rule,
            e.redacted,
            e.entropy,
            e.verdict
        )?;
    }
    for e in &report.stats.errors {
        writeln!(out, "{} {}", p.wrap("31", "error:"), sanitize(e))?;
    }
    writeln!(out, "{}", summary(report))
}

/// `warden: 2 findings · 12 blobs (340 KiB) scanned, 1 binary and 0 large skipped · 4 ms`.
pub fn summary(r: &Report) -> String {
    let s = &r.stats;
    let n = r.findings.len();
    let head = match n {
        0 if s.errors.is_empty() => "no secrets found".to_string(),
        0 => "scan incomplete".to_string(),
        1 => "1 secret found".to_string(),
        _ => format!("{n} secrets found"),
    };
    let mut parts = vec![format!("{} blobs ({}) scanned", s.blobs, human_bytes(s.bytes))];
    if let Some(h) = &r.history {
        parts.push(format!("{} commits", h.commits));
        if h.depth == Depth::Shallow {
            parts.push("history partial (shallow clone)".to_string());
        }
    }
    let skipped: Vec<String> = [
        (s.skipped_binary, "binary"),
        (s.skipped_large, "over the size limit"),
        (s.skipped_excluded, "excluded"),
    ]
    .iter()
    .filter(|(c, _)| *c > 0)
    .map(|(c, why)| format!("{c} {why}"))
    .collect();
    if !skipped.is_empty() {
        parts.push(format!("skipped: {}", skipped.join(", ")));
    }
    if s.suppressed > 0 {
        parts.push(format!("{} allowed by suppressions", s.suppressed));
    }
    if !s.errors.is_empty() {
        parts.push(format!("{} errors", s.errors.len()));
    }
    parts.push(format!("{} ms", r.elapsed_ms));
    format!("warden: {head} · {}", parts.join(" · "))
}

fn human_bytes(b: u64) -> String {
    match b {
        0..=1023 => format!("{b} B"),
        1024..=1_048_575 => format!("{:.1} KiB", b as f64 / 1024.0),
        _ => format!("{:.1} MiB", b as f64 / 1_048_576.0),
    }
}
