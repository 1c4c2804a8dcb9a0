//! `[[check]]` end to end: real repositories, the real `git`, real commands (small shell
//! scripts as lint and typecheck; tsc when it is installed), run through the built binary.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;

use crate::support_checks::{is_dead, stderr, stdout, wait_for, Repo};

/// A repository with one committed file and a lint script that rejects the word BAD.
fn lint_repo() -> Repo {
    let r = Repo::new();
    r.write("a.txt", "one\n");
    r.script("lint.sh", "for f in \"$@\"; do if grep -q BAD \"$f\"; then echo \"BAD in $f\"; exit 3; fi; done");
    r.write("warden.toml", "[[check]]\nname = \"lint\"\nrun = \"./lint.sh\"\nglob = \"*.txt\"\n");
    r.commit_all("init");
    r
}

#[test]
fn failing_check_blocks_with_name_command_status_and_output() {
    let r = lint_repo();
    r.write("b c.txt", "BAD line\n");
    r.git(&["add", "b c.txt"]);
    let o = r.warden(&["hook"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("check \"lint\" failed (exit status 3)"), "{err}");
    assert!(err.contains("command: ./lint.sh 'b c.txt'"), "{err}");
    assert!(err.contains("BAD in b c.txt"), "{err}");
    assert!(err.contains("SKIP=lint"), "{err}");
}

#[test]
fn passing_check_passes_quietly_with_one_summary_line() {
    let r = lint_repo();
    r.write("b.txt", "fine\n");
    r.git(&["add", "b.txt"]);
    let o = r.warden(&["hook"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("check")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].starts_with("warden: 1 checks passed in "), "{err}");
    assert!(lines[0].contains("lint "), "timing per check: {err}");
    assert!(stdout(&o).is_empty());
}

#[test]
fn git_commit_through_installed_hook_is_blocked_then_allowed() {
    let r = lint_repo();
    assert!(r.warden(&["install"]).status.success());
    r.write("x.txt", "BAD\n");
    r.git(&["add", "x.txt"]);
    let mut cmd = r.cmd("git");
    cmd.args(["commit", "-qm", "x"]);
    let o = cmd.output().unwrap();
    assert!(!o.status.success(), "the commit must be blocked");
    assert!(stderr(&o).contains("check \"lint\" failed"), "{}", stderr(&o));
    r.write("x.txt", "ok\n");
    r.git(&["add", "x.txt"]);
    assert!(cmd.output().unwrap().status.success());
}

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
fn paths_with_spaces_and_quotes_arrive_intact() {
    let r = Repo::new();
    r.script("log.sh", "for f in \"$@\"; do printf '%s\\n' \"$f\" >> \"$LOG\"; done");
    let log = r.path().join("args.log");
    r.write(
        "warden.toml",
        &format!("[[check]]\nname = \"log\"\nrun = \"./log.sh\"\nenv = {{ LOG = {:?} }}\nglob = \"*.md\"\n", log.display().to_string()),
    );
    r.commit_all("init");
    for p in ["dir with space/a b.md", "it's \"quoted\".md", "-dash.md", "ünï cødé.md"] {
        r.write(p, "x\n");
        r.git(&["add", "--", p]);
    }
    let o = r.warden(&["hook"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut got: Vec<String> = std::fs::read_to_string(&log).unwrap().lines().map(String::from).collect();
    got.sort();
    let mut want = vec!["-dash.md", "dir with space/a b.md", "it's \"quoted\".md", "ünï cødé.md"];
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn five_thousand_staged_files_are_batched_under_the_real_argument_limit() {
    let r = Repo::new();
    r.script("count.sh", "echo \"$#\" >> \"$RUNS\"; for f in \"$@\"; do printf '%s\\n' \"$f\"; done >> \"$LOG\"");
    let (log, runs) = (r.path().join("files.log"), r.path().join("runs.log"));
    r.write(
        "warden.toml",
        &format!(
            "[[check]]\nname = \"count\"\nrun = \"./count.sh\"\nglob = \"*.txt\"\nenv = {{ LOG = {:?}, RUNS = {:?} }}\n",
            log.display().to_string(),
            runs.display().to_string()
        ),
    );
    r.commit_all("init");
    let dir = "a-rather-long-directory-name-to-make-the-argument-list-big";
    for i in 0..5000 {
        r.write(&format!("{dir}/file number {i:05} with a long-ish name.txt"), "x\n");
    }
    r.git(&["add", "-A"]);
    // A 512 KiB stack limit makes the kernel's argument limit its 128 KiB floor, while the
    // 5,000 paths need about 500 KiB: one run would fail with E2BIG.
    let mut cmd = r.cmd("sh");
    cmd.args(["-c", "ulimit -s 512 && exec \"$0\" hook", env!("CARGO_BIN_EXE_warden")]);
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let counts: Vec<usize> = std::fs::read_to_string(&runs).unwrap().lines().map(|l| l.parse().unwrap()).collect();
    assert!(counts.len() >= 4, "expected several batches, got {counts:?}");
    assert_eq!(counts.iter().sum::<usize>(), 5000);
    let mut files: Vec<String> = std::fs::read_to_string(&log).unwrap().lines().map(String::from).collect();
    files.sort();
    files.dedup();
    assert_eq!(files.len(), 5000, "every path exactly once");
}

#[test]
fn timeout_kills_the_whole_process_group_and_says_so() {
    let r = Repo::new();
    r.script("slow.sh", "sleep 60 & echo $! > bg.pid\nwait");
    r.write("warden.toml", "[[check]]\nname = \"slow\"\nrun = \"./slow.sh\"\ntimeout = \"1s\"\nfiles = \"none\"\n");
    r.commit_all("init");
    r.write("x.txt", "x\n");
    r.git(&["add", "x.txt"]);
    let o = r.warden(&["hook"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("check \"slow\" timed out after 1.00s: killing its whole process group"), "{err}");
    assert!(err.contains("its process group was killed"), "{err}");
    let pid = r.read("bg.pid");
    assert!(!pid.is_empty());
    assert!(wait_until_dead(&pid), "the background child {pid} must be killed too");
}

fn wait_until_dead(pid: &str) -> bool {
    (0..500).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(10));
        is_dead(pid)
    })
}

/// Two checks that each wait for the other to start: they pass only when run side by side.
fn barrier_repo(settings: &str) -> Repo {
    let r = Repo::new();
    r.script("meet.sh", "touch \"$1.started\"; i=0; while [ ! -e \"$2.started\" ]; do i=$((i+1)); [ $i -gt 500 ] && { echo \"never met $2\"; exit 1; }; sleep 0.02; done");
    r.write(
        "warden.toml",
        &format!("{settings}\n[[check]]\nname = \"a\"\nrun = \"./meet.sh a b\"\nfiles = \"none\"\n[[check]]\nname = \"b\"\nrun = \"./meet.sh b a\"\nfiles = \"none\"\n"),
    );
    r.commit_all("init");
    r.write("x.txt", "x\n");
    r.git(&["add", "x.txt"]);
    r
}

#[test]
fn parallel_checks_run_side_by_side() {
    let r = barrier_repo("[checks]\nparallel = 2\n");
    let o = r.warden(&["hook"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn sequential_checks_honour_after_and_priority() {
    let r = Repo::new();
    r.script("step.sh", "for d in $DEPS; do [ -e \"$d.done\" ] || { echo \"$1 ran before $d\"; exit 1; }; done; touch \"$1.done\"");
    r.write(
        "warden.toml",
        "[checks]\nparallel = 4\n\
         [[check]]\nname = \"last\"\nrun = \"./step.sh last\"\nenv = { DEPS = \"first second\" }\nfiles = \"none\"\npriority = 5\n\
         [[check]]\nname = \"second\"\nrun = \"./step.sh second\"\nenv = { DEPS = \"first\" }\nfiles = \"none\"\nafter = [\"first\"]\n\
         [[check]]\nname = \"first\"\nrun = \"./step.sh first\"\nfiles = \"none\"\n",
    );
    r.commit_all("init");
    r.write("x.txt", "x\n");
    r.git(&["add", "x.txt"]);
    let o = r.warden(&["hook"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(r.exists("last.done"));
}

#[test]
fn fail_fast_cancels_running_checks_and_skips_the_rest() {
    let r = Repo::new();
    r.script("slow.sh", "echo $$ > slow.pid; sleep 60");
    r.script("fail.sh", "while [ ! -e slow.pid ]; do sleep 0.02; done; echo broken; exit 1");
    r.write(
        "warden.toml",
        "[checks]\nparallel = 2\nfail_fast = true\n\
         [[check]]\nname = \"slow\"\nrun = \"./slow.sh\"\nfiles = \"none\"\n\
         [[check]]\nname = \"fail\"\nrun = \"./fail.sh\"\nfiles = \"none\"\n\
         [[check]]\nname = \"later\"\nrun = \"touch later.ran\"\nfiles = \"none\"\npriority = 1\n",
    );
    r.commit_all("init");
    r.write("x.txt", "x\n");
    r.git(&["add", "x.txt"]);
    let o = r.warden(&["hook"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("check \"fail\" failed"), "{err}");
    assert!(err.contains("check \"slow\" was cancelled (fail_fast); its process group was killed"), "{err}");
    assert!(wait_until_dead(&r.read("slow.pid")));
    assert!(!r.exists("later.ran"), "fail_fast starts nothing after a failure");
}

#[test]
fn without_fail_fast_every_check_runs() {
    let r = Repo::new();
    r.write(
        "warden.toml",
        "[[check]]\nname = \"fail\"\nrun = \"false\"\nfiles = \"none\"\n\
         [[check]]\nname = \"later\"\nrun = \"touch later.ran\"\nfiles = \"none\"\npriority = 1\n",
    );
    r.commit_all("init");
    r.write("x.txt", "x\n");
    r.git(&["add", "x.txt"]);
    assert_eq!(r.warden(&["hook"]).status.code(), Some(1));
    assert!(r.exists("later.ran"));
}

#[test]
fn skip_and_warden_skip() {
    let r = Repo::new();
    r.write(
        "warden.toml",
        "[[check]]\nname = \"lint\"\nrun = \"false\"\nfiles = \"none\"\n\
         [[check]]\nname = \"types\"\nrun = \"touch types.ran\"\nfiles = \"none\"\n",
    );
    r.commit_all("init");
    r.write("x.txt", "x\n");
    r.git(&["add", "x.txt"]);
    assert_eq!(r.warden(&["hook"]).status.code(), Some(1));
    std::fs::remove_file(r.path().join("types.ran")).unwrap();
    let o = r.warden_env(&["hook"], &[("SKIP", "lint, other")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("1 skipped"), "{}", stderr(&o));
    assert!(r.exists("types.ran"));
    std::fs::remove_file(r.path().join("types.ran")).unwrap();
    let o = r.warden_env(&["hook"], &[("WARDEN_SKIP", "1")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!r.exists("types.ran"));
}

#[test]
fn monorepo_workdir_runs_inside_the_package_with_relative_paths() {
    let r = Repo::new();
    r.script("packages/web/check.sh", "pwd > ran-in.txt; printf '%s\\n' \"$@\" > args.txt");
    r.write(
        "warden.toml",
        "[[check]]\nname = \"web\"\nrun = \"./check.sh\"\nworkdir = \"packages/web\"\nglob = \"*.ts\"\n",
    );
    r.commit_all("init");
    r.write("packages/web/src/a.ts", "a\n");
    r.write("packages/api/b.ts", "b\n");
    r.write("packages/web/c.js", "c\n");
    r.git(&["add", "-A"]);
    let o = r.warden(&["hook"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ran_in = r.read("packages/web/ran-in.txt");
    assert!(Path::new(ran_in.trim()).ends_with("packages/web"), "{ran_in}");
    assert_eq!(r.read("packages/web/args.txt"), "src/a.ts\n");
}

#[test]
fn scan_never_runs_checks() {
    let r = Repo::new();
    r.write("warden.toml", "[[check]]\nname = \"evil\"\nrun = \"touch pwned\"\nfiles = \"none\"\nalways_run = true\n");
    r.commit_all("init");
    r.write("x.txt", "x\n");
    r.git(&["add", "x.txt"]);
    for args in [&["scan"][..], &["scan", "--staged"][..], &["scan", "."][..]] {
        let o = r.warden(args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert!(!r.exists("pwned"), "warden {args:?} ran a check");
    }
}

#[test]
fn check_all_files_and_ref_range() {
    let r = Repo::new();
    r.script("log.sh", "printf '%s\\n' \"$@\" | sort > args.log");
    r.write("warden.toml", "[[check]]\nname = \"log\"\nrun = \"./log.sh\"\nglob = \"*.txt\"\n");
    r.write("one.txt", "1\n");
    r.commit_all("init");
    let base = r.git(&["rev-parse", "HEAD"]);
    r.write("two.txt", "2\n");
    r.write("sub/three.txt", "3\n");
    r.commit_all("more");
    let o = r.warden(&["check", "--all-files"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(r.read("args.log"), "one.txt\nsub/three.txt\ntwo.txt\n");
    let o = r.warden(&["check", "--from-ref", base.trim(), "--to-ref", "HEAD"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(r.read("args.log"), "sub/three.txt\ntwo.txt\n");
    let o = r.warden(&["check", "--from-ref", "nope", "--to-ref", "HEAD"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("\"nope\""), "{}", stderr(&o));
}

#[test]
fn missing_command_and_broken_config_are_clear_errors() {
    let r = Repo::new();
    r.write("warden.toml", "[[check]]\nname = \"ghost\"\nrun = \"no-such-linter-xyz --fix\"\n");
    r.commit_all("init");
    r.write("x.txt", "x\n");
    r.git(&["add", "x.txt"]);
    let o = r.warden(&["hook"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("command not found: no-such-linter-xyz"), "{}", stderr(&o));
    r.write("warden.toml", "[checks]\nparallel = true\n\n[[check]]\nname = \"a\"\nrun = \"true\"\ntimeout = \"soon\"\n");
    let o = r.warden(&["hook"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("warden.toml:7:"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"));
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
    r.script("slow.sh", "sleep 60 & echo $! > \"$1.bg\"; echo $$ > \"$1.pid\"; wait");
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
    let kill = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("interrupted by signal 2: killing the whole process group of each running check"), "{err}");
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

#[test]
fn init_writes_a_starter_config_and_prints_its_choices() {
    let r = Repo::new();
    r.write("Cargo.toml", "[package]\nname = \"x\"\nversion = \"0.1.0\"\n");
    r.write("web/package.json", "{\"scripts\": {\"typecheck\": \"tsc\"}}");
    r.write("web/biome.json", "{}");
    r.write("api/pyproject.toml", "[tool.mypy]\nstrict = true\n");
    let o = r.warden(&["init"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for name in ["clippy", "fmt", "typecheck-web", "lint-web", "mypy-api"] {
        assert!(out.contains(name), "{name} missing from: {out}");
    }
    let cfg = r.read("warden.toml");
    assert!(cfg.contains("run = \"cargo clippy --all-targets --quiet -- -D warnings\""), "{cfg}");
    assert!(cfg.contains("workdir = \"web\""), "{cfg}");
    let o = r.warden(&["init"]);
    assert!(stdout(&o).contains("already has [[check]] tables"), "{}", stdout(&o));
    assert_eq!(r.read("warden.toml"), cfg, "an existing config with checks is left alone");
}

#[test]
fn real_tsc_project_when_typescript_is_installed() {
    let Some(tsc) = find_tsc() else {
        eprintln!("skipped: no tsc on PATH or in WARDEN_TEST_NODE_MODULES (no network in tests)");
        return;
    };
    let r = Repo::new();
    r.write("tsconfig.json", "{\"compilerOptions\": {\"strict\": true, \"noEmit\": true}, \"include\": [\"src\"]}\n");
    r.write("src/a.ts", "export const n: number = 1;\n");
    r.write(
        "warden.toml",
        &format!("[[check]]\nname = \"typecheck\"\nrun = [{:?}, \"--noEmit\", \"-p\", \".\"]\nfiles = \"none\"\nglob = \"*.ts\"\n", tsc),
    );
    r.commit_all("init");
    r.write("src/a.ts", "export const n: number = \"not a number\";\n");
    r.git(&["add", "src/a.ts"]);
    r.write("src/a.ts", "export const n: number = 2;\n");
    let o = r.warden(&["hook"]);
    assert_eq!(o.status.code(), Some(1), "the staged type error must be caught: {}", stderr(&o));
    assert!(stderr(&o).contains("TS2322"), "{}", stderr(&o));
    r.git(&["add", "src/a.ts"]);
    let o = r.warden(&["hook"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

fn find_tsc() -> Option<String> {
    let from_env = std::env::var_os("WARDEN_TEST_NODE_MODULES")
        .map(|d| Path::new(&d).join(".bin/tsc"))
        .filter(|p| p.exists());
    let on_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p).map(|d| d.join("tsc")).find(|p| p.exists())
    });
    let node = std::process::Command::new("node").arg("--version").stdout(Stdio::null()).status();
    if !node.is_ok_and(|s| s.success()) {
        return None;
    }
    from_env.or(on_path).map(|p| p.display().to_string())
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
    r.write("warden.toml", "[[check]]\nname = \"staged-only\"\nrun = \"./check.sh\"\nfiles = \"none\"\n");
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
    std::fs::set_permissions(r.path().join("tool.sh"), std::fs::Permissions::from_mode(0o644)).unwrap();
    r.write("untracked.txt", "mine\n");
    r.write("ut/deep/u.txt", "deep\n");
    r
}

/// Passes only when the tree shows exactly the staged content.
const STAGED_ONLY: &str = "grep -qx staged a.txt && ! grep -q unstaged a.txt && ! grep -q unstaged 'dir/c d.txt' \
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
        assert_eq!(o.status.signal(), Some(9), "step {step}: warden must have been SIGKILLed: {}", stderr(&o));
        let o = r.warden(&["check"]);
        assert!(o.status.success(), "step {step}: {}", stderr(&o));
        assert_eq!(r.snapshot(), before, "step {step}: tree, index or stashes differ after recovery");
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
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    rd.flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "lock")
        .collect()
}
