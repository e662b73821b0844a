//! Redaction as a tested property: across whole journeys, nothing printed with `{:?}`
//! (steps, states, effects, replies, users) shows an email address, a phone number, a
//! code or a password; the stored state never holds a code or a password; and audit
//! events carry none of them even when serialized.
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

const EMAIL: &str = "secret.person@example.com";
const PHONE: &str = "+15559876543";
const PASSWORD: &str = "Correct-Horse-42";

fn journeys() -> Harness {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Always));
    h.keep_steps = true;
    h.start_sign_up(EMAIL, Some(PASSWORD));
    h.challenge();
    let code = h.last_code(EMAIL);
    h.code(&code);
    h.attributes(json!({"displayName": "Secret Person"}));
    assert!(matches!(h.redeem(), Reply::RegistrationRequired { .. }));
    h.list_methods();
    h.register(Channel::Sms, PHONE);
    let sms = h.last_code(PHONE);
    h.code("00000000");
    h.code(&sms);
    assert!(matches!(h.redeem(), Reply::SignedIn { .. }));
    h.sign_in_with_password(EMAIL, "Wrong-Horse-42");
    h.password(PASSWORD);
    h.list_methods();
    h.complete_mfa_with(Channel::Sms, PHONE);
    h.start_reset(EMAIL);
    h.challenge();
    let code = h.last_code(EMAIL);
    h.code(&code);
    h.password("Brand-New-Horse-7");
    h
}

fn secrets(h: &Harness) -> Vec<String> {
    let mut s = vec![
        EMAIL.to_string(),
        "secret.person".to_string(),
        PHONE.to_string(),
        "5559876543".to_string(),
        PASSWORD.to_string(),
        "Brand-New-Horse-7".to_string(),
        "Secret Person".to_string(),
    ];
    s.extend(h.outbox.iter().map(|d| d.code.expose().clone()));
    s
}

#[test]
fn debug_output_never_shows_personal_data() {
    let h = journeys();
    let secrets = secrets(&h);
    assert!(h.steps.len() > 15);
    for step in &h.steps {
        let printed = format!("{step:?} {step:#?}");
        for s in &secrets {
            assert!(!printed.contains(s.as_str()), "`{s}` leaked in {printed}");
        }
    }
    let users = format!("{:?}", h.users);
    for s in &secrets {
        assert!(
            !users.contains(s.as_str()),
            "`{s}` leaked in the user record"
        );
    }
}

#[test]
fn stored_state_holds_no_code_and_no_password() {
    let h = journeys();
    let codes: Vec<String> = h.outbox.iter().map(|d| d.code.expose().clone()).collect();
    for step in &h.steps {
        let Some(state) = &step.state else { continue };
        let json = serde_json::to_string(state).unwrap();
        for c in &codes {
            assert!(!json.contains(c.as_str()), "a code is in the state: {json}");
        }
        assert!(!json.contains(PASSWORD) && !json.contains("Brand-New-Horse-7"));
    }
}

#[test]
fn audit_events_carry_no_personal_data_even_serialized() {
    let h = journeys();
    let secrets = secrets(&h);
    assert!(h.audit.len() > 10);
    let json = serde_json::to_string(&h.audit).unwrap();
    for s in &secrets {
        assert!(!json.contains(s.as_str()), "`{s}` in audit: {json}");
    }
    // The only serialized places that carry a code are the deliveries themselves.
    let effects: Vec<&Effect> = h.steps.iter().flat_map(|s| &s.effects).collect();
    let with_code = effects.iter().filter(|e| {
        let j = serde_json::to_string(e).unwrap();
        h.outbox
            .iter()
            .any(|d| j.contains(d.code.expose().as_str()))
    });
    assert!(with_code.clone().all(|e| matches!(e, Effect::SendCode(_))));
    assert_eq!(with_code.count(), h.outbox.len());
}
