//! The phone identity: a country calling code and a national number, parsed once and normalised.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

static MAINLAND_MOBILE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^1[3-9]\d{9}$").expect("static regex"));

/// The default region for dialects whose documents carry no country code.
pub const MAINLAND: &str = "86";

/// A phone identity that can only hold a valid, normalised number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone {
    region: String,
    number: String,
}

/// Why a phone input was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("the region is not a country calling code")]
    InvalidRegion,
    #[error("the number is not a valid phone number for its region")]
    InvalidNumber,
}

impl Phone {
    /// Parses a region and a number as clients send them: spaces and dashes are dropped, a `+` or
    /// `00` international prefix is understood, and a `86` glued to an 11-digit mainland number is
    /// stripped. Region 86 numbers must be mainland mobiles (`^1[3-9]\d{9}$`).
    pub fn parse(region: &str, number: &str) -> Result<Phone, PhoneError> {
        let region = normalise_region(region)?;
        let compact: String = number
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '\u{3000}' | '\t'))
            .collect();
        let (international, digits) = if let Some(rest) = compact.strip_prefix('+') {
            (true, rest)
        } else if let Some(rest) = compact.strip_prefix("00") {
            (true, rest)
        } else {
            (false, compact.as_str())
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PhoneError::InvalidNumber);
        }
        let national = if international {
            // An international form must start with the region's own calling code.
            digits
                .strip_prefix(region.as_str())
                .ok_or(PhoneError::InvalidNumber)?
        } else if region == MAINLAND {
            strip_glued_mainland_prefix(digits)
        } else {
            digits
        };
        if region == MAINLAND {
            if !MAINLAND_MOBILE.is_match(national) {
                return Err(PhoneError::InvalidNumber);
            }
        } else if !(4..=14).contains(&national.len()) {
            return Err(PhoneError::InvalidNumber);
        }
        Ok(Phone {
            region,
            number: national.to_owned(),
        })
    }

    /// A mainland number, for the dialects whose documents imply region 86.
    pub fn mainland(number: &str) -> Result<Phone, PhoneError> {
        Phone::parse(MAINLAND, number)
    }

    /// Rebuilds a phone from storage, where it was stored already normalised.
    pub fn from_stored(region: String, number: String) -> Phone {
        Phone { region, number }
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn number(&self) -> &str {
        &self.number
    }

    /// The number with all but its first three and last four digits hidden, for logs.
    pub fn masked(&self) -> String {
        let n = &self.number;
        if n.len() <= 7 {
            return "*".repeat(n.len());
        }
        format!(
            "{}{}{}",
            &n[..3],
            "*".repeat(n.len() - 7),
            &n[n.len() - 4..]
        )
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+{} {}", self.region, self.masked())
    }
}

fn normalise_region(region: &str) -> Result<String, PhoneError> {
    let trimmed = region.trim();
    let digits = trimmed
        .strip_prefix('+')
        .or_else(|| trimmed.strip_prefix("00"))
        .unwrap_or(trimmed);
    if digits.is_empty()
        || digits.len() > 4
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || digits.starts_with('0')
    {
        return Err(PhoneError::InvalidRegion);
    }
    Ok(digits.to_owned())
}

/// `8613812345678` and `08613812345678` are the mainland number `13812345678`.
fn strip_glued_mainland_prefix(digits: &str) -> &str {
    for prefix in ["086", "86"] {
        if let Some(rest) = digits.strip_prefix(prefix)
            && rest.len() == 11
        {
            return rest;
        }
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_spellings_clients_send() {
        for input in [
            "13912345678",
            " 13912345678",
            "139 1234 5678",
            "139-1234-5678",
            "+8613912345678",
            "+86 139 1234 5678",
            "008613912345678",
            "8613912345678",
            "08613912345678",
        ] {
            let phone = Phone::mainland(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(phone.region(), "86");
            assert_eq!(phone.number(), "13912345678", "{input}");
        }
        assert_eq!(Phone::parse("+86", "13912345678").unwrap().region(), "86");
    }

    #[test]
    fn refuses_what_the_legacy_validators_refused() {
        for input in [
            "20012341234",
            "130qwerasdf",
            "1391234567",
            "23412341234",
            "",
            "+1 13912345678",
            "12912345678",
        ] {
            assert_eq!(
                Phone::mainland(input),
                Err(PhoneError::InvalidNumber),
                "{input}"
            );
        }
        assert_eq!(
            Phone::parse("abc", "13912345678"),
            Err(PhoneError::InvalidRegion)
        );
        assert_eq!(
            Phone::parse("", "13912345678"),
            Err(PhoneError::InvalidRegion)
        );
    }

    #[test]
    fn other_regions_keep_their_national_digits() {
        let phone = Phone::parse("1", "+1 415 555 0100").unwrap();
        assert_eq!((phone.region(), phone.number()), ("1", "4155550100"));
        assert_eq!(Phone::parse("44", "123"), Err(PhoneError::InvalidNumber));
    }

    #[test]
    fn masks_for_logs() {
        assert_eq!(
            Phone::mainland("13912345678").unwrap().masked(),
            "139****5678"
        );
    }
}
