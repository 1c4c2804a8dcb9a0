//! `warden init`: proposes `[[check]]` tables from what the repository holds (package.json
//! scripts, tsconfig, eslint / biome / prettier configs; Cargo.toml; pyproject.toml with
//! ruff or mypy; go.mod), at the root and in packages one or two directories down
//! (monorepos, with `workdir`), prints what it chose and why, and writes `warden.toml`
//! (or appends the checks to one that has none).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::config::{Config, FILE_NAME};

/// One proposed check and why it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// Check name.
    pub name: String,
    /// Command line.
    pub run: String,
    /// Triggering globs.
    pub glob: Vec<String>,
    /// `files` mode (`batch` or `none`).
    pub files: &'static str,
    /// Run through `sh -c`.
    pub shell: bool,
    /// Package directory relative to the root (`None`: the root).
    pub workdir: Option<String>,
    /// What made warden choose it.
    pub why: String,
}

const SKIP_DIRS: &[&str] = &["node_modules", "target", "vendor", "dist", "build", "out"];
const JS_GLOBS: &[&str] = &["*.js", "*.jsx", "*.ts", "*.tsx", "*.mjs", "*.cjs", "*.mts", "*.cts"];
const TS_GLOBS: &[&str] = &["*.ts", "*.tsx", "*.mts", "*.cts", "tsconfig*.json"];

/// Everything `warden init` proposes for the repository at `root`.
pub fn suggest(root: &Path) -> Vec<Suggestion> {
    let mut out = Vec::new();
    for dir in package_dirs(root) {
        let rel = dir.strip_prefix(root).ok().map(|p| p.to_string_lossy().into_owned());
        let rel = rel.filter(|r| !r.is_empty());
        let mut found = Vec::new();
        js(root, &dir, &mut found);
        if rel.is_none() {
            rust(&dir, &mut found);
            go(&dir, &mut found);
        }
        python(&dir, &mut found);
        for mut s in found {
            if let Some(r) = &rel {
                s.name = format!("{}-{}", s.name, r.replace('/', "-"));
                s.workdir = Some(r.clone());
            }
            out.push(s);
        }
    }
    out
}

/// The root, then directories one or two levels down that hold a package manifest.
fn package_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![root.to_path_buf()];
    for d in subdirs(root) {
        if is_package(&d) {
            dirs.push(d.clone());
        }
        dirs.extend(subdirs(&d).into_iter().filter(|d| is_package(d)));
    }
    dirs
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            !n.starts_with('.') && !SKIP_DIRS.contains(&n.as_str())
        })
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

fn is_package(d: &Path) -> bool {
    ["package.json", "pyproject.toml"].iter().any(|m| d.join(m).is_file())
}

fn has_any(dir: &Path, names: &[&str]) -> Option<String> {
    names.iter().find(|n| dir.join(n).exists()).map(|n| n.to_string())
}

fn suggestion(
    name: &str,
    run: String,
    glob: &[&str],
    files: &'static str,
    why: String,
) -> Suggestion {
    Suggestion {
        name: name.into(),
        run,
        glob: glob.iter().map(|g| g.to_string()).collect(),
        files,
        shell: false,
        workdir: None,
        why,
    }
}

/// `npx --no-install` (never downloads during a commit), or the lockfile's package manager.
fn js_exec(root: &Path, dir: &Path) -> (&'static str, &'static str) {
    let lock = |n: &str| dir.join(n).exists() || root.join(n).exists();
    if lock("pnpm-lock.yaml") {
        ("pnpm exec", "pnpm run")
    } else if lock("yarn.lock") {
        ("yarn", "yarn run")
    } else if lock("bun.lockb") || lock("bun.lock") {
        ("bunx", "bun run")
    } else {
        ("npx --no-install", "npm run --silent")
    }
}

