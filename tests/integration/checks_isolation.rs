//! Checks see exactly the staged content, and the user never loses work: partial staging,
//! `git commit <paths>`, crashing and interrupted checks, a failing backup, and SIGKILL at every
//! step of the working-tree guard, each proven with byte-exact snapshots.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use crate::checks::lint_repo;
use crate::support_checks::{stderr, wait_for, wait_until_dead, Repo};

#[test]
fn partially_staged_file_is_checked_as_staged_and_unstaged_edits_survive() {
    let r = lint_repo();
    r.write("a.txt", "one\nstaged good\n");
    r.git(&["add", "a.txt"]);
    r.write("a.txt", "one\nstaged good\nBAD unstaged\n");
    r.write("untracked.txt", "BAD but untracked\n");
    let before = r.snapshot();
    let o = r.warden(&["hook"]);
    assert_eq!(o.status.code(), Some(0), "unstaged BAD must be invisible: {}", stderr(&o));
    assert_eq!(r.snapshot(), before, "tree, index and stashes unchanged");

    r.write("a.txt", "one\nBAD staged\n");
    r.git(&["add", "a.txt"]);
    r.write("a.txt", "one\ngood unstaged\n");
    let before = r.snapshot();
    let o = r.warden(&["hook"]);
    assert_eq!(o.status.code(), Some(1), "staged BAD must be seen: {}", stderr(&o));
    assert_eq!(r.snapshot(), before, "a failing check loses nothing");
    assert!(!r.exists(".git/warden/isolate"));
    assert!(r.git(&["stash", "list"]).is_empty());
}

#[test]
fn nothing_unstaged_means_nothing_touched() {
    use std::os::unix::fs::MetadataExt;
    let r = lint_repo();
    r.write("b.txt", "fine\n");
    r.git(&["add", "b.txt"]);
    r.write("untracked.txt", "u\n");
    let stat = |p: &str| {
        let m = std::fs::metadata(r.path().join(p)).unwrap();
        (m.ino(), m.mtime(), m.mtime_nsec(), m.ctime(), m.ctime_nsec())
    };
    let before: Vec<_> = ["a.txt", "b.txt", "untracked.txt", "lint.sh"].map(stat).into();
    assert!(r.warden(&["hook"]).status.success());
    let after: Vec<_> = ["a.txt", "b.txt", "untracked.txt", "lint.sh"].map(stat).into();
    assert_eq!(before, after);
    assert!(!r.exists(".git/warden"), "no journal, no lock: nothing at all");
}

#[test]
fn crashing_check_is_reported_and_the_tree_restored() {
    let r = lint_repo();
    r.script("crash.sh", "kill -SEGV $$");
    r.write("warden.toml", "[[check]]\nname = \"crash\"\nrun = \"./crash.sh\"\n");
    r.commit_all("crash");
    r.write("a.txt", "staged\n");
    r.git(&["add", "a.txt"]);
    r.write("a.txt", "unstaged\n");
    let before = r.snapshot();
    let o = r.warden(&["hook"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("killed by signal 11 (SIGSEGV)"), "{}", stderr(&o));
    assert_eq!(r.snapshot(), before);
}

#[test]
fn ctrl_c_kills_each_running_check_group_and_restores_the_tree() {
    let r = Repo::new();
    // Each pid file appears complete (written, then renamed), the background one first.
    r.script(
        "slow.sh",
        "sleep 60 & echo $! > \"$1.tmp\"; mv \"$1.tmp\" \"$1.bg\"; echo $$ > \"$1.tmp\"; mv \"$1.tmp\" \"$1.pid\"; wait",
    );
    r.write(
        "warden.toml",
        "[checks]\nparallel = 2\n[[check]]\nname = \"one\"\nrun = \"./slow.sh one\"\nfiles = \"none\"\n[[check]]\nname = \"two\"\nrun = \"./slow.sh two\"\nfiles = \"none\"\n",
    );
    r.write("a.txt", "base\n");
    r.commit_all("init");
    r.write("a.txt", "staged\n");
    r.git(&["add", "a.txt"]);
    r.write("a.txt", "unstaged\n");
    let before = r.snapshot();
    let child = r.warden_cmd(&["hook"]).stderr(Stdio::piped()).spawn().unwrap();
    assert!(wait_for(&r.path().join("one.pid")) && wait_for(&r.path().join("two.pid")));
    assert_eq!(r.read("a.txt"), "staged\n", "checks see the staged version");
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "interrupted by signal 2: killing the whole process group of each running check"
        ),
        "{err}"
    );
    for f in ["one.pid", "one.bg", "two.pid", "two.bg"] {
        assert!(wait_until_dead(&r.read(f)), "{f} still alive");
    }
    for f in ["one.pid", "one.bg", "two.pid", "two.bg"] {
        std::fs::remove_file(r.path().join(f)).unwrap();
    }
    assert_eq!(r.snapshot(), before);
}

