//! Reading a receiver's `Retry-After` (RFC 9110 §10.2.3): how long it asks the sender
//! to wait before the retry ([`super::budget`] decides what to do with it).
//!
//! The value is delay-seconds (`30`) or an HTTP-date. Senders must write dates as
//! IMF-fixdate (`Wed, 21 Oct 2015 07:28:00 GMT`, RFC 9110 §5.6.7), and that is the one
//! form read here; RFC 850 and asctime dates, which only obsolete senders write, are
//! not. Why not the `httpdate` crate, which reads all three: it added 9 KB (4 KB gzip)
//! to the Worker's wasm, which is over its size budget, for forms no current sender
//! writes. It stays as a dev-dependency that checks this parser (see the tests). An
//! unreadable value is ignored, so such a receiver gets the usual short pause, as before
//! `Retry-After` was read.

/// The longest value read; a longer one is no number or date.
const MAX_LEN: usize = 64;

/// The wait `value` asks for, in milliseconds from `now_ms` (Unix time); a date in the
/// past asks for none. `None` for anything else (empty, negative, fractional, oversized,
/// not an IMF-fixdate). A number of seconds too large to hold is read as the longest
/// wait: more than any budget.
pub fn retry_after_ms(value: &str, now_ms: u64) -> Option<u64> {
    let v = value.trim();
    if v.is_empty() || v.len() > MAX_LEN {
        return None;
    }
    if v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(
            v.parse::<u64>()
                .map_or(u64::MAX, |s| s.saturating_mul(1000)),
        );
    }
    let at = imf_fixdate(v)?;
    Some(at.saturating_mul(1000).saturating_sub(now_ms))
}

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) as Unix seconds: years 1970 to
/// 9999, a real day of the month, and the weekday that date falls on.
fn imf_fixdate(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 29 || s.get(3..5)? != ", " || s.get(25..)? != " GMT" {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u64> {
        let digits = s.get(from..to)?;
        digits
            .bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(at(7, b' ') && at(11, b' ') && at(16, b' ') && at(19, b':') && at(22, b':')) {
        return None;
    }
    let day = number(5, 7)?;
    let month = MONTHS.iter().position(|m| Some(*m) == s.get(8..11))?;
    let year = number(12, 16)?;
    let (hour, minute, second) = (number(17, 19)?, number(20, 22)?, number(23, 25)?);
    if !(1970..=9999).contains(&year) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let lengths = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if day == 0 || day > *lengths.get(month)? {
        return None;
    }
    let before_year = (1970..year)
        .map(|y| {
            if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) {
                366
            } else {
                365
            }
        })
        .sum::<u64>();
    let before_month: u64 = lengths.iter().take(month).sum();
    let days = before_year + before_month + day - 1;
    let weekday = usize::try_from(days % 7).ok()?;
    if DAYS.get(weekday).copied() != s.get(..3) {
        return None;
    }
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2015-10-21T07:28:00Z in Unix milliseconds.
    const AT: u64 = 1_445_412_480_000;

    #[test]
    fn seconds_and_imf_fixdates_are_read() {
        assert_eq!(retry_after_ms("30", AT), Some(30_000));
        assert_eq!(retry_after_ms(" 30 ", AT), Some(30_000));
        assert_eq!(retry_after_ms("0", AT), Some(0));
        assert_eq!(
            retry_after_ms("Wed, 21 Oct 2015 07:28:30 GMT", AT),
            Some(30_000)
        );
        assert_eq!(retry_after_ms("Wed, 21 Oct 2015 07:27:00 GMT", AT), Some(0));
        assert_eq!(retry_after_ms("Thu, 01 Jan 1970 00:00:00 GMT", 0), Some(0));
        assert_eq!(
            retry_after_ms("Thu, 29 Feb 2024 00:00:01 GMT", 1_709_164_800_000),
            Some(1_000)
        );
        assert_eq!(retry_after_ms("18446744073709551616", AT), Some(u64::MAX));
    }

    #[test]
    fn anything_else_is_ignored() {
        for bad in [
            "",
            " ",
            "-1",
            "1.5",
            "+5",
            "3s",
            "soon",
            "ünï",
            &"9".repeat(65),
            // Obsolete forms (RFC 850, asctime): see the module doc.
            "Wednesday, 21-Oct-15 07:28:03 GMT",
            "Wed Oct 21 07:28:04 2015",
            // Wrong weekday, day, month, time, zone, year, spacing.
            "Thu, 21 Oct 2015 07:28:00 GMT",
            "Wed, 32 Oct 2015 07:28:00 GMT",
            "Sun, 29 Feb 2015 07:28:00 GMT",
            "Wed, 21 Okt 2015 07:28:00 GMT",
            "Wed, 21 Oct 2015 24:00:00 GMT",
            "Wed, 21 Oct 2015 07:60:00 GMT",
            "Wed, 21 Oct 2015 07:28:00 UTC",
            "Wed, 01 Jan 1969 00:00:00 GMT",
            "Wed, 21 Oct 2015 07:28:00GMT ",
            "Wed, 21 Oct 2015 07-28-00 GMT",
            "Wed, +1 Oct 2015 07:28:00 GMT",
        ] {
            assert_eq!(retry_after_ms(bad, AT), None, "{bad:?}");
        }
    }

    /// The `httpdate` crate (hyper's parser) as the oracle: every day from 1970 to 2100
    /// at a few times, with the right weekday and a wrong one, must read the same.
    #[test]
    fn imf_fixdates_read_as_httpdate_reads_them() {
        use std::time::{Duration, UNIX_EPOCH};
        let mut checked = 0;
        for day in (0..47_846u64).step_by(7).chain(0..800) {
            for secs in [0, 1, 3_599, 43_210, 86_399] {
                let t = UNIX_EPOCH + Duration::from_secs(day * 86_400 + secs);
                let text = httpdate::fmt_http_date(t);
                assert_eq!(imf_fixdate(&text), Some(day * 86_400 + secs), "{text}");
                // The same date on the next weekday is refused by both.
                let other = DAYS
                    .iter()
                    .position(|d| Some(*d) == text.get(..3))
                    .and_then(|i| DAYS.get((i + 1) % 7))
                    .unwrap();
                let wrong = format!("{other}{}", text.get(3..).unwrap());
                assert!(httpdate::parse_http_date(&wrong).is_err(), "{wrong}");
                assert_eq!(imf_fixdate(&wrong), None, "{wrong}");
                checked += 1;
            }
        }
        assert!(checked > 30_000, "{checked}");
        // Days past the end of a month: both refuse.
        for bad in [
            "Sat, 31 Apr 2021 00:00:00 GMT",
            "Tue, 29 Feb 2100 00:00:00 GMT",
        ] {
            assert!(httpdate::parse_http_date(bad).is_err(), "{bad}");
            assert_eq!(imf_fixdate(bad), None, "{bad}");
        }
    }
}
