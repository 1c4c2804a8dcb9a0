//! The `[[check]]` and `[checks]` schema of `warden.toml` (serde, unknown keys rejected).
//! The `///` docs on each field are the reference for these tables. Parsing only: turning a
//! spec into something runnable (globs, argv, validation) lives in [`super::plan`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// One `[[check]]` table: a command run against the staged files before a commit.
///
/// ```toml
/// [[check]]
/// name = "lint"
/// run = "npx --no-install eslint --max-warnings=0"
/// glob = ["*.ts", "*.tsx"]
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// A unique name, shown in output and used by `SKIP=name` and `after = [...]`.
    pub name: String,
    /// The command: a string split into words like a shell would (quotes, backslashes) but
    /// run without a shell, or an explicit list of words `["cmd", "arg"]`.
    pub run: RunSpec,
    /// Run `run` with `sh -c` (pipelines, `&&`, variables). The matching paths are then passed
    /// as positional parameters (`"$@"`), never pasted into the script text.
    #[serde(default)]
    pub shell: bool,
    /// Which staged paths trigger this check (globs; a pattern without `/` matches a file name
    /// at any depth; relative to `workdir` when set). Empty: every staged path.
    #[serde(default)]
    pub glob: Patterns,
    /// Staged paths never given to this check (same syntax as `glob`).
    #[serde(default)]
    pub exclude: Patterns,
    /// How matching paths are passed: `"batch"` (default: appended as arguments, split into
    /// several runs under the system's argument-size limit), `"none"` (run once without paths
    /// when any path matches, e.g. `tsc --noEmit`), or `"each"` (one run per path).
    #[serde(default)]
    pub files: FilesMode,
    /// Run inside this directory (relative to the repository root; monorepo packages). Only
    /// staged paths below it are considered, and they are passed relative to it.
    pub workdir: Option<PathBuf>,
    /// Extra environment variables for the command.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Kill a run of the check (its whole process group: SIGTERM, SIGKILL 2 s later) that
    /// lasts longer than this: `"90s"`, `"5m"`, `"1h"`, `"500ms"` or a number of seconds.
    /// Each batch is one run. Default: no limit.
    #[serde(default, deserialize_with = "de_timeout")]
    pub timeout: Option<Duration>,
    /// Names of checks that must finish first. When one of them fails, this check is skipped.
    #[serde(default)]
    pub after: Vec<String>,
    /// Ordering groups: every check of a lower priority finishes before any check of a higher
    /// one starts; checks of equal priority may run in parallel. Default 0.
    #[serde(default)]
    pub priority: i64,
    /// Run even when no staged path matches (and even when nothing is staged), without paths.
    #[serde(default)]
    pub always_run: bool,
}

/// `[checks]`: settings for all checks.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecksSettings {
    /// Run checks at the same time: `true` (default: up to the number of cores), `false`
    /// (one at a time, in order) or a number of simultaneous commands.
    pub parallel: Option<Parallel>,
    /// Stop at the first failure: kill the running checks and start no more (default false).
    pub fail_fast: Option<bool>,
}

/// `run`: a command line or a list of words.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RunSpec {
    /// Split like a shell would.
    Line(String),
    /// Already split.
    Words(Vec<String>),
}

/// One glob or a list of globs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(from = "OneOrMany")]
pub struct Patterns(pub Vec<String>);

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl From<OneOrMany> for Patterns {
    fn from(v: OneOrMany) -> Self {
        match v {
            OneOrMany::One(s) => Patterns(vec![s]),
            OneOrMany::Many(v) => Patterns(v),
        }
    }
}

/// `files`: how matching paths reach the command.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FilesMode {
    /// Appended as arguments, in as many runs as the argument-size limit needs.
    #[default]
    Batch,
    /// Not passed: one run when any path matches.
    None,
    /// One run per path.
    Each,
}

/// `parallel`: on, off, or a number of simultaneous commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Parallel {
    /// `true`: up to the number of cores; `false`: one at a time.
    Switch(bool),
    /// At most this many commands at once.
    Jobs(usize),
}

impl ChecksSettings {
    /// Overrides these settings with those a later config layer sets.
    pub fn merge(&mut self, later: ChecksSettings) {
        self.parallel = later.parallel.or(self.parallel);
        self.fail_fast = later.fail_fast.or(self.fail_fast);
    }

    /// True when the first failure stops the run.
    pub fn fail_fast(&self) -> bool {
        self.fail_fast.unwrap_or(false)
    }

    /// How many commands may run at once (at least 1).
    pub fn jobs(&self) -> usize {
        let cores = || std::thread::available_parallelism().map_or(1, |n| n.get());
        match self.parallel {
            None | Some(Parallel::Switch(true)) => cores(),
            Some(Parallel::Switch(false)) => 1,
            Some(Parallel::Jobs(n)) => n.max(1),
        }
    }
}

fn de_timeout<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(u64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Secs(s) => Ok(Some(Duration::from_secs(s))),
        Raw::Text(t) => parse_duration(&t).map(Some).map_err(serde::de::Error::custom),
    }
}

/// Parses `"500ms"`, `"90s"`, `"5m"`, `"1h"` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 =
        num.parse().map_err(|_| format!("invalid duration {text:?} (try \"90s\", \"5m\")"))?;
    let d = match unit.trim() {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return Err(format!("invalid duration unit in {text:?} (ms, s, m or h)")),
    };
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("7").unwrap(), Duration::from_secs(7));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("3 weeks").is_err());
    }

    #[test]
    fn spec_parses_every_field() {
        let spec: CheckSpec = toml::from_str(
            r#"name = "lint"
run = ["eslint", "--fix"]
shell = false
glob = "*.ts"
exclude = ["vendor/**"]
files = "each"
workdir = "web"
env = { CI = "1" }
timeout = "2m"
after = ["fmt"]
priority = 2
always_run = true
"#,
        )
        .unwrap();
        assert_eq!(spec.files, FilesMode::Each);
        assert_eq!(spec.glob.0, vec!["*.ts"]);
        assert_eq!(spec.timeout, Some(Duration::from_secs(120)));
    }

    #[test]
    fn unknown_field_rejected() {
        let r: Result<CheckSpec, _> = toml::from_str("name = \"a\"\nrun = \"true\"\nbogus = 1\n");
        assert!(r.is_err());
    }

    #[test]
    fn parallel_forms() {
        let s: ChecksSettings = toml::from_str("parallel = false").unwrap();
        assert_eq!(s.jobs(), 1);
        let s: ChecksSettings = toml::from_str("parallel = 3").unwrap();
        assert_eq!(s.jobs(), 3);
    }
}
