//! The installed pre-commit hook on real repositories, driven by the `git` binary: what
//! blocks a commit, what does not, and the git situations a hook meets (first commit,
//! `commit -a`, partial commits, merges, linked worktrees, renames, odd paths, big and
//! binary files, foreign hooks, `core.hooksPath`).

use std::fs;
use std::path::Path;

use crate::support::{fake, fake_seeded, must_have_secrets, Output, TestRepo};

/// Asserts that a `git commit` was refused by the hook and HEAD did not move.
#[track_caller]
fn assert_blocked(repo: &TestRepo, out: &Output, before: Option<&str>, what: &str) {
    assert_ne!(out.code, Some(0), "{what}: the commit went through\n{out}");
    assert!(out.all().contains("commit blocked"), "{what}: not blocked by warden\n{out}");
    assert_eq!(repo.head().as_deref(), before, "{what}: HEAD moved");
}

/// Asserts that a `git commit` went through (HEAD moved).
#[track_caller]
fn assert_committed(repo: &TestRepo, out: &Output, before: Option<&str>, what: &str) {
    assert_eq!(out.code, Some(0), "{what}: the commit was refused\n{out}");
    assert_ne!(repo.head().as_deref(), before, "{what}: HEAD did not move");
}

fn repo_with_hook() -> TestRepo {
    let repo = TestRepo::new();
    repo.install_hook();
    repo
}

#[test]
fn every_must_have_provider_blocks_the_commit() {
    let repo = repo_with_hook();
    repo.write("README.md", "# app\n").stage(&["README.md"]);
    let base = repo.commit("base");
    for s in must_have_secrets() {
        let file = format!("config/{}.env", s.rule);
        repo.write(&file, format!("# settings\n{}\n", s.line)).stage(&[&file]);
        let out = repo.try_commit(&[]);
        assert_blocked(&repo, &out, Some(&base), s.rule);
        assert!(out.all().contains(s.rule), "{}: rule not named\n{out}", s.rule);
        assert!(out.all().contains(s.provider), "{}: provider not named\n{out}", s.rule);
        assert!(out.all().contains(&file), "{}: path not named\n{out}", s.rule);
        repo.git(&["rm", "-q", "--cached", "--", &file]);
        fs::remove_file(repo.path(&file)).unwrap();
    }
}

#[test]
fn public_values_placeholders_and_references_do_not_block() {
    let repo = repo_with_hook();
    let anon = fake("%{jwt:supabase:anon}");
    let dsn = fake("https://%{hex:32}@o%{digits:7}.ingest.us.sentry.io/%{digits:7}");
    let env = format!(
        "NEXT_PUBLIC_SUPABASE_ANON_KEY={anon}\n\
         SUPABASE_ANON_KEY=\"{anon}\"\n\
         SENTRY_DSN={dsn}\n\
         OPENROUTER_API_KEY=your-key-here\n\
         OPENROUTER_API_KEY=sk-or-v1-xxxx\n\
         VERCEL_TOKEN=xxxx\n\
         SENTRY_AUTH_TOKEN=sntryu_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n\
         UPSTASH_REDIS_REST_TOKEN=your-key-here\n\
         RAILWAY_TOKEN=xxxx\n\
         ENCRYPTION_KEY=your-key-here\n"
    );
    let js = "export const config = {\n\
         openrouter: process.env.OPENROUTER_API_KEY,\n\
         supabase: process.env.SUPABASE_SERVICE_ROLE_KEY,\n\
         upstash: process.env.UPSTASH_REDIS_REST_TOKEN,\n\
         railway: process.env.RAILWAY_TOKEN,\n\
         vercel: process.env.VERCEL_TOKEN,\n\
         sentry: process.env.SENTRY_AUTH_TOKEN,\n\
         encryptionKey: process.env.ENCRYPTION_KEY,\n\
         };\n\
         const ENCRYPTION_KEY = process.env.ENCRYPTION_KEY;\n";
    repo.write(".env.example", env).write("src/config.js", js).stage_all();
    let scan = repo.warden(&["scan", "--staged", "--format", "json"]);
    scan.expect_code(0);
    assert_eq!(scan.json()["findings"].as_array().map(Vec::len), Some(0), "{scan}");
    let out = repo.try_commit(&[]);
    assert_committed(&repo, &out, None, "public values");
}

#[test]
fn first_commit_of_an_empty_repo() {
    let repo = repo_with_hook();
    assert_eq!(repo.head(), None);
    let secret = &must_have_secrets()[6];
    repo.write("app.env", format!("{}\n", secret.line)).stage(&["app.env"]);
    let out = repo.try_commit(&[]);
    assert_blocked(&repo, &out, None, "first commit with a secret");
    repo.write("app.env", "OPENROUTER_API_KEY=\n").stage(&["app.env"]);
    let out = repo.try_commit(&[]);
    assert_committed(&repo, &out, None, "clean first commit");
}

#[test]
fn paths_with_spaces_and_non_utf8_bytes() {
    let repo = repo_with_hook();
    let secrets = must_have_secrets();
    repo.write("dir with space/my secrets.env", format!("{}\n", secrets[0].line));
    let raw = repo.write_bytes_name(b"caf\xe9 \xff.env", format!("{}\n", secrets[6].line));
    repo.stage_all();
    let staged = repo.git(&["diff", "--cached", "--name-only", "-z"]);
    assert_eq!(staged.split('\0').filter(|s| !s.is_empty()).count(), 2, "{staged}");
    let scan = repo.warden(&["scan", "--staged", "-f", "json"]);
    scan.expect_code(1);
    let json = scan.json();
    let paths: Vec<&str> =
        json["findings"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&"dir with space/my secrets.env"), "{scan}");
    assert!(paths.contains(&"caf\u{fffd} \u{fffd}.env"), "{scan}");
    let out = repo.try_commit(&[]);
    assert_blocked(&repo, &out, None, "odd paths");
    assert!(out.all().contains("dir with space/my secrets.env"), "{out}");
    drop(raw);
}

