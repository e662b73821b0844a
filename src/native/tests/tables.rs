//! Tables: bad inputs per endpoint, flow errors, token bodies.

use super::journeys::form;
use super::server::{APP, Server};
use crate::flow::{FlowError, Rejection, Reply};
use crate::native::Endpoint::{self, *};
use crate::native::tokens::{self, IssuedTokens, RefreshSession, TokenSettings};
use crate::native::{Disposition, disposition, flow_error};
use crate::pii::Pii;
use crate::policy::{AuthMethod, SatisfiedMethod};
use crate::time::Timestamp;
use serde_json::json;

const FORGED: &str = "vct_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

#[test]
fn bad_inputs_are_400_json_with_the_reference_error() {
    let raw = |s: &str| s.to_string();
    let ok_start = |extra: &[(&str, &str)]| {
        let mut p = vec![
            ("username", "a@example.com"),
            ("challenge_type", "password oob redirect"),
        ];
        p.extend_from_slice(extra);
        form(&p)
    };
    let cases: Vec<(Endpoint, String, &str, Option<u64>)> = vec![
        (Initiate, raw(""), "invalid_request", Some(900_144)),
        (
            Initiate,
            raw("client_id=a%20b&username=a@example.com"),
            "unauthorized_client",
            None,
        ),
        (
            Initiate,
            raw("client_id=x&client_id=y"),
            "invalid_request",
            None,
        ),
        (
            Initiate,
            form(&[("challenge_type", "password redirect")]),
            "invalid_request",
            Some(90_100),
        ),
        (
            Initiate,
            form(&[
                ("username", "not-an-email"),
                ("challenge_type", "password redirect"),
            ]),
            "invalid_request",
            Some(90_100),
        ),
        (
            Initiate,
            form(&[("username", "a@example.com")]),
            "invalid_request",
            Some(901_007),
        ),
        (
            Initiate,
            form(&[
                ("username", "a@example.com"),
                ("challenge_type", "password oob"),
            ]),
            "invalid_request",
            Some(901_007),
        ),
        (
            Initiate,
            form(&[
                ("username", "a@example.com"),
                ("challenge_type", "otp redirect"),
            ]),
            "unsupported_challenge_type",
            None,
        ),
        (
            SignUpStart,
            ok_start(&[("attributes", "not json")]),
            "invalid_request",
            None,
        ),
        (
            SignUpStart,
            ok_start(&[("attributes", "[1]")]),
            "invalid_request",
            None,
        ),
        (
            SignUpStart,
            form(&[("username", "a@example.com"), ("challenge_type", "oob")]),
            "invalid_request",
            Some(901_007),
        ),
        (
            ResetStart,
            form(&[("username", "a@example.com")]),
            "invalid_request",
            Some(901_007),
        ),
        (
            Challenge,
            form(&[("challenge_type", "password redirect")]),
            "invalid_request",
            Some(900_144),
        ),
        (
            Challenge,
            form(&[
                ("continuation_token", "abc"),
                ("challenge_type", "password redirect"),
            ]),
            "invalid_grant",
            Some(55_200),
        ),
        (
            Challenge,
            form(&[
                ("continuation_token", FORGED),
                ("challenge_type", "password redirect"),
            ]),
            "invalid_grant",
            Some(55_200),
        ),
        (
            Challenge,
            form(&[
                ("continuation_token", FORGED),
                ("challenge_type", "password"),
            ]),
            "invalid_request",
            Some(901_007),
        ),
        (
            Challenge,
            form(&[
                ("continuation_token", FORGED),
                ("id", "m1"),
                ("challenge_type", "oob"),
            ]),
            "invalid_request",
            Some(901_007),
        ),
        (
            SignUpChallenge,
            form(&[("continuation_token", FORGED)]),
            "invalid_request",
            Some(901_007),
        ),
        (
            Token,
            form(&[("continuation_token", FORGED)]),
            "invalid_request",
            Some(900_144),
        ),
        (
            Token,
            form(&[
                ("continuation_token", FORGED),
                ("grant_type", "client_credentials"),
            ]),
            "unsupported_grant_type",
            None,
        ),
        (
            Token,
            form(&[("grant_type", "client_credentials")]),
            "unsupported_grant_type",
            None,
        ),
        (
            Token,
            form(&[("grant_type", "AUTHORIZATION_CODE"), ("code", "x")]),
            "unsupported_grant_type",
            None,
        ),
        (
            Token,
            form(&[("continuation_token", FORGED), ("grant_type", "password")]),
            "invalid_request",
            Some(900_144),
        ),
        (
            Token,
            form(&[("continuation_token", FORGED), ("grant_type", "mfa_oob")]),
            "invalid_request",
            Some(900_144),
        ),
        (
            Token,
            form(&[("grant_type", "refresh_token")]),
            "invalid_request",
            Some(900_144),
        ),
        (
            Token,
            form(&[("grant_type", "password"), ("password", "x")]),
            "invalid_request",
            Some(900_144),
        ),
        (
            SignUpContinue,
            form(&[("continuation_token", FORGED), ("grant_type", "attributes")]),
            "invalid_request",
            Some(900_144),
        ),
        (
            SignUpContinue,
            form(&[
                ("continuation_token", FORGED),
                ("grant_type", "mfa_oob"),
                ("oob", "1"),
            ]),
            "unsupported_grant_type",
            None,
        ),
        (
            ResetContinue,
            form(&[
                ("continuation_token", FORGED),
                ("grant_type", "password"),
                ("password", "x"),
            ]),
            "unsupported_grant_type",
            None,
        ),
        (
            ResetSubmit,
            form(&[("continuation_token", FORGED)]),
            "invalid_request",
            Some(900_144),
        ),
        (
            RegisterChallenge,
            form(&[("continuation_token", FORGED), ("challenge_type", "oob")]),
            "invalid_request",
            Some(900_144),
        ),
        (
            RegisterChallenge,
            form(&[
                ("continuation_token", FORGED),
                ("challenge_target", "+15551234567"),
                ("challenge_channel", "voice"),
            ]),
            "invalid_request",
            Some(901_001),
        ),
        (
            RegisterChallenge,
            form(&[
                ("continuation_token", FORGED),
                ("challenge_target", "+15551234567"),
                ("challenge_type", "password"),
            ]),
            "unsupported_challenge_type",
            None,
        ),
        (
            RegisterContinue,
            form(&[("continuation_token", FORGED), ("grant_type", "password")]),
            "unsupported_grant_type",
            None,
        ),
        (
            RegisterContinue,
            form(&[
                ("continuation_token", FORGED),
                ("grant_type", "oob"),
                ("oob", "1"),
            ]),
            "invalid_grant",
            Some(55_200),
        ),
    ];
    let mut s = Server::new(None);
    for (endpoint, body, error, code) in cases {
        let r = s.post(endpoint, &body);
        let ctx = format!("{} {body} -> {}", endpoint.path(), r.body);
        assert_eq!(r.status, 400, "{ctx}");
        assert_eq!(r.body["error"], error, "{ctx}");
        if let Some(code) = code {
            assert_eq!(r.body["error_codes"], json!([code]), "{ctx}");
        }
        assert_eq!(r.body["correlation_id"], "corr-1", "{ctx}");
        assert_eq!(r.body["trace_id"], "trace-1", "{ctx}");
        assert!(
            r.body["timestamp"].as_str().unwrap().ends_with('Z'),
            "{ctx}"
        );
        assert!(r.body.get("continuation_token").is_none(), "{ctx}");
    }
    // Unknown parameters are ignored.
    let r = s.post(
        Initiate,
        &form(&[
            ("username", "a@example.com"),
            ("challenge_type", "password redirect"),
            ("x-client-SKU", "msal"),
            ("client_info", "1"),
        ]),
    );
    assert_eq!(r.body["error"], "user_not_found");
    assert_eq!(APP, "vestibule-demo-app");
}

