//! The repository's `warden.toml`: schema (serde, unknown keys rejected), loading with
//! file:line errors, and the defaults it merges over. No git, matching or processes.
//!
//! ```toml
//! [scan]
//! max_file_size = 10485760   # bytes; larger blobs are skipped and counted
//! all_lines = false          # staged scans: report only lines the change adds
//! baseline = ".warden-baseline"  # accepted findings (see `warden baseline`)
//!
//! [allow]
//! paths = ["docs/", "*.snap"]          # globs; a bare name matches at any depth
//! regexes = ["^test_"]                 # matched against the secret value
//! fingerprints = ["rule-id:0123abcd0123abcd"]   # from a finding's fingerprint
//!
//! [rules]
//! disable = ["jwt"]                    # builtin rule ids to turn off
//! files = ["security/rules.toml"]      # extra rule files (same schema as rules/*.toml)
//! gitleaks = [".gitleaks.toml"]        # import a gitleaks/betterleaks config
//!
//! [[rule]]                             # custom rules, same schema as rules/*.toml
//!
//! [checks]                             # settings for every [[check]]
//! parallel = true                      # or false, or a number of simultaneous commands
//! fail_fast = false
//!
//! [[check]]                            # run by `warden hook` and `warden check`, never by scan
//! name = "lint"                        # full reference: crate::checks::spec::CheckSpec
//! run = "npx --no-install eslint --max-warnings=0"
//! glob = ["*.ts", "*.tsx"]
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::checks::{CheckSpec, ChecksSettings};
use crate::error::{line_col, line_of, one_line, ConfigError, RuleError};
use crate::rules::Rule;

/// The default size cap for one blob (10 MiB).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;
/// The config file name looked up at the repository root.
pub const FILE_NAME: &str = "warden.toml";

/// The whole `warden.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// A base config (an organisation's shared policy) this one builds on: its values come
    /// first, this file's values override or extend them. Relative to this file.
    #[serde(default)]
    pub extends: Option<PathBuf>,
    /// Scan settings.
    #[serde(default)]
    pub scan: ScanConfig,
    /// Suppressions.
    #[serde(default)]
    pub allow: AllowConfig,
    /// Rule selection.
    #[serde(default)]
    pub rules: RulesConfig,
    /// Custom rules.
    #[serde(default)]
    pub rule: Vec<Rule>,
    /// Settings for all checks (`[checks]`: parallel, fail_fast).
    #[serde(default)]
    pub checks: ChecksSettings,
    /// Pre-commit checks (typecheck, lint, format); run by `warden hook` and `warden check`,
    /// never by `warden scan`.
    #[serde(default)]
    pub check: Vec<CheckSpec>,
    /// Where this config came from (not a TOML key).
    #[serde(skip)]
    pub source: Option<PathBuf>,
    /// The raw text (for line numbers in later errors).
    #[serde(skip)]
    pub text: String,
}

/// `[scan]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanConfig {
    /// Blobs larger than this many bytes are skipped and counted.
    pub max_file_size: Option<u64>,
    /// Report secrets on every line of a staged file, not only the added lines.
    pub all_lines: Option<bool>,
    /// A baseline file (relative to this config file) whose fingerprints are not reported;
    /// honoured by `hook`, `scan` and `ci` (see `warden baseline`).
    pub baseline: Option<PathBuf>,
}

/// `[allow]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowConfig {
    /// Path globs never scanned.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes that, matching a secret value, allow it.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// Allowed fingerprints (`rule:hash` or `rule:hash:path`).
    #[serde(default)]
    pub fingerprints: Vec<String>,
    /// Path regexes never scanned (as gitleaks allowlist paths are written).
    #[serde(default)]
    pub path_regexes: Vec<String>,
}

/// `[rules]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    /// Builtin rule ids to turn off.
    #[serde(default)]
    pub disable: Vec<String>,
    /// Extra rule files, relative to the config file.
    #[serde(default)]
    pub files: Vec<PathBuf>,
    /// gitleaks / betterleaks config files whose rules and allowlists are imported
    /// (added to the builtin rules, never replacing them).
    #[serde(default)]
    pub gitleaks: Vec<PathBuf>,
}

impl Config {
    /// Parses config text; errors carry file:line:col. Custom rules are validated here, so a
    /// bad regex is reported against the file and line that holds it.
    pub fn parse(file: &str, text: &str) -> Result<Self, ConfigError> {
        let mut cfg: Config = toml::from_str(text).map_err(|e| {
            let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
            ConfigError::Parse { file: file.into(), line, col, message: one_line(e.message()) }
        })?;
        for rule in &cfg.rule {
            crate::rules::validate_rule(rule).map_err(|message| RuleError::Invalid {
                file: file.into(),
                line: crate::rules::find_id_line(text, &rule.id),
                id: rule.id.clone(),
                message,
            })?;
        }
        cfg.text = text.to_string();
        Ok(cfg)
    }

