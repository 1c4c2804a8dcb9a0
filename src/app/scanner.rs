//! The scanner a command builds once from its configuration layers: the policy's matcher,
//! allowlist and scan options, plus the report it makes of a scan. Shared by directory,
//! staged, history and range scans.

use anyhow::Result;

use super::OutputSettings;
use crate::allow::Allow;
use crate::finding::Secret;
use crate::layered::Layered;
use crate::matcher::{Matcher, MatcherBuilder};
use crate::policy::Policy;
use crate::report::{Format, Report};
use crate::scan::{self, Capture, ScanOptions};
use crate::source::{BlobReader, Item};
use crate::timing::Phases;

/// A scanned report plus the secret side channel (filled only for remediation formats).
pub(super) struct Scanned {
    pub(super) report: Report,
    pub(super) secrets: Vec<Secret>,
}

/// Matcher, allowlist and options built once from the config; scans item lists
/// (capturing secret values only for a remediation format).
pub(super) struct Scanner<'o> {
    matcher: Matcher,
    allow: Allow,
    opts: ScanOptions,
    out: &'o OutputSettings,
}

impl<'o> Scanner<'o> {
    pub(super) fn new(
        layers: &Layered,
        out: &'o OutputSettings,
        phases: &mut Phases,
    ) -> Result<Self> {
        let config = layers.effective();
        let policy = Policy::from_layers(layers)?;
        phases.mark("rules-load");
        let matcher = MatcherBuilder::new(&policy.rules).build();
        phases.mark("matcher-build");
        Ok(Scanner {
            matcher,
            allow: policy.allow,
            opts: ScanOptions {
                max_file_size: out.max_file_size.unwrap_or_else(|| config.max_file_size()),
                explain: out.explain,
            },
            out,
        })
    }

    pub(super) fn scan(&self, items: &[Item], reader: &dyn BlobReader) -> scan::ScanOutput {
        let capture = match self.out.format {
            Format::Remediation(_) => Capture::Secrets,
            _ => Capture::Discard,
        };
        scan::run_capturing(items, reader, &self.matcher, &self.allow, &self.opts, capture)
    }

    pub(super) fn report(&self, mode: &str, r: scan::ScanOutput) -> Scanned {
        let report = Report {
            mode: mode.into(),
            findings: r.findings,
            stats: r.stats,
            explained: r.explained,
            ..Report::default()
        };
        Scanned { report, secrets: r.secrets }
    }
}

/// Builds a scanner and scans `items` once.
pub(super) fn scan_once(
    items: &[Item],
    reader: &dyn BlobReader,
    layers: &Layered,
    out: &OutputSettings,
    mode: &str,
    phases: &mut Phases,
) -> Result<Scanned> {
    let scanner = Scanner::new(layers, out, phases)?;
    let result = scanner.scan(items, reader);
    phases.mark("scan");
    phases.counters();
    Ok(scanner.report(mode, result))
}
