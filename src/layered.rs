//! Configuration layers, in order: builtin defaults → an organisation base file
//! (`$WARDEN_BASE_CONFIG`, or the repo config's `extends = "…"`) → the repository's
//! `warden.toml` (or `--config`) → per-directory `warden.toml` files in monorepos, which
//! apply only below their directory. Later layers override scalars and extend lists; no
//! layer drops an earlier layer's values silently. Knows files, not matching.

use std::path::{Path, PathBuf};

use crate::config::{Config, FILE_NAME};
use crate::error::ConfigError;

/// The environment variable naming an organisation-wide base config.
pub const BASE_ENV: &str = "WARDEN_BASE_CONFIG";

/// Where a layer came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// An organisation base file (from the environment or `extends`).
    Base(PathBuf),
    /// The repository's config (or `--config`).
    Repo(PathBuf),
    /// A per-directory config, applying below `dir` (a `/`-terminated repo-relative path).
    Nested {
        /// The directory it governs.
        dir: String,
        /// The file.
        file: PathBuf,
    },
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Base(p) => write!(f, "base {}", p.display()),
            Origin::Repo(p) => write!(f, "repo {}", p.display()),
            Origin::Nested { dir, file } => write!(f, "{} (applies under {dir})", file.display()),
        }
    }
}

/// One loaded layer.
#[derive(Debug)]
pub struct Layer {
    /// Where it came from.
    pub origin: Origin,
    /// What it says.
    pub config: Config,
}

/// All layers, base first.
#[derive(Debug, Default)]
pub struct Layered {
    /// Base and repo layers, in merge order.
    pub global: Vec<Layer>,
    /// Per-directory layers, sorted by directory.
    pub nested: Vec<Layer>,
    /// Fingerprints from the repository's `.wardenignore` sidecar file (for formats such as
    /// JSON that cannot hold an inline marker): one `rule:hash` or `rule:hash:path` a line,
    /// `#` comments.
    pub ignored: Vec<String>,
}

/// The sidecar ignore file at the repository root.
pub const IGNORE_FILE: &str = ".wardenignore";

fn read_ignore_file(root: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(root.join(IGNORE_FILE)).unwrap_or_default();
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

impl Layered {
    /// Loads every layer for a repository rooted at `root`. `explicit` replaces the repo
    /// file; `nested_dirs` are repo-relative directories holding a `warden.toml`.
    pub fn load(
        root: &Path,
        explicit: Option<&Path>,
        nested_dirs: &[String],
    ) -> Result<Self, ConfigError> {
        let mut out = Layered { ignored: read_ignore_file(root), ..Layered::default() };
        if let Some(base) = std::env::var_os(BASE_ENV).filter(|v| !v.is_empty()) {
            let path = PathBuf::from(base);
            out.global.push(Layer { config: Config::load(&path)?, origin: Origin::Base(path) });
        }
        let repo_path = explicit.map(Path::to_path_buf).or_else(|| {
            let p = root.join(FILE_NAME);
            p.is_file().then_some(p)
        });
        if let Some(path) = repo_path {
            let config = Config::load(&path)?;
            if let Some(base) = config.extends.clone() {
                let base_cfg = Config::load(&base)?;
                out.global.push(Layer { config: base_cfg, origin: Origin::Base(base) });
            }
            out.global.push(Layer { config, origin: Origin::Repo(path) });
        }
        for dir in nested_dirs {
            let file = root.join(dir).join(FILE_NAME);
            if file.is_file() {
                let dir = format!("{}/", dir.trim_end_matches('/'));
                out.nested.push(Layer {
                    config: Config::load(&file)?,
                    origin: Origin::Nested { dir, file },
                });
            }
        }
        Ok(out)
    }

    /// The base and repo layers merged into one config.
    pub fn effective(&self) -> Config {
        let mut merged = Config::default();
        for layer in &self.global {
            merged.merge(layer.config.clone());
        }
        merged
    }
}

/// One configured value and where it was set, for `warden config show`.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// Dotted key (`scan.max_file_size`, `rule`, `check`).
    pub key: String,
    /// The value as TOML.
    pub value: String,
    /// `file:line` (or `default`), and the scope for nested layers.
    pub origin: String,
}

impl Layered {
    /// Every value each layer sets, in merge order, with its origin. Later scalar values
    /// override earlier ones; lists accumulate.
    pub fn settings(&self) -> Vec<Setting> {
        let mut out = Vec::new();
        for layer in self.global.iter().chain(&self.nested) {
            let table: toml::Table = toml::from_str(&layer.config.text).unwrap_or_default();
            flatten("", &toml::Value::Table(table), &mut |key, value| {
                let leaf = key.rsplit('.').next().unwrap_or(key);
                let line = crate::error::line_of(&layer.config.text, leaf);
                let file = layer.config.file_name();
                let scope = match &layer.origin {
                    Origin::Nested { dir, .. } => format!(" (under {dir})"),
                    _ => String::new(),
                };
                out.push(Setting {
                    key: key.to_string(),
                    value,
                    origin: format!("{file}:{line}{scope}"),
                });
            });
        }
        out
    }
}

fn flatten(prefix: &str, v: &toml::Value, f: &mut dyn FnMut(&str, String)) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&key, v, f);
            }
        }
        toml::Value::Array(items)
            if items.iter().all(toml::Value::is_table) && !items.is_empty() =>
        {
            for item in items {
                let id = item.get("id").or_else(|| item.get("name")).map(|v| v.to_string());
                f(prefix, id.unwrap_or_else(|| "{…}".into()));
            }
        }
        other => f(prefix, other.to_string()),
    }
}

/// Directories (repo-relative, without the trailing slash) holding a nested `warden.toml`,
/// from a list of repo-relative file paths.
pub fn nested_dirs<'a>(paths: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let suffix = format!("/{FILE_NAME}");
    let mut dirs: Vec<String> =
        paths.into_iter().filter_map(|p| p.strip_suffix(&suffix)).map(str::to_string).collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_then_repo_then_nested() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(
            root.join("org.toml"),
            "[rules]\ndisable = [\"jwt\"]\n[scan]\nmax_file_size = 5\n",
        )
        .unwrap();
        std::fs::write(root.join(FILE_NAME), "extends = \"org.toml\"\n[scan]\nmax_file_size = 9\n")
            .unwrap();
        std::fs::create_dir_all(root.join("pkg/api")).unwrap();
        std::fs::write(root.join("pkg/api").join(FILE_NAME), "[allow]\npaths = [\"fixtures/\"]\n")
            .unwrap();
        let dirs = nested_dirs(["pkg/api/warden.toml", "src/main.rs"]);
        let l = Layered::load(root, None, &dirs).unwrap();
        let eff = l.effective();
        assert_eq!(eff.scan.max_file_size, Some(9));
        assert_eq!(eff.rules.disable, vec!["jwt".to_string()]);
        assert_eq!(l.nested.len(), 1);
        assert!(matches!(&l.nested[0].origin, Origin::Nested { dir, .. } if dir == "pkg/api/"));
    }
}
