//! Drives a scan: for each item (in parallel past a size threshold) skip excluded, huge and
//! binary blobs, match, turn reported matches into findings (path demotion, inline markers,
//! allowlists, added-lines scope), then sort everything deterministically. Errors on one
//! item are recorded and the scan goes on. No printing, no exit codes.

use rayon::prelude::*;
use serde::Serialize;

use crate::allow::Allow;
use crate::content::{self, Content};
use crate::decoding;
use crate::finding::{self, Finding, Secret};
use crate::matcher::{Matcher, RawMatch, Scratch, Status};
use crate::source::odb::Blob;
use crate::source::{BlobReader, Item, LineScope};
use crate::timing::{self, Counter};

/// Items below this count are scanned on the calling thread (no pool start-up).
const PARALLEL_MIN_ITEMS: usize = 16;
/// From this many items the reader is offered the whole list at once (a pack reader
/// resolves shared delta bases once); fewer are read one by one.
const BULK_MIN_ITEMS: usize = 64;

/// Scan settings.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Blobs over this many bytes are skipped and counted.
    pub max_file_size: u64,
    /// Keep every candidate (with why it was not reported) for `--explain`.
    pub explain: bool,
}

/// Counters for the summary line.
#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct ScanStats {
    /// Blobs scanned.
    pub blobs: u64,
    /// Bytes scanned.
    pub bytes: u64,
    /// Blobs skipped as binary.
    pub skipped_binary: u64,
    /// Blobs skipped for size.
    pub skipped_large: u64,
    /// Blobs skipped by a path exclude.
    pub skipped_excluded: u64,
    /// Findings hidden by suppressions (inline, allowlist, fingerprint).
    pub suppressed: u64,
    /// Items that could not be read or scanned (the scan is incomplete).
    pub errors: Vec<String>,
}

impl ScanStats {
    fn merge(&mut self, o: ScanStats) {
        self.blobs += o.blobs;
        self.bytes += o.bytes;
        self.skipped_binary += o.skipped_binary;
        self.skipped_large += o.skipped_large;
        self.skipped_excluded += o.skipped_excluded;
        self.suppressed += o.suppressed;
        self.errors.extend(o.errors);
    }
}

/// A candidate that was not reported, and why (for `--explain`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Explained {
    /// Rule id.
    pub rule: String,
    /// Path.
    pub path: String,
    /// 1-based line.
    pub line: u32,
    /// Redacted value.
    pub redacted: String,
    /// Entropy of the value.
    pub entropy: f64,
    /// The prefilter keyword that led to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
    /// Validator note (decoded metadata), when the validator gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// What decided it.
    pub verdict: String,
}

/// Whether the scan keeps the full secret values of its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Capture {
    /// Findings only (every format but the remediation files).
    #[default]
    Discard,
    /// Also the values, for the remediation writer (`bfg`, `filter-repo`) and nothing else.
    Secrets,
}

/// What a scan produced.
#[derive(Debug, Default)]
pub struct ScanOutput {
    /// Reported findings, sorted by path, line, column, rule.
    pub findings: Vec<Finding>,
    /// Counters.
    pub stats: ScanStats,
    /// Every non-reported candidate (only with `explain`).
    pub explained: Vec<Explained>,
    /// Full secret values, one per fingerprint (only with [`Capture::Secrets`]; values
    /// found in a decoded layer are not captured: they do not appear verbatim in the blob).
    pub secrets: Vec<Secret>,
}

/// Scans `items` read through `reader`.
pub fn run(
    items: &[Item],
    reader: &dyn BlobReader,
    matcher: &Matcher,
    allow: &Allow,
    opts: &ScanOptions,
) -> ScanOutput {
    run_capturing(items, reader, matcher, allow, opts, Capture::Discard)
}

