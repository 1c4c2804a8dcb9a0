//! The matcher: bytes in, candidate matches out. One keyword automaton is built once; a
//! rule's regex is compiled the first time one of its keywords hits and runs only in a
//! window around that hit. Each candidate then passes the placeholder, entropy, key-name
//! and validator filters, and overlapping candidates are resolved (public values suppress,
//! provider rules beat generic ones). Knows nothing of paths, git or output.

pub mod filters;
pub mod prefilter;

use std::ops::Range;
use std::sync::OnceLock;

use regex::bytes::Regex;

use crate::rules::{Confidence, Rule, RuleKind, RuleSet, Severity};
use crate::validate::{self, Candidate, Verdict};
use prefilter::{Hit, Prefilter};

/// How far before a keyword a match may start (the key name before a value).
const BACK_WINDOW: usize = 256;
/// How far after a keyword a single-line match may end.
const FORWARD_WINDOW: usize = 4096;

/// What happened to a candidate.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// A finding.
    Reported,
    /// Dropped by a filter or validator, or superseded by a better rule; the reason says which.
    Rejected(String),
    /// A public-by-design or documented value (or overlapping one).
    Suppressed(String),
}

/// One regex match of one rule, after filtering.
#[derive(Debug, Clone)]
pub struct RawMatch {
    /// Index of the rule in the matcher's rule list.
    pub rule: usize,
    /// The whole regex match.
    pub span: Range<usize>,
    /// The secret's bytes within the haystack.
    pub secret: Range<usize>,
    /// Outcome.
    pub status: Status,
    /// Confidence after validation.
    pub confidence: Confidence,
    /// Severity after validation.
    pub severity: Severity,
    /// Decoded metadata from the validator.
    pub note: Option<String>,
    /// Entropy of the secret.
    pub entropy: f64,
    /// The prefilter keyword that led to this match (lowercase), for `--explain`.
    pub keyword: Option<String>,
}

struct CompiledRule {
    rule: Rule,
    /// The rule's own allowlist, compiled with the matcher (custom rules only have one).
    allow: Vec<Regex>,
    regex: OnceLock<Result<Regex, String>>,
    path: OnceLock<Option<Regex>>,
}

/// Builds a [`Matcher`] from a rule set; once built its rules cannot change.
pub struct MatcherBuilder {
    rules: Vec<Rule>,
}

impl MatcherBuilder {
    /// Starts from a rule set.
    pub fn new(set: &RuleSet) -> Self {
        MatcherBuilder { rules: set.rules().to_vec() }
    }
    /// Builds the keyword automaton (regexes stay uncompiled until needed).
    pub fn build(self) -> Matcher {
        let path_rules = self
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.path.is_some() || r.keywords.is_empty())
            .map(|(i, _)| i)
            .collect();
        let prefilter =
            Prefilter::new(self.rules.iter().enumerate().map(|(i, r)| (i, r.keywords.as_slice())));
        let rules = self
            .rules
            .into_iter()
            .map(|rule| CompiledRule {
                allow: rule
                    .allow_regexes
                    .iter()
                    .filter_map(|r| crate::rules::compile(r).ok())
                    .collect(),
                rule,
                regex: OnceLock::new(),
                path: OnceLock::new(),
            })
            .collect();
        Matcher { rules, prefilter, path_rules }
    }
}

/// Scans bytes against a fixed rule set. `Sync`: share one across threads.
pub struct Matcher {
    rules: Vec<CompiledRule>,
    prefilter: Prefilter,
    /// Rules restricted to some paths, or without keywords (these scan whole files).
    path_rules: Vec<usize>,
}

/// Per-thread scratch buffers, reused across blobs.
#[derive(Default)]
pub struct Scratch {
    hits: Vec<Hit>,
}

