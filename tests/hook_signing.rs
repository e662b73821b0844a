//! Delivery hooks through the public API: the official Standard Webhooks test vector, a
//! sealed code delivery checked as a receiver would, and property tests that any change
//! to the payload or headers fails and no input panics the verifier.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] fns: a panic here is a failed test"
)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use vestibule::hook::{
    self, CodeDelivery, CodeDeliveryType, DEFAULT_TOLERANCE, DeliveryPurpose, MessageId,
    SigningSecrets, VerifyingSecrets, WebhookHeaders,
};
use vestibule::pii::{Pii, Secret};
use vestibule::time::{Seconds, Timestamp};

/// The test vector of the Standard Webhooks reference libraries.
const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SPEC_TS: u64 = 1614265330;
const SPEC_PAYLOAD: &[u8] = br#"{"test": 2432232314}"#;
const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

fn rotation() -> SigningSecrets {
    let ed = format!("whsk_{}", STANDARD.encode([11u8; 32]));
    SigningSecrets::parse(&format!("{SPEC_SECRET} {ed}")).unwrap()
}

#[test]
fn the_standard_webhooks_vector_signs_and_verifies() {
    let secrets = SigningSecrets::parse(SPEC_SECRET).unwrap();
    let headers = hook::sign(
        &secrets,
        &MessageId::parse(SPEC_ID).unwrap(),
        Timestamp(SPEC_TS),
        SPEC_PAYLOAD,
    );
    assert_eq!(headers.webhook_signature, SPEC_SIGNATURE);
    // And the vector's own headers verify, as a receiver would check them.
    let received = WebhookHeaders {
        webhook_id: SPEC_ID.into(),
        webhook_timestamp: SPEC_TS.to_string(),
        webhook_signature: SPEC_SIGNATURE.into(),
    };
    let receiver = VerifyingSecrets::parse(SPEC_SECRET).unwrap();
    hook::verify(
        &receiver,
        &received,
        SPEC_PAYLOAD,
        Timestamp(SPEC_TS + 299),
        DEFAULT_TOLERANCE,
    )
    .unwrap();
    let stale = hook::verify(
        &receiver,
        &received,
        SPEC_PAYLOAD,
        Timestamp(SPEC_TS + 301),
        DEFAULT_TOLERANCE,
    );
    assert_eq!(stale.unwrap_err().code(), "hook.timestamp_too_old");
}

