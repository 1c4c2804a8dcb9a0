//! Bad input: broken `warden.toml` files, broken rule files, no repository, missing paths.
//! Each must give one clear error naming the file (and the line, when there is one), exit 2,
//! and never panic.

use crate::support::{must_have_secrets, Output, TestRepo};

/// Asserts exit 2, no panic, and exactly one `warden: error:` line that contains `needle`.
#[track_caller]
fn assert_one_error(out: &Output, needle: &str) -> String {
    assert_eq!(out.code, Some(2), "expected exit 2\n{out}");
    assert!(!out.stderr.contains("panicked"), "panic\n{out}");
    assert_eq!(out.stdout, "", "an error run printed a report\n{out}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "not exactly one error line\n{out}");
    assert!(lines[0].starts_with("warden: error: "), "{out}");
    assert!(lines[0].contains(needle), "error does not contain {needle:?}\n{out}");
    lines[0].to_string()
}

/// A repository with one staged secret, so that a staged scan reads the config.
fn staged_repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("app.env", format!("{}\n", must_have_secrets()[6].line)).stage(&["app.env"]);
    repo
}

/// Runs every scanning entry point (hook, staged scan, directory scan) against the repo's
/// current config and checks each gives the same one-line error.
#[track_caller]
fn assert_config_error(repo: &TestRepo, needle: &str) {
    for args in [&["hook"][..], &["scan", "--staged"][..], &["scan", "."][..], &["scan"][..]] {
        let out = repo.warden(args);
        let line = assert_one_error(&out, needle);
        assert!(line.contains("warden.toml"), "{args:?}: file not named\n{out}");
    }
}

#[test]
fn bad_toml_names_file_and_line() {
    let repo = staged_repo();
    repo.write("warden.toml", "# config\n[scan]\nmax_file_size = 10\n[allow\npaths = []\n");
    assert_config_error(&repo, "warden.toml:4:");
}

#[test]
fn unknown_key_names_file_and_line() {
    let repo = staged_repo();
    repo.write("warden.toml", "[scan]\nmax_file_size = 10\n\n[allow]\npath = [\"docs/\"]\n");
    assert_config_error(&repo, "warden.toml:5:");
    repo.write("warden.toml", "[scan]\nall_lines = true\nbogus = 1\n");
    assert_config_error(&repo, "warden.toml:3:");
    repo.write("warden.toml", "[scna]\n");
    assert_config_error(&repo, "warden.toml:1:");
}

#[test]
fn wrong_type_names_file_and_line() {
    let repo = staged_repo();
    repo.write("warden.toml", "[scan]\nmax_file_size = \"big\"\n");
    assert_config_error(&repo, "warden.toml:2:");
}

const CUSTOM_RULE_BAD_REGEX: &str = r#"[scan]
all_lines = false

[[rule]]
id = "acme-token"
provider = "Acme"
description = "Acme API token"
keywords = ["acme_"]
regex = '\b(acme_[a-z0-9]{32}'
rotate = "https://acme.example/tokens"
"#;

#[test]
fn invalid_custom_rule_regex_names_file_line_and_rule() {
    let repo = staged_repo();
    repo.write("warden.toml", CUSTOM_RULE_BAD_REGEX);
    // The line of the rule (its id) or of the regex itself: either points at the culprit.
    let line = assert_one_error(&repo.warden(&["scan", "--staged"]), "warden.toml:");
    assert!(
        line.contains("warden.toml:5:") || line.contains("warden.toml:9:"),
        "wrong line\n{line}"
    );
    assert!(line.contains("acme-token"), "rule not named\n{line}");
    assert!(line.contains("regex"), "not said to be a regex problem\n{line}");
    assert_config_error(&repo, "acme-token");
}

#[test]
fn custom_rule_with_single_quoted_id_still_names_a_real_line() {
    let repo = staged_repo();
    repo.write("warden.toml", CUSTOM_RULE_BAD_REGEX.replace("\"acme-token\"", "'acme-token'"));
    let line = assert_one_error(&repo.warden(&["scan", "--staged"]), "acme-token");
    assert!(
        line.contains("warden.toml:5:") || line.contains("warden.toml:9:"),
        "wrong line\n{line}"
    );
}

#[test]
fn invalid_allow_regex_names_file_and_line() {
    let repo = staged_repo();
    repo.write(
        "warden.toml",
        "[allow]\npaths = [\"docs/\"]\nregexes = [\n  \"^ok$\",\n  \"(unclosed\",\n]\n",
    );
    assert_config_error(&repo, "warden.toml:5:");
}

#[test]
fn invalid_allow_glob_names_file_and_line() {
    let repo = staged_repo();
    repo.write("warden.toml", "[allow]\nregexes = []\npaths = [\"src/**\", \"a[b\"]\n");
    assert_config_error(&repo, "warden.toml:3:");
}

#[test]
fn explicit_missing_config_file() {
    let repo = staged_repo();
    let out = repo.warden(&["scan", "--staged", "--config", "nope.toml"]);
    assert_one_error(&out, "nope.toml");
}

#[test]
fn rules_list_with_a_broken_config() {
    let repo = staged_repo();
    repo.write("warden.toml", "[rules]\ndisable = [\"x\"\n");
    assert_one_error(&repo.warden(&["rules", "list"]), "warden.toml:");
}

