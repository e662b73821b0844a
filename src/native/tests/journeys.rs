//! Whole native-auth journeys as MSAL sends them, through the in-memory server.

use super::server::{APP, Server, mfa_for_all};
use crate::native::Endpoint::*;
use crate::native::NativeResponse;
use crate::token::{Validation, verify};
use serde_json::Value;

pub(super) const TYPES: &str = "password oob redirect";
pub(super) const CAPS: &str = "mfa_required registration_required";
pub(super) const PASSWORD: &str = "Correct-Horse-Battery-9";

pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair("client_id", APP);
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

pub(super) fn ct(r: &NativeResponse) -> String {
    let t = r.body["continuation_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {}", r.body));
    assert!(t.starts_with("vct_") && t.len() == 47, "{t}");
    t.to_string()
}

fn ok(r: &NativeResponse) {
    assert_eq!(r.status, 200, "{}", r.body);
}

fn err(r: &NativeResponse, error: &str, suberror: Option<&str>, code: Option<u64>) {
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"], error, "{}", r.body);
    assert_eq!(r.body["suberror"].as_str(), suberror, "{}", r.body);
    if let Some(code) = code {
        assert_eq!(r.body["error_codes"][0], code, "{}", r.body);
    }
    for field in [
        "error_description",
        "timestamp",
        "trace_id",
        "correlation_id",
    ] {
        assert!(r.body[field].is_string(), "{field}: {}", r.body);
    }
}

/// Signs up `email` with a password and returns the token for the auto sign-in.
/// A signed-up account: the continuation token after its email code.
pub(super) fn sign_up(s: &mut Server, email: &str) -> String {
    let r = s.post(
        SignUpStart,
        &form(&[
            ("username", email),
            ("challenge_type", TYPES),
            ("capabilities", CAPS),
            ("password", PASSWORD),
        ]),
    );
    ok(&r);
    assert_eq!(
        r.body.as_object().unwrap().len(),
        1,
        "only the token: {}",
        r.body
    );
    let r = s.post(
        SignUpChallenge,
        &form(&[("continuation_token", &ct(&r)), ("challenge_type", TYPES)]),
    );
    ok(&r);
    assert_eq!(r.body["challenge_type"], "oob");
    assert_eq!(r.body["binding_method"], "prompt");
    assert_eq!(r.body["challenge_channel"], "email");
    assert_eq!(r.body["code_length"], 8);
    assert_ne!(r.body["challenge_target_label"], email);
    let code = s.code_for(email);
    assert_eq!(code.len(), 8);
    let r = s.post(
        SignUpContinue,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("grant_type", "oob"),
            ("oob", &code),
        ]),
    );
    ok(&r);
    ct(&r)
}

fn tokens(s: &Server, r: &NativeResponse) -> Value {
    ok(r);
    let b = &r.body;
    assert_eq!(b["token_type"], "Bearer");
    assert!(b["expires_in"].as_u64().unwrap() > 0);
    assert!(b["refresh_token"].as_str().unwrap().starts_with("vrt_"));
    assert!(b["client_info"].is_string());
    assert!(b.get("continuation_token").is_none());
    let id = b["id_token"].as_str().unwrap();
    let v = Validation::new("https://id.example/contoso/v2.0", APP);
    let claims = verify(s.keyring(), id, &v, crate::time::Timestamp(s.now)).unwrap();
    serde_json::to_value(claims).unwrap()
}

#[test]
fn sign_up_then_sms_registration_then_tokens() {
    let mut s = Server::new(Some(mfa_for_all()));
    let email = "new.user@example.com";
    let t = sign_up(&mut s, email);
    let r = s.post(
        Token,
        &form(&[
            ("continuation_token", &t),
            ("grant_type", "continuation_token"),
            ("username", email),
            ("scope", "openid profile offline_access"),
            ("client_info", "1"),
        ]),
    );
    err(
        &r,
        "invalid_grant",
        Some("registration_required"),
        Some(50076),
    );
    let r = s.post(
        RegisterIntrospect,
        &form(&[("continuation_token", &ct(&r))]),
    );
    ok(&r);
    let methods = r.body["methods"].as_array().unwrap();
    assert_eq!(methods.len(), 2);
    assert_eq!(methods[0]["id"], "email");
    assert_eq!(methods[0]["login_hint"], email);
    assert_eq!(methods[1]["challenge_channel"], "sms");
    assert!(methods[1].get("login_hint").is_none());
    let phone = "+15551234567";
    let r = s.post(
        RegisterChallenge,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("challenge_type", "oob"),
            ("challenge_target", phone),
            ("challenge_channel", "sms"),
        ]),
    );
    ok(&r);
    assert_eq!(r.body["challenge_target"], phone);
    assert_eq!(r.body["challenge_channel"], "sms");
    let t = ct(&r);
    // A wrong code keeps the token the client holds; the right one then works with it.
    let r = s.post(
        RegisterContinue,
        &form(&[
            ("continuation_token", &t),
            ("grant_type", "oob"),
            ("oob", "00000000"),
        ]),
    );
    err(&r, "invalid_grant", Some("invalid_oob_value"), None);
    assert!(r.body.get("continuation_token").is_none());
    let code = s.code_for(phone);
    let r = s.post(
        RegisterContinue,
        &form(&[
            ("continuation_token", &t),
            ("grant_type", "oob"),
            ("oob", &code),
        ]),
    );
    ok(&r);
    let done = ct(&r);
    let r = s.post(
        Token,
        &form(&[
            ("continuation_token", &done),
            ("grant_type", "continuation_token"),
            ("scope", "openid offline_access"),
        ]),
    );
    let claims = tokens(&s, &r);
    assert_eq!(r.body["scope"], "openid offline_access");
    assert_eq!(claims["tid"], "contoso");
    assert_eq!(claims["preferred_username"], email);
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "sms", "mfa"]));
    // Every token is single use: the redeemed one is gone, as is the one before it.
    for used in [&done, &t] {
        let r = s.post(
            Token,
            &form(&[
                ("continuation_token", used),
                ("grant_type", "continuation_token"),
            ]),
        );
        err(&r, "invalid_grant", None, Some(55200));
    }
    assert!(s.flows.is_empty(), "the finished flow left no state");
}

