//! SealTalk's validation rules as its server applied them (validator.js 5.7 and js-xss 0.2):
//! region and phone, nicknames, passwords, verification tokens, portrait URIs and sync
//! versions. A refusal carries the original's plain-text 400 message.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use regex::Regex;

use crate::domain::phone::Phone;

/// A value the original refused, with its 400 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused(pub &'static str);

pub const INVALID_PHONE: Refused = Refused("Invalid region and phone number.");
pub const INVALID_TOKEN: Refused = Refused("Invalid verification_token.");
pub const INVALID_PORTRAIT_FORMAT: Refused = Refused("Invalid portraitUri format.");
pub const INVALID_PORTRAIT_LENGTH: Refused = Refused("Invalid portraitUri length.");
pub const INVALID_VERSION: Refused = Refused("Version parameter is not integer.");

/// validator.js's zh-CN mobile rule, with the prefix set widened from `1[345789]` to `1[3-9]`
/// (every number the original refused in its tests is still refused).
static MAINLAND: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:\+?0?86-?)?(1[3-9]\d{9})$").expect("static regex"));
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
        .expect("static regex")
});
static INTEGER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[-+]?(?:0|[1-9][0-9]*)$").expect("static regex"));

/// `region` + `phone`: only region 86 is known; the number may carry a `+86`, `086` or `86-`
/// prefix, which is dropped (the original stored it verbatim and so split identities).
pub fn region_and_phone(region: &str, phone: &str) -> Result<Phone, Refused> {
    if region.trim() != "86" {
        return Err(INVALID_PHONE);
    }
    let national = MAINLAND
        .captures(phone.trim())
        .and_then(|found| found.get(1))
        .ok_or(INVALID_PHONE)?;
    Phone::parse("86", national.as_str()).map_err(|_| INVALID_PHONE)
}

/// Length as JavaScript counts it (UTF-16 units), which is what the truncation uses.
fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// `Utility.xss(text, max)`: js-xss with an empty whitelist drops `<!-- … -->` comments (an
/// unclosed one drops the rest) and escapes every `<` and `>`; when the text was at most `max`
/// UTF-16 units but its escaped form is longer, the escaped form is cut to `max` units.
pub fn xss(text: &str, max: usize) -> String {
    let mut stripped = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        stripped.push_str(&rest[..start]);
        match rest[start..].find("-->") {
            Some(end) => rest = &rest[start + end + 3..],
            None => {
                rest = "";
                break;
            }
        }
    }
    stripped.push_str(rest);
    let escaped = stripped.replace('<', "&lt;").replace('>', "&gt;");
    if utf16_len(text) <= max && utf16_len(&escaped) > max {
        let mut cut = String::new();
        let mut units = 0;
        for c in escaped.chars() {
            units += c.len_utf16();
            if units > max {
                break;
            }
            cut.push(c);
        }
        return cut;
    }
    escaped
}

/// A nickname after `xss(…, 32)`: 1 to 32 characters (code points, as validator counts them).
/// The message differs by endpoint: register says `Length of nickname invalid.`,
/// `set_nickname` says `Invalid nickname length.`.
pub fn nickname(text: &str, length_message: &'static str) -> Result<String, Refused> {
    let cleaned = xss(text, 32);
    if (1..=32).contains(&cleaned.chars().count()) {
        Ok(cleaned)
    } else {
        Err(Refused(length_message))
    }
}

/// Where a password is being set, which decides the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordUse {
    Register,
    Reset,
    /// `change_password`'s `newPassword`.
    Change,
}

impl PasswordUse {
    fn messages(self) -> (&'static str, &'static str) {
        match self {
            PasswordUse::Register | PasswordUse::Reset => (
                "Password must have no space.",
                "Length of password invalid.",
            ),
            PasswordUse::Change => (
                "New password must have no space.",
                "Invalid new password length.",
            ),
        }
    }
}

/// No space anywhere (the document's rule; the original's register let a leading one through).
/// Register checks this before the nickname and the length after it, so the two are apart.
pub fn password_spaces(text: &str, used_for: PasswordUse) -> Result<(), Refused> {
    if text.contains(' ') {
        return Err(Refused(used_for.messages().0));
    }
    Ok(())
}

/// 6 to 20 characters.
pub fn password_length(text: &str, used_for: PasswordUse) -> Result<(), Refused> {
    if !(6..=20).contains(&text.chars().count()) {
        return Err(Refused(used_for.messages().1));
    }
    Ok(())
}

/// Both password rules, spaces first.
pub fn password(text: &str, used_for: PasswordUse) -> Result<(), Refused> {
    password_spaces(text, used_for)?;
    password_length(text, used_for)
}