#[test]
fn backup_failure_changes_nothing_and_blocks() {
    let r = lint_repo();
    r.write("a.txt", "staged\n");
    r.git(&["add", "a.txt"]);
    r.write("a.txt", "BAD unstaged\n");
    std::fs::write(r.path().join(".git/warden"), "not a directory").unwrap();
    let before = r.snapshot();
    let o = r.warden(&["hook"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(r.snapshot(), before);
}

/// A tree with every kind of unstaged change the guard handles: partial staging, an
/// unstaged-only edit, unstaged deletions (one taking its directory along), a mode change, a
/// retargeted symlink, a path with spaces, plus untracked files and a new staged file.
fn messy_repo(check: &str) -> Repo {
    let r = Repo::new();
    r.write("a.txt", "one\n");
    r.write("b.txt", "b\n");
    r.write("gone.txt", "gone\n");
    r.write("sub/only.txt", "only\n");
    r.write("dir/c d.txt", "c\n");
    r.script("tool.sh", "true");
    std::os::unix::fs::symlink("a.txt", r.path().join("link")).unwrap();
    r.script("check.sh", check);
    r.write(
        "warden.toml",
        "[[check]]\nname = \"staged-only\"\nrun = \"./check.sh\"\nfiles = \"none\"\n",
    );
    r.commit_all("init");
    r.write("a.txt", "one\nstaged\n");
    r.write("dir/c d.txt", "c staged\n");
    r.write("n.txt", "new\n");
    r.git(&["add", "a.txt", "dir/c d.txt", "n.txt"]);
    r.write("a.txt", "one\nstaged\nunstaged\n");
    r.write("dir/c d.txt", "c staged\nc unstaged\n");
    r.write("b.txt", "b\nwork in progress\n");
    std::fs::remove_file(r.path().join("gone.txt")).unwrap();
    std::fs::remove_dir_all(r.path().join("sub")).unwrap();
    std::fs::remove_file(r.path().join("link")).unwrap();
    std::os::unix::fs::symlink("b.txt", r.path().join("link")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(r.path().join("tool.sh"), std::fs::Permissions::from_mode(0o644))
        .unwrap();
    r.write("untracked.txt", "mine\n");
    r.write("ut/deep/u.txt", "deep\n");
    r
}

/// Passes only when the tree shows exactly the staged content.
const STAGED_ONLY: &str =
    "grep -qx staged a.txt && ! grep -q unstaged a.txt && ! grep -q unstaged 'dir/c d.txt' \
&& ! grep -q work b.txt && test -f gone.txt && test -f sub/only.txt && test -x tool.sh \
&& [ \"$(readlink link)\" = a.txt ] || { echo 'not the staged content'; exit 1; }";

#[test]
fn checks_see_exactly_the_staged_tree() {
    let r = messy_repo(STAGED_ONLY);
    let before = r.snapshot();
    let o = r.warden(&["hook"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(r.snapshot(), before);
}

#[test]
fn sigkill_at_every_step_is_recovered_byte_for_byte() {
    let steps = warden::worktree_guard::KILL_POINTS;
    let kill_in_check = format!(
        "if [ ! -e .git/killed-once ]; then touch .git/killed-once; kill -9 $PPID; sleep 1; exit 1; fi\n{STAGED_ONLY}"
    );
    for step in steps.iter().copied().chain(["check"]) {
        let check = if step == "check" { kill_in_check.as_str() } else { STAGED_ONLY };
        let r = messy_repo(check);
        let before = r.snapshot();
        let o = r.warden_env(&["hook"], &[("WARDEN_TEST_KILL_AT", step)]);
        assert_eq!(
            o.status.signal(),
            Some(9),
            "step {step}: warden must have been SIGKILLed: {}",
            stderr(&o)
        );
        let o = r.warden(&["check"]);
        assert!(o.status.success(), "step {step}: {}", stderr(&o));
        assert_eq!(
            r.snapshot(),
            before,
            "step {step}: tree, index or stashes differ after recovery"
        );
        assert_eq!(leftovers(&r), Vec::<String>::new(), "step {step}");
    }
}

#[test]
fn sigkill_during_recovery_is_recovered_too() {
    let r = messy_repo(STAGED_ONLY);
    let before = r.snapshot();
    let o = r.warden_env(&["hook"], &[("WARDEN_TEST_KILL_AT", "swapped")]);
    assert_eq!(o.status.signal(), Some(9));
    let o = r.warden_env(&["check"], &[("WARDEN_TEST_KILL_AT", "restore")]);
    assert_eq!(o.status.signal(), Some(9), "{}", stderr(&o));
    let o = r.warden(&["hook"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("restored"), "{}", stderr(&o));
    assert_eq!(r.snapshot(), before);
    assert!(leftovers(&r).is_empty());
}

#[test]
fn a_file_changed_while_checks_ran_is_kept_not_lost() {
    let r = lint_repo();
    r.script("fixer.sh", "echo 'fixed by a formatter' > a.txt");
    r.write("warden.toml", "[[check]]\nname = \"fixer\"\nrun = \"./fixer.sh\"\nfiles = \"none\"\n");
    r.commit_all("fixer");
    r.write("a.txt", "staged\n");
    r.git(&["add", "a.txt"]);
    r.write("a.txt", "unstaged\n");
    let o = r.warden(&["hook"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(r.read("a.txt"), "unstaged\n");
    let err = stderr(&o);
    assert!(err.contains("a.txt changed while the checks ran"), "{err}");
    let kept = err.split("kept at ").nth(1).unwrap().lines().next().unwrap();
    assert_eq!(std::fs::read_to_string(kept).unwrap(), "fixed by a formatter\n");
}

/// Journal files left under `.git/warden` (the lock file and kept versions are fine).
fn leftovers(r: &Repo) -> Vec<String> {
    let dir = r.path().join(".git/warden");
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "lock")
        .collect()
}

#[test]
fn git_commit_with_paths_checks_exactly_what_is_committed() {
    let r = Repo::new();
    r.script("show.sh", "cat a.txt b.txt > seen.log");
    r.write("warden.toml", "[[check]]\nname = \"show\"\nrun = \"./show.sh\"\nfiles = \"none\"\n");
    r.write("a.txt", "a\n");
    r.write("b.txt", "b\n");
    r.commit_all("init");
    assert!(r.warden(&["install"]).status.success());
    r.write("a.txt", "a staged, not committed\n");
    r.git(&["add", "a.txt"]);
    r.write("a.txt", "a unstaged\n");
    r.write("b.txt", "b committed by path\n");
    let o = r.cmd("git").args(["commit", "-q", "-m", "only b", "b.txt"]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        r.read("seen.log"),
        "a\nb committed by path\n",
        "HEAD's a.txt, the worktree's b.txt"
    );
    assert_eq!(r.read("a.txt"), "a unstaged\n");
    assert_eq!(r.git(&["diff", "--cached", "--name-only"]), "a.txt\n");
}

/// The full-disk scenarios, run inside a private mount namespace on a 2 MiB tmpfs: (1) the
/// backup of a big unstaged edit does not fit; (2) the backup fits but the staged version
/// does not. Both must block (exit 2) and leave tree, index and stashes exactly as they were.
const FULL_DISK: &str = r#"
set -eu
warden=$1; mnt=$2; out=$3
mount -t tmpfs -o size=2m tmpfs "$mnt"
cd "$mnt" && git init -q r && cd r
git config user.name t && git config user.email t@example.com
printf '[[check]]\nname = "c"\nrun = "true"\nfiles = "none"\n' > warden.toml
head -c 300000 /dev/zero | tr '\0' a > big.txt
echo small > small.txt
git add . && git commit -qm init
state() { { find . -path ./.git -prune -o -type f -print | sort | xargs sha256sum; sha256sum .git/index; git stash list; } | sha256sum; }
fill() { dd if=/dev/zero of=../filler bs=4096 2>/dev/null || true; }
run() { rc=0; "$warden" hook > "$out" 2>&1 || rc=$?; echo "$1 rc=$rc"; sed 's/^/  /' "$out"; }
echo staged >> small.txt && git add small.txt
echo unstaged >> small.txt
"$warden" hook > /dev/null 2>&1
head -c 400000 /dev/zero | tr '\0' b > big.txt
before=$(state); fill; run one; rm ../filler
[ "$before" = "$(state)" ] && echo "one same"
git checkout -q big.txt && head -c 400000 /dev/zero | tr '\0' c > big.txt && git add big.txt && echo tiny > big.txt
before=$(state); fill; truncate -s -65536 ../filler; run two; rm ../filler
[ "$before" = "$(state)" ] && echo "two same"
"$warden" hook > "$out" 2>&1 && echo "three rc=0"
[ "$before" = "$(state)" ] && echo "three same"
"#;

#[test]
fn full_disk_changes_nothing_and_blocks() {
    let (mnt, log) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let probe = std::process::Command::new("unshare").args(["-rm", "true"]).status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("skipped: cannot create a mount namespace here (unshare -rm)");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_warden");
    let o = std::process::Command::new("unshare")
        .args(["-rm", "sh", "-c", FULL_DISK, "sh", bin])
        .arg(mnt.path())
        .arg(log.path().join("out"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", mnt.path())
        .output()
        .unwrap();
    let out = crate::support_checks::stdout(&o);
    if out.trim().is_empty() && stderr(&o).contains("mount") {
        eprintln!("skipped: cannot mount a tmpfs here: {}", stderr(&o));
        return;
    }
    for want in ["one rc=2", "one same", "two rc=2", "two same", "three rc=0", "three same"] {
        assert!(out.contains(want), "{want:?} missing:\n{out}\n{}", stderr(&o));
    }
    assert!(out.contains("could not save your unstaged changes"), "{out}");
    assert!(out.contains("your files are back as they were"), "{out}");
}
