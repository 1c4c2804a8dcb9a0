//! Unit tests of the guard on real repositories: engage/restore round trips, the untouched
//! fast path, recovery of an abandoned journal, the lock, and restore refusing to lose an edit.

use std::fs;
use std::path::Path;
use std::process::Command;

use super::*;

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_DIR")
        .args(args)
        .status()
        .unwrap()
        .success();
    assert!(ok, "git {args:?}");
}

/// A repository where a.txt is partially staged and b.txt has only an unstaged edit.
fn repo() -> (tempfile::TempDir, Repository) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    git(p, &["config", "user.name", "t"]);
    git(p, &["config", "user.email", "t@example.com"]);
    fs::write(p.join("a.txt"), "a\n").unwrap();
    fs::write(p.join("b.txt"), "b\n").unwrap();
    git(p, &["add", "."]);
    git(p, &["commit", "-qm", "init"]);
    fs::write(p.join("a.txt"), "a staged\n").unwrap();
    git(p, &["add", "a.txt"]);
    fs::write(p.join("a.txt"), "a unstaged\n").unwrap();
    fs::write(p.join("b.txt"), "b unstaged\n").unwrap();
    let repo = Repository::open(p).unwrap();
    (d, repo)
}

fn read(d: &tempfile::TempDir, rel: &str) -> String {
    fs::read_to_string(d.path().join(rel)).unwrap()
}

#[test]
fn engage_shows_staged_and_restore_puts_back() {
    let (d, repo) = repo();
    let guard = engage(&repo).unwrap().expect("two unstaged paths");
    assert_eq!(read(&d, "a.txt"), "a staged\n");
    assert_eq!(read(&d, "b.txt"), "b\n");
    let r = guard.restore().unwrap();
    assert_eq!(r.restored, 2);
    assert!(r.kept.is_empty());
    assert_eq!(read(&d, "a.txt"), "a unstaged\n");
    assert_eq!(read(&d, "b.txt"), "b unstaged\n");
    assert!(!d.path().join(".git/warden/isolate").exists());
}

#[test]
fn nothing_unstaged_touches_nothing() {
    let (d, repo) = repo();
    git(d.path(), &["add", "-A"]);
    assert!(engage(&repo).unwrap().is_none());
    assert!(!d.path().join(".git/warden").exists());
    assert!(recover(&repo).unwrap().is_none());
}

#[test]
fn abandoned_journal_is_recovered_and_the_lock_guards_a_live_run() {
    let (d, repo) = repo();
    let guard = engage(&repo).unwrap().unwrap();
    let live = recover(&repo).unwrap_err().to_string();
    assert!(live.contains("another warden run"), "{live}");
    abandon(guard);
    assert_eq!(read(&d, "a.txt"), "a staged\n");
    assert!(d.path().join(".git/warden/isolate/RESTORE.txt").exists());
    let r = recover(&repo).unwrap().expect("a journal to recover");
    assert_eq!(r.restored, 2);
    assert_eq!(read(&d, "a.txt"), "a unstaged\n");
    assert_eq!(read(&d, "b.txt"), "b unstaged\n");
}

/// Abandons the guard as a killed process would: no restore, and its lock released.
fn abandon(guard: Guard) {
    let mut guard = std::mem::ManuallyDrop::new(guard);
    let lock = std::mem::replace(&mut guard._lock, Lock(tempfile::tempfile().unwrap()));
    drop(lock);
}

#[test]
fn an_edit_made_during_the_run_is_kept_aside() {
    let (d, repo) = repo();
    let guard = engage(&repo).unwrap().unwrap();
    fs::write(d.path().join("a.txt"), "saved by the editor meanwhile\n").unwrap();
    let r = guard.restore().unwrap();
    assert_eq!(read(&d, "a.txt"), "a unstaged\n");
    assert_eq!(r.kept.len(), 1);
    assert_eq!(fs::read_to_string(&r.kept[0].1).unwrap(), "saved by the editor meanwhile\n");
}

#[test]
fn instructions_name_every_path() {
    let (_d, repo) = repo();
    let guard = engage(&repo).unwrap().unwrap();
    let text = journal::instructions(&guard.journal(), &guard.manifest);
    assert!(
        text.contains("mv -f -- ") && text.contains("a.txt") && text.contains("b.txt"),
        "{text}"
    );
    guard.restore().unwrap();
}
