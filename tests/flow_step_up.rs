//! Step-up and method changes for a signed-in user: an authentication context (the
//! seeds' wire transfer) or a lapsed sign-in frequency asks only for what is missing,
//! and changing a strong method needs a second factor first.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] fns: a panic here is a failed test"
)]

mod common;

use common::*;
use serde_json::json;
use vestibule::flow::{
    BlockReason, Channel, LocalAccount, MethodChange, MfaEnforcement, Reply, Session,
};
use vestibule::policy::{AuthMethod, SatisfiedMethod};
use vestibule::time::Timestamp;

/// The wire-transfer context `c1` needs password + SMS (the built-in multifactor
/// strength); a plain sign-in needs nothing more than the password.
fn bank_policies() -> vestibule::policy::PolicySet {
    policies(json!([
        {"id": "c1-transfers", "displayName": "Transfers need MFA", "state": "enabled",
         "conditions": {"users": {"includeUsers": ["All"]},
                        "applications": {"includeAuthenticationContextClassReferences": ["c1"]},
                        "clientAppTypes": ["all"]},
         "grantControls": {"operator": "OR", "authenticationStrength": {"id": "00000000-0000-0000-0000-000000000002"}}},
        {"id": "sif-4h", "displayName": "Sign in again every 4 hours", "state": "enabled",
         "conditions": {"users": {"includeGroups": ["g-4h"]}, "applications": {"includeApplications": ["All"]},
                        "clientAppTypes": ["all"]},
         "sessionControls": {"signInFrequency": {"isEnabled": true, "type": "hours", "value": 4,
             "authenticationType": "primaryAndSecondaryAuthentication", "frequencyInterval": "timeBased"}}}
    ]))
}

fn bank() -> Harness {
    Harness::new(config(
        LocalAccount::EmailPassword,
        MfaEnforcement::Conditional,
    ))
    .with_policy(bank_policies())
}

/// Signed in with the password only; the transfer asks for SMS alone, not the password.
#[test]
fn wire_transfer_asks_only_for_the_missing_second_factor() {
    let mut h = bank();
    let id = h.add_password_user("lia@example.com", "Correct-Horse-42");
    h.add_method(&id, Channel::Sms, "+15550007777");
    h.add_method(&id, Channel::Email, "lia.backup@example.net");
    assert_signed_in(
        &h.sign_in_with_password("lia@example.com", "Correct-Horse-42"),
        &["pwd"],
    );
    let session = h.session();

    h.advance(600);
    let Reply::MfaRequired { methods } = h.start_step_up(session, &["c1"]) else {
        panic!()
    };
    assert_eq!(
        methods.iter().map(|m| m.channel).collect::<Vec<_>>(),
        [Channel::Sms],
        "email does not meet the strength"
    );
    let done = h.complete_mfa_with(Channel::Sms, "+15550007777");
    assert_signed_in(&done, &["pwd", "sms", "mfa"]);
    let grant = h.tokens.last().unwrap();
    assert_eq!(grant.acrs, ["c1"]);
    assert_eq!(
        grant.auth_time,
        Timestamp(h.now),
        "the latest method performed"
    );
    assert_eq!(
        h.codes_sent_to("lia@example.com"),
        0,
        "no first factor again"
    );
}

/// A session that already holds password + SMS gets the context at once.
#[test]
fn step_up_with_a_sufficient_session_needs_nothing() {
    let mut h = bank();
    let id = h.add_password_user("max@example.com", "Correct-Horse-42");
    let now = h.now;
    let session = Session {
        user_id: id,
        methods: vec![
            SatisfiedMethod {
                method: AuthMethod::Password,
                at: Timestamp(now - 60),
            },
            SatisfiedMethod {
                method: AuthMethod::Sms,
                at: Timestamp(now - 50),
            },
        ],
        signed_in_at: None,
    };
    assert_signed_in(&h.start_step_up(session, &["c1"]), &["pwd", "sms", "mfa"]);
    assert!(h.outbox.is_empty());
}

