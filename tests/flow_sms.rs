//! SMS protections inside the flow engine: a default-off region refused at registration
//! (`provider_blocked_by_admin`, the flow goes on), an app's opt-in, a registered number
//! whose region is turned off (another method if there is one, else a clear block), and
//! the redirect when fraud is suspected.
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
    BlockReason, Channel, FlowConfig, LocalAccount, MfaEnforcement, Rejection, Reply,
};

const NIGERIA: &str = "+2348031234567";

fn opted_in(mut c: FlowConfig, include: &[u16], exclude: &[u16]) -> FlowConfig {
    c.settings.sms = serde_json::from_value(json!({"phoneMethodListeners": [{
        "@odata.type": "#microsoft.graph.onPhoneMethodLoadStartListener",
        "conditions": {"applications": {"includeApplications": [APP]}},
        "handler": {"@odata.type": "#microsoft.graph.onPhoneMethodLoadStartExternalUsersAuthHandler",
                    "smsOptions": {"includeAdditionalRegions": include, "excludeRegions": exclude}}
    }]}))
    .unwrap();
    c.validate().unwrap();
    c
}

fn to_registration(h: &mut Harness) {
    h.add_password_user("reg@example.com", "Correct-Horse-42");
    let reply = h.sign_in_with_password("reg@example.com", "Correct-Horse-42");
    assert!(
        matches!(reply, Reply::RegistrationRequired { .. }),
        "{reply:?}"
    );
}

#[test]
fn a_default_off_region_is_refused_at_registration_and_the_flow_goes_on() {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Always));
    to_registration(&mut h);
    let reply = h.register(Channel::Sms, NIGERIA);
    assert_eq!(
        reply,
        Reply::Rejected {
            rejection: Rejection::SmsRegionBlocked { region: 234 }
        }
    );
    let native = reply.native();
    assert_eq!(
        (native.error, native.suberror),
        (Some("access_denied"), Some("provider_blocked_by_admin"))
    );
    assert_eq!(h.codes_sent_to(NIGERIA), 0);
    // Another number works in the same flow.
    let reply = h.register(Channel::Sms, "+447700900123");
    assert!(matches!(reply, Reply::CodeSent { .. }), "{reply:?}");
}

#[test]
fn the_apps_opt_in_lets_the_region_through() {
    let c = opted_in(
        config(LocalAccount::EmailPassword, MfaEnforcement::Always),
        &[234],
        &[],
    );
    let mut h = Harness::new(c);
    to_registration(&mut h);
    assert!(matches!(
        h.register(Channel::Sms, NIGERIA),
        Reply::CodeSent { .. }
    ));
    assert_eq!(h.codes_sent_to(NIGERIA), 1);
}

#[test]
fn a_number_invalid_for_its_country_is_invalid_input() {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Always));
    to_registration(&mut h);
    for bad in [
        "+440700900123",
        "+4477009001",
        "447700900123",
        "+44 77OO 900123",
    ] {
        assert_eq!(
            rejection_code(&h.register(Channel::Sms, bad)),
            "invalid_target",
            "{bad}"
        );
    }
}

#[test]
fn a_registered_number_in_a_blocked_region_is_not_texted() {
    // Only the blocked phone: a clear block.
    let c = opted_in(
        config(LocalAccount::EmailPassword, MfaEnforcement::Always),
        &[],
        &[44],
    );
    let mut h = Harness::new(c.clone());
    let id = h.add_password_user("uk@example.com", "Correct-Horse-42");
    h.add_method(&id, Channel::Sms, "+447700900123");
    let reply = h.sign_in_with_password("uk@example.com", "Correct-Horse-42");
    assert_eq!(
        reply,
        Reply::Blocked {
            reason: BlockReason::SmsRegionBlocked,
            policy_ids: vec![]
        }
    );
    assert_eq!(reply.native().suberror, Some("provider_blocked_by_admin"));

    // With an email method too: only the email is offered.
    let mut h = Harness::new(c);
    let id = h.add_password_user("uk2@example.com", "Correct-Horse-42");
    h.add_method(&id, Channel::Sms, "+447700900123");
    h.add_method(&id, Channel::Email, "uk2.backup@example.net");
    let reply = h.sign_in_with_password("uk2@example.com", "Correct-Horse-42");
    let Reply::MfaRequired { methods } = &reply else {
        panic!("{reply:?}")
    };
    assert_eq!(methods.len(), 1);
    assert_eq!(methods[0].channel, Channel::Email);
}

#[test]
fn fraud_suspected_ends_in_the_redirect_without_an_sms() {
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Always));
    h.add_password_user("abroad@example.com", "Correct-Horse-42");
    let facts = vestibule::flow::ClientFacts {
        country: Some("GB".into()),
        ..Default::default()
    };
    h.start_sign_in_from("abroad@example.com", facts);
    h.challenge();
    assert!(matches!(
        h.password("Correct-Horse-42"),
        Reply::RegistrationRequired { .. }
    ));
    let reply = h.register(Channel::Sms, "+12025550143");
    let Reply::Redirect { reason } = &reply else {
        panic!("{reply:?}")
    };
    assert!(reason.contains("country_mismatch"), "{reason}");
    assert_eq!(h.codes_sent_to("+12025550143"), 0);
    // A UK number from the UK is fine.
    let mut h = Harness::new(config(LocalAccount::EmailPassword, MfaEnforcement::Always));
    to_registration(&mut h);
    assert!(matches!(
        h.register(Channel::Sms, "+447700900123"),
        Reply::CodeSent { .. }
    ));
}
