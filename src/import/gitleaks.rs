//! Converts a gitleaks / betterleaks TOML config (`[[rules]]` with id, regex, secretGroup,
//! keywords, entropy, path and allowlists; a global `[allowlist]` / `[[allowlists]]`;
//! `[extend]`) into warden rules plus global allow entries. Imported rules are added to
//! warden's builtin set: importing never drops the defaults, whatever `useDefault` says.
//! Path-only gitleaks rules (no regex) have no warden equivalent and are skipped with a note.

use serde::Deserialize;

use crate::error::{line_col, line_of, RuleError};
use crate::rules::{validate_rule, Rule, RuleKind, Severity};

/// The parts of a gitleaks config warden understands; unknown keys are ignored on purpose
/// (gitleaks configs carry tags, titles and reporting options warden has no use for).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GitleaksConfig {
    #[serde(default)]
    extend: Option<Extend>,
    #[serde(default)]
    rules: Vec<GlRule>,
    #[serde(default)]
    allowlist: Option<GlAllow>,
    #[serde(default)]
    allowlists: Vec<GlAllow>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Extend {
    #[serde(default)]
    use_default: Option<bool>,
    #[serde(default)]
    disabled_rules: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GlRule {
    id: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    secret_group: Option<usize>,
    #[serde(default)]
    entropy: Option<f64>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    allowlist: Option<GlAllow>,
    #[serde(default)]
    allowlists: Vec<GlAllow>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GlAllow {
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
}

/// The result of an import.
#[derive(Debug, Default)]
pub struct Imported {
    /// Rules to add to the set (validated).
    pub rules: Vec<Rule>,
    /// Global allowlist regexes (matched against secrets).
    pub allow_regexes: Vec<String>,
    /// Global allowlist path regexes (gitleaks paths are regexes, not globs).
    pub allow_path_regexes: Vec<String>,
    /// What could not be carried over, for the user.
    pub notes: Vec<String>,
}

/// Parses and converts a gitleaks config. Errors carry file:line.
pub fn import(file: &str, text: &str) -> Result<Imported, RuleError> {
    let cfg: GitleaksConfig = toml::from_str(text).map_err(|e| {
        let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
        RuleError::Parse { file: file.into(), line, col, message: e.message().trim().to_string() }
    })?;
    let mut out = Imported::default();
    extend_notes(cfg.extend.as_ref(), &mut out.notes);
    for gl in &cfg.rules {
        match convert(gl) {
            Ok(rule) => {
                validate_rule(&rule).map_err(|message| RuleError::Invalid {
                    file: file.into(),
                    line: line_of(text, &format!("\"{}\"", gl.id)),
                    id: rule.id.clone(),
                    message,
                })?;
                out.rules.push(rule);
            }
            Err(note) => out.notes.push(note),
        }
    }
    for a in cfg.allowlist.iter().chain(cfg.allowlists.iter()) {
        out.allow_regexes.extend(a.regexes.iter().cloned());
        out.allow_path_regexes.extend(a.paths.iter().cloned());
        out.allow_regexes.extend(a.stopwords.iter().map(|w| format!("(?i){}", regex::escape(w))));
    }
    Ok(out)
}

fn extend_notes(extend: Option<&Extend>, notes: &mut Vec<String>) {
    if let Some(e) = extend {
        if e.use_default == Some(false) {
            notes.push("useDefault = false: warden keeps its builtin rules anyway".into());
        }
        if !e.disabled_rules.is_empty() {
            notes.push(format!(
                "disabledRules name gitleaks ids ({}); disable warden ids in [rules] disable",
                e.disabled_rules.join(", ")
            ));
        }
    }
}

/// One gitleaks rule as a warden rule, or why it cannot be imported.
fn convert(gl: &GlRule) -> Result<Rule, String> {
    let Some(regex) = &gl.regex else {
        return Err(format!("rule {:?}: path-only rules are not supported; skipped", gl.id));
    };
    let groups = crate::rules::compile(regex)
        .map_err(|e| format!("rule {:?}: regex does not compile in Rust: {e}", gl.id))?
        .captures_len()
        - 1;
    let (regex, secret_group) = match (gl.secret_group.filter(|&g| g > 0), groups) {
        (Some(g), _) => (regex.clone(), g),
        (None, 0) => (format!("({regex})"), 1),
        (None, _) => (regex.clone(), 1),
    };
    let allows: Vec<&GlAllow> = gl.allowlist.iter().chain(gl.allowlists.iter()).collect();
    Ok(Rule {
        id: sanitize_id(&gl.id),
        provider: "custom (gitleaks)".into(),
        description: gl.description.clone().unwrap_or_else(|| format!("gitleaks rule {}", gl.id)),
        kind: RuleKind::Prefixed,
        severity: Severity::High,
        keywords: gl.keywords.iter().map(|k| k.to_ascii_lowercase()).collect(),
        regex,
        secret_group,
        entropy: gl.entropy,
        validator: None,
        confidence: None,
        path: gl.path.clone(),
        example_path: None,
        priority: 0,
        allow_regexes: allows.iter().flat_map(|a| a.regexes.iter().cloned()).collect(),
        stopwords: allows.iter().flat_map(|a| a.stopwords.iter().cloned()).collect(),
        window: None,
        rotate: "see your team's runbook for this credential".into(),
        examples: Vec::new(),
        negative_examples: Vec::new(),
    })
}

fn sanitize_id(id: &str) -> String {
    let s: String = id
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '-' })
        .collect();
    format!("gitleaks.{s}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
title = "team rules"
[extend]
useDefault = true
[[rules]]
id = "acme-key"
description = "Acme key"
regex = '''acme_[a-z0-9]{16}'''
keywords = ["ACME_"]
entropy = 2.5
[rules.allowlist]
stopwords = ["sample"]
[[rules]]
id = "pem-file"
path = '''\.pem$'''
[allowlist]
paths = ['''^vendor/''']
regexes = ['''^test_''']
"#;

    #[test]
    fn converts_rules_and_allowlists() {
        let out = import("gitleaks.toml", CONFIG).unwrap();
        assert_eq!(out.rules.len(), 1);
        let r = &out.rules[0];
        assert_eq!(r.id, "gitleaks.acme-key");
        assert_eq!(r.regex, "(acme_[a-z0-9]{16})");
        assert_eq!(r.keywords, vec!["acme_"]);
        assert_eq!(r.stopwords, vec!["sample"]);
        assert_eq!(out.allow_path_regexes, vec!["^vendor/"]);
        assert_eq!(out.allow_regexes, vec!["^test_"]);
        assert!(out.notes.iter().any(|n| n.contains("path-only")));
    }

    #[test]
    fn bad_regex_is_a_note_not_a_panic() {
        let text = "[[rules]]\nid = \"x\"\nregex = '''(?<=a)b'''\n";
        let out = import("g.toml", text).unwrap();
        assert!(out.rules.is_empty());
        assert!(out.notes[0].contains("does not compile"));
    }

    #[test]
    fn broken_toml_names_the_line() {
        let err = import("g.toml", "[[rules]]\nid = \n").unwrap_err().to_string();
        assert!(err.starts_with("g.toml:2:"), "{err}");
    }
}
