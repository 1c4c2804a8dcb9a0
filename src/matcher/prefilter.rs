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

/// Chunks of a haystack walked in lockstep (`lockstep_until_special` spells out four).
const STREAMS: usize = 4;
/// Haystacks shorter than this (or than `STREAMS` longest keywords) are walked as one
/// chunk. Even at 150 bytes the split walk is ~1.5x faster despite the extra lead-ins.
const SPLIT_MIN: usize = 128;

/// One chunk of a split walk: the chain starts at `walk_from` (the longest keyword - 1
/// bytes before its chunk) and reports matches ending in `report_after + 1..=hi`.
#[derive(Clone, Copy)]
struct Bounds {
    walk_from: usize,
    report_after: usize,
    hi: usize,
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
    /// previous one. All but the shortest haystacks are therefore cut into `STREAMS` chunks
    /// walked in lockstep (independent chains the CPU overlaps). Each chunk's walk starts
    /// `longest keyword - 1` bytes early from the start state and reports only matches
    /// ending inside its chunk, so every match is found exactly once; chunk results are
    /// appended in chunk order, which keeps the end-offset order of a single walk.
    ///
    /// NOTE: a SIMD skip-ahead (Teddy over "anchor" substrings every keyword contains, the
    /// DFA run only around anchor hits) was measured and lost: covering the ~275 builtin
    /// keywords takes ~100 three-byte anchors, and Teddy slows to 1-2 GB/s per pass above
    /// ~16 patterns, so the passes alone cost more than this walk (~2 GB/s per core).
    pub fn scan(&self, haystack: &[u8], out: &mut Vec<Hit>) {
        let Ok(start) = self.automaton.start_state(Anchored::No) else { return };
        if haystack.len() < SPLIT_MIN.max(STREAMS * self.max_len) {
            self.scan_from(haystack, 0, 0, start, out);
            return;
        }
        let bounds = self.split(haystack.len());
        let steps = bounds.iter().map(|b| b.hi - b.walk_from).min().unwrap_or(0);
        let mut bufs: [Vec<Hit>; STREAMS] = Default::default();
        bufs[0] = std::mem::take(out);
        let sids = self.lockstep(haystack, &bounds, steps, start, &mut bufs);
        for (s, b) in bounds.iter().enumerate() {
            let at = b.walk_from + steps;
            self.scan_from(&haystack[..b.hi], at, b.report_after, sids[s], &mut bufs[s]);
        }
        let [first, rest @ ..] = bufs;
        *out = first;
        for mut buf in rest {
            out.append(&mut buf);
        }
    }

    /// The `STREAMS` chunks of a haystack of `len` bytes, each with its lead-in.
    fn split(&self, len: usize) -> [Bounds; STREAMS] {
        let chunk = len / STREAMS;
        let lead = self.max_len.saturating_sub(1);
        std::array::from_fn(|s| {
            let lo = s * chunk;
            let hi = if s + 1 == STREAMS { len } else { lo + chunk };
            Bounds { walk_from: lo.saturating_sub(lead), report_after: lo, hi }
        })
    }

