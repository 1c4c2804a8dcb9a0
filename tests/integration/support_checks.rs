//! A real git repository in a temporary directory for the checks tests: files, staging,
//! running the built `warden`, and byte-exact snapshots of the working tree and index.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// What one path of the working tree holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    File { mode: u32, bytes: Vec<u8> },
    Link(PathBuf),
    Dir,
}

/// Everything the user could lose: the tree (untracked files included), the index and stashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub tree: BTreeMap<PathBuf, Node>,
    pub index: Vec<u8>,
    pub stashes: String,
}

pub struct Repo {
    dir: tempfile::TempDir,
    home: tempfile::TempDir,
}

impl Repo {
    /// `git init` with a user, no system config, HOME in a temporary directory.
    pub fn new() -> Repo {
        let repo = Repo { dir: tempfile::tempdir().unwrap(), home: tempfile::tempdir().unwrap() };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.name", "Test"]);
        repo.git(&["config", "user.email", "test@example.com"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    fn env(&self, cmd: &mut Command) {
        cmd.current_dir(self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.home.path())
            .env_remove("GIT_DIR")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("SKIP")
            .env_remove("WARDEN_SKIP")
            .env_remove("WARDEN_TEST_KILL_AT");
    }

    /// `program` with this repository's directory and environment.
    pub fn cmd(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        self.env(&mut cmd);
        cmd
    }

    /// Runs git, asserting success.
    pub fn git(&self, args: &[&str]) -> String {
        let mut cmd = Command::new("git");
        self.env(&mut cmd);
        let out = cmd.args(args).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn write(&self, rel: &str, content: &str) {
        let p = self.path().join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }

    /// Writes an executable shell script.
    pub fn script(&self, rel: &str, body: &str) {
        self.write(rel, &format!("#!/bin/sh\n{body}\n"));
        let p = self.path().join(rel);
        fs::set_permissions(p, fs::Permissions::from_mode(0o755)).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path().join(rel)).unwrap_or_default()
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.path().join(rel).exists()
    }

    /// Commits everything currently in the tree.
    pub fn commit_all(&self, msg: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--no-verify", "-m", msg]);
    }

    /// A `warden` command for this repository.
    pub fn warden_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_warden"));
        self.env(&mut cmd);
        cmd.args(args);
        cmd
    }

    pub fn warden(&self, args: &[&str]) -> Output {
        self.warden_cmd(args).output().unwrap()
    }

    pub fn warden_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.warden_cmd(args);
        cmd.envs(env.iter().copied());
        cmd.output().unwrap()
    }

    pub fn snapshot(&self) -> Snapshot {
        let mut tree = BTreeMap::new();
        walk(self.path(), self.path(), &mut tree);
        Snapshot {
            tree,
            index: fs::read(self.path().join(".git/index")).unwrap_or_default(),
            stashes: self.git(&["stash", "list"]),
        }
    }
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Node>) {
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let rel = p.strip_prefix(root).unwrap().to_path_buf();
        if rel == Path::new(".git") {
            continue;
        }
        let meta = fs::symlink_metadata(&p).unwrap();
        if meta.file_type().is_symlink() {
            out.insert(rel, Node::Link(fs::read_link(&p).unwrap()));
        } else if meta.is_dir() {
            out.insert(rel, Node::Dir);
            walk(root, &p, out);
        } else {
            let mode = meta.permissions().mode();
            out.insert(rel, Node::File { mode, bytes: fs::read(&p).unwrap() });
        }
    }
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// True when the process with this pid is gone (or a zombie).
pub fn is_dead(pid: &str) -> bool {
    let pid: u32 = pid.trim().parse().unwrap_or_else(|_| panic!("not a pid: {pid:?}"));
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"));
    match stat {
        Err(_) => true,
        Ok(s) => s.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

/// Waits (bounded) until `path` exists.
pub fn wait_for(path: &Path) -> bool {
    for _ in 0..1000 {
        if path.exists() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    false
}

/// Waits (bounded) until the process is gone.
pub fn wait_until_dead(pid: &str) -> bool {
    (0..500).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(10));
        is_dead(pid)
    })
}
