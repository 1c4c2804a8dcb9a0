//! SARIF 2.1.0 for code scanning: typed serde structs, one rule descriptor per rule that
//! produced a finding (with help text and the rotation link), one result per finding with
//! `partialFingerprints` and a region (line, start and end column). Only redacted previews
//! and fingerprints appear; never a secret value.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::Report;
use crate::finding::Finding;
use crate::rules::Severity;

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    rules: Vec<Descriptor<'a>>,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
struct Markdown {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor<'a> {
    id: &'a str,
    name: String,
    short_description: Message,
    full_description: Message,
    help: Markdown,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<&'a str>,
    properties: DescriptorProps,
}

#[derive(Serialize)]
struct DescriptorProps {
    tags: Vec<&'static str>,
    precision: &'static str,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Message,
    locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, &'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    properties: BTreeMap<&'static str, &'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
    end_column: u32,
}

/// Writes `report` as one SARIF log with one run.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let rules = rule_order(&report.findings);
    let descriptors = rules.iter().map(|f| descriptor(f)).collect();
    let results = report.findings.iter().map(|f| result(f, &rules)).collect();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "warden",
                    version: env!("CARGO_PKG_VERSION"),
                    rules: descriptors,
                },
            },
            results,
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

/// One finding per distinct rule, sorted by rule id: the descriptor table.
fn rule_order(findings: &[Finding]) -> Vec<&Finding> {
    let mut by_rule: BTreeMap<&str, &Finding> = BTreeMap::new();
    for f in findings {
        by_rule.entry(&f.rule).or_insert(f);
    }
    by_rule.into_values().collect()
}

fn descriptor(f: &Finding) -> Descriptor<'_> {
    let help = format!(
        "{} was found. Rotate or revoke it first ({}), then remove it from the code and, if it \
         was pushed, from history (`warden scan --history --format filter-repo -o FILE`).",
        f.description, f.rotate
    );
    let markdown = format!(
        "**{}** was found.\n\n1. Rotate or revoke it: <{}>\n2. Remove it from the code.\n3. If it \
         was pushed, rewrite history: `warden scan --history --format filter-repo -o FILE` \
         prints the steps.",
        f.description, f.rotate
    );
    Descriptor {
        id: &f.rule,
        name: pascal(&f.rule),
        short_description: Message { text: format!("{} ({})", f.description, f.provider) },
        full_description: Message { text: f.description.clone() },
        help: Markdown { text: help, markdown },
        help_uri: link(&f.rotate),
        properties: DescriptorProps {
            tags: vec!["security", "secret"],
            precision: "high",
            security_severity: security_severity(f.severity),
        },
    }
}

fn result<'a>(f: &'a Finding, rules: &[&Finding]) -> SarifResult<'a> {
    let rule_index = rules.iter().position(|r| r.rule == f.rule).unwrap_or(0);
    let mut properties = BTreeMap::new();
    if let Some(c) = &f.commit {
        properties.insert("commit", c.as_str());
    }
    SarifResult {
        rule_id: &f.rule,
        rule_index,
        level: level(f.severity),
        message: Message {
            text: format!(
                "{} ({}): {} — rotate: {}",
                f.description, f.provider, f.redacted, f.rotate
            ),
        },
        locations: vec![Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation { uri: uri(&f.path) },
                region: Region {
                    start_line: f.line,
                    start_column: f.column,
                    end_column: f.end_column.max(f.column + 1),
                },
            },
        }],
        partial_fingerprints: BTreeMap::from([("warden/v1", f.fingerprint.as_str())]),
        properties,
    }
}

/// The first URL in a rule's rotation text.
fn link(rotate: &str) -> Option<&str> {
    let start = rotate.find("https://").or_else(|| rotate.find("http://"))?;
    rotate[start..].split_whitespace().next()
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub code scanning's `security-severity` (a CVSS-like score).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

/// `aws-access-key` → `AwsAccessKey`.
fn pascal(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w[..1].to_ascii_uppercase() + &w[1..])
        .collect()
}

/// A relative URI reference: path segments percent-encoded, `/` kept.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_uris() {
        assert_eq!(pascal("aws-access-key"), "AwsAccessKey");
        assert_eq!(uri("dir/a b#.env"), "dir/a%20b%23.env");
        assert_eq!(link("Keys → x: https://a.example/k then"), Some("https://a.example/k"));
    }
}
