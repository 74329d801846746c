//! Passwords as the dialects send them, and the canonical form the core hashes.
//!
//! Two dialects send `md5_hex(password)` computed by the app, three send the plain password. The
//! core hashes `lowercase(md5_hex(plain))` with bcrypt, so one password works in every dialect.

use md5::{Digest, Md5};

/// A password exactly as a dialect received it.
#[derive(Clone, PartialEq, Eq)]
pub enum PasswordInput {
    /// The plain password (`rest`, `code_result`, `error_code`).
    Plain(String),
    /// A hash the app computed (`struts`, `code_sec`): used as is, only lowercased.
    ClientMd5(String),
}

impl std::fmt::Debug for PasswordInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a password, not even in a test failure.
        match self {
            PasswordInput::Plain(_) => f.write_str("Plain(***)"),
            PasswordInput::ClientMd5(_) => f.write_str("ClientMd5(***)"),
        }
    }
}

impl PasswordInput {
    /// The `code_sec` rule: a 32-hex-digit value is already an md5, anything else is plain text.
    pub fn md5_or_plain(value: &str) -> PasswordInput {
        if value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
            PasswordInput::ClientMd5(value.to_owned())
        } else {
            PasswordInput::Plain(value.to_owned())
        }
    }

    /// The canonical secret that bcrypt hashes: the lowercase md5 hex of the plain password.
    pub fn canonical(&self) -> String {
        match self {
            PasswordInput::Plain(plain) => md5_hex(plain.as_bytes()),
            PasswordInput::ClientMd5(hash) => hash.trim().to_ascii_lowercase(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            PasswordInput::Plain(v) | PasswordInput::ClientMd5(v) => v.is_empty(),
        }
    }
}

/// Marks a stored hash that came from a legacy system: only the plain password opens it, and the
/// first success replaces it with the canonical credential.
const LEGACY_PREFIX: &str = "legacy:";

/// A stored password hash as the core reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredHash<'a> {
    /// bcrypt of the canonical secret.
    Canonical(&'a str),
    /// SealTalk's `sha1("<plain>|<salt>")` hex, wrapped in bcrypt:
    /// `legacy:sealtalk_sha1:<salt>:<bcrypt>`.
    SealtalkSha1 { salt: &'a str, wrapped: &'a str },
    /// A legacy bcrypt of the plain password: `legacy:bcrypt:<bcrypt>`.
    PlainBcrypt { wrapped: &'a str },
}

impl<'a> StoredHash<'a> {
    /// Reads a stored hash; anything without the legacy mark is canonical (and a malformed one
    /// simply never verifies).
    pub fn parse(stored: &'a str) -> StoredHash<'a> {
        let Some(legacy) = stored.strip_prefix(LEGACY_PREFIX) else {
            return StoredHash::Canonical(stored);
        };
        if let Some(rest) = legacy.strip_prefix("sealtalk_sha1:")
            && let Some((salt, wrapped)) = rest.split_once(':')
        {
            return StoredHash::SealtalkSha1 { salt, wrapped };
        }
        if let Some(wrapped) = legacy.strip_prefix("bcrypt:") {
            return StoredHash::PlainBcrypt { wrapped };
        }
        StoredHash::Canonical(stored)
    }

    pub fn is_legacy(self) -> bool {
        !matches!(self, StoredHash::Canonical(_))
    }

    /// The text to store for a wrapped SealTalk digest.
    pub fn sealtalk_text(salt: &str, wrapped: &str) -> String {
        format!("{LEGACY_PREFIX}sealtalk_sha1:{salt}:{wrapped}")
    }

    /// The text to store for a legacy bcrypt of the plain password.
    pub fn plain_bcrypt_text(wrapped: &str) -> String {
        format!("{LEGACY_PREFIX}bcrypt:{wrapped}")
    }
}

/// SealTalk's password digest: `sha1("<plain>|<salt>")` in lowercase hex.
pub fn sealtalk_digest(plain: &str, salt: &str) -> String {
    use sha1::Sha1;
    to_hex(&Sha1::digest(format!("{plain}|{salt}").as_bytes()))
}

/// Compares two secrets without an early exit, so the time taken does not tell how much of a
/// guess was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Lowercase hex of the md5 digest.
pub fn md5_hex(bytes: &[u8]) -> String {
    to_hex(&Md5::digest(bytes))
}

/// Lowercase hex of any bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    // By table, not `write!("{b:02x}")`: every session check hashes its token to hex, and the
    // formatter cost ~150 instructions a byte.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_hashes_are_read_by_their_mark() {
        assert_eq!(
            StoredHash::parse("$2b$04$abc"),
            StoredHash::Canonical("$2b$04$abc")
        );
        let sealtalk = StoredHash::sealtalk_text("1234", "$2b$04$x");
        assert_eq!(
            StoredHash::parse(&sealtalk),
            StoredHash::SealtalkSha1 {
                salt: "1234",
                wrapped: "$2b$04$x"
            }
        );
        let bcrypt = StoredHash::plain_bcrypt_text("$2y$10$y");
        assert_eq!(
            StoredHash::parse(&bcrypt),
            StoredHash::PlainBcrypt {
                wrapped: "$2y$10$y"
            }
        );
        assert!(StoredHash::parse(&bcrypt).is_legacy());
        assert!(!StoredHash::parse("legacy:unknown").is_legacy());
        // sha1("123456|1234"), as SealTalk's Utility.hash computed it.
        assert_eq!(
            sealtalk_digest("123456", "1234"),
            "48a41f4d3385929e8e9ac1b34c88645036052cc9"
        );
    }

    #[test]
    fn plain_and_md5_forms_meet() {
        let plain = PasswordInput::Plain("123456".into());
        let md5 = PasswordInput::ClientMd5("E10ADC3949BA59ABBE56E057F20F883E".into());
        assert_eq!(plain.canonical(), "e10adc3949ba59abbe56e057f20f883e");
        assert_eq!(plain.canonical(), md5.canonical());
    }

    #[test]
    fn code_sec_rule_decides_by_shape() {
        assert!(matches!(
            PasswordInput::md5_or_plain("e10adc3949ba59abbe56e057f20f883e"),
            PasswordInput::ClientMd5(_)
        ));
        assert!(matches!(
            PasswordInput::md5_or_plain("123456"),
            PasswordInput::Plain(_)
        ));
    }

    #[test]
    fn hex_is_lowercase_two_digits_a_byte() {
        assert_eq!(to_hex(&[]), "");
        assert_eq!(to_hex(&[0x00, 0x0f, 0xa0, 0xff, 0x5c]), "000fa0ff5c");
        let every: Vec<u8> = (0..=255).collect();
        let expected: String = every.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(to_hex(&every), expected);
    }

    #[test]
    fn constant_time_equality() {
        assert!(constant_time_eq(b"123456", b"123456"));
        assert!(!constant_time_eq(b"123456", b"123457"));
        assert!(!constant_time_eq(b"12345", b"123456"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn debug_hides_the_secret() {
        assert_eq!(
            format!("{:?}", PasswordInput::Plain("hunter2".into())),
            "Plain(***)"
        );
    }
}
