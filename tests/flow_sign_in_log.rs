//! Sign-in log records from real flow journeys: which attempts leave a record, what each
//! says about Conditional Access (report-only included), and that none holds a code,
//! password or phone number.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] fns: a panic here is a failed test"
)]

mod common;

use common::*;
use serde_json::{Value, json};
use vestibule::audit::sign_in::build;
use vestibule::flow::{Channel, LocalAccount, MfaEnforcement, Reply};

const PASSWORD: &str = "Correct-Horse-42";
const PHONE: &str = "+15550001111";

fn mfa_policy(state: &str) -> Value {
    json!({
        "id": format!("mfa-{state}"), "displayName": "Require MFA", "state": state,
        "conditions": {"clientAppTypes": ["all"], "applications": {"includeApplications": ["All"]},
                       "users": {"includeUsers": ["All"]}},
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}
    })
}

/// The records the journey so far left, oldest first, as Graph JSON.
fn records(h: &Harness) -> Vec<Value> {
    h.audit
        .iter()
        .filter_map(|e| {
            e.sign_in
                .as_ref()
                .map(|ev| serde_json::to_value(build("id", e, ev)).unwrap())
        })
        .collect()
}

fn only_record(h: &mut Harness) -> Value {
    let mut all = records(h);
    h.audit.clear();
    assert_eq!(all.len(), 1, "{all:#?}");
    all.pop().unwrap()
}

fn harness(policies: Vec<Value>) -> (Harness, String) {
    let mut h = Harness::new(config(
        LocalAccount::EmailPassword,
        MfaEnforcement::Conditional,
    ))
    .with_policy(common::policies(json!(policies)));
    let id = h.add_password_user("ada@example.com", PASSWORD);
    h.add_method(&id, Channel::Sms, PHONE);
    (h, id)
}

#[test]
fn report_only_mfa_is_reported_as_interrupted_while_the_sign_in_succeeds() {
    let (mut h, id) = harness(vec![mfa_policy("enabledForReportingButNotEnforced")]);
    assert_signed_in(
        &h.sign_in_with_password("ada@example.com", PASSWORD),
        &["pwd"],
    );
    let r = only_record(&mut h);
    assert_eq!(r["userId"], id.as_str());
    assert_eq!(r["userPrincipalName"], "ada@example.com");
    assert_eq!(r["appId"], APP);
    assert_eq!(r["status"]["errorCode"], 0);
    assert_eq!(r["conditionalAccessStatus"], "notApplied");
    let p = &r["appliedConditionalAccessPolicies"][0];
    assert_eq!(p["id"], "mfa-enabledForReportingButNotEnforced");
    assert_eq!(p["result"], "reportOnlyInterrupted");
    assert_eq!(p["enforcedGrantControls"], json!(["mfa"]));
    assert_eq!(r["authenticationRequirement"], "singleFactorAuthentication");
    assert_eq!(r["authenticationMethodsUsed"], json!(["Password"]));
}

#[test]
fn an_enabled_mfa_policy_is_a_success_once_mfa_is_done_and_a_failure_on_a_wrong_code() {
    let (mut h, _) = harness(vec![mfa_policy("enabled")]);
    let reply = h.sign_in_with_password("ada@example.com", PASSWORD);
    assert!(matches!(reply, Reply::MfaRequired { .. }), "{reply:?}");
    assert!(
        records(&h).is_empty(),
        "asking for MFA is not the end of an attempt"
    );
    let Reply::MfaMethods { methods } = h.list_methods() else {
        panic!("not at MFA")
    };
    h.select(&methods[0].id);
    h.code("00000000");
    let wrong = only_record(&mut h);
    assert_eq!(wrong["status"]["errorCode"], 500121);
    assert_eq!(wrong["conditionalAccessStatus"], "failure");
    assert_eq!(
        wrong["appliedConditionalAccessPolicies"][0]["result"],
        "failure"
    );
    assert_eq!(
        wrong["authenticationRequirement"],
        "multiFactorAuthentication"
    );
    let details = wrong["authenticationDetails"].as_array().unwrap();
    assert_eq!(details.len(), 2);
    assert_eq!(details[1]["authenticationMethod"], "SMS");
    assert_eq!(details[1]["succeeded"], false);

    let code = h.last_code(PHONE);
    assert_signed_in(&h.code(&code), &["pwd", "sms", "mfa"]);
    let ok = only_record(&mut h);
    assert_eq!(ok["status"]["errorCode"], 0);
    assert_eq!(ok["conditionalAccessStatus"], "success");
    assert_eq!(
        ok["appliedConditionalAccessPolicies"][0]["result"],
        "success"
    );
    assert_eq!(ok["authenticationMethodsUsed"], json!(["Password", "SMS"]));
    assert_eq!(ok["authenticationRequirement"], "multiFactorAuthentication");
    let text = serde_json::to_string(&ok).unwrap() + &serde_json::to_string(&wrong).unwrap();
    for secret in [PHONE, PASSWORD, &code, "00000000"] {
        assert!(!text.contains(secret), "a record holds `{secret}`");
    }
}

