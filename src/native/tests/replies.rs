//! Every flow reply's native status and body.

use crate::flow::attributes::{AttributeSpec, AttributeType};
use crate::flow::password::PasswordProblem;
use crate::flow::{BlockReason, Channel, MfaMethod, RegistrationMethod, Rejection, Reply};
use crate::native::{Meta, reply_response};
use crate::pii::Pii;
use crate::time::Timestamp;
use serde_json::{Value, json};

fn meta() -> Meta {
    Meta {
        now: Timestamp(1_800_000_000),
        trace_id: "t".into(),
        correlation_id: "c".into(),
    }
}

#[test]
fn every_reply_maps_to_its_status_and_body() {
    let m = meta();
    let code_sent = |target: Option<&str>| Reply::CodeSent {
        channel: Channel::Sms,
        target_label: "+1*******67".into(),
        target: target.map(|t| Pii::new(t.to_string())),
        code_length: 6,
        interval: 60,
        expires_in: 600,
    };
    let spec = AttributeSpec {
        name: "city".into(),
        data_type: AttributeType::String,
        required: true,
        regex: Some("^a".into()),
        options: vec![],
        label: None,
    };
    let rej = |r: Rejection| Reply::Rejected { rejection: r };
    // (reply, status, key, expected value of key)
    let cases: Vec<(Reply, u16, &str, Value)> = vec![
        (Reply::Started, 200, "continuation_token", json!("CT")),
        (
            Reply::PasswordRequired,
            200,
            "challenge_type",
            json!("password"),
        ),
        (
            Reply::Preverified,
            200,
            "challenge_type",
            json!("preverified"),
        ),
        (
            code_sent(None),
            200,
            "challenge_target_label",
            json!("+1*******67"),
        ),
        (
            code_sent(Some("+15551234567")),
            200,
            "challenge_target",
            json!("+15551234567"),
        ),
        (
            Reply::Verified {
                expires_in: Some(600),
            },
            200,
            "expires_in",
            json!(600),
        ),
        (
            Reply::ResetSubmitted { poll_interval: 2 },
            200,
            "poll_interval",
            json!(2),
        ),
        (Reply::ResetCompleted, 200, "status", json!("succeeded")),
        (
            Reply::MfaMethods {
                methods: vec![MfaMethod {
                    id: "m1".into(),
                    channel: Channel::Email,
                    login_hint: "a***@e***.com".into(),
                }],
            },
            200,
            "methods",
            json!([{"id": "m1", "challenge_type": "oob", "challenge_channel": "email", "login_hint": "a***@e***.com"}]),
        ),
        (
            Reply::RegistrationMethods {
                methods: vec![RegistrationMethod {
                    id: "sms".into(),
                    channel: Channel::Sms,
                    login_hint: None,
                }],
            },
            200,
            "methods",
            json!([{"id": "sms", "challenge_type": "oob", "challenge_channel": "sms"}]),
        ),
        (
            Reply::Redirect {
                reason: "why".into(),
            },
            200,
            "redirect_reason",
            json!("why"),
        ),
        (
            Reply::CredentialRequired,
            400,
            "error_codes",
            json!([55103]),
        ),
        (
            Reply::AttributesRequired {
                attributes: vec![spec],
            },
            400,
            "required_attributes",
            json!([{"name": "city", "type": "string", "required": true, "options": {"regex": "^a"}}]),
        ),
        (
            Reply::MfaRequired { methods: vec![] },
            400,
            "suberror",
            json!("mfa_required"),
        ),
        (
            Reply::RegistrationRequired { methods: vec![] },
            400,
            "suberror",
            json!("registration_required"),
        ),
        (
            Reply::PasswordChangeRequired,
            400,
            "error_codes",
            json!([50142]),
        ),
        (
            Reply::ReauthenticationRequired,
            400,
            "error",
            json!("insufficient_user_authentication"),
        ),
        (
            Reply::Blocked {
                reason: BlockReason::Policy,
                policy_ids: vec![],
            },
            400,
            "error_codes",
            json!([53003]),
        ),
        (
            Reply::Blocked {
                reason: BlockReason::NoUsableSecondFactor,
                policy_ids: vec![],
            },
            400,
            "error_codes",
            json!([53004]),
        ),
        (
            rej(Rejection::UnauthorizedClient),
            400,
            "error",
            json!("unauthorized_client"),
        ),
        (
            rej(Rejection::UserNotFound),
            400,
            "error",
            json!("user_not_found"),
        ),
        (
            rej(Rejection::UserAlreadyExists),
            400,
            "error_codes",
            json!([1003037]),
        ),
        (
            rej(Rejection::InvalidPassword),
            400,
            "error_codes",
            json!([50126]),
        ),
        (
            rej(Rejection::PasswordRefused {
                problem: PasswordProblem::PasswordBanned,
            }),
            400,
            "suberror",
            json!("password_banned"),
        ),
        (
            rej(Rejection::InvalidCode { attempts_left: 2 }),
            400,
            "suberror",
            json!("invalid_oob_value"),
        ),
        (
            rej(Rejection::CodeExpired),
            400,
            "suberror",
            json!("invalid_oob_value"),
        ),
        (
            rej(Rejection::ResendTooSoon { retry_after: 30 }),
            400,
            "retry_after",
            json!(30),
        ),
        (
            rej(Rejection::TooManyCodes),
            400,
            "error",
            json!("slow_down"),
        ),
        (
            rej(Rejection::AccountLocked { until: None }),
            400,
            "error_codes",
            json!([50053]),
        ),
        (
            rej(Rejection::AttributeValidationFailed {
                attributes: vec!["city".into()],
            }),
            400,
            "suberror",
            json!("attribute_validation_failed"),
        ),
        (
            rej(Rejection::InvalidTarget),
            400,
            "error_codes",
            json!([901001]),
        ),
        (
            rej(Rejection::ChannelNotAllowed),
            400,
            "suberror",
            json!("provider_blocked_by_admin"),
        ),
        (
            rej(Rejection::FlowExpired),
            400,
            "error",
            json!("expired_token"),
        ),
    ];
    for (reply, status, key, value) in cases {
        let r = reply_response(&reply, Some("CT"), None, &m);
        assert_eq!(r.status, status, "{reply:?} -> {}", r.body);
        // The flow's own account of the mapping says what the wire says.
        assert_eq!(reply.native().status, r.status, "{reply:?}");
        assert_eq!(reply.native().error, r.body["error"].as_str(), "{reply:?}");
        assert_eq!(r.body[key], value, "{reply:?} -> {}", r.body);
        if status == 400 {
            assert!(r.body["error_description"].is_string(), "{}", r.body);
            assert_eq!(r.body["correlation_id"], "c");
        }
    }
    // The redirect never carries a token; a sign-in without tokens is a server fault.
    let r = reply_response(
        &Reply::Redirect { reason: "x".into() },
        Some("CT"),
        None,
        &m,
    );
    assert!(r.body.get("continuation_token").is_none());
    let signed_in = Reply::SignedIn {
        user_id: "u".into(),
        amr: vec![],
        acr: "1".into(),
    };
    assert_eq!(reply_response(&signed_in, None, None, &m).status, 500);
    assert_eq!(
        reply_response(&signed_in, None, Some(&json!({"a": 1})), &m).body,
        json!({"a": 1})
    );
    let r = reply_response(
        &rej(Rejection::AttributeValidationFailed {
            attributes: vec!["city".into()],
        }),
        None,
        None,
        &m,
    );
    assert_eq!(r.body["invalid_attributes"][0]["name"], "city");
}
