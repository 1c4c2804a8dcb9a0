//! Report output: insta snapshots of every format for one fixed fake repository (timings
//! and temp paths normalised), the guarantee that nothing warden prints ever holds a full
//! secret, and the rule listing.

use std::fs;

use regex::Regex;
use warden::rules::template::{expand, Rng};

use crate::support::{fake_seeded, must_have_secrets, Output, TestRepo};

/// Replaces what changes between runs: the scan time and the temp dir.
fn normalize(repo: &TestRepo, text: &str) -> String {
    let ms = Regex::new(r"\b\d+ ms\b").unwrap();
    let text = text.replace(&repo.tmp().display().to_string(), "[TMP]");
    ms.replace_all(&text, "[N] ms").into_owned()
}

/// The fixed repository of the snapshots: three secrets in three files (one in docs, so
/// its severity is demoted), a public value, an inline-allowed secret and a binary file.
fn snapshot_repo() -> TestRepo {
    let repo = TestRepo::new();
    let openrouter = fake_seeded("sk-or-v1-%{hex:64}", 101);
    let service_role = fake_seeded("%{jwt:supabase:service_role}", 102);
    let anon = fake_seeded("%{jwt:supabase:anon}", 103);
    let sentry = fake_seeded("sntryu_%{hex:64}", 104);
    let vercel = fake_seeded("vcp_%{b64url:50}%{alnum:6}", 105);
    let allowed = fake_seeded("sk-or-v1-%{hex:64}", 106);
    repo.write(
        ".env",
        format!(
            "# local settings\nOPENROUTER_API_KEY={openrouter}\n\
             NEXT_PUBLIC_SUPABASE_ANON_KEY={anon}\n\
             SUPABASE_SERVICE_ROLE_KEY={service_role}\n"
        ),
    );
    repo.write(
        "src/sentry.ts",
        format!(
            "import * as Sentry from \"@sentry/node\";\n\n\
             export const token = \"{sentry}\";\n\
             export const test = \"{allowed}\"; // warden:allow\n"
        ),
    );
    repo.write("docs/deploy.md", format!("Deploy with:\n\n    VERCEL_TOKEN={vercel} vercel\n"));
    repo.write("logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    repo.stage_all();
    repo
}

fn snapshot_scan(repo: &TestRepo, format: &str) -> String {
    let out = repo.warden(&["scan", "--staged", "-f", format]);
    out.expect_code(1);
    assert_eq!(out.stderr, "", "{out}");
    normalize(repo, &out.stdout)
}

#[test]
fn snapshot_human() {
    let repo = snapshot_repo();
    insta::assert_snapshot!("human", snapshot_scan(&repo, "human"));
}

#[test]
fn snapshot_json() {
    let repo = snapshot_repo();
    let text = snapshot_scan(&repo, "json");
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["schema_version"], 1);
    insta::assert_snapshot!("json", text);
}

#[test]
fn snapshot_jsonl_and_github() {
    let repo = snapshot_repo();
    let jsonl = snapshot_scan(&repo, "jsonl");
    for line in jsonl.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["schema_version"], 1, "{line}");
    }
    insta::assert_snapshot!("jsonl", jsonl);
    insta::assert_snapshot!("github", snapshot_scan(&repo, "github"));
}

#[test]
fn snapshot_explain_and_hook() {
    let repo = snapshot_repo();
    let out = repo.warden(&["scan", "--staged", "--explain"]);
    out.expect_code(1);
    insta::assert_snapshot!("explain", normalize(&repo, &out.stdout));
    let hook = repo.warden(&["hook"]);
    hook.expect_code(1);
    insta::assert_snapshot!(
        "hook",
        normalize(&repo, &format!("--- stdout\n{}--- stderr\n{}", hook.stdout, hook.stderr))
    );
}

#[test]
fn empty_staged_change_with_json_or_output_file() {
    let repo = TestRepo::new();
    let out = repo.warden(&["scan", "--staged", "-f", "json"]);
    out.expect_code(0);
    let doc = out.json();
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(0), "{out}");
    let file = repo.tmp().join("report.json");
    let out = repo.warden(&["scan", "--staged", "-f", "json", "-o", file.to_str().unwrap()]);
    out.expect_code(0);
    let text = fs::read_to_string(&file).expect("-o FILE written even when nothing is staged");
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["schema_version"], 1);
}

