//! Matcher (and decoding-layer) throughput (bytes/s) on a fixed, seeded corpus of
//! source-like text.
//!
//! The corpus (about 4 MiB) is generated at run time with the crate's seeded generator: code
//! lines, config lines, keyword-bearing lines that hold no secret (environment lookups,
//! CI placeholders, prose), and a handful of planted fake secrets expanded from the rules'
//! own example templates. No literal token is ever written in this file.
//!
//! Rules: `RuleSet::builtin()`; while the builtin set is empty (rule files not yet landed)
//! a small inline stand-in set is used instead, so the bench always measures something.
//!
//! Run: `cargo bench --bench matcher` (add `-- --quick` for a fast pass).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use warden::decoding::derive;
use warden::matcher::prefilter::{Hit, Prefilter};
use warden::matcher::{MatcherBuilder, RawMatch, Scratch, Status};
use warden::rules::template::{expand, Rng};
use warden::rules::RuleSet;

/// Size of the generated corpus.
const CORPUS_BYTES: usize = 4 << 20;
/// How many planted fake secrets (expanded rule examples) the corpus carries.
const PLANTED: usize = 24;

/// Stand-in rules used only while `RuleSet::builtin()` is empty. Example templates are
/// expanded at run time; the regexes are ordinary provider shapes.
const STANDIN_RULES: &str = r#"
[[rule]]
id = "aws-access-key-id"
provider = "AWS"
description = "AWS access key id."
keywords = ["akia", "asia"]
regex = '\b((?:AKIA|ASIA)[A-Z2-7]{16})\b'
rotate = "IAM console"
examples = ["aws_access_key_id = AKIA%{upper:16}"]

[[rule]]
id = "github-pat"
provider = "GitHub"
description = "GitHub classic personal access token."
keywords = ["ghp_", "gho_", "ghs_", "ghu_"]
regex = '\b(gh[opsu]_[A-Za-z0-9]{36})\b'
validator = "crc62-suffix"
rotate = "GitHub settings"
examples = ["token: %{crc62:ghp_:36}"]

[[rule]]
id = "slack-bot-token"
provider = "Slack"
description = "Slack bot token."
keywords = ["xoxb-"]
regex = '\b(xoxb-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24})\b'
rotate = "Slack app settings"
examples = ["SLACK=xoxb-%{digits:12}-%{digits:13}-%{alnum:24}"]

[[rule]]
id = "stripe-secret-key"
provider = "Stripe"
description = "Stripe live secret key."
keywords = ["sk_live_", "rk_live_"]
regex = '\b([sr]k_live_[A-Za-z0-9]{24,99})\b'
rotate = "Stripe dashboard"
examples = ["stripe.api_key = \"sk_live_%{alnum:40}\""]

[[rule]]
id = "openai-api-key"
provider = "OpenAI"
description = "OpenAI project key."
keywords = ["sk-proj-"]
regex = '\b(sk-proj-[A-Za-z0-9_-]{40,200})'
rotate = "OpenAI dashboard"
examples = ["OPENAI_API_KEY=sk-proj-%{b64url:64}"]

[[rule]]
id = "private-key"
provider = "generic"
kind = "generic"
description = "PEM private key block."
keywords = ["-----begin"]
regex = '(-----BEGIN (?:RSA |EC |OPENSSH |)PRIVATE KEY-----[A-Za-z0-9+/=\s]{64,}-----END (?:RSA |EC |OPENSSH |)PRIVATE KEY-----)'
window = 8192
rotate = "re-issue the key"
examples = ["-----BEGIN PRIVATE KEY-----\n%{pem-body}\n-----END PRIVATE KEY-----"]

[[rule]]
id = "jwt"
provider = "generic"
kind = "generic"
description = "JSON Web Token."
keywords = ["eyj"]
regex = '\b(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})'
validator = "jwt"
rotate = "rotate the signing key"
examples = ["Authorization: Bearer %{jwt:acme:user}"]

