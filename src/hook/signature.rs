//! Standard Webhooks signatures: the three `webhook-*` headers over
//! `{msg_id}.{timestamp}.{payload}`.
//!
//! - `v1`: base64 of HMAC-SHA256 with a `whsec_` secret;
//! - `v1a`: base64 of an Ed25519 signature with a `whsk_` key.
//!
//! Every secret signs, and the signatures are space-delimited in `webhook-signature`, so
//! a receiver holding any one of them accepts the delivery (rotation). The message id stays
//! the same across retries (the receiver's idempotency key) while the timestamp is that of
//! each attempt, so a retry is signed again.

use super::err::HookError;
use super::secrets::{CheckKey, SignKey, SigningSecrets, VerifyingSecrets};
use crate::time::{Seconds, Timestamp};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::{Signature, Signer as _};
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

/// The tolerance the reference libraries use for `webhook-timestamp`: ±5 minutes.
pub const DEFAULT_TOLERANCE: Seconds = Seconds(5 * 60);
/// Longest message id accepted.
pub const MAX_MESSAGE_ID_LEN: usize = 256;
/// Longest `webhook-signature` header a verifier reads.
pub const MAX_SIGNATURE_HEADER_LEN: usize = 4096;
/// Most signatures a verifier tries from one header.
pub const MAX_SIGNATURES: usize = 16;

/// A `webhook-id`: never contains `.` (it would make the signed content ambiguous) and is
/// never chosen by a user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageId(String);

impl MessageId {
    /// `msg_` plus base64url of 16 caller-supplied random bytes (128 bits).
    pub fn from_random(random: &[u8; 16]) -> MessageId {
        let mut id = String::from("msg_");
        URL_SAFE_NO_PAD.encode_string(random, &mut id);
        MessageId(id)
    }

    /// Restores a message id kept for a retry, checking it is one.
    pub fn parse(id: &str) -> Result<MessageId, HookError> {
        check_message_id(id)?;
        Ok(MessageId(id.to_string()))
    }

    /// The header value.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The three headers of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookHeaders {
    /// `webhook-id`.
    pub webhook_id: String,
    /// `webhook-timestamp`, unix seconds.
    pub webhook_timestamp: String,
    /// `webhook-signature`, space-delimited `v1,<base64>` / `v1a,<base64>` entries.
    pub webhook_signature: String,
}

impl WebhookHeaders {
    /// Name and value pairs, ready to set on a request.
    pub fn pairs(&self) -> [(&'static str, &str); 3] {
        [
            ("webhook-id", &self.webhook_id),
            ("webhook-timestamp", &self.webhook_timestamp),
            ("webhook-signature", &self.webhook_signature),
        ]
    }
}

/// Signs one delivery attempt of `payload` (the exact bytes that will be sent) with every
/// secret, in order.
pub fn sign(
    secrets: &SigningSecrets,
    msg_id: &MessageId,
    timestamp: Timestamp,
    payload: &[u8],
) -> WebhookHeaders {
    let timestamp = timestamp.0.to_string();
    let mut signature = String::new();
    for key in &secrets.0 {
        if !signature.is_empty() {
            signature.push(' ');
        }
        match key {
            SignKey::Hmac(secret) => {
                signature.push_str("v1,");
                STANDARD.encode_string(
                    hmac_tag(secret.expose(), msg_id.as_str(), &timestamp, payload),
                    &mut signature,
                );
            }
            SignKey::Ed25519(key) => {
                signature.push_str("v1a,");
                let content = signed_content(msg_id.as_str(), &timestamp, payload);
                // Ed25519 signing cannot fail: `try_sign` in ed25519-dalek always returns `Ok`.
                let sig = key.expose().sign(&content);
                STANDARD.encode_string(sig.to_bytes(), &mut signature);
            }
        }
    }
    WebhookHeaders {
        webhook_id: msg_id.as_str().to_string(),
        webhook_timestamp: timestamp,
        webhook_signature: signature,
    }
}

/// Checks a received delivery as a Standard Webhooks consumer must: a well-formed id, a
/// timestamp within `tolerance` of `now` (replay protection), then at least one signature
/// matching one of `secrets`, compared in constant time. Unknown signature versions are
/// skipped, as the spec asks.
pub fn verify(
    secrets: &VerifyingSecrets,
    headers: &WebhookHeaders,
    payload: &[u8],
    now: Timestamp,
    tolerance: Seconds,
) -> Result<(), HookError> {
    check_message_id(&headers.webhook_id)?;
    let ts = &headers.webhook_timestamp;
    if ts.is_empty() || ts.len() > 20 || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HookError::TimestampInvalid);
    }
    let sent = Timestamp(ts.parse::<u64>().map_err(|_| HookError::TimestampInvalid)?);
    if now.since(sent) > tolerance {
        return Err(HookError::TimestampTooOld);
    }
    if sent.since(now) > tolerance {
        return Err(HookError::TimestampTooNew);
    }
    if headers.webhook_signature.len() > MAX_SIGNATURE_HEADER_LEN {
        return Err(HookError::SignatureMismatch);
    }

    let id = headers.webhook_id.as_str();
    let mut hmac_tags = Vec::new();
    let mut content = None;
    for key in &secrets.0 {
        if let CheckKey::Hmac(secret) = key {
            hmac_tags.push(hmac_tag(secret.expose(), id, ts, payload));
        }
    }
    for entry in headers
        .webhook_signature
        .split(' ')
        .filter(|e| !e.is_empty())
        .take(MAX_SIGNATURES)
    {
        let Some((version, encoded)) = entry.split_once(',') else {
            continue;
        };
        let Ok(sig) = STANDARD.decode(encoded) else {
            continue;
        };
        let matched = match version {
            "v1" => hmac_tags
                .iter()
                .any(|tag| bool::from(tag.as_slice().ct_eq(&sig))),
            "v1a" => match Signature::from_slice(&sig) {
                Ok(sig) => {
                    let content = content.get_or_insert_with(|| signed_content(id, ts, payload));
                    secrets.0.iter().any(|key| match key {
                        CheckKey::Ed25519(public) => public.verify_strict(content, &sig).is_ok(),
                        CheckKey::Hmac(_) => false,
                    })
                }
                Err(_) => false,
            },
            _ => false,
        };
        if matched {
            return Ok(());
        }
    }
    Err(HookError::SignatureMismatch)
}

