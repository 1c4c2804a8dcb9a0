//! History, range, CI, SARIF, remediation and baseline tests, on repositories the tests
//! build with the git binary (see `support_history`). Fake keys are generated at run time.

use std::io::Write;
use std::process::Stdio;

use crate::support_history::{code, fake_key, json, secret_line, show, warden_in, Repo, Sandbox};

/// main: README; then `config.env` with a secret; then the secret deleted.
fn added_then_deleted(sb: &Sandbox) -> (Repo<'_>, String) {
    let repo = sb.repo("src");
    repo.write("README.md", "hello\n");
    repo.commit("initial");
    repo.write("app/config.env", &secret_line(1));
    let leak = repo.commit("add config");
    std::fs::remove_file(repo.dir.join("app/config.env")).unwrap();
    repo.commit("remove config");
    (repo, leak)
}

fn findings(v: &serde_json::Value) -> &Vec<serde_json::Value> {
    v["findings"].as_array().expect("findings array")
}

#[test]
fn deleted_secret_is_found_and_attributed_to_its_commit() {
    let sb = Sandbox::new();
    let (repo, leak) = added_then_deleted(&sb);
    let out = repo.warden(&["scan", "--history", "-f", "json"]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    let v = json(&out);
    let f = findings(&v);
    assert_eq!(f.len(), 1, "{}", show(&out));
    assert_eq!(f[0]["commit"], leak.as_str());
    assert_eq!(f[0]["path"], "app/config.env");
    assert_eq!(f[0]["rule"], "openrouter-api-key");
    let commit = &v["commits"][0];
    assert_eq!(commit["id"], leak.as_str());
    assert_eq!(commit["author"], "Ada Author");
    assert_eq!(commit["summary"], "add config");
    assert_eq!(v["history"]["depth"], "complete");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&fake_key(1)), "secret leaked");
}

