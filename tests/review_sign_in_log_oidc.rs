//! Review (session 6, hookreview): the sign-in log record of a hosted-page (OIDC) sign-in.
//!
//! The Worker's authorization endpoint always wraps the tenant's Conditional Access
//! policies in `oidc::acr::RequireMfa` (`src/worker/oidc/drive.rs`, with `mfa` false
//! unless `acr_values` asks for 2). `RequireMfa` implements `decide` but not
//! `applied_policies`, so it reports the trait's default, no policies: every sign-in made
//! through the hosted pages is logged with `appliedConditionalAccessPolicies: []` and
//! `conditionalAccessStatus: notApplied`, report-only results included, whatever the
//! tenant's policies did. The same journey through native auth (the policy set itself)
//! is logged with the policy. Fixed in this branch: `RequireMfa` forwards
//! `applied_policies` to the tenant's policies.
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
use vestibule::flow::{AccessPolicy, Channel, LocalAccount, MfaEnforcement};
use vestibule::oidc::acr::RequireMfa;

const PASSWORD: &str = "Correct-Horse-42";

fn report_only_mfa() -> vestibule::policy::PolicySet {
    policies(json!([{
        "id": "mfa-report-only", "displayName": "Require MFA", "state": "enabledForReportingButNotEnforced",
        "conditions": {"clientAppTypes": ["all"], "applications": {"includeApplications": ["All"]},
                       "users": {"includeUsers": ["All"]}},
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}
    }]))
}

/// Signs in with a password under `policy`; returns the one sign-in record.
fn record_under(policy: impl AccessPolicy + 'static) -> Value {
    let mut h = Harness::new(config(
        LocalAccount::EmailPassword,
        MfaEnforcement::Conditional,
    ))
    .with_policy(policy);
    let id = h.add_password_user("ada@example.com", PASSWORD);
    h.add_method(&id, Channel::Sms, "+15550001111");
    assert_signed_in(
        &h.sign_in_with_password("ada@example.com", PASSWORD),
        &["pwd"],
    );
    let mut records: Vec<Value> = h
        .audit
        .iter()
        .filter_map(|e| {
            e.sign_in
                .as_ref()
                .map(|ev| serde_json::to_value(build("id", e, ev)).unwrap())
        })
        .collect();
    assert_eq!(records.len(), 1, "{records:#?}");
    records.pop().unwrap()
}

#[test]
fn native_auth_logs_the_report_only_policy() {
    let r = record_under(report_only_mfa());
    assert_eq!(
        r["appliedConditionalAccessPolicies"][0]["result"],
        "reportOnlyInterrupted"
    );
}

#[test]
fn the_hosted_pages_wrapper_logs_the_same_policies() {
    let set: &'static vestibule::policy::PolicySet = Box::leak(Box::new(report_only_mfa()));
    let r = record_under(RequireMfa {
        inner: set,
        mfa: false,
    });
    assert_eq!(
        r["appliedConditionalAccessPolicies"],
        record_under(report_only_mfa())["appliedConditionalAccessPolicies"],
        "{r:#}"
    );
}
