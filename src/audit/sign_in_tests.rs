//! Unit tests of the sign-in record builder, driven by real policy sets.

use super::*;
use crate::audit::{AppliedPolicy, applied_policies};
use crate::policy::{PolicySet, SatisfiedMethod, SignIn};
use crate::time::Timestamp;
use serde_json::{Value, json};

fn policy(id: &str, state: &str, app: &str, controls: &[&str]) -> Value {
    json!({
        "id": id, "displayName": format!("policy {id}"), "state": state,
        "conditions": {
            "clientAppTypes": ["all"],
            "applications": {"includeApplications": [app]},
            "users": {"includeUsers": ["All"]}
        },
        "grantControls": {"operator": "OR", "builtInControls": controls}
    })
}

const REPORT_ONLY: &str = "enabledForReportingButNotEnforced";

fn set(policies: Vec<Value>) -> PolicySet {
    PolicySet::from_json(&json!({ "policies": policies })).unwrap()
}

fn methods(list: &[AuthMethod]) -> Vec<SatisfiedMethod> {
    list.iter()
        .map(|m| SatisfiedMethod {
            method: *m,
            at: Timestamp(1_795_000_000),
        })
        .collect()
}

fn judged(set: &PolicySet, satisfied: &[AuthMethod]) -> Vec<AppliedPolicy> {
    let sign_in = SignIn {
        user_id: "u-1".into(),
        app_id: "shop".into(),
        ..SignIn::default()
    };
    applied_policies(set, &sign_in, &methods(satisfied), Timestamp(1_795_000_000)).1
}

fn event() -> AuditEvent {
    AuditEvent {
        at: Timestamp(1_795_000_000),
        flow: FlowKind::SignIn,
        event: "flow.signed_in".into(),
        user_id: Some("u-1".into()),
        app_id: "shop".into(),
        channel: None,
        reason: None,
        sign_in: None,
    }
}

fn evidence(
    outcome: SignInOutcome,
    steps: Vec<AuthStep>,
    ca: Option<Vec<AppliedPolicy>>,
) -> SignInEvidence {
    SignInEvidence {
        user_principal_name: Pii::new("ada@example.com".into()),
        ip_address: Some(Pii::new("203.0.113.9".into())),
        country: Some("NL".into()),
        outcome,
        steps,
        conditional_access: ca,
    }
}

fn step(method: AuthMethod, succeeded: bool, primary: bool) -> AuthStep {
    AuthStep {
        method,
        at: Timestamp(1_795_000_000),
        succeeded,
        primary,
        previously_satisfied: false,
    }
}