#[test]
fn commit_all_scans_the_temporary_index() {
    let repo = repo_with_hook();
    repo.write("app.env", "PORT=3000\n").write("other.txt", "a\n").stage_all();
    let base = repo.commit("base");
    let secret = &must_have_secrets()[3];
    repo.write("app.env", format!("PORT=3000\n{}\n", secret.line));
    // Nothing is staged yet: the real index is clean.
    repo.warden(&["scan", "--staged"]).expect_code(0);
    let out = repo.try_commit(&["-a"]);
    assert_blocked(&repo, &out, Some(&base), "commit -a");
    // `git commit PATH` commits only PATH through another temporary index: a secret staged
    // in a file left out of the commit does not block it, one in PATH does.
    repo.stage(&["app.env"]);
    repo.write("other.txt", "a\nb\n");
    let out = repo.try_commit(&["--", "other.txt"]);
    assert_committed(&repo, &out, Some(&base), "partial commit of a clean file");
    let head = repo.head().unwrap();
    let out = repo.try_commit(&["--", "app.env"]);
    assert_blocked(&repo, &out, Some(&head), "partial commit of the file with the secret");
}

#[test]
fn merge_in_progress_with_a_secret_in_the_resolution() {
    let repo = repo_with_hook();
    repo.write("settings.env", "MODE=base\n").stage_all();
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("settings.env", "MODE=feature\n").stage_all();
    repo.commit("feature");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("settings.env", "MODE=main\n").stage_all();
    let main = repo.commit("main");
    let merge = repo.git_output(&["merge", "--no-edit", "feature"]);
    assert_ne!(merge.code, Some(0), "expected a conflict\n{merge}");
    assert!(repo.path(".git/MERGE_HEAD").exists());
    let secret = &must_have_secrets()[5];
    repo.write("settings.env", format!("MODE=merged\n{}\n", secret.line));
    repo.stage(&["settings.env"]);
    let out = repo.git_output(&["commit", "--no-edit"]);
    assert_blocked(&repo, &out, Some(&main), "merge commit");
    assert!(repo.path(".git/MERGE_HEAD").exists(), "the merge was abandoned");
    repo.write("settings.env", "MODE=merged\n").stage(&["settings.env"]);
    let out = repo.git_output(&["commit", "--no-edit"]);
    assert_committed(&repo, &out, Some(&main), "clean merge resolution");
}

#[test]
fn linked_worktree_uses_the_common_hook() {
    let repo = TestRepo::new();
    repo.write("README.md", "# app\n").stage_all();
    repo.commit("base");
    let wt = repo.tmp().join("linked wt");
    repo.git(&["worktree", "add", "-q", "-b", "feature", wt.to_str().unwrap()]);
    // Installed from inside the linked worktree: the hook lands in the common git dir.
    repo.warden_in(&wt, &["install"]).expect_code(0);
    assert!(repo.path(".git/hooks/pre-commit").is_file());
    let secret = &must_have_secrets()[1];
    fs::write(wt.join("app.env"), format!("{}\n", secret.line)).unwrap();
    repo.git_in(&wt, &["add", "app.env"]);
    let before = repo.git_in(&wt, &["rev-parse", "HEAD"]).stdout;
    let out = repo.git_in(&wt, &["commit", "-m", "in the worktree"]);
    assert_ne!(out.code, Some(0), "the commit went through\n{out}");
    assert!(out.all().contains("sentry-user-token"), "{out}");
    assert_eq!(repo.git_in(&wt, &["rev-parse", "HEAD"]).stdout, before);
    // The main worktree's index is not the linked one's: nothing staged there.
    let main = repo.warden(&["scan", "--staged"]);
    main.expect_code(0);
    let linked = repo.warden_in(&wt, &["scan", "--staged", "-f", "json"]);
    linked.expect_code(1);
    assert_eq!(linked.json()["findings"][0]["path"], "app.env", "{linked}");
    // `git commit -a` in the linked worktree (its own temporary index).
    repo.git_in(&wt, &["rm", "-q", "--cached", "app.env"]);
    fs::remove_file(wt.join("app.env")).unwrap();
    fs::write(wt.join("README.md"), format!("# app\n{}\n", secret.line)).unwrap();
    let out = repo.git_in(&wt, &["commit", "-a", "-m", "all in the worktree"]);
    assert_ne!(out.code, Some(0), "commit -a went through\n{out}");
    assert_eq!(repo.git_in(&wt, &["rev-parse", "HEAD"]).stdout, before);
}

/// A repository whose first commit (made without the hook) already holds a secret.
fn repo_with_committed_secret() -> (TestRepo, String) {
    let repo = TestRepo::new();
    let secret = must_have_secrets()[6].clone();
    repo.write("keys.env", format!("# keys\n{}\nPORT=1\n", secret.line));
    repo.write("README.md", "# app\n").stage_all();
    repo.commit("legacy secret");
    repo.install_hook();
    (repo, secret.rule.to_string())
}

#[test]
fn deleting_a_file_with_a_secret_is_not_a_finding() {
    let (repo, _) = repo_with_committed_secret();
    let base = repo.head();
    repo.git(&["rm", "-q", "keys.env"]);
    let scan = repo.warden(&["scan", "--staged", "--all-lines", "-f", "json"]);
    scan.expect_code(0);
    assert_eq!(scan.json()["stats"]["blobs"], 0, "{scan}");
    let out = repo.try_commit(&[]);
    assert_committed(&repo, &out, base.as_deref(), "deletion");
}