fn package_scripts(dir: &Path) -> Option<serde_json::Map<String, serde_json::Value>> {
    let text = fs::read_to_string(dir.join("package.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("scripts")?.as_object().cloned()
}

fn js(root: &Path, dir: &Path, out: &mut Vec<Suggestion>) {
    if !dir.join("package.json").is_file() {
        return;
    }
    let (exec, run) = js_exec(root, dir);
    let scripts = package_scripts(dir).unwrap_or_default();
    if scripts.contains_key("typecheck") {
        let why = "package.json has a \"typecheck\" script".into();
        out.push(suggestion("typecheck", format!("{run} typecheck"), TS_GLOBS, "none", why));
    } else if let Some(ts) = has_any(dir, &["tsconfig.json"]) {
        let why =
            format!("{ts} exists (tsc ignores tsconfig when given files, so no paths are passed)");
        out.push(suggestion("typecheck", format!("{exec} tsc --noEmit"), TS_GLOBS, "none", why));
    }
    js_lint(dir, exec, run, &scripts, out);
    if let Some(cfg) = has_any(
        dir,
        &[
            ".prettierrc",
            ".prettierrc.json",
            ".prettierrc.js",
            ".prettierrc.cjs",
            ".prettierrc.yaml",
            "prettier.config.js",
            "prettier.config.mjs",
        ],
    ) {
        let why = format!("{cfg} exists");
        out.push(suggestion(
            "format",
            format!("{exec} prettier --check --ignore-unknown"),
            &[],
            "batch",
            why,
        ));
    }
}

fn js_lint(
    dir: &Path,
    exec: &str,
    run: &str,
    scripts: &serde_json::Map<String, serde_json::Value>,
    out: &mut Vec<Suggestion>,
) {
    let eslint = [
        "eslint.config.js",
        "eslint.config.mjs",
        "eslint.config.cjs",
        "eslint.config.ts",
        ".eslintrc",
        ".eslintrc.js",
        ".eslintrc.cjs",
        ".eslintrc.json",
        ".eslintrc.yml",
        ".eslintrc.yaml",
    ];
    if let Some(cfg) = has_any(dir, &["biome.json", "biome.jsonc"]) {
        let cmd =
            format!("{exec} biome check --no-errors-on-unmatched --files-ignore-unknown=true");
        out.push(suggestion("lint", cmd, JS_GLOBS, "batch", format!("{cfg} exists")));
    } else if let Some(cfg) = has_any(dir, &eslint) {
        let cmd = format!("{exec} eslint --max-warnings=0 --no-warn-ignored");
        out.push(suggestion("lint", cmd, JS_GLOBS, "batch", format!("{cfg} exists")));
    } else if scripts.contains_key("lint") {
        let why = "package.json has a \"lint\" script".into();
        out.push(suggestion("lint", format!("{run} lint"), JS_GLOBS, "none", why));
    }
}

fn rust(dir: &Path, out: &mut Vec<Suggestion>) {
    if !dir.join("Cargo.toml").is_file() {
        return;
    }
    let globs = &["*.rs", "Cargo.toml", "Cargo.lock"];
    let why = || "Cargo.toml exists".to_string();
    out.push(suggestion(
        "clippy",
        "cargo clippy --all-targets --quiet -- -D warnings".into(),
        globs,
        "none",
        why(),
    ));
    out.push(suggestion("fmt", "cargo fmt --check".into(), &["*.rs"], "none", why()));
}

fn python(dir: &Path, out: &mut Vec<Suggestion>) {
    let Ok(text) = fs::read_to_string(dir.join("pyproject.toml")) else {
        return;
    };
    if text.contains("[tool.ruff") || text.contains("ruff") || dir.join("ruff.toml").exists() {
        let why = || "pyproject.toml configures or depends on ruff".to_string();
        out.push(suggestion(
            "ruff",
            "ruff check --force-exclude".into(),
            &["*.py", "*.pyi"],
            "batch",
            why(),
        ));
        out.push(suggestion(
            "ruff-format",
            "ruff format --check --force-exclude".into(),
            &["*.py", "*.pyi"],
            "batch",
            why(),
        ));
    }
    if text.contains("[tool.mypy") || text.contains("mypy") || dir.join("mypy.ini").exists() {
        let why = "pyproject.toml configures or depends on mypy".into();
        out.push(suggestion("mypy", "mypy".into(), &["*.py", "*.pyi"], "batch", why));
    }
}

fn go(dir: &Path, out: &mut Vec<Suggestion>) {
    if !dir.join("go.mod").is_file() {
        return;
    }
    out.push(suggestion(
        "go-vet",
        "go vet ./...".into(),
        &["*.go", "go.mod"],
        "none",
        "go.mod exists".into(),
    ));
    let mut fmt = suggestion(
        "gofmt",
        "test -z \"$(gofmt -l \"$@\")\" || { gofmt -l \"$@\"; exit 1; }".into(),
        &["*.go"],
        "batch",
        "go.mod exists".into(),
    );
    fmt.shell = true;
    out.push(fmt);
}

/// The suggestions as `[[check]]` tables, each preceded by a comment saying why.
pub fn render(suggestions: &[Suggestion]) -> String {
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut text = String::new();
    for s in suggestions {
        text.push_str(&format!(
            "\n# {}\n[[check]]\nname = {}\nrun = {}\n",
            s.why,
            q(&s.name),
            q(&s.run)
        ));
        if s.shell {
            text.push_str("shell = true\n");
        }
        if !s.glob.is_empty() {
            let globs: Vec<String> = s.glob.iter().map(|g| q(g)).collect();
            text.push_str(&format!("glob = [{}]\n", globs.join(", ")));
        }
        text.push_str(&format!("files = {}\n", q(s.files)));
        if let Some(w) = &s.workdir {
            text.push_str(&format!("workdir = {}\n", q(w)));
        }
    }
    text
}

/// `warden init` for the repository at `root`; `print_only` writes nothing.
pub fn run(root: &Path, print_only: bool, out: &mut dyn Write) -> Result<()> {
    let found = suggest(root);
    if found.is_empty() {
        writeln!(out, "warden init: found nothing to check (no package.json, tsconfig, eslint/biome config, Cargo.toml, pyproject.toml or go.mod); wrote nothing")?;
        return Ok(());
    }
    writeln!(out, "warden init: chose {} checks:", found.len())?;
    for s in &found {
        let place = s.workdir.as_ref().map_or(String::new(), |w| format!(" (in {w})"));
        writeln!(out, "  {}{place}: {}   [{}]", s.name, s.run, s.why)?;
    }
    let tables = render(&found);
    if print_only {
        writeln!(out, "{tables}")?;
        return Ok(());
    }
    write_config(&root.join(FILE_NAME), &tables, out)
}

fn write_config(path: &Path, tables: &str, out: &mut dyn Write) -> Result<()> {
    let name = path.display().to_string();
    let existing = match fs::read_to_string(path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {name}")),
    };
    let text = match &existing {
        Some(old) if !Config::parse(&name, old)?.check.is_empty() => {
            writeln!(
                out,
                "{name} already has [[check]] tables; left it unchanged. Proposed:{tables}"
            )?;
            return Ok(());
        }
        Some(old) => format!("{}\n{tables}", old.trim_end()),
        None => format!(
            "# warden configuration (started by `warden init`; see docs/checks.md)\n{tables}"
        ),
    };
    Config::parse(&name, &text)?.compiled_checks()?;
    fs::write(path, text).with_context(|| format!("writing {name}"))?;
    let verb = if existing.is_some() { "added the checks to" } else { "wrote" };
    writeln!(out, "warden init: {verb} {name}")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_ts_eslint_rust_python_and_monorepo_packages() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        fs::write(r.join("Cargo.toml"), "[package]\nname='x'\n").unwrap();
        fs::create_dir_all(r.join("packages/web")).unwrap();
        fs::write(r.join("packages/web/package.json"), r#"{"scripts":{"lint":"eslint ."}}"#)
            .unwrap();
        fs::write(r.join("packages/web/tsconfig.json"), "{}").unwrap();
        fs::write(r.join("packages/web/eslint.config.js"), "").unwrap();
        fs::create_dir_all(r.join("py")).unwrap();
        fs::write(r.join("py/pyproject.toml"), "[tool.ruff]\n").unwrap();
        let names: Vec<String> = suggest(r).into_iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "clippy",
                "fmt",
                "typecheck-packages-web",
                "lint-packages-web",
                "ruff-py",
                "ruff-format-py"
            ]
        );
        let text = render(&suggest(r));
        let cfg = crate::config::Config::parse("w", &text).unwrap();
        assert_eq!(cfg.check.len(), 6);
        assert!(text.contains("workdir = \"packages/web\""), "{text}");
    }
}
