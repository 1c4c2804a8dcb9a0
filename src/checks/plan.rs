//! From `[[check]]` specs to runnable [`Check`]s: validation with file:line errors (unique
//! names, known `after` targets, no cycles, a parsable command, valid globs, a relative
//! `workdir`), and the selection of the staged paths each check receives.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use super::spec::{CheckSpec, FilesMode, RunSpec};
use crate::error::{line_of, ConfigError};
use crate::layered::{Layered, Origin};

/// A validated check, ready to run.
#[derive(Debug, Clone)]
pub struct Check {
    /// The unique name.
    pub name: String,
    /// The words to execute before any paths (for `shell = true`: `sh -c <run> warden`).
    pub argv: Vec<String>,
    /// How paths are passed.
    pub files: FilesMode,
    /// Directory to run in, relative to the repository root.
    pub workdir: Option<PathBuf>,
    /// Extra environment.
    pub env: BTreeMap<String, String>,
    /// Time limit.
    pub timeout: Option<Duration>,
    /// Indexes of the checks that must finish first.
    pub after: Vec<usize>,
    /// Ordering group.
    pub priority: i64,
    /// Run without matching paths.
    pub always_run: bool,
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

/// Where the config text came from, for error messages.
pub struct Source<'a> {
    /// File name.
    pub file: &'a str,
    /// Full text.
    pub text: &'a str,
}

impl Source<'_> {
    fn error(&self, name: &str, key: &str, message: String) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.to_string(),
            line: name_line(self.text, name),
            key: format!("check {name:?}: {key}"),
            message,
        }
    }
}

/// The line of `name = "<name>"` (else of the first `"<name>"`).
fn name_line(text: &str, name: &str) -> usize {
    let quoted = format!("\"{name}\"");
    text.lines()
        .position(|l| l.trim_start().starts_with("name") && l.contains(&quoted))
        .map_or_else(|| line_of(text, &quoted), |i| i + 1)
}

/// Validates every spec; the first problem is returned with its file:line.
pub fn compile(specs: &[CheckSpec], src: &Source) -> Result<Vec<Check>, ConfigError> {
    let mut index = HashMap::new();
    for (i, s) in specs.iter().enumerate() {
        if s.name.trim().is_empty() {
            return Err(src.error("", "name", "must not be empty".into()));
        }
        if index.insert(s.name.as_str(), i).is_some() {
            return Err(src.error(&s.name, "name", "used by two checks".into()));
        }
    }
    let checks =
        specs.iter().map(|s| compile_one(s, &index, src)).collect::<Result<Vec<_>, _>>()?;
    if let Some(name) = find_cycle(&checks) {
        return Err(src.error(&name, "after", "forms a cycle".into()));
    }
    Ok(checks)
}

/// The checks of every config layer, in order: base and repo configs as written; the checks
/// of a per-directory `warden.toml` run inside that directory (their `workdir` is relative
/// to it). `after` names checks of the same file; names are unique across all layers.
pub fn from_layers(layers: &Layered) -> Result<Vec<Check>, ConfigError> {
    let mut all: Vec<Check> = Vec::new();
    for layer in layers.global.iter().chain(&layers.nested) {
        let mut checks = layer.config.compiled_checks()?;
        let offset = all.len();
        for c in &mut checks {
            c.after.iter_mut().for_each(|a| *a += offset);
            if let Origin::Nested { dir, .. } = &layer.origin {
                let dir = PathBuf::from(dir.trim_end_matches('/'));
                c.workdir = Some(c.workdir.take().map_or_else(|| dir.clone(), |w| dir.join(w)));
            }
            if all.iter().any(|o| o.name == c.name) {
                return Err(ConfigError::Invalid {
                    file: layer.config.file_name(),
                    line: name_line(&layer.config.text, &c.name),
                    key: format!("check {:?}: name", c.name),
                    message: "already used by a check of another config file".into(),
                });
            }
        }
        all.extend(checks);
    }
    Ok(all)
}

fn compile_one(
    s: &CheckSpec,
    index: &HashMap<&str, usize>,
    src: &Source,
) -> Result<Check, ConfigError> {
    let err = |key: &str, msg: String| src.error(&s.name, key, msg);
    let argv = command_words(s).map_err(|m| err("run", m))?;
    let after = s
        .after
        .iter()
        .map(|a| index.get(a.as_str()).copied().ok_or(a))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|a| err("after", format!("no check is named {a:?}")))?;
    if let Some(w) = &s.workdir {
        check_workdir(w).map_err(|m| err("workdir", m))?;
    }
    Ok(Check {
        name: s.name.clone(),
        argv,
        files: s.files,
        workdir: s.workdir.clone().filter(|w| w != Path::new(".")),
        env: s.env.clone(),
        timeout: s.timeout,
        after,
        priority: s.priority,
        always_run: s.always_run,
        include: globs(&s.glob.0).map_err(|m| err("glob", m))?,
        exclude: globs(&s.exclude.0).map_err(|m| err("exclude", m))?,
    })
}

fn command_words(s: &CheckSpec) -> Result<Vec<String>, String> {
    let words = match (&s.run, s.shell) {
        (RunSpec::Line(line), true) => {
            vec!["sh".into(), "-c".into(), line.clone(), "warden".into()]
        }
        (RunSpec::Words(_), true) => return Err("shell = true needs run as one string".into()),
        (RunSpec::Line(line), false) => shlex::split(line)
            .ok_or_else(|| format!("cannot split {line:?} into words (unbalanced quote?)"))?,
        (RunSpec::Words(w), false) => w.clone(),
    };
    match words.first() {
        Some(first) if !first.is_empty() => Ok(words),
        _ => Err("the command is empty".into()),
    }
}

