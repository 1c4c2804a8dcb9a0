//! Rule self-tests: expands each rule's example templates with a seeded generator and checks
//! that positives are reported by that rule (and contain one of its keywords, so the
//! prefilter can never hide them) and that negatives are not. Used by the unit tests and by
//! `warden rules check`.

use super::template::{expand, Rng};
use super::RuleSet;
use crate::matcher::{MatcherBuilder, Scratch, Status};

/// One failed expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The rule.
    pub rule: String,
    /// What went wrong (never includes a full generated value).
    pub message: String,
}

/// Checks every rule in `set` with `seeds` different seeds per example.
pub fn check(set: &RuleSet, seeds: u64) -> Vec<Failure> {
    let matcher = MatcherBuilder::new(set).build();
    let mut scratch = Scratch::default();
    let mut failures = Vec::new();
    for (index, rule) in set.rules().iter().enumerate() {
        let fail = |message: String| Failure { rule: rule.id.clone(), message };
        if let Err(e) = matcher.compile_all_one(index) {
            failures.push(fail(e));
            continue;
        }
        if rule.examples.is_empty() && rule.kind != super::RuleKind::Public {
            failures.push(fail("no positive examples".into()));
        }
        for seed in 0..seeds {
            for (n, tpl) in rule.examples.iter().enumerate() {
                let mut rng = Rng::for_key(&rule.id, seed * 1000 + n as u64);
                let text = match expand(tpl, &mut rng) {
                    Ok(t) => t,
                    Err(e) => {
                        failures.push(fail(format!("example {n}: {e}")));
                        continue;
                    }
                };
                let lower = text.to_ascii_lowercase();
                if !rule.keywords.is_empty()
                    && !rule.keywords.iter().any(|k| lower.contains(&k.to_ascii_lowercase()))
                {
                    failures.push(fail(format!("example {n} contains none of the keywords")));
                }
                let status = statuses(&matcher, &mut scratch, index, &text);
                let wanted =
                    if rule.kind == super::RuleKind::Public { "suppressed" } else { "reported" };
                let ok = match rule.kind {
                    super::RuleKind::Public => {
                        status.iter().any(|s| matches!(s, Status::Suppressed(_)))
                    }
                    _ => status.contains(&Status::Reported),
                };
                if !ok {
                    failures
                        .push(fail(format!("example {n} (seed {seed}) not {wanted}: {status:?}")));
                }
            }
            for (n, tpl) in rule.negative_examples.iter().enumerate() {
                let mut rng = Rng::for_key(&rule.id, 500 + seed * 1000 + n as u64);
                let Ok(text) = expand(tpl, &mut rng) else {
                    failures.push(fail(format!("negative example {n}: bad template")));
                    continue;
                };
                if statuses(&matcher, &mut scratch, index, &text).contains(&Status::Reported) {
                    failures.push(fail(format!("negative example {n} (seed {seed}) was reported")));
                }
            }
        }
    }
    failures
}

fn statuses(
    matcher: &crate::matcher::Matcher,
    scratch: &mut Scratch,
    rule: usize,
    text: &str,
) -> Vec<Status> {
    let mut out = Vec::new();
    let path = matcher.rule(rule).example_path.as_deref().or(Some("app/settings.env"));
    if let Err(e) = matcher.scan(text.as_bytes(), path, scratch, &mut out) {
        return vec![Status::Rejected(e)];
    }
    out.into_iter().filter(|m| m.rule == rule).map(|m| m.status).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_rule_passes_its_examples() {
        let set = RuleSet::builtin().expect("builtin rules");
        let failures = check(&set, 8);
        assert!(failures.is_empty(), "{} failures:\n{failures:#?}", failures.len());
    }
}