[[rule]]
id = "generic-password"
provider = "generic"
kind = "context"
description = "A password assigned to a password-like key."
keywords = ["password", "passwd", "pwd"]
regex = '''(?i)(?:password|passwd|pwd)["']?\s*[:=]\s*["']([^\s"'$]{8,64})["']'''
entropy = 3.0
validator = "mixed-alnum"
rotate = "change the password"
examples = ["db_password = \"%{alnum:20}\""]

[[rule]]
id = "generic-api-key"
provider = "generic"
kind = "generic"
description = "A long random value assigned to a key-, token- or secret-like name."
keywords = ["key", "token", "secret"]
regex = '''(?i)(?:api_?key|access_?token|secret_?key|client_?secret|auth_?token)["']?\s*[:=]\s*["']?([A-Za-z0-9_\-+/]{20,80})["']?'''
entropy = 3.5
validator = "not-hex40"
rotate = "rotate the key"
examples = ["client_secret: %{alnum:32}"]
"#;

fn rule_set() -> (RuleSet, &'static str) {
    match RuleSet::builtin() {
        Ok(set) if !set.is_empty() => (set, "builtin"),
        Ok(_) | Err(_) => {
            let mut set = RuleSet::default();
            set.add_toml("bench-standin.toml", STANDIN_RULES).expect("stand-in rules are valid");
            (set, "standin")
        }
    }
}

/// Ordinary lines: code and config without any secret-looking value.
const PLAIN: &[&str] = &[
    "    let mut %{lower:6} = Vec::with_capacity(%{digits:3});",
    "    for (i, item) in self.%{lower:8}.iter().enumerate() {",
    "        if item.%{lower:5}() > %{digits:2} { return Err(Error::%{alpha:9}); }",
    "fn %{lower:10}(ctx: &Context, id: u%{digits:2}) -> Result<%{alpha:8}> {",
    "    }",
    "}",
    "",
    "// %{lower:7} %{lower:4} %{lower:9} %{lower:3} %{lower:6} %{lower:8} %{lower:5}",
    "    /// Returns the %{lower:6} of the %{lower:8}, or `None` when %{lower:5}.",
    "def %{lower:9}(self, %{lower:4}, %{lower:6}=None):",
    "        return self._%{lower:7}[%{lower:4}] + %{digits:3}",
    "import { %{alpha:10} } from './%{lower:8}';",
    "  const %{alpha:7} = await fetch(`/api/v1/%{lower:6}/${id}`);",
    "%{lower:8}:",
    "  %{lower:6}: %{digits:4}",
    "  image: \"registry.example.com/%{lower:7}:%{digits:1}.%{digits:2}\"",
    "%{lower:10} = \"%{lower:5}-%{lower:6}\"",
    "version = \"%{digits:1}.%{digits:2}.%{digits:1}\"",
    "    \"%{lower:8}\": { \"enabled\": true, \"limit\": %{digits:4} },",
    "checksum = \"%{hex:64}\"",
    "    assert_eq!(%{lower:5}.len(), %{digits:2}, \"%{lower:7} %{lower:5}\");",
    "<div class=\"%{lower:6}\">%{alpha:12} %{lower:8}</div>",
];

/// Lines that carry a rule keyword but no secret (prefilter hits the regex must reject).
const KEYWORDED: &[&str] = &[
    "    let token = self.auth.token()?;",
    "    api_key = os.environ[\"API_KEY\"]",
    "password: ${{ secrets.DB_PASSWORD }}",
    "    // the secret key is loaded from the keyring, never from this file",
    "client_secret: <your-client-secret>",
    "export SECRET_KEY=changeme",
    "    if key.starts_with(\"sk_live_\") { warn!(\"live key\"); }",
    "db_password = \"password\"",
    "    headers.insert(\"Authorization\", format!(\"Bearer {token}\"));",
    "    private_key_path = \"~/.ssh/id_ed25519\"",
    "    fn parse_key(key: &str) -> Result<Key> {",
    "access_token = get_access_token(client_id, scope)",
];

fn planted(set: &RuleSet, rng: &mut Rng) -> Vec<String> {
    let examples: Vec<&String> = set.rules().iter().flat_map(|r| &r.examples).collect();
    (0..PLANTED)
        .filter_map(|i| {
            let tpl = examples.get(i * examples.len().max(1) / PLANTED)?;
            expand(tpl, rng).ok()
        })
        .collect()
}

