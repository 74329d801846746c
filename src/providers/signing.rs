//! The building blocks the cloud providers' request signatures share: RFC 3986 percent-encoding,
//! SHA-256 and HMAC digests, and UTC times in the forms the providers sign.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::domain::credential::to_hex;

/// RFC 3986 percent-encoding of the UTF-8 bytes of `text`: ASCII letters, digits and `-_.~`
/// stay, every other byte becomes `%XX` in upper-case hex (a space is `%20`, never `+`).
pub fn pct(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Decodes `%XX` escapes (and, when `plus_is_space`, `+` as in form bodies); `None` when the
/// result is not UTF-8 or an escape is broken.
pub fn pct_decode(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'%' => {
                let hex = text.get(at + 1..at + 3)?;
                decoded.push(u8::from_str_radix(hex, 16).ok()?);
                at += 3;
            }
            b'+' if plus_is_space => {
                decoded.push(b' ');
                at += 1;
            }
            other => {
                decoded.push(other);
                at += 1;
            }
        }
    }
    String::from_utf8(decoded).ok()
}

/// `name=value` pairs sorted by name (byte order), each side percent-encoded, joined by `&`:
/// the canonical query both Aliyun signatures use.
pub fn canonical_query(pairs: &[(&str, &str)]) -> String {
    let mut sorted: Vec<(&str, &str)> = pairs.to_vec();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    sorted
        .iter()
        .map(|(name, value)| format!("{}={}", pct(name), pct(value)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    to_hex(&Sha256::digest(bytes))
}

pub fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

pub fn hmac_sha1(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// `yyyy-MM-ddTHH:mm:ssZ` (UTC) of epoch milliseconds, as Aliyun signs times.
pub fn utc_seconds(ms: i64) -> String {
    let millis = crate::domain::dates::iso8601_millis(ms);
    // `…T03:04:05.678Z` → `…T03:04:05Z`.
    format!("{}Z", millis.get(..19).unwrap_or(&millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_is_rfc_3986_with_upper_case_hex() {
        assert_eq!(pct("a b*c/~-_.+"), "a%20b%2Ac%2F~-_.%2B");
        assert_eq!(pct("罗塞塔"), "%E7%BD%97%E5%A1%9E%E5%A1%94");
        assert_eq!(pct_decode("a%20b+c", true).as_deref(), Some("a b c"));
        assert_eq!(pct_decode("a+b", false).as_deref(), Some("a+b"));
        assert_eq!(pct_decode("%E7%BD%97", false).as_deref(), Some("罗"));
        assert_eq!(pct_decode("%E7%B", false), None);
        assert_eq!(pct_decode("%FF", false), None);
    }

    #[test]
    fn times_are_utc_to_the_second() {
        assert_eq!(utc_seconds(1_704_164_645_678), "2024-01-02T03:04:05Z");
    }
}
