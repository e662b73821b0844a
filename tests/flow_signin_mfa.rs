//! Sign-in journeys with a second factor: password + email OTP, email OTP + SMS, the
//! documented rule that an email-OTP first factor can't be the second factor, just-in-
//! time registration that a user cancels, and Conditional Access deciding.
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
    BlockReason, Capabilities, Channel, FlowInput, LocalAccount, MfaEnforcement, Reply, StartSignIn,
};
use vestibule::pii::Pii;

/// Password sign-in with email OTP MFA: initiate, challenge, password → mfa_required,
/// introspect, challenge(id), mfa_oob → tokens with pwd + otp.
#[test]
fn password_sign_in_then_email_code_as_second_factor() {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Always));
    let id = h.add_password_user("ann@example.com", "Correct-Horse-42");
    h.add_method(&id, Channel::Email, "ann.backup@example.net");

    let reply = h.sign_in_with_password("ann@example.com", "Correct-Horse-42");
    let Reply::MfaRequired { methods } = &reply else {
        panic!("{reply:?}")
    };
    assert_eq!(reply.native().suberror, Some("mfa_required"));
    assert_eq!(methods.len(), 1);
    assert!(h.tokens.is_empty());
    let done = h.complete_mfa_with(Channel::Email, "ann.backup@example.net");
    assert_signed_in(&done, &["pwd", "otp", "mfa"]);
    let grant = h.tokens.last().unwrap();
    assert_eq!(grant.acr, "2");
    assert_eq!(grant.user_id, id);
    assert!(h.state.is_none(), "the flow is over");
}

/// A start with an empty or blank app id is refused: Conditional Access would see a
/// sign-in to no application, to which no All-resources policy applies.
#[test]
fn a_start_without_an_app_id_is_refused_before_anything_happens() {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Always));
    h.add_password_user("ann@example.com", "Correct-Horse-42");
    for app_id in ["", "  "] {
        let e = h
            .try_send(FlowInput::StartSignIn(StartSignIn {
                app_id: app_id.into(),
                email: Pii::new("ann@example.com".into()),
                capabilities: Capabilities::default(),
                challenge_types: Default::default(),
                facts: Default::default(),
                auth_contexts: vec![],
            }))
            .unwrap_err();
        assert_eq!(e.code(), "flow.invalid_input");
        assert_eq!(e.target(), Some("input.appId"));
        assert!(h.state.is_none() && h.audit.is_empty());
    }
}

/// A wrong MFA code is refused, counted, and the right one still works.
#[test]
fn a_wrong_second_factor_code_is_refused_and_counted() {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Always));
    let id = h.add_password_user("ben@example.com", "Correct-Horse-42");
    let phone = h.add_method(&id, Channel::Sms, "+15550001111");
    h.sign_in_with_password("ben@example.com", "Correct-Horse-42");
    h.select(&phone);
    let reply = h.code("00000000");
    assert_eq!(
        reply,
        Reply::Rejected {
            rejection: vestibule::flow::Rejection::InvalidCode { attempts_left: 4 }
        }
    );
    assert_eq!(h.users[&id].lockout.consecutive_failures, 1);
    let code = h.last_code("+15550001111");
    assert_signed_in(&h.code(&code), &["pwd", "sms", "mfa"]);
    assert_eq!(
        h.users[&id].lockout.consecutive_failures, 0,
        "a complete sign-in clears the count"
    );
}

/// OTP first factor, SMS second: the user's registered email is never offered.
#[test]
fn otp_first_factor_user_gets_sms_and_never_email_as_second_factor() {
    let mut h = Harness::new(config(LocalAccount::EmailOtp, MfaEnforcement::Always));
    let id = h.add_otp_user("cai@example.com");
    h.add_method(&id, Channel::Email, "cai@example.com");
    h.add_method(&id, Channel::Sms, "+15550002222");
    let Reply::MfaRequired { methods } = h.sign_in_with_email_code("cai@example.com") else {
        panic!()
    };
    assert_eq!(
        methods.iter().map(|m| m.channel).collect::<Vec<_>>(),
        [Channel::Sms]
    );
    let email_method = h.users[&id].strong_methods[0].id.clone();
    assert_eq!(rejection_code(&h.select(&email_method)), "method_not_found");
    let done = h.complete_mfa_with(Channel::Sms, "+15550002222");
    assert_signed_in(&done, &["otp", "sms", "mfa"]);
}

/// The open point: an OTP-first-factor user, MFA required, SMS disabled by the methods
/// policy. Email can't be the second factor, nothing can be registered: the answer
/// says so (blocked), and MFA is never skipped.
#[test]
fn otp_first_factor_user_is_blocked_when_sms_is_disabled() {
    let mut c = config(LocalAccount::EmailOtp, MfaEnforcement::Always);
    disable(&mut c, "Sms");
    let mut h = Harness::new(c);
    let id = h.add_otp_user("dan@example.com");
    h.add_method(&id, Channel::Sms, "+15550003333");
    let reply = h.sign_in_with_email_code("dan@example.com");
    assert_eq!(
        reply,
        Reply::Blocked {
            reason: BlockReason::NoUsableSecondFactor,
            policy_ids: vec![]
        }
    );
    assert_eq!(reply.native().error, Some("access_denied"));
    assert!(h.tokens.is_empty());
    assert!(h.state.is_none());
}

