//! Where sign-in records live in KV and for how long, decided here so the Worker only
//! reads and writes.
//!
//! - **Ids** are UUID version 7 (RFC 9562): the first 48 bits are the attempt's time in
//!   milliseconds. A record's key is derived from its id alone, so reading one by id is a
//!   single KV read, with no index to keep in step.
//! - **Keys** are `tenant/{tenant}/signIns/{9999999999999 - ms, 13 digits}-{id}`: KV lists
//!   keys in ascending byte order, so the reversed time lists the newest record first.
//! - **List metadata** holds the record's [`SignInSummary`] (at most 1024 bytes, KV's
//!   limit), so a filtered list reads only the records it returns. A record whose summary
//!   would be larger is stored without one and read to be filtered; the native API keeps
//!   that from happening (client ids are at most 128 characters, emails 254), but a write
//!   never fails on it.
//! - **Retention**: every record is written with a KV expiration TTL of the retention
//!   (`SIGN_IN_LOG_RETENTION_DAYS`, default 30 days like Entra's P1/P2 sign-in logs), so
//!   KV deletes it; nothing else deletes records.
//! - KV `list` is **eventually consistent**: a record written a moment ago (or elsewhere
//!   in the world up to about a minute ago) may be missing from a list, while reading it
//!   by id in the same location works at once.

use super::SignInSummary;
use crate::error::ErrorBody;
use serde_json::{Value, json};

/// Days records are kept when `SIGN_IN_LOG_RETENTION_DAYS` is not set.
pub const DEFAULT_RETENTION_DAYS: u64 = 30;
/// The longest retention accepted (the value is a KV TTL; longer is a configuration slip).
pub const MAX_RETENTION_DAYS: u64 = 3650;
/// KV's limit on list metadata.
pub const MAX_METADATA_BYTES: usize = 1024;
/// Keys a single list request looks at, at most: a filter that matches few records in a
/// large log answers with what it found within this many (KV lists 1000 keys a page).
pub const MAX_SCANNED: usize = 10_000;
/// The `@odata.context` of a list.
pub const CONTEXT: &str = "https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns";

/// The largest millisecond time a key can carry (the year 2286).
const MAX_MS: u64 = 9_999_999_999_999;

/// The prefix every sign-in record key of `tenant` starts with.
pub fn prefix(tenant: &str) -> String {
    format!("tenant/{tenant}/signIns/")
}

/// A new record id: a version 7 UUID for time `at_ms` with 10 random bytes.
pub fn new_id(at_ms: u64, random: [u8; 10]) -> String {
    let ms = at_ms.min(MAX_MS) & 0xffff_ffff_ffff;
    let [r0, r1, r2, r3, r4, r5, r6, r7, r8, r9] = random;
    let rand_a = (u16::from(r0 & 0x0f) << 8) | u16::from(r1);
    let variant = (r2 & 0x3f) | 0x80;
    format!(
        "{:08x}-{:04x}-7{:03x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        ms >> 16,
        ms & 0xffff,
        rand_a,
        variant,
        r3,
        r4,
        r5,
        r6,
        r7,
        r8,
        r9
    )
}

/// The KV key of record `id`, or `None` when `id` is not an id this log hands out (so a
/// made-up id never reaches KV).
pub fn key(tenant: &str, id: &str) -> Option<String> {
    let ms = id_millis(id)?;
    Some(format!(
        "{}{:013}-{id}",
        prefix(tenant),
        MAX_MS.saturating_sub(ms)
    ))
}

/// The time inside a version 7 UUID written by [`new_id`] (lowercase hex only).
fn id_millis(id: &str) -> Option<u64> {
    let b = id.as_bytes();
    let hex = |c: &u8| c.is_ascii_digit() || (b'a'..=b'f').contains(c);
    let shape = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            14 => *c == b'7',
            19 => matches!(c, b'8' | b'9' | b'a' | b'b'),
            _ => hex(c),
        });
    if !shape {
        return None;
    }
    let high = u64::from_str_radix(id.get(0..8)?, 16).ok()?;
    let low = u64::from_str_radix(id.get(9..13)?, 16).ok()?;
    let ms = (high << 16) | low;
    (ms <= MAX_MS).then_some(ms)
}

/// The millisecond time to key a record whose `createdDateTime` is `at` (seconds): the
/// runtime's clock `now_ms`, kept inside that second so the key order and the
/// `createdDateTime` order never disagree.
pub fn key_millis(at: u64, now_ms: u64) -> u64 {
    let start = at.saturating_mul(1000);
    now_ms.clamp(start, start.saturating_add(999))
}

