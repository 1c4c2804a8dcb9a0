//! JSON and JSON Lines: the versioned report schema (`schema_version`).

use std::io::{self, Write};

use serde::Serialize;
use serde_json::json;

use super::{Report, SCHEMA_VERSION};

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    tool: &'static str,
    version: &'static str,
    #[serde(flatten)]
    report: &'a Report,
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let doc = Document {
        schema_version: SCHEMA_VERSION,
        tool: "warden",
        version: env!("CARGO_PKG_VERSION"),
        report,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

pub fn write_lines(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for f in &report.findings {
        let mut v = serde_json::to_value(f)?;
        v["schema_version"] = json!(SCHEMA_VERSION);
        serde_json::to_writer(&mut *out, &v)?;
        writeln!(out)?;
    }
    Ok(())
}
