//! CI detection for `warden ci`: which provider runs us and which commits a pull request
//! (or push) brings, read from GitHub Actions and GitLab CI variables. Pure: it takes an
//! environment lookup and returns a plan; resolving refs and explaining shallow checkouts
//! happens in the app. No git, no output.

use std::collections::HashMap;

/// Where we run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// GitHub Actions (`GITHUB_ACTIONS=true`): annotations are printed.
    GitHub,
    /// GitLab CI (`GITLAB_CI=true`).
    GitLab,
    /// Anything else (a local run with `--range`).
    Local,
}

/// The start of the range to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// This exact commit (a push's `before`, GitLab's diff base).
    Commit(String),
    /// The merge base of HEAD with this branch (tried as `origin/NAME`, then `NAME`).
    MergeBaseWith(String),
    /// An explicit `BASE..HEAD` given on the command line.
    Range(String),
}

/// What `warden ci` scans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The CI provider.
    pub provider: Provider,
    /// The range start.
    pub base: Base,
    /// The range end (a commit id or `HEAD`).
    pub head: String,
    /// Where the range came from, for messages.
    pub reason: String,
}

const ZERO: &str = "0000000000000000000000000000000000000000";

/// Decides the range from an explicit `range` or the CI variables (`env` looks one up;
/// `event` is GitHub's event payload, when there is one).
pub fn detect(
    range: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
    event: Option<&serde_json::Value>,
) -> Result<Plan, String> {
    let provider = provider(env);
    if let Some(r) = range {
        return Ok(plan(provider, Base::Range(r.into()), "HEAD", "--range"));
    }
    match provider {
        Provider::GitHub => github(env, event),
        Provider::GitLab => gitlab(env),
        Provider::Local => Err("not running in GitHub Actions or GitLab CI: pass --range \
             BASE..HEAD (for example --range origin/main..HEAD)"
            .into()),
    }
}

/// The provider named by the environment.
pub fn provider(env: &dyn Fn(&str) -> Option<String>) -> Provider {
    let on = |k: &str| env(k).is_some_and(|v| v == "true");
    if on("GITHUB_ACTIONS") {
        Provider::GitHub
    } else if on("GITLAB_CI") {
        Provider::GitLab
    } else {
        Provider::Local
    }
}

fn plan(provider: Provider, base: Base, head: &str, reason: &str) -> Plan {
    Plan { provider, base, head: head.into(), reason: reason.into() }
}

fn set(env: &dyn Fn(&str) -> Option<String>, key: &str) -> Option<String> {
    env(key).filter(|v| !v.is_empty() && v != ZERO)
}

fn github(
    env: &dyn Fn(&str) -> Option<String>,
    event: Option<&serde_json::Value>,
) -> Result<Plan, String> {
    let head = set(env, "GITHUB_SHA").unwrap_or_else(|| "HEAD".into());
    let name = env("GITHUB_EVENT_NAME").unwrap_or_default();
    if name.starts_with("pull_request") {
        let base = set(env, "GITHUB_BASE_REF").ok_or("GITHUB_BASE_REF is not set")?;
        // NOTE: on pull_request, GITHUB_SHA is the test merge commit; its merge handling
        // drops what came from the base branch.
        return Ok(plan(Provider::GitHub, Base::MergeBaseWith(base), &head, "pull request"));
    }
    let field = |k: &str| event.and_then(|e| e.get(k)).and_then(|v| v.as_str());
    if let Some(before) = field("before").filter(|b| *b != ZERO) {
        return Ok(plan(Provider::GitHub, Base::Commit(before.into()), &head, "push"));
    }
    let default = event
        .and_then(|e| e.pointer("/repository/default_branch"))
        .and_then(|v| v.as_str())
        .ok_or("cannot tell the range of this GitHub event: pass --range BASE..HEAD")?;
    Ok(plan(Provider::GitHub, Base::MergeBaseWith(default.into()), &head, "new branch push"))
}

fn gitlab(env: &dyn Fn(&str) -> Option<String>) -> Result<Plan, String> {
    let head = set(env, "CI_COMMIT_SHA").unwrap_or_else(|| "HEAD".into());
    let g = |base, why: &str| Ok(plan(Provider::GitLab, base, &head, why));
    if let Some(sha) = set(env, "CI_MERGE_REQUEST_DIFF_BASE_SHA") {
        return g(Base::Commit(sha), "merge request");
    }
    if let Some(branch) = set(env, "CI_MERGE_REQUEST_TARGET_BRANCH_NAME") {
        return g(Base::MergeBaseWith(branch), "merge request");
    }
    if let Some(before) = set(env, "CI_COMMIT_BEFORE_SHA") {
        return g(Base::Commit(before), "push");
    }
    match set(env, "CI_DEFAULT_BRANCH") {
        Some(b) => g(Base::MergeBaseWith(b), "new branch push"),
        None => Err("cannot tell the range of this pipeline: pass --range BASE..HEAD".into()),
    }
}

/// The advice printed when the base is missing from a shallow checkout.
pub fn shallow_advice(provider: Provider) -> &'static str {
    match provider {
        Provider::GitHub => {
            "the checkout is too shallow to hold the pull request's base: set \
             `fetch-depth: 0` on actions/checkout (see hooks/github-actions.yml)"
        }
        Provider::GitLab => {
            "the clone is too shallow to hold the merge request's base: set \
             `GIT_DEPTH: 0` in the job's variables (see hooks/gitlab-ci.yml)"
        }
        Provider::Local => {
            "the repository is too shallow to hold the base: run `git fetch \
             --unshallow` (or clone without --depth)"
        }
    }
}

/// A lookup over a fixed map (tests, and callers that snapshot the environment).
pub fn map_env(map: HashMap<String, String>) -> impl Fn(&str) -> Option<String> {
    move |k| map.get(k).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        map_env(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn github_pull_request() {
        let e = env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_BASE_REF", "main"),
        ]);
        let p = detect(None, &e, None).unwrap();
        assert_eq!(p.base, Base::MergeBaseWith("main".into()));
        assert_eq!(p.provider, Provider::GitHub);
    }

    #[test]
    fn github_push_uses_before() {
        let e = env(&[("GITHUB_ACTIONS", "true"), ("GITHUB_EVENT_NAME", "push")]);
        let ev = serde_json::json!({"before": "abc", "repository": {"default_branch": "main"}});
        assert_eq!(detect(None, &e, Some(&ev)).unwrap().base, Base::Commit("abc".into()));
        let ev = serde_json::json!({"before": ZERO, "repository": {"default_branch": "main"}});
        assert_eq!(detect(None, &e, Some(&ev)).unwrap().base, Base::MergeBaseWith("main".into()));
    }

    #[test]
    fn gitlab_merge_request() {
        let e = env(&[("GITLAB_CI", "true"), ("CI_MERGE_REQUEST_DIFF_BASE_SHA", "def")]);
        assert_eq!(detect(None, &e, None).unwrap().base, Base::Commit("def".into()));
        let e = env(&[("GITLAB_CI", "true"), ("CI_COMMIT_BEFORE_SHA", ZERO)]);
        assert!(detect(None, &e, None).is_err());
    }

    #[test]
    fn explicit_range_wins() {
        let e = env(&[]);
        let p = detect(Some("a..b"), &e, None).unwrap();
        assert_eq!(p.base, Base::Range("a..b".into()));
        assert!(detect(None, &e, None).is_err());
    }
}