/// [`run`], keeping the secret values when `capture` asks for them.
pub fn run_capturing(
    items: &[Item],
    reader: &dyn BlobReader,
    matcher: &Matcher,
    allow: &Allow,
    opts: &ScanOptions,
    capture: Capture,
) -> ScanOutput {
    let env = Env { reader, matcher, allow, opts, capture };
    let mut out = ScanOutput::default();
    let mut kept = Vec::with_capacity(items.len());
    for item in items {
        let path = item.display_path();
        if allow.path_excluded(&path) {
            out.stats.skipped_excluded += 1;
        } else {
            kept.push((item, path));
        }
    }
    let rest = if kept.len() >= BULK_MIN_ITEMS { bulk(kept, &env, &mut out) } else { kept };
    let per_item = |scratch: &mut Scratch, (item, path): &(&Item, String)| {
        scan_item(item, path, &env, scratch)
    };
    let parts: Vec<ScanOutput> = if rest.len() < PARALLEL_MIN_ITEMS {
        let mut scratch = Scratch::default();
        rest.iter().map(|i| per_item(&mut scratch, i)).collect()
    } else {
        rest.par_iter().map_init(Scratch::default, per_item).collect()
    };
    out.absorb(parts);
    out
}

/// Scans what the reader can load in bulk (see [`BlobReader::read_many`]) of `kept` (items
/// with their display paths); returns those left for one-by-one reads.
fn bulk<'i>(
    kept: Vec<(&'i Item, String)>,
    env: &Env<'_>,
    out: &mut ScanOutput,
) -> Vec<(&'i Item, String)> {
    let items: Vec<&Item> = kept.iter().map(|(item, _)| *item).collect();
    let parts = std::sync::Mutex::new(Vec::new());
    let visit = |i: usize, blob: Blob<'_>| {
        let (item, path) = &kept[i];
        let part = match blob {
            Blob::TooLarge(_) => ScanOutput::skipped_large(),
            Blob::Bytes(bytes) => scan_bytes(item, path, bytes, env, &mut Scratch::default()),
        };
        parts.lock().expect("scan parts").push((i, part));
    };
    // NOTE: the reader counts its own read time (visits scan, and count as matching).
    let rest = env.reader.read_many(&items, env.opts.max_file_size, &visit);
    // NOTE: parts arrive in thread-timing order; item order keeps ties (one path and line
    // in several commits) in the same order as one-by-one reads, run after run.
    let mut parts = parts.into_inner().expect("scan parts");
    parts.sort_unstable_by_key(|(i, _)| *i);
    out.absorb(parts.into_iter().map(|(_, p)| p));
    let mut unserved = vec![false; kept.len()];
    rest.into_iter().for_each(|i| unserved[i] = true);
    kept.into_iter().zip(unserved).filter_map(|(k, u)| u.then_some(k)).collect()
}

impl ScanOutput {
    fn skipped_large() -> ScanOutput {
        let mut out = ScanOutput::default();
        out.stats.skipped_large = 1;
        out
    }

    /// Adds the results of other parts (batches, threads) and restores the deterministic
    /// order: findings by path, line, column and rule; one secret per fingerprint.
    pub fn absorb(&mut self, parts: impl IntoIterator<Item = ScanOutput>) {
        for p in parts {
            self.findings.extend(p.findings);
            self.explained.extend(p.explained);
            self.secrets.extend(p.secrets);
            self.stats.merge(p.stats);
        }
        self.secrets.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
        self.secrets.dedup_by(|a, b| a.fingerprint == b.fingerprint);
        self.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        self.explained.sort_by(|a, b| (&a.path, a.line, &a.rule).cmp(&(&b.path, b.line, &b.rule)));
        self.stats.errors.sort();
    }
}

/// What every item's scan shares.
struct Env<'a> {
    reader: &'a dyn BlobReader,
    matcher: &'a Matcher,
    allow: &'a Allow,
    opts: &'a ScanOptions,
    capture: Capture,
}

/// Reads one item (`path`: its display path, not excluded) and scans it.
fn scan_item(item: &Item, path: &str, env: &Env<'_>, scratch: &mut Scratch) -> ScanOutput {
    let Env { reader, opts, .. } = *env;
    let mut out = ScanOutput::default();
    match timing::count(Counter::Read, || reader.size(item)) {
        Ok(size) if size > opts.max_file_size => {
            out.stats.skipped_large += 1;
            return out;
        }
        Ok(_) => {}
        Err(e) => {
            out.stats.errors.push(format!("{path}: {e}"));
            return out;
        }
    }
    let bytes = match timing::count(Counter::Read, || reader.read(item)) {
        Ok(b) => b,
        Err(e) => {
            out.stats.errors.push(format!("{path}: {e}"));
            return out;
        }
    };
    scan_bytes(item, path, &bytes, env, scratch)
}