    /// Walks the first `steps` bytes of every chunk, one byte of each per round, pushing
    /// the matches met on the way; returns the state each chain reached. The dead state
    /// (never reached by an unanchored search) only leads to itself, so a chain may walk on
    /// through it without reporting anything.
    fn lockstep(
        &self,
        hay: &[u8],
        bounds: &[Bounds; STREAMS],
        steps: usize,
        start: StateID,
        bufs: &mut [Vec<Hit>; STREAMS],
    ) -> [StateID; STREAMS] {
        let dfa = &self.automaton;
        let chains: [&[u8]; STREAMS] =
            std::array::from_fn(|s| &hay[bounds[s].walk_from..][..steps]);
        let (mut at, mut sid) = (0, [start; STREAMS]);
        while at < steps {
            (at, sid) = lockstep_until_special(dfa, &chains, at, sid);
            for (s, b) in bounds.iter().enumerate() {
                let end = b.walk_from + at;
                if dfa.is_match(sid[s]) && end > b.report_after {
                    self.push_matches(sid[s], end, &mut bufs[s]);
                }
            }
        }
        sid
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

/// Advances all chains (of equal length) from `at`, one byte each per round, until one of
/// them enters a special (match or dead) state or they end; returns the offset just past
/// the last round and the states.
///
/// NOTE: the four states are separate locals and nothing else happens in a round, so
/// they stay in registers; matches are handled by the caller. Stepping each chain with
/// its own match check and bookkeeping in the loop ran at ~1.4 GB/s, this at ~2.1 GB/s.
#[inline(never)]
fn lockstep_until_special(
    dfa: &DFA,
    chains: &[&[u8]; STREAMS],
    mut at: usize,
    sid: [StateID; STREAMS],
) -> (usize, [StateID; STREAMS]) {
    let steps = chains[0].len();
    let [c0, c1, c2, c3] = chains.map(|c| &c[..steps]);
    let [mut s0, mut s1, mut s2, mut s3] = sid;
    while at < steps {
        s0 = dfa.next_state(Anchored::No, s0, c0[at]);
        s1 = dfa.next_state(Anchored::No, s1, c1[at]);
        s2 = dfa.next_state(Anchored::No, s2, c2[at]);
        s3 = dfa.next_state(Anchored::No, s3, c3[at]);
        at += 1;
        if dfa.is_special(s0) | dfa.is_special(s1) | dfa.is_special(s2) | dfa.is_special(s3) {
            break;
        }
    }
    (at, [s0, s1, s2, s3])
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
    use crate::rules::template::Rng;

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
        let short = SPLIT_MIN - 3..SPLIT_MIN + 3 * unit.len();
        for len in short.chain(4096..4096 + 3 * unit.len()) {
            let hay: Vec<u8> = unit.iter().copied().cycle().take(len).collect();
            let mut chunked = Vec::new();
            p.scan(&hay, &mut chunked);
            let single = single_walk(&p, &hay);
            assert!(single.len() > len / 10);
            assert_eq!(chunked, single, "haystack length {len}");
        }
    }

    /// The plain one-chain DFA walk over the whole haystack: the reference for `scan`.
    fn single_walk(p: &Prefilter, hay: &[u8]) -> Vec<Hit> {
        let mut out = Vec::new();
        p.scan_from(hay, 0, 0, p.automaton.start_state(Anchored::No).unwrap(), &mut out);
        out
    }

    /// A random haystack of keywords (random case), keyword fragments, separators and
    /// arbitrary bytes.
    fn random_haystack(rng: &mut Rng, kws: &[String], len: usize) -> Vec<u8> {
        let mut hay = Vec::with_capacity(len + 64);
        while hay.len() < len {
            let kw = kws[rng.range(0, kws.len() - 1)].as_bytes();
            let (cut, n) = (rng.range(0, kw.len()), rng.range(1, 12));
            let piece: Vec<u8> = match rng.range(0, 5) {
                0 | 1 => kw.to_vec(),
                2 => kw[..cut].to_vec(),
                3 => kw[cut..].to_vec(),
                4 => rng.string(b" \n_-.:/=\"'xyzKEY019", n).into_bytes(),
                _ => rng.bytes(n),
            };
            hay.extend(piece.into_iter().map(|b| match rng.range(0, 2) {
                0 => b.to_ascii_uppercase(),
                _ => b,
            }));
        }
        hay.truncate(len);
        hay
    }

    /// Every length up to 400 (each split point and the single-walk threshold), then longer
    /// haystacks, for the builtin keywords and for a set whose longest keyword (70 bytes)
    /// is longer than a chunk.
    #[test]
    fn split_walk_matches_single_walk_on_random_haystacks() {
        let builtin = crate::rules::RuleSet::builtin().unwrap();
        let builtin_kws: Vec<String> =
            builtin.rules().iter().flat_map(|r| r.keywords.clone()).collect();
        let custom: Vec<String> =
            ["x".repeat(70), "ab".into(), "q~".into(), "b".into(), "secret".into()].to_vec();
        let sets = [
            (
                Prefilter::new(
                    builtin.rules().iter().enumerate().map(|(i, r)| (i, &r.keywords[..])),
                ),
                builtin_kws,
            ),
            (Prefilter::new([(0, &custom[..3]), (1, &custom[2..])]), custom.clone()),
        ];
        let mut rng = Rng::new(0x9e37_79b9);
        for (p, kws) in &sets {
            let long: Vec<usize> = (0..300).map(|_| rng.range(400, 20_000)).collect();
            for len in (0..400).chain(long) {
                let hay = random_haystack(&mut rng, kws, len);
                let mut got = Vec::new();
                p.scan(&hay, &mut got);
                assert_eq!(got, single_walk(p, &hay), "length {len}");
            }
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