#[test]
fn flow_errors_map_to_protocol_errors_or_server_faults() {
    let cases = [
        (
            FlowError::UnexpectedInput {
                step: "a",
                input: "b",
            },
            400,
            "invalid_request",
        ),
        (
            FlowError::InvalidInput {
                field: "input.email".into(),
                reason: "x".into(),
            },
            400,
            "invalid_request",
        ),
        (FlowError::UserRequired, 400, "invalid_grant"),
        (FlowError::UserMismatch, 400, "invalid_grant"),
        (FlowError::EntropyExhausted, 500, "server_error"),
        (FlowError::KeyTooShort, 500, "server_error"),
        (FlowError::CorruptPasswordHash, 500, "server_error"),
    ];
    for (e, status, error) in cases {
        let n = flow_error(&e);
        assert_eq!((n.status, n.error), (status, error), "{e:?}");
    }
    let n = flow_error(&FlowError::InvalidInput {
        field: "input.email".into(),
        reason: "x".into(),
    });
    assert_eq!(n.error_codes, vec![90_100]);
}

#[test]
fn dispositions_follow_the_rotation_rule() {
    assert_eq!(disposition(None, &Reply::Started), Disposition::End);
    assert_eq!(
        disposition(
            None,
            &Reply::Rejected {
                rejection: Rejection::FlowExpired
            }
        ),
        Disposition::End
    );
}