#[test]
fn pure_rename_of_a_committed_secret_does_not_block() {
    let (repo, rule) = repo_with_committed_secret();
    let base = repo.head();
    repo.git(&["mv", "keys.env", "renamed keys.env"]);
    repo.warden(&["scan", "--staged"]).expect_code(0);
    let all = repo.warden(&["scan", "--staged", "--all-lines", "-f", "json"]);
    all.expect_code(1);
    let json = all.json();
    assert_eq!(json["findings"][0]["rule"], rule.as_str(), "{all}");
    assert_eq!(json["findings"][0]["path"], "renamed keys.env", "{all}");
    let out = repo.try_commit(&[]);
    assert_committed(&repo, &out, base.as_deref(), "pure rename");
}

#[test]
fn rename_with_an_added_secret_blocks() {
    let (repo, _) = repo_with_committed_secret();
    let base = repo.head();
    repo.git(&["mv", "keys.env", "moved.env"]);
    let extra = &must_have_secrets()[0];
    let text = fs::read_to_string(repo.path("moved.env")).unwrap();
    repo.write("moved.env", format!("{text}{}\n", extra.line)).stage(&["moved.env"]);
    let scan = repo.warden(&["scan", "--staged", "-f", "json"]);
    scan.expect_code(1);
    let json = scan.json();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "only the added line counts\n{scan}");
    assert_eq!(findings[0]["rule"], extra.rule, "{scan}");
    assert_eq!(findings[0]["line"], 4, "{scan}");
    let out = repo.try_commit(&[]);
    assert_blocked(&repo, &out, base.as_deref(), "rename plus a new secret");
}

#[test]
fn committed_secret_is_not_reported_on_an_unrelated_added_line() {
    let (repo, rule) = repo_with_committed_secret();
    let base = repo.head();
    let text = fs::read_to_string(repo.path("keys.env")).unwrap();
    repo.write("keys.env", format!("{text}DEBUG=1\n")).stage(&["keys.env"]);
    let scan = repo.warden(&["scan", "--staged", "-f", "json"]);
    scan.expect_code(0);
    assert_eq!(scan.json()["findings"].as_array().map(Vec::len), Some(0), "{scan}");
    let all = repo.warden(&["scan", "--staged", "--all-lines", "-f", "json"]);
    all.expect_code(1);
    assert_eq!(all.json()["findings"][0]["rule"], rule.as_str(), "{all}");
    assert_eq!(all.json()["findings"][0]["line"], 2, "{all}");
    // `[scan] all_lines = true` in warden.toml does the same.
    repo.write("warden.toml", "[scan]\nall_lines = true\n");
    repo.warden(&["scan", "--staged"]).expect_code(1);
    fs::remove_file(repo.path("warden.toml")).unwrap();
    let out = repo.try_commit(&[]);
    assert_committed(&repo, &out, base.as_deref(), "unrelated added line");
}

#[test]
fn binary_and_huge_files_are_skipped_and_counted() {
    let repo = repo_with_hook();
    let secret = &must_have_secrets()[6];
    let mut binary = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    binary.extend_from_slice(format!("\n{}\n", secret.line).as_bytes());
    repo.write("logo.png", &binary);
    // 50 MB with a secret on the first line: over the default 10 MiB cap.
    let mut big = format!("{}\n", secret.line).into_bytes();
    let filler = b"lorem ipsum dolor sit amet, consectetur adipiscing elit\n";
    while big.len() < 50_000_000 {
        big.extend_from_slice(filler);
    }
    repo.write("big.log", &big);
    repo.write("small.txt", "hello\n").stage_all();
    let human = repo.warden(&["scan", "--staged"]);
    human.expect_code(0);
    assert!(
        human.stdout.contains("skipped: 1 binary, 1 over the size limit"),
        "summary does not count the skips\n{human}"
    );
    let json = repo.warden(&["scan", "--staged", "-f", "json"]);
    json.expect_code(0);
    let stats = &json.json()["stats"];
    assert_eq!(stats["skipped_binary"], 1, "{json}");
    assert_eq!(stats["skipped_large"], 1, "{json}");
    assert_eq!(stats["blobs"], 1, "{json}");
    // The hook lets the commit through and says what it skipped.
    let out = repo.try_commit(&[]);
    assert_committed(&repo, &out, None, "binary and huge files");
    assert!(out.all().contains("1 over the size limit"), "{out}");
}

