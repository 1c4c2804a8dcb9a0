//! Example templates: expands `%{class:len}` and `%{generator:args}` placeholders into
//! format-valid fake credentials with a seeded generator, so that no literal live-looking
//! token is ever committed. Used by rule self-tests, `warden rules check` and the
//! evaluation corpus.
//!
//! Classes (`%{hex:64}`, `%{alnum:20-30}`): `hex`, `HEX`, `lower`, `upper`, `alpha`,
//! `alnum`, `digits`, `b64`, `b64url`, `base58`, `bech32`, `lowernum`.
//! Generators: `%{uuid}`, `%{uuid4}`, `%{b64bytes:N}` / `%{b64urlbytes:N}` / `%{hexbytes:N}`
//! (N random bytes, encoded), `%{sentry-org-payload}`, `%{jwt:ISS:ROLE}`,
//! `%{upstash-v1:DB}`, `%{upstash-v2:DB}`, `%{upstash-v1-uuid:DB}`, `%{qstash:USER:PASSWORD}`
//! (`%{qstash}` for random), `%{pem-body}`, `%{ops-payload}`, `%{crc62:PREFIX:LEN}`
//! (random body plus a Base62 CRC32 checksum), `%{b64:TEXT}` is not supported: use
//! `%{b64text:TEXT}` (`%{b64urltext:TEXT}` for unpadded base64url). Also
//! `%{pem-body-escaped}` (lines joined with a literal `\n`, as in JSON strings),
//! `%{pem-body-indented:N}` (each line indented by N spaces, as in YAML blocks),
//! `%{base64-pem:LABEL}` (base64 of a whole `-----BEGIN LABEL-----` block),
//! `%{gitlab-routable:PREFIX}` / `%{gitlab-routable:PREFIX:unversioned}` (a GitLab
//! routable token with a valid base36 CRC32) and `%{discord-bot-token}`.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;

const HEX: &[u8] = b"0123456789abcdef";
const UPPER_HEX: &[u8] = b"0123456789ABCDEF";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &[u8] = b"0123456789";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const LOWERNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const BECH32: &[u8] = b"QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";
/// The Base62 alphabet used by checksummed tokens (digits, upper, lower).
pub const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A small deterministic PRNG (SplitMix64): reproducible examples without a dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator whose stream is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    /// A generator seeded from a string (a rule id) and a number.
    pub fn for_key(key: &str, n: u64) -> Self {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in key.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        Rng::new(h ^ n.wrapping_mul(0x2545_F491_4F6C_DD1D))
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }
    /// `n` characters drawn from `alphabet`.
    pub fn string(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n).map(|_| alphabet[self.range(0, alphabet.len() - 1)] as char).collect()
    }
    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// Expands every `%{…}` placeholder in `template`. Errors name the bad placeholder.
