//! Self-service password reset: an email code, a new password under the same rules,
//! then the continuation sign-in, where the email code is the first factor.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] fns: a panic here is a failed test"
)]

mod common;

use common::*;
use vestibule::flow::{BlockReason, Channel, FlowInput, LocalAccount, MfaEnforcement, Reply};

fn reset_to(h: &mut Harness, email: &str, new_password: &str) -> Reply {
    assert_eq!(h.start_reset(email), Reply::Started);
    assert!(matches!(
        h.challenge(),
        Reply::CodeSent {
            channel: Channel::Email,
            ..
        }
    ));
    let code = h.last_code(email);
    assert_eq!(
        h.code(&code),
        Reply::Verified {
            expires_in: Some(600)
        }
    );
    h.password(new_password)
}

#[test]
fn password_reset_then_sign_in_with_the_new_password() {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Off));
    let id = h.add_password_user("tia@example.com", "Correct-Horse-42");
    assert_eq!(
        reset_to(&mut h, "tia@example.com", "Brand-New-Horse-7"),
        Reply::ResetSubmitted { poll_interval: 2 }
    );
    assert_eq!(h.send(FlowInput::PollCompletion), Reply::ResetCompleted);
    assert_signed_in(&h.redeem(), &["otp"]);
    assert!(h.users[&id].password_changed_at.is_some());

    assert_eq!(
        rejection_code(&h.sign_in_with_password("tia@example.com", "Correct-Horse-42")),
        "invalid_password"
    );
    h.cancel();
    assert_signed_in(
        &h.sign_in_with_password("tia@example.com", "Brand-New-Horse-7"),
        &["pwd"],
    );
}

#[test]
fn the_new_password_follows_the_rules_and_differs_from_the_current_one() {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Off));
    h.add_password_user("uma@example.com", "Correct-Horse-42");
    let reply = reset_to(&mut h, "uma@example.com", "Correct-Horse-42");
    assert_eq!(reply.native().suberror, Some("password_recently_used"));
    assert_eq!(
        h.password("weak").native().suberror,
        Some("password_too_short")
    );
    assert_eq!(h.step_name(), Some("resetExpectNewPassword"));
    assert!(matches!(
        h.password("Brand-New-Horse-7"),
        Reply::ResetSubmitted { .. }
    ));
}

/// After the code, the new password must come within the reset window (600 s).
#[test]
fn the_new_password_must_come_within_the_reset_window() {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Off));
    h.add_password_user("val@example.com", "Correct-Horse-42");
    h.start_reset("val@example.com");
    h.challenge();
    let code = h.last_code("val@example.com");
    h.code(&code);
    h.advance(600);
    assert_eq!(
        rejection_code(&h.password("Brand-New-Horse-7")),
        "flow_expired"
    );
    assert!(h.state.is_none());
}

/// After a reset the first factor is the email code: MFA needs SMS, never email again.
#[test]
fn mfa_after_reset_needs_a_factor_other_than_email() {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Always));
    let id = h.add_password_user("wes@example.com", "Correct-Horse-42");
    h.add_method(&id, Channel::Email, "wes@example.com");
    h.add_method(&id, Channel::Sms, "+15554440000");
    reset_to(&mut h, "wes@example.com", "Brand-New-Horse-7");
    let Reply::MfaRequired { methods } = h.redeem() else {
        panic!()
    };
    assert_eq!(
        methods.iter().map(|m| m.channel).collect::<Vec<_>>(),
        [Channel::Sms]
    );
    assert_signed_in(
        &h.complete_mfa_with(Channel::Sms, "+15554440000"),
        &["otp", "sms", "mfa"],
    );
}

/// ... and with SMS disabled, the continuation sign-in is blocked (the user signs in
/// with the new password and the email code instead).
#[test]
fn mfa_after_reset_with_only_email_is_blocked() {
    let mut c = config(LocalAccount::EmailPassword, MfaEnforcement::Always);
    disable(&mut c, "Sms");
    let mut h = Harness::new(c);
    let id = h.add_password_user("xia@example.com", "Correct-Horse-42");
    h.add_method(&id, Channel::Email, "xia@example.com");
    reset_to(&mut h, "xia@example.com", "Brand-New-Horse-7");
    assert_eq!(
        h.redeem(),
        Reply::Blocked {
            reason: BlockReason::NoUsableSecondFactor,
            policy_ids: vec![]
        }
    );
    let reply = h.sign_in_with_password("xia@example.com", "Brand-New-Horse-7");
    assert!(matches!(reply, Reply::MfaRequired { .. }));
    assert_signed_in(
        &h.complete_mfa_with(Channel::Email, "xia@example.com"),
        &["pwd", "otp", "mfa"],
    );
}

#[test]
fn reset_is_refused_for_unknown_users_and_otp_accounts() {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Off));
    assert_eq!(
        h.start_reset("nobody@example.com").native().error,
        Some("user_not_found")
    );
    h.add_otp_user("yan@example.com");
    assert_eq!(
        rejection_code(&h.start_reset("yan@example.com")),
        "password_reset_unavailable"
    );
    assert!(h.outbox.is_empty());
}
