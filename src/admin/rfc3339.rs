//! Unix seconds to the `2026-11-23T15:40:00Z` form Graph uses for `createdDateTime`.
//! Hand-written because the civil-date conversion is a dozen lines and a date crate would
//! add to every wasm build.

use crate::time::Timestamp;

/// Formats `at` as RFC 3339 UTC with second precision.
pub fn format(at: Timestamp) -> String {
    let secs = at.0;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm, for days since 1970-01-01 (non-negative).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants_format_as_graph_does() {
        assert_eq!(format(Timestamp(0)), "1970-01-01T00:00:00Z");
        assert_eq!(format(Timestamp(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(format(Timestamp(1_795_448_400)), "2026-11-23T15:40:00Z");
        assert_eq!(format(Timestamp(4_107_542_399)), "2100-02-28T23:59:59Z");
    }
}
