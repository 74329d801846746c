//! The anti-abuse checksum of `/user/sms`: `sec` = (phone − utime) mod 49477, as the document
//! says, or the first 16 hex characters of the md5 of that decimal, as a sibling client of the
//! same backend template sent it; and the replay fix-up that recomputes it for a fresh `utime`.

use md5::{Digest, Md5};
use serde_json::Value;

use crate::dialects::ReplayRequest;
use crate::domain::credential::to_hex;

/// The prime of the document.
const MODULUS: i64 = 49_477;

/// `(phone − utime) mod 49477`, never negative; computed wide, so that any `utime` a client
/// sends (down to `i64::MIN`) gives the mathematical remainder instead of an overflow.
pub fn remainder(phone: i64, utime: i64) -> i64 {
    let wide = (i128::from(phone) - i128::from(utime)).rem_euclid(i128::from(MODULUS));
    i64::try_from(wide).unwrap_or_default()
}

/// The sibling client's form: md5 of the decimal remainder, first 16 hex characters.
pub fn md5_form(remainder: i64) -> String {
    to_hex(&Md5::digest(remainder.to_string().as_bytes()))[..16].to_owned()
}

/// Whether `sec` is the checksum of `phone` and `utime`, in either form; the decimal form is
/// compared as a number, so leading zeros do not matter.
pub fn matches(sec: &str, phone: i64, utime: i64) -> bool {
    let expected = remainder(phone, utime);
    let sec = sec.trim();
    if sec.parse::<i64>().is_ok_and(|sent| sent == expected) {
        return true;
    }
    sec.len() == 16 && sec.eq_ignore_ascii_case(&md5_form(expected))
}

fn field<'a>(request: &'a ReplayRequest, name: &str) -> Option<&'a Value> {
    request
        .fields
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// A replayed `/user/sms` whose checksum was right gets the current `utime` and its checksum, in
/// the form the recording used; other requests are left alone (their `sec` is a session code,
/// or a wrong checksum the exchange is about).
pub fn replay_fixup(request: &mut ReplayRequest) {
    if !request
        .path
        .split('?')
        .next()
        .unwrap_or("")
        .ends_with("/user/sms")
    {
        return;
    }
    let Some(phone) = field(request, "phone")
        .and_then(text)
        .and_then(|phone| phone.trim().parse::<i64>().ok())
    else {
        return;
    };
    let (Some(recorded_sec), Some(recorded_utime)) = (
        field(request, "sec").and_then(text),
        field(request, "utime")
            .and_then(text)
            .and_then(|utime| utime.trim().parse::<i64>().ok()),
    ) else {
        return;
    };
    // A checksum that was wrong when recorded stays wrong: the exchange is about that. One the
    // recorder redacted (it shares its name with the session code) was a working one.
    let redacted = recorded_sec.starts_with("redacted-");
    if !redacted && !matches(&recorded_sec, phone, recorded_utime) {
        return;
    }
    let was_md5 = !redacted && recorded_sec.len() == 16 && recorded_sec.parse::<i64>().is_err();
    let utime = request.now_ms.div_euclid(1000);
    let sec = if was_md5 {
        md5_form(remainder(phone, utime))
    } else {
        remainder(phone, utime).to_string()
    };
    for (name, value) in &mut request.fields {
        match name.as_str() {
            "utime" => *value = Value::String(utime.to_string()),
            "sec" => *value = Value::String(sec.clone()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the malformed-input sweep: `utime=-9223372036854775808` overflowed the
    /// subtraction (a panic in debug builds, a wrong checksum in release).
    #[test]
    fn extreme_utimes_do_not_overflow() {
        let phone = 13_390_633_695;
        let expected = (i128::from(phone) - i128::from(i64::MIN)).rem_euclid(49_477);
        assert_eq!(i128::from(remainder(phone, i64::MIN)), expected);
        let expected = (i128::from(phone) - i128::from(i64::MAX)).rem_euclid(49_477);
        assert_eq!(i128::from(remainder(phone, i64::MAX)), expected);
    }

    #[test]
    fn the_worked_example() {
        // phone 13390633695, utime 1500000000 → 24193 → 901eed0aea40de0f
        assert_eq!(remainder(13_390_633_695, 1_500_000_000), 24_193);
        assert_eq!(md5_form(24_193), "901eed0aea40de0f");
        assert!(matches("24193", 13_390_633_695, 1_500_000_000));
        assert!(matches("0024193", 13_390_633_695, 1_500_000_000));
        assert!(matches("901EED0AEA40DE0F", 13_390_633_695, 1_500_000_000));
        assert!(!matches("24194", 13_390_633_695, 1_500_000_000));
        assert!(!matches("", 13_390_633_695, 1_500_000_000));
    }

    #[test]
    fn the_fixup_refreshes_utime_and_sec_of_sms_requests_only() {
        let mut sms = ReplayRequest {
            method: "POST".into(),
            path: "/user/sms".into(),
            headers: Vec::new(),
            fields: vec![
                ("phone".into(), Value::from("13390633695")),
                ("utime".into(), Value::from("1500000000")),
                ("sec".into(), Value::from("901eed0aea40de0f")),
            ],
            now_ms: 1_500_000_000_000,
        };
        replay_fixup(&mut sms);
        assert_eq!(sms.fields[2].1, Value::from("901eed0aea40de0f"));
        sms.now_ms = 1_600_000_000_000;
        replay_fixup(&mut sms);
        assert_eq!(sms.fields[1].1, Value::from("1600000000"));
        assert_eq!(
            sms.fields[2].1,
            Value::from(md5_form(remainder(13_390_633_695, 1_600_000_000)))
        );

        let mut login = ReplayRequest {
            path: "/user/loginout".into(),
            fields: vec![("sec".into(), Value::from("0123456789abcdef"))],
            ..sms.clone()
        };
        replay_fixup(&mut login);
        assert_eq!(login.fields[0].1, Value::from("0123456789abcdef"));

        let mut wrong = ReplayRequest {
            fields: vec![
                ("phone".into(), Value::from("13390633695")),
                ("utime".into(), Value::from("1500000000")),
                ("sec".into(), Value::from("24194")),
            ],
            ..sms.clone()
        };
        replay_fixup(&mut wrong);
        assert_eq!(wrong.fields[1].1, Value::from("1500000000"));
        assert_eq!(wrong.fields[2].1, Value::from("24194"));

        let mut redacted = ReplayRequest {
            fields: vec![
                ("phone".into(), Value::from("13390633695")),
                ("utime".into(), Value::from("1500000000")),
                ("sec".into(), Value::from("redacted-0123456789a")),
            ],
            ..sms.clone()
        };
        replay_fixup(&mut redacted);
        assert_eq!(
            redacted.fields[2].1,
            Value::from(remainder(13_390_633_695, 1_600_000_000).to_string())
        );
    }
}