#[test]
fn max_file_size_flag_and_config() {
    let repo = TestRepo::new();
    let secret = &must_have_secrets()[6];
    repo.write("app.env", format!("{}\n", secret.line)).stage_all();
    repo.warden(&["scan", "--staged"]).expect_code(1);
    let small = repo.warden(&["scan", "--staged", "--max-file-size", "16", "-f", "json"]);
    small.expect_code(0);
    assert_eq!(small.json()["stats"]["skipped_large"], 1, "{small}");
    repo.write("warden.toml", "[scan]\nmax_file_size = 16\n");
    let cfg = repo.warden(&["scan", "--staged", "-f", "json"]);
    cfg.expect_code(0);
    assert_eq!(cfg.json()["stats"]["skipped_large"], 1, "{cfg}");
    // The flag wins over the config.
    repo.warden(&["scan", "--staged", "--max-file-size", "100000"]).expect_code(1);
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn foreign_hook_is_chained_and_restored_exactly() {
    use std::os::unix::fs::PermissionsExt;
    let repo = TestRepo::new();
    let hooks = repo.path(".git/hooks");
    fs::create_dir_all(&hooks).unwrap();
    let hook = hooks.join("pre-commit");
    let marker = repo.tmp().join("foreign-ran");
    let script = format!(
        "#!/bin/sh\n# someone's hook, odd bytes kept: caf\u{e9} \t\n\
         echo ran >> '{}'\n\
         [ -f \"$(git rev-parse --show-toplevel)/STOP\" ] && exit 3\n\
         exit 0\n",
        marker.display()
    );
    fs::write(&hook, &script).unwrap();
    fs::set_permissions(&hook, fs::Permissions::from_mode(0o750)).unwrap();
    let out = repo.install_hook();
    assert!(out.stdout.contains("pre-commit.pre-warden"), "{out}");
    assert!(fs::read_to_string(&hook).unwrap().contains("warden-managed-hook"));
    // Installing twice changes nothing and keeps the chained hook.
    repo.install_hook();
    assert_eq!(fs::read_to_string(hooks.join("pre-commit.pre-warden")).unwrap(), script);

    // Clean commit: both hooks run.
    repo.write("a.txt", "a\n").stage_all();
    let out = repo.try_commit(&[]);
    assert_committed(&repo, &out, None, "clean commit through both hooks");
    assert!(marker.exists(), "the chained hook did not run");
    let head = repo.head();
    // The foreign hook failing blocks the commit on its own.
    repo.write("STOP", "").write("b.txt", "b\n").stage(&["b.txt"]);
    let out = repo.try_commit(&[]);
    assert_ne!(out.code, Some(0), "{out}");
    assert_eq!(repo.head(), head);
    fs::remove_file(repo.path("STOP")).unwrap();
    // A secret still blocks.
    repo.write("b.txt", format!("{}\n", must_have_secrets()[6].line)).stage(&["b.txt"]);
    let out = repo.try_commit(&[]);
    assert_blocked(&repo, &out, head.as_deref(), "secret with a chained hook");

    let out = repo.warden(&["uninstall"]);
    out.expect_code(0);
    assert_eq!(fs::read_to_string(&hook).unwrap(), script, "not restored byte for byte");
    assert_eq!(mode(&hook), 0o750, "mode not restored");
    assert!(!hooks.join("pre-commit.pre-warden").exists());
    // Uninstalling again leaves the foreign hook alone.
    let again = repo.warden(&["uninstall"]);
    assert_ne!(again.code, Some(0), "{again}");
    assert_eq!(fs::read_to_string(&hook).unwrap(), script);
}

#[test]
fn uninstall_without_a_foreign_hook_removes_the_hook() {
    let repo = TestRepo::new();
    repo.install_hook();
    let hook = repo.path(".git/hooks/pre-commit");
    assert!(hook.is_file());
    repo.warden(&["uninstall"]).expect_code(0);
    assert!(!hook.exists());
    assert!(!repo.path(".git/hooks/pre-commit.pre-warden").exists());
}

#[test]
fn core_hooks_path_is_honoured() {
    let repo = TestRepo::new();
    repo.git(&["config", "core.hooksPath", ".githooks"]);
    repo.install_hook();
    assert!(repo.path(".githooks/pre-commit").is_file(), "hook not in core.hooksPath");
    assert!(!repo.path(".git/hooks/pre-commit").exists(), "hook in .git/hooks");
    repo.write("app.env", format!("{}\n", must_have_secrets()[2].line)).stage(&["app.env"]);
    let out = repo.try_commit(&[]);
    assert_blocked(&repo, &out, None, "core.hooksPath (relative)");

    let abs = repo.tmp().join("shared hooks");
    repo.git(&["config", "core.hooksPath", abs.to_str().unwrap()]);
    repo.install_hook();
    assert!(abs.join("pre-commit").is_file(), "hook not in the absolute core.hooksPath");
    let out = repo.try_commit(&[]);
    assert_blocked(&repo, &out, None, "core.hooksPath (absolute)");
    repo.warden(&["uninstall"]).expect_code(0);
    assert!(!abs.join("pre-commit").exists());
}

#[test]
fn nothing_staged_exits_zero_silently() {
    let repo = TestRepo::new();
    for args in [&["hook"][..], &["scan", "--staged"][..]] {
        let out = repo.warden(args);
        out.expect_code(0);
        assert_eq!(out.stdout, "", "{args:?}: output on an empty index\n{out}");
        assert_eq!(out.stderr, "", "{args:?}: output on an empty index\n{out}");
    }
    repo.write("a.txt", "a\n").stage_all();
    repo.commit("base");
    // Unstaged changes only, even with a secret: nothing to say.
    repo.write("a.txt", format!("{}\n", must_have_secrets()[6].line));
    let out = repo.warden(&["hook"]);
    out.expect_code(0);
    assert_eq!(out.all(), "", "{out}");
    // Even with a broken config: nothing staged means no config is read.
    repo.write("warden.toml", "[scan\n");
    repo.warden(&["hook"]).expect_code(0);
}

#[test]
fn subdirectory_cwd_and_distinct_seeds() {
    let repo = TestRepo::new();
    let a = fake_seeded("sk-or-v1-%{hex:64}", 1);
    let b = fake_seeded("sk-or-v1-%{hex:64}", 2);
    assert_ne!(a, b);
    repo.write("sub/dir/app.env", format!("OPENROUTER_API_KEY={a}\nOTHER={b}\n")).stage_all();
    let out = repo.warden_in(&repo.path("sub/dir"), &["scan", "--staged", "-f", "json"]);
    out.expect_code(1);
    let json = out.json();
    assert_eq!(json["findings"].as_array().unwrap().len(), 2, "{out}");
    assert_eq!(json["findings"][0]["path"], "sub/dir/app.env", "{out}");
}

#[test]
fn utf16_file_with_a_secret_blocks() {
    let repo = repo_with_hook();
    let secret = &must_have_secrets()[6];
    let text = format!("# settings\r\n{}\r\n", secret.line);
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    repo.write("settings.ps1", &bytes).stage_all();
    let scan = repo.warden(&["scan", "--staged", "-f", "json"]);
    scan.expect_code(1);
    let json = scan.json();
    assert_eq!(json["findings"][0]["rule"], secret.rule, "{scan}");
    assert_eq!(json["findings"][0]["line"], 2, "{scan}");
    let out = repo.try_commit(&[]);
    assert_blocked(&repo, &out, None, "UTF-16 file");
}

#[test]
fn many_files_are_scanned_in_parallel_with_stable_output() {
    let repo = TestRepo::new();
    for i in 0..40u64 {
        let value = fake_seeded("sk-or-v1-%{hex:64}", 1000 + i);
        let filler = "let x = 1;\n".repeat(i as usize);
        repo.write(format!("src/m{i:02}.rs"), format!("{filler}const K: &str = \"{value}\";\n"));
    }
    repo.stage_all();
    let first = repo.warden(&["scan", "--staged", "-f", "json"]);
    first.expect_code(1);
    let json = first.json();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 40, "{first}");
    for (i, f) in findings.iter().enumerate() {
        assert_eq!(f["path"], format!("src/m{i:02}.rs"), "not sorted by path\n{first}");
        assert_eq!(f["line"], i + 1, "{first}");
    }
    for _ in 0..2 {
        let again = repo.warden(&["scan", "--staged", "-f", "json"]);
        assert_eq!(again.stdout, first.stdout, "output differs between runs");
    }
}