fn check_message_id(id: &str) -> Result<(), HookError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_MESSAGE_ID_LEN
        && id.bytes().all(|b| b.is_ascii_graphic() && b != b'.');
    if ok {
        Ok(())
    } else {
        Err(HookError::MessageIdInvalid)
    }
}

fn hmac_tag(secret: &[u8], id: &str, timestamp: &str, payload: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail; an empty tag
    // (never equal to a 32-byte signature) is the safe fallback.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return Vec::new();
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac.finalize().into_bytes().to_vec()
}

fn signed_content(id: &str, timestamp: &str, payload: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(
        id.len()
            .saturating_add(timestamp.len())
            .saturating_add(payload.len())
            .saturating_add(2),
    );
    content.extend_from_slice(id.as_bytes());
    content.push(b'.');
    content.extend_from_slice(timestamp.as_bytes());
    content.push(b'.');
    content.extend_from_slice(payload);
    content
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TS: u64 = 1614265330;
    const SPEC_PAYLOAD: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn the_standard_webhooks_test_vector_is_reproduced_and_verifies() {
        let secrets = SigningSecrets::parse(SPEC_SECRET).unwrap();
        let id = MessageId::parse(SPEC_ID).unwrap();
        let headers = sign(&secrets, &id, Timestamp(SPEC_TS), SPEC_PAYLOAD);
        assert_eq!(headers.webhook_signature, SPEC_SIGNATURE);
        assert_eq!(headers.webhook_timestamp, "1614265330");
        assert_eq!(headers.webhook_id, SPEC_ID);
        let verifying = VerifyingSecrets::parse(SPEC_SECRET).unwrap();
        verify(
            &verifying,
            &headers,
            SPEC_PAYLOAD,
            Timestamp(SPEC_TS),
            DEFAULT_TOLERANCE,
        )
        .unwrap();
    }

    #[test]
    fn message_ids_are_msg_plus_base64url_and_never_contain_a_dot() {
        let id = MessageId::from_random(&[0xff; 16]);
        assert_eq!(id.as_str(), format!("msg_{}w", "_".repeat(21)));
        assert!(MessageId::parse("msg_a.b").is_err());
        assert!(MessageId::parse("").is_err());
        assert!(MessageId::parse("msg a").is_err());
        assert!(MessageId::parse(&"a".repeat(MAX_MESSAGE_ID_LEN + 1)).is_err());
    }

    #[test]
    fn the_timestamp_tolerance_is_enforced_both_ways() {
        let secrets = SigningSecrets::parse(SPEC_SECRET).unwrap();
        let id = MessageId::parse(SPEC_ID).unwrap();
        let headers = sign(&secrets, &id, Timestamp(SPEC_TS), SPEC_PAYLOAD);
        let verifying = secrets.verifying();
        let check = |now: u64| {
            verify(
                &verifying,
                &headers,
                SPEC_PAYLOAD,
                Timestamp(now),
                DEFAULT_TOLERANCE,
            )
        };
        assert!(check(SPEC_TS + 300).is_ok());
        assert!(check(SPEC_TS - 300).is_ok());
        assert_eq!(
            check(SPEC_TS + 301).unwrap_err().code(),
            "hook.timestamp_too_old"
        );
        assert_eq!(
            check(SPEC_TS - 301).unwrap_err().code(),
            "hook.timestamp_too_new"
        );
    }

    #[test]
    fn any_one_secret_of_a_rotation_verifies_and_v1a_works() {
        let old = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let ed = format!("whsk_{}", STANDARD.encode([5u8; 32]));
        let secrets = SigningSecrets::parse(&format!("{SPEC_SECRET} {old} {ed}")).unwrap();
        let id = MessageId::from_random(&[1; 16]);
        let headers = sign(&secrets, &id, Timestamp(100), b"{}");
        let entries: Vec<&str> = headers.webhook_signature.split(' ').collect();
        assert_eq!(entries.len(), 3);
        assert!(entries[0].starts_with("v1,") && entries[2].starts_with("v1a,"));
        let public = secrets.public_keys().remove(0);
        for receiver in [SPEC_SECRET, old, public.as_str()] {
            let verifying = VerifyingSecrets::parse(receiver).unwrap();
            verify(
                &verifying,
                &headers,
                b"{}",
                Timestamp(100),
                DEFAULT_TOLERANCE,
            )
            .unwrap();
        }
        let stranger = VerifyingSecrets::parse("whsec_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB").unwrap();
        let err = verify(
            &stranger,
            &headers,
            b"{}",
            Timestamp(100),
            DEFAULT_TOLERANCE,
        )
        .unwrap_err();
        assert_eq!(err.code(), "hook.signature_mismatch");
    }

    #[test]
    fn malformed_headers_are_refused_with_codes() {
        let verifying = VerifyingSecrets::parse(SPEC_SECRET).unwrap();
        let good = WebhookHeaders {
            webhook_id: SPEC_ID.into(),
            webhook_timestamp: SPEC_TS.to_string(),
            webhook_signature: SPEC_SIGNATURE.into(),
        };
        let check = |h: &WebhookHeaders| {
            verify(
                &verifying,
                h,
                SPEC_PAYLOAD,
                Timestamp(SPEC_TS),
                DEFAULT_TOLERANCE,
            )
            .err()
            .map(|e| e.code())
        };
        assert_eq!(check(&good), None);
        let with = |f: &dyn Fn(&mut WebhookHeaders)| {
            let mut h = good.clone();
            f(&mut h);
            check(&h)
        };
        assert_eq!(
            with(&|h| h.webhook_id = "msg.1".into()),
            Some("hook.message_id_invalid")
        );
        assert_eq!(
            with(&|h| h.webhook_timestamp = "+1614265330".into()),
            Some("hook.timestamp_invalid")
        );
        assert_eq!(
            with(&|h| h.webhook_timestamp = String::new()),
            Some("hook.timestamp_invalid")
        );
        assert_eq!(
            with(&|h| h.webhook_timestamp = "99999999999999999999".into()),
            Some("hook.timestamp_invalid")
        );
        assert_eq!(
            with(&|h| h.webhook_signature = "v2,abc".into()),
            Some("hook.signature_mismatch")
        );
        assert_eq!(
            with(&|h| h.webhook_signature = "garbage".into()),
            Some("hook.signature_mismatch")
        );
        // An unknown version before a good one does not hide it.
        assert_eq!(
            with(&|h| h.webhook_signature = format!("v9,xyz {SPEC_SIGNATURE}")),
            None
        );
        // A v1 signature sent as v1a is not accepted.
        assert_eq!(
            with(&|h| h.webhook_signature = SPEC_SIGNATURE.replace("v1,", "v1a,")),
            Some("hook.signature_mismatch")
        );
        // A changed payload fails.
        assert_eq!(
            verify(
                &verifying,
                &good,
                br#"{"test": 2432232315}"#,
                Timestamp(SPEC_TS),
                DEFAULT_TOLERANCE
            )
            .unwrap_err()
            .code(),
            "hook.signature_mismatch"
        );
    }
}
