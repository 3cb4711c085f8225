//! Calendar arithmetic for the timestamps APIs send (`Retry-After` dates, RFC 3339 build
//! times), without a date crate: a handful of formats, each checked for range first so no
//! input can overflow the arithmetic.

use std::time::{SystemTime, UNIX_EPOCH};

/// This machine's clock in Unix seconds.
pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` (the only form servers send today) to Unix seconds.
pub fn http_date(v: &str) -> Option<u64> {
    let parts: Vec<&str> = v.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as i64
        + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    // Out of range, the arithmetic below could overflow: such a date is not one.
    let valid = (1..=9999).contains(&year)
        && (1..=31).contains(&day)
        && (0..24).contains(h)
        && (0..60).contains(m)
        && (0..=60).contains(s);
    if !valid {
        return None;
    }
    let days = days_from_civil(year, month, day);
    u64::try_from(days * 86_400 + h * 3600 + m * 60 + s).ok()
}

/// Days since 1970-01-01 of a calendar date (Howard Hinnant's algorithm); for the timestamps
/// APIs send. Callers keep `year` to four digits (1..=9999), where nothing can overflow.
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Unix seconds as `2026-03-01T10:00:00Z`, the form API date filters take (GitHub's
/// `created=>=…`).
pub fn rfc3339_utc(unix: u64) -> String {
    // u64 seconds stay far inside i64 days.
    let [y, mo, d, h, mi, s] = civil(unix as i64);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `2017-09-13T17:13:55.193+00:00` or `…Z` to Unix seconds.
pub fn rfc3339(ts: &str) -> Option<i64> {
    let (date, time) = ts.trim().split_once(['T', ' '])?;
    let mut d = date.splitn(3, '-');
    let year: i64 = d.next()?.parse().ok()?;
    let month: i64 = d.next()?.parse().ok()?;
    let day: i64 = d.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let zone_at = time.find(['Z', 'z', '+', '-']).unwrap_or(time.len());
    let (clock, zone) = time.split_at(zone_at);
    let mut c = clock.split('.').next()?.splitn(3, ':');
    let hour: i64 = c.next()?.parse().ok()?;
    let minute: i64 = c.next()?.parse().ok()?;
    let second: i64 = c.next().unwrap_or("0").parse().ok()?;
    let offset = match zone {
        "" | "Z" | "z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let digits: String = z[1..].chars().filter(|c| *c != ':').collect();
            let hours: i64 = digits.get(..2)?.parse().ok()?;
            let minutes: i64 = digits
                .get(2..)
                .filter(|m| !m.is_empty())
                .unwrap_or("0")
                .parse()
                .ok()?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            sign * (hours * 3600 + minutes * 60)
        }
    };
    // Out of range, the arithmetic below could overflow: such a time is not one.
    let valid = (1..=9999).contains(&year)
        && (0..24).contains(&hour)
        && (0..60).contains(&minute)
        && (0..=60).contains(&second);
    if !valid {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// Unix seconds as `[year, month, day, hour, minute, second]` in UTC: the inverse of
/// [`days_from_civil`] (Howard Hinnant's algorithm).
pub fn civil(unix: i64) -> [i64; 6] {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    [year, month, day, secs / 3600, secs % 3600 / 60, secs % 60]
}

/// Unix seconds as `YYYY-MM-DD, HH:MM:SS` in UTC (the Codefresh CLI's table dates).
pub fn utc_datetime(unix: i64) -> String {
    let [y, mo, d, h, mi, s] = civil(unix);
    format!("{y:04}-{mo:02}-{d:02}, {h:02}:{mi:02}:{s:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        assert_eq!(
            http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        // Found by fuzzing: a huge year (or hour) overflowed the date arithmetic.
        for bad in [
            "items 06 Nov 184467440737095516 18446744:49:27 GMT",
            "Sun, 06 Nov 1994 9223372036854775807:00:00 GMT",
            "Sun, 06 Nov -9223372036854775807 08:49:37 GMT",
            "Sun, 99 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
        ] {
            assert_eq!(http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn utc_datetimes_undo_the_parse() {
        assert_eq!(utc_datetime(0), "1970-01-01, 00:00:00");
        for ts in [
            "2024-02-29T23:59:07Z",
            "2017-09-13T17:13:55Z",
            "1999-12-31T00:00:01Z",
        ] {
            let shown = utc_datetime(rfc3339(ts).unwrap());
            assert_eq!(shown, ts.replace('T', ", ").trim_end_matches('Z'), "{ts}");
        }
    }

    #[test]
    fn unix_seconds_as_rfc3339() {
        for ts in [
            "1970-01-01T00:00:00Z",
            "2024-02-29T23:59:59Z",
            "2026-03-01T10:00:05Z",
            "2000-12-31T12:30:00Z",
        ] {
            let unix = u64::try_from(rfc3339(ts).unwrap()).unwrap();
            assert_eq!(rfc3339_utc(unix), ts);
        }
    }

    #[test]
    fn rfc3339_timestamps() {
        assert_eq!(rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            rfc3339("2017-09-13T17:13:55.193+00:00"),
            Some(1_505_322_835)
        );
        assert_eq!(rfc3339("2017-08-23T07:26:01.877Z"), Some(1_503_473_161));
        assert_eq!(
            rfc3339("2017-09-13T19:13:55+02:00"),
            rfc3339("2017-09-13T17:13:55Z")
        );
        assert_eq!(
            rfc3339("2017-09-13T12:13:55-0500"),
            rfc3339("2017-09-13T17:13:55Z")
        );
        assert_eq!(rfc3339("2024-02-29T00:00:00Z"), Some(1_709_164_800));
        for bad in ["", "yesterday", "2017-13-01T00:00:00Z", "2017-09-13"] {
            assert_eq!(rfc3339(bad), None, "{bad}");
        }
        // Found by fuzzing: a huge year overflowed the arithmetic. Hours, minutes, seconds
        // and zone offsets out of range are refused for the same reason.
        for bad in [
            " 99999999999999-12-31T23:59:59Z",
            "2017-09-13T9223372036854775807:00:00Z",
            "2017-09-13T17:9223372036854775807Z",
            "2017-09-13T17:13:9223372036854775807Z",
            "2017-09-13T17:13:55+00:9223372036854775807",
            "2017-09-13T17:13:55+99:00",
            "2017-09-13T24:00:00Z",
            "0-09-13T17:13:55Z",
        ] {
            assert_eq!(rfc3339(bad), None, "{bad}");
        }
    }
}