/// B2C: "Even if the customer cancels or drops out, the customer can be asked to verify
/// a phone number again during the next sign-in."
#[test]
fn cancelled_registration_is_asked_again_at_the_next_sign_in() {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Always));
    h.add_password_user("eli@example.com", "Correct-Horse-42");
    let reply = h.sign_in_with_password("eli@example.com", "Correct-Horse-42");
    assert!(matches!(reply, Reply::RegistrationRequired { .. }));
    assert_eq!(reply.native().suberror, Some("registration_required"));
    h.register(Channel::Sms, "+15550004444");
    assert_eq!(h.cancel(), Reply::Cancelled);
    assert!(h.tokens.is_empty());
    assert!(h.user("eli@example.com").strong_methods.is_empty());

    let reply = h.sign_in_with_password("eli@example.com", "Correct-Horse-42");
    assert!(
        matches!(reply, Reply::RegistrationRequired { .. }),
        "asked again"
    );
    h.register(Channel::Sms, "+15550004444");
    let code = h.last_code("+15550004444");
    h.code(&code);
    assert_signed_in(&h.redeem(), &["pwd", "sms", "mfa"]);
}

/// Wrong password and unknown user map to their native errors.
#[test]
fn wrong_password_and_unknown_user_are_refused() {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Off));
    h.add_password_user("fin@example.com", "Correct-Horse-42");
    let reply = h.sign_in_with_password("fin@example.com", "Wrong-Horse-42");
    assert_eq!(rejection_code(&reply), "invalid_password");
    assert_eq!(reply.native().error_codes, [50126]);
    assert_signed_in(&h.password("Correct-Horse-42"), &["pwd"]);

    let reply = h.start_sign_in("nobody@example.com");
    assert_eq!(reply.native().error, Some("user_not_found"));
    assert!(h.state.is_none());
}

/// A client without `mfa_required` gets the web fallback, never tokens.
#[test]
fn a_client_without_mfa_capability_is_redirected() {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Always));
    let id = h.add_password_user("gia@example.com", "Correct-Horse-42");
    h.add_method(&id, Channel::Sms, "+15550005555");
    h.send(FlowInput::StartSignIn(StartSignIn {
        app_id: APP.into(),
        email: Pii::new("gia@example.com".into()),
        capabilities: Capabilities {
            mfa_required: false,
            registration_required: false,
        },
        challenge_types: Default::default(),
        facts: Default::default(),
        auth_contexts: vec![],
    }));
    h.challenge();
    let reply = h.password("Correct-Horse-42");
    assert!(matches!(reply, Reply::Redirect { .. }));
    assert_eq!(reply.native().challenge_type, Some("redirect"));
    assert!(h.tokens.is_empty());
}

fn mfa_for_bank_app() -> vestibule::policy::PolicySet {
    policies(json!([{
        "id": "mfa-bank", "displayName": "MFA for the bank app", "state": "enabled",
        "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": [APP]},
                       "clientAppTypes": ["all"]},
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}
    }]))
}

/// Conditional: the Conditional Access engine decides; a policy on the app requires MFA.
#[test]
fn conditional_mfa_follows_conditional_access() {
    let mut h = Harness::new(config(
        LocalAccount::EmailPassword,
        MfaEnforcement::Conditional,
    ))
    .with_policy(mfa_for_bank_app());
    let id = h.add_password_user("hu@example.com", "Correct-Horse-42");
    h.add_method(&id, Channel::Sms, "+15550006666");
    assert!(matches!(
        h.sign_in_with_password("hu@example.com", "Correct-Horse-42"),
        Reply::MfaRequired { .. }
    ));
    assert_signed_in(
        &h.complete_mfa_with(Channel::Sms, "+15550006666"),
        &["pwd", "sms", "mfa"],
    );

    // With no applicable policy, conditional means no second factor.
    let mut h = Harness::new(config(
        LocalAccount::EmailPassword,
        MfaEnforcement::Conditional,
    ));
    h.add_password_user("hu@example.com", "Correct-Horse-42");
    assert_signed_in(
        &h.sign_in_with_password("hu@example.com", "Correct-Horse-42"),
        &["pwd"],
    );
}

/// MFA off ignores Conditional Access entirely (B2C "Off").
#[test]
fn mfa_off_never_asks_for_a_second_factor() {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Off))
        .with_policy(mfa_for_bank_app());
    h.add_password_user("ike@example.com", "Correct-Horse-42");
    assert_signed_in(
        &h.sign_in_with_password("ike@example.com", "Correct-Horse-42"),
        &["pwd"],
    );
}