#[test]
fn a_sign_in_handed_to_the_browser_after_its_password_is_logged_as_interrupted() {
    let (mut h, id) = harness(vec![mfa_policy("enabled")]);
    // A client that cannot run the MFA loop: the second factor needs the web fallback.
    h.send(vestibule::flow::FlowInput::StartSignIn(
        vestibule::flow::StartSignIn {
            app_id: APP.into(),
            email: vestibule::pii::Pii::new("ada@example.com".into()),
            capabilities: vestibule::flow::Capabilities {
                mfa_required: false,
                registration_required: false,
            },
            challenge_types: Default::default(),
            facts: Default::default(),
            auth_contexts: vec![],
        },
    ));
    assert_eq!(h.challenge(), Reply::PasswordRequired);
    let reply = h.password(PASSWORD);
    assert!(matches!(reply, Reply::Redirect { .. }), "{reply:?}");
    let r = only_record(&mut h);
    assert_eq!(r["userId"], id.as_str());
    assert_eq!(r["status"]["errorCode"], 50074);
    assert_eq!(r["conditionalAccessStatus"], "failure");
    assert_eq!(
        r["appliedConditionalAccessPolicies"][0]["result"],
        "failure"
    );
    assert_eq!(r["authenticationMethodsUsed"], json!(["Password"]));

    // A client that cannot even run the password is not an attempt yet: no record.
    h.send(vestibule::flow::FlowInput::StartSignIn(
        vestibule::flow::StartSignIn {
            app_id: APP.into(),
            email: vestibule::pii::Pii::new("ada@example.com".into()),
            capabilities: Default::default(),
            challenge_types: vestibule::flow::ChallengeTypes {
                password: false,
                ..Default::default()
            },
            facts: Default::default(),
            auth_contexts: vec![],
        },
    ));
    assert!(matches!(h.challenge(), Reply::Redirect { .. }));
    assert!(records(&h).is_empty());
}

#[test]
fn failed_first_factors_unknown_users_and_blocks_each_leave_a_record() {
    let block = json!({
        "id": "block-all", "displayName": "Block", "state": "enabled",
        "conditions": {"clientAppTypes": ["all"], "applications": {"includeApplications": ["All"]},
                       "users": {"includeUsers": ["All"]}},
        "grantControls": {"operator": "OR", "builtInControls": ["block"]}
    });
    let (mut h, _) = harness(vec![block]);
    let reply = h.sign_in_with_password("ada@example.com", "wrong-password");
    assert_eq!(rejection_code(&reply), "invalid_password");
    let r = only_record(&mut h);
    assert_eq!(r["status"]["errorCode"], 50126);
    assert_eq!(r["conditionalAccessStatus"], "notApplied");
    assert_eq!(r["appliedConditionalAccessPolicies"], json!([]));
    assert_eq!(r["authenticationDetails"][0]["succeeded"], false);
    assert_eq!(r["authenticationMethodsUsed"], json!([]));

    let reply = h.password(PASSWORD);
    assert!(matches!(reply, Reply::Blocked { .. }), "{reply:?}");
    let r = only_record(&mut h);
    assert_eq!(r["status"]["errorCode"], 53003);
    assert_eq!(r["conditionalAccessStatus"], "failure");
    assert_eq!(
        r["appliedConditionalAccessPolicies"][0]["result"],
        "failure"
    );

    let reply = h.start_sign_in("nobody@example.com");
    assert_eq!(rejection_code(&reply), "user_not_found");
    let r = only_record(&mut h);
    assert_eq!(r["status"]["errorCode"], 50034);
    assert_eq!(r["userId"], Value::Null);
    assert_eq!(r["userPrincipalName"], "nobody@example.com");
}

#[test]
fn a_locked_account_is_logged_as_50053() {
    let (mut h, id) = harness(vec![]);
    h.start_sign_in("ada@example.com");
    h.challenge();
    // Lock it: fail until the lockout answers.
    let mut locked = false;
    for _ in 0..20 {
        let reply = h.password("wrong-password");
        if rejection_code(&reply) == "account_locked" {
            locked = true;
            break;
        }
    }
    assert!(locked, "{:?}", h.users[&id].lockout);
    let last = records(&h).pop().unwrap();
    assert_eq!(last["status"]["errorCode"], 50053);
}

#[test]
fn the_audit_event_json_stays_free_of_the_email() {
    let (mut h, _) = harness(vec![]);
    h.sign_in_with_password("ada@example.com", PASSWORD);
    assert!(h.audit.iter().any(|e| e.sign_in.is_some()));
    let json = serde_json::to_string(&h.audit).unwrap();
    assert!(!json.contains("ada@example.com"), "{json}");
}
