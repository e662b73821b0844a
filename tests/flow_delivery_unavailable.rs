//! A channel with no sender (no delivery hook, no outbox, or turned off for the tenant)
//! through the real flow engine: the configuration the Worker passes is filtered by
//! `native::delivery::only_deliverable`, and the flow then offers the user's other
//! method, offers a user with no method yet to register a deliverable one, or blocks.
//! MFA is never skipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] fns: a panic here is a failed test"
)]

mod common;

use common::*;
use vestibule::flow::{BlockReason, Channel, LocalAccount, MfaEnforcement, Reply};
use vestibule::native::delivery::only_deliverable;

/// The MFA-always password flow as the Worker runs it when only email can be sent.
fn email_only(mut config: vestibule::flow::FlowConfig) -> Harness {
    config = only_deliverable(&config, |c| c == Channel::Email).expect("sms was enabled");
    Harness::new(config)
}

#[test]
fn sms_without_sender_leaves_the_users_email_method() {
    let mut h = email_only(config(LocalAccount::EmailPassword, MfaEnforcement::Always));
    let id = h.add_password_user("amy@example.com", "Correct-Horse-42");
    h.add_method(&id, Channel::Sms, "+15550001234");
    h.add_method(&id, Channel::Email, "amy.backup@example.net");
    let Reply::MfaRequired { methods } =
        h.sign_in_with_password("amy@example.com", "Correct-Horse-42")
    else {
        panic!("mfa is required")
    };
    assert_eq!(
        methods.iter().map(|m| m.channel).collect::<Vec<_>>(),
        [Channel::Email]
    );
    let sms = h.users[&id].strong_methods[0].id.clone();
    assert_eq!(rejection_code(&h.select(&sms)), "method_not_found");
    assert_eq!(h.codes_sent_to("+15550001234"), 0);
    let done = h.complete_mfa_with(Channel::Email, "amy.backup@example.net");
    assert_signed_in(&done, &["pwd", "otp", "mfa"]);
}

/// Issue #5: "another method when the user has one, otherwise a clear block". Offering to
/// register an email here would let whoever knows the password add their own inbox and
/// never prove the owner's phone.
#[test]
fn a_user_with_only_sms_is_blocked_not_offered_a_new_method() {
    let mut h = email_only(config(LocalAccount::EmailPassword, MfaEnforcement::Always));
    let id = h.add_password_user("bob@example.com", "Correct-Horse-42");
    h.add_method(&id, Channel::Sms, "+15550005678");
    let reply = h.sign_in_with_password("bob@example.com", "Correct-Horse-42");
    assert_eq!(
        reply,
        Reply::Blocked {
            reason: BlockReason::NoUsableSecondFactor,
            policy_ids: vec![]
        }
    );
    assert!(h.tokens.is_empty());
    assert!(h.outbox.is_empty(), "no code was sent");
}

#[test]
fn a_user_with_no_method_yet_registers_a_deliverable_one() {
    let mut h = email_only(config(LocalAccount::EmailPassword, MfaEnforcement::Always));
    h.add_password_user("dee@example.com", "Correct-Horse-42");
    let Reply::RegistrationRequired { methods } =
        h.sign_in_with_password("dee@example.com", "Correct-Horse-42")
    else {
        panic!("registration is offered")
    };
    assert_eq!(
        methods.iter().map(|m| m.channel).collect::<Vec<_>>(),
        [Channel::Email]
    );
}

#[test]
fn a_user_with_only_sms_and_no_other_allowed_method_is_blocked() {
    let mut c = config(LocalAccount::EmailPassword, MfaEnforcement::Always);
    disable(&mut c, "Email");
    let mut h = email_only(c);
    let id = h.add_password_user("cy@example.com", "Correct-Horse-42");
    h.add_method(&id, Channel::Sms, "+15550009012");
    let reply = h.sign_in_with_password("cy@example.com", "Correct-Horse-42");
    assert_eq!(
        reply,
        Reply::Blocked {
            reason: BlockReason::NoUsableSecondFactor,
            policy_ids: vec![]
        }
    );
    assert!(h.tokens.is_empty());
    assert!(h.outbox.is_empty(), "no code was sent");
}

