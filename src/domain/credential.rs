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
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