#[test]
fn same_blob_in_500_commits_is_reported_once_with_its_first_commit() {
    let sb = Sandbox::new();
    let repo = sb.repo("many");
    let mut stream = String::new();
    let secret = secret_line(2);
    for n in 1..=500 {
        stream.push_str(&format!(
            "commit refs/heads/main\nmark :{n}\ncommitter A <a@example.com> {} +0000\ndata 4\nc{:03}\n",
            1_700_000_000 + n,
            n % 1000
        ));
        if n == 1 {
            stream.push_str(&format!(
                "M 100644 inline secret.env\ndata {}\n{secret}\n",
                secret.len()
            ));
        }
        let counter = format!("{n}\n");
        stream
            .push_str(&format!("M 100644 inline counter.txt\ndata {}\n{counter}\n", counter.len()));
    }
    let mut child = sb
        .command("git", &repo.dir)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stream.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
    let first = repo.git(&["rev-list", "--max-parents=0", "main"]);
    assert_eq!(repo.git(&["rev-list", "--count", "main"]), "500");
    let out = repo.warden(&["scan", "--history", "-f", "json"]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    let v = json(&out);
    assert_eq!(findings(&v).len(), 1, "{}", show(&out));
    assert_eq!(findings(&v)[0]["commit"], first.as_str());
    assert_eq!(v["history"]["commits"], 500);
    // 500 counter blobs + the secret, each scanned once
    assert_eq!(v["stats"]["blobs"], 501);
}

#[test]
fn bare_clone_is_scanned() {
    let sb = Sandbox::new();
    let (repo, leak) = added_then_deleted(&sb);
    sb.git(sb.path(), &["clone", "-q", "--bare", &repo.url(), "bare.git"]);
    let out =
        warden_in(&sb, &sb.path().join("bare.git"), &["scan", "--history", "-f", "json"], &[]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    assert_eq!(findings(&json(&out))[0]["commit"], leak.as_str());
}

#[test]
fn shallow_clone_says_history_is_partial() {
    let sb = Sandbox::new();
    let (repo, _) = added_then_deleted(&sb);
    sb.git(sb.path(), &["clone", "-q", "--depth", "1", &repo.url(), "shallow"]);
    let out = warden_in(&sb, &sb.path().join("shallow"), &["scan", "--history", "-f", "json"], &[]);
    let v = json(&out);
    assert_eq!(v["history"]["depth"], "shallow", "{}", show(&out));
    assert_eq!(v["history"]["commits"], 1);
    // fail closed: a partial history is an incomplete scan, never "no leaks"
    assert_eq!(code(&out), 2, "{}", show(&out));
    let errors = v["stats"]["errors"].to_string();
    assert!(errors.contains("shallow clone"), "{}", show(&out));
    // depth 2 reaches the leaking commit
    sb.git(sb.path(), &["clone", "-q", "--depth", "2", &repo.url(), "shallow2"]);
    let out =
        warden_in(&sb, &sb.path().join("shallow2"), &["scan", "--history", "-f", "json"], &[]);
    assert_eq!(findings(&json(&out)).len(), 1, "{}", show(&out));
    assert_eq!(code(&out), 2, "{}", show(&out));
}

#[test]
fn branch_narrows_the_history() {
    let sb = Sandbox::new();
    let repo = sb.repo("b");
    repo.write("a.txt", "a\n");
    repo.commit("a");
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.write("s.env", &secret_line(3));
    repo.commit("side secret");
    repo.git(&["checkout", "-q", "main"]);
    let out = repo.warden(&["scan", "--history", "--branch", "main", "-f", "json"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let out = repo.warden(&["scan", "--history", "-f", "json"]);
    assert_eq!(code(&out), 1, "{}", show(&out));
}

/// main: base; feature: adds and removes secret 10; main: adds secret 11 in `main.env`;
/// feature merges main. Returns (repo, base, commit that leaked 10).
fn pull_request(sb: &Sandbox) -> (Repo<'_>, String, String) {
    let repo = sb.repo("pr");
    repo.write("README.md", "base\n");
    let base = repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("feature.env", &secret_line(10));
    let leak = repo.commit("add feature key");
    repo.write("feature.env", "OPENROUTER_API_KEY=${FROM_VAULT}\n");
    repo.commit("use the vault");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("main.env", &secret_line(11));
    repo.commit("main work");
    repo.git(&["checkout", "-q", "feature"]);
    repo.git(&["merge", "-q", "--no-edit", "main"]);
    (repo, base, leak)
}

#[test]
fn range_scans_every_commit_and_merges_add_only_their_own_changes() {
    let sb = Sandbox::new();
    let (repo, _, leak) = pull_request(&sb);
    let out = repo.warden(&["scan", "--range", "main..feature", "-f", "json"]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    let v = json(&out);
    let f = findings(&v);
    assert_eq!(f.len(), 1, "added-and-removed key only, not main's: {}", show(&out));
    assert_eq!(f[0]["path"], "feature.env");
    assert_eq!(f[0]["commit"], leak.as_str());
    assert_eq!(v["history"]["commits"], 3);
}

#[test]
fn an_evil_merge_is_scanned() {
    let sb = Sandbox::new();
    let (repo, base, _) = pull_request(&sb);
    // amend the merge with a new secret that neither parent has
    repo.write("merge.env", &secret_line(12));
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--amend", "--no-edit"]);
    let merge = repo.git(&["rev-parse", "HEAD"]);
    let range = format!("{base}..feature");
    let out = repo.warden(&["scan", "--range", &range, "-f", "json"]);
    let v = json(&out);
    let paths: Vec<_> = findings(&v).iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&"merge.env"), "{}", show(&out));
    let m = findings(&v).iter().find(|f| f["path"] == "merge.env").unwrap();
    assert_eq!(m["commit"], merge.as_str());
}

#[test]
fn ci_on_github_pull_request_annotates_and_writes_sarif() {
    let sb = Sandbox::new();
    let (repo, _, _) = pull_request(&sb);
    let sarif = sb.path().join("out.sarif");
    let env = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_BASE_REF", "main"),
    ];
    let out = warden_in(&sb, &repo.dir, &["ci", "--sarif", sarif.to_str().unwrap()], &env);
    assert_eq!(code(&out), 1, "{}", show(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("::error file=feature.env,line=1"), "{}", show(&out));
    let log: serde_json::Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 1);
}

#[test]
fn ci_on_a_too_shallow_checkout_explains_fetch_depth() {
    let sb = Sandbox::new();
    let (repo, _, _) = pull_request(&sb);
    sb.git(sb.path(), &["clone", "-q", "--depth", "1", "-b", "feature", &repo.url(), "ci"]);
    let env = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_BASE_REF", "main"),
    ];
    let out = warden_in(&sb, &sb.path().join("ci"), &["ci"], &env);
    assert_eq!(code(&out), 2, "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fetch-depth: 0"), "{}", show(&out));
}

#[test]
fn ci_after_a_force_push_scans_the_whole_branch() {
    let sb = Sandbox::new();
    let (repo, _, leak) = pull_request(&sb);
    let event = sb.path().join("event.json");
    let gone = "1234567890abcdef1234567890abcdef12345678";
    let payload = serde_json::json!({"before": gone, "repository": {"default_branch": "main"}});
    std::fs::write(&event, payload.to_string()).unwrap();
    let env = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_EVENT_NAME", "push"),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
    ];
    let report = sb.path().join("report.json");
    let out =
        warden_in(&sb, &repo.dir, &["ci", "-f", "json", "-o", report.to_str().unwrap()], &env);
    assert_eq!(code(&out), 1, "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("force-push"), "{}", show(&out));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let commits: Vec<_> = findings(&v).iter().map(|f| f["commit"].as_str().unwrap()).collect();
    assert!(commits.contains(&leak.as_str()), "{}", show(&out));
}

#[test]
fn ci_outside_ci_needs_a_range() {
    let sb = Sandbox::new();
    let (repo, base, _) = pull_request(&sb);
    assert_eq!(code(&repo.warden(&["ci"])), 2);
    let range = format!("{base}..HEAD");
    let out = repo.warden(&["ci", "--range", &range, "-f", "json"]);
    assert_eq!(code(&out), 1, "{}", show(&out));
}

