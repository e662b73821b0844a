//! One-time codes and account throttling: expiry, resend cool-down and caps, a new
//! code voiding the old, the 5-attempt cap, and per-account lockout with growing waits
//! up to NIST's 100 consecutive failures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] fns: a panic here is a failed test"
)]

mod common;

use common::*;
use vestibule::flow::{Channel, LocalAccount, MfaEnforcement, Rejection, Reply};
use vestibule::time::Timestamp;

fn otp() -> Harness {
    Harness::new(config(LocalAccount::EmailOtp, MfaEnforcement::Off))
}

#[test]
fn an_expired_code_fails_and_a_resent_one_works() {
    let mut h = otp();
    h.add_otp_user("amy@example.com");
    h.start_sign_in("amy@example.com");
    h.challenge();
    let code = h.last_code("amy@example.com");
    h.advance(600);
    assert_eq!(rejection_code(&h.code(&code)), "code_expired");
    assert!(matches!(h.challenge(), Reply::CodeSent { .. }));
    let fresh = h.last_code("amy@example.com");
    assert_signed_in(&h.code(&fresh), &["otp"]);
}

#[test]
fn a_code_just_before_expiry_still_works() {
    let mut h = otp();
    h.add_otp_user("abe@example.com");
    h.start_sign_in("abe@example.com");
    h.challenge();
    let code = h.last_code("abe@example.com");
    h.advance(599);
    assert_signed_in(&h.code(&code), &["otp"]);
}

#[test]
fn resend_has_a_cool_down_and_a_cap_and_voids_the_old_code() {
    let mut h = otp();
    h.add_otp_user("bea@example.com");
    h.start_sign_in("bea@example.com");
    h.challenge();
    let first = h.last_code("bea@example.com");
    assert_eq!(
        h.challenge(),
        Reply::Rejected {
            rejection: Rejection::ResendTooSoon { retry_after: 60 }
        }
    );
    // 400 as every native-auth protocol error (the Worker never answered 429 for it).
    assert_eq!(h.challenge().native().status, 400);
    h.advance(60);
    assert!(matches!(h.challenge(), Reply::CodeSent { .. }));
    let second = h.last_code("bea@example.com");
    for _ in 0..3 {
        h.advance(60);
        assert!(matches!(h.challenge(), Reply::CodeSent { .. }));
    }
    h.advance(60);
    assert_eq!(
        rejection_code(&h.challenge()),
        "too_many_codes",
        "5 sends per step"
    );
    assert_eq!(h.codes_sent_to("bea@example.com"), 5);
    if first != h.last_code("bea@example.com") {
        assert_eq!(
            rejection_code(&h.code(&first)),
            "invalid_code",
            "a new code voids the old"
        );
    }
    if second != h.last_code("bea@example.com") {
        assert_eq!(rejection_code(&h.code(&second)), "invalid_code");
    }
    let last = h.last_code("bea@example.com");
    assert_signed_in(&h.code(&last), &["otp"]);
}

#[test]
fn five_wrong_tries_void_the_code_even_for_the_right_value() {
    let mut h = otp();
    h.add_otp_user("cal@example.com");
    h.start_sign_in("cal@example.com");
    h.challenge();
    let code = h.last_code("cal@example.com");
    let wrong = if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    for left in (0..5).rev() {
        assert_eq!(
            h.code(wrong),
            Reply::Rejected {
                rejection: Rejection::InvalidCode {
                    attempts_left: left
                }
            }
        );
    }
    assert_eq!(rejection_code(&h.code(&code)), "code_attempts_exhausted");
}

/// A code works once: after it signs in, the flow is over and nothing accepts it again.
#[test]
fn a_code_works_only_once() {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Always));
    let id = h.add_password_user("dot@example.com", "Correct-Horse-42");
    let phone = h.add_method(&id, Channel::Sms, "+15556660000");
    h.sign_in_with_password("dot@example.com", "Correct-Horse-42");
    h.select(&phone);
    let code = h.last_code("+15556660000");
    assert_signed_in(&h.code(&code), &["pwd", "sms", "mfa"]);
    assert!(h.state.is_none());
    let again = h.try_send(vestibule::flow::FlowInput::SubmitCode {
        code: vestibule::pii::Secret::new(code.clone()),
    });
    assert_eq!(
        again.unwrap_err().code(),
        "flow.no_flow",
        "no flow to accept it"
    );
    // A new MFA step has a new code; the old one is worthless there.
    h.sign_in_with_password("dot@example.com", "Correct-Horse-42");
    h.advance(1);
    h.select(&phone);
    let again = h.last_code("+15556660000");
    if again != code {
        assert_eq!(rejection_code(&h.code(&code)), "invalid_code");
    }
}

#[test]
fn repeated_failures_lock_the_account_with_growing_waits() {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Off));
    let id = h.add_password_user("eda@example.com", "Correct-Horse-42");
    h.sign_in_with_password("eda@example.com", "Wrong-1");
    for _ in 0..4 {
        assert_eq!(rejection_code(&h.password("Wrong-1")), "invalid_password");
    }
    // Five free failures; the sixth sets a 30 s wait, the seventh 60 s.
    assert_eq!(rejection_code(&h.password("Wrong-1")), "invalid_password");
    let until = h.users[&id].lockout.locked_until.unwrap();
    assert_eq!(until, Timestamp(h.now + 30));
    let locked = h.password("Correct-Horse-42");
    assert_eq!(
        locked,
        Reply::Rejected {
            rejection: Rejection::AccountLocked { until: Some(until) }
        }
    );
    assert_eq!(locked.native().error_codes, [50053]);
    h.advance(30);
    h.password("Wrong-1");
    assert_eq!(
        h.users[&id].lockout.locked_until,
        Some(Timestamp(h.now + 60))
    );
    h.advance(60);
    assert_signed_in(&h.password("Correct-Horse-42"), &["pwd"]);
    assert_eq!(h.users[&id].lockout.consecutive_failures, 0);
}

#[test]
fn a_hundred_failures_disable_the_account() {
    let mut h = otp();
    let id = h.add_otp_user("fox@example.com");
    let mut failures = 0;
    let wait_out = |h: &mut Harness| {
        let until = h.users[&id].lockout.locked_until.map_or(0, |t| t.0);
        if until > h.now {
            h.advance(until - h.now);
        }
    };
    // Waits grow to an hour, longer than a code lives: one fresh flow per failure.
    while failures < 100 {
        wait_out(&mut h);
        h.start_sign_in("fox@example.com");
        assert!(matches!(h.challenge(), Reply::CodeSent { .. }));
        assert_eq!(rejection_code(&h.code("99999999")), "invalid_code");
        failures += 1;
        h.cancel();
    }
    let lockout = &h.users[&id].lockout;
    assert!(lockout.disabled);
    assert_eq!(lockout.consecutive_failures, 100);
    h.advance(86_400);
    h.start_sign_in("fox@example.com");
    assert_eq!(
        h.challenge(),
        Reply::Rejected {
            rejection: Rejection::AccountLocked { until: None }
        },
        "no code is even sent"
    );
}

/// The whole flow expires (continuation lifetime, default 30 minutes).
#[test]
fn a_flow_expires() {
    let mut h = otp();
    h.add_otp_user("gil@example.com");
    h.start_sign_in("gil@example.com");
    h.advance(1800);
    assert_eq!(h.challenge().native().error, Some("expired_token"));
    assert!(h.state.is_none());
}
