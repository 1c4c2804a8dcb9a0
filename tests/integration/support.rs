//! The git fixture: a repository in a temp dir with an isolated environment (no system or
//! global git config, `HOME` inside the temp dir, fixed identities and dates), helpers to
//! write, stage and commit files, and to run the `warden` binary (`WARDEN_TEST_PROGRAM`
//! overrides it, to run the suite against a release build). Fake credentials come from the
//! seeded template generator, so no format-valid token is ever committed to this repo.

#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use warden::rules::template::{expand, Rng};

/// The seed of every generated fake credential (stable snapshots).
pub const SEED: u64 = 0x5EED_CAFE;

/// Expands a template (`sk-or-v1-%{hex:64}`) with the fixed seed.
pub fn fake(template: &str) -> String {
    fake_seeded(template, SEED)
}

/// Expands a template with an explicit seed (distinct values from one template).
pub fn fake_seeded(template: &str, seed: u64) -> String {
    expand(template, &mut Rng::new(seed)).unwrap_or_else(|e| panic!("template {template}: {e}"))
}

/// One fake credential of a must-have provider: the assignment line to put in a file and
/// the secret value a report must never print in full.
#[derive(Debug, Clone)]
pub struct Secret {
    /// Provider name, as the rules spell it.
    pub provider: &'static str,
    /// The rule expected to report it.
    pub rule: &'static str,
    /// The whole line (`KEY=value`).
    pub line: String,
    /// The secret value alone.
    pub value: String,
}

/// One secret per must-have provider of issue 2, distinct values (one seed each).
pub fn must_have_secrets() -> Vec<Secret> {
    let specs: [(&str, &str, &str, &str); 8] = [
        ("Railway", "railway-token", "RAILWAY_TOKEN=", "%{uuid4}"),
        ("Sentry", "sentry-user-token", "SENTRY_AUTH_TOKEN=", "sntryu_%{hex:64}"),
        (
            "Sentry",
            "sentry-org-token",
            "SENTRY_ORG_AUTH_TOKEN=",
            "sntrys_%{sentry-org-payload}_%{b64:43}",
        ),
        ("Vercel", "vercel-token", "VERCEL_TOKEN=", "vcp_%{b64url:50}%{alnum:6}"),
        ("Upstash", "upstash-redis-rest-token", "UPSTASH_REDIS_REST_TOKEN=", "%{upstash-v1:38828}"),
        (
            "Supabase",
            "supabase-service-role-jwt",
            "SUPABASE_SERVICE_ROLE_KEY=",
            "%{jwt:supabase:service_role}",
        ),
        ("OpenRouter", "openrouter-api-key", "OPENROUTER_API_KEY=", "sk-or-v1-%{hex:64}"),
        ("Generic", "generic-encryption-key", "ENCRYPTION_KEY=", "%{b64bytes:32}"),
    ];
    specs
        .iter()
        .enumerate()
        .map(|(i, (provider, rule, key, template))| {
            let value = fake_seeded(template, SEED + 1 + i as u64);
            Secret { provider, rule, line: format!("{key}{value}"), value }
        })
        .collect()
}

/// What a process did.
#[derive(Debug)]
pub struct Output {
    /// Exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Standard output, lossy UTF-8.
    pub stdout: String,
    /// Standard error, lossy UTF-8.
    pub stderr: String,
}