    /// Loads `path`; a missing file is an error.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
            file: path.display().to_string(),
            message: e.to_string(),
        })?;
        let mut cfg = Self::parse(&path.display().to_string(), &text)?;
        cfg.source = Some(path.to_path_buf());
        cfg.resolve_paths();
        Ok(cfg)
    }

    /// Loads `<root>/warden.toml` when it exists, else the defaults.
    pub fn discover(root: &Path) -> Result<Self, ConfigError> {
        let path = root.join(FILE_NAME);
        if path.is_file() {
            Self::load(&path)
        } else {
            Ok(Config::default())
        }
    }

    /// Makes the file paths this config names absolute, relative to the config's directory,
    /// so they survive merging with configs that live elsewhere.
    fn resolve_paths(&mut self) {
        let Some(dir) = self.source.as_ref().and_then(|p| p.parent()).map(Path::to_path_buf) else {
            return;
        };
        let abs = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        };
        self.rules.files.iter_mut().for_each(abs);
        self.rules.gitleaks.iter_mut().for_each(abs);
        self.extends.iter_mut().for_each(abs);
    }

    /// Merges a later layer into this one: scalars are overridden, lists extended, custom
    /// rules replaced by id. Nothing of the earlier layer is dropped silently.
    pub fn merge(&mut self, later: Config) {
        self.scan.max_file_size = later.scan.max_file_size.or(self.scan.max_file_size);
        self.scan.all_lines = later.scan.all_lines.or(self.scan.all_lines);
        let dir = later.source.as_ref().and_then(|p| p.parent()).map(Path::to_path_buf);
        let baseline = later.scan.baseline.map(|b| dir.map_or(b.clone(), |d| d.join(&b)));
        self.scan.baseline = baseline.or(self.scan.baseline.take());
        self.allow.paths.extend(later.allow.paths);
        self.allow.regexes.extend(later.allow.regexes);
        self.allow.fingerprints.extend(later.allow.fingerprints);
        self.allow.path_regexes.extend(later.allow.path_regexes);
        self.rules.disable.extend(later.rules.disable);
        self.rules.files.extend(later.rules.files);
        self.rules.gitleaks.extend(later.rules.gitleaks);
        for rule in later.rule {
            self.rule.retain(|r| r.id != rule.id);
            self.rule.push(rule);
        }
        self.checks.merge(later.checks);
        self.check.extend(later.check);
        self.source = later.source.or(self.source.take());
        self.text = later.text;
    }

    /// The file name for error messages.
    pub fn file_name(&self) -> String {
        self.source.as_ref().map_or_else(|| FILE_NAME.to_string(), |p| p.display().to_string())
    }

    /// The line where `needle` first appears in the config text (0 when unknown).
    pub fn line_of(&self, needle: &str) -> usize {
        line_of(&self.text, needle)
    }

    /// The checks, validated (errors name file:line).
    pub fn compiled_checks(&self) -> Result<Vec<crate::checks::Check>, ConfigError> {
        let file = self.file_name();
        let src = crate::checks::plan::Source { file: &file, text: &self.text };
        crate::checks::plan::compile(&self.check, &src)
    }

    /// The effective blob size cap.
    pub fn max_file_size(&self) -> u64 {
        self.scan.max_file_size.unwrap_or(DEFAULT_MAX_FILE_SIZE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_names_line() {
        let err =
            Config::parse("warden.toml", "[scan]\nmax_file_size = 3\nbogus = 1\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("warden.toml:3:"), "{msg}");
    }

    #[test]
    fn check_errors_name_line() {
        let text = "[[check]]\nname = \"lint\"\nrun = \"x\"\nfiles = \"some\"\n";
        let msg = Config::parse("warden.toml", text).unwrap_err().to_string();
        assert!(msg.starts_with("warden.toml:4:"), "{msg}");
        let text = "[[check]]\nname = \"a\"\nrun = \"x\"\n[[check]]\nname = \"b\"\nrun = \"x\"\nafter = [\"c\"]\n";
        let cfg = Config::parse("warden.toml", text).unwrap();
        let msg = cfg.compiled_checks().unwrap_err().to_string();
        assert!(msg.starts_with("warden.toml:5:"), "{msg}");
    }

    #[test]
    fn empty_is_default() {
        let c = Config::parse("w", "").unwrap();
        assert_eq!(c.max_file_size(), DEFAULT_MAX_FILE_SIZE);
    }
}