#[test]
fn a_committed_secret_added_again_on_a_new_line_is_reported() {
    let (repo, rule) = repo_with_committed_secret();
    let text = fs::read_to_string(repo.path("keys.env")).unwrap();
    let secret_line = text.lines().nth(1).unwrap().to_string();
    repo.write("keys.env", format!("{text}# copy\n{secret_line}\n")).stage(&["keys.env"]);
    let scan = repo.warden(&["scan", "--staged", "-f", "json"]);
    scan.expect_code(1);
    let json = scan.json();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{scan}");
    assert_eq!(findings[0]["rule"], rule.as_str(), "{scan}");
    assert_eq!(findings[0]["line"], 5, "{scan}");
}

#[test]
fn crlf_line_numbers_and_columns() {
    let repo = TestRepo::new();
    let secret = &must_have_secrets()[6];
    repo.write("win.env", format!("A=1\r\nB=2\r\n{}\r\n", secret.line)).stage_all();
    let scan = repo.warden(&["scan", "--staged", "-f", "json"]);
    scan.expect_code(1);
    let f = &scan.json()["findings"][0];
    assert_eq!(f["line"], 3, "{scan}");
    assert_eq!(f["column"], "OPENROUTER_API_KEY=".len() + 1, "{scan}");
}

#[test]
fn git_dir_and_work_tree_given_on_the_command_line() {
    let repo = repo_with_hook();
    repo.write("app.env", format!("{}\n", must_have_secrets()[6].line)).stage_all();
    // Run from outside the working tree with relative --git-dir / --work-tree, as scripts do.
    let out =
        repo.git_in(repo.tmp(), &["--git-dir=repo/.git", "--work-tree=repo", "commit", "-m", "x"]);
    assert_blocked(&repo, &out, None, "--git-dir/--work-tree");
    let out = repo.git_in(
        repo.tmp(),
        &["--git-dir=repo/.git", "--work-tree=repo", "rm", "-q", "--cached", "app.env"],
    );
    assert_eq!(out.code, Some(0), "{out}");
    repo.write("ok.txt", "fine\n").stage(&["ok.txt"]);
    let out =
        repo.git_in(repo.tmp(), &["--git-dir=repo/.git", "--work-tree=repo", "commit", "-m", "x"]);
    assert_committed(&repo, &out, None, "--git-dir/--work-tree, clean");
}

#[cfg(unix)]
#[test]
fn hook_fails_closed_when_the_binary_is_gone() {
    let repo = TestRepo::new();
    // Install from a copy of the binary (in a directory whose name needs quoting), check it
    // guards, then delete the copy.
    let copy = repo.tmp().join("my bin's dir").join("warden");
    fs::create_dir_all(copy.parent().unwrap()).unwrap();
    let program = crate::support::warden_program();
    if fs::hard_link(&program, &copy).is_err() {
        fs::copy(&program, &copy).unwrap();
    }
    let mut cmd = repo.command(&copy, repo.root());
    cmd.arg("install");
    TestRepo::run(cmd).expect_code(0);
    let hook = fs::read_to_string(repo.path(".git/hooks/pre-commit")).unwrap();
    let quoted = copy.to_str().unwrap().replace('\'', "'\\''");
    assert!(hook.contains(&format!("warden_bin='{quoted}'")), "{hook}");
    repo.write("a.txt", format!("{}\n", must_have_secrets()[6].line)).stage_all();
    let out = repo.try_commit(&[]);
    assert_blocked(&repo, &out, None, "binary in a quoted path");
    fs::remove_file(&copy).unwrap();
    repo.write("a.txt", "clean\n").stage_all();
    let mut cmd = repo.command("git", repo.root());
    // PATH without any directory holding a `warden` (the hook's fallback), git kept.
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path).filter(|d| !d.join("warden").exists());
    cmd.args(["commit", "-m", "x"]).env("PATH", std::env::join_paths(dirs).unwrap());
    let out = TestRepo::run(cmd);
    assert_ne!(out.code, Some(0), "commit went through without warden\n{out}");
    assert!(out.stderr.contains("binary is missing"), "{out}");
    assert_eq!(repo.head(), None);
}

