//! The validator implementations. Each takes a [`Candidate`] and returns a [`Verdict`];
//! see `VALIDATORS` in the parent module for the catalogue.

use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::decode::{base64_any, base64_json, str_field};
use super::{checksum, Candidate, Verdict};
use crate::rules::{Confidence, Severity};

type JsonMap = serde_json::Map<String, serde_json::Value>;

/// SHA-256 (hex) of the jwt.io sample token's signature segment: a documented example,
/// stored as a hash so the literal stays out of the repository.
const JWT_IO_SAMPLE_SIG_SHA256: &str =
    "051d093c4bdedbf23f905ad01d9c6111414d54e2170e1d7f76657c4e76e3e65b";

pub fn sentry_org_token(c: &Candidate<'_>) -> Verdict {
    let s = c.secret;
    let Some(body) = s.strip_prefix(b"sntrys_") else {
        return Verdict::reject("no sntrys_ prefix");
    };
    let Some(us) = body.iter().rposition(|&b| b == b'_') else {
        return Verdict::reject("no tail");
    };
    let Some(json) = base64_json(&body[..us]) else {
        return Verdict::reject("payload is not base64 JSON");
    };
    if !json.contains_key("iat") || !json.contains_key("region_url") {
        return Verdict::reject("payload lacks iat/region_url");
    }
    let org = str_field(&json, "org").unwrap_or("?");
    let region = str_field(&json, "region_url").unwrap_or("?");
    let local = region.contains("localhost") || region.contains("127.0.0.1");
    if local && org == "sentry" {
        return Verdict::suppress("published Sentry test vector");
    }
    let v =
        Verdict::confident(Confidence::High).with_note(format!("org={org} region_url={region}"));
    if local {
        v.with_severity(Severity::Low)
    } else {
        v
    }
}

fn jwt_parts(token: &[u8]) -> Option<(JsonMap, JsonMap, &[u8])> {
    let mut it = token.split(|&b| b == b'.');
    let (h, p, sig) = (it.next()?, it.next()?, it.next()?);
    let header = base64_json(h)?;
    let payload = base64_json(p)?;
    Some((header, payload, sig))
}

fn public_var_before(c: &Candidate<'_>) -> bool {
    let line_start = c.haystack[..c.offset].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let key = String::from_utf8_lossy(&c.haystack[line_start..c.offset]).to_ascii_uppercase();
    ["NEXT_PUBLIC_", "VITE_", "PUBLIC_", "EXPO_PUBLIC_", "REACT_APP_"]
        .iter()
        .any(|p| key.contains(p))
}

pub fn supabase_jwt(c: &Candidate<'_>) -> Verdict {
    let Some((_, payload, _)) = jwt_parts(c.secret) else {
        return Verdict::reject("not a decodable JWT");
    };
    let iss = str_field(&payload, "iss").unwrap_or("");
    let role = str_field(&payload, "role").unwrap_or("");
    if iss == "supabase-demo" {
        return Verdict::suppress("Supabase self-hosting demo key");
    }
    if iss != "supabase" {
        return Verdict::reject("issuer is not supabase");
    }
    match role {
        "service_role" => {
            let r = str_field(&payload, "ref").unwrap_or("?");
            let mut note = format!("project ref={r}, role=service_role");
            if public_var_before(c) {
                note.push_str("; in a public (browser-shipped) variable");
            }
            Verdict::confident(Confidence::High).with_note(note)
        }
        "anon" | "authenticated" => Verdict::suppress("Supabase anon key (public by design)"),
        _ => Verdict::reject("unknown Supabase role"),
    }
}

fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