#[test]
fn rules_check_on_a_broken_rule_file() {
    let repo = TestRepo::bare_dir();
    repo.write("bad-toml.toml", "[[rule]]\nid = \"x\"\nprovider = \n");
    assert_one_error(&repo.warden(&["rules", "check", "bad-toml.toml"]), "bad-toml.toml:3:");

    repo.write("unknown.toml", "[[rule]]\nid = \"x\"\nprovider = \"X\"\ncolour = \"red\"\n");
    assert_one_error(&repo.warden(&["rules", "check", "unknown.toml"]), "unknown.toml:4:");

    let bad_regex = CUSTOM_RULE_BAD_REGEX.replace("[scan]\nall_lines = false\n", "\n\n");
    repo.write("bad-regex.toml", &bad_regex);
    let line = assert_one_error(&repo.warden(&["rules", "check", "bad-regex.toml"]), "acme-token");
    assert!(
        line.contains("bad-regex.toml:5:") || line.contains("bad-regex.toml:9:"),
        "wrong line\n{line}"
    );

    let out = repo.warden(&["rules", "check", "missing.toml"]);
    assert_one_error(&out, "missing.toml");
}

#[test]
fn rules_check_reports_failing_examples() {
    let repo = TestRepo::bare_dir();
    let file = r#"[[rule]]
id = "acme-token"
provider = "Acme"
description = "Acme API token"
keywords = ["acme_"]
regex = '\b(acme_[a-z0-9]{32})\b'
rotate = "https://acme.example/tokens"
examples = ["ACME=acme_%{lower:32}", "ACME=acme_%{lower:8}"]
negative_examples = ["ACME=acme_%{lower:31}", "ACME=acme_%{digits:32}"]
"#;
    repo.write("acme.toml", file);
    let out = repo.warden(&["rules", "check", "acme.toml"]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(!out.all().contains("panicked"), "{out}");
    // Each failing example is named (once per seed it was tried with).
    assert!(out.stdout.contains("rule acme-token: example 1 "), "{out}");
    assert!(out.stdout.contains("rule acme-token: negative example 1 "), "{out}");
    assert!(!out.stdout.contains("example 0 "), "{out}");
    assert!(!out.stdout.contains("acme.toml: 1 rules, 0 problems"), "{out}");
    let good =
        file.replace(", \"ACME=acme_%{lower:8}\"", "").replace(", \"ACME=acme_%{digits:32}\"", "");
    repo.write("acme.toml", good);
    let out = repo.warden(&["rules", "check", "acme.toml"]);
    out.expect_code(0);
    assert!(out.stdout.contains("acme.toml: 1 rules, 0 problems"), "{out}");
}

#[test]
fn staged_scan_outside_a_git_repository() {
    let dir = TestRepo::bare_dir();
    for args in [&["scan", "--staged"][..], &["hook"][..], &["install"][..]] {
        let out = dir.warden(args);
        assert_one_error(&out, "not inside a git repository");
    }
    // A directory scan needs no repository.
    dir.write("a.txt", "hello\n");
    dir.warden(&["scan", "."]).expect_code(0);
}

#[test]
fn scanning_a_nonexistent_path() {
    let repo = TestRepo::new();
    let out = repo.warden(&["scan", "does/not/exist"]);
    assert_one_error(&out, "does/not/exist");
}

#[test]
fn unknown_rule_to_explain() {
    let repo = TestRepo::bare_dir();
    assert_one_error(&repo.warden(&["rules", "explain", "no-such-rule"]), "no-such-rule");
}

#[test]
fn broken_per_directory_config_names_its_file() {
    let repo = staged_repo();
    repo.write("packages/api/warden.toml", "[allow]\npaths = [\"fixtures/\"]\nregexes = [\"(\"]\n");
    repo.write("packages/api/app.env", "PORT=1\n");
    repo.stage_all();
    let out = repo.warden(&["scan", "--staged"]);
    let line = assert_one_error(&out, "warden.toml:3:");
    assert!(line.contains("packages/api/warden.toml"), "{line}");
}

#[test]
fn broken_base_config_names_its_file() {
    let repo = staged_repo();
    let base = repo.tmp().join("org.toml");
    std::fs::write(&base, "[scan]\nmax_file_size = 1\n[allow]\nfingerprints = 3\n").unwrap();
    let mut cmd = repo.command(crate::support::warden_program(), repo.root());
    cmd.args(["scan", "--staged"]).env("WARDEN_BASE_CONFIG", &base);
    let out = TestRepo::run(cmd);
    let line = assert_one_error(&out, "org.toml:4:");
    assert!(line.contains(base.to_str().unwrap()), "{line}");
    // The same file through `extends` in the repo config.
    repo.write("warden.toml", format!("extends = \"{}\"\n", base.display()));
    assert_one_error(&repo.warden(&["scan", "--staged"]), "org.toml:4:");
    repo.write("warden.toml", "extends = \"missing-org.toml\"\n");
    assert_one_error(&repo.warden(&["scan", "--staged"]), "missing-org.toml");
}

#[test]
fn an_unreadable_staged_blob_is_an_error_not_a_clean_scan() {
    let repo = staged_repo();
    repo.write("other.txt", "fine\n").stage_all();
    let staged = repo.git(&["ls-files", "-s", "--", "app.env"]);
    let oid = staged.split_whitespace().nth(1).unwrap().to_string();
    std::fs::remove_file(repo.path(format!(".git/objects/{}/{}", &oid[..2], &oid[2..]))).unwrap();
    for args in [&["hook"][..], &["scan", "--staged"][..]] {
        let out = repo.warden(args);
        assert_eq!(out.code, Some(2), "{args:?}: a scan that could not read a blob passed\n{out}");
        assert!(!out.all().contains("panicked"), "{out}");
        assert!(out.all().contains("app.env"), "{args:?}: the unreadable file is not named\n{out}");
        assert!(!out.all().contains("no secrets found"), "{out}");
    }
    let json = repo.warden(&["scan", "--staged", "-f", "json"]);
    assert_eq!(json.code, Some(2), "{json}");
    assert_eq!(json.json()["stats"]["errors"].as_array().map(Vec::len), Some(1), "{json}");
}