/// Fails when `text` holds `secret` or its second half.
#[track_caller]
fn assert_hidden(text: &str, secret: &str, what: &str) {
    assert!(!text.contains(secret), "{what}: prints the full secret {secret}\n{text}");
    let tail = &secret[secret.len() / 2..];
    assert!(!text.contains(tail), "{what}: prints the second half of {secret}\n{text}");
}

#[test]
fn no_output_ever_contains_a_full_secret() {
    let repo = TestRepo::new();
    let secrets = must_have_secrets();
    let all: String = secrets.iter().map(|s| format!("{}\n", s.line)).collect();
    // The same secrets twice: in one file, and one file each (another path, another line).
    repo.write("all.env", &all);
    for s in &secrets {
        repo.write(format!("one/{}.env", s.rule), format!("# {}\n\n{}\n", s.provider, s.line));
    }
    repo.write("src/app.ts", format!("const token = \"{}\"; // warden:allow\n", secrets[6].value));
    repo.stage_all();
    let report = repo.tmp().join("report.out");
    let report_arg = report.to_str().unwrap();
    let mut runs: Vec<(String, Output)> = Vec::new();
    for format in ["human", "json", "jsonl", "github"] {
        for extra in [&[][..], &["--explain"][..], &["--all-lines"][..]] {
            let mut args = vec!["scan", "--staged", "-f", format];
            args.extend_from_slice(extra);
            runs.push((args.join(" "), repo.warden(&args)));
            if extra.contains(&"--all-lines") {
                continue; // a staged-scan flag only
            }
            let mut args = vec!["scan", ".", "-f", format];
            args.extend_from_slice(extra);
            runs.push((args.join(" "), repo.warden(&args)));
        }
        let args = ["scan", "--staged", "--explain", "-f", format, "-o", report_arg];
        let out = repo.warden(&args);
        let written = fs::read_to_string(&report).unwrap();
        runs.push((format!("{} (file)", args.join(" ")), out));
        runs.push((
            format!("{} (file content)", args.join(" ")),
            Output { code: Some(1), stdout: written, stderr: String::new() },
        ));
        runs.push((format!("hook -f {format}"), repo.warden(&["hook", "-f", format])));
    }
    runs.push(("git commit".into(), {
        repo.install_hook();
        repo.try_commit(&[])
    }));
    // Error paths: a config into which someone pasted the .env file, and one with a bad key
    // next to an allow entry holding a secret.
    repo.write("warden.toml", &all);
    runs.push(("broken config".into(), repo.warden(&["scan", "--staged"])));
    repo.write("warden.toml", format!("[allow]\npaths = [\"{}\"]\nbogus = 1\n", secrets[0].value));
    runs.push(("unknown key".into(), repo.warden(&["scan", "--staged"])));
    fs::remove_file(repo.path("warden.toml")).unwrap();

    for (what, out) in &runs {
        assert!(!out.all().contains("panicked"), "{what}\n{out}");
        for s in &secrets {
            assert_hidden(&out.all(), &s.value, what);
        }
    }
    // Each run that scanned found every provider (the check above is not vacuous).
    let json = repo.warden(&["scan", "--staged", "-f", "json"]).json();
    for s in &secrets {
        let found = json["findings"].as_array().unwrap().iter().any(|f| f["rule"] == s.rule);
        assert!(found, "{} not found", s.rule);
    }
}

#[test]
fn rules_explain_never_prints_a_full_generated_example() {
    let repo = TestRepo::bare_dir();
    for s in must_have_secrets() {
        let out = repo.warden(&["rules", "explain", s.rule]);
        out.expect_code(0);
        let json = repo.warden(&["rules", "list", "--json"]).json();
        let rule = json.as_array().unwrap().iter().find(|r| r["id"] == s.rule).unwrap().clone();
        let template = rule["examples"][0].as_str().unwrap();
        let example = expand(template, &mut Rng::for_key(s.rule, 0)).unwrap();
        let trimmed = example.trim_end_matches(['=', '"', '\'', '\n']);
        let value = trimmed.rsplit(['=', ' ', '"', '\'', '\n']).next().unwrap();
        assert!(value.len() >= 16, "{}: could not isolate the value of {example:?}", s.rule);
        assert!(out.stdout.contains("generated example (redacted)"), "{out}");
        assert_hidden(&out.all(), value, s.rule);
    }
}

#[test]
fn rules_list_has_at_least_60_ids() {
    let repo = TestRepo::bare_dir();
    let out = repo.warden(&["rules", "list", "--json"]);
    out.expect_code(0);
    let json = out.json();
    let ids: std::collections::HashSet<&str> =
        json.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    let table = repo.warden(&["rules", "list"]);
    table.expect_code(0);
    for id in &ids {
        assert!(table.stdout.contains(id), "{id} missing from the table\n{table}");
    }
    assert!(ids.len() >= 60, "only {} rule ids: {ids:?}", ids.len());
}

