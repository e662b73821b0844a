//! Review (rvnative, session 5): requests as the reference documents them, where they
//! differ from what MSAL browser sends.

use super::journeys::{CAPS, PASSWORD, TYPES, ct, form, sign_up};
use super::server::{Server, mfa_for_all};
use crate::native::Endpoint::*;

/// A signed-up account with the sign-up email registered as its MFA method, and a
/// sign-in that reached `/oauth2/v2.0/introspect`: the token and the method id.
pub(super) fn at_mfa_method_choice(s: &mut Server, email: &str) -> (String, String) {
    let signed_up = sign_up(s, email);
    let r = s.post(
        Token,
        &form(&[
            ("continuation_token", &signed_up),
            ("grant_type", "continuation_token"),
        ]),
    );
    assert_eq!(r.body["suberror"], "registration_required", "{}", r.body);
    let r = s.post(
        RegisterChallenge,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("challenge_type", "oob"),
            ("challenge_target", email),
            ("challenge_channel", "email"),
        ]),
    );
    let r = s.post(
        RegisterContinue,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("grant_type", "continuation_token"),
        ]),
    );
    let r = s.post(
        Token,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("grant_type", "continuation_token"),
        ]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = s.post(
        Initiate,
        &form(&[
            ("username", email),
            ("challenge_type", TYPES),
            ("capabilities", CAPS),
        ]),
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
    assert_eq!(r.body["suberror"], "mfa_required", "{}", r.body);
    let r = s.post(Introspect, &form(&[("continuation_token", &ct(&r))]));
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["methods"][0]["id"].as_str().unwrap().to_string();
    (ct(&r), id)
}

/// Reference §2.2(b): the MFA challenge is `client_id`, `continuation_token` and `id`;
/// `challenge_type` is something MSAL browser adds, not part of the documented request.
#[test]
fn mfa_challenge_as_documented_needs_no_challenge_type() {
    let mut s = Server::new(Some(mfa_for_all()));
    let email = "doc-client@example.com";
    let (t, id) = at_mfa_method_choice(&mut s, email);
    let sent = s.outbox.len();
    let r = s.post(Challenge, &form(&[("continuation_token", &t), ("id", &id)]));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["challenge_type"], "oob", "{}", r.body);
    assert_eq!(s.outbox.len(), sent + 1, "the MFA code was sent");
    // When a challenge_type is sent with the id, the redirect rule still holds.
    let r = s.post(
        Challenge,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("id", &id),
            ("challenge_type", "oob"),
        ]),
    );
    assert_eq!(r.body["error_codes"][0], 901_007, "{}", r.body);
}

/// Reference §2.3: `registration_required` is for a user who "has no registered strong
/// authentication method". A user whose only method is a second mailbox (B) must not be
/// offered the registration of a new method after a password reset proven through the
/// account mailbox (A): whoever reads A would add their own phone and be signed in
/// without ever proving B.
#[test]
fn a_reset_does_not_open_registration_to_a_user_with_a_method() {
    let mut s = Server::new(Some(mfa_for_all()));
    let email = "victim@example.com";
    let second = "victim.mfa@example.org";
    // Sign-up, then registration of the second mailbox as the strong method.
    let signed_up = sign_up(&mut s, email);
    let r = s.post(
        Token,
        &form(&[
            ("continuation_token", &signed_up),
            ("grant_type", "continuation_token"),
        ]),
    );
    assert_eq!(r.body["suberror"], "registration_required", "{}", r.body);
    let r = s.post(
        RegisterChallenge,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("challenge_type", "oob"),
            ("challenge_target", second),
            ("challenge_channel", "email"),
        ]),
    );
    assert_eq!(r.body["challenge_type"], "oob", "{}", r.body);
    let code = s.code_for(second);
    let r = s.post(
        RegisterContinue,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("grant_type", "oob"),
            ("oob", &code),
        ]),
    );
    let r = s.post(
        Token,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("grant_type", "continuation_token"),
        ]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let user = s.users.values().next().unwrap().clone();
    assert_eq!(user.strong_methods.len(), 1, "one registered method: B");

    // Someone who reads mailbox A (only): a password reset, then the automatic sign-in.
    let r = s.post(
        ResetStart,
        &form(&[
            ("username", email),
            ("challenge_type", "oob redirect"),
            ("capabilities", CAPS),
        ]),
    );
    let r = s.post(
        ResetChallenge,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("challenge_type", "oob redirect"),
        ]),
    );
    let code = s.code_for(email);
    let r = s.post(
        ResetContinue,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("grant_type", "oob"),
            ("oob", &code),
        ]),
    );
    let r = s.post(
        ResetSubmit,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("new_password", "Attacker-Chosen-Passphrase-1"),
        ]),
    );
    let r = s.post(
        ResetPollCompletion,
        &form(&[("continuation_token", &ct(&r))]),
    );
    let r = s.post(
        Token,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("grant_type", "continuation_token"),
        ]),
    );
    let offered = r.body["suberror"] == "registration_required";
    if offered {
        // Show where it leads: the reader of A registers a phone and gets tokens.
        let phone = "+15551230000";
        let r = s.post(
            RegisterChallenge,
            &form(&[
                ("continuation_token", &ct(&r)),
                ("challenge_type", "oob"),
                ("challenge_target", phone),
                ("challenge_channel", "sms"),
            ]),
        );
        let code = s.code_for(phone);
        let r = s.post(
            RegisterContinue,
            &form(&[
                ("continuation_token", &ct(&r)),
                ("grant_type", "oob"),
                ("oob", &code),
            ]),
        );
        let r = s.post(
            Token,
            &form(&[
                ("continuation_token", &ct(&r)),
                ("grant_type", "continuation_token"),
            ]),
        );
        eprintln!(
            "after the reset: registration_required; phone registered; /token -> {} with tokens: {}",
            r.status,
            r.body["access_token"].is_string()
        );
    }
    assert!(
        !offered,
        "registration_required offered to a user who has a registered method"
    );
}

