//! Suppressions end to end: inline markers, `[allow] paths`, `[allow] regexes` and
//! `[allow] fingerprints` (taken from a JSON report), through the staged scan and the hook.

use crate::support::{fake_seeded, Output, TestRepo};

fn findings(out: &Output) -> Vec<serde_json::Value> {
    out.json()["findings"].as_array().cloned().unwrap_or_default()
}

fn openrouter(seed: u64) -> String {
    fake_seeded("sk-or-v1-%{hex:64}", seed)
}

#[test]
fn inline_allow_on_the_same_line() {
    let repo = TestRepo::new();
    let (a, b) = (openrouter(1), openrouter(2));
    repo.write(
        "src/client.ts",
        format!(
            "const a = \"{a}\"; // warden:allow\n\
             const b = \"{b}\";\n"
        ),
    );
    repo.stage_all();
    let out = repo.warden(&["scan", "--staged", "-f", "json"]);
    out.expect_code(1);
    let f = findings(&out);
    assert_eq!(f.len(), 1, "{out}");
    assert_eq!(f[0]["line"], 2, "{out}");
    assert_eq!(out.json()["stats"]["suppressed"], 1, "{out}");
    // Marking the second one too makes the change clean, and the hook lets it through.
    repo.write(
        "src/client.ts",
        format!(
            "const a = \"{a}\"; // warden:allow\n\
             const b = \"{b}\"; # warden:allow (test fixture)\n"
        ),
    );
    repo.stage_all();
    let out = repo.warden(&["scan", "--staged", "-f", "json"]);
    out.expect_code(0);
    assert_eq!(out.json()["stats"]["suppressed"], 2, "{out}");
    repo.install_hook();
    let commit = repo.try_commit(&[]);
    assert_eq!(commit.code, Some(0), "{commit}");
}

#[test]
fn allow_next_line_covers_only_the_next_line() {
    let repo = TestRepo::new();
    let (a, b) = (openrouter(3), openrouter(4));
    repo.write(
        "config.py",
        format!(
            "# warden:allow-next-line\n\
             A = \"{a}\"\n\
             B = \"{b}\"\n"
        ),
    );
    repo.stage_all();
    let out = repo.warden(&["scan", "--staged", "-f", "json"]);
    out.expect_code(1);
    let f = findings(&out);
    assert_eq!(f.len(), 1, "{out}");
    assert_eq!(f[0]["line"], 3, "{out}");
    // Two lines below the marker is not covered.
    repo.write("config.py", format!("# warden:allow-next-line\n\nA = \"{a}\"\n"));
    repo.stage_all();
    repo.warden(&["scan", "--staged"]).expect_code(1);
}

#[test]
fn allow_paths() {
    let repo = TestRepo::new();
    let line = |seed| format!("OPENROUTER_API_KEY={}\n", openrouter(seed));
    repo.write("fixtures/keys.env", line(5));
    repo.write("deep/down/snapshots/x.snap", line(6));
    repo.write("src/fixtures.rs", line(7));
    repo.stage_all();
    repo.write("warden.toml", "[allow]\npaths = [\"fixtures/\", \"*.snap\"]\n");
    let out = repo.warden(&["scan", "--staged", "-f", "json"]);
    out.expect_code(1);
    let f = findings(&out);
    assert_eq!(f.len(), 1, "{out}");
    assert_eq!(f[0]["path"], "src/fixtures.rs", "{out}");
    assert_eq!(out.json()["stats"]["skipped_excluded"], 2, "{out}");
    repo.write("warden.toml", "[allow]\npaths = [\"fixtures/\", \"*.snap\", \"src/**\"]\n");
    repo.warden(&["scan", "--staged"]).expect_code(0);
    // The same config applies to a directory scan.
    repo.warden(&["scan", "."]).expect_code(0);
}

