//! Validators for the common credential types (spec §10): GitLab routable-token CRC,
//! AWS key-pair proximity, PEM and base64-PEM private-key bodies, Discord bot-token
//! structure, Google API key notes, and the documented-example fingerprint list.

use sha2::{Digest, Sha256};

use super::checksum::crc32;
use super::decode::base64_any;
use super::{Candidate, Verdict};
use crate::rules::{Confidence, Severity};

/// SHA-256 (hex) of documented example values that appear in countless repositories and
/// grant nothing: stored as hashes so the literals stay out of this repository.
/// * the Azurite / Azure Storage Emulator account key (`devstoreaccount1`);
/// * the two Stripe docs sample test secret keys;
/// * the example Google API keys of github.com/firebase/firebase-android-sdk (the list
///   gitleaks allow-lists in `cmd/generate/config/rules/gcp.go`).
const DOCUMENTED_EXAMPLES: &[(&str, &str)] = &[
    (
        "0011cc25eb4320717494d2703e8cba85743e71b500283c21c8b88147992f9059",
        "Azurite storage emulator default key",
    ),
    (
        "2cafc0970149a84f3b9e62eaf169f36f59907a3b3e31f7b82e68c69cd27f7326",
        "Stripe documentation sample test key",
    ),
    (
        "f2d6ca16515033e5dce14eba840b979d27b5cbae24bb3e5bf484339667f86397",
        "Stripe documentation sample test key (older docs)",
    ),
    ("27a9a42931dff7eb2f8434e20a9bce976ea364e7bee49187f19d5cfeca9c7045", FIREBASE_SDK),
    ("49f777db995e8260da7ca9ffdf0c08d66f0453e97ec967018baf2cdfe3b582d0", FIREBASE_SDK),
    ("a6c814bc555ae62c7bd8b58ec07bf559c7ed3a009976a1e0acc9cef0d4473b41", FIREBASE_SDK),
    ("8731261cb72d86267a32a532ebd3df429e2144e5e4ced7e13568bc9e6c8fb1b1", FIREBASE_SDK),
    ("37f8f09bdf12c2f2eae4ead7273a62ddb0c23459cbf902892f282b57f7ed6619", FIREBASE_SDK),
    ("eb540d2b6ee2a0a47c5779bc8a0141784c6b753840d4c6f4e2428a6e86e9e0b1", FIREBASE_SDK),
    ("2037abcaffb2b77785da716cf7ccff4ff4d00c4ea930db0167b7d71f50af7eb4", FIREBASE_SDK),
    ("3a8b61d0f636b007840c0d40ba12bcf48465dc054cdc1a68704a33521d84b665", FIREBASE_SDK),
    ("4c98242dcadc8b29005c6b4aad526552d5ea1842149154c0694adeec75847583", FIREBASE_SDK),
    ("ea9bb1082cf95663f5faca23b8b15ef2aa0fce0a5c6df9c32dcb85b2e0a4513d", FIREBASE_SDK),
    ("3f370c9dd8225c63b5c77de1f785edc9712958f18bb612d5fa2e0ae33aeca682", FIREBASE_SDK),
    ("a19f89ab3555eac10c40741f6df79ecf0935998f15569f8db9d67bce0181fff6", FIREBASE_SDK),
    ("e4a5542bb7fd7b67e943c71ad29c34b5972c9840597e7eda53e666f44d5da0b9", FIREBASE_SDK),
    ("dc0fcf046c61640cbd1e8b999ada3262d722c2ca4bf42dceac999020ffdbb614", FIREBASE_SDK),
    ("f56e323494a6ffc2064e7a955908957d84f0755e5f975dabd64328d0359a8f7c", FIREBASE_SDK),
    ("0b476bdf9acf2123d547b5ae76f1e59884d8ec9553ee0c47e9f31fd4768f3f3c", FIREBASE_SDK),
];

const FIREBASE_SDK: &str = "example key from the Firebase Android SDK";

fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// Suppresses documented example values (by fingerprint); accepts everything else.
pub fn documented_example(c: &Candidate<'_>) -> Verdict {
    let h = sha256_hex(c.secret);
    match DOCUMENTED_EXAMPLES.iter().find(|(hash, _)| *hash == h) {
        Some((_, why)) => Verdict::suppress(why),
        None => Verdict::ok(),
    }
}