#[test]
fn password_sign_in_with_email_mfa_after_preverified_registration() {
    let mut s = Server::new(Some(mfa_for_all()));
    let email = "alice@example.com";
    let t = sign_up(&mut s, email);
    let r = s.post(
        Token,
        &form(&[
            ("continuation_token", &t),
            ("grant_type", "continuation_token"),
            ("username", email),
        ]),
    );
    err(&r, "invalid_grant", Some("registration_required"), None);
    let sent = s.outbox.len();
    let r = s.post(
        RegisterChallenge,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("challenge_type", "oob"),
            ("challenge_target", email),
            ("challenge_channel", "email"),
        ]),
    );
    ok(&r);
    assert_eq!(r.body["challenge_type"], "preverified");
    assert_eq!(
        s.outbox.len(),
        sent,
        "no second code for the email proven at sign-up"
    );
    let r = s.post(
        RegisterContinue,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("grant_type", "continuation_token"),
        ]),
    );
    ok(&r);
    let r = s.post(
        Token,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("grant_type", "continuation_token"),
        ]),
    );
    tokens(&s, &r);

    // Now a sign-in: password, then the email code as second factor.
    let r = s.post(
        Initiate,
        &form(&[
            ("username", "Alice@Example.com"),
            ("challenge_type", TYPES),
            ("capabilities", CAPS),
        ]),
    );
    ok(&r);
    let r = s.post(
        Challenge,
        &form(&[("continuation_token", &ct(&r)), ("challenge_type", TYPES)]),
    );
    ok(&r);
    assert_eq!(r.body["challenge_type"], "password");
    let t = ct(&r);
    let r = s.post(
        Token,
        &form(&[
            ("continuation_token", &t),
            ("grant_type", "password"),
            ("password", "wrong-password-1"),
        ]),
    );
    err(&r, "invalid_grant", None, Some(50126));
    let r = s.post(
        Token,
        &form(&[
            ("continuation_token", &t),
            ("grant_type", "mfa_oob"),
            ("oob", "12345678"),
        ]),
    );
    err(&r, "invalid_request", None, None);
    let r = s.post(
        Token,
        &form(&[
            ("continuation_token", &t),
            ("grant_type", "password"),
            ("password", PASSWORD),
        ]),
    );
    err(&r, "invalid_grant", Some("mfa_required"), Some(50076));
    let r = s.post(Introspect, &form(&[("continuation_token", &ct(&r))]));
    ok(&r);
    let method = r.body["methods"][0].clone();
    assert_eq!(method["challenge_channel"], "email");
    assert_eq!(method["challenge_type"], "oob");
    let r = s.post(
        Challenge,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("challenge_type", TYPES),
            ("id", method["id"].as_str().unwrap()),
        ]),
    );
    ok(&r);
    assert_eq!(r.body["challenge_type"], "oob");
    let code = s.code_for(email);
    let r = s.post(
        Token,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("grant_type", "mfa_oob"),
            ("oob", &code),
        ]),
    );
    let claims = tokens(&s, &r);
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
}

#[test]
fn without_capabilities_mfa_becomes_a_redirect() {
    let mut s = Server::new(None);
    let t = sign_up(&mut s, "bob@example.com");
    let r = s.post(
        Token,
        &form(&[
            ("continuation_token", &t),
            ("grant_type", "continuation_token"),
        ]),
    );
    tokens(&s, &r);
    s.policy = Some(mfa_for_all());
    let r = s.post(
        Initiate,
        &form(&[("username", "bob@example.com"), ("challenge_type", TYPES)]),
    );
    let r = s.post(
        Challenge,
        &form(&[("continuation_token", &ct(&r)), ("challenge_type", TYPES)]),
    );
    let r = s.post(
        Token,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("grant_type", "password"),
            ("password", PASSWORD),
        ]),
    );
    ok(&r);
    assert_eq!(r.body["challenge_type"], "redirect");
    assert!(
        r.body["redirect_reason"]
            .as_str()
            .unwrap()
            .contains("registration_required")
    );
    assert!(r.body.get("continuation_token").is_none());
}

