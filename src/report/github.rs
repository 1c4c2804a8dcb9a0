//! GitHub Actions workflow commands: one `::error` annotation per finding.

use std::io::{self, Write};

use super::Report;

/// Escapes a property value of a workflow command.
fn prop(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
        .replace(':', "%3A")
        .replace(',', "%2C")
}

/// Escapes a message of a workflow command.
fn msg(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for f in &report.findings {
        let text = format!(
            "{} ({}): {} — rotate: {} [{}]",
            f.rule, f.provider, f.redacted, f.rotate, f.fingerprint
        );
        writeln!(
            out,
            "::error file={},line={},col={},endColumn={},title={}::{}",
            prop(&f.path),
            f.line,
            f.column,
            f.end_column,
            prop(&format!("warden: {}", f.rule)),
            msg(&text)
        )?;
    }
    Ok(())
}