#[test]
fn uninstall_refuses_an_edited_hook_unless_forced() {
    let repo = TestRepo::new();
    repo.install_hook();
    let hook = repo.path(".git/hooks/pre-commit");
    let mut text = fs::read_to_string(&hook).unwrap();
    text.push_str("echo my addition\n");
    fs::write(&hook, &text).unwrap();
    let out = repo.warden(&["uninstall"]);
    assert_eq!(out.code, Some(2), "{out}");
    assert!(out.stderr.contains("--force"), "{out}");
    assert_eq!(fs::read_to_string(&hook).unwrap(), text);
    repo.warden(&["uninstall", "--force"]).expect_code(0);
    assert!(!hook.exists());
}

#[test]
fn moving_a_big_directory_holding_a_committed_secret_does_not_block() {
    let repo = TestRepo::new();
    for i in 0..250 {
        repo.write(format!("src/m{i:04}.rs"), format!("pub fn f{i}() -> u32 {{ {i} }}\n"));
    }
    let secret = &must_have_secrets()[6];
    repo.write("src/keys.env", format!("{}\n", secret.line));
    repo.stage_all();
    repo.commit("legacy");
    repo.git(&["mv", "src", "app"]);
    let scan = repo.warden(&["scan", "--staged", "-f", "json"]);
    scan.expect_code(0);
    assert_eq!(scan.json()["findings"].as_array().map(Vec::len), Some(0), "{scan}");
}

#[test]
fn utf16_modified_file_reports_only_the_added_line() {
    let repo = TestRepo::new();
    let utf16 = |text: &str| {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        bytes
    };
    let old = &must_have_secrets()[6];
    let new = &must_have_secrets()[1];
    let base = format!("# settings\r\n{}\r\nPORT=1\r\n", old.line);
    repo.write("settings.ps1", utf16(&base)).stage_all();
    repo.commit("legacy");
    repo.write("settings.ps1", utf16(&format!("{base}DEBUG=1\r\n{}\r\n", new.line)));
    repo.stage_all();
    let scan = repo.warden(&["scan", "--staged", "-f", "json"]);
    scan.expect_code(1);
    let json = scan.json();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{scan}");
    assert_eq!(findings[0]["rule"], new.rule, "{scan}");
    assert_eq!(findings[0]["line"], 5, "{scan}");
}

#[test]
fn the_working_tree_is_never_read_for_a_staged_scan() {
    let repo = TestRepo::new();
    let secret = &must_have_secrets()[6];
    repo.write("app.env", format!("{}\n", secret.line)).stage_all();
    // The working copy no longer holds the secret, the index still does.
    repo.write("app.env", "OPENROUTER_API_KEY=\n");
    let out = repo.warden(&["scan", "--staged", "-f", "json"]);
    out.expect_code(1);
    assert_eq!(out.json()["findings"][0]["rule"], secret.rule, "{out}");
    // And the other way round: a clean index, a secret only in the working copy.
    repo.stage_all();
    repo.write("app.env", format!("{}\n", secret.line));
    let out = repo.warden(&["scan", "--staged", "-f", "json"]);
    out.expect_code(0);
    assert_eq!(out.json()["stats"]["blobs"], 1, "{out}");
}

#[test]
fn install_never_clobbers_an_earlier_chained_hook() {
    let repo = TestRepo::new();
    let hooks = repo.path(".git/hooks");
    fs::create_dir_all(&hooks).unwrap();
    fs::write(hooks.join("pre-commit"), "#!/bin/sh\necho mine\n").unwrap();
    fs::write(hooks.join("pre-commit.pre-warden"), "#!/bin/sh\necho older\n").unwrap();
    let out = repo.warden(&["install"]);
    assert_eq!(out.code, Some(2), "{out}");
    assert!(out.stderr.contains("pre-commit.pre-warden"), "{out}");
    assert_eq!(fs::read_to_string(hooks.join("pre-commit")).unwrap(), "#!/bin/sh\necho mine\n");
    assert_eq!(
        fs::read_to_string(hooks.join("pre-commit.pre-warden")).unwrap(),
        "#!/bin/sh\necho older\n"
    );
}

#[cfg(unix)]
#[test]
fn a_symlinked_foreign_hook_is_chained_and_restored_as_a_symlink() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let repo = TestRepo::new();
    let target = repo.tmp().join("shared-hook.sh");
    let marker = repo.tmp().join("shared-ran");
    fs::write(&target, format!("#!/bin/sh\ntouch '{}'\n", marker.display())).unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o755)).unwrap();
    let hooks = repo.path(".git/hooks");
    fs::create_dir_all(&hooks).unwrap();
    symlink(&target, hooks.join("pre-commit")).unwrap();
    repo.install_hook();
    repo.write("a.txt", "a\n").stage_all();
    let out = repo.try_commit(&[]);
    assert_committed(&repo, &out, None, "chained symlinked hook");
    assert!(marker.exists(), "the chained hook did not run");
    repo.warden(&["uninstall"]).expect_code(0);
    let link = fs::read_link(hooks.join("pre-commit")).expect("restored as a symlink");
    assert_eq!(link, target);
}