#[test]
fn encoded_secrets_are_not_printed_either() {
    use base64::Engine;
    let repo = TestRepo::new();
    let secret = fake_seeded("sk-or-v1-%{hex:64}", 4242);
    let encoded = base64::engine::general_purpose::STANDARD.encode(&secret);
    repo.write(
        "k8s/secret.yaml",
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\ntype: Opaque\ndata:\n  \
             OPENROUTER_API_KEY: {encoded}\n"
        ),
    );
    repo.stage_all();
    let json = repo.warden(&["scan", "--staged", "-f", "json"]);
    json.expect_code(1);
    assert_eq!(json.json()["findings"][0]["line"], 7, "{json}");
    for format in ["human", "json", "jsonl", "github"] {
        for extra in [&[][..], &["--explain"][..]] {
            let mut args = vec!["scan", "--staged", "-f", format];
            args.extend_from_slice(extra);
            let out = repo.warden(&args);
            assert_hidden(&out.all(), &secret, &args.join(" "));
            assert_hidden(&out.all(), &encoded, &args.join(" "));
        }
    }
}

#[test]
fn file_names_cannot_forge_output_lines() {
    let repo = TestRepo::new();
    let secret = &must_have_secrets()[6];
    repo.write("evil\n::error file=x::forged\n.env", format!("{}\n", secret.line));
    repo.write("ansi\x1b[2J.env", format!("{}\n", secret.line));
    repo.stage_all();
    for format in ["human", "github"] {
        let out = repo.warden(&["scan", "--staged", "-f", format]);
        out.expect_code(1);
        assert!(!out.stdout.contains('\x1b'), "{format}: raw escape\n{out}");
        assert!(
            !out.stdout.lines().any(|l| l.starts_with("::error file=x::forged")),
            "{format}: forged line\n{out}"
        );
    }
}

#[test]
fn directory_scan_honours_gitignore() {
    let repo = TestRepo::new();
    let secret = &must_have_secrets()[6];
    repo.write(".gitignore", "ignored/\n*.local\n");
    repo.write("ignored/keys.env", format!("{}\n", secret.line));
    repo.write("dev.local", format!("{}\n", secret.line));
    repo.write("kept.env", format!("{}\n", secret.line));
    let out = repo.warden(&["scan", ".", "-f", "json"]);
    out.expect_code(1);
    let json = out.json();
    let paths: Vec<&str> =
        json["findings"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["kept.env"], "{out}");
}

#[test]
fn snapshot_help() {
    let repo = TestRepo::bare_dir();
    for (name, args) in [("help", &["--help"][..]), ("help_scan", &["scan", "--help"][..])] {
        let out = repo.warden(args);
        out.expect_code(0);
        insta::assert_snapshot!(name, out.stdout);
    }
}

/// Runs warden under a pseudo-terminal (util-linux `script`), so stdout is a tty.
fn on_a_tty(repo: &TestRepo, args: &str, no_color: bool) -> Option<String> {
    let program = crate::support::warden_program();
    let line = format!("'{}' {args}", program.to_str().unwrap());
    let mut cmd = repo.command("script", repo.root());
    cmd.args(["-qec", &line, "/dev/null"]);
    if !no_color {
        cmd.env_remove("NO_COLOR");
    }
    let out = cmd.output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let repo = TestRepo::new();
    repo.write("a.env", format!("{}\n", must_have_secrets()[6].line)).stage_all();
    let piped = repo.warden(&["scan", "--staged"]);
    piped.expect_code(1);
    assert!(!piped.stdout.contains('\x1b'), "colour on a pipe\n{piped}");
    let Some(tty) = on_a_tty(&repo, "scan --staged", false) else {
        eprintln!("skipped: util-linux `script` is not available");
        return;
    };
    assert!(tty.contains("openrouter-api-key"), "{tty}");
    assert!(tty.contains("\x1b["), "no colour on a terminal\n{tty}");
    let plain = on_a_tty(&repo, "scan --staged", true).unwrap();
    assert!(plain.contains("openrouter-api-key"), "{plain}");
    assert!(!plain.contains('\x1b'), "colour despite NO_COLOR\n{plain}");
    let json = on_a_tty(&repo, "scan --staged -f json", false).unwrap();
    assert!(!json.contains('\x1b'), "colour in JSON\n{json}");
}
