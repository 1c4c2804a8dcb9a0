//! Rules as data: the `Rule` schema (one `[[rule]]` table in a TOML file), loading the
//! builtin set and user files, and structural validation (unique ids, keywords present,
//! examples present). Compiling patterns is the matcher's job; expanding example
//! templates is [`template`]'s; testing a rule against its examples is [`selftest`]'s.

pub mod builtin;
pub mod selftest;
pub mod template;

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{line_col, one_line, RuleError};

/// How bad a leak of this credential is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Test mode, localhost or short-lived.
    Low,
    /// Limited scope, legacy, or an identifier-like secret.
    Medium,
    /// An API key with write or billing scope.
    High,
    /// Full account, admin or RLS-bypassing access.
    Critical,
}

impl Severity {
    /// One level lower (used for documentation and test paths).
    pub fn demoted(self) -> Self {
        match self {
            Severity::Critical => Severity::High,
            Severity::High => Severity::Medium,
            _ => Severity::Low,
        }
    }
    /// Lowercase name, as in the TOML and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// How sure warden is that a finding is a real credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Generic, keyword- and entropy-gated rules.
    Low,
    /// A prefix or a key-name context plus the right shape.
    Medium,
    /// A prefix plus a passing structural validator.
    High,
}

impl Confidence {
    /// One level lower (fixtures and documentation).
    pub fn lowered(self) -> Self {
        match self {
            Confidence::High => Confidence::Medium,
            _ => Confidence::Low,
        }
    }
    /// Lowercase name, as in the TOML and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// What kind of anchor a rule relies on; decides dedupe priority and filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// A distinctive literal prefix (tier A).
    #[default]
    Prefixed,
    /// A key name binds the value (tier B); the key-name deny list applies.
    Context,
    /// A generic rule (`jwt`, `db-url`, `generic-*`): loses to any provider rule on a span.
    Generic,
    /// A public-by-design value (anon key, publishable key, public DSN): its spans are
    /// suppressed for every rule and it never reports.
    Public,
}

/// One detection rule, as written in a `[[rule]]` table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Unique, kebab-case identifier (`sentry-user-token`).
    pub id: String,
    /// Who issues the credential (`Sentry`).
    pub provider: String,
    /// One sentence for humans: what this credential is and what it grants.
    pub description: String,
    /// Anchor kind; `prefixed` when omitted.
    #[serde(default)]
    pub kind: RuleKind,
    /// Severity of a leak.
    #[serde(default = "default_severity")]
    pub severity: Severity,
    /// Literals (matched case-insensitively) of which every match contains at least one.
    pub keywords: Vec<String>,
    /// The pattern (Rust `regex` syntax, bytes mode). Capture group `secret_group` is the secret.
    pub regex: String,
    /// Which capture group holds the secret (default 1).
    #[serde(default = "default_group")]
    pub secret_group: usize,
    /// Minimum Shannon entropy (bits per character) of the secret.
    #[serde(default)]
    pub entropy: Option<f64>,
    /// Named structural validator run after the regex (see `warden rules list`).
    #[serde(default)]
    pub validator: Option<String>,
    /// Confidence of a finding when no validator sets one (default by kind: prefixed high,
    /// context medium, generic low).
    #[serde(default)]
    pub confidence: Option<Confidence>,
    /// Only files whose path matches this regex are scanned by this rule; a path rule
    /// without keywords scans the whole file (`config/master.key`).
    #[serde(default)]
    pub path: Option<String>,
    /// Dedupe priority among provider rules on the same span (higher wins; default 0):
    /// a more specific rule of the same provider sets 1.
    #[serde(default)]
    pub priority: i32,
    /// The path its examples are tested under (for rules with `path`).
    #[serde(default)]
    pub example_path: Option<String>,
    /// Regexes that, matching the secret, mean "not a finding" for this rule.
    #[serde(default)]
    pub allow_regexes: Vec<String>,
    /// Words that, found in the secret (case-insensitively), mean "not a finding".
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// How many bytes after a keyword hit the pattern may span (default: to the line end,
    /// at most 4 KiB); set for multi-line secrets such as PEM blocks.
    #[serde(default)]
    pub window: Option<usize>,
    /// Where and how to rotate or revoke the credential.
    pub rotate: String,
    /// Positive example templates (`{hex:64}` and friends), expanded by a seeded generator.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Strings that must not produce a finding from this rule (templates allowed).
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

fn default_severity() -> Severity {
    Severity::High
}
fn default_group() -> usize {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<Rule>,
}

/// A validated, uncompiled set of rules.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

impl RuleSet {
    /// The builtin rules embedded from `rules/*.toml`.
    ///
    /// NOTE: builtin patterns are not compiled here. The unit tests compile every one of
    /// them (`builtin_rules_pass_full_validation`), and the matcher compiles a rule's regex
    /// only when the prefilter names it, so a commit pays only for the rules it touches.
    /// Compiling all of them up front was most of the hook's fixed cost.
    pub fn builtin() -> Result<Self, RuleError> {
        let mut set = RuleSet::default();
        for (name, text) in builtin::FILES {
            set.add(name, text, validate_fields)?;
        }
        Ok(set)
    }

    /// Parses one rule file and appends its rules, validating each.
    pub fn add_toml(&mut self, file: &str, text: &str) -> Result<(), RuleError> {
        self.add(file, text, validate_rule)
    }

