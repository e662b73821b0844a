//! Sign-up journeys: email code, password rules, attributes, the account created
//! before the MFA step, and just-in-time registration of a strong method.
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
use vestibule::flow::effect::Effect;
use vestibule::flow::{Channel, LocalAccount, MfaEnforcement, Reply};

fn harness(mfa: MfaEnforcement) -> Harness {
    Harness::new(config(LocalAccount::EmailPassword, mfa))
}

/// Sign-up with SMS registration: the seeds' B2C journey. The account exists before the
/// MFA step; the phone is verified, attached, and counts as the second factor.
#[test]
fn sign_up_creates_the_account_then_registers_sms_and_signs_in() {
    let mut h = harness(MfaEnforcement::Always);
    h.keep_steps = true;
    assert_eq!(h.start_sign_up("Ada@Example.com", None), Reply::Started);
    let Reply::CodeSent {
        channel,
        code_length,
        target_label,
        ..
    } = h.challenge()
    else {
        panic!("no code sent")
    };
    assert_eq!((channel, code_length), (Channel::Email, 8));
    assert!(!target_label.contains("ada@"), "the label is masked");
    let code = h.last_code("ada@example.com");
    assert_eq!(h.code(&code), Reply::CredentialRequired);
    assert_eq!(
        h.password("Correct-Horse-42"),
        Reply::AttributesRequired {
            attributes: h
                .config
                .user_flow
                .attribute_specs()
                .into_iter()
                .filter(|a| a.required)
                .collect()
        }
    );
    assert_eq!(
        h.attributes(json!({"displayName": "Ada Lovelace"})),
        Reply::Verified { expires_in: None }
    );

    // The account exists now, before any MFA step.
    let user = h.user("ada@example.com").clone();
    assert_eq!(user.display_name.as_ref().unwrap().expose(), "Ada Lovelace");
    assert!(user.strong_methods.is_empty());
    assert!(h.tokens.is_empty());

    let Reply::RegistrationRequired { methods } = h.redeem() else {
        panic!("registration expected")
    };
    assert!(methods.iter().any(|m| m.channel == Channel::Sms));
    assert!(matches!(
        h.register(Channel::Sms, "+1 555 123 4567"),
        Reply::CodeSent {
            channel: Channel::Sms,
            ..
        }
    ));
    let sms = h.last_code("+15551234567");
    assert_eq!(h.code(&sms), Reply::Verified { expires_in: None });
    assert!(h.tokens.is_empty(), "no tokens before the token request");
    assert_signed_in(&h.redeem(), &["pwd", "sms", "mfa"]);

    let user = h.user("ada@example.com");
    assert_eq!(user.strong_methods.len(), 1);
    assert_eq!(user.strong_methods[0].target.expose(), "+15551234567");
    // CreateUser came before any registration effect.
    let kinds: Vec<&str> = h
        .steps
        .iter()
        .flat_map(|s| &s.effects)
        .filter_map(|e| match e {
            Effect::CreateUser(_) => Some("create"),
            Effect::UpdateUser(_) => Some("update"),
            Effect::IssueTokens(_) => Some("tokens"),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["create", "update", "tokens"]);
}

/// The sign-up email, proven by the sign-up code, can be registered without a second
/// code (native auth's `preverified`), and then counts as the email factor.
#[test]
fn sign_up_email_registration_is_preverified() {
    let mut h = harness(MfaEnforcement::Always);
    h.start_sign_up("bo@example.com", Some("Correct-Horse-42"));
    h.challenge();
    let code = h.last_code("bo@example.com");
    assert!(matches!(h.code(&code), Reply::AttributesRequired { .. }));
    h.attributes(json!({"displayName": "Bo", "extension_b2c_Newsletter": "true"}));
    assert!(matches!(h.redeem(), Reply::RegistrationRequired { .. }));
    assert_eq!(
        h.register(Channel::Email, "BO@example.com"),
        Reply::Preverified
    );
    assert_eq!(h.codes_sent_to("bo@example.com"), 1, "no second code");
    assert_eq!(
        h.send(vestibule::flow::FlowInput::Continue),
        Reply::Verified { expires_in: None }
    );
    assert_signed_in(&h.redeem(), &["pwd", "otp", "mfa"]);
    assert_eq!(
        h.user("bo@example.com").attributes["extension_b2c_Newsletter"].expose(),
        &json!(true)
    );
}

/// With MFA off, sign-up ends in tokens with the password alone.
#[test]
fn sign_up_without_mfa_signs_in_with_the_password() {
    let mut h = harness(MfaEnforcement::Off);
    h.start_sign_up("cy@example.com", Some("Correct-Horse-42"));
    h.challenge();
    let code = h.last_code("cy@example.com");
    h.code(&code);
    h.attributes(json!({"displayName": "Cy"}));
    assert_signed_in(&h.redeem(), &["pwd"]);
}

/// Each password rule is refused with its native-auth suberror, and the flow goes on.
#[test]
fn sign_up_refuses_weak_passwords_with_clear_reasons() {
    let mut h = harness(MfaEnforcement::Off);
    h.start_sign_up("dora@example.com", None);
    h.challenge();
    let code = h.last_code("dora@example.com");
    assert_eq!(h.code(&code), Reply::CredentialRequired);
    for (password, reason) in [
        ("Ab1!", "password_too_short"),
        ("alllowercaseletters", "password_too_weak"),
        ("P@ssw0rd-2025", "password_banned"),
        ("doradora99", "password_too_weak"),
        ("D0ra-Rocks-1", "password_banned"),
        ("Tab\there-99A", "password_is_invalid"),
    ] {
        let reply = h.password(password);
        let Reply::Rejected {
            rejection: vestibule::flow::Rejection::PasswordRefused { problem },
        } = &reply
        else {
            panic!("{password}: {reply:?}")
        };
        assert_eq!(problem.suberror(), reason, "{password}");
        assert_eq!(reply.native().suberror, Some(reason));
        assert_eq!(
            h.step_name(),
            Some("signUpExpectPassword"),
            "the flow goes on"
        );
    }
    assert!(matches!(
        h.password("Correct-Horse-42"),
        Reply::AttributesRequired { .. }
    ));
}

/// A password given up front is checked before any code is sent.
#[test]
fn sign_up_with_a_weak_password_up_front_sends_nothing() {
    let mut h = harness(MfaEnforcement::Off);
    let reply = h.start_sign_up("eve@example.com", Some("short"));
    assert_eq!(rejection_code(&reply), "password_refused");
    assert!(h.state.is_none());
    assert!(h.outbox.is_empty());
}

/// Attribute values are validated by type and `validationRegEx`, naming the bad ones.
#[test]
fn sign_up_validates_attributes() {
    let mut h = harness(MfaEnforcement::Off);
    h.start_sign_up("fay@example.com", Some("Correct-Horse-42"));
    h.challenge();
    let code = h.last_code("fay@example.com");
    h.code(&code);
    let reply = h.attributes(json!({"displayName": "!!", "extension_b2c_Newsletter": "maybe"}));
    let Reply::Rejected {
        rejection: vestibule::flow::Rejection::AttributeValidationFailed { attributes },
    } = reply
    else {
        panic!("{reply:?}")
    };
    assert_eq!(attributes, ["displayName", "extension_b2c_Newsletter"]);
    assert_eq!(
        h.attributes(json!({"displayName": "Fay"})),
        Reply::Verified { expires_in: None }
    );
}

/// An email that already has an account is refused, at start and at creation.
#[test]
fn sign_up_with_an_existing_email_is_refused() {
    let mut h = harness(MfaEnforcement::Off);
    h.add_password_user("gus@example.com", "Correct-Horse-42");
    let reply = h.start_sign_up("Gus@example.com", None);
    assert_eq!(rejection_code(&reply), "user_already_exists");
    assert_eq!(reply.native().error, Some("user_already_exists"));

    // Created by someone else while this sign-up was running.
    h.start_sign_up("hal@example.com", Some("Correct-Horse-42"));
    h.challenge();
    let code = h.last_code("hal@example.com");
    h.code(&code);
    h.add_password_user("hal@example.com", "Other-Horse-42");
    let reply = h.attributes(json!({"displayName": "Hal"}));
    assert_eq!(rejection_code(&reply), "user_already_exists");
    assert_eq!(h.users.len(), 2);
}

/// An email-one-time-passcode flow takes no password and treats the code as the first
/// factor; with MFA required the user must register SMS (email can't be both).
#[test]
fn otp_sign_up_must_register_sms_for_mfa() {
    let mut h = Harness::new(config(LocalAccount::EmailOtp, MfaEnforcement::Always));
    h.start_sign_up("ivy@example.com", None);
    h.challenge();
    let code = h.last_code("ivy@example.com");
    assert!(matches!(h.code(&code), Reply::AttributesRequired { .. }));
    h.attributes(json!({"displayName": "Ivy"}));
    let Reply::RegistrationRequired { methods } = h.redeem() else {
        panic!()
    };
    assert_eq!(
        methods.iter().map(|m| m.channel).collect::<Vec<_>>(),
        [Channel::Sms]
    );
    assert_eq!(
        rejection_code(&h.register(Channel::Email, "ivy@example.com")),
        "channel_not_allowed"
    );
    h.register(Channel::Sms, "+447700900123");
    let sms = h.last_code("+447700900123");
    h.code(&sms);
    assert_signed_in(&h.redeem(), &["otp", "sms", "mfa"]);
}