#[test]
fn sarif_is_valid_against_the_2_1_0_schema() {
    let sb = Sandbox::new();
    let (repo, _) = added_then_deleted(&sb);
    let out = repo.warden(&["scan", "--history", "-f", "sarif"]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    let log = json(&out);
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../data/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::draft4::new(&schema).expect("schema compiles");
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let result = &log["runs"][0]["results"][0];
    assert!(result["partialFingerprints"]["warden/v1"].is_string());
    assert_eq!(result["locations"][0]["physicalLocation"]["region"]["startLine"], 1);
    let rule = &log["runs"][0]["tool"]["driver"]["rules"][0];
    assert_eq!(rule["helpUri"], "https://openrouter.ai/settings/keys");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&fake_key(1)), "secret leaked");
}

#[test]
fn remediation_files_never_go_to_stdout() {
    let sb = Sandbox::new();
    let (repo, _) = added_then_deleted(&sb);
    for format in ["bfg", "filter-repo"] {
        let out = repo.warden(&["scan", "--history", "-f", format]);
        assert_eq!(code(&out), 2, "{}", show(&out));
        assert!(out.stdout.is_empty());
        assert!(!String::from_utf8_lossy(&out.stderr).contains(&fake_key(1)));
    }
    let out = repo.warden(&["scan", "-f", "bfg", "-o", "x.txt"]);
    assert_eq!(code(&out), 2, "directory scans cannot write remediation files: {}", show(&out));
}

#[test]
fn filter_repo_output_cleans_the_history() {
    let sb = Sandbox::new();
    let (repo, _) = added_then_deleted(&sb);
    let file = sb.path().join("replace.txt");
    let out =
        repo.warden(&["scan", "--history", "-f", "filter-repo", "-o", file.to_str().unwrap()]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text, format!("{}==>***REMOVED***\n", fake_key(1)));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Rotate first") && stderr.contains("openrouter.ai"), "{stderr}");
    assert!(stderr.contains("reflog expire"), "{stderr}");
    let has_filter_repo = sb
        .command("git", &repo.dir)
        .args(["filter-repo", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_filter_repo {
        eprintln!("skipping the rewrite: git filter-repo is not installed");
        return;
    }
    repo.git(&["filter-repo", "--force", "--quiet", "--replace-text", file.to_str().unwrap()]);
    let out = repo.warden(&["scan", "--history", "-f", "json"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
}

#[test]
fn baseline_hides_accepted_findings_in_scan_and_hook() {
    let sb = Sandbox::new();
    let repo = sb.repo("base");
    repo.write("old.env", &secret_line(20));
    repo.commit("old");
    let out = repo.warden(&["baseline", "-o", ".warden-baseline"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let text = std::fs::read_to_string(repo.dir.join(".warden-baseline")).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(!text.contains(&fake_key(20)) && !text.contains("old.env"), "{text}");
    assert_eq!(code(&repo.warden(&["scan"])), 1);
    assert_eq!(code(&repo.warden(&["scan", "--baseline", ".warden-baseline"])), 0);
    assert_eq!(code(&repo.warden(&["scan", "--history", "--baseline", ".warden-baseline"])), 0);
    // the hook honours [scan] baseline; a new secret still blocks
    repo.write("warden.toml", "[scan]\nbaseline = \".warden-baseline\"\n");
    repo.write("copy.env", &secret_line(20));
    repo.git(&["add", "-A"]);
    let out = repo.warden(&["hook"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    repo.write("new.env", &secret_line(21));
    repo.git(&["add", "-A"]);
    assert_eq!(code(&repo.warden(&["hook"])), 1);
}

#[test]
fn huge_blobs_are_skipped_and_counted() {
    let sb = Sandbox::new();
    let (repo, _) = added_then_deleted(&sb);
    let out = repo.warden(&["scan", "--history", "--max-file-size", "20", "-f", "json"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let v = json(&out);
    assert_eq!(v["stats"]["skipped_large"], 1, "{}", show(&out));
}

#[test]
fn a_corrupt_object_is_reported_and_the_scan_goes_on() {
    let sb = Sandbox::new();
    let (repo, _) = added_then_deleted(&sb);
    repo.write("other.txt", "some text that is long enough to corrupt in the middle\n");
    repo.commit("other");
    let id = repo.git(&["rev-parse", "HEAD:other.txt"]);
    let path = repo.dir.join(".git/objects").join(&id[..2]).join(&id[2..]);
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    bytes[mid + 1] ^= 0xff;
    crate::support::overwrite_read_only(&path, &bytes);
    let out = repo.warden(&["scan", "--history", "-f", "json"]);
    assert_eq!(code(&out), 2, "{}", show(&out));
    let v = json(&out);
    assert_eq!(findings(&v).len(), 1, "the other blobs are still scanned: {}", show(&out));
    let errors = v["stats"]["errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e.as_str().unwrap().contains(&id)), "{}", show(&out));
}