/// Any UUID shape, any case (validator's `isUUID`).
pub fn verification_token(text: &str) -> Result<(), Refused> {
    if UUID.is_match(text) {
        Ok(())
    } else {
        Err(INVALID_TOKEN)
    }
}

/// `portraitUri` after `xss(…, 256)`: an http(s) URL (validator's `isURL` with a required
/// protocol), then 12 to 256 characters.
pub fn portrait_uri(text: &str) -> Result<String, Refused> {
    let cleaned = xss(text, 256);
    if !is_http_url(&cleaned) {
        return Err(INVALID_PORTRAIT_FORMAT);
    }
    if !(12..=256).contains(&cleaned.chars().count()) {
        return Err(INVALID_PORTRAIT_LENGTH);
    }
    Ok(cleaned)
}

/// The version of `sync/:version`: validator's `isInt` (no leading zeros, an optional sign).
/// Values beyond 64 bits are clamped: every version is a millisecond timestamp far inside.
pub fn sync_version(text: &str) -> Result<i64, Refused> {
    if !INTEGER.is_match(text) {
        return Err(INVALID_VERSION);
    }
    Ok(text.parse::<i64>().unwrap_or(if text.starts_with('-') {
        i64::MIN
    } else {
        i64::MAX
    }))
}

/// validator 5.7's `isURL(url, {protocols: ['http','https'], require_protocol: true})`.
fn is_http_url(url: &str) -> bool {
    if url.is_empty() || utf16_len(url) >= 2083 || url.chars().any(char::is_whitespace) {
        return false;
    }
    let Some((protocol, rest)) = url.split_once("://") else {
        return false;
    };
    if protocol != "http" && protocol != "https" {
        return false;
    }
    let rest = rest.split('#').next().unwrap_or("");
    let rest = rest.split('?').next().unwrap_or("");
    let authority = rest.split('/').next().unwrap_or("");
    let mut at_parts: Vec<&str> = authority.split('@').collect();
    if at_parts.len() > 1 {
        let auth = at_parts.remove(0);
        if auth.split(':').count() > 2 {
            return false;
        }
    }
    let hostname = at_parts.join("@");
    let mut colon_parts = hostname.split(':');
    let host = colon_parts.next().unwrap_or("");
    let port: Vec<&str> = colon_parts.collect();
    if !port.is_empty() {
        let port = port.join(":");
        let valid = !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p));
        if !valid {
            return false;
        }
    }
    host == "localhost" || is_ip(host) || is_fqdn(host)
}

fn is_ip(host: &str) -> bool {
    host.parse::<Ipv4Addr>().is_ok() || host.parse::<Ipv6Addr>().is_ok()
}

