//! Wire review (session 8): the reference walked endpoint by endpoint; each test holds
//! the translation to one rule it found broken (`tests/e2e/rv_wire_review.test.mjs`
//! drives the same requests through the Worker).

use super::journeys::{PASSWORD, TYPES, ct, form};
use super::review::at_mfa_method_choice;
use super::server::{Server, mfa_for_all};
use crate::native::Endpoint::*;
use crate::native::NativeResponse;

fn redirect(r: &NativeResponse) {
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["challenge_type"], "redirect", "{}", r.body);
    assert!(r.body["redirect_reason"].is_string(), "{}", r.body);
    assert!(r.body.get("continuation_token").is_none(), "{}", r.body);
}

/// Starts a sign-up with `types` and no password, and enters the emailed code: the
/// `credential_required` answer.
fn at_credential_required(s: &mut Server, email: &str, types: &str) -> NativeResponse {
    let r = s.post(
        SignUpStart,
        &form(&[("username", email), ("challenge_type", types)]),
    );
    let r = s.post(
        SignUpChallenge,
        &form(&[("continuation_token", &ct(&r)), ("challenge_type", types)]),
    );
    assert_eq!(r.body["challenge_type"], "oob", "{}", r.body);
    let code = s.code_for(email);
    let r = s.post(
        SignUpContinue,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("grant_type", "oob"),
            ("oob", &code),
        ]),
    );
    assert_eq!(r.body["error"], "credential_required", "{}", r.body);
    r
}

/// §1 and §3.3: `challenge_type: password` goes only to a client that listed it.
#[test]
fn a_sign_up_password_prompt_goes_only_to_a_client_that_lists_password() {
    let mut s = Server::new(None);
    let r = at_credential_required(&mut s, "oob-only@example.com", "oob redirect");
    let token = ct(&r);
    let r = s.post(
        SignUpChallenge,
        &form(&[
            ("continuation_token", &token),
            ("challenge_type", "oob redirect"),
        ]),
    );
    redirect(&r);
    // The flow ended with the redirect.
    let r = s.post(
        SignUpContinue,
        &form(&[
            ("continuation_token", &token),
            ("grant_type", "password"),
            ("password", PASSWORD),
        ]),
    );
    assert_eq!(r.body["error"], "invalid_grant", "{}", r.body);

    let r = at_credential_required(&mut s, "with-password@example.com", TYPES);
    let r = s.post(
        SignUpChallenge,
        &form(&[("continuation_token", &ct(&r)), ("challenge_type", TYPES)]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["challenge_type"], "password", "{}", r.body);
    ct(&r);
}

/// §3.2: the sign-up code is an `oob` challenge; a list without `oob` gets the redirect
/// and no code is sent.
#[test]
fn a_sign_up_challenge_without_oob_is_a_redirect_and_sends_nothing() {
    let mut s = Server::new(None);
    let r = s.post(
        SignUpStart,
        &form(&[
            ("username", "no-oob@example.com"),
            ("challenge_type", TYPES),
            ("password", PASSWORD),
        ]),
    );
    let sent = s.outbox.len();
    let r = s.post(
        SignUpChallenge,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("challenge_type", "password redirect"),
        ]),
    );
    redirect(&r);
    assert_eq!(
        s.outbox.len(),
        sent,
        "no code for a client that cannot enter it"
    );
    // No account exists: the redirect is an audit line, not a sign-in log record.
    let last = s.audits.last().unwrap();
    assert_eq!(last.event, "flow.redirect");
    assert!(
        last.sign_in.is_none(),
        "a sign-up without an account signs no one in"
    );
}

/// §2.2 and §12: a second-factor challenge without `id` is `invalid_request` /
/// `introspect_required` with the client's token, and the flow stays where it was.
#[test]
fn an_mfa_challenge_without_id_is_introspect_required() {
    let mut s = Server::new(Some(mfa_for_all()));
    let (token, id) = at_mfa_method_choice(&mut s, "no-id@example.com");
    let sent = s.outbox.len();
    let r = s.post(
        Challenge,
        &form(&[("continuation_token", &token), ("challenge_type", TYPES)]),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"], "invalid_request", "{}", r.body);
    assert_eq!(r.body["suberror"], "introspect_required", "{}", r.body);
    assert_eq!(r.body["sub_error"], "introspect_required", "{}", r.body);
    // MSAL Android calls introspect with the token of this body: the one it sent.
    assert_eq!(r.body["continuation_token"], token.as_str(), "{}", r.body);
    assert_eq!(s.outbox.len(), sent, "nothing was sent");
    let r = s.post(
        Challenge,
        &form(&[("continuation_token", &token), ("id", &id)]),
    );
    assert_eq!(r.body["challenge_type"], "oob", "{}", r.body);
    let at_code = ct(&r);
    let r = s.post(
        Challenge,
        &form(&[("continuation_token", &at_code), ("challenge_type", TYPES)]),
    );
    assert_eq!(r.body["suberror"], "introspect_required", "{}", r.body);
    let code = s.code_for("no-id@example.com");
    let r = s.post(
        Token,
        &form(&[
            ("continuation_token", &at_code),
            ("grant_type", "mfa_oob"),
            ("oob", &code),
        ]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}
