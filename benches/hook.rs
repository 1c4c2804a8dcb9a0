//! Hook latency: the whole `warden scan --staged` process on a small fixture repository
//! (a temp dir made with the git binary: one base commit, then 3 staged files — one
//! modified, two added, one of them with a planted fake secret expanded at run time).
//!
//! The binary is `$WARDEN_BIN` if set, else `warden` next to this bench's `deps/` directory
//! (`target/release/warden` after `cargo build --release`). When neither exists the bench
//! prints why and measures nothing.
//!
//! Run: `cargo build --release && cargo bench --bench hook`

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use criterion::{criterion_group, criterion_main, Criterion};
use warden::rules::template::{expand, Rng};

fn warden_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("WARDEN_BIN") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    // target/<profile>/deps/hook-<hash> → target/<profile>/warden
    let exe = std::env::current_exe().ok()?;
    let name = format!("warden{}", std::env::consts::EXE_SUFFIX);
    let profile_dir = exe.parent()?.parent()?;
    [profile_dir.join(&name), profile_dir.join("../release").join(&name)]
        .into_iter()
        .find(|p| p.is_file())
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=bench", "-c", "user.email=bench@example.invalid"])
        .args(["-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdout(Stdio::null())
        .status()
        .expect("running git");
    assert!(status.success(), "git {args:?} failed");
}

fn lines(rng: &mut Rng, n: usize, tpl: &str) -> String {
    (0..n).map(|_| expand(tpl, rng).expect("template") + "\n").collect()
}

/// A repository with one commit and 3 staged files (one modified, two new).
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let mut rng = Rng::new(42);
    git(d, &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(d.join("src")).unwrap();
    let code = "    let %{lower:6} = compute(%{digits:3}, \"%{lower:8}\");";
    std::fs::write(d.join("src/lib.rs"), lines(&mut rng, 200, code)).unwrap();
    std::fs::write(d.join("README.md"), lines(&mut rng, 40, "%{lower:7} %{lower:5} %{lower:9}"))
        .unwrap();
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "base"]);
    // 1: modified
    let mut lib = std::fs::read_to_string(d.join("src/lib.rs")).unwrap();
    lib.push_str(&lines(&mut rng, 50, code));
    std::fs::write(d.join("src/lib.rs"), lib).unwrap();
    // 2: new code file
    std::fs::write(d.join("src/util.rs"), lines(&mut rng, 300, code)).unwrap();
    // 3: new config file with a planted fake secret (built at run time)
    let mut cfg = lines(&mut rng, 30, "%{lower:8} = \"%{lower:6}\"");
    cfg.push_str(&expand("aws_access_key_id = \"AKIA%{upper:16}\"\n", &mut rng).unwrap());
    cfg.push_str(&expand("github_token = \"%{crc62:ghp_:36}\"\n", &mut rng).unwrap());
    std::fs::write(d.join("config.toml"), cfg).unwrap();
    git(d, &["add", "-A"]);
    dir
}

fn run(bin: &Path, dir: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("running warden")
}

fn bench_hook(c: &mut Criterion) {
    let Some(bin) = warden_bin() else {
        eprintln!(
            "hook bench skipped: no warden binary (run `cargo build --release` or set WARDEN_BIN)"
        );
        return;
    };
    let repo = fixture();
    let empty = tempfile::tempdir().expect("temp dir");
    git(empty.path(), &["init", "-q", "-b", "main"]);
    let scan = ["scan", "--staged", "--format", "json", "-o", "/dev/null"];
    let probe = run(&bin, repo.path(), &scan);
    eprintln!(
        "hook bench: {} (exit {:?}); {}",
        bin.display(),
        probe.status.code(),
        String::from_utf8_lossy(&probe.stderr).trim()
    );

    let mut g = c.benchmark_group("hook");
    g.sample_size(50);
    g.bench_function("scan_staged_3_files", |b| {
        b.iter(|| black_box(run(&bin, repo.path(), &scan).status))
    });
    g.bench_function("scan_staged_nothing_staged", |b| {
        b.iter(|| black_box(run(&bin, empty.path(), &scan).status))
    });
    g.bench_function("version_only", |b| {
        b.iter(|| black_box(run(&bin, repo.path(), &["--version"]).status))
    });
    g.finish();
}

criterion_group!(benches, bench_hook);
criterion_main!(benches);