/// Past the sign-in frequency, the session no longer counts: the first factor is
/// asked again, and only then the rest.
#[test]
fn lapsed_sign_in_frequency_asks_for_the_first_factor_again() {
    let mut h = bank();
    let id = h.add_password_user("ned@example.com", "Correct-Horse-42");
    h.users.get_mut(&id).unwrap().groups.push("g-4h".into());
    assert_signed_in(
        &h.sign_in_with_password("ned@example.com", "Correct-Horse-42"),
        &["pwd"],
    );
    let session = h.session();
    h.advance(5 * 3600);
    let reply = h.start_step_up(session, &[]);
    assert_eq!(reply, Reply::ReauthenticationRequired);
    assert_eq!(
        reply.native().error,
        Some("insufficient_user_authentication")
    );
    assert_eq!(h.challenge(), Reply::PasswordRequired);
    assert_signed_in(&h.password("Correct-Horse-42"), &["pwd"]);
    assert_eq!(h.tokens.last().unwrap().auth_time, Timestamp(h.now));
}

/// A step-up that needs SMS from a user without a phone registers one just in time.
#[test]
fn step_up_registers_a_phone_when_none_exists() {
    let mut h = bank();
    h.add_password_user("ola@example.com", "Correct-Horse-42");
    h.sign_in_with_password("ola@example.com", "Correct-Horse-42");
    let session = h.session();
    let Reply::RegistrationRequired { methods } = h.start_step_up(session, &["c1"]) else {
        panic!()
    };
    assert_eq!(
        methods.iter().map(|m| m.channel).collect::<Vec<_>>(),
        [Channel::Sms]
    );
    h.register(Channel::Sms, "+15550008888");
    let code = h.last_code("+15550008888");
    h.code(&code);
    let done = h.redeem();
    assert_signed_in(&done, &["pwd", "sms", "mfa"]);
    assert_eq!(h.tokens.last().unwrap().acrs, ["c1"]);
}

/// Replacing a phone needs a fresh second factor on an existing method first, even
/// though the session is signed in; the new number is then verified and replaces it.
#[test]
fn changing_a_phone_requires_mfa_first() {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Off));
    let id = h.add_password_user("pia@example.com", "Correct-Horse-42");
    let old = h.add_method(&id, Channel::Sms, "+15550009999");
    h.sign_in_with_password("pia@example.com", "Correct-Horse-42");
    let session = h.session();

    let reply = h.start_method_change(
        session,
        MethodChange::Replace {
            method_id: old.clone(),
        },
    );
    assert!(matches!(reply, Reply::MfaRequired { .. }), "{reply:?}");
    assert!(
        h.complete_mfa_with(Channel::Sms, "+15550009999")
            .eq(&Reply::RegistrationMethods {
                methods: vec![vestibule::flow::RegistrationMethod {
                    id: "sms".into(),
                    channel: Channel::Sms,
                    login_hint: None
                }]
            })
    );
    h.register(Channel::Sms, "+15551110000");
    let code = h.last_code("+15551110000");
    let Reply::MethodChanged { method_id } = h.code(&code) else {
        panic!()
    };
    let methods = &h.users[&id].strong_methods;
    assert_eq!(methods.len(), 1);
    assert_eq!(methods[0].id, method_id);
    assert_ne!(method_id, old);
    assert_eq!(methods[0].target.expose(), "+15551110000");
    assert_eq!(h.tokens.len(), 1, "a method change issues no tokens");
}

/// Removing a method also needs the second factor; cancelling leaves it in place.
#[test]
fn removing_a_method_without_mfa_is_impossible() {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Off));
    let id = h.add_password_user("quin@example.com", "Correct-Horse-42");
    let phone = h.add_method(&id, Channel::Sms, "+15552220000");
    h.sign_in_with_password("quin@example.com", "Correct-Horse-42");
    let session = h.session();
    assert!(matches!(
        h.start_method_change(
            session.clone(),
            MethodChange::Remove {
                method_id: phone.clone()
            }
        ),
        Reply::MfaRequired { .. }
    ));
    assert_eq!(h.cancel(), Reply::Cancelled);
    assert_eq!(h.users[&id].strong_methods.len(), 1);

    h.start_method_change(
        session,
        MethodChange::Remove {
            method_id: phone.clone(),
        },
    );
    assert_eq!(
        h.complete_mfa_with(Channel::Sms, "+15552220000"),
        Reply::MethodChanged { method_id: phone }
    );
    assert!(h.users[&id].strong_methods.is_empty());
}