pub fn jwt(c: &Candidate<'_>) -> Verdict {
    let Some((header, payload, sig)) = jwt_parts(c.secret) else {
        return Verdict::reject("not a decodable JWT");
    };
    if !header.contains_key("alg") {
        return Verdict::reject("JWT header has no alg");
    }
    let iss = str_field(&payload, "iss").unwrap_or("");
    if iss.starts_with("supabase") {
        return Verdict::reject("Supabase key: left to supabase-service-role-jwt");
    }
    if sha256_hex(sig) == JWT_IO_SAMPLE_SIG_SHA256 {
        return Verdict::suppress("jwt.io sample token");
    }
    let exp = payload.get("exp").and_then(|v| v.as_i64());
    let mut note = format!("iss={}", if iss.is_empty() { "?" } else { iss });
    if let Some(role) = str_field(&payload, "role") {
        note.push_str(&format!(" role={role}"));
    }
    let v = Verdict::ok();
    match exp {
        Some(e) if e < now_secs() - 86_400 => {
            v.with_note(format!("{note} (expired)")).with_severity(Severity::Low)
        }
        _ => v.with_note(note),
    }
}

/// The DB number encoded in an Upstash Redis token, when the token has a known layout.
pub fn upstash_db_number(secret: &[u8]) -> Option<u64> {
    let raw = base64_any(secret)?;
    match raw.first()? {
        0x01 if raw.len() >= 8 => {
            let db = u64::from(u16::from_be_bytes([raw[1], raw[2]]));
            let marker = &raw[3..5] == b"\x00\x02" && raw[6] == b'p' && raw[7].is_ascii_digit();
            let uuid_layout = &raw[3..6] == b"\x01\x24\x20";
            (marker || uuid_layout).then_some(db)
        }
        0x81 if raw.len() >= 14 => {
            let db = u64::from_be_bytes(raw[1..9].try_into().ok()?);
            (&raw[9..11] == b"\x00\x02" && raw[12] == b'p' && raw[13].is_ascii_digit())
                .then_some(db)
        }
        _ => None,
    }
}

/// The numeric suffix of an `<name>-<N>.upstash.io` host within about five lines.
fn nearby_upstash_db(c: &Candidate<'_>) -> Option<u64> {
    let text = String::from_utf8_lossy(c.nearby_lines(5));
    let at = text.find(".upstash.io")?;
    let digits: String = text[..at].chars().rev().take_while(|ch| ch.is_ascii_digit()).collect();
    digits.chars().rev().collect::<String>().parse().ok()
}

pub fn upstash_redis_token(c: &Candidate<'_>, strict: bool) -> Verdict {
    let Some(db) = upstash_db_number(c.secret) else {
        return if strict {
            Verdict::reject("not an Upstash token layout")
        } else {
            Verdict::confident(Confidence::Medium)
        };
    };
    match nearby_upstash_db(c) {
        Some(host_db) if host_db != db => Verdict::confident(Confidence::Medium)
            .with_note(format!("db {db}; nearby host says {host_db}")),
        _ => Verdict::confident(Confidence::High).with_note(format!("db {db}")),
    }
}

pub fn qstash_token(c: &Candidate<'_>) -> Verdict {
    let Some(json) = base64_json(c.secret) else {
        return Verdict::reject("not base64 JSON");
    };
    let user = str_field(&json, "UserID");
    let has_secret = json.contains_key("Password") || json.contains_key("ApiKey");
    match user {
        Some("defaultUser") => Verdict::suppress("QStash local dev-server default token"),
        Some(_) if has_secret => Verdict::confident(Confidence::High),
        _ => Verdict::reject("payload lacks UserID and Password/ApiKey"),
    }
}

pub fn mixed_alnum(c: &Candidate<'_>) -> Verdict {
    let s = c.secret;
    let ok = s.iter().any(u8::is_ascii_digit)
        && s.iter().any(u8::is_ascii_uppercase)
        && s.iter().any(u8::is_ascii_lowercase);
    if ok {
        Verdict::ok()
    } else {
        Verdict::reject("needs a digit, an uppercase and a lowercase letter")
    }
}

pub fn not_hex40(c: &Candidate<'_>) -> Verdict {
    if c.secret.len() == 40 && c.secret.iter().all(u8::is_ascii_hexdigit) {
        Verdict::reject("40 hex characters: a git SHA")
    } else {
        Verdict::ok()
    }
}