#[test]
fn a_sealed_code_delivery_verifies_for_each_receiver_secret_and_retries_keep_the_id() {
    let secrets = rotation();
    let payload = CodeDelivery {
        kind: CodeDeliveryType::Email,
        tenant: "contoso".into(),
        app_id: "shop".into(),
        to: Pii::new("alice@example.com".into()),
        code: Secret::new("048213".into()),
        purpose: DeliveryPurpose::SignIn,
        expires_at: Timestamp(1_800_000_600),
        locale: Some("en-US".into()),
        correlation_id: None,
    };
    let id = MessageId::from_random(&[8u8; 16]);
    let first = hook::seal(&secrets, &id, Timestamp(1_800_000_000), &payload);
    let retry = hook::seal(&secrets, &id, Timestamp(1_800_000_002), &payload);
    assert_eq!(first.headers.webhook_id, retry.headers.webhook_id);
    assert_ne!(
        first.headers.webhook_signature,
        retry.headers.webhook_signature
    );
    assert_eq!(first.body.expose(), retry.body.expose());

    let body: serde_json::Value = serde_json::from_slice(first.body.expose()).unwrap();
    assert_eq!(
        body["type"],
        "microsoft.graph.authenticationEvent.emailOtpSend"
    );
    assert_eq!(body["data"]["otpContext"]["oneTimeCode"], "048213");

    for receiver in [SPEC_SECRET.to_string(), secrets.public_keys().remove(0)] {
        let receiver = VerifyingSecrets::parse(&receiver).unwrap();
        hook::verify(
            &receiver,
            &first.headers,
            first.body.expose(),
            Timestamp(1_800_000_001),
            DEFAULT_TOLERANCE,
        )
        .unwrap();
    }
    // The headers of one attempt do not verify the body under another attempt's timestamp.
    let mut mixed = retry.headers.clone();
    mixed.webhook_timestamp = first.headers.webhook_timestamp.clone();
    let err = hook::verify(
        &secrets.verifying(),
        &mixed,
        first.body.expose(),
        Timestamp(1_800_000_001),
        DEFAULT_TOLERANCE,
    );
    assert_eq!(err.unwrap_err().code(), "hook.signature_mismatch");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_signed_payload_verifies(
        payload in proptest::collection::vec(any::<u8>(), 0..512),
        random in any::<[u8; 16]>(),
        ts in 0u64..10_000_000_000,
        skew in 0u64..=300,
        late in any::<bool>(),
    ) {
        let secrets = rotation();
        let headers = hook::sign(&secrets, &MessageId::from_random(&random), Timestamp(ts), &payload);
        let now = if late { ts + skew } else { ts.saturating_sub(skew) };
        prop_assert!(hook::verify(&secrets.verifying(), &headers, &payload, Timestamp(now), DEFAULT_TOLERANCE).is_ok());
    }

    #[test]
    fn any_change_to_the_payload_fails(
        payload in proptest::collection::vec(any::<u8>(), 1..512),
        index in any::<usize>(),
        flip in 1u8..=255,
        receiver_uses_ed25519 in any::<bool>(),
    ) {
        let secrets = rotation();
        let headers = hook::sign(&secrets, &MessageId::from_random(&[1; 16]), Timestamp(1000), &payload);
        let mut changed = payload.clone();
        let i = index % changed.len();
        changed[i] ^= flip;
        let receiver = if receiver_uses_ed25519 {
            VerifyingSecrets::parse(&secrets.public_keys().remove(0)).unwrap()
        } else {
            VerifyingSecrets::parse(SPEC_SECRET).unwrap()
        };
        let err = hook::verify(&receiver, &headers, &changed, Timestamp(1000), DEFAULT_TOLERANCE).unwrap_err();
        prop_assert_eq!(err.code(), "hook.signature_mismatch");
    }

    #[test]
    fn any_change_to_a_header_fails(
        payload in proptest::collection::vec(any::<u8>(), 0..64),
        which in 0usize..3,
        index in any::<usize>(),
        replacement in proptest::char::range('!', '~'),
    ) {
        let secrets = SigningSecrets::parse(SPEC_SECRET).unwrap();
        let headers = hook::sign(&secrets, &MessageId::from_random(&[2; 16]), Timestamp(1_000_000), &payload);
        let mut changed = headers.clone();
        let field = match which {
            0 => &mut changed.webhook_id,
            1 => &mut changed.webhook_timestamp,
            _ => &mut changed.webhook_signature,
        };
        let mut chars: Vec<char> = field.chars().collect();
        let i = index % chars.len();
        prop_assume!(chars[i] != replacement);
        chars[i] = replacement;
        *field = chars.into_iter().collect();
        prop_assert!(hook::verify(&secrets.verifying(), &changed, &payload, Timestamp(1_000_000), DEFAULT_TOLERANCE).is_err());
    }

    #[test]
    fn arbitrary_headers_never_panic_the_verifier(
        id in "\\PC{0,40}",
        ts in "\\PC{0,25}",
        signature in "\\PC{0,300}",
        payload in proptest::collection::vec(any::<u8>(), 0..64),
        now in any::<u64>(),
        tolerance in any::<u64>(),
    ) {
        let headers = WebhookHeaders { webhook_id: id, webhook_timestamp: ts, webhook_signature: signature };
        let _ = hook::verify(&rotation().verifying(), &headers, &payload, Timestamp(now), Seconds(tolerance));
    }

    #[test]
    fn well_formed_but_forged_signatures_fail(
        v1 in any::<[u8; 32]>(),
        v1a in proptest::collection::vec(any::<u8>(), 64),
        payload in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let headers = WebhookHeaders {
            webhook_id: "msg_x".into(),
            webhook_timestamp: "1000".into(),
            webhook_signature: format!("v1,{} v1a,{}", STANDARD.encode(v1), STANDARD.encode(v1a)),
        };
        let err = hook::verify(&rotation().verifying(), &headers, &payload, Timestamp(1000), DEFAULT_TOLERANCE).unwrap_err();
        prop_assert_eq!(err.code(), "hook.signature_mismatch");
    }

    #[test]
    fn arbitrary_secret_lists_never_panic_the_parser(list in "\\PC{0,200}") {
        let _ = SigningSecrets::parse(&list);
        let _ = VerifyingSecrets::parse(&list);
    }
}