/// A policy block ends the flow with the policy id.
#[test]
fn a_blocking_policy_ends_the_flow() {
    let block = policies(json!([{
        "id": "block-all", "displayName": "Block", "state": "enabled",
        "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]},
                       "clientAppTypes": ["all"]},
        "grantControls": {"operator": "OR", "builtInControls": ["block"]}
    }]));
    let mut h = Harness::new(config(
        LocalAccount::EmailPassword,
        MfaEnforcement::Conditional,
    ))
    .with_policy(block);
    h.add_password_user("jo@example.com", "Correct-Horse-42");
    let reply = h.sign_in_with_password("jo@example.com", "Correct-Horse-42");
    assert_eq!(
        reply,
        Reply::Blocked {
            reason: BlockReason::Policy,
            policy_ids: vec!["block-all".into()]
        }
    );
    assert!(h.tokens.is_empty());
}

/// A risky sign-in by a user with no registered method is blocked, not offered
/// registration (Entra AADSTS53004, B2C conditional).
#[test]
fn risky_sign_in_without_a_registered_method_is_blocked() {
    let mut h = Harness::new(config(
        LocalAccount::EmailPassword,
        MfaEnforcement::Conditional,
    ))
    .with_policy(mfa_for_bank_app());
    h.add_password_user("kim@example.com", "Correct-Horse-42");
    let facts = vestibule::flow::ClientFacts {
        sign_in_risk: Some("high".into()),
        ..Default::default()
    };
    h.start_sign_in_from("kim@example.com", facts);
    h.challenge();
    let reply = h.password("Correct-Horse-42");
    assert_eq!(
        reply,
        Reply::Blocked {
            reason: BlockReason::RiskWithoutRegisteredMethod,
            policy_ids: vec![]
        }
    );
}

/// Conditional Access "require password change" (with MFA, for a risky user): the
/// second factor first, then a new password under the usual rules, then tokens.
#[test]
fn a_risky_user_must_pass_mfa_and_change_the_password() {
    let remediation = policies(json!([{
        "id": "risky-users", "displayName": "Risky users change their password", "state": "enabled",
        "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]},
                       "userRiskLevels": ["high"], "clientAppTypes": ["all"]},
        "grantControls": {"operator": "AND", "builtInControls": ["mfa", "passwordChange"]}
    }]));
    let mut h = Harness::new(config(
        LocalAccount::EmailPassword,
        MfaEnforcement::Conditional,
    ))
    .with_policy(remediation);
    let id = h.add_password_user("lou@example.com", "Correct-Horse-42");
    h.add_method(&id, Channel::Sms, "+15550007700");
    let facts = vestibule::flow::ClientFacts {
        user_risk: Some("high".into()),
        ..Default::default()
    };
    h.start_sign_in_from("lou@example.com", facts);
    h.challenge();
    assert!(matches!(
        h.password("Correct-Horse-42"),
        Reply::MfaRequired { .. }
    ));
    let reply = h.complete_mfa_with(Channel::Sms, "+15550007700");
    assert_eq!(reply, Reply::PasswordChangeRequired);
    assert_eq!(reply.native().error_codes, [50142]);
    assert!(h.tokens.is_empty());
    assert_eq!(
        h.password("Correct-Horse-42").native().suberror,
        Some("password_recently_used")
    );
    assert_signed_in(&h.password("Brand-New-Horse-7"), &["pwd", "sms", "mfa"]);
    assert!(h.users[&id].password_changed_at.is_some());
    assert!(
        matches!(
            h.sign_in_with_password("lou@example.com", "Brand-New-Horse-7"),
            Reply::SignedIn { .. }
        ),
        "without risk, the new password alone is enough"
    );
}

/// An administrator removes a phone (a lost or stolen SIM) while a code sent to it is
/// outstanding: that code no longer proves anything, so it signs no one in, and the flow
/// goes back to the methods still registered.
#[test]
fn a_code_for_a_method_removed_since_it_was_sent_signs_no_one_in() {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Always));
    let id = h.add_password_user("sam@example.com", "Correct-Horse-42");
    let phone = h.add_method(&id, Channel::Sms, "+15550100111");
    h.add_method(&id, Channel::Email, "sam.backup@example.net");
    assert!(matches!(
        h.sign_in_with_password("sam@example.com", "Correct-Horse-42"),
        Reply::MfaRequired { .. }
    ));
    assert!(matches!(h.select(&phone), Reply::CodeSent { .. }));
    let code = h.last_code("+15550100111");
    h.users
        .get_mut(&id)
        .unwrap()
        .strong_methods
        .retain(|m| m.id != phone);
    let reply = h.code(&code);
    assert_eq!(rejection_code(&reply), "method_not_found", "{reply:?}");
    assert!(h.tokens.is_empty(), "no tokens");
    let Reply::MfaMethods { methods } = h.list_methods() else {
        panic!("back at the method choice")
    };
    assert!(methods.iter().all(|m| m.id != phone), "{methods:?}");
    let done = h.complete_mfa_with(Channel::Email, "sam.backup@example.net");
    assert_signed_in(&done, &["pwd", "otp", "mfa"]);
}