#[test]
fn hooks_path_with_a_tilde() {
    let repo = TestRepo::new();
    repo.git(&["config", "core.hooksPath", "~/githooks"]);
    repo.install_hook();
    let hook = repo.tmp().join("home/githooks/pre-commit");
    assert!(hook.is_file(), "hook not in ~/githooks");
    repo.write("a.env", format!("{}\n", must_have_secrets()[0].line)).stage_all();
    let out = repo.try_commit(&[]);
    assert_blocked(&repo, &out, None, "core.hooksPath = ~/githooks");
}

#[test]
fn merge_does_not_block_on_a_secret_already_committed_on_the_other_branch() {
    let repo = TestRepo::new();
    repo.write("settings.env", "MODE=base\n").write("keys.env", "# keys\n").stage_all();
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let secret = &must_have_secrets()[6];
    // Committed on the feature branch before the hook existed: history's business.
    repo.write("keys.env", format!("# keys\n{}\n", secret.line));
    repo.write("settings.env", "MODE=feature\n").stage_all();
    repo.commit("feature");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("settings.env", "MODE=main\n").stage_all();
    let main = repo.commit("main");
    repo.install_hook();
    let merge = repo.git_output(&["merge", "--no-edit", "feature"]);
    assert_ne!(merge.code, Some(0), "expected a conflict\n{merge}");
    repo.write("settings.env", "MODE=merged\n").stage(&["settings.env"]);
    let scan = repo.warden(&["scan", "--staged", "-f", "json"]);
    assert_eq!(scan.json()["findings"].as_array().map(Vec::len), Some(0), "{scan}");
    let all = repo.warden(&["scan", "--staged", "--all-lines", "-f", "json"]);
    assert_eq!(all.json()["findings"][0]["rule"], secret.rule, "{all}");
    // A secret new to both parents, in the same file, is still reported (and only it).
    let fresh = &must_have_secrets()[0];
    let merged = format!("# keys\n{}\n{}\n", secret.line, fresh.line);
    repo.write("keys.env", &merged).stage(&["keys.env"]);
    let scan = repo.warden(&["scan", "--staged", "-f", "json"]);
    scan.expect_code(1);
    let json = scan.json();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{scan}");
    assert_eq!(findings[0]["rule"], fresh.rule, "{scan}");
    assert_eq!(findings[0]["line"], 3, "{scan}");
    let out = repo.git_output(&["commit", "--no-edit"]);
    assert_blocked(&repo, &out, Some(&main), "merge adding a new secret");
    repo.write("keys.env", format!("# keys\n{}\n", secret.line)).stage(&["keys.env"]);
    let out = repo.git_output(&["commit", "--no-edit"]);
    assert_committed(&repo, &out, Some(&main), "merge bringing in a committed secret");
}

#[test]
fn separate_git_dir_as_in_submodules() {
    let repo = TestRepo::bare_dir();
    let git_dir = repo.tmp().join("modules/app.git");
    fs::create_dir_all(git_dir.parent().unwrap()).unwrap();
    repo.git(&["init", "-q", "-b", "main", "--separate-git-dir", git_dir.to_str().unwrap()]);
    assert!(repo.path(".git").is_file(), "expected a gitfile");
    repo.install_hook();
    assert!(git_dir.join("hooks/pre-commit").is_file(), "hook not in the separate git dir");
    repo.write("app.env", format!("{}\n", must_have_secrets()[4].line)).stage_all();
    let out = repo.try_commit(&[]);
    assert_blocked(&repo, &out, None, "separate git dir");
    let out = repo.try_commit(&["-a"]);
    assert_blocked(&repo, &out, None, "separate git dir, commit -a");
}

/// Runs `cmd` with stdout and stderr both writing into pipes nobody reads any more.
fn run_with_closed_output(mut cmd: std::process::Command) -> Option<i32> {
    cmd.stdout(crate::support::closed_pipe()).stderr(crate::support::closed_pipe());
    cmd.status().expect("running the command").code()
}

#[test]
fn a_closed_output_pipe_never_turns_findings_into_success() {
    let repo = repo_with_hook();
    repo.write("app.env", format!("{}\n", must_have_secrets()[6].line)).stage_all();
    for args in [&["hook"][..], &["scan", "--staged"][..], &["scan", "--staged", "-f", "json"][..]]
    {
        let mut cmd = repo.command(crate::support::warden_program(), repo.root());
        cmd.args(args);
        assert_eq!(run_with_closed_output(cmd), Some(1), "{args:?} with a closed stdout");
    }
    // `git commit 2>&1 | head -1`: the hook's output goes nowhere, the commit still fails.
    let mut cmd = repo.command("git", repo.root());
    cmd.args(["commit", "-m", "x"]);
    assert_ne!(run_with_closed_output(cmd), Some(0));
    assert_eq!(repo.head(), None, "a secret was committed because the output pipe was closed");
    // And a clean change still commits (the hook's summary line goes nowhere, no panic);
    // `-q` so that git itself writes nothing (it dies of SIGPIPE otherwise).
    repo.write("app.env", "PORT=1\n").stage_all();
    let mut cmd = repo.command("git", repo.root());
    cmd.args(["commit", "-q", "-m", "x"]);
    assert_eq!(run_with_closed_output(cmd), Some(0));
    assert!(repo.head().is_some());
}

