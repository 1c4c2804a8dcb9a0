//! Printing rules: the `warden rules list` table (or JSON) and `warden rules explain`.

use std::io::{self, Write};

use crate::rules::template::{expand, Rng};
use crate::rules::{Rule, RuleSet};

/// The rule table, or JSON with `json`.
pub fn list(set: &RuleSet, json: bool, out: &mut dyn Write) -> io::Result<()> {
    if json {
        serde_json::to_writer_pretty(&mut *out, set.rules())?;
        return writeln!(out);
    }
    writeln!(out, "{:<34} {:<14} {:<9} {:<9} keywords", "id", "provider", "severity", "kind")?;
    for r in set.rules() {
        let kind = format!("{:?}", r.kind).to_lowercase();
        writeln!(
            out,
            "{:<34} {:<14} {:<9} {:<9} {}",
            r.id,
            r.provider,
            r.severity.as_str(),
            kind,
            r.keywords.join(" ")
        )?;
    }
    writeln!(out, "{} rules", set.len())
}

/// One rule in full, with a generated (fake) example.
pub fn explain(rule: &Rule, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{} ({})", rule.id, rule.provider)?;
    writeln!(out, "  {}", rule.description)?;
    writeln!(out, "  severity: {}   kind: {:?}", rule.severity.as_str(), rule.kind)?;
    writeln!(out, "  keywords: {}", rule.keywords.join(", "))?;
    writeln!(out, "  regex:    {}", rule.regex)?;
    if let Some(e) = rule.entropy {
        writeln!(out, "  entropy:  at least {e} bits per character")?;
    }
    if let Some(v) = &rule.validator {
        writeln!(out, "  validator: {v}")?;
    }
    writeln!(out, "  rotate:   {}", rule.rotate)?;
    for t in &rule.examples {
        writeln!(out, "  example template: {t}")?;
    }
    if let Some(t) = rule.examples.first() {
        if let Ok(fake) = expand(t, &mut Rng::for_key(&rule.id, 0)) {
            let shown = crate::finding::redact(fake.as_bytes(), &rule.keywords);
            writeln!(out, "  generated example (redacted): {shown}")?;
        }
    }
    for t in &rule.negative_examples {
        writeln!(out, "  not a finding: {t}")?;
    }
    Ok(())
}

/// Rules as a warden rule file (`[[rule]]` tables).
pub fn to_toml(rules: &[Rule]) -> Result<String, toml::ser::Error> {
    #[derive(serde::Serialize)]
    struct File<'a> {
        rule: &'a [Rule],
    }
    toml::to_string(&File { rule: rules })
}