    fn add(
        &mut self,
        file: &str,
        text: &str,
        validate: fn(&Rule) -> Result<(), String>,
    ) -> Result<(), RuleError> {
        let parsed: RuleFile = toml::from_str(text).map_err(|e| {
            let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
            RuleError::Parse { file: file.into(), line, col, message: one_line(e.message()) }
        })?;
        for rule in parsed.rule {
            // NOTE: the line is looked up only for an error (a scan per rule added up).
            let invalid = |message| RuleError::Invalid {
                file: file.into(),
                line: find_id_line(text, &rule.id),
                id: rule.id.clone(),
                message,
            };
            validate(&rule).map_err(invalid)?;
            if self.get(&rule.id).is_some() {
                return Err(invalid("duplicate rule id".into()));
            }
            self.rules.push(rule);
        }
        Ok(())
    }

    /// Reads and adds a user rule file.
    pub fn add_file(&mut self, path: &Path) -> Result<(), RuleError> {
        let text = std::fs::read_to_string(path).map_err(|e| RuleError::Io {
            file: path.display().to_string(),
            message: e.to_string(),
        })?;
        self.add_toml(&path.display().to_string(), &text)
    }

    /// Drops the rules whose ids are listed.
    pub fn disable(&mut self, ids: &HashSet<String>) {
        self.rules.retain(|r| !ids.contains(&r.id));
    }

    /// Replaces the rule with the same id, or appends.
    pub fn upsert(&mut self, rule: Rule) {
        match self.rules.iter_mut().find(|r| r.id == rule.id) {
            Some(slot) => *slot = rule,
            None => self.rules.push(rule),
        }
    }

    /// The rule with this id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// All rules, in load order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when the set holds no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// 1-based line of the `id = "…"` (or `id = '…'`) line of rule `id` in `text` (0 when absent).
pub fn find_id_line(text: &str, id: &str) -> usize {
    let is_id_line = |l: &str| {
        let Some(value) = l.trim_start().strip_prefix("id") else { return false };
        let Some(value) = value.trim_start().strip_prefix('=') else { return false };
        let value = value.trim_start();
        ['"', '\''].iter().any(|&q| {
            value.strip_prefix(q).and_then(|v| v.strip_prefix(id)).is_some_and(|v| v.starts_with(q))
        })
    };
    text.lines().position(is_id_line).map_or(0, |i| i + 1)
}

/// Checks one rule's fields (not its examples): id shape, keywords, regex syntax, group.
pub fn validate_rule(rule: &Rule) -> Result<(), String> {
    validate_fields(rule)?;
    let re = compile(&rule.regex).map_err(|e| format!("invalid regex: {e}"))?;
    if let Some(p) = &rule.path {
        compile(p).map_err(|e| format!("invalid path regex: {e}"))?;
    }
    for a in &rule.allow_regexes {
        compile(a).map_err(|e| format!("invalid allow regex {a:?}: {e}"))?;
    }
    if rule.secret_group == 0 || rule.secret_group >= re.captures_len() {
        return Err(format!(
            "secret_group {} does not exist (the regex has {} groups)",
            rule.secret_group,
            re.captures_len() - 1
        ));
    }
    Ok(())
}

/// The checks that need no regex compilation: id shape, keywords, validator name.
fn validate_fields(rule: &Rule) -> Result<(), String> {
    let id_ok = !rule.id.is_empty()
        && rule
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if !id_ok {
        return Err("id must be lowercase letters, digits, '-' or '.'".into());
    }
    // NOTE: a rule without keywords is allowed (imported gitleaks rules often have none) but
    // runs its regex over every file; builtin rules always have keywords or a path.
    if rule.keywords.iter().any(|k| k.trim().is_empty()) {
        return Err("keywords must not be empty strings".into());
    }
    if let Some(v) = &rule.validator {
        if !crate::validate::is_known(v) {
            return Err(format!("unknown validator {v:?}"));
        }
    }
    Ok(())
}

/// Compiles a rule pattern the one way warden does everywhere: bytes mode, ASCII-only
/// classes and word boundaries (so the lazy DFA stays usable on non-ASCII input), and a
/// generous size limit. Errors are one line.
pub fn compile(pattern: &str) -> Result<regex::bytes::Regex, String> {
    regex::bytes::RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(64 << 20)
        .build()
        .map_err(|e| one_line(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_pass_full_validation() {
        let set = RuleSet::builtin().expect("builtin rules load");
        for rule in set.rules() {
            validate_rule(rule).unwrap_or_else(|e| panic!("builtin rule {}: {e}", rule.id));
        }
    }

    #[test]
    fn builtin_ids_unique_and_above_floor() {
        let set = RuleSet::builtin().expect("builtin rules load");
        let ids: HashSet<_> = set.rules().iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), set.len());
        assert!(set.len() >= 60, "only {} builtin rules", set.len());
    }

    #[test]
    fn builtin_rules_are_keyword_or_path_gated() {
        let set = RuleSet::builtin().expect("builtin rules load");
        for r in set.rules() {
            assert!(!r.keywords.is_empty() || r.path.is_some(), "{} scans every file", r.id);
        }
    }

    #[test]
    fn id_line_with_either_quote_style() {
        let text = "# x-y\ndisable = [\"x\"]\n[[rule]]\nid = 'x'\n[[rule]]\n  id=\"x-y\"\n";
        assert_eq!(find_id_line(text, "x"), 4);
        assert_eq!(find_id_line(text, "x-y"), 6);
        assert_eq!(find_id_line(text, "z"), 0);
    }
}
