//! The hosted pages' CAPTCHA through the real flow engine: the step that would text a
//! number abroad from the request's country ends with the CAPTCHA redirect and sends
//! nothing; the page keeps the flow from before that step; a failed check keeps it and
//! still sends nothing; a passed check runs the kept input on the kept state with
//! `captcha_verified_at` recorded, the SMS goes out, and later steps of the same flow
//! (a resend) are not asked again.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] fns: a panic here is a failed test"
)]

mod common;

use common::*;
use vestibule::flow::{Channel, ClientFacts, FlowInput, LocalAccount, MfaEnforcement, Reply};
use vestibule::oidc::captcha::{self, CheckFailure, Verified};
use vestibule::oidc::hosted::Page;
use vestibule::time::Timestamp;

const US_PHONE: &str = "+12025550143";
const PASSWORD: &str = "Correct-Horse-42";

fn from_gb() -> ClientFacts {
    ClientFacts {
        country: Some("GB".into()),
        ..Default::default()
    }
}

/// A GB sign-in of a user whose only second factor is a US phone, up to the MFA step.
fn at_mfa(h: &mut Harness) -> String {
    let user = h.add_password_user("abroad@example.com", PASSWORD);
    let method = h.add_method(&user, Channel::Sms, US_PHONE);
    h.start_sign_in_from("abroad@example.com", from_gb());
    h.challenge();
    assert!(matches!(h.password(PASSWORD), Reply::MfaRequired { .. }));
    method
}

/// Selects `method` the way the pages do: the state before the step is kept, and the
/// CAPTCHA page is what the reply asks for.
fn select_to_captcha(h: &mut Harness, method: &str) -> (vestibule::flow::FlowState, Page) {
    let before = h.state.clone().expect("a running flow");
    let input = FlowInput::SelectMethod { id: method.into() };
    let reply = h.send(input.clone());
    assert!(
        h.state.is_none(),
        "the redirect ends the flow for native clients"
    );
    let retry = captcha::Retry::of(&input).expect("an input that texts a number");
    let page = captcha::page(&reply, Some(&before), &retry, "site-key")
        .unwrap_or_else(|| panic!("expected the CAPTCHA page for {reply:?}"));
    (before, page)
}

#[test]
fn a_failed_check_sends_nothing_and_a_passed_one_sends_the_sms_once_asked() {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Always));
    let method = at_mfa(&mut h);
    let (before, page) = select_to_captcha(&mut h, &method);
    assert_eq!(h.codes_sent_to(US_PHONE), 0, "no SMS before the check");

    for codes in [vec!["invalid-input-response"], vec!["siteverify-timeout"]] {
        let codes: Vec<String> = codes.into_iter().map(String::from).collect();
        let verdict = captcha::after_siteverify(&page, Some(&before), Err(codes), Timestamp(h.now));
        assert!(matches!(
            verdict,
            Verified::Again(CheckFailure::Refused | CheckFailure::TimedOut)
        ));
    }
    assert_eq!(h.codes_sent_to(US_PHONE), 0, "no SMS after failed checks");

    let Verified::Run(state, input) =
        captcha::after_siteverify(&page, Some(&before), Ok(()), Timestamp(h.now))
    else {
        panic!("a passed check runs the flow");
    };
    assert_eq!(
        state.common().facts.captcha_verified_at,
        Some(Timestamp(h.now))
    );
    h.state = Some(*state);
    let reply = h.send(*input);
    assert!(
        matches!(
            reply,
            Reply::CodeSent {
                channel: Channel::Sms,
                ..
            }
        ),
        "{reply:?}"
    );
    assert_eq!(
        h.codes_sent_to(US_PHONE),
        1,
        "the SMS goes out after the check"
    );

    // The next steps of this flow keep the check: a resend is not asked again.
    h.advance(120);
    let again = h.select(&method);
    assert!(
        matches!(
            again,
            Reply::CodeSent {
                channel: Channel::Sms,
                ..
            }
        ),
        "{again:?}"
    );
    assert_eq!(h.codes_sent_to(US_PHONE), 2);
    let code = h.last_code(US_PHONE);
    assert_signed_in(&h.code(&code), &["pwd", "sms", "mfa"]);
}

#[test]
fn registration_keeps_the_number_and_offers_email_without_javascript() {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Always));
    h.add_password_user("reg@example.com", PASSWORD);
    h.start_sign_in_from("reg@example.com", from_gb());
    h.challenge();
    assert!(matches!(
        h.password(PASSWORD),
        Reply::RegistrationRequired { .. }
    ));
    let before = h.state.clone().unwrap();
    let input = FlowInput::RegisterMethod {
        channel: Channel::Sms,
        target: vestibule::pii::Pii::new(US_PHONE.into()),
    };
    let reply = h.send(input.clone());
    let retry = captcha::Retry::of(&input).expect("an input that texts a number");
    let page = captcha::page(&reply, Some(&before), &retry, "k").expect("the CAPTCHA page");
    let Page::Captcha {
        other: Some(other), ..
    } = &page
    else {
        panic!("email registration is the other way: {page:?}");
    };
    assert!(
        matches!(**other, Page::Register { ref methods } if methods.iter().all(|m| m.channel == Channel::Email))
    );
    assert_eq!(h.codes_sent_to(US_PHONE), 0);

    let Verified::Run(state, input) =
        captcha::after_siteverify(&page, Some(&before), Ok(()), Timestamp(h.now))
    else {
        panic!("a passed check runs the flow");
    };
    h.state = Some(*state);
    assert!(matches!(
        h.send(*input),
        Reply::CodeSent {
            channel: Channel::Sms,
            ..
        }
    ));
    assert_eq!(h.codes_sent_to(US_PHONE), 1, "the kept number is texted");
}

#[test]
fn without_the_widget_configured_the_redirect_still_ends_the_sign_in() {
    assert_eq!(captcha::widget(None, true), None);
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Always));
    let method = at_mfa(&mut h);
    let reply = h.select(&method);
    assert!(matches!(
        vestibule::oidc::hosted::after_step(None, &reply),
        vestibule::oidc::hosted::Next::Deny {
            error: "access_denied",
            ..
        }
    ));
    assert_eq!(h.codes_sent_to(US_PHONE), 0);
}
