//! The `client_info` field of a token response, which MSAL requires.
//!
//! `@azure/msal-browser` refuses a token response without it and builds the account's
//! `homeAccountId` as `uid.utid` from it. Entra sends it as base64url (no padding) of
//! `{"uid":"<object id>","utid":"<tenant id>"}`; msal-browser's decoder maps `-`/`_` back
//! and restores the padding, so that exact shape is what we produce.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

#[derive(Serialize)]
struct ClientInfo<'a> {
    uid: &'a str,
    utid: &'a str,
}

/// `client_info` for user `uid` (the `oid` claim) in tenant `utid` (the `tid` claim).
pub fn client_info(uid: &str, utid: &str) -> String {
    // Serializing two strings into JSON cannot fail; an empty object would be refused by
    // MSAL rather than silently accepted, which is the safe fallback.
    let json = serde_json::to_vec(&ClientInfo { uid, utid }).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_info_is_base64url_json_of_uid_and_utid() {
        let value = client_info("00000000-0000-0000-0000-000000000001", "tenant-\"1\"");
        assert!(!value.contains('='), "{value}");
        let json: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&value).unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"uid":"00000000-0000-0000-0000-000000000001","utid":"tenant-\"1\""})
        );
    }

    #[test]
    fn the_encoding_matches_a_hand_computed_value() {
        // base64url of `{"uid":"u","utid":"t"}`.
        assert_eq!(client_info("u", "t"), "eyJ1aWQiOiJ1IiwidXRpZCI6InQifQ");
    }
}