/// The retention in seconds from the `SIGN_IN_LOG_RETENTION_DAYS` value (whole days,
/// 1 to [`MAX_RETENTION_DAYS`]); absent means [`DEFAULT_RETENTION_DAYS`].
pub fn retention_seconds(days: Option<&str>) -> Result<u64, ErrorBody> {
    let Some(text) = days else {
        return Ok(DEFAULT_RETENTION_DAYS * 86_400);
    };
    match text.trim().parse::<u64>() {
        Ok(d) if (1..=MAX_RETENTION_DAYS).contains(&d) => Ok(d * 86_400),
        _ => Err(ErrorBody::new(
            "config.sign_in_log_retention_invalid",
            format!(
                "`SIGN_IN_LOG_RETENTION_DAYS` must be a whole number of days from 1 to {MAX_RETENTION_DAYS}, not `{text}`"
            ),
        )),
    }
}

/// The list metadata for a record: its summary as JSON, or `None` when over KV's limit.
pub fn metadata(summary: &SignInSummary) -> Option<Value> {
    let text = serde_json::to_string(summary).ok()?;
    if text.len() > MAX_METADATA_BYTES {
        return None;
    }
    serde_json::to_value(summary).ok()
}

/// The summary in a key's list metadata, if it has a readable one.
pub fn summary_from_metadata(metadata: Option<&Value>) -> Option<SignInSummary> {
    serde_json::from_value(metadata?.clone()).ok()
}

/// The Graph collection body for records already in order, with `@odata.nextLink` when
/// more may follow ([`super::paging`]).
pub fn page(records: Vec<Value>, next_link: Option<String>) -> Value {
    let mut body = json!({ "@odata.context": CONTEXT, "value": records });
    if let (Some(link), Some(map)) = (next_link, body.as_object_mut()) {
        map.insert("@odata.nextLink".into(), Value::String(link));
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_v7_and_give_back_their_key() {
        let id = new_id(1_795_000_000_123, [0xff; 10]);
        assert_eq!(id.len(), 36);
        assert_eq!(id.get(14..15), Some("7"));
        assert_eq!(id.get(19..20), Some("b"));
        assert_eq!(id_millis(&id), Some(1_795_000_000_123));
        assert_eq!(
            key("t", &id).unwrap(),
            format!("tenant/t/signIns/8204999999876-{id}")
        );
        assert_eq!(new_id(0, [0; 10]), "00000000-0000-7000-8000-000000000000");
    }

    #[test]
    fn newer_records_sort_first() {
        let older = key("t", &new_id(1_795_000_000_000, [9; 10])).unwrap();
        let newer = key("t", &new_id(1_795_000_000_001, [0; 10])).unwrap();
        assert!(newer < older);
        let much_newer = key("t", &new_id(2_000_000_000_000, [0; 10])).unwrap();
        assert!(much_newer < newer);
    }

    #[test]
    fn ids_not_handed_out_here_have_no_key() {
        for bad in [
            "",
            "x",
            "00000000-0000-4000-8000-000000000000",
            "00000000-0000-7000-c000-000000000000",
            "0000000G-0000-7000-8000-000000000000",
            "00000000-0000-7000-8000-000000000000-",
            "00000000-0000-7000-8000-00000000000A",
            "../../../00-0000-7000-8000-000000000000",
            "ffffffff-ffff-7000-8000-000000000000",
        ] {
            assert_eq!(key("t", bad), None, "{bad}");
        }
    }

    #[test]
    fn key_time_stays_inside_the_records_second() {
        assert_eq!(key_millis(10, 10_500), 10_500);
        assert_eq!(key_millis(10, 9_999), 10_000);
        assert_eq!(key_millis(10, 11_000), 10_999);
    }

    #[test]
    fn retention_defaults_to_thirty_days_and_refuses_nonsense() {
        assert_eq!(retention_seconds(None), Ok(30 * 86_400));
        assert_eq!(retention_seconds(Some("7")), Ok(7 * 86_400));
        assert_eq!(retention_seconds(Some(" 90 ")), Ok(90 * 86_400));
        for bad in ["0", "-1", "3651", "thirty", ""] {
            assert_eq!(
                retention_seconds(Some(bad)).unwrap_err().code,
                "config.sign_in_log_retention_invalid",
                "{bad}"
            );
        }
    }

    #[test]
    fn metadata_round_trips_and_respects_the_kv_limit() {
        let s = SignInSummary {
            at: 1,
            user_id: Some("u".into()),
            user_principal_name: "a@example.com".into(),
            app_id: "shop".into(),
            error_code: 0,
            conditional_access_status: "success".into(),
        };
        let m = metadata(&s).unwrap();
        assert_eq!(summary_from_metadata(Some(&m)), Some(s.clone()));
        assert_eq!(summary_from_metadata(None), None);
        assert_eq!(summary_from_metadata(Some(&json!({"t": "x"}))), None);
        let big = SignInSummary {
            app_id: "a".repeat(MAX_METADATA_BYTES),
            ..s
        };
        assert_eq!(metadata(&big), None);
    }
}
