//! Decoding helpers shared by validators: lenient base64 (both alphabets, padding optional)
//! and base64-JSON objects.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, Engine};

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Decodes standard or URL-safe base64, padded or not. `None` when neither fits.
pub fn base64_any(data: &[u8]) -> Option<Vec<u8>> {
    let trimmed = trim_padding(data);
    if trimmed.iter().any(|&b| b == b'-' || b == b'_') {
        URL.decode(trimmed).ok()
    } else {
        STD.decode(trimmed).ok()
    }
}

fn trim_padding(data: &[u8]) -> &[u8] {
    let mut end = data.len();
    while end > 0 && data[end - 1] == b'=' {
        end -= 1;
    }
    &data[..end]
}

/// Decodes base64 text holding a JSON object.
pub fn base64_json(data: &[u8]) -> Option<serde_json::Map<String, serde_json::Value>> {
    let raw = base64_any(data)?;
    match serde_json::from_slice(&raw).ok()? {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    }
}

/// A string field of a JSON object.
pub fn str_field<'a>(
    map: &'a serde_json::Map<String, serde_json::Value>,
    key: &str,
) -> Option<&'a str> {
    map.get(key).and_then(|v| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_both_alphabets_and_padding() {
        assert_eq!(base64_any(b"aGk").unwrap(), b"hi");
        assert_eq!(base64_any(b"aGk=").unwrap(), b"hi");
        assert_eq!(base64_any(b"-_8").unwrap(), vec![0xfb, 0xff]);
        assert!(base64_any(b"!!").is_none());
    }
}