/// Scans the loaded content of `item`.
fn scan_bytes(
    item: &Item,
    path: &str,
    bytes: &[u8],
    env: &Env<'_>,
    scratch: &mut Scratch,
) -> ScanOutput {
    let Env { reader, matcher, allow, opts, capture } = *env;
    let mut out = ScanOutput::default();
    let text = match content::prepare(bytes) {
        Content::Binary => {
            out.stats.skipped_binary += 1;
            return out;
        }
        Content::Text(t) => t,
    };
    out.stats.blobs += 1;
    out.stats.bytes += bytes.len() as u64;
    let mut ctx =
        ItemContext { item, path, text: &text, matcher, allow, opts, capture, added: None };
    let primary = Layer { text: &text, origin: None, name: "" };
    ctx.scan_layer(&primary, reader, scratch, &mut out);
    for d in decoding::derive(&text) {
        let layer = Layer { text: &d.text, origin: Some(d.origin), name: d.layer };
        ctx.scan_layer(&layer, reader, scratch, &mut out);
    }
    dedupe(&mut out.findings);
    out
}

/// The value of a finding, for the remediation writer only.
fn secret(layer: &Layer<'_>, m: &RawMatch, f: &Finding) -> Secret {
    Secret {
        fingerprint: f.fingerprint.clone(),
        rule: f.rule.clone(),
        value: layer.text[m.secret.clone()].to_vec(),
    }
}

/// Drops repeated findings of one secret on one line (a decoding layer re-finding it).
fn dedupe(findings: &mut Vec<Finding>) {
    let mut seen = std::collections::HashSet::new();
    findings.retain(|f| seen.insert((f.fingerprint.clone(), f.line)));
}

/// Text being matched: the blob itself, or a decoded derivative anchored at `origin`.
struct Layer<'a> {
    text: &'a [u8],
    origin: Option<usize>,
    name: &'static str,
}

impl Layer<'_> {
    /// The byte range in the blob that a match in this layer is reported at.
    fn anchor(&self, m: &RawMatch) -> (usize, usize) {
        self.origin.map_or((m.secret.start, m.secret.end), |o| (o, o))
    }
}

struct ItemContext<'a> {
    item: &'a Item,
    path: &'a str,
    text: &'a [u8],
    matcher: &'a Matcher,
    allow: &'a Allow,
    opts: &'a ScanOptions,
    capture: Capture,
    /// Added line numbers, loaded on the first reported match of a modified file.
    added: Option<Option<Vec<u32>>>,
}

