//! Reading RFC 3339 date-times (`2026-11-23T18:05:00Z`, `…T19:05:00.5+01:00`), the literal
//! form of `createdDateTime` in a `$filter`. The crate has no date library and this needs
//! only the calendar arithmetic [`crate::admin::rfc3339::format`] already does backwards.

/// Milliseconds since the Unix epoch for an RFC 3339 date-time with `Z` or a numeric
/// offset (fractions beyond milliseconds are cut). `None` for anything else, or before 1970.
pub fn parse_millis(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    let num = |from: usize, len: usize| -> Option<u64> {
        let digits = b.get(from..from.checked_add(len)?)?;
        digits.iter().try_fold(0u64, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u64::from(d - b'0'))
        })
    };
    let sep = |at: usize, ok: &[u8]| b.get(at).is_some_and(|c| ok.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if year < 1970 || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0u64;
    if sep(i, b".") {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 3 {
                millis = millis * 10 + u64::from(b.get(i).copied().unwrap_or(b'0') - b'0');
            }
            i += 1;
        }
        let digits = i - start;
        if digits == 0 {
            return None;
        }
        for _ in digits..3 {
            millis *= 10;
        }
    }
    let offset: i64 = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && sep(i + 3, b":") => {
            let (h, m) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let minutes = i64::try_from(h * 60 + m).ok()?;
            if *sign == b'+' { minutes } else { -minutes }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let local = days * 86_400 + hour * 3600 + minute * 60 + second;
    let utc = i64::try_from(local).ok()?.checked_sub(offset * 60)?;
    let utc = u64::try_from(utc).ok()?;
    utc.checked_mul(1000)?.checked_add(millis)
}

fn is_leap(year: u64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 for a date on or after it (Howard Hinnant's algorithm).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).saturating_sub(719_468)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::rfc3339::format;
    use crate::time::Timestamp;

    #[test]
    fn reads_back_what_the_formatter_writes() {
        for secs in [0, 951_782_400, 1_700_000_000, 1_795_000_000, 4_102_444_799] {
            let text = format(Timestamp(secs));
            assert_eq!(parse_millis(&text), Some(secs * 1000), "{text}");
        }
    }

    #[test]
    fn takes_fractions_and_offsets() {
        let base = parse_millis("2026-11-23T18:05:00Z").unwrap();
        assert_eq!(parse_millis("2026-11-23T18:05:00.5Z"), Some(base + 500));
        assert_eq!(
            parse_millis("2026-11-23T18:05:00.123456Z"),
            Some(base + 123)
        );
        assert_eq!(parse_millis("2026-11-23T19:05:00+01:00"), Some(base));
        assert_eq!(parse_millis("2026-11-23T17:35:00-00:30"), Some(base));
        assert_eq!(
            parse_millis("2024-02-29T00:00:00z").map(|m| m % 1000),
            Some(0)
        );
    }

    #[test]
    fn refuses_what_is_not_rfc_3339() {
        for bad in [
            "",
            "2026-11-23",
            "2026-11-23T18:05:00",
            "2026-11-23 18:05:00Z",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-11-23T24:00:00Z",
            "2026-11-23T18:05:00.Z",
            "2026-11-23T18:05:00+0100",
            "1969-12-31T23:59:59Z",
            "2026-11-23T18:05:00Zjunk",
            "２026-11-23T18:05:00Z",
        ] {
            assert_eq!(parse_millis(bad), None, "{bad}");
        }
    }
}
