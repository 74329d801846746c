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
}
