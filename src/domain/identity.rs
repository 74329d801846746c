//! Login identities besides the phone: usernames, and the "phone or username" login name.

use super::phone::Phone;

/// A login name that is not a phone number (the `error_code` dialect's `username`, often an email).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username {
    display: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("the username is empty")]
    Empty,
    #[error("the username is longer than 64 characters")]
    TooLong,
    #[error("the username contains whitespace or control characters")]
    BadCharacter,
}

impl Username {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(raw: &str) -> Result<Username, UsernameError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(UsernameError::Empty);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(UsernameError::TooLong);
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(UsernameError::BadCharacter);
        }
        Ok(Username {
            display: trimmed.to_owned(),
        })
    }

    /// The spelling the user chose.
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The case-insensitive key that makes usernames unique (`Zhang@Test.com` = `zhang@test.com`).
    pub fn key(&self) -> String {
        self.display.to_lowercase()
    }
}

/// What a user types to log in: a phone number or a username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginName {
    Phone(Phone),
    Username(Username),
}

impl LoginName {
    /// A mainland mobile number in any accepted spelling is the phone identity, so the account is
    /// the same one the phone dialects see; anything else is a username.
    pub fn parse_phone_or_username(raw: &str) -> Result<LoginName, UsernameError> {
        match Phone::mainland(raw) {
            Ok(phone) => Ok(LoginName::Phone(phone)),
            Err(_) => Username::parse(raw).map(LoginName::Username),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mainland_number_is_a_phone_identity() {
        assert!(matches!(
            LoginName::parse_phone_or_username("13912345678"),
            Ok(LoginName::Phone(_))
        ));
        assert!(matches!(
            LoginName::parse_phone_or_username("+86 139 1234 5678"),
            Ok(LoginName::Phone(_))
        ));
        assert!(matches!(
            LoginName::parse_phone_or_username("0000000002"),
            Ok(LoginName::Username(_))
        ));
        assert!(matches!(
            LoginName::parse_phone_or_username("zhansan@test.com"),
            Ok(LoginName::Username(_))
        ));
    }

    #[test]
    fn usernames_are_unique_without_case() {
        let name = Username::parse(" Zhang@Test.com ").unwrap();
        assert_eq!(name.as_str(), "Zhang@Test.com");
        assert_eq!(name.key(), "zhang@test.com");
        assert_eq!(Username::parse("  "), Err(UsernameError::Empty));
        assert_eq!(Username::parse("a b"), Err(UsernameError::BadCharacter));
        assert_eq!(
            Username::parse(&"x".repeat(65)),
            Err(UsernameError::TooLong)
        );
    }
}