impl Matcher {
    /// The rule at `index`.
    pub fn rule(&self, index: usize) -> &Rule {
        &self.rules[index].rule
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Compiles every rule's regex now; the first error names the rule.
    pub fn compile_all(&self) -> Result<(), String> {
        (0..self.rules.len()).try_for_each(|i| self.regex(i).map(|_| ()))
    }

    /// Compiles one rule's regex now.
    pub fn compile_all_one(&self, index: usize) -> Result<(), String> {
        self.regex(index).map(|_| ())
    }

    fn regex(&self, index: usize) -> Result<&Regex, String> {
        let cr = &self.rules[index];
        cr.regex
            .get_or_init(|| {
                crate::rules::compile(&cr.rule.regex)
                    .map_err(|e| format!("rule {}: invalid regex: {e}", cr.rule.id))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// True when rule `index` applies to `path` (rules without a path regex apply everywhere).
    fn applies(&self, index: usize, path: Option<&str>) -> bool {
        let cr = &self.rules[index];
        let Some(pattern) = &cr.rule.path else { return true };
        let re = cr.path.get_or_init(|| crate::rules::compile(pattern).ok());
        match (re, path) {
            (Some(re), Some(p)) => re.is_match(p.as_bytes()),
            _ => false,
        }
    }

    /// Scans `haystack` (the content of `path`, when known), appending every candidate
    /// (reported or not) to `out`. Errors name a rule whose regex failed to compile.
    pub fn scan(
        &self,
        haystack: &[u8],
        path: Option<&str>,
        scratch: &mut Scratch,
        out: &mut Vec<RawMatch>,
    ) -> Result<(), String> {
        scratch.hits.clear();
        self.prefilter.scan(haystack, &mut scratch.hits);
        for &rule in &self.path_rules {
            if self.rules[rule].rule.keywords.is_empty() && self.applies(rule, path) {
                scratch.hits.push(Hit { rule, start: 0, end: 0 });
            }
        }
        if !self.path_rules.is_empty() {
            scratch
                .hits
                .retain(|h| self.rules[h.rule].rule.path.is_none() || self.applies(h.rule, path));
        }
        if scratch.hits.is_empty() {
            return Ok(());
        }
        scratch.hits.sort_unstable_by_key(|h| (h.rule, h.start));
        let first = out.len();
        let mut i = 0;
        while i < scratch.hits.len() {
            let rule = scratch.hits[i].rule;
            let j = i + scratch.hits[i..].iter().take_while(|h| h.rule == rule).count();
            self.scan_rule(rule, haystack, &scratch.hits[i..j], out)?;
            i = j;
        }
        resolve(&self.rules, &mut out[first..]);
        Ok(())
    }

    fn scan_rule(
        &self,
        rule: usize,
        hay: &[u8],
        hits: &[Hit],
        out: &mut Vec<RawMatch>,
    ) -> Result<(), String> {
        let re = self.regex(rule)?;
        let whole = self.rules[rule].rule.keywords.is_empty();
        let forward = self.rules[rule].rule.window.unwrap_or(FORWARD_WINDOW);
        let multiline = self.rules[rule].rule.window.is_some();
        let wins = if whole {
            std::iter::once(0..hay.len()).collect()
        } else {
            windows(hay, hits, forward, multiline)
        };
        for win in wins {
            let slice = &hay[..win.end];
            let mut pos = win.start;
            while pos <= slice.len() {
                let Some(caps) = re.captures_at(slice, pos) else {
                    break;
                };
                let m = caps.get(0).expect("group 0");
                pos = if m.end() > m.start() { m.end() } else { m.end() + 1 };
                let group = self.rules[rule].rule.secret_group;
                if let Some(secret) = caps.get(group) {
                    let mut judged = self.judge(rule, hay, m.range(), secret.range());
                    judged.keyword = keyword_in(hay, hits, &judged.span);
                    out.push(judged);
                }
            }
        }
        Ok(())
    }

    /// Runs the filters and validator on one regex match.
    fn judge(
        &self,
        index: usize,
        hay: &[u8],
        span: Range<usize>,
        secret: Range<usize>,
    ) -> RawMatch {
        let rule = &self.rules[index].rule;
        let bytes = &hay[secret.clone()];
        let entropy = filters::entropy(bytes);
        let mut m = RawMatch {
            rule: index,
            span: span.clone(),
            secret: secret.clone(),
            status: Status::Reported,
            confidence: rule.confidence.unwrap_or_else(|| default_confidence(rule.kind)),
            severity: rule.severity,
            note: None,
            entropy,
            keyword: None,
        };
        m.status = match self.filter(rule, hay, &span, &secret, entropy) {
            Some(status) => status,
            None => self.validate(rule, hay, &span, &secret, &mut m),
        };
        m
    }

    /// The rule's own allowlist (custom and imported rules): regexes and stopwords.
    fn rule_allowlist(&self, rule: &Rule, secret: &[u8]) -> Option<String> {
        if rule.allow_regexes.is_empty() && rule.stopwords.is_empty() {
            return None;
        }
        let cr = self.rules.iter().find(|c| std::ptr::eq(&c.rule, rule))?;
        if let Some(i) = cr.allow.iter().position(|re| re.is_match(secret)) {
            return Some(format!("rule allowlist regex #{}", i + 1));
        }
        let lower = String::from_utf8_lossy(secret).to_ascii_lowercase();
        let stop = rule.stopwords.iter().find(|w| lower.contains(&w.to_ascii_lowercase()))?;
        Some(format!("rule stopword {stop:?}"))
    }

    fn filter(
        &self,
        rule: &Rule,
        hay: &[u8],
        span: &Range<usize>,
        secret: &Range<usize>,
        entropy: f64,
    ) -> Option<Status> {
        if rule.kind == RuleKind::Public {
            return Some(Status::Suppressed(format!("public value ({})", rule.id)));
        }
        if let Some(why) = filters::placeholder_reason(&hay[secret.clone()]) {
            return Some(Status::Rejected(format!("placeholder: {why}")));
        }
        if let Some(why) = self.rule_allowlist(rule, &hay[secret.clone()]) {
            return Some(Status::Rejected(why));
        }
        if let Some(min) = rule.entropy {
            if entropy < min {
                return Some(Status::Rejected(format!("entropy {entropy:.2} below {min}")));
            }
        }
        if rule.kind == RuleKind::Context {
            if let Some(why) = filters::denied_key(&hay[span.start..secret.start]) {
                return Some(Status::Rejected(why));
            }
        }
        None
    }

    fn validate(
        &self,
        rule: &Rule,
        hay: &[u8],
        span: &Range<usize>,
        secret: &Range<usize>,
        m: &mut RawMatch,
    ) -> Status {
        let Some(name) = &rule.validator else {
            return Status::Reported;
        };
        let cand = Candidate {
            secret: &hay[secret.clone()],
            full: &hay[span.clone()],
            haystack: hay,
            offset: secret.start,
        };
        match validate::run(name, &cand) {
            Verdict::Accept(a) => {
                m.confidence = a.confidence.unwrap_or(m.confidence);
                m.severity = a.severity.unwrap_or(m.severity);
                m.note = a.note;
                Status::Reported
            }
            Verdict::Reject(why) => Status::Rejected(format!("validator {name}: {why}")),
            Verdict::Suppress(why) => Status::Suppressed(why),
        }
    }
}

/// The keyword hit inside a match (the one that made the prefilter pick the rule).
fn keyword_in(hay: &[u8], hits: &[Hit], span: &Range<usize>) -> Option<String> {
    let h = hits.iter().find(|h| h.end > h.start && h.start >= span.start && h.end <= span.end)?;
    Some(String::from_utf8_lossy(&hay[h.start..h.end]).to_ascii_lowercase())
}

fn default_confidence(kind: RuleKind) -> Confidence {
    match kind {
        RuleKind::Prefixed => Confidence::High,
        RuleKind::Context => Confidence::Medium,
        RuleKind::Generic | RuleKind::Public => Confidence::Low,
    }
}

/// Merged search windows around a rule's keyword hits: from shortly before the hit (not
/// past the line start) to the line end (or `forward` bytes for multi-line rules).
fn windows(hay: &[u8], hits: &[Hit], forward: usize, multiline: bool) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    for h in hits {
        let floor = h.start.saturating_sub(BACK_WINDOW);
        let start = memchr::memrchr(b'\n', &hay[floor..h.start]).map_or(floor, |i| floor + i + 1);
        let cap = (h.end + forward).min(hay.len());
        let end = if multiline {
            cap
        } else {
            memchr::memchr(b'\n', &hay[h.end..cap]).map_or(cap, |i| h.end + i)
        };
        match out.last_mut() {
            Some(last) if start <= last.end => last.end = last.end.max(end),
            _ => out.push(start..end),
        }
    }
    out
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

fn rank(rules: &[CompiledRule], m: &RawMatch) -> (u8, i32, Confidence, usize, usize) {
    let rule = &rules[m.rule].rule;
    let kind = match rule.kind {
        RuleKind::Generic => 1,
        _ => 2,
    };
    (kind, rule.priority, m.confidence, m.secret.len(), m.span.len())
}

/// Public values suppress every overlapping candidate; among overlapping reported
/// candidates the most specific rule wins (provider over generic, then confidence, then
/// the longer secret).
fn resolve(rules: &[CompiledRule], found: &mut [RawMatch]) {
    let suppressors: Vec<(Range<usize>, String)> = found
        .iter()
        .filter(|m| matches!(m.status, Status::Suppressed(_)))
        .map(|m| (m.secret.clone(), rules[m.rule].rule.id.clone()))
        .collect();
    for m in found.iter_mut().filter(|m| m.status == Status::Reported) {
        if let Some((_, id)) = suppressors.iter().find(|(s, _)| overlaps(s, &m.secret)) {
            m.status = Status::Suppressed(format!("overlaps a public value ({id})"));
        }
    }
    let reported: Vec<usize> =
        (0..found.len()).filter(|&i| found[i].status == Status::Reported).collect();
    for &i in &reported {
        let better = reported.iter().find(|&&j| {
            j != i && overlaps(&found[i].secret, &found[j].secret) && {
                let (ri, rj) = (rank(rules, &found[i]), rank(rules, &found[j]));
                rj > ri || (rj == ri && j < i)
            }
        });
        if let Some(&j) = better {
            let id = rules[found[j].rule].rule.id.clone();
            found[i].status = Status::Rejected(format!("superseded by {id}"));
        }
    }
}
