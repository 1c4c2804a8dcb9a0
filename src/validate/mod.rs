//! Structural validators: named checks a rule runs after its regex matched. A validator
//! can accept (optionally raising or lowering confidence/severity and adding a note with
//! decoded, non-secret metadata), reject (not this rule's credential), or suppress (a
//! public-by-design value that no rule may report). Owns decoding; not matching or output.

pub mod checksum;
mod common;

pub use common::base36;
pub mod decode;
mod structural;

use crate::rules::{Confidence, Severity};

/// What a rule matched, as a validator sees it.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// The secret (the rule's secret group).
    pub secret: &'a [u8],
    /// The whole regex match.
    pub full: &'a [u8],
    /// The whole blob, for nearby context.
    pub haystack: &'a [u8],
    /// Offset of the secret in the haystack.
    pub offset: usize,
}

impl<'a> Candidate<'a> {
    /// The text from `n` lines before the secret to `n` lines after it.
    pub fn nearby_lines(&self, n: usize) -> &'a [u8] {
        let h = self.haystack;
        let mut lo = self.offset;
        for _ in 0..=n {
            lo = memchr::memrchr(b'\n', &h[..lo]).unwrap_or(0);
        }
        let mut hi = self.offset;
        for _ in 0..=n {
            hi = memchr::memchr(b'\n', &h[hi..]).map_or(h.len(), |i| (hi + i + 1).min(h.len()));
        }
        &h[lo..hi]
    }
}

/// A validator's decision.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Report it, adjusting confidence/severity when set.
    Accept(Accept),
    /// Not this rule's credential; another rule may still claim the span.
    Reject(String),
    /// A public-by-design or documented value: nothing reports this span.
    Suppress(String),
}

/// Adjustments an accepting validator makes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Accept {
    /// Confidence to use instead of the rule's default.
    pub confidence: Option<Confidence>,
    /// Severity to use instead of the rule's.
    pub severity: Option<Severity>,
    /// Decoded, non-secret metadata (org, project ref, DB number…).
    pub note: Option<String>,
}

impl Verdict {
    /// Accept with no change.
    pub fn ok() -> Self {
        Verdict::Accept(Accept::default())
    }
    /// Accept with this confidence.
    pub fn confident(c: Confidence) -> Self {
        Verdict::Accept(Accept { confidence: Some(c), ..Accept::default() })
    }
    /// Adds a note to an acceptance.
    pub fn with_note(self, note: impl Into<String>) -> Self {
        match self {
            Verdict::Accept(mut a) => {
                a.note = Some(note.into());
                Verdict::Accept(a)
            }
            other => other,
        }
    }
    /// Sets the severity of an acceptance.
    pub fn with_severity(self, s: Severity) -> Self {
        match self {
            Verdict::Accept(mut a) => {
                a.severity = Some(s);
                Verdict::Accept(a)
            }
            other => other,
        }
    }
    fn reject(why: &str) -> Self {
        Verdict::Reject(why.to_string())
    }
    fn suppress(why: &str) -> Self {
        Verdict::Suppress(why.to_string())
    }
}

/// Every validator name with a one-line description (for `warden rules list`).
pub const VALIDATORS: &[(&str, &str)] = &[
    ("sentry-org-token", "base64 JSON payload with iat and region_url"),
    (
        "supabase-jwt",
        "JWT payload iss=supabase: service_role reported, anon/authenticated suppressed",
    ),
    ("jwt", "decodable JWT header and payload; Supabase and known samples left to their rules"),
    ("upstash-redis-token", "Upstash binary token layout raises confidence (never rejects)"),
    ("upstash-redis-token-strict", "Upstash v2 binary layout required"),
    ("qstash-token", "base64 JSON with UserID and Password/ApiKey; dev-server default suppressed"),
    ("mixed-alnum", "at least one digit, one uppercase and one lowercase letter"),
    ("not-hex40", "rejects 40-hex values (git SHAs)"),
    ("crc62-suffix", "Base62 CRC32 checksum suffix raises confidence (never rejects)"),
    ("crc62-required", "Base62 CRC32 checksum suffix required"),
    ("db-url", "rejects local hosts, example hosts and template passwords"),
    ("key-material", "decoded key length raises confidence"),
    ("onepassword-token", "base64 JSON payload of a 1Password service account"),
    ("gcp-service-account", "client_email and private_key present in the JSON object"),
    (
        "documented-example",
        "suppresses documented example values (Azurite key, Stripe docs key) by hash",
    ),
    ("gitlab-routable", "GitLab routable token: base36 CRC32 suffix required"),
    ("aws-access-key-id", "a secret access key within 5 lines raises severity to critical"),
    (
        "private-key-body",
        "PEM body is base64 (plus header lines), at least 64 characters; encrypted keys high",
    ),
    ("base64-pem", "base64 text decoding to a PEM private-key BEGIN line"),
    ("discord-bot-token", "first segment decodes to a numeric user id (raises confidence)"),
    ("google-api-key", "notes Firebase web config keys (semi-public) and API restrictions"),
];

/// True when `name` is a known validator.
pub fn is_known(name: &str) -> bool {
    VALIDATORS.iter().any(|(n, _)| *n == name)
}

/// Runs the named validator. Unknown names accept (rule validation rejects them earlier).
pub fn run(name: &str, c: &Candidate<'_>) -> Verdict {
    use structural as s;
    match name {
        "sentry-org-token" => s::sentry_org_token(c),
        "supabase-jwt" => s::supabase_jwt(c),
        "jwt" => s::jwt(c),
        "upstash-redis-token" => s::upstash_redis_token(c, false),
        "upstash-redis-token-strict" => s::upstash_redis_token(c, true),
        "qstash-token" => s::qstash_token(c),
        "mixed-alnum" => s::mixed_alnum(c),
        "not-hex40" => s::not_hex40(c),
        "crc62-suffix" => s::crc62(c, false),
        "crc62-required" => s::crc62(c, true),
        "db-url" => s::db_url(c),
        "key-material" => s::key_material(c),
        "onepassword-token" => s::onepassword_token(c),
        "gcp-service-account" => s::gcp_service_account(c),
        "documented-example" => common::documented_example(c),
        "gitlab-routable" => common::gitlab_routable(c),
        "aws-access-key-id" => common::aws_access_key_id(c),
        "private-key-body" => common::private_key_body(c),
        "base64-pem" => common::base64_pem(c),
        "discord-bot-token" => common::discord_bot_token(c),
        "google-api-key" => common::google_api_key(c),
        _ => Verdict::ok(),
    }
}
