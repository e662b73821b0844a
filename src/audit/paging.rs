//! Paging the sign-in log: the `$skiptoken` of `@odata.nextLink` and when to hand one out.
//!
//! A page ends where the scan stopped: at the `$top`-th match, or at the
//! [`super::log::MAX_SCANNED`]-th key a sparse filter looked at. The token names that
//! place as the KV list cursor of the list page the last examined key was on, plus that
//! key. The next request lists from the same cursor and skips every key up to and
//! including the one named, so nothing is listed twice or left out even though a KV
//! cursor only marks where a list page of 1000 keys starts. Keys only ever sort after
//! the named one if they are older (newer records get smaller keys), so records written
//! between two page requests do not push older ones onto the next page twice; they
//! appear on a new first page instead, as in Graph.
//!
//! The token is opaque to clients (URL-safe base64 of JSON, not signed); its shape is
//! checked when it is read, and a KV cursor KV refuses is the caller's error (`400`),
//! answered by the Worker. A forged cursor KV accepts can only move the page within this
//! tenant's records (every list is limited to the tenant's key prefix, and keys outside
//! it are skipped), which the caller may read anyway.

use crate::error::ErrorBody;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// Longest `$skiptoken` read (a KV list cursor and a key are far shorter).
const MAX_TOKEN: usize = 2048;

/// Where the previous page stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The KV list cursor that lists the page holding `after` (none: the first).
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// The last key examined, without the tenant prefix (`{reversed ms}-{id}`).
    #[serde(rename = "k")]
    pub after: String,
}

impl Position {
    /// The `$skiptoken` for this position.
    pub fn token(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Reads a `$skiptoken`, refusing one this service did not issue.
    pub fn from_token(token: &str) -> Result<Position, ErrorBody> {
        let position = (token.len() <= MAX_TOKEN)
            .then(|| URL_SAFE_NO_PAD.decode(token.trim()).ok())
            .flatten()
            .and_then(|bytes| serde_json::from_slice::<Position>(&bytes).ok())
            .filter(|p| {
                key_shaped(&p.after)
                    && p.cursor
                        .as_deref()
                        .is_none_or(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_graphic()))
            });
        position.ok_or_else(invalid_token)
    }

    /// Whether `key` (without the tenant prefix) was on an earlier page.
    pub fn covers(&self, key: &str) -> bool {
        key <= self.after.as_str()
    }
}

/// A key suffix as [`super::log::key`] writes them: 13 digits, `-`, a lowercase UUID.
fn key_shaped(key: &str) -> bool {
    let b = key.as_bytes();
    b.len() == 13 + 1 + 36
        && b.get(..13)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        && b.get(13) == Some(&b'-')
        && b.get(14..).is_some_and(|id| {
            id.iter()
                .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f' | b'-'))
        })
}

/// The error for a `$skiptoken` not issued here (or for a KV cursor KV refuses).
pub fn invalid_token() -> ErrorBody {
    ErrorBody::new(
        "signIns.skiptoken_invalid",
        "`$skiptoken` is not one this service issued; follow `@odata.nextLink` or start from the first page",
    )
    .at("$skiptoken")
}

/// Whether a scan that stopped on the key at `index` of a list page of `len` keys
/// (`list_complete`: KV said no page follows) leaves keys to look at: only then is there
/// a next page to link to.
pub fn more_after(index: usize, len: usize, list_complete: bool) -> bool {
    index.saturating_add(1) < len || !list_complete
}

/// The `@odata.nextLink`: `base` (the request URL without its query) with the request's
/// query options, `$skiptoken` replaced by the one for `position`.
pub fn next_link(base: &str, params: &[(String, String)], position: &Position) -> String {
    // `$` may stand in a query as is (RFC 3986 sub-delims), and Graph's links keep it.
    let enc = |s: &str| -> String {
        form_urlencoded::byte_serialize(s.as_bytes())
            .collect::<String>()
            .replace("%24", "$")
    };
    let mut query: Vec<String> = params
        .iter()
        .filter(|(n, _)| n != "$skiptoken")
        .map(|(n, v)| format!("{}={}", enc(n), enc(v)))
        .collect();
    query.push(format!("$skiptoken={}", position.token()));
    format!("{base}?{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "8204999999876-018f0000-0000-7000-8000-000000000000";

    #[test]
    fn tokens_round_trip_and_are_url_safe() {
        for cursor in [None, Some("AAAAAbcd-_==".to_string())] {
            let p = Position {
                cursor,
                after: KEY.into(),
            };
            let t = p.token();
            assert!(
                t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{t}"
            );
            assert_eq!(Position::from_token(&t), Ok(p));
        }
    }

    #[test]
    fn tokens_not_issued_here_are_refused() {
        let forged = |json: &str| URL_SAFE_NO_PAD.encode(json);
        for bad in [
            String::new(),
            "not base64 !".into(),
            forged("{}"),
            forged(r#"{"k":"../../other-tenant"}"#),
            forged(r#"{"k":"8204999999876-018f0000-0000-7000-8000-000000000000","c":""}"#),
            forged(r#"{"k":"8204999999876-018f0000-0000-7000-8000-000000000000","c":"a b"}"#),
            "A".repeat(MAX_TOKEN + 1),
        ] {
            let err = Position::from_token(&bad).unwrap_err();
            assert_eq!(err.code, "signIns.skiptoken_invalid", "{bad}");
        }
    }

    #[test]
    fn a_position_covers_its_key_and_every_newer_one() {
        let p = Position {
            cursor: None,
            after: KEY.into(),
        };
        assert!(p.covers(KEY));
        assert!(p.covers("8204999999875-ffff0000-0000-7000-8000-000000000000"));
        assert!(!p.covers("8204999999877-00000000-0000-7000-8000-000000000000"));
        assert!(!p.covers("8204999999876-018f0000-0000-7000-8000-000000000001"));
    }

    #[test]
    fn more_only_when_keys_remain() {
        assert!(more_after(3, 10, true));
        assert!(!more_after(9, 10, true));
        assert!(more_after(9, 10, false));
    }

    #[test]
    fn the_next_link_keeps_the_query_and_replaces_the_token() {
        let p = Position {
            cursor: None,
            after: KEY.into(),
        };
        let params = vec![
            ("$top".to_string(), "2".to_string()),
            ("$skiptoken".to_string(), "old".to_string()),
            ("$filter".to_string(), "appId eq 'a b'".to_string()),
        ];
        let link = next_link("https://x.example/t/v1.0/auditLogs/signIns", &params, &p);
        assert_eq!(
            link,
            format!(
                "https://x.example/t/v1.0/auditLogs/signIns?$top=2&$filter=appId+eq+%27a+b%27&$skiptoken={}",
                p.token()
            )
        );
    }
}