/// Lowercase base36 of `n`, left-padded with `0` to `width`.
pub fn base36(mut n: u64, width: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    while n > 0 {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
    }
    while out.len() < width {
        out.push(b'0');
    }
    out.reverse();
    String::from_utf8(out).expect("ascii")
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// GitLab routable tokens (`<prefix><base64url payload>.[<version>.]<len><crc>`): the
/// last 7 characters are base36(CRC32) of everything before them, prefix included
/// (gitlab-org/gitlab `Authn::TokenField::Generator::RoutableToken`). A custom instance
/// prefix just before the match (`<inst>-glpat-…`) is tried too.
pub fn gitlab_routable(c: &Candidate<'_>) -> Verdict {
    let s = c.secret;
    if s.len() < 12 {
        return Verdict::reject("too short for a routable token");
    }
    let (body, sum) = s.split_at(s.len() - 7);
    let mut run = 0;
    while run < 20 && c.offset > run && is_token_byte(c.haystack[c.offset - run - 1]) {
        run += 1;
    }
    for extra in 0..=run {
        let mut data = c.haystack[c.offset - extra..c.offset].to_vec();
        data.extend_from_slice(body);
        if base36(u64::from(crc32(&data)), 7).as_bytes() == sum {
            let note = if extra > 0 { "checksum valid (custom prefix)" } else { "checksum valid" };
            return Verdict::confident(Confidence::High).with_note(note);
        }
    }
    Verdict::reject("routable-token CRC32 mismatch")
}

/// An AWS access key ID: a 40-character secret-key-shaped value within five lines raises
/// the finding to critical.
pub fn aws_access_key_id(c: &Candidate<'_>) -> Verdict {
    let near = c.nearby_lines(5);
    let in_class = |b: u8| b.is_ascii_alphanumeric() || b == b'/' || b == b'+';
    let mut i = 0;
    while i < near.len() {
        if !in_class(near[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < near.len() && in_class(near[i]) {
            i += 1;
        }
        let run = &near[start..i];
        let plausible = run.len() == 40
            && run.iter().any(u8::is_ascii_uppercase)
            && run.iter().any(u8::is_ascii_lowercase)
            && run.iter().any(u8::is_ascii_digit)
            && crate::matcher::filters::placeholder_reason(run).is_none();
        if plausible {
            return Verdict::ok()
                .with_severity(Severity::Critical)
                .with_note("a secret access key is within 5 lines");
        }
    }
    Verdict::ok()
}

/// A PEM private-key block (the whole match, possibly `\n`-escaped in a JSON string or
/// indented in a YAML block): between the BEGIN and END lines, apart from `Key: value`
/// header lines, only base64 may remain, at least 64 characters of it.
pub fn private_key_body(c: &Candidate<'_>) -> Verdict {
    let full = String::from_utf8_lossy(c.full);
    let start =
        full.find("-----BEGIN").and_then(|i| full[i + 10..].find("-----").map(|j| i + 10 + j + 5));
    let end = full.rfind("-----END");
    let (Some(start), Some(end)) = (start, end) else {
        return Verdict::reject("no BEGIN/END lines");
    };
    if end < start {
        return Verdict::reject("no body");
    }
    let body = full[start..end]
        .replace("\\r", "\n")
        .replace("\\n", "\n")
        .replace("\\t", " ")
        .replace("\\/", "/");
    let mut b64 = 0usize;
    let mut first = String::new();
    for line in body.lines() {
        if line.contains(':') {
            continue;
        }
        // Lines may be indented (YAML) or joined with spaces (a flattened variable).
        let line: String = line.split_whitespace().collect();
        if !line.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=') {
            return Verdict::reject("body is not base64");
        }
        b64 += line.len();
        if first.len() < 64 {
            first.push_str(&line);
        }
    }
    if b64 < 64 {
        return Verdict::reject("body too short for a key");
    }
    let label = full[..start].rsplit("-----BEGIN ").next().unwrap_or("").trim_end_matches('-');
    let v = Verdict::confident(Confidence::High);
    if pem_is_encrypted(label, &body, &first) {
        v.with_severity(Severity::High).with_note(format!("{label} (passphrase-encrypted)"))
    } else {
        v.with_note(label.to_string())
    }
}

/// Whether a PEM private key is passphrase-protected: an `ENCRYPTED` label, a
/// `Proc-Type: 4,ENCRYPTED` header, or an OpenSSH key whose cipher is not `none`.
fn pem_is_encrypted(label: &str, body: &str, first_b64: &str) -> bool {
    if label.contains("ENCRYPTED") || body.contains("Proc-Type: 4,ENCRYPTED") {
        return true;
    }
    if label.starts_with("OPENSSH") {
        let n = first_b64.len().min(64) / 4 * 4;
        if let Some(head) = base64_any(&first_b64.as_bytes()[..n]) {
            // "openssh-key-v1\0" then a length-prefixed cipher name.
            return head.starts_with(b"openssh-key-v1\0")
                && !head[15..].starts_with(b"\0\0\0\x04none");
        }
    }
    false
}

/// Base64 of a PEM block (`LS0tLS1CRUdJTi…`, as in Kubernetes secrets): the decoded
/// head must be a private-key BEGIN line.
pub fn base64_pem(c: &Candidate<'_>) -> Verdict {
    let n = c.secret.len().min(400) / 4 * 4;
    let Some(head) = base64_any(&c.secret[..n]) else {
        return Verdict::reject("not base64");
    };
    let head = String::from_utf8_lossy(&head);
    let first = head.lines().next().unwrap_or("");
    if first.starts_with("-----BEGIN ") && first.contains("PRIVATE KEY") {
        let label = first.trim_matches('-').trim_start_matches("BEGIN ").to_string();
        Verdict::confident(Confidence::High).with_note(format!("base64 of a {label} block"))
    } else {
        Verdict::reject("decodes to a PEM block that is not a private key")
    }
}

/// A Discord bot token's first segment is base64 of the bot's numeric user id
/// (a snowflake): a decode raises confidence.
pub fn discord_bot_token(c: &Candidate<'_>) -> Verdict {
    let first = c.secret.split(|&b| b == b'.').next().unwrap_or(&[]);
    match base64_any(first) {
        Some(id) if (17..=20).contains(&id.len()) && id.iter().all(u8::is_ascii_digit) => {
            Verdict::confident(Confidence::High)
                .with_note(format!("bot user id {}", String::from_utf8_lossy(&id)))
        }
        _ => Verdict::confident(Confidence::Medium),
    }
}

/// Google API keys: a Firebase web config nearby means a semi-public key; either way the
/// note points at the key's API restrictions.
pub fn google_api_key(c: &Candidate<'_>) -> Verdict {
    if let v @ Verdict::Suppress(_) = documented_example(c) {
        return v;
    }
    let lo = c.offset.saturating_sub(2048);
    let hi = (c.offset + 2048).min(c.haystack.len());
    let near = String::from_utf8_lossy(&c.haystack[lo..hi]).to_ascii_lowercase();
    if near.contains("firebase") || near.contains("authdomain") {
        Verdict::confident(Confidence::Medium).with_note(
            "Firebase web config key (semi-public): check its API and HTTP-referrer restrictions",
        )
    } else {
        Verdict::ok().with_note("check the key's API restrictions")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine;

    fn cand<'a>(hay: &'a [u8], secret: &'a [u8]) -> Candidate<'a> {
        let offset = memchr::memmem::find(hay, secret).expect("secret in haystack");
        Candidate { secret, full: secret, haystack: hay, offset }
    }

    fn accepted(v: &Verdict) -> bool {
        matches!(v, Verdict::Accept(_))
    }

    #[test]
    fn documented_examples_are_suppressed_by_hash() {
        let hay = b"KEY=Zk3q9PLm2Xc8Vn4R";
        assert!(accepted(&documented_example(&cand(hay, b"Zk3q9PLm2Xc8Vn4R"))));
        // The stored hashes are of full values; a prefix never matches.
        assert_eq!(DOCUMENTED_EXAMPLES.len(), 19);
        assert!(DOCUMENTED_EXAMPLES.iter().all(|(h, _)| h.len() == 64));
    }

    fn routable(prefix: &str, payload: &str, versioned: bool) -> String {
        let len = base36(payload.len() as u64, 2);
        let body = if versioned {
            format!("{prefix}{payload}.01.{len}")
        } else {
            format!("{prefix}{payload}.{len}")
        };
        format!("{body}{}", base36(u64::from(crc32(body.as_bytes())), 7))
    }

    #[test]
    fn gitlab_routable_crc() {
        let payload = URL_SAFE_NO_PAD.encode(
            b"o:1a2b\nu:3c4d\x01\x02\x03\x04\x05\x06\x07\x08\x09\x10\x11\x12\x13\x14\x15\x16\x10",
        );
        for versioned in [false, true] {
            let tok = routable("glpat-", &payload, versioned);
            let hay = format!("GITLAB_TOKEN={tok}\n");
            assert!(accepted(&gitlab_routable(&cand(hay.as_bytes(), tok.as_bytes()))));
            let mut bad = tok.clone().into_bytes();
            let last = bad.len() - 1;
            bad[last] = if bad[last] == b'0' { b'1' } else { b'0' };
            let hay = [b"x=".as_slice(), &bad].concat();
            assert!(!accepted(&gitlab_routable(&cand(&hay, &bad))));
        }
        let tok = routable("acme-glpat-", &payload, true);
        let hay = format!("token: {tok}");
        let secret = &tok[5..];
        assert!(accepted(&gitlab_routable(&cand(hay.as_bytes(), secret.as_bytes()))));
        assert_eq!(base36(35, 2), "0z");
    }

    #[test]
    fn aws_pair_raises_severity() {
        // Built at run time so that this file never holds a key-shaped literal.
        let id = format!("{}{}", "AKIA", "Z2MQ7RPXW3LKQ4TB");
        let secret = format!("{}{}", "Zk3q9PLm2Xc8Vn4R".repeat(2), "+/aQ71bc");
        let alone = format!("aws_access_key_id = {id}");
        assert_eq!(aws_access_key_id(&cand(alone.as_bytes(), id.as_bytes())), Verdict::ok());
        let pair = format!("aws_access_key_id = {id}\naws_secret_access_key = {secret}\n");
        match aws_access_key_id(&cand(pair.as_bytes(), id.as_bytes())) {
            Verdict::Accept(a) => assert_eq!(a.severity, Some(Severity::Critical)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn private_key_bodies() {
        let body =
            STANDARD.encode((0..200u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect::<Vec<_>>());
        let (h, f) = ("-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----");
        let good = [
            format!("{h}\n{body}\n{f}"),
            format!("{h}\\n{}\\n{}\\n{f}", &body[..64], &body[64..]),
            format!("{h}\nProc-Type: 4,ENCRYPTED\n\n{body}\n{f}"),
            format!("  {h}\n  {}\n  {}\n  {f}", &body[..64], &body[64..]),
            format!("{h} {} {} {f}", &body[..64], &body[64..]),
            format!("{h}\\n{}\\n{f}", body.replace('/', "\\/")),
        ];
        for b in good {
            assert!(accepted(&private_key_body(&cand(b.as_bytes(), b.as_bytes()))), "{b}");
        }
        let bad = [
            format!("{h}\nMIIE\n{f}"),
            format!("{h}\n{}\n...\n{}\n{f}", &body[..64], &body[64..]),
            format!("{h}\nabc\n{f}\n{h}\n{body}\n{f}"),
        ];
        for b in bad {
            assert!(!accepted(&private_key_body(&cand(b.as_bytes(), b.as_bytes()))), "{b}");
        }
        let ssh = |cipher: &[u8]| {
            let mut raw = b"openssh-key-v1\0".to_vec();
            raw.extend_from_slice(&(cipher.len() as u32).to_be_bytes());
            raw.extend_from_slice(cipher);
            raw.extend((0..150u8).map(|i| i.wrapping_mul(91)));
            let b = STANDARD.encode(raw);
            format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{b}\n-----END OPENSSH PRIVATE KEY-----")
        };
        for (cipher, encrypted) in [(b"none".as_slice(), false), (b"aes256-ctr".as_slice(), true)] {
            let k = ssh(cipher);
            match private_key_body(&cand(k.as_bytes(), k.as_bytes())) {
                Verdict::Accept(a) => {
                    assert_eq!(a.severity == Some(Severity::High), encrypted, "{cipher:?}");
                    assert!(a.note.unwrap().starts_with("OPENSSH PRIVATE KEY"));
                }
                v => panic!("{v:?}"),
            }
        }
        let enc = format!("{h}\nProc-Type: 4,ENCRYPTED\n\n{body}\n{f}");
        match private_key_body(&cand(enc.as_bytes(), enc.as_bytes())) {
            Verdict::Accept(a) => assert_eq!(a.severity, Some(Severity::High)),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn base64_pem_needs_a_private_key_header() {
        let key = STANDARD.encode("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0000\n");
        assert!(accepted(&base64_pem(&cand(key.as_bytes(), key.as_bytes()))));
        let cert = STANDARD.encode("-----BEGIN CERTIFICATE-----\nMIIEpAIBAAKCAQEA0000\n");
        assert!(!accepted(&base64_pem(&cand(cert.as_bytes(), cert.as_bytes()))));
    }

    #[test]
    fn discord_bot_token_decodes_its_user_id() {
        let tok = format!("{}.GhJkLm.{}", STANDARD.encode("123456789012345678"), "a".repeat(30));
        match discord_bot_token(&cand(tok.as_bytes(), tok.as_bytes())) {
            Verdict::Accept(a) => assert_eq!(a.confidence, Some(Confidence::High)),
            other => panic!("{other:?}"),
        }
        let other = b"QWxhZGRpbjpvcGVuIHNlc2Ft.GhJkLm.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        match discord_bot_token(&cand(other, other)) {
            Verdict::Accept(a) => assert_eq!(a.confidence, Some(Confidence::Medium)),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn google_api_key_notes_firebase() {
        let hay = b"const firebaseConfig = { apiKey: \"AIzaXX\" }";
        match google_api_key(&cand(hay, b"AIzaXX")) {
            Verdict::Accept(a) => assert!(a.note.unwrap().contains("Firebase")),
            v => panic!("{v:?}"),
        }
    }
}
