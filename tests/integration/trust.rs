//! Trust features (issue 6) and decoding layers, on real repositories: `warden doctor`
//! (hooksPath, linked worktrees, broken hooks), exit codes of incomplete scans, durable
//! suppressions across a rebase, every inline marker spelling, layered configuration,
//! gitleaks import, and secrets one encoding deep.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use warden::rules::template::{expand, Rng};

struct Repo {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

fn bin() -> PathBuf {
    std::env::var_os("WARDEN_TEST_PROGRAM")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_warden")), PathBuf::from)
}

fn isolate(cmd: &mut Command, home: &Path) {
    cmd.env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("NO_COLOR", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("WARDEN_BASE_CONFIG");
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir(&root).unwrap();
        let r = Repo { _dir: dir, root };
        r.git(&["init", "-q", "-b", "main"]);
        r
    }
    fn home(&self) -> PathBuf {
        self.root.parent().unwrap().to_path_buf()
    }
    fn git_in(&self, dir: &Path, args: &[&str]) -> Output {
        let mut c = Command::new("git");
        c.args(args).current_dir(dir);
        isolate(&mut c, &self.home());
        let out = c.output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out
    }
    fn git(&self, args: &[&str]) -> Output {
        self.git_in(&self.root, args)
    }
    fn write(&self, path: &str, text: &str) {
        let p = self.root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    fn commit_all(&self, msg: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--no-verify", "-m", msg]);
    }
    fn warden_in(&self, dir: &Path, args: &[&str]) -> Output {
        let mut c = Command::new(bin());
        c.args(args).current_dir(dir);
        isolate(&mut c, &self.home());
        c.output().unwrap()
    }
    fn warden(&self, args: &[&str]) -> Output {
        self.warden_in(&self.root, args)
    }
}

fn fake(template: &str, seed: u64) -> String {
    expand(template, &mut Rng::new(seed)).unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn doctor_passes_with_hooks_path_and_fails_without_hook() {
    let r = Repo::new();
    r.write("README", "hi\n");
    r.commit_all("init");
    let o = r.warden(&["doctor"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("warden install"));
    r.git(&["config", "core.hooksPath", ".githooks"]);
    assert!(r.warden(&["install"]).status.success());
    assert!(r.root.join(".githooks/pre-commit").is_file());
    let o = r.warden(&["doctor"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("blocks a staged canary"));
    assert!(r.git(&["status", "--porcelain"]).stdout.iter().all(|&b| b != b'+'));
}

#[test]
fn doctor_fails_on_a_non_executable_hook_and_works_in_a_linked_worktree() {
    let r = Repo::new();
    r.write("README", "hi\n");
    r.commit_all("init");
    assert!(r.warden(&["install"]).status.success());
    let wt = r.home().join("wt");
    r.git(&["worktree", "add", "-q", wt.to_str().unwrap(), "-b", "side"]);
    let o = r.warden_in(&wt, &["doctor"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let hook = r.root.join(".git/hooks/pre-commit");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o644)).unwrap();
        let o = r.warden(&["doctor"]);
        assert_eq!(o.status.code(), Some(1));
        assert!(text(&o).contains("chmod +x"), "{}", text(&o));
    }
}

#[test]
fn a_corrupt_staged_object_is_an_incomplete_scan_exit_2() {
    let r = Repo::new();
    r.write("a.txt", "hello\n");
    r.git(&["add", "a.txt"]);
    let oid = String::from_utf8(r.git(&["rev-parse", ":a.txt"]).stdout).unwrap();
    let oid = oid.trim();
    let obj = r.root.join(".git/objects").join(&oid[..2]).join(&oid[2..]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&obj, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    std::fs::write(&obj, b"garbage, not zlib").unwrap();
    let o = r.warden(&["scan", "--staged"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("a.txt"), "{}", text(&o));
}

#[test]
fn fingerprint_suppression_survives_a_rebase_that_moves_its_line() {
    let r = Repo::new();
    let secret = fake("OPENROUTER_API_KEY=sk-or-v1-%{hex:64}", 1);
    r.write("app.env", &format!("{secret}\n"));
    let json = r.warden(&["scan", "-f", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let fp = v["findings"][0]["fingerprint"].as_str().unwrap().to_string();
    r.write("warden.toml", &format!("[allow]\nfingerprints = [\"{fp}\"]\n"));
    r.commit_all("init");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("other.txt", "x\n");
    r.commit_all("feature");
    r.git(&["checkout", "-q", "main"]);
    r.write("app.env", &format!("# header\n# more\n{secret}\n"));
    r.commit_all("move the line");
    r.git(&["checkout", "-q", "feature"]);
    r.git(&["rebase", "-q", "main"]);
    let o = r.warden(&["scan"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("1 allowed by suppressions"), "{}", text(&o));
}

#[test]
fn every_inline_marker_spelling_silences_its_line() {
    let r = Repo::new();
    let markers = [
        "# warden:allow",
        "# gitleaks:allow",
        "# trufflehog:ignore",
        "# ggignore",
        "# pragma: allowlist secret",
    ];
    let mut body = String::new();
    for (i, m) in markers.iter().enumerate() {
        body.push_str(&format!(
            "{} {m}\n",
            fake("OPENROUTER_API_KEY=sk-or-v1-%{hex:64}", i as u64)
        ));
    }
    body.push_str("# warden:allow-next-line\n");
    body.push_str(&format!("{}\n", fake("OPENROUTER_API_KEY=sk-or-v1-%{hex:64}", 99)));
    r.write("a.env", &body);
    let o = r.warden(&["scan"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    r.write("b.env", &format!("{}\n", fake("OPENROUTER_API_KEY=sk-or-v1-%{hex:64}", 100)));
    assert_eq!(r.warden(&["scan"]).status.code(), Some(1));
}

#[test]
fn config_layers_base_repo_and_per_directory() {
    let r = Repo::new();
    let token = |seed| fake("OPENROUTER_API_KEY=sk-or-v1-%{hex:64}\n", seed);
    r.write("base.toml", "[allow]\npaths = [\"vendor/\"]\n");
    r.write("warden.toml", "extends = \"base.toml\"\n");
    r.write("vendor/a.env", &token(1));
    r.write("pkg/api/warden.toml", "[allow]\npaths = [\"fixtures/\"]\n");
    r.write("pkg/api/fixtures/b.env", &token(2));
    r.write("pkg/web/fixtures/c.env", &token(3));
    r.git(&["add", "-A"]);
    let o = r.warden(&["scan", "--staged", "-f", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let paths: Vec<&str> =
        v["findings"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, vec!["pkg/web/fixtures/c.env"], "{}", text(&o));
    let show = r.warden(&["config", "show"]);
    let shown = text(&show);
    assert!(shown.contains("base.toml") && shown.contains("applies under pkg/api/"), "{shown}");
}

#[test]
fn imported_gitleaks_rules_and_allowlists_apply() {
    let r = Repo::new();
    r.write(
        ".gitleaks.toml",
        "[[rules]]\nid = \"acme\"\nregex = '''acme_[a-z0-9]{16}'''\nkeywords = [\"acme_\"]\n[allowlist]\npaths = ['''^vendor/''']\n",
    );
    r.write("warden.toml", "[rules]\ngitleaks = [\".gitleaks.toml\"]\n");
    let key = fake("acme_%{lowernum:16}", 3);
    r.write("src/a.txt", &format!("k = {key}\n"));
    r.write("vendor/b.txt", &format!("k = {key}\n"));
    let o = r.warden(&["scan", "-f", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = v["findings"].as_array().unwrap();
    assert_eq!(f.len(), 1, "{}", text(&o));
    assert_eq!(f[0]["rule"], "gitleaks.acme");
    assert!(!text(&o).contains(&key));
}

#[test]
fn secrets_one_encoding_deep_are_found_at_their_line() {
    use base64::Engine;
    let r = Repo::new();
    let token = fake("sk-or-v1-%{hex:64}", 5);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&token);
    r.write(
        "k8s/secret.yaml",
        &format!("apiVersion: v1\nkind: Secret\ndata:\n  OPENROUTER_API_KEY: {b64}\n"),
    );
    let railway = fake("%{uuid}", 6);
    let b64r = base64::engine::general_purpose::STANDARD.encode(&railway);
    r.write("k8s/railway.yaml", &format!("data:\n  RAILWAY_TOKEN: {b64r}\n"));
    r.write("nb.ipynb", &format!("{{\"source\": [\"key = \\\"{token}\\\"\\n\"]}}\n"));
    let o = r.warden(&["scan", "-f", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let got: Vec<(String, u64)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap().to_string(), f["line"].as_u64().unwrap()))
        .collect();
    assert!(got.contains(&("k8s/secret.yaml".into(), 4)), "{got:?}");
    assert!(got.contains(&("k8s/railway.yaml".into(), 2)), "{got:?}");
    assert!(got.contains(&("nb.ipynb".into(), 1)), "{got:?}");
    let all = text(&o);
    assert!(!all.contains(&token) && !all.contains(&railway));
}

#[test]
fn baselines_from_two_branches_merge_cleanly_and_prune_drops_stale_entries() {
    let r = Repo::new();
    let token = |seed| fake("OPENROUTER_API_KEY=sk-or-v1-%{hex:64}\n", seed);
    let baseline = |r: &Repo| {
        let o = r.warden(&["baseline", "-o", "warden.baseline"]);
        assert!(o.status.success(), "{}", text(&o));
    };
    r.write("a.env", &token(1));
    baseline(&r);
    assert!(std::fs::read_to_string(r.root.join(".gitattributes"))
        .unwrap()
        .contains("merge=union"));
    r.commit_all("base");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("b.env", &token(2));
    baseline(&r);
    r.commit_all("feature secret accepted");
    r.git(&["checkout", "-q", "main"]);
    r.write("c.env", &token(3));
    baseline(&r);
    r.commit_all("main secret accepted");
    r.git(&["merge", "-q", "--no-edit", "feature"]);
    let o = r.warden(&["scan", "--baseline", "warden.baseline"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    std::fs::remove_file(r.root.join("a.env")).unwrap();
    let o = r.warden(&["baseline", "--prune", "-o", "warden.baseline"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("dropped 1"), "{}", text(&o));
    let left = std::fs::read_to_string(r.root.join("warden.baseline")).unwrap();
    assert_eq!(left.lines().filter(|l| !l.starts_with('#')).count(), 2, "{left}");
}

/// The staged set read from the index file directly (through its cache-tree) must equal
/// libgit2's tree-to-index diff, in index versions 2, 3 and 4.
#[test]
fn fast_index_diff_matches_libgit2() {
    for version in ["2", "3", "4"] {
        let r = Repo::new();
        let secret = |seed| fake("OPENROUTER_API_KEY=sk-or-v1-%{hex:64}\n", seed);
        for i in 0..30u64 {
            r.write(&format!("d{}/e{}/f{i}.env", i % 5, i % 3), &format!("x{i}\n"));
        }
        r.write("top.env", "a\n");
        r.write("gone/old.env", "old\n");
        r.commit_all("base");
        r.git(&["update-index", "--index-version", version]);
        r.write("d1/e1/f1.env", &format!("x1\n{}", secret(1)));
        r.write("d2/new/deep/n.env", &secret(2));
        r.write("top.env", &format!("a\n{}", secret(3)));
        r.write("d4/e1/f4.env", &format!("x4\n{}", secret(4)));
        r.git(&["add", "-A"]);
        let scan = |fast: bool| {
            let mut c = Command::new(bin());
            c.args(["scan", "--staged", "-f", "json"]).current_dir(&r.root);
            isolate(&mut c, &r.home());
            if !fast {
                c.env("WARDEN_NO_FAST_INDEX", "1");
            }
            let o = c.output().unwrap();
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            v["findings"].to_string()
        };
        let (fast, slow) = (scan(true), scan(false));
        assert_eq!(fast, slow, "index v{version}");
        assert_eq!(fast.matches("\"rule\"").count(), 4, "index v{version}: {fast}");
        // a deletion plus an addition may be a rename: both paths must still agree
        std::fs::remove_file(r.root.join("gone/old.env")).unwrap();
        r.write("moved/old.env", "old\n");
        r.git(&["add", "-A"]);
        assert_eq!(scan(true), scan(false), "index v{version} with a rename");
    }
}

#[test]
fn an_unresolvable_range_is_an_error_exit_2() {
    let r = Repo::new();
    r.write("a.txt", "x\n");
    r.commit_all("init");
    let o = r.warden(&["scan", "--range", "no-such-ref..HEAD"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no-such-ref"), "{}", text(&o));
}

#[test]
fn explain_names_the_keyword_entropy_and_verdict() {
    let r = Repo::new();
    r.write("a.env", "RAILWAY_TOKEN=00000000-0000-0000-0000-000000000000\n");
    let o = r.warden(&["scan", "--explain"]);
    let out = text(&o);
    assert!(out.contains("keyword \"railway\""), "{out}");
    assert!(out.contains("entropy"), "{out}");
    assert!(out.contains("rejected"), "{out}");
}