impl ItemContext<'_> {
    fn scan_layer(
        &mut self,
        layer: &Layer<'_>,
        reader: &dyn BlobReader,
        scratch: &mut Scratch,
        out: &mut ScanOutput,
    ) {
        let mut raw = Vec::new();
        let scanned = timing::count(Counter::Match, || {
            self.matcher.scan(layer.text, Some(self.path), scratch, &mut raw)
        });
        if let Err(e) = scanned {
            out.stats.errors.push(format!("{}: {e}", self.path));
            return;
        }
        if raw.iter().any(|m| m.status == Status::Reported) {
            self.load_added(reader, out);
        }
        for m in &raw {
            match self.decide(layer, m) {
                Ok(f) => {
                    if self.capture == Capture::Secrets && layer.origin.is_none() {
                        out.secrets.push(secret(layer, m, &f));
                    }
                    out.findings.push(f)
                }
                Err(Some(why)) => {
                    if m.status == Status::Reported {
                        out.stats.suppressed += 1;
                    }
                    if self.opts.explain {
                        out.explained.push(self.explain(layer, m, why));
                    }
                }
                Err(None) => {}
            }
        }
    }

    fn load_added(&mut self, reader: &dyn BlobReader, out: &mut ScanOutput) {
        if self.added.is_some() {
            return;
        }
        let lines = match &self.item.scope {
            LineScope::AddedSince(old) => match reader.added_lines(*old, self.item) {
                Ok(lines) => Some(lines),
                Err(e) => {
                    out.stats.errors.push(format!("{}: {e}", self.path));
                    None
                }
            },
            LineScope::AddedSinceAll(olds) => match added_since_all(reader, olds, self.item) {
                Ok(lines) => Some(lines),
                Err(e) => {
                    out.stats.errors.push(format!("{}: {e}", self.path));
                    None
                }
            },
            LineScope::All => None,
        };
        self.added = Some(lines);
    }

    /// A finding, or why not (`None`: outside the added lines, not worth explaining).
    fn decide(&self, layer: &Layer<'_>, m: &RawMatch) -> Result<Finding, Option<String>> {
        match &m.status {
            Status::Reported => {}
            Status::Rejected(why) => return Err(Some(format!("rejected: {why}"))),
            Status::Suppressed(why) => return Err(Some(format!("suppressed: {why}"))),
        }
        let f = self.finding(layer, m);
        let added = self.added.as_ref().and_then(Option::as_deref);
        if added.is_some_and(|lines| lines.binary_search(&f.line).is_err()) {
            return Err(None);
        }
        if self.allow.rule_disabled(&f.rule, self.path) {
            return Err(Some("disabled by a per-directory config".into()));
        }
        if let Some(marker) = crate::allow::inline_marker(self.text, layer.anchor(m).0) {
            return Err(Some(format!("allowed: inline marker {marker}")));
        }
        let secret = &layer.text[m.secret.clone()];
        if let Some(reason) = self.allow.value_allowed(secret, &f.fingerprint, self.path) {
            return Err(Some(format!("allowed: {reason}")));
        }
        Ok(f)
    }

    fn finding(&self, layer: &Layer<'_>, m: &RawMatch) -> Finding {
        let rule = self.matcher.rule(m.rule);
        let secret = &layer.text[m.secret.clone()];
        let (start, end) = layer.anchor(m);
        let (line, column, end_column) = finding::location(self.text, start, end);
        // NOTE: fixtures and docs lower severity and confidence; they never silence a finding.
        let demoted = demoted_path(self.path);
        let severity = if demoted { m.severity.demoted() } else { m.severity };
        let confidence = if demoted { m.confidence.lowered() } else { m.confidence };
        let note = match (layer.origin, &m.note) {
            (None, note) => note.clone(),
            (Some(_), Some(n)) => Some(format!("{n}; found {}-decoded", layer.name)),
            (Some(_), None) => Some(format!("found {}-decoded", layer.name)),
        };
        Finding {
            rule: rule.id.clone(),
            provider: rule.provider.clone(),
            description: rule.description.clone(),
            severity,
            confidence,
            path: self.path.to_string(),
            line,
            column,
            end_column,
            commit: self.item.commit.clone(),
            redacted: finding::redact(secret, &rule.keywords),
            fingerprint: finding::fingerprint(&rule.id, secret),
            rotate: rule.rotate.clone(),
            note,
        }
    }

    fn explain(&self, layer: &Layer<'_>, m: &RawMatch, verdict: String) -> Explained {
        let rule = self.matcher.rule(m.rule);
        let (start, end) = layer.anchor(m);
        let (line, _, _) = finding::location(self.text, start, end);
        let verdict = match layer.origin {
            Some(_) => format!("{verdict} ({}-decoded)", layer.name),
            None => verdict,
        };
        Explained {
            rule: rule.id.clone(),
            path: self.path.to_string(),
            line,
            redacted: finding::redact(&layer.text[m.secret.clone()], &rule.keywords),
            entropy: (m.entropy * 100.0).round() / 100.0,
            keyword: m.keyword.clone(),
            note: m.note.clone(),
            verdict,
        }
    }
}

/// Lines of `item` added relative to every blob of `olds` (sorted): the intersection.
fn added_since_all(
    reader: &dyn BlobReader,
    olds: &[git2::Oid],
    item: &Item,
) -> Result<Vec<u32>, String> {
    let mut acc: Option<Vec<u32>> = None;
    for old in olds {
        let lines = reader.added_lines(*old, item)?;
        acc = Some(match acc {
            None => lines,
            Some(prev) => prev.into_iter().filter(|l| lines.binary_search(l).is_ok()).collect(),
        });
    }
    Ok(acc.unwrap_or_default())
}

/// Documentation, example and test paths: severity drops one level there.
pub fn demoted_path(path: &str) -> bool {
    const DIRS: &[&str] =
        &["test", "tests", "fixtures", "testdata", "examples", "docs", "__tests__", "spec"];
    let lower = path.to_ascii_lowercase();
    let in_dir = lower.split('/').rev().skip(1).any(|seg| DIRS.contains(&seg));
    in_dir || [".example", ".sample", ".md"].iter().any(|s| lower.ends_with(s))
}