/// Reference §1 and §4: a client declares the challenges it can show, and the reset is an
/// email code; a client without `oob` should get the web fallback (as sign-up does), not a
/// code it cannot ask for.
#[test]
fn a_reset_for_a_client_without_oob_is_a_redirect() {
    let mut s = Server::new(None);
    let email = "no-oob@example.com";
    let r = s.post(
        SignUpStart,
        &form(&[
            ("username", email),
            ("challenge_type", "oob password redirect"),
            ("password", PASSWORD),
        ]),
    );
    let r = s.post(
        SignUpChallenge,
        &form(&[("continuation_token", &ct(&r)), ("challenge_type", TYPES)]),
    );
    let code = s.code_for(email);
    s.post(
        SignUpContinue,
        &form(&[
            ("continuation_token", &ct(&r)),
            ("grant_type", "oob"),
            ("oob", &code),
        ]),
    );
    let sent = s.outbox.len();
    let r = s.post(
        ResetStart,
        &form(&[("username", email), ("challenge_type", "password redirect")]),
    );
    let r = if r.body["challenge_type"] == "redirect" {
        r
    } else {
        s.post(
            ResetChallenge,
            &form(&[
                ("continuation_token", &ct(&r)),
                ("challenge_type", "password redirect"),
            ]),
        )
    };
    eprintln!(
        "reset without oob -> {} {}",
        r.status, r.body["challenge_type"]
    );
    assert_eq!(r.body["challenge_type"], "redirect", "{}", r.body);
    assert_eq!(
        s.outbox.len(),
        sent,
        "no code for a client that cannot take one"
    );
}

/// An account disabled (Graph `accountEnabled: false`) while its owner holds a finished
/// flow's continuation token: the token endpoint must not issue tokens to it (Entra
/// AADSTS50057). Every other step refuses a disabled account; the redemption did not look.
#[test]
fn a_disabled_account_gets_no_tokens_from_a_continuation() {
    let mut s = Server::new(None);
    let email = "disabled-later@example.com";
    let done = sign_up(&mut s, email);
    // The administrator disables the account (what PATCH accountEnabled=false writes).
    for user in s.users.values_mut() {
        user.lockout.disabled = true;
    }
    let r = s.post(
        Token,
        &form(&[
            ("continuation_token", &done),
            ("grant_type", "continuation_token"),
        ]),
    );
    eprintln!(
        "disabled account, continuation grant -> {} tokens: {}",
        r.status,
        r.body["access_token"].is_string()
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"], "invalid_grant", "{}", r.body);
    assert_eq!(r.body["error_codes"][0], 50053, "{}", r.body);
    assert!(s.grants.is_empty(), "no tokens were issued");
    assert!(s.flows.is_empty(), "the flow ended");
}