/// Builds the corpus: mostly plain lines, about 3% keyword-bearing lines, `PLANTED`
/// secrets spread evenly.
fn corpus(set: &RuleSet) -> Vec<u8> {
    let mut rng = Rng::new(0x5eed_c0de);
    let secrets = planted(set, &mut rng);
    let mut out = String::with_capacity(CORPUS_BYTES + 4096);
    let every = CORPUS_BYTES / (secrets.len() + 1);
    let mut next_secret = every;
    let mut secrets = secrets.into_iter();
    while out.len() < CORPUS_BYTES {
        let roll = rng.range(0, 99);
        let line = if roll < 3 {
            KEYWORDED[rng.range(0, KEYWORDED.len() - 1)].to_string()
        } else {
            let tpl = PLAIN[rng.range(0, PLAIN.len() - 1)];
            expand(tpl, &mut rng).expect("valid template")
        };
        out.push_str(&line);
        out.push('\n');
        if out.len() >= next_secret {
            if let Some(s) = secrets.next() {
                out.push_str(&s);
                out.push('\n');
            }
            next_secret += every;
        }
    }
    out.into_bytes()
}

fn bench_matcher(c: &mut Criterion) {
    let (set, which) = rule_set();
    let hay = corpus(&set);
    let matcher = MatcherBuilder::new(&set).build();
    let mut scratch = Scratch::default();
    let mut out: Vec<RawMatch> = Vec::new();
    matcher.scan(&hay, None, &mut scratch, &mut out).expect("scan");
    let reported = out.iter().filter(|m| m.status == Status::Reported).count();
    eprintln!(
        "matcher bench: {which} rules ({}), corpus {} bytes, {} candidates, {reported} reported",
        set.len(),
        hay.len(),
        out.len()
    );

    let mut g = c.benchmark_group("matcher");
    g.sample_size(20);
    g.throughput(Throughput::Bytes(hay.len() as u64));
    g.bench_function(BenchmarkId::new("scan", which), |b| {
        b.iter(|| {
            out.clear();
            matcher.scan(black_box(&hay), None, &mut scratch, &mut out).expect("scan");
            black_box(out.len())
        })
    });
    g.bench_function(BenchmarkId::new("build_and_scan", which), |b| {
        b.iter(|| {
            let m = MatcherBuilder::new(&set).build();
            out.clear();
            m.scan(black_box(&hay), None, &mut scratch, &mut out).expect("scan");
            black_box(out.len())
        })
    });
    let prefilter =
        Prefilter::new(set.rules().iter().enumerate().map(|(i, r)| (i, r.keywords.as_slice())));
    let mut hits: Vec<Hit> = Vec::new();
    g.bench_function(BenchmarkId::new("prefilter", which), |b| {
        b.iter(|| {
            hits.clear();
            prefilter.scan(black_box(&hay), &mut hits);
            black_box(hits.len())
        })
    });
    g.finish();

    // The decoding layers run on every blob too; 16 KiB pieces stand in for blobs.
    let mut g = c.benchmark_group("decoding");
    g.sample_size(20);
    g.throughput(Throughput::Bytes(hay.len() as u64));
    g.bench_function("derive", |b| {
        b.iter(|| hay.chunks(16 << 10).map(|blob| derive(black_box(blob)).len()).sum::<usize>())
    });
    g.finish();

    // Fixed costs the hook pays once per process, independent of the corpus.
    let mut g = c.benchmark_group("setup");
    g.bench_function(BenchmarkId::new("ruleset_load", which), |b| {
        b.iter(|| black_box(rule_set().0.len()))
    });
    g.bench_function(BenchmarkId::new("matcher_build", which), |b| {
        b.iter(|| black_box(MatcherBuilder::new(&set).build().len()))
    });
    g.bench_function(BenchmarkId::new("compile_all", which), |b| {
        b.iter(|| {
            let m = MatcherBuilder::new(&set).build();
            m.compile_all().expect("compile");
            black_box(m.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench_matcher);
criterion_main!(benches);