#[test]
fn token_bodies_have_what_msal_requires() {
    let grant = crate::flow::TokenGrant {
        user_id: "u-1".into(),
        app_id: APP.into(),
        email: Pii::new("a@example.com".into()),
        display_name: Some(Pii::new("A".into())),
        amr: vec!["pwd".into(), "sms".into(), "mfa".into()],
        acr: "2".into(),
        acrs: vec![],
        auth_time: Timestamp(2_000),
        methods: vec![
            SatisfiedMethod {
                method: AuthMethod::Password,
                at: Timestamp(1_000),
            },
            SatisfiedMethod {
                method: AuthMethod::Sms,
                at: Timestamp(2_000),
            },
        ],
    };
    let s = TokenSettings::new(tokens::issuer("https://id.example/", "contoso"), "contoso");
    assert_eq!(s.issuer, "https://id.example/contoso/v2.0");
    let now = Timestamp(1_500);
    let id = tokens::id_token_claims(&grant, &s, now);
    assert_eq!(id.auth_time, Some(now), "auth_time is never after iat");
    assert_eq!(
        (id.oid.as_deref(), id.tid.as_deref(), id.aud.as_str()),
        (Some("u-1"), Some("contoso"), APP)
    );
    let amr = serde_json::to_value(&id.amr).unwrap();
    assert_eq!(amr, json!(["pwd", "sms", "mfa"]));
    let at = tokens::access_token_claims(&grant, "openid", &s, now, "j");
    assert_eq!(at.scp.as_deref(), Some("openid"));
    let body = tokens::token_response(
        &IssuedTokens {
            access_token: "a",
            id_token: "i",
            refresh_token: "r",
        },
        &grant,
        "openid",
        &s,
        10,
    );
    for k in [
        "access_token",
        "id_token",
        "refresh_token",
        "client_info",
        "scope",
    ] {
        assert!(body[k].is_string(), "{k}");
    }
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(
        body["client_info"],
        crate::token::client_info("u-1", "contoso")
    );
    let session = RefreshSession::new(&grant, "openid", &s, now);
    assert_eq!(session.expires_at, Timestamp(1_500 + 86_400));
    assert_eq!(
        session.grant(grant.email.clone(), None).methods,
        grant.methods
    );
    assert_eq!(
        session.ttl(Timestamp(1_500 + 86_399)),
        60,
        "KV needs at least 60 s"
    );
}