#[test]
fn realistic_placeholders_and_references_in_env_and_code_do_not_block() {
    let repo = repo_with_hook();
    let demo_service_role = fake("%{jwt:supabase-demo:service_role}");
    let demo_anon = fake("%{jwt:supabase-demo:anon}");
    let (p, s, e) = (fake("%{uuid4}"), fake_seeded("%{uuid4}", 2), fake_seeded("%{uuid4}", 3));
    let env = format!(
        "# copy to .env.local and fill in\n\
         OPENROUTER_API_KEY=<your-openrouter-key>\n\
         OPENROUTER_API_KEY=sk-or-v1-...\n\
         SUPABASE_SERVICE_ROLE_KEY=your-service-role-key\n\
         SUPABASE_SERVICE_ROLE_KEY=${{SUPABASE_SERVICE_ROLE_KEY}}\n\
         SUPABASE_SECRET_KEY=sb_secret_...\n\
         SENTRY_AUTH_TOKEN=sntrys_YOUR_TOKEN_HERE\n\
         SENTRY_AUTH_TOKEN=\n\
         VERCEL_TOKEN=\"\"\n\
         VERCEL_TOKEN=<token>\n\
         UPSTASH_REDIS_REST_TOKEN=********\n\
         UPSTASH_REDIS_REST_TOKEN=${{UPSTASH_REDIS_REST_TOKEN}}\n\
         RAILWAY_TOKEN=${{{{ shared.RAILWAY_TOKEN }}}}\n\
         RAILWAY_TOKEN=$RAILWAY_TOKEN\n\
         RAILWAY_PROJECT_ID={p}\n\
         RAILWAY_SERVICE_ID={s}\n\
         RAILWAY_ENVIRONMENT_ID={e}\n\
         ENCRYPTION_KEY=changeme\n\
         ENCRYPTION_KEY=${{ENCRYPTION_KEY}}\n\
         # supabase start (local development defaults)\n\
         SERVICE_ROLE_KEY={demo_service_role}\n\
         ANON_KEY={demo_anon}\n"
    );
    let ts = "const openrouter = process.env[\"OPENROUTER_API_KEY\"]!;\n\
              const supabaseUrl = import.meta.env.VITE_SUPABASE_URL;\n\
              const supabaseKey = import.meta.env.VITE_SUPABASE_ANON_KEY;\n\
              const token = process.env.SENTRY_AUTH_TOKEN ?? \"\";\n\
              const railway = Deno.env.get(\"RAILWAY_TOKEN\");\n";
    let py = "import os\n\
              ENCRYPTION_KEY = os.environ[\"ENCRYPTION_KEY\"]\n\
              UPSTASH_REDIS_REST_TOKEN = os.getenv(\"UPSTASH_REDIS_REST_TOKEN\")\n\
              VERCEL_TOKEN = os.environ.get('VERCEL_TOKEN', '')\n";
    let yml = "env:\n  \
               RAILWAY_TOKEN: ${{ secrets.RAILWAY_TOKEN }}\n  \
               VERCEL_TOKEN: ${{ secrets.VERCEL_TOKEN }}\n  \
               SENTRY_AUTH_TOKEN: ${{ secrets.SENTRY_AUTH_TOKEN }}\n  \
               OPENROUTER_API_KEY: ${{ secrets.OPENROUTER_API_KEY }}\n";
    repo.write(".env", env).write("src/client.ts", ts).write("app/settings.py", py);
    repo.write(".github/workflows/deploy.yml", yml).stage_all();
    let scan = repo.warden(&["scan", "--staged", "--format", "json"]);
    scan.expect_code(0);
    assert_eq!(scan.json()["findings"].as_array().map(Vec::len), Some(0), "{scan}");
    let out = repo.try_commit(&[]);
    assert_committed(&repo, &out, None, "placeholders and references");
}

#[test]
fn every_example_of_the_must_have_rules_is_found_through_the_index() {
    use warden::rules::template::{expand, Rng};
    const PROVIDERS: &[&str] =
        &["Railway", "Sentry", "Vercel", "Upstash", "Supabase", "OpenRouter", "Generic", "Rails"];
    let repo = TestRepo::new();
    let rules = repo.warden(&["rules", "list", "--json"]).json();
    let mut expected: Vec<(String, String, bool)> = Vec::new(); // (path, rule, reported)
    for rule in rules.as_array().unwrap() {
        let provider = rule["provider"].as_str().unwrap();
        if !PROVIDERS.contains(&provider) {
            continue;
        }
        let id = rule["id"].as_str().unwrap();
        let public = rule["kind"] == "public";
        let examples = rule["examples"].as_array().unwrap();
        for (n, template) in examples.iter().enumerate() {
            let text =
                expand(template.as_str().unwrap(), &mut Rng::for_key(id, 7777 + n as u64)).unwrap();
            let path = match rule["example_path"].as_str() {
                Some(p) => format!("ex/{id}/{n}/{p}"),
                None => format!("ex/{id}/{n}.txt"),
            };
            repo.write(&path, format!("{text}\n"));
            expected.push((path, id.to_string(), !public));
        }
    }
    assert!(expected.len() >= 40, "only {} examples", expected.len());
    repo.stage_all();
    let out = repo.warden(&["scan", "--staged", "-f", "json"]);
    out.expect_code(1);
    let json = out.json();
    let findings = json["findings"].as_array().unwrap();
    let mut missed = Vec::new();
    for (path, rule, reported) in &expected {
        let hits: Vec<&str> = findings
            .iter()
            .filter(|f| f["path"] == path.as_str())
            .map(|f| f["rule"].as_str().unwrap())
            .collect();
        if *reported && hits.is_empty() {
            missed.push(format!("{path}: nothing found (expected {rule})"));
        }
        if !*reported && !hits.is_empty() {
            missed.push(format!("{path}: public value reported as {hits:?}"));
        }
    }
    assert!(missed.is_empty(), "{} problems:\n{}", missed.len(), missed.join("\n"));
}