impl Output {
    /// Both streams, for messages and for checks that do not care which one.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Asserts the exit code, showing both streams on failure.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "unexpected exit code\n{self}");
        self
    }

    /// Parses stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{self}"))
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Replaces the bytes of a file git wrote read-only (an object, a pack), to damage it.
pub fn overwrite_read_only(path: &Path, bytes: &[u8]) {
    let mut perms = fs::metadata(path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    fs::set_permissions(path, perms).unwrap();
    fs::write(path, bytes).unwrap();
}

/// The write end of a pipe whose reader has exited: writes to it fail with EPIPE (as when
/// `git commit 2>&1 | head -1` has stopped reading).
pub fn closed_pipe() -> Stdio {
    let mut reader = Command::new("true").stdin(Stdio::piped()).spawn().expect("spawning `true`");
    let writer = reader.stdin.take().expect("piped stdin");
    reader.wait().expect("waiting for `true`");
    Stdio::from(writer)
}

/// The warden binary under test.
pub fn warden_program() -> OsString {
    std::env::var_os("WARDEN_TEST_PROGRAM")
        .unwrap_or_else(|| OsString::from(env!("CARGO_BIN_EXE_warden")))
}

/// A git repository in a temp dir, with an isolated environment.
pub struct TestRepo {
    tmp: tempfile::TempDir,
    root: PathBuf,
    home: PathBuf,
}

impl TestRepo {
    /// `git init -b main` in a fresh temp dir.
    pub fn new() -> Self {
        let repo = Self::bare_dir();
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    /// A fresh temp dir with the isolated environment but no repository (the root exists).
    pub fn bare_dir() -> Self {
        let tmp = tempfile::Builder::new().prefix("warden-it-").tempdir().expect("temp dir");
        let home = tmp.path().join("home");
        let root = tmp.path().join("repo");
        fs::create_dir_all(&home).unwrap();
        fs::create_dir_all(&root).unwrap();
        TestRepo { tmp, root, home }
    }

    /// The working tree.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The temp dir holding the repo, the fake home and any sibling worktree.
    pub fn tmp(&self) -> &Path {
        self.tmp.path()
    }

    /// `path` inside the working tree.
    pub fn path(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.root.join(rel)
    }

    /// A command with the isolated environment, run in `cwd`.
    pub fn command(&self, program: impl AsRef<OsStr>, cwd: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(cwd).stdin(Stdio::null());
        for (k, _) in std::env::vars_os() {
            let k_str = k.to_string_lossy();
            if k_str.starts_with("GIT_") || k_str.starts_with("WARDEN_") {
                cmd.env_remove(&k);
            }
        }
        cmd.env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.home.join(".gitconfig"))
            .env("GIT_CEILING_DIRECTORIES", self.tmp.path())
            .env("GIT_AUTHOR_NAME", "Test Author")
            .env("GIT_AUTHOR_EMAIL", "author@example.com")
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_NAME", "Test Committer")
            .env("GIT_COMMITTER_EMAIL", "committer@example.com")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("NO_COLOR", "1")
            .env("LC_ALL", "C");
        cmd
    }

    /// Runs a command and captures its output.
    pub fn run(mut cmd: Command) -> Output {
        let out = cmd.output().unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
        Output {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs git in the working tree, whatever its exit code.
    pub fn git_output(&self, args: &[&str]) -> Output {
        self.git_in(&self.root, args)
    }

    /// Runs git in `cwd`, whatever its exit code.
    pub fn git_in(&self, cwd: &Path, args: &[&str]) -> Output {
        let mut cmd = self.command("git", cwd);
        cmd.args(args);
        Self::run(cmd)
    }

    /// Runs git in the working tree and asserts success; returns stdout.
    #[track_caller]
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.git_output(args);
        assert_eq!(out.code, Some(0), "git {args:?} failed\n{out}");
        out.stdout
    }

    /// Runs warden in the working tree.
    pub fn warden(&self, args: &[&str]) -> Output {
        self.warden_in(&self.root, args)
    }

    /// Runs warden in `cwd`.
    pub fn warden_in(&self, cwd: &Path, args: &[&str]) -> Output {
        let mut cmd = self.command(warden_program(), cwd);
        cmd.args(args);
        Self::run(cmd)
    }

    /// Writes a file (creating directories) in the working tree.
    pub fn write(&self, rel: impl AsRef<Path>, content: impl AsRef<[u8]>) -> &Self {
        let p = self.root.join(rel);
        if let Some(dir) = p.parent() {
            fs::create_dir_all(dir).unwrap();
        }
        fs::write(&p, content).unwrap_or_else(|e| panic!("writing {}: {e}", p.display()));
        self
    }

    /// Writes a file whose name is raw bytes (non-UTF-8 names); returns its relative path.
    #[cfg(unix)]
    pub fn write_bytes_name(&self, name: &[u8], content: impl AsRef<[u8]>) -> PathBuf {
        use std::os::unix::ffi::OsStrExt;
        let rel = PathBuf::from(OsStr::from_bytes(name));
        self.write(&rel, content);
        rel
    }

    /// `git add -- paths`.
    #[track_caller]
    pub fn stage(&self, paths: &[&str]) -> &Self {
        let mut args = vec!["add", "--"];
        args.extend_from_slice(paths);
        self.git(&args);
        self
    }

    /// `git add -A`.
    #[track_caller]
    pub fn stage_all(&self) -> &Self {
        self.git(&["add", "-A"]);
        self
    }

    /// Commits what is staged, bypassing hooks (for fixture setup); returns the commit id.
    #[track_caller]
    pub fn commit(&self, message: &str) -> String {
        self.git(&["commit", "-q", "--no-verify", "-m", message]);
        self.head().expect("a commit was just made")
    }

    /// Commits through the hooks (what a user does); returns git's output.
    pub fn try_commit(&self, extra: &[&str]) -> Output {
        let mut args = vec!["commit", "-m", "through the hook"];
        args.extend_from_slice(extra);
        self.git_output(&args)
    }

    /// The commit HEAD points at, or `None` before the first commit.
    pub fn head(&self) -> Option<String> {
        let out = self.git_output(&["rev-parse", "--verify", "-q", "HEAD"]);
        (out.code == Some(0)).then(|| out.stdout.trim().to_string())
    }

    /// Installs warden's hook with `warden install` and asserts it worked.
    #[track_caller]
    pub fn install_hook(&self) -> Output {
        let out = self.warden(&["install"]);
        out.expect_code(0);
        out
    }
}
