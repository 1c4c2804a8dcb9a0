//! The keyword prefilter: one Aho-Corasick automaton (ASCII case-insensitive) over the
//! keywords of every rule. A scan reports, per rule, where its keywords occur; regexes
//! run only around those hits. Knows nothing about regexes.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::{self, DFA};
use aho_corasick::{Anchored, MatchKind, StartKind};

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
    automaton: DFA,
    /// For each distinct keyword (automaton pattern), the rules that listed it.
    owners: Vec<Vec<usize>>,
    /// Length of the longest keyword.
    max_len: usize,
}

/// Chunks of a large haystack walked in lockstep.
const STREAMS: usize = 4;
/// Haystacks shorter than this are walked as one chunk.
const SPLIT_MIN: usize = 4096;

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
        let automaton = dfa::Builder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .start_kind(StartKind::Unanchored)
            .prefilter(false)
            .build(&keywords)
            .expect("keyword automaton");
        let max_len = keywords.iter().map(String::len).max().unwrap_or(0);
        Prefilter { automaton, owners, max_len }
    }

    /// Appends every (rule, keyword span) hit in `haystack` to `out`, in the order of
    /// `AhoCorasick::find_overlapping_iter` (by end offset, then automaton match order).
    ///
    /// NOTE: this walks the DFA directly instead of calling `find_overlapping_iter`, whose
    /// resumable per-match state machine cost ~19 instructions per byte here; the plain
    /// loop is a class lookup and a transition per byte. With ~200 case-insensitive
    /// keywords no aho-corasick prefilter applies, so nothing is lost by skipping it.
    ///
    /// NOTE: a DFA walk is bound by the latency of each state lookup, which depends on the
    /// previous one. Large haystacks are therefore cut into `STREAMS` chunks walked in
    /// lockstep (independent chains the CPU overlaps). Each chunk's walk starts
    /// `longest keyword - 1` bytes early from the start state and reports only matches
    /// ending inside its chunk, so every match is found exactly once; chunk results are
    /// appended in chunk order, which keeps the end-offset order of a single walk.
    pub fn scan(&self, haystack: &[u8], out: &mut Vec<Hit>) {
        let Ok(start) = self.automaton.start_state(Anchored::No) else { return };
        if haystack.len() < SPLIT_MIN {
            self.scan_from(haystack, 0, 0, start, out);
            return;
        }
        let chunk = haystack.len() / STREAMS;
        let mut bounds = [(0usize, 0usize, 0usize); STREAMS];
        for (s, b) in bounds.iter_mut().enumerate() {
            let lo = s * chunk;
            let hi = if s + 1 == STREAMS { haystack.len() } else { lo + chunk };
            *b = (lo.saturating_sub(self.max_len.saturating_sub(1)), lo, hi);
        }
        let mut later: [Vec<Hit>; STREAMS] = Default::default();
        let (ats, sids) = self.lockstep(haystack, &bounds, start, out, &mut later);
        for s in 0..STREAMS {
            let (_, report_after, hi) = bounds[s];
            let buf = if s == 0 { &mut *out } else { &mut later[s] };
            if let Some(sid) = sids[s] {
                self.scan_from(&haystack[..hi], ats[s], report_after, sid, buf);
            }
        }
        for buf in &mut later[1..] {
            out.append(buf);
        }
    }

    /// Walks all chunks one byte each per round until one of them runs out; returns where
    /// each stopped (`None`: the walk hit the dead state and is over).
    fn lockstep(
        &self,
        hay: &[u8],
        bounds: &[(usize, usize, usize); STREAMS],
        start: StateID,
        out: &mut Vec<Hit>,
        later: &mut [Vec<Hit>; STREAMS],
    ) -> ([usize; STREAMS], [Option<StateID>; STREAMS]) {
        let dfa = &self.automaton;
        let mut at = bounds.map(|b| b.0);
        let mut sid = [start; STREAMS];
        let mut live = [true; STREAMS];
        loop {
            let steps = (0..STREAMS).map(|s| bounds[s].2 - at[s]).min().unwrap_or(0);
            if steps == 0 || live.contains(&false) {
                break;
            }
            let mut special = false;
            for _ in 0..steps {
                for s in 0..STREAMS {
                    sid[s] = dfa.next_state(Anchored::No, sid[s], hay[at[s]]);
                    at[s] += 1;
                    special |= dfa.is_special(sid[s]);
                }
                if special {
                    break;
                }
            }
            for s in 0..STREAMS {
                if !dfa.is_special(sid[s]) {
                    continue;
                }
                if dfa.is_dead(sid[s]) {
                    live[s] = false;
                } else if dfa.is_match(sid[s]) && at[s] > bounds[s].1 {
                    let buf = if s == 0 { &mut *out } else { &mut later[s] };
                    self.push_matches(sid[s], at[s], buf);
                }
            }
        }
        (at, std::array::from_fn(|s| live[s].then_some(sid[s])))
    }

    /// The single-chain walk of `haystack` from `at` in state `sid`; matches ending at or
    /// before `report_after` are skipped.
    fn scan_from(
        &self,
        haystack: &[u8],
        mut at: usize,
        report_after: usize,
        mut sid: StateID,
        out: &mut Vec<Hit>,
    ) {
        let dfa = &self.automaton;
        while at < haystack.len() {
            (at, sid) = next_special(dfa, haystack, at, sid);
            if !dfa.is_special(sid) || dfa.is_dead(sid) {
                return;
            }
            if dfa.is_match(sid) && at > report_after {
                self.push_matches(sid, at, out);
            }
        }
    }

    /// Pushes the hits of every pattern matching in state `sid`, ending at `end`.
    fn push_matches(&self, sid: StateID, end: usize, out: &mut Vec<Hit>) {
        let dfa = &self.automaton;
        for k in 0..dfa.match_len(sid) {
            let pattern = dfa.match_pattern(sid, k);
            let start = end - dfa.pattern_len(pattern);
            for &rule in &self.owners[pattern.as_usize()] {
                out.push(Hit { rule, start, end });
            }
        }
    }
}