fn results(record: &SignInRecord) -> Vec<(String, String)> {
    record
        .applied_conditional_access_policies
        .iter()
        .map(|p| {
            let r = serde_json::to_value(p.result).unwrap();
            (p.id.clone(), r.as_str().unwrap().to_string())
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn report_only_policies_report_what_they_would_have_done_without_changing_the_status() {
    let s = set(vec![
        policy("ro-mfa", REPORT_ONLY, "All", &["mfa"]),
        policy("ro-block", REPORT_ONLY, "All", &["block"]),
        policy("ro-other-app", REPORT_ONLY, "bank", &["block"]),
        policy("off", "disabled", "All", &["block"]),
    ]);
    let ca = judged(&s, &[AuthMethod::Password]);
    let r = build(
        "id-1",
        &event(),
        &evidence(
            SignInOutcome::Success,
            vec![step(AuthMethod::Password, true, true)],
            Some(ca),
        ),
    );
    assert_eq!(
        results(&r),
        pairs(&[
            ("ro-mfa", "reportOnlyInterrupted"),
            ("ro-block", "reportOnlyFailure"),
            ("ro-other-app", "reportOnlyNotApplied"),
            ("off", "notEnabled"),
        ])
    );
    assert_eq!(r.conditional_access_status, "notApplied");
    assert_eq!(r.status.error_code, 0);
    assert_eq!(r.status.failure_reason, None);
    assert_eq!(r.authentication_requirement, "singleFactorAuthentication");
    let ro_mfa = r.applied_conditional_access_policies.first().unwrap();
    assert_eq!(ro_mfa.enforced_grant_controls, vec!["mfa".to_string()]);
    let not_applied = r.applied_conditional_access_policies.get(2).unwrap();
    assert!(not_applied.enforced_grant_controls.is_empty());

    // After a second factor, the report-only MFA policy would have been satisfied.
    let ca = judged(&s, &[AuthMethod::Password, AuthMethod::Sms]);
    let r = build(
        "id-2",
        &event(),
        &evidence(SignInOutcome::Success, vec![], Some(ca)),
    );
    assert_eq!(
        results(&r).first().map(|(_, r)| r.as_str()),
        Some("reportOnlySuccess")
    );
}

#[test]
fn enabled_policies_succeed_or_fail_and_set_the_status() {
    let s = set(vec![
        policy("mfa", "enabled", "All", &["mfa"]),
        policy("elsewhere", "enabled", "bank", &["block"]),
    ]);
    let ca = judged(&s, &[AuthMethod::Password, AuthMethod::Email]);
    let steps = vec![
        step(AuthMethod::Password, true, true),
        step(AuthMethod::Email, true, false),
    ];
    let r = build(
        "id",
        &event(),
        &evidence(SignInOutcome::Success, steps, Some(ca)),
    );
    assert_eq!(
        results(&r),
        pairs(&[("mfa", "success"), ("elsewhere", "notApplied")])
    );
    assert_eq!(r.conditional_access_status, "success");
    assert_eq!(r.authentication_requirement, "multiFactorAuthentication");
    assert_eq!(r.authentication_methods_used, vec!["Password", "Email OTP"]);

    // A wrong second-factor code: the MFA policy is not met, the attempt failed.
    let ca = judged(&s, &[AuthMethod::Password]);
    let steps = vec![
        step(AuthMethod::Password, true, true),
        step(AuthMethod::Sms, false, false),
    ];
    let outcome = SignInOutcome::Rejected {
        rejection: Rejection::InvalidCode { attempts_left: 4 },
        second_factor: true,
    };
    let r = build("id", &event(), &evidence(outcome, steps, Some(ca)));
    assert_eq!(
        results(&r),
        pairs(&[("mfa", "failure"), ("elsewhere", "notApplied")])
    );
    assert_eq!(r.conditional_access_status, "failure");
    assert_eq!(r.status.error_code, 500121);
    assert_eq!(r.authentication_methods_used, vec!["Password"]);
    let failed = r.authentication_details.last().unwrap();
    assert_eq!(
        (failed.authentication_method.as_str(), failed.succeeded),
        ("SMS", false)
    );
    assert_eq!(
        failed.authentication_step_requirement,
        "Multifactor authentication"
    );
    assert_eq!(
        Some(failed.authentication_step_result_detail.as_str()),
        r.status.failure_reason.as_deref()
    );
}

#[test]
fn a_block_is_53003_and_a_failure() {
    let s = set(vec![policy("block", "enabled", "All", &["block"])]);
    let ca = judged(&s, &[AuthMethod::Password]);
    let r = build(
        "id",
        &event(),
        &evidence(
            SignInOutcome::Blocked(BlockReason::Policy),
            vec![],
            Some(ca),
        ),
    );
    assert_eq!(results(&r), pairs(&[("block", "failure")]));
    assert_eq!(r.conditional_access_status, "failure");
    assert_eq!(r.status.error_code, 53003);
    let r = build(
        "id",
        &event(),
        &evidence(
            SignInOutcome::Blocked(BlockReason::NoUsableSecondFactor),
            vec![],
            None,
        ),
    );
    assert_eq!(r.status.error_code, 53004);
}

#[test]
fn first_factor_failures_have_no_policy_results() {
    let cases = [
        (Rejection::InvalidPassword, false, 50126),
        (Rejection::UserNotFound, false, 50034),
        (Rejection::UnauthorizedClient, false, 700016),
        (Rejection::AccountLocked { until: None }, false, 50053),
        (Rejection::InvalidCode { attempts_left: 1 }, false, 50181),
        (Rejection::CodeExpired, false, 50181),
        (Rejection::CodeAttemptsExhausted, true, 500121),
        (Rejection::FlowExpired, false, 552003),
    ];
    for (rejection, second_factor, code) in cases {
        let outcome = SignInOutcome::Rejected {
            rejection: rejection.clone(),
            second_factor,
        };
        let r = build("id", &event(), &evidence(outcome, vec![], None));
        assert_eq!(r.status.error_code, code, "{rejection:?}");
        assert!(r.status.failure_reason.is_some());
        assert_eq!(r.conditional_access_status, "notApplied");
        assert!(r.applied_conditional_access_policies.is_empty());
    }
}

#[test]
fn the_record_has_graph_names_and_round_trips_through_its_summary() {
    let r = build(
        "0193a5c8-0000-7000-8000-000000000000",
        &event(),
        &evidence(
            SignInOutcome::Success,
            vec![step(AuthMethod::Password, true, true)],
            Some(vec![]),
        ),
    );
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["createdDateTime"], "2026-11-18T11:06:40Z");
    assert_eq!(v["userPrincipalName"], "ada@example.com");
    assert_eq!(v["location"]["countryOrRegion"], "NL");
    assert_eq!(v["status"]["errorCode"], 0);
    assert_eq!(
        v["authenticationDetails"][0]["authenticationStepRequirement"],
        "Primary authentication"
    );
    assert_eq!(
        v["authenticationDetails"][0]["authenticationStepResultDetail"],
        "correct password"
    );
    let mut sign_up = event();
    sign_up.flow = FlowKind::SignUp;
    let steps = vec![step(AuthMethod::Password, true, true)];
    let after_sign_up = build(
        "id",
        &sign_up,
        &evidence(SignInOutcome::Success, steps, None),
    );
    assert_eq!(
        after_sign_up.authentication_details[0].authentication_step_result_detail,
        "password set in this flow"
    );
    let s = SignInSummary::of(&r);
    assert_eq!(SignInSummary::from_record_json(&v), Some(s.clone()));
    assert_eq!(SignInSummary::from_record_json(&json!({"id": "x"})), None);
    assert_eq!(s.at, 1_795_000_000);
    assert_eq!(s.user_principal_name, "ada@example.com");
    assert_eq!(s.error_code, 0);
    assert_eq!(s.conditional_access_status, "notApplied");
}
