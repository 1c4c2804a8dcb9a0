//! CRC32 and the Base62 checksum suffix used by GitHub-style tokens (and, UNCONFIRMED,
//! by Vercel and npm tokens: there it may only raise confidence, never reject).

use crate::rules::template::BASE62;

/// CRC-32 (IEEE, reflected), bitwise: inputs here are tens of bytes.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// Base62 of CRC32(body), left-padded with `0` to 6 characters.
pub fn base62_crc32(body: &[u8]) -> String {
    let mut n = crc32(body);
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out.to_vec()).expect("ascii")
}

/// True when the last 6 characters of `body_with_sum` are the Base62 CRC32 of the rest.
pub fn has_valid_suffix(body_with_sum: &[u8]) -> bool {
    if body_with_sum.len() <= 6 {
        return false;
    }
    let (body, sum) = body_with_sum.split_at(body_with_sum.len() - 6);
    base62_crc32(body).as_bytes() == sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_known_vector() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn suffix_roundtrip() {
        let body = b"abcdefghijklmnopqrstuvwxyz0123";
        let mut token = body.to_vec();
        token.extend_from_slice(base62_crc32(body).as_bytes());
        assert!(has_valid_suffix(&token));
        token[0] = b'b';
        assert!(!has_valid_suffix(&token));
    }
}