/// An email-OTP account may not add an email method (it could never be its MFA).
#[test]
fn an_otp_account_cannot_add_an_email_method() {
    let mut h = Harness::new(config(LocalAccount::EmailOtp, MfaEnforcement::Off));
    h.add_otp_user("rae@example.com");
    h.sign_in_with_email_code("rae@example.com");
    let session = h.session();
    let reply = h.start_method_change(
        session,
        MethodChange::Add {
            channel: Channel::Email,
        },
    );
    assert_eq!(rejection_code(&reply), "channel_not_allowed");
}

/// A step-up whose requirement no method can meet is blocked, not granted.
#[test]
fn an_unmeetable_step_up_is_blocked() {
    let strict = policies(json!([{
        "id": "c2-phishing-resistant", "displayName": "FIDO2 only", "state": "enabled",
        "conditions": {"users": {"includeUsers": ["All"]},
                       "applications": {"includeAuthenticationContextClassReferences": ["c2"]},
                       "clientAppTypes": ["all"]},
        "grantControls": {"operator": "OR", "authenticationStrength": {"id": "00000000-0000-0000-0000-000000000004"}}
    }]));
    let mut h = Harness::new(config(
        LocalAccount::EmailPassword,
        MfaEnforcement::Conditional,
    ))
    .with_policy(strict);
    let id = h.add_password_user("sam@example.com", "Correct-Horse-42");
    h.add_method(&id, Channel::Sms, "+15553330000");
    h.sign_in_with_password("sam@example.com", "Correct-Horse-42");
    let session = h.session();
    let reply = h.start_step_up(session, &["c2"]);
    assert!(
        matches!(
            reply,
            Reply::Blocked {
                reason: BlockReason::Policy | BlockReason::Unsatisfiable,
                ..
            }
        ),
        "{reply:?}"
    );
    assert_eq!(h.tokens.len(), 1);
}

/// A session outlives nothing an administrator does: once the account is disabled, a
/// step-up (the hosted pages resume single sign-on this way) and a method change are
/// refused, though the session needs no new factor.
#[test]
fn a_disabled_account_cannot_continue_its_session() {
    let mut h = bank();
    let id = h.add_password_user("ada@example.com", "Correct-Horse-42");
    h.add_method(&id, Channel::Sms, "+15550008888");
    assert_signed_in(
        &h.sign_in_with_password("ada@example.com", "Correct-Horse-42"),
        &["pwd"],
    );
    let session = h.session();
    h.users.get_mut(&id).unwrap().lockout.disabled = true;
    let tokens_before = h.tokens.len();
    let reply = h.start_step_up(session.clone(), &[]);
    assert_eq!(rejection_code(&reply), "account_locked", "{reply:?}");
    let reply = h.start_method_change(
        session,
        MethodChange::Add {
            channel: Channel::Email,
        },
    );
    assert_eq!(rejection_code(&reply), "account_locked", "{reply:?}");
    assert_eq!(
        h.tokens.len(),
        tokens_before,
        "no tokens for a disabled account"
    );
}

#[test]
fn a_session_from_before_a_password_change_must_sign_in_again() {
    let mut h = bank();
    let id = h.add_password_user("bea@example.com", "Correct-Horse-42");
    h.add_method(&id, Channel::Sms, "+15550007777");
    assert_signed_in(
        &h.sign_in_with_password("bea@example.com", "Correct-Horse-42"),
        &["pwd"],
    );
    let session = h.session();
    // A session of this same moment still steps up on what it proved.
    assert_ne!(
        h.start_step_up(session.clone(), &[]),
        Reply::ReauthenticationRequired
    );
    h.advance(60);
    let now = h.now;
    h.users.get_mut(&id).unwrap().password_changed_at = Some(vestibule::time::Timestamp(now));
    assert_eq!(
        h.start_step_up(session, &[]),
        Reply::ReauthenticationRequired
    );
}
