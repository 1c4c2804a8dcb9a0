//! The keyword prefilter: one Aho-Corasick automaton (ASCII case-insensitive) over the
//! keywords of every rule. A scan reports, per rule, where its keywords occur; regexes
//! run only around those hits. Knows nothing about regexes.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

/// A keyword occurrence for one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Index of the rule in the matcher.
    pub rule: usize,
    /// Byte offset of the keyword start.
    pub start: usize,
    /// Byte offset just past the keyword.
    pub end: usize,
}

/// Keywords → rules.
#[derive(Debug)]
pub struct Prefilter {
    automaton: AhoCorasick,
    /// For each distinct keyword (automaton pattern), the rules that listed it.
    owners: Vec<Vec<usize>>,
}

impl Prefilter {
    /// Builds the automaton from `(rule index, keywords)` pairs.
    pub fn new<'a>(rules: impl IntoIterator<Item = (usize, &'a [String])>) -> Self {
        let mut keywords: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<usize>> = Vec::new();
        for (rule, kws) in rules {
            for kw in kws {
                let kw = kw.to_ascii_lowercase();
                match keywords.iter().position(|k| *k == kw) {
                    Some(i) => owners[i].push(rule),
                    None => {
                        keywords.push(kw);
                        owners.push(vec![rule]);
                    }
                }
            }
        }
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&keywords)
            .expect("keyword automaton");
        Prefilter { automaton, owners }
    }

    /// Appends every (rule, keyword span) hit in `haystack` to `out`.
    pub fn scan(&self, haystack: &[u8], out: &mut Vec<Hit>) {
        for m in self.automaton.find_overlapping_iter(haystack) {
            for &rule in &self.owners[m.pattern().as_usize()] {
                out.push(Hit { rule, start: m.start(), end: m.end() });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_keywords_all_hit() {
        let kws0 = vec!["sk-or-v".to_string()];
        let kws1 = vec!["sk-or-v1-".to_string()];
        let p = Prefilter::new([(0, kws0.as_slice()), (1, kws1.as_slice())]);
        let mut hits = Vec::new();
        p.scan(b"x SK-OR-V1-abc", &mut hits);
        let rules: Vec<_> = hits.iter().map(|h| h.rule).collect();
        assert!(rules.contains(&0) && rules.contains(&1));
    }
}
