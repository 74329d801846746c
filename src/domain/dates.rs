//! Calendar renderings of epoch milliseconds (UTC), without a date library: the day of a
//! recording's file name and the ISO-8601 times some wire formats carry.

/// `(year, month, day)` of the UTC day containing `ms` (Howard Hinnant's days-to-civil).
fn civil(ms: i64) -> (i64, i64, i64) {
    let days = ms.div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `YYYY-MM-DD` (UTC) of a time.
pub fn civil_date(ms: i64) -> String {
    let (year, month, day) = civil(ms);
    format!("{year:04}-{month:02}-{day:02}")
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, as JavaScript's `Date.prototype.toJSON` writes a time.
pub fn iso8601_millis(ms: i64) -> String {
    let (year, month, day) = civil(ms);
    let in_day = ms.rem_euclid(86_400_000);
    let (hour, minute, second, milli) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z")
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's days-from-civil).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Epoch milliseconds of an RFC 3339 time (`2026-11-21T08:00:00.123+08:00`, `…Z`), as HAR
/// files give `startedDateTime`; `None` when it is not one.
pub fn parse_rfc3339_millis(text: &str) -> Option<i64> {
    let text = text.trim();
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let bytes = text.as_bytes();
    if bytes.len() < 20
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || !matches!(bytes[10], b'T' | b't' | b' ')
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let first_three = format!("{:0<3}", &fraction[..digits.min(3)]);
        millis = first_three.parse::<i64>().ok()?;
        rest = &fraction[digits..];
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (hours, minutes) = rest[1..].split_once(':')?;
            if hours.len() != 2 || minutes.len() != 2 {
                return None;
            }
            sign * (hours.parse::<i64>().ok()? * 60 + minutes.parse::<i64>().ok()?)
        }
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(1_795_190_400_000), "2026-11-20");
        assert_eq!(civil_date(951_782_400_000), "2000-02-29");
    }

    #[test]
    fn times_as_javascript_writes_them() {
        assert_eq!(iso8601_millis(0), "1970-01-01T00:00:00.000Z");
        // new Date(1479801600123).toJSON()
        assert_eq!(
            iso8601_millis(1_479_801_600_123),
            "2016-11-22T08:00:00.123Z"
        );
        assert_eq!(iso8601_millis(951_868_799_999), "2000-02-29T23:59:59.999Z");
    }

    #[test]
    fn rfc3339_times_read_back() {
        for ms in [0, 1_479_801_600_123, 951_868_799_999, 1_795_190_400_000] {
            assert_eq!(parse_rfc3339_millis(&iso8601_millis(ms)), Some(ms));
        }
        assert_eq!(
            parse_rfc3339_millis("2016-11-22T16:00:00.123+08:00"),
            Some(1_479_801_600_123)
        );
        assert_eq!(
            parse_rfc3339_millis("2016-11-22T08:00:00.1234567Z"),
            Some(1_479_801_600_123)
        );
        assert_eq!(
            parse_rfc3339_millis("2016-11-22T03:00:00-05:00"),
            Some(1_479_801_600_000)
        );
        for bad in [
            "",
            "2016-11-22",
            "2016-13-22T08:00:00Z",
            "2016-11-22T08:00:00",
            "x016-11-22T08:00:00Z",
            "2016-11-22T08:00:00.Z",
        ] {
            assert_eq!(parse_rfc3339_millis(bad), None, "{bad}");
        }
    }
}