#[test]
fn allow_regexes_match_the_secret_value() {
    let repo = TestRepo::new();
    let (a, b) = (openrouter(8), openrouter(9));
    repo.write(".env", format!("OPENROUTER_API_KEY={a}\nOPENROUTER_BACKUP={b}\n"));
    repo.stage_all();
    // An anchored regex matching the first value only (by its first characters).
    let head = &a[..16];
    repo.write("warden.toml", format!("[allow]\nregexes = [\"^{head}\"]\n"));
    let out = repo.warden(&["scan", "--staged", "-f", "json"]);
    out.expect_code(1);
    let f = findings(&out);
    assert_eq!(f.len(), 1, "{out}");
    assert_eq!(f[0]["line"], 2, "{out}");
    // A regex against the key name does not allow anything: it matches the value only.
    repo.write("warden.toml", "[allow]\nregexes = [\"^OPENROUTER\"]\n");
    let out = repo.warden(&["scan", "--staged", "-f", "json"]);
    assert_eq!(findings(&out).len(), 2, "{out}");
    repo.write("warden.toml", "[allow]\nregexes = [\"^sk-or-v1-\"]\n");
    repo.warden(&["scan", "--staged"]).expect_code(0);
}

#[test]
fn allow_fingerprints_from_a_json_report() {
    let repo = TestRepo::new();
    let (a, b) = (openrouter(10), openrouter(11));
    repo.write("a.env", format!("OPENROUTER_API_KEY={a}\n"));
    repo.write("b.env", format!("OPENROUTER_API_KEY={b}\n"));
    repo.stage_all();
    let out = repo.warden(&["scan", "--staged", "-f", "json"]);
    out.expect_code(1);
    let f = findings(&out);
    assert_eq!(f.len(), 2, "{out}");
    let fp = f[0]["fingerprint"].as_str().unwrap().to_string();
    assert!(fp.starts_with("openrouter-api-key:"), "{fp}");
    assert!(!fp.contains(&a[9..]), "the fingerprint holds the secret");
    repo.write("warden.toml", format!("[allow]\nfingerprints = [\"{fp}\"]\n"));
    let out = repo.warden(&["scan", "--staged", "-f", "json"]);
    out.expect_code(1);
    let left = findings(&out);
    assert_eq!(left.len(), 1, "{out}");
    assert_eq!(left[0]["path"], "b.env", "{out}");
    // The fingerprint follows the secret, not the place: moved to another line and file,
    // it is still allowed.
    repo.write("c.env", format!("# moved\n\nKEY={a}\n"));
    repo.stage_all();
    let out = repo.warden(&["scan", "--staged", "-f", "json"]);
    assert_eq!(findings(&out).len(), 1, "{out}");
    // `rule:hash:path` allows it in that file only.
    repo.write("warden.toml", format!("[allow]\nfingerprints = [\"{fp}:a.env\"]\n"));
    let out = repo.warden(&["scan", "--staged", "-f", "json"]);
    let paths: Vec<String> =
        findings(&out).iter().map(|f| f["path"].as_str().unwrap().to_string()).collect();
    assert_eq!(paths, ["b.env", "c.env"], "{out}");
    // With every fingerprint allowed, the hook lets the commit through.
    let fps: Vec<String> = findings(&out)
        .iter()
        .map(|f| format!("\"{}\"", f["fingerprint"].as_str().unwrap()))
        .collect();
    repo.write("warden.toml", format!("[allow]\nfingerprints = [\"{fp}\", {}]\n", fps.join(", ")));
    repo.install_hook();
    let commit = repo.try_commit(&[]);
    assert_eq!(commit.code, Some(0), "{commit}");
}

#[test]
fn wardenignore_sidecar_file_of_fingerprints() {
    let repo = TestRepo::new();
    let value = openrouter(12);
    repo.write("data.json", format!("{{\"openrouter\": \"{value}\"}}\n")).stage_all();
    let out = repo.warden(&["scan", "--staged", "-f", "json"]);
    out.expect_code(1);
    let fp = findings(&out)[0]["fingerprint"].as_str().unwrap().to_string();
    repo.write(".wardenignore", format!("# test fixture\n{fp}  # the sample key\n"));
    let out = repo.warden(&["scan", "--staged", "-f", "json"]);
    out.expect_code(0);
    assert_eq!(out.json()["stats"]["suppressed"], 1, "{out}");
}
