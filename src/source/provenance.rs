//! Provenance of findings: author, date and summary of the commits that introduced them.
//! Looked up only for commits that carry a finding, after the scan, never for the whole
//! history. No scanning, no output.

use std::collections::BTreeSet;

use git2::{Oid, Repository};

use crate::finding::{CommitInfo, Finding};

/// The commits named by `findings`, each once, sorted by id. Unreadable commits are skipped
/// (the finding still names the id).
pub fn commits(repo: &Repository, findings: &[Finding]) -> Vec<CommitInfo> {
    let ids: BTreeSet<&str> = findings.iter().filter_map(|f| f.commit.as_deref()).collect();
    ids.into_iter().filter_map(|id| info(repo, id)).collect()
}

fn info(repo: &Repository, id: &str) -> Option<CommitInfo> {
    let commit = repo.find_commit(Oid::from_str(id).ok()?).ok()?;
    let author = commit.author();
    Some(CommitInfo {
        id: id.to_string(),
        author: String::from_utf8_lossy(author.name_bytes()).into_owned(),
        email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
        date: rfc3339(author.when().seconds()),
        summary: String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default()).into_owned(),
    })
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Howard Hinnant's days-to-civil conversion.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
