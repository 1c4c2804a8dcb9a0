//! `[[check]]` end to end: real repositories, the real `git`, real commands (small shell
//! scripts as lint and typecheck; tsc when it is installed), run through the built binary.

use std::path::Path;
use std::process::Stdio;

use crate::support_checks::{stderr, stdout, wait_until_dead, Repo};

/// Commits `config` as warden.toml (with whatever is in the tree) and stages one new file.
fn stage_one(r: &Repo, config: &str) {
    r.write("warden.toml", config);
    r.commit_all("init");
    r.write("x.txt", "x\n");
    r.git(&["add", "x.txt"]);
}

/// A repository with one committed file and a lint script that rejects the word BAD.
pub fn lint_repo() -> Repo {
    let r = Repo::new();
    r.write("a.txt", "one\n");
    r.script(
        "lint.sh",
        "for f in \"$@\"; do if grep -q BAD \"$f\"; then echo \"BAD in $f\"; exit 3; fi; done",
    );
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
    let mut got: Vec<String> =
        std::fs::read_to_string(&log).unwrap().lines().map(String::from).collect();
    got.sort();
    let mut want = vec!["-dash.md", "dir with space/a b.md", "it's \"quoted\".md", "ünï cødé.md"];
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn five_thousand_staged_files_are_batched_under_the_real_argument_limit() {
    let r = Repo::new();
    r.script(
        "count.sh",
        "echo \"$#\" >> \"$RUNS\"; for f in \"$@\"; do printf '%s\\n' \"$f\"; done >> \"$LOG\"",
    );
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
    let counts: Vec<usize> =
        std::fs::read_to_string(&runs).unwrap().lines().map(|l| l.parse().unwrap()).collect();
    assert!(counts.len() >= 4, "expected several batches, got {counts:?}");
    assert_eq!(counts.iter().sum::<usize>(), 5000);
    let mut files: Vec<String> =
        std::fs::read_to_string(&log).unwrap().lines().map(String::from).collect();
    files.sort();
    files.dedup();
    assert_eq!(files.len(), 5000, "every path exactly once");
}

#[test]
fn timeout_kills_the_whole_process_group_and_says_so() {
    let r = Repo::new();
    r.script("slow.sh", "sleep 60 & echo $! > bg.tmp; mv bg.tmp bg.pid\nwait");
    stage_one(
        &r,
        "[[check]]\nname = \"slow\"\nrun = \"./slow.sh\"\ntimeout = \"2s\"\nfiles = \"none\"\n",
    );
    let o = r.warden(&["hook"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("check \"slow\" timed out after 2.00s: killing its whole process group"),
        "{err}"
    );
    assert!(err.contains("its process group was killed"), "{err}");
    let pid = r.read("bg.pid");
    assert!(!pid.is_empty());
    assert!(wait_until_dead(&pid), "the background child {pid} must be killed too");
}

/// Two checks that each wait for the other to start: they pass only when run side by side.
fn barrier_repo(settings: &str) -> Repo {
    let r = Repo::new();
    r.script("meet.sh", "touch \"$1.started\"; i=0; while [ ! -e \"$2.started\" ]; do i=$((i+1)); [ $i -gt 500 ] && { echo \"never met $2\"; exit 1; }; sleep 0.02; done");
    stage_one(&r, &format!("{settings}\n[[check]]\nname = \"a\"\nrun = \"./meet.sh a b\"\nfiles = \"none\"\n[[check]]\nname = \"b\"\nrun = \"./meet.sh b a\"\nfiles = \"none\"\n"));
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
    stage_one(&r, "[checks]\nparallel = 4\n\
         [[check]]\nname = \"last\"\nrun = \"./step.sh last\"\nenv = { DEPS = \"first second\" }\nfiles = \"none\"\npriority = 5\n\
         [[check]]\nname = \"second\"\nrun = \"./step.sh second\"\nenv = { DEPS = \"first\" }\nfiles = \"none\"\nafter = [\"first\"]\n\
         [[check]]\nname = \"first\"\nrun = \"./step.sh first\"\nfiles = \"none\"\n");
    let o = r.warden(&["hook"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(r.exists("last.done"));
}

#[test]
fn fail_fast_cancels_running_checks_and_skips_the_rest() {
    let r = Repo::new();
    r.script("slow.sh", "echo $$ > slow.tmp; mv slow.tmp slow.pid; sleep 60");
    r.script("fail.sh", "while [ ! -e slow.pid ]; do sleep 0.02; done; echo broken; exit 1");
    stage_one(
        &r,
        "[checks]\nparallel = 2\nfail_fast = true\n\
         [[check]]\nname = \"slow\"\nrun = \"./slow.sh\"\nfiles = \"none\"\n\
         [[check]]\nname = \"fail\"\nrun = \"./fail.sh\"\nfiles = \"none\"\n\
         [[check]]\nname = \"later\"\nrun = \"touch later.ran\"\nfiles = \"none\"\npriority = 1\n",
    );
    let o = r.warden(&["hook"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("check \"fail\" failed"), "{err}");
    assert!(
        err.contains("check \"slow\" was cancelled (fail_fast); its process group was killed"),
        "{err}"
    );
    assert!(wait_until_dead(&r.read("slow.pid")));
    assert!(!r.exists("later.ran"), "fail_fast starts nothing after a failure");
}

#[test]
fn without_fail_fast_every_check_runs() {
    let r = Repo::new();
    stage_one(
        &r,
        "[[check]]\nname = \"fail\"\nrun = \"false\"\nfiles = \"none\"\n\
         [[check]]\nname = \"later\"\nrun = \"touch later.ran\"\nfiles = \"none\"\npriority = 1\n",
    );
    assert_eq!(r.warden(&["hook"]).status.code(), Some(1));
    assert!(r.exists("later.ran"));
}

#[test]
fn skip_and_warden_skip() {
    let r = Repo::new();
    stage_one(
        &r,
        "[[check]]\nname = \"lint\"\nrun = \"false\"\nfiles = \"none\"\n\
         [[check]]\nname = \"types\"\nrun = \"touch types.ran\"\nfiles = \"none\"\n",
    );
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
    stage_one(
        &r,
        "[[check]]\nname = \"evil\"\nrun = \"touch pwned\"\nfiles = \"none\"\nalways_run = true\n",
    );
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
    stage_one(&r, "[[check]]\nname = \"ghost\"\nrun = \"no-such-linter-xyz --fix\"\n");
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
    let Some(tsc) = find_node_tool("tsc") else {
        eprintln!("skipped: no tsc on PATH or in WARDEN_TEST_NODE_MODULES (no network in tests)");
        return;
    };
    let r = Repo::new();
    r.write(
        "tsconfig.json",
        "{\"compilerOptions\": {\"strict\": true, \"noEmit\": true}, \"include\": [\"src\"]}\n",
    );
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

/// A program from `WARDEN_TEST_NODE_MODULES/.bin` or PATH, when node runs (never downloaded).
fn find_node_tool(name: &str) -> Option<String> {
    let node = std::process::Command::new("node").arg("--version").stdout(Stdio::null()).status();
    if !node.is_ok_and(|s| s.success()) {
        return None;
    }
    let from_env = std::env::var_os("WARDEN_TEST_NODE_MODULES")
        .map(|d| Path::new(&d).join(".bin").join(name))
        .filter(|p| p.exists());
    let on_path = std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|p| p.exists()));
    from_env.or(on_path).map(|p| p.display().to_string())
}

#[test]
fn real_eslint_project_when_eslint_is_installed() {
    let Some(eslint) = find_node_tool("eslint") else {
        eprintln!(
            "skipped: no eslint on PATH or in WARDEN_TEST_NODE_MODULES (no network in tests)"
        );
        return;
    };
    let r = Repo::new();
    r.write(
        "eslint.config.mjs",
        "export default [{ files: [\"**/*.js\"], rules: { \"no-unused-vars\": \"error\" } }];\n",
    );
    r.write("src/ok.js", "export const used = 1;\n");
    r.write(
        "warden.toml",
        &format!("[[check]]\nname = \"lint\"\nrun = [{eslint:?}, \"--max-warnings=0\"]\nglob = \"*.js\"\n"),
    );
    r.commit_all("init");
    r.write("src/new file.js", "const unused = 2;\nexport const x = 1;\n");
    r.git(&["add", "src/new file.js"]);
    r.write("src/new file.js", "export const x = 1;\n");
    let o = r.warden(&["hook"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "the staged lint error must be caught: {err}");
    assert!(err.contains("no-unused-vars") && err.contains("new file.js"), "{err}");
    r.git(&["add", "src/new file.js"]);
    let o = r.warden(&["hook"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn files_each_none_shell_and_always_run() {
    let r = Repo::new();
    r.script("count.sh", "echo \"$#:$*\" >> \"$1.log\"");
    r.write(
        "warden.toml",
        "[[check]]\nname = \"each\"\nrun = \"./count.sh each\"\nfiles = \"each\"\nglob = \"*.md\"\n\
         [[check]]\nname = \"none\"\nrun = \"./count.sh none\"\nfiles = \"none\"\nglob = \"*.md\"\n\
         [[check]]\nname = \"piped\"\nshell = true\nrun = \"printf '%s\\\\n' \\\"$@\\\" | sort -r > piped.log && test -s piped.log\"\nglob = \"*.md\"\n\
         [[check]]\nname = \"rs\"\nrun = \"./count.sh rs\"\nglob = \"*.rs\"\n",
    );
    r.commit_all("init");
    r.write("a.md", "a\n");
    r.write("b c.md", "b\n");
    r.git(&["add", "a.md", "b c.md"]);
    let o = r.warden(&["hook"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut each: Vec<String> = r.read("each.log").lines().map(String::from).collect();
    each.sort();
    assert_eq!(each, ["2:each a.md", "2:each b c.md"], "one run per path");
    assert_eq!(r.read("none.log"), "1:none\n", "one run, no paths");
    assert_eq!(r.read("piped.log"), "b c.md\na.md\n", "paths as \"$@\" of the script");
    assert!(!r.exists("rs.log"), "no staged .rs file: not run");
    assert!(
        stderr(&o).contains("3 checks passed") && stderr(&o).contains("1 skipped"),
        "{}",
        stderr(&o)
    );

    r.commit_all("md");
    r.write("warden.toml", "[[check]]\nname = \"always\"\nrun = \"./count.sh always\"\nglob = \"*.rs\"\nalways_run = true\n");
    r.commit_all("always");
    let o = r.warden(&["hook"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(r.read("always.log"), "1:always\n", "runs with nothing staged, without paths");
}

#[test]
fn a_package_warden_toml_scopes_its_checks_to_the_package() {
    let r = Repo::new();
    r.script("packages/web/check.sh", "pwd > ran-in.txt; printf '%s\\n' \"$@\" > args.txt");
    r.write(
        "packages/web/warden.toml",
        "[[check]]\nname = \"web-lint\"\nrun = \"./check.sh\"\nglob = \"*.ts\"\n",
    );
    r.write("warden.toml", "[checks]\nfail_fast = true\n");
    r.commit_all("init");
    r.write("packages/web/src/a.ts", "a\n");
    r.write("packages/api/b.ts", "b\n");
    r.git(&["add", "-A"]);
    let o = r.warden(&["hook"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(r.read("packages/web/ran-in.txt").trim().ends_with("packages/web"));
    assert_eq!(r.read("packages/web/args.txt"), "src/a.ts\n");
    r.write("warden.toml", "[[check]]\nname = \"web-lint\"\nrun = \"true\"\n");
    r.git(&["add", "warden.toml"]);
    let o = r.warden(&["hook"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("packages/web/warden.toml:2: check \"web-lint\": name"),
        "{}",
        stderr(&o)
    );
}