/// Signs `email` up and runs a password reset up to the verified code: the continuation
/// token that `/resetpassword/v1.0/submit` takes.
fn verified_reset(s: &mut Server, email: &str) -> String {
    let t = sign_up(s, email);
    s.post(
        Token,
        &form(&[
            ("continuation_token", &t),
            ("grant_type", "continuation_token"),
        ]),
    );
    let r = s.post(
        ResetStart,
        &form(&[("username", email), ("challenge_type", "oob redirect")]),
    );
    ok(&r);
    let r = s.post(
        ResetChallenge,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("challenge_type", "oob redirect"),
        ]),
    );
    ok(&r);
    assert_eq!(r.body["challenge_channel"], "email");
    let code = s.code_for(email);
    let r = s.post(
        ResetContinue,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("grant_type", "oob"),
            ("oob", &code),
        ]),
    );
    ok(&r);
    assert_eq!(r.body["expires_in"], 600);
    ct(&r)
}

#[test]
fn password_reset_then_sign_in() {
    let mut s = Server::new(None);
    let email = "carol@example.com";
    let t = verified_reset(&mut s, email);
    let r = s.post(
        ResetSubmit,
        &form(&[("continuation_token", &t), ("new_password", "short")]),
    );
    err(&r, "invalid_grant", Some("password_too_short"), None);
    // A refused password keeps the client's token.
    let r = s.post(
        ResetSubmit,
        &form(&[
            ("continuation_token", &t),
            ("new_password", "Brand-New-Passphrase-7"),
        ]),
    );
    ok(&r);
    assert_eq!(r.body["poll_interval"], 2);
    let r = s.post(
        ResetPollCompletion,
        &form(&[("continuation_token", &ct(&r))]),
    );
    ok(&r);
    assert_eq!(r.body["status"], "succeeded");
    let r = s.post(
        Token,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("grant_type", "continuation_token"),
            ("username", email),
        ]),
    );
    let claims = tokens(&s, &r);
    assert_eq!(
        claims["amr"],
        serde_json::json!(["otp"]),
        "a reset proves the mailbox, not the password"
    );
}

/// Past the reset window, the token from `/resetpassword/v1.0/continue` is expired at every
/// endpoint, not only at `submit` (Entra: `expired_token` 552003).
#[test]
fn an_expired_reset_token_is_expired_everywhere() {
    let mut s = Server::new(None);
    let email = "rita@example.com";
    let t = verified_reset(&mut s, email);
    // Within the window the wrong endpoint is the wrong step.
    let r = s.post(
        ResetChallenge,
        &form(&[
            ("continuation_token", &t),
            ("challenge_type", "oob redirect"),
        ]),
    );
    err(&r, "invalid_request", None, Some(55200));
    s.now += 600;
    let r = s.post(
        ResetChallenge,
        &form(&[
            ("continuation_token", &t),
            ("challenge_type", "oob redirect"),
        ]),
    );
    err(&r, "expired_token", None, Some(552003));
}

#[test]
fn tokens_are_bound_to_flow_client_and_time() {
    let mut s = Server::new(None);
    let r = s.post(
        SignUpStart,
        &form(&[("username", "dan@example.com"), ("challenge_type", TYPES)]),
    );
    let t = ct(&r);
    // A sign-up token cannot drive a password reset.
    let r = s.post(
        ResetChallenge,
        &form(&[("continuation_token", &t), ("challenge_type", TYPES)]),
    );
    err(&r, "invalid_request", None, Some(55200));
    // Another client may not use it.
    let other = form(&[("continuation_token", &t), ("challenge_type", TYPES)]).replacen(
        APP,
        "other-app",
        1,
    );
    err(
        &s.post(SignUpChallenge, &other),
        "invalid_grant",
        None,
        Some(55200),
    );
    // The refusals left it usable.
    ok(&s.post(
        SignUpChallenge,
        &form(&[("continuation_token", &t), ("challenge_type", TYPES)]),
    ));
    // Past the flow lifetime it is expired.
    let r = s.post(
        Initiate,
        &form(&[
            ("username", "nobody@example.com"),
            ("challenge_type", TYPES),
        ]),
    );
    err(&r, "user_not_found", None, None);
    let t = sign_up(&mut s, "erin@example.com");
    s.now += 1801;
    let r = s.post(
        Token,
        &form(&[
            ("continuation_token", &t),
            ("grant_type", "continuation_token"),
        ]),
    );
    err(&r, "expired_token", None, Some(552003));
    let r = s.post(
        Initiate,
        &form(&[("username", "erin@example.com"), ("challenge_type", TYPES)]).replacen(
            APP,
            "unknown-app",
            1,
        ),
    );
    err(&r, "unauthorized_client", None, Some(700016));
}