pub fn crc62(c: &Candidate<'_>, required: bool) -> Verdict {
    let body = match c.secret.iter().position(|&b| b == b'_') {
        Some(i) => &c.secret[i + 1..],
        None => c.secret,
    };
    match (checksum::has_valid_suffix(body), required) {
        (true, _) => Verdict::confident(Confidence::High).with_note("checksum valid"),
        (false, true) => Verdict::reject("checksum mismatch"),
        (false, false) => Verdict::confident(Confidence::Medium),
    }
}

const LOCAL_HOSTS: &[&str] =
    &["localhost", "127.0.0.1", "0.0.0.0", "[::1]", "::1", "host.docker.internal"];
const WEAK_PASSWORDS: &[&str] = &[
    "postgres", "password", "root", "secret", "admin", "pass", "test", "mysql", "guest",
    "changeme", "redis", "mongo", "user",
];

/// `scheme://user:pass@host…`: the user, password and host of a URL match.
fn url_parts(full: &str) -> Option<(&str, &str, &str)> {
    let after = &full[full.find("://")? + 3..];
    let at = after.rfind('@')?;
    let (cred, rest) = (&after[..at], &after[at + 1..]);
    let (user, pass) = cred.split_once(':')?;
    let host_end = rest.find([':', '/', '?', '#']).unwrap_or(rest.len());
    Some((user, pass, &rest[..host_end]))
}

pub fn db_url(c: &Candidate<'_>) -> Verdict {
    let full = String::from_utf8_lossy(c.full);
    let Some((user, pass, host)) = url_parts(&full) else {
        return Verdict::reject("no user:password@host");
    };
    let host = host.to_ascii_lowercase();
    let example = host.starts_with("example.")
        || host.contains(".example.")
        || host.ends_with(".example")
        || host.ends_with(".test")
        || host.ends_with(".invalid")
        || host.ends_with(".localhost");
    if LOCAL_HOSTS.contains(&host.as_str()) || example {
        return Verdict::reject("local or example host");
    }
    let weak = pass == user || WEAK_PASSWORDS.contains(&pass.to_ascii_lowercase().as_str());
    if weak {
        return Verdict::reject("default or trivial password");
    }
    let conf = if host.contains('.') { Confidence::Medium } else { Confidence::Low };
    Verdict::confident(conf).with_note(format!("host={host}"))
}

pub fn key_material(c: &Candidate<'_>) -> Verdict {
    let v = c.secret.strip_prefix(b"base64:").unwrap_or(c.secret);
    let is_hex = v.iter().all(u8::is_ascii_hexdigit);
    let e = crate::matcher::filters::entropy(v);
    if (is_hex && e < 3.0) || (!is_hex && e < 4.0) {
        return Verdict::reject("entropy too low for key material");
    }
    let decoded_len = if is_hex { Some(v.len() / 2) } else { base64_any(v).map(|d| d.len()) };
    match decoded_len {
        Some(16 | 24 | 32 | 48 | 64) => Verdict::confident(Confidence::Medium),
        _ => Verdict::confident(Confidence::Low),
    }
}

pub fn onepassword_token(c: &Candidate<'_>) -> Verdict {
    match c.secret.strip_prefix(b"ops_").and_then(base64_json) {
        Some(_) => Verdict::confident(Confidence::High),
        None => Verdict::reject("payload is not base64 JSON"),
    }
}

pub fn gcp_service_account(c: &Candidate<'_>) -> Verdict {
    let lo = c.offset.saturating_sub(4096);
    let hi = (c.offset + 8192).min(c.haystack.len());
    let near = &c.haystack[lo..hi];
    if memchr::memmem::find(near, b"client_email").is_some() {
        Verdict::confident(Confidence::High)
    } else {
        Verdict::confident(Confidence::Medium)
    }
}
