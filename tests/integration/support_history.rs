//! Test repositories for the history, range and CI tests: a git repository in a temp dir,
//! built with the git binary in an isolated environment (no system or user config, fixed
//! author and dates), and the warden binary run inside it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;
use warden::rules::template::{expand, Rng};

/// A fake OpenRouter key, generated at run time (never a literal in the source).
pub fn fake_key(seed: u64) -> String {
    expand("sk-or-v1-%{hex:64}", &mut Rng::new(seed)).expect("template")
}

/// A line assigning a fake key, as a config file would hold it.
pub fn secret_line(seed: u64) -> String {
    format!("OPENROUTER_API_KEY={}\n", fake_key(seed))
}

/// The warden binary under test (`WARDEN_TEST_PROGRAM` overrides it, e.g. a release build).
pub fn warden_bin() -> PathBuf {
    std::env::var_os("WARDEN_TEST_PROGRAM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_warden")))
}

/// A scratch area holding one or more repositories, with its own HOME.
pub struct Sandbox {
    root: TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox { root: tempfile::tempdir().expect("tempdir") }
    }

    pub fn path(&self) -> &Path {
        self.root.path()
    }

    fn home(&self) -> PathBuf {
        let home = self.root.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        home
    }

    /// A command with the isolated git environment, run in `dir`.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
        let mut c = Command::new(program);
        c.current_dir(dir)
            .env("HOME", self.home())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Ada Author")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada Author")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com")
            .env("GIT_AUTHOR_DATE", "2024-01-02T03:04:05Z")
            .env("GIT_COMMITTER_DATE", "2024-01-02T03:04:05Z")
            .env("NO_COLOR", "1");
        for k in ["GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "GITHUB_ACTIONS", "GITLAB_CI"] {
            c.env_remove(k);
        }
        for (k, _) in std::env::vars() {
            if k.starts_with("GITHUB_") || k.starts_with("CI_") {
                c.env_remove(k);
            }
        }
        c
    }

    /// Runs git in `dir`; panics on failure; returns trimmed stdout.
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.command("git", dir).args(args).output().expect("running git");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// A new repository (branch `main`) at `name` below the sandbox.
    pub fn repo(&self, name: &str) -> Repo<'_> {
        let dir = self.root.path().join(name);
        std::fs::create_dir_all(&dir).expect("repo dir");
        self.git(&dir, &["init", "-q", "-b", "main"]);
        Repo { sandbox: self, dir }
    }
}

/// One work-tree repository in a sandbox.
pub struct Repo<'s> {
    pub sandbox: &'s Sandbox,
    pub dir: PathBuf,
}

impl Repo<'_> {
    pub fn git(&self, args: &[&str]) -> String {
        self.sandbox.git(&self.dir, args)
    }

    pub fn write(&self, path: &str, text: &str) {
        let p = self.dir.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("dirs");
        std::fs::write(p, text).expect("write");
    }

    /// Stages everything and commits; returns the new commit id.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// `file://` URL of this repository, for clones that really copy (shallow, bare).
    pub fn url(&self) -> String {
        format!("file://{}", self.dir.display())
    }

    /// Runs warden in this repository.
    pub fn warden(&self, args: &[&str]) -> Output {
        warden_in(self.sandbox, &self.dir, args, &[])
    }
}

/// Runs warden in `dir` with extra environment variables.
pub fn warden_in(sb: &Sandbox, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = sb.command(warden_bin(), dir);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("running warden")
}

/// Stdout as JSON.
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The exit code, with the output shown on surprise.
pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// Describes an output for assertion messages.
pub fn show(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
