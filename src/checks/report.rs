//! What a check run tells the user, on stderr: one summary line with timings on success;
//! for each failing check its name, command line, exit status and output; what the
//! working-tree guard kept aside. Text only; no processes or git.

use std::io::{self, Write};
use std::time::Duration;

use super::{CheckResult, RunReport, Status};

/// "0.42s", "1m05s".
pub fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.2}s")
    } else {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// Writes the report; `blocking` names what a failure blocks (e.g. "commit").
pub fn write(report: &RunReport, blocking: Option<&str>, out: &mut dyn Write) -> io::Result<()> {
    if let Some(r) = &report.restored {
        for (path, kept) in &r.kept {
            writeln!(
                out,
                "warden: {} changed while the checks ran; your unstaged version is back, the changed one is kept at {}",
                path.display(),
                kept.display()
            )?;
        }
    }
    for r in report.results.iter().filter(|r| r.status.is_failure()) {
        failure(r, out)?;
    }
    writeln!(out, "{}", summary(report))?;
    if report.failed() {
        if let Some(what) = blocking {
            hint(report, what, out)?;
        }
    }
    Ok(())
}

fn failure(r: &CheckResult, out: &mut dyn Write) -> io::Result<()> {
    let what = match &r.status {
        Status::Failed(how) => format!("failed ({how})"),
        Status::TimedOut(t) => {
            format!("timed out after {}; its process group was killed", secs(*t))
        }
        Status::Interrupted => "was interrupted; its process group was killed".into(),
        Status::Cancelled => "was cancelled (fail_fast); its process group was killed".into(),
        Status::Error(msg) => format!("could not run: {msg}"),
        Status::Passed | Status::Skipped(_) => return Ok(()),
    };
    writeln!(out, "warden: check {:?} {what} after {}", r.name, secs(r.duration))?;
    writeln!(out, "  command: {}", r.command)?;
    if !r.output.is_empty() {
        writeln!(out, "  output:")?;
        out.write_all(&r.output)?;
        if !r.output.ends_with(b"\n") {
            writeln!(out)?;
        }
    }
    Ok(())
}

/// One line: how many checks passed, failed or were skipped, with timings.
pub fn summary(report: &RunReport) -> String {
    let ran: Vec<&CheckResult> = report.results.iter().filter(|r| r.runs > 0).collect();
    let failed = report.results.iter().filter(|r| r.status.is_failure()).count();
    let skipped = report.results.iter().filter(|r| matches!(r.status, Status::Skipped(_))).count();
    let timings: Vec<String> = ran
        .iter()
        .map(|r| {
            let runs = if r.runs > 1 { format!(" ×{}", r.runs) } else { String::new() };
            format!("{} {}{runs}", r.name, secs(r.duration))
        })
        .collect();
    let head = if report.interrupted {
        "warden: checks interrupted".to_string()
    } else if failed > 0 {
        format!("warden: {failed} of {} checks failed", report.results.len())
    } else {
        format!("warden: {} checks passed", ran.len())
    };
    let mut line = format!("{head} in {}", secs(report.elapsed));
    if !timings.is_empty() {
        line.push_str(&format!(" ({})", timings.join(", ")));
    }
    if skipped > 0 {
        line.push_str(&format!(", {skipped} skipped"));
    }
    line
}

fn hint(report: &RunReport, what: &str, out: &mut dyn Write) -> io::Result<()> {
    let names: Vec<&str> =
        report.results.iter().filter(|r| r.status.is_failure()).map(|r| r.name.as_str()).collect();
    writeln!(
        out,
        "warden: {what} blocked by failing checks. Fix them and try again; to skip a check once: SKIP={} git commit …; to skip all checks: WARDEN_SKIP=1; to bypass warden entirely: git commit --no-verify",
        names.join(",")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &str, status: Status) -> CheckResult {
        CheckResult {
            name: name.into(),
            status,
            output: b"boom\n".to_vec(),
            duration: Duration::from_millis(120),
            command: "./lint.sh 'a b.ts'".into(),
            runs: 1,
        }
    }

    fn render(results: Vec<CheckResult>) -> String {
        let report = RunReport {
            results,
            elapsed: Duration::from_millis(300),
            interrupted: false,
            restored: None,
        };
        let mut out = Vec::new();
        write(&report, Some("commit"), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn failure_shows_name_command_status_output() {
        let text = render(vec![
            result("lint", Status::Failed("exit status 1".into())),
            result("types", Status::Passed),
        ]);
        assert!(text.contains("check \"lint\" failed (exit status 1)"), "{text}");
        assert!(text.contains("command: ./lint.sh 'a b.ts'"), "{text}");
        assert!(text.contains("boom"), "{text}");
        assert!(text.contains("1 of 2 checks failed"), "{text}");
        assert!(text.contains("SKIP=lint"), "{text}");
        assert_eq!(text.matches("boom").count(), 1, "only failing output: {text}");
    }

    #[test]
    fn success_is_one_line() {
        let text = render(vec![result("types", Status::Passed)]);
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.starts_with("warden: 1 checks passed in 0.30s (types 0.12s)"), "{text}");
    }
}
