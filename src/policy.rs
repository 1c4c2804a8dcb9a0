//! The effective policy of a configuration: builtin rules, plus rule files, custom `[[rule]]`
//! tables and imported gitleaks configs, minus disabled ids; and the compiled suppressions.
//! Extending never drops the builtin rules: only `[rules] disable` removes one, by id.

use std::collections::HashSet;
use std::path::Path;

use crate::allow::{self, Allow};
use crate::config::Config;
use crate::error::{ConfigError, RuleError};
use crate::import::gitleaks;
use crate::layered::{Layered, Origin};
use crate::rules::RuleSet;

/// Rules and suppressions in force.
#[derive(Debug)]
pub struct Policy {
    /// The rule set (uncompiled).
    pub rules: RuleSet,
    /// Compiled suppressions.
    pub allow: Allow,
    /// What imports could not carry over.
    pub notes: Vec<String>,
}

impl Policy {
    /// Builds the policy a config asks for; errors name the file and line.
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        let mut rules = RuleSet::builtin()?;
        let base = config.source.as_ref().and_then(|p| p.parent()).unwrap_or(Path::new("."));
        for file in &config.rules.files {
            rules.add_file(&base.join(file))?;
        }
        let mut extra = ExtraAllow::default();
        let mut notes = Vec::new();
        for file in &config.rules.gitleaks {
            let imported = import_gitleaks(&base.join(file))?;
            imported.rules.into_iter().for_each(|r| rules.upsert(r));
            extra.regexes.extend(imported.allow_regexes);
            extra.path_regexes.extend(imported.allow_path_regexes);
            notes.extend(imported.notes.into_iter().map(|n| format!("{}: {n}", file.display())));
        }
        add_custom_rules(config, &mut rules)?;
        check_known_ids(config, &config.rules.disable, &rules)?;
        let disabled: HashSet<String> = config.rules.disable.iter().cloned().collect();
        rules.disable(&disabled);
        let allow = allow_list(config, &extra)?;
        Ok(Policy { rules, allow, notes })
    }
}

impl Policy {
    /// The policy of all layers: base and repo merged, then each per-directory config
    /// scoped to its directory (its allow entries, disabled ids and own rules apply only
    /// below it; it cannot redefine an existing rule id).
    pub fn from_layers(layers: &Layered) -> Result<Self, ConfigError> {
        let mut effective = layers.effective();
        effective.allow.fingerprints.extend(layers.ignored.iter().cloned());
        let mut policy = Self::from_config(&effective)?;
        for layer in &layers.nested {
            let Origin::Nested { dir, .. } = &layer.origin else { continue };
            policy.add_nested(dir, &layer.config)?;
        }
        Ok(policy)
    }

    fn add_nested(&mut self, dir: &str, c: &Config) -> Result<(), ConfigError> {
        for rule in &c.rule {
            if self.rules.get(&rule.id).is_some() {
                return Err(ConfigError::Invalid {
                    file: c.file_name(),
                    line: crate::rules::find_id_line(&c.text, &rule.id),
                    key: "rule".into(),
                    message: format!(
                        "a per-directory config cannot redefine rule {:?}; give it a new id",
                        rule.id
                    ),
                });
            }
            self.rules.upsert(rule.clone());
            self.allow.scope_rule(rule.id.clone(), dir.to_string(), true);
        }
        check_known_ids(c, &c.rules.disable, &self.rules)?;
        for id in &c.rules.disable {
            self.allow.scope_rule(id.clone(), dir.to_string(), false);
        }
        if !c.rules.files.is_empty()
            || !c.rules.gitleaks.is_empty()
            || c.scan.max_file_size.is_some()
        {
            self.notes.push(format!(
                "{}: only [allow], [rules] disable and [[rule]] apply per directory",
                c.file_name()
            ));
        }
        let allow = allow_list(c, &ExtraAllow::default())?;
        self.allow.add_scope(dir.to_string(), allow);
        Ok(())
    }
}

/// A typo in `[rules] disable` would silently leave a rule on (or off): it is an error.
fn check_known_ids(config: &Config, ids: &[String], rules: &RuleSet) -> Result<(), ConfigError> {
    match ids.iter().find(|id| rules.get(id).is_none()) {
        None => Ok(()),
        Some(id) => Err(ConfigError::Invalid {
            file: config.file_name(),
            line: config.line_of(&format!("\"{id}\"")),
            key: "rules.disable".into(),
            message: format!("unknown rule id {id:?} (see `warden rules list`)"),
        }),
    }
}

#[derive(Default)]
struct ExtraAllow {
    regexes: Vec<String>,
    path_regexes: Vec<String>,
}

fn import_gitleaks(path: &Path) -> Result<gitleaks::Imported, RuleError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| RuleError::Io { file: path.display().to_string(), message: e.to_string() })?;
    gitleaks::import(&path.display().to_string(), &text)
}

/// Custom `[[rule]]` tables (validated when their file was parsed) replace rules by id.
fn add_custom_rules(config: &Config, rules: &mut RuleSet) -> Result<(), ConfigError> {
    for rule in &config.rule {
        rules.upsert(rule.clone());
    }
    Ok(())
}

fn allow_list(config: &Config, extra: &ExtraAllow) -> Result<Allow, ConfigError> {
    let a = &config.allow;
    let regexes: Vec<String> = a.regexes.iter().chain(&extra.regexes).cloned().collect();
    let path_regexes: Vec<String> =
        a.path_regexes.iter().chain(&extra.path_regexes).cloned().collect();
    allow::build_with_path_regexes(&a.paths, &path_regexes, &regexes, &a.fingerprints).map_err(
        |(entry, message)| ConfigError::Invalid {
            file: config.file_name(),
            line: config.line_of(&entry),
            key: "allow".into(),
            message: format!("{entry:?}: {message}"),
        },
    )
}