/// validator's `isFQDN` with a required TLD, no underscores and no trailing dot.
fn is_fqdn(host: &str) -> bool {
    static TLD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^(?:[a-z\x{00a1}-\x{ffff}]{2,}|xn[a-z0-9-]{2,})$").expect("static regex")
    });
    static LABEL: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)^[a-z\x{00a1}-\x{ffff}0-9-]+$").expect("static regex"));
    let mut labels: Vec<&str> = host.split('.').collect();
    let Some(tld) = labels.pop() else {
        return false;
    };
    if labels.is_empty() || !TLD.is_match(tld) {
        return false;
    }
    labels.iter().all(|label| {
        LABEL.is_match(label)
            && !label
                .chars()
                .any(|c| ('\u{ff01}'..='\u{ff5e}').contains(&c))
            && !label.starts_with('-')
            && !label.ends_with('-')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_follow_the_mainland_rule_and_lose_their_prefix() {
        for ok in [
            "13912345678",
            "+8613912345678",
            "08613912345678",
            "86-13912345678",
        ] {
            let phone = region_and_phone("86", ok).unwrap_or_else(|e| panic!("{ok}: {e:?}"));
            assert_eq!(phone.number(), "13912345678", "{ok}");
        }
        assert!(
            region_and_phone(" 86 ", "16612345678").is_ok(),
            "1[3-9] widened"
        );
        for bad in [
            "20012341234",
            "130qwerasdf",
            "1391234567",
            "23412341234",
            "",
            "1391234567890",
        ] {
            assert_eq!(region_and_phone("86", bad), Err(INVALID_PHONE), "{bad}");
        }
        assert_eq!(region_and_phone("1", "13912345678"), Err(INVALID_PHONE));
    }

    #[test]
    fn xss_escapes_and_truncates_like_the_original() {
        assert_eq!(xss("a<b>c", 32), "a&lt;b&gt;c");
        assert_eq!(xss("x<!-- hidden -->y", 32), "xy");
        assert_eq!(xss("x<!-- never closed", 32), "x");
        assert_eq!(xss("Tom & \"Jerry\"", 32), "Tom & \"Jerry\"");
        // 32 `<` fit before escaping, so the escaped text is cut to 32 units: 8 × `&lt;`.
        assert_eq!(xss(&"<".repeat(32), 32), "&lt;".repeat(8));
        // 33 did not fit before escaping: left long, and the length check refuses it.
        assert_eq!(xss(&"<".repeat(33), 32), "&lt;".repeat(33));
    }

    #[test]
    fn nicknames_count_characters_not_bytes() {
        assert_eq!(nickname("张三", "m"), Ok("张三".to_owned()));
        assert!(nickname(&"字".repeat(32), "m").is_ok());
        assert_eq!(
            nickname(&"字".repeat(33), "Invalid nickname length."),
            Err(Refused("Invalid nickname length."))
        );
        assert_eq!(nickname("", "m"), Err(Refused("m")));
        assert_eq!(
            nickname("<!--x-->", "m"),
            Err(Refused("m")),
            "empty once cleaned"
        );
        assert_eq!(nickname(&"<".repeat(32), "m"), Ok("&lt;".repeat(8)));
    }

    #[test]
    fn passwords_have_no_space_and_six_to_twenty_characters() {
        assert_eq!(password("123456", PasswordUse::Register), Ok(()));
        assert_eq!(
            password("qwe qwe", PasswordUse::Register),
            Err(Refused("Password must have no space."))
        );
        assert_eq!(
            password(" 123456", PasswordUse::Reset),
            Err(Refused("Password must have no space."))
        );
        assert_eq!(
            password("12345", PasswordUse::Reset),
            Err(Refused("Length of password invalid."))
        );
        assert_eq!(
            password(&"1".repeat(21), PasswordUse::Register),
            Err(Refused("Length of password invalid."))
        );
        assert_eq!(
            password("qwe qwe", PasswordUse::Change),
            Err(Refused("New password must have no space."))
        );
        assert_eq!(
            password("12345", PasswordUse::Change),
            Err(Refused("Invalid new password length."))
        );
    }

    #[test]
    fn tokens_are_any_uuid_in_any_case() {
        assert!(verification_token("3f4ad7a0-3b6e-11e6-8d8b-2b3e1f4f5a6b").is_ok());
        assert!(verification_token("3F4AD7A0-3B6E-11E6-8D8B-2B3E1F4F5A6B").is_ok());
        for bad in [
            "",
            "3f4ad7a03b6e11e68d8b2b3e1f4f5a6b",
            "3f4ad7a0-3b6e-11e6-8d8b-2b3e1f4f5a6",
            "g f",
        ] {
            assert_eq!(verification_token(bad), Err(INVALID_TOKEN), "{bad}");
        }
    }

    #[test]
    fn portrait_uris_are_http_urls_of_twelve_to_256_characters() {
        for ok in [
            "http://a.cn/x.png",
            "https://img.example.com/u/1.jpg?x=1#y",
            "http://localhost:8080/a.png",
            "http://192.168.1.1/a.png",
            "http://user:pw@example.com/a",
        ] {
            assert_eq!(portrait_uri(ok).as_deref(), Ok(ok), "{ok}");
        }
        for bad in [
            "ftp://example.com/a.png",
            "example.com/a.png",
            "http://exa mple.com/a",
            "http://under_score.com/a",
            "http://example/a.png",
            "http://example.com:0/a",
            "http://example.com:70000/a",
            "http://-bad.com/a",
            "http://a:b:c@example.com/a",
            "",
        ] {
            assert_eq!(portrait_uri(bad), Err(INVALID_PORTRAIT_FORMAT), "{bad}");
        }
        assert_eq!(portrait_uri("http://a.cn"), Err(INVALID_PORTRAIT_LENGTH));
        let long = format!("http://example.com/{}", "a".repeat(240));
        assert_eq!(portrait_uri(&long), Err(INVALID_PORTRAIT_LENGTH));
    }

    #[test]
    fn versions_are_integers_without_leading_zeros() {
        assert_eq!(sync_version("0"), Ok(0));
        assert_eq!(sync_version("1479800000000"), Ok(1_479_800_000_000));
        assert_eq!(sync_version("-5"), Ok(-5));
        assert_eq!(sync_version("+5"), Ok(5));
        assert_eq!(sync_version("99999999999999999999"), Ok(i64::MAX));
        for bad in ["", "01", "1.5", "abc", "1e3", " 1"] {
            assert_eq!(sync_version(bad), Err(INVALID_VERSION), "{bad:?}");
        }
    }
}