pub fn expand(template: &str, rng: &mut Rng) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(start) = rest.find("%{") {
        out.push_str(&rest[..start]);
        let body_start = start + 2;
        let end = find_close(&rest[body_start..])
            .ok_or_else(|| format!("unclosed placeholder in {template:?}"))?;
        let spec = &rest[body_start..body_start + end];
        out.push_str(&generate(spec, rng)?);
        rest = &rest[body_start + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Finds the `}` closing a placeholder, allowing nested `{…}` inside (JSON text args).
fn find_close(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn generate(spec: &str, rng: &mut Rng) -> Result<String, String> {
    let (name, arg) = spec.split_once(':').unwrap_or((spec, ""));
    if let Some(alphabet) = class(name) {
        let n = parse_len(arg, rng).ok_or_else(|| format!("bad length in %{{{spec}}}"))?;
        return Ok(class_string(name, alphabet, n, rng));
    }
    let num =
        |rng: &mut Rng| parse_len(arg, rng).ok_or_else(|| format!("bad number in %{{{spec}}}"));
    Ok(match name {
        "uuid" => uuid(rng, false),
        "uuid4" => uuid(rng, true),
        "b64bytes" => {
            let n = num(rng)?;
            STANDARD.encode(rng.bytes(n))
        }
        "b64urlbytes" => {
            let n = num(rng)?;
            URL_SAFE_NO_PAD.encode(rng.bytes(n))
        }
        "b64urlbytes-padded" => {
            let n = num(rng)?;
            base64::engine::general_purpose::URL_SAFE.encode(rng.bytes(n))
        }
        "hexbytes" => {
            let n = num(rng)?;
            rng.bytes(n).iter().map(|b| format!("{b:02x}")).collect()
        }
        "b64text" => STANDARD.encode(arg.as_bytes()),
        "sentry-org-payload" => sentry_org_payload(rng),
        "jwt" => jwt(arg, rng),
        "upstash-v1" => upstash_v1(arg.parse().map_err(|_| "bad db number")?, rng),
        "upstash-v2" => upstash_v2(arg.parse().map_err(|_| "bad db number")?, rng),
        "upstash-v1-uuid" => upstash_v1_uuid(arg.parse().map_err(|_| "bad db number")?, rng),
        "qstash" => qstash(arg, rng),
        "pem-body" => pem_body(rng),
        "ops-payload" => ops_payload(rng),
        "crc62" => crc62(arg, rng)?,
        "pem-body-escaped" => pem_body(rng).replace('\n', "\\n"),
        "pem-body-indented" => {
            let pad = " ".repeat(num(rng)?);
            pem_body(rng).lines().map(|l| format!("{pad}{l}")).collect::<Vec<_>>().join("\n")
        }
        "base64-pem" => STANDARD
            .encode(format!("-----BEGIN {arg}-----\n{}\n-----END {arg}-----\n", pem_body(rng))),
        "b64urltext" => URL_SAFE_NO_PAD.encode(arg.as_bytes()),
        "gitlab-routable" => gitlab_routable(arg, rng),
        "discord-bot-token" => discord_bot_token(rng),
        _ => return Err(format!("unknown placeholder %{{{spec}}}")),
    })
}

fn class(name: &str) -> Option<&'static [u8]> {
    Some(match name {
        "hex" => HEX,
        "HEX" => UPPER_HEX,
        "lower" => LOWER,
        "upper" => UPPER,
        "alpha" => ALPHA,
        "alnum" => ALNUM,
        "digits" => DIGITS,
        "b64" => B64,
        "b64url" => B64URL,
        "base58" => BASE58,
        "bech32" => BECH32,
        "lowernum" => LOWERNUM,
        _ => return None,
    })
}

/// Random text from a class; mixed classes get at least one character of each kind so that
/// "mixed case plus digit" validators always pass on generated positives.
fn class_string(name: &str, alphabet: &[u8], n: usize, rng: &mut Rng) -> String {
    let mut s: Vec<u8> = rng.string(alphabet, n).into_bytes();
    let forced: &[&[u8]] = match name {
        "alnum" | "b64" | "b64url" | "base58" => &[UPPER, LOWER, DIGITS],
        "alpha" => &[UPPER, LOWER],
        "hex" | "HEX" | "lowernum" if n >= 8 => {
            &[if name == "HEX" { b"ABCDEF" } else { b"abcdef" }, DIGITS]
        }
        _ => &[],
    };
    if n >= forced.len() * 2 {
        for (i, set) in forced.iter().enumerate() {
            let set: Vec<u8> = set.iter().copied().filter(|c| alphabet.contains(c)).collect();
            if !set.is_empty() {
                s[i * 2 + 1] = set[rng.range(0, set.len() - 1)];
            }
        }
    }
    String::from_utf8(s).expect("ascii")
}

fn parse_len(arg: &str, rng: &mut Rng) -> Option<usize> {
    match arg.split_once('-') {
        Some((a, b)) => Some(rng.range(a.parse().ok()?, b.parse().ok()?)),
        None => arg.parse().ok(),
    }
}

fn uuid(rng: &mut Rng, v4: bool) -> String {
    let h = rng.string(HEX, 32);
    let (a, b, c, d, e) = (&h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32]);
    if v4 {
        let variant = ['8', '9', 'a', 'b'][rng.range(0, 3)];
        format!("{a}-{b}-4{c}-{variant}{d}-{e}")
    } else {
        format!("{a}-{b}-{}-{}-{e}", &h[12..16], &h[16..20])
    }
}

fn sentry_org_payload(rng: &mut Rng) -> String {
    let n = rng.range(4, 14);
    let org = rng.string(LOWER, n);
    let iat = 1_700_000_000 + rng.range(0, 60_000_000);
    let json = format!(
        r#"{{"iat":{iat}.{:06},"url":"https://sentry.io","region_url":"https://us.sentry.io","org":"{org}"}}"#,
        rng.range(0, 999_999)
    );
    STANDARD.encode(json)
}

fn jwt(arg: &str, rng: &mut Rng) -> String {
    let mut parts = arg.splitn(2, ':');
    let iss = parts.next().unwrap_or("");
    let role = parts.next().unwrap_or("");
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let iat = 1_650_000_000 + rng.range(0, 100_000_000);
    let payload = if iss == "supabase" || iss == "supabase-demo" {
        let r = rng.string(LOWER, 20);
        format!(
            r#"{{"iss":"{iss}","ref":"{r}","role":"{role}","iat":{iat},"exp":{}}}"#,
            iat + 315_360_000
        )
    } else {
        let sub = rng.string(LOWERNUM, 12);
        format!(r#"{{"sub":"{sub}","iss":"{iss}","iat":{iat},"exp":{}}}"#, iat + 315_360_000)
    };
    let sig = URL_SAFE_NO_PAD.encode(rng.bytes(32));
    format!("{header}.{}.{sig}", URL_SAFE_NO_PAD.encode(payload))
}

fn upstash_v1(db: u16, rng: &mut Rng) -> String {
    let mut raw = vec![0x01];
    raw.extend_from_slice(&db.to_be_bytes());
    raw.extend_from_slice(&[0x00, 0x02]);
    raw.push(0x49);
    raw.extend_from_slice(b"p1");
    raw.extend_from_slice(rng.string(HEX, 32).as_bytes());
    STANDARD_NO_PAD.encode(raw)
}

fn upstash_v2(db: u64, rng: &mut Rng) -> String {
    let mut raw = vec![0x81];
    raw.extend_from_slice(&db.to_be_bytes());
    raw.extend_from_slice(&[0x00, 0x02]);
    raw.push(0x49);
    raw.push(b'p');
    raw.push(b'0' + rng.range(1, 9) as u8);
    raw.extend_from_slice(rng.string(HEX, 32).as_bytes());
    STANDARD_NO_PAD.encode(raw)
}

fn upstash_v1_uuid(db: u16, rng: &mut Rng) -> String {
    let mut raw = vec![0x01];
    raw.extend_from_slice(&db.to_be_bytes());
    raw.extend_from_slice(&[0x01, 0x24, 0x20]);
    raw.extend_from_slice(uuid(rng, true).as_bytes());
    STANDARD_NO_PAD.encode(raw)
}

fn qstash(arg: &str, rng: &mut Rng) -> String {
    let json = match arg.split_once(':') {
        Some((user, pw)) => format!(r#"{{"UserID":"{user}","Password":"{pw}"}}"#),
        None => {
            format!(r#"{{"UserID":"{}","Password":"{}"}}"#, uuid(rng, true), rng.string(HEX, 32))
        }
    };
    STANDARD.encode(json)
}

fn pem_body(rng: &mut Rng) -> String {
    let n = rng.range(600, 1200);
    let raw = rng.bytes(n);
    let b64 = STANDARD.encode(raw);
    b64.as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn ops_payload(rng: &mut Rng) -> String {
    let json = format!(
        r#"{{"signInAddress":"my.1password.com","userAuth":{{"method":"SRPg-4096","alg":"PBES2g-HS256","iterations":650000,"salt":"{}"}},"email":"{}@1passwordserviceaccounts.com","srpX":"{}","muk":{{"alg":"A256GCM","ext":true,"k":"{}","key_ops":["encrypt","decrypt"],"kty":"oct","kid":"mp"}},"secretKey":"A3-{}","throttleSecret":{{"seed":"{}","deviceUuid":"{}"}},"deviceUuid":"{}"}}"#,
        rng.string(B64URL, 22),
        rng.string(LOWER, 13),
        rng.string(HEX, 64),
        rng.string(B64URL, 43),
        rng.string(UPPER, 30),
        rng.string(HEX, 64),
        rng.string(LOWERNUM, 26),
        rng.string(LOWERNUM, 26)
    );
    STANDARD.encode(json)
}

/// `%{crc62:PREFIX:LEN}`: PREFIX, then LEN-6 random alphanumerics, then Base62(CRC32) of
/// those (GitHub's documented token checksum).
fn crc62(arg: &str, rng: &mut Rng) -> Result<String, String> {
    let (prefix, len) = arg.split_once(':').ok_or("crc62 needs PREFIX:LEN")?;
    let len: usize = len.parse().map_err(|_| "bad crc62 length")?;
    let body = rng.string(ALNUM, len - 6);
    let sum = crate::validate::checksum::base62_crc32(body.as_bytes());
    Ok(format!("{prefix}{body}{sum}"))
}

/// `%{gitlab-routable:PREFIX}` (or `PREFIX:unversioned`): a GitLab routable token with a
/// random routing payload and a valid base36 CRC32 suffix.
fn gitlab_routable(arg: &str, rng: &mut Rng) -> String {
    use crate::validate::checksum::crc32;
    let (prefix, versioned) = match arg.split_once(':') {
        Some((p, "unversioned")) => (p, false),
        _ => (arg, true),
    };
    let mut raw =
        format!("o:{}\nu:{}", rng.string(LOWERNUM, 4), rng.string(LOWERNUM, 5)).into_bytes();
    raw.extend(rng.bytes(16));
    raw.push(16);
    let payload = URL_SAFE_NO_PAD.encode(raw);
    let len = crate::validate::base36(payload.len() as u64, 2);
    let body = if versioned {
        format!("{prefix}{payload}.01.{len}")
    } else {
        format!("{prefix}{payload}.{len}")
    };
    let sum = crate::validate::base36(u64::from(crc32(body.as_bytes())), 7);
    format!("{body}{sum}")
}

/// `%{discord-bot-token}`: base64 of a snowflake user id, a 6-char timestamp and a
/// 38-char HMAC part.
fn discord_bot_token(rng: &mut Rng) -> String {
    let id = format!("{}{}", rng.range(1, 9), rng.string(DIGITS, 17));
    format!("{}.{}.{}", STANDARD_NO_PAD.encode(id), rng.string(B64URL, 6), rng.string(B64URL, 38))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_is_deterministic_and_shaped() {
        let a = expand("x_%{hex:8}_%{uuid}", &mut Rng::new(7)).unwrap();
        let b = expand("x_%{hex:8}_%{uuid}", &mut Rng::new(7)).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 2 + 8 + 1 + 36);
    }

    #[test]
    fn unknown_placeholder_is_an_error() {
        assert!(expand("%{nope:3}", &mut Rng::new(1)).is_err());
        assert!(expand("%{hex:3", &mut Rng::new(1)).is_err());
    }

    #[test]
    fn literal_text_passes_through() {
        assert_eq!(expand("${{ secrets.X }}", &mut Rng::new(1)).unwrap(), "${{ secrets.X }}");
    }
}