fn check_workdir(w: &Path) -> Result<(), String> {
    let bad = w.is_absolute()
        || w.components().any(|c| matches!(c, Component::ParentDir | Component::Prefix(_)));
    if bad {
        return Err(format!(
            "{} must be a directory inside the repository, relative to its root",
            w.display()
        ));
    }
    Ok(())
}

fn globs(patterns: &[String]) -> Result<Option<GlobSet>, String> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut set = GlobSetBuilder::new();
    for p in patterns {
        let full =
            if p.contains('/') { p.trim_start_matches('/').to_string() } else { format!("**/{p}") };
        let glob = GlobBuilder::new(&full)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("{p:?}: {e}"))?;
        set.add(glob);
    }
    set.build().map(Some).map_err(|e| e.to_string())
}

/// The name of a check that depends on itself through `after`, if any.
fn find_cycle(checks: &[Check]) -> Option<String> {
    // 0 = unvisited, 1 = on the current path, 2 = done.
    fn visit(i: usize, checks: &[Check], state: &mut [u8]) -> bool {
        match state[i] {
            1 => return true,
            2 => return false,
            _ => {}
        }
        state[i] = 1;
        let cyclic = checks[i].after.iter().any(|&d| visit(d, checks, state));
        state[i] = 2;
        cyclic
    }
    let mut state = vec![0u8; checks.len()];
    (0..checks.len()).find(|&i| visit(i, checks, &mut state)).map(|i| checks[i].name.clone())
}

impl Check {
    /// The paths (relative to the workdir) this check receives from the repository-relative
    /// `paths`, or `None` when nothing matches and the check is not `always_run`.
    pub fn select(&self, paths: &[PathBuf]) -> Option<Vec<OsString>> {
        let selected: Vec<OsString> = paths
            .iter()
            .filter_map(|p| self.relative(p))
            .filter(|p| self.include.as_ref().is_none_or(|g| g.is_match(p)))
            .filter(|p| !self.exclude.as_ref().is_some_and(|g| g.is_match(p)))
            .map(|p| p.as_os_str().to_os_string())
            .collect();
        if selected.is_empty() && !self.always_run {
            return None;
        }
        Some(selected)
    }

    fn relative<'a>(&self, path: &'a Path) -> Option<&'a Path> {
        match &self.workdir {
            None => Some(path),
            Some(w) => path.strip_prefix(w).ok(),
        }
    }

    /// The directory the check runs in.
    pub fn cwd(&self, root: &Path) -> PathBuf {
        self.workdir.as_ref().map_or(root.to_path_buf(), |w| root.join(w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(text: &str) -> (Vec<CheckSpec>, String) {
        #[derive(serde::Deserialize)]
        struct F {
            check: Vec<CheckSpec>,
        }
        let f: F = toml::from_str(text).unwrap();
        (f.check, text.to_string())
    }

    fn compile_text(text: &str) -> Result<Vec<Check>, ConfigError> {
        let (s, t) = specs(text);
        compile(&s, &Source { file: "w.toml", text: &t })
    }

    #[test]
    fn cycle_and_unknown_after_name_line() {
        let e = compile_text("[[check]]\nname = \"a\"\nrun = \"true\"\nafter = [\"b\"]\n[[check]]\nname = \"b\"\nrun = \"true\"\nafter = [\"a\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("w.toml:2:") && e.contains("cycle"), "{e}");
        let e = compile_text("[[check]]\nname = \"a\"\nrun = \"true\"\nafter = [\"zz\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("zz"), "{e}");
    }

    #[test]
    fn bad_command_and_workdir() {
        let e = compile_text("[[check]]\nname = \"a\"\nrun = \"echo 'oops\"\n").unwrap_err();
        assert!(e.to_string().contains("unbalanced"), "{e}");
        let e = compile_text("[[check]]\nname = \"a\"\nrun = \"\"\n").unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
        let e = compile_text("[[check]]\nname = \"a\"\nrun = \"x\"\nworkdir = \"../up\"\n")
            .unwrap_err();
        assert!(e.to_string().contains("inside the repository"), "{e}");
    }

    #[test]
    fn selection_honours_glob_exclude_and_workdir() {
        let c = compile_text(
            "[[check]]\nname = \"a\"\nrun = \"x\"\nworkdir = \"web\"\nglob = \"*.ts\"\nexclude = \"gen/**\"\n",
        )
        .unwrap()
        .remove(0);
        let paths: Vec<PathBuf> =
            ["web/a.ts", "web/gen/b.ts", "api/c.ts", "web/d.js", "web/s/e f.ts"]
                .iter()
                .map(PathBuf::from)
                .collect();
        let got = c.select(&paths).unwrap();
        assert_eq!(got, vec![OsString::from("a.ts"), OsString::from("s/e f.ts")]);
        assert!(c.select(&[PathBuf::from("api/x.ts")]).is_none());
    }

    #[test]
    fn shell_words_split_and_shell_mode() {
        let c = compile_text("[[check]]\nname = \"a\"\nrun = \"lint --x 'a b'\"\n").unwrap();
        assert_eq!(c[0].argv, vec!["lint", "--x", "a b"]);
        let c = compile_text("[[check]]\nname = \"a\"\nrun = \"a | b\"\nshell = true\n").unwrap();
        assert_eq!(c[0].argv, vec!["sh", "-c", "a | b", "warden"]);
    }
}