#[test]
fn with_every_channel_deliverable_the_configuration_is_unchanged() {
    let c = config(LocalAccount::EmailPassword, MfaEnforcement::Always);
    assert!(only_deliverable(&c, |_| true).is_none());
}

/// The account's own address registered as its email method proves nothing more after an
/// email code signed it in: such an account may still register a real second factor.
/// Another mailbox it registered, excluded the same way, blocks it instead.
#[test]
fn after_an_email_first_factor_only_the_accounts_own_address_leaves_registration_open() {
    let mut h = Harness::new(config(LocalAccount::EmailOtp, MfaEnforcement::Always));
    let own = h.add_otp_user("eli@example.com");
    h.add_method(&own, Channel::Email, "eli@example.com");
    let Reply::RegistrationRequired { methods } = h.sign_in_with_email_code("eli@example.com")
    else {
        panic!("registration is offered")
    };
    assert_eq!(
        methods.iter().map(|m| m.channel).collect::<Vec<_>>(),
        [Channel::Sms]
    );

    let mut h = Harness::new(config(LocalAccount::EmailOtp, MfaEnforcement::Always));
    let other = h.add_otp_user("fay@example.com");
    h.add_method(&other, Channel::Email, "fay.backup@example.net");
    assert_eq!(
        h.sign_in_with_email_code("fay@example.com"),
        Reply::Blocked {
            reason: BlockReason::NoUsableSecondFactor,
            policy_ids: vec![]
        }
    );
    assert!(h.tokens.is_empty());
}

/// A sign-up of `email` waiting for its code, in the state step.rs keeps after the hook
/// timed out (`kept_after_failed_send`: the step's own state, its code marked).
fn timed_out_sign_up_code(email: &str) -> Harness {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Off));
    assert_eq!(
        h.start_sign_up(email, Some("Correct-Horse-42")),
        Reply::Started
    );
    assert!(matches!(h.challenge(), Reply::CodeSent { .. }));
    h.state = h.state.take().map(|s| s.mark_code_unconfirmed());
    h
}

/// A code whose send timed out may have reached the person: the Worker keeps the step's
/// state with the code marked, and the client's retry then answers with that same code
/// instead of sending a second one that would void it. A resend after that is a real one,
/// under the usual cool-down.
#[test]
fn a_retry_after_a_timed_out_send_answers_with_the_same_code() {
    let mut h = timed_out_sign_up_code("tim@example.com");
    let first = h.last_code("tim@example.com");
    let reply = h.challenge();
    assert!(matches!(reply, Reply::CodeSent { .. }), "{reply:?}");
    assert_eq!(
        h.codes_sent_to("tim@example.com"),
        1,
        "no second code went out"
    );
    // Once re-offered, a resend is a resend again: refused inside the cool-down.
    let again = h.challenge();
    assert!(
        matches!(
            again,
            Reply::Rejected {
                rejection: vestibule::flow::Rejection::ResendTooSoon { .. }
            }
        ),
        "{again:?}"
    );
    // The code that may have arrived still works.
    let done = h.code(&first);
    assert!(!matches!(done, Reply::Rejected { .. }), "{done:?}");
}

/// A code is re-offered only while it may still serve: once a try was spent on it (or it
/// expired), the retry sends a new one as any resend would.
#[test]
fn a_timed_out_code_that_was_tried_is_not_offered_again() {
    let mut h = timed_out_sign_up_code("tia@example.com");
    assert!(matches!(h.code("00000000"), Reply::Rejected { .. }));
    h.now += 61;
    assert!(matches!(h.challenge(), Reply::CodeSent { .. }));
    assert_eq!(h.codes_sent_to("tia@example.com"), 2, "a new code went out");
    // And an untried one past its lifetime is not re-offered either.
    h.state = h.state.take().map(|s| s.mark_code_unconfirmed());
    h.now += 601;
    assert!(matches!(h.challenge(), Reply::CodeSent { .. }));
    assert_eq!(
        h.codes_sent_to("tia@example.com"),
        3,
        "an expired code is not re-offered"
    );
}