/// Advances from `at` in state `sid` until the DFA enters a special (match or dead) state
/// or the haystack ends; returns the offset just past the last byte consumed and the state.
/// Kept separate so the hot loop holds everything in registers.
#[inline(never)]
fn next_special(dfa: &DFA, haystack: &[u8], mut at: usize, mut sid: StateID) -> (usize, StateID) {
    while let Some(&byte) = haystack.get(at) {
        sid = dfa.next_state(Anchored::No, sid, byte);
        at += 1;
        if dfa.is_special(sid) {
            break;
        }
    }
    (at, sid)
}

#[cfg(test)]
mod tests {
    use aho_corasick::{AhoCorasickBuilder, AhoCorasickKind};

    use super::*;

    #[test]
    fn same_hits_as_find_overlapping_iter() {
        let kws: Vec<String> =
            ["key", "api_key", "secret", "SK-or-v", "sk-or-v1-", "://", "eyJ", "a"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        let p = Prefilter::new([(0, &kws[..4]), (1, &kws[3..]), (2, &kws[6..7])]);
        let hay = b"API_KEY=x sk-OR-v1-abc postgres://u:p@h eyJhbGci SECRET_key aaa\n\xff\x00key";
        let mut got = Vec::new();
        p.scan(hay, &mut got);
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(p_keywords(&kws))
            .unwrap();
        let owners = [vec![0], vec![0], vec![0], vec![0, 1], vec![1], vec![1], vec![1, 2], vec![1]];
        let want: Vec<Hit> = ac
            .find_overlapping_iter(hay)
            .flat_map(|m| {
                owners[m.pattern().as_usize()].iter().map(move |&rule| Hit {
                    rule,
                    start: m.start(),
                    end: m.end(),
                })
            })
            .collect();
        assert!(want.len() > 10);
        assert_eq!(got, want);
    }

    #[test]
    fn chunked_walk_matches_single_walk_at_every_boundary() {
        let kws: Vec<String> =
            ["key", "api_key", "sk-or-v1-", "://", "eyJ"].iter().map(|s| s.to_string()).collect();
        let p = Prefilter::new([(0, &kws[..3]), (1, &kws[2..])]);
        let unit = b"xx API_KEY=1 sk-Or-V1-z https://h eyj ";
        for len in (SPLIT_MIN..SPLIT_MIN + 3 * unit.len()).step_by(3) {
            let hay: Vec<u8> = unit.iter().copied().cycle().take(len).collect();
            let mut chunked = Vec::new();
            p.scan(&hay, &mut chunked);
            let mut single = Vec::new();
            p.scan_from(&hay, 0, 0, p.automaton.start_state(Anchored::No).unwrap(), &mut single);
            assert!(single.len() > 500);
            assert_eq!(chunked, single, "haystack length {len}");
        }
    }

    fn p_keywords(kws: &[String]) -> Vec<String> {
        kws.iter().map(|k| k.to_ascii_lowercase()).collect()
    }

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
