//! Remediation files: the replace-text input of BFG Repo-Cleaner (`--replace-text`) and of
//! `git filter-repo --replace-text`, one `SECRET==>***REMOVED***` line per secret, plus the
//! steps to follow (rotate first, then rewrite, then force-push and expire reflogs).
//!
//! The only writer that ever sees full secret values, and only through the [`Secret`] side
//! channel the scan fills for it. The caller must write to a 0600 file, never to stdout.

use std::io::{self, Write};

use crate::finding::{Finding, Secret};

/// The replacement written in place of every secret.
pub const REPLACEMENT: &str = "***REMOVED***";

/// Which history-rewriting tool the file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// BFG Repo-Cleaner (`java -jar bfg.jar --replace-text FILE`).
    Bfg,
    /// git filter-repo (`git filter-repo --replace-text FILE`).
    FilterRepo,
}

/// Writes one replacement line per secret. Both tools read the same syntax: a literal (or
/// `regex:` expression) then `==>` and the replacement. Values that a literal line cannot
/// carry (line breaks, `==>`, a leading `regex:`/`glob:`/`literal:`) become an escaped regex.
pub fn write(secrets: &[Secret], out: &mut dyn Write) -> io::Result<()> {
    for s in secrets {
        let Ok(value) = std::str::from_utf8(&s.value) else {
            continue; // not expressible as text in either tool; reported by `skipped`
        };
        writeln!(out, "{}==>{REPLACEMENT}", expression(value))?;
    }
    Ok(())
}

/// Secrets that are not valid UTF-8 and so cannot go in a replace-text file.
pub fn skipped(secrets: &[Secret]) -> usize {
    secrets.iter().filter(|s| std::str::from_utf8(&s.value).is_err()).count()
}

fn expression(value: &str) -> String {
    let awkward = value.contains(['\n', '\r'])
        || value.contains("==>")
        || ["regex:", "glob:", "literal:"].iter().any(|p| value.starts_with(p));
    if awkward {
        format!("regex:{}", regex_escape(value))
    } else {
        value.to_string()
    }
}

/// Escapes for both Python `re` and Java `Pattern`: ASCII punctuation gets a backslash,
/// line breaks become `\n` / `\r`, everything else stays.
fn regex_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 2);
    for c in value.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_ascii_punctuation() => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// The warning and the steps to print after writing `file` for `tool`.
pub fn steps(tool: Tool, file: &str, findings: &[Finding], count: usize) -> String {
    let mut s = format!(
        "warden: WARNING: {file} holds {count} full secret value(s) (mode 0600). Never commit \
         or share it; delete it when done.\n\n1. Rotate first: rewriting history does not \
         un-leak a secret that was pushed or cloned.\n"
    );
    let mut seen = std::collections::BTreeSet::new();
    for f in findings.iter().filter(|f| seen.insert(&f.fingerprint)) {
        s.push_str(&format!(
            "   - {} ({}): {}  [{}]\n",
            f.rule, f.provider, f.rotate, f.fingerprint
        ));
    }
    s.push_str("2. Rewrite history on a fresh mirror clone (git clone --mirror URL repo.git):\n");
    s.push_str(&match tool {
        Tool::FilterRepo => format!("   cd repo.git && git filter-repo --replace-text {file}\n"),
        Tool::Bfg => format!(
            "   java -jar bfg.jar --replace-text {file} repo.git\n   (BFG leaves the latest \
             commit of each branch alone: fix the current files in a normal commit first)\n"
        ),
    });
    s.push_str(
        "3. Force-push every rewritten ref and drop the old objects:\n   git push --force \
         --mirror   (or: git push --force --all && git push --force --tags)\n   git reflog \
         expire --expire=now --all && git gc --prune=now --aggressive\n   Ask collaborators to \
         re-clone, and your host to purge cached views and pull-request refs.\n4. Check: warden \
         scan --history should now find none of these fingerprints.\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(v: &str) -> Secret {
        Secret { fingerprint: "r:1".into(), rule: "r".into(), value: v.as_bytes().to_vec() }
    }

    #[test]
    fn literal_and_regex_lines() {
        let mut out = Vec::new();
        write(&[secret("abc123"), secret("a.b\nc")], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "abc123==>***REMOVED***\nregex:a\\.b\\nc==>***REMOVED***\n");
    }
}
