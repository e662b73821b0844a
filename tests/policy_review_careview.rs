//! Review of the Conditional Access engine (issue #3): each test pins one behaviour an
//! Entra admin would expect, quoting the reference it comes from. Tests marked
//! `#[ignore = "defect: ..."]` fail on the current engine and show a defect still open; run
//! them with `cargo test --test policy_review_careview -- --ignored`. The others were
//! defects fixed on this branch (their doc comments say where).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests: a broken expectation must fail loudly"
)]

use serde_json::{Value, json};
use vestibule::policy::{evaluate_json, validate_policies_json, what_if_json};

fn run(f: fn(&str) -> String, input: &Value) -> Value {
    serde_json::from_str(&f(&input.to_string())).unwrap()
}

fn what_if(input: &Value) -> Value {
    run(what_if_json, input)
}

fn evaluate(input: &Value) -> Value {
    run(evaluate_json, input)
}

fn validate(input: &Value) -> Value {
    run(validate_policies_json, input)
}

/// `[id, policyApplies, analysisReasons]` of every listed policy.
fn listed(out: &Value) -> Vec<(String, bool, String)> {
    out["value"]
        .as_array()
        .unwrap_or_else(|| panic!("no value in {out}"))
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                p["policyApplies"].as_bool().unwrap(),
                p["analysisReasons"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn result_of<'a>(out: &'a Value, id: &str) -> &'a Value {
    out["policies"]
        .as_array()
        .unwrap_or_else(|| panic!("no policies in {out}"))
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("no result for {id} in {out}"))
}

/// Graph's own `evaluate` example 3 (microsoft-graph-docs-contrib
/// `api-reference/v1.0/api/conditionalaccessroot-evaluate.md`, "Example 3: Identify
/// conditional access policies that would apply to a user performing a user action"): the
/// request is a `userActionContext` `registerSecurityInformation` for user `15dc174b-…`,
/// and the response lists policy `37d51c45-…` ("All Users except au1_All resources_user
/// risk H_Password change", `includeApplications: ["All"]`, `userRiskLevels: ["high"]`)
/// with `"policyApplies": true, "analysisReasons": "notSet"`, beside the user-action
/// policy. So an All-resources policy covers a user action. The engine reports
/// `application` instead (docs/policy-semantics.md decided "Application policies (even
/// `All`) do not"); the corpus case for example 3 swapped in the excluded user, which hides
/// the difference.
#[test]
#[ignore = "defect: an All-resources policy does not apply to a user action (Graph evaluate example 3 says it does)"]
fn graph_evaluate_example_3_all_resources_policy_applies_to_a_user_action() {
    let all_resources = json!({
        "id": "37d51c45-8c60-4f82-98e0-6e1451cecf7c", "templateId": null,
        "displayName": "All Users except au1_All resources_user risk H_Password change",
        "state": "enabledForReportingButNotEnforced", "partialEnablementStrategy": null, "sessionControls": null,
        "conditions": {"userRiskLevels": ["high"], "signInRiskLevels": [], "clientAppTypes": ["all"],
            "servicePrincipalRiskLevels": [], "insiderRiskLevels": null, "clients": null, "platforms": null,
            "locations": null, "times": null, "deviceStates": null, "devices": null, "clientApplications": null,
            "authenticationFlows": null,
            "applications": {"includeApplications": ["All"], "excludeApplications": [], "includeUserActions": [],
                "includeAuthenticationContextClassReferences": [], "applicationFilter": null, "networkAccess": null,
                "globalSecureAccess": null},
            "users": {"includeUsers": ["All"], "excludeUsers": ["f7ca74b0-8562-4083-b66c-0476f942cfd0"],
                "includeGroups": [], "excludeGroups": [], "includeRoles": [], "excludeRoles": [],
                "includeGuestsOrExternalUsers": null, "excludeGuestsOrExternalUsers": null}},
        "grantControls": {"operator": "AND", "builtInControls": ["mfa", "passwordChange"],
            "customAuthenticationFactors": [], "termsOfUse": [], "authenticationStrength": null}
    });
    let user_action = json!({
        "id": "11083471-5a50-43ad-90c0-23f1af0869e1",
        "displayName": "All users except au1_User action RS info_No conditions_Auth strenfth MFA",
        "state": "enabled",
        "conditions": {"clientAppTypes": ["all"],
            "applications": {"includeApplications": [], "includeUserActions": ["urn:user:registersecurityinfo"]},
            "users": {"includeUsers": ["All"], "excludeUsers": ["f7ca74b0-8562-4083-b66c-0476f942cfd0"]}},
        "grantControls": {"operator": "OR", "authenticationStrength": {"id": "00000000-0000-0000-0000-000000000002"}}
    });
    let request = json!({
        "signInIdentity": {"@odata.type": "#microsoft.graph.userSignIn", "userId": "15dc174b-f34c-4588-ac45-61d6e05dce93"},
        "signInContext": {"@odata.type": "#microsoft.graph.userActionContext", "userAction": "registerSecurityInformation"},
        "signInConditions": {"devicePlatform": "macOS", "clientAppType": "browser", "signInRiskLevel": "low",
            "userRiskLevel": "high", "servicePrincipalRiskLevel": "none", "country": "CA", "ipAddress": "40.77.182.32",
            "insiderRiskLevel": "minor", "authenticationFlow": {"transferMethod": "deviceCodeFlow"},
            "deviceInfo": {"trustType": "EntraID"}},
        "appliedPoliciesOnly": false
    });
    let out = what_if(&json!({"policies": [all_resources, user_action], "request": request}));
    assert_eq!(
        listed(&out),
        vec![
            (
                "37d51c45-8c60-4f82-98e0-6e1451cecf7c".into(),
                true,
                "notSet".into()
            ),
            (
                "11083471-5a50-43ad-90c0-23f1af0869e1".into(),
                true,
                "notSet".into()
            ),
        ],
        "{out}"
    );
}

/// The same gap in enforcement: the flow engine evaluates a method change as the user
/// action `urn:user:registersecurityinfo` (`src/flow/gate.rs`), so a tenant-wide block on
/// All resources (here: blocked countries, reference §6.5) does not stop a session from
/// changing its MFA methods from a blocked country.
#[test]
#[ignore = "defect: an All-resources block does not apply to a security-info registration"]
fn an_all_resources_country_block_also_blocks_security_info_registration() {
    let input = json!({
        "policies": [{
            "id": "block-countries", "displayName": "Block access from blocked countries", "state": "enabled",
            "conditions": {"clientAppTypes": ["all"], "applications": {"includeApplications": ["All"]},
                "users": {"includeUsers": ["All"]},
                "locations": {"includeLocations": ["1c4427fd-0885-4a3d-8b23-09a899ffa959"]}},
            "grantControls": {"operator": "OR", "builtInControls": ["block"]}}],
        "namedLocations": [{"@odata.type": "#microsoft.graph.countryNamedLocation",
            "id": "1c4427fd-0885-4a3d-8b23-09a899ffa959", "displayName": "Blocked countries",
            "countriesAndRegions": ["KP", "IR"], "includeUnknownCountriesAndRegions": false}],
        "signIn": {"userId": "u1", "appId": "app", "userAction": "urn:user:registersecurityinfo", "country": "KP"},
        "satisfied": [{"method": "password", "at": 1000}, {"method": "sms", "at": 1000}],
        "now": 1000
    });
    let out = evaluate(&input);
    assert_eq!(out["decision"]["type"], "block", "{out}");
}

/// A sign-in frequency with `authenticationType` `primaryAndSecondaryAuthentication` (the
/// default) must make the user repeat the first factor once it is older than the window.
/// Reference §2.14 (S-CA-SIF): "SIF applies to MFA as well as first factor"; §1.7 lists
/// `authenticationType` `primaryAndSecondaryAuthentication` | `secondaryAuthentication`,
/// and docs/policy-semantics.md says only `secondaryAuthentication` means "the first factor
/// never expires". The engine asks for reauthentication only when *no* method is fresh, so
/// one fresh second factor (an SMS step-up ten minutes ago) keeps a six-day-old password
/// sign-in alive under a one-hour frequency, and a fresh SMS + email OTP meet `mfa` without
/// the password ever being entered again. Fixed (`grant::CompiledGrant::evaluate`: the first
/// factor, the earliest method, must itself be fresh).
#[test]
fn primary_and_secondary_frequency_expires_the_first_factor() {
    let sif = json!({"isEnabled": true, "type": "hours", "value": 1,
        "authenticationType": "primaryAndSecondaryAuthentication", "frequencyInterval": "timeBased"});
    let policy = |id: &str, grant: Value| {
        json!({"id": id, "displayName": id, "state": "enabled",
            "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}},
            "grantControls": grant, "sessionControls": {"signInFrequency": sif}})
    };
    let now = 1_000_000u64;
    let six_days_ago = now - 6 * 86_400;
    // Session-only policy ("sign in again every hour"): password 6 days old, SMS 10 minutes old.
    let out = evaluate(&json!({
        "policies": [policy("hourly", Value::Null)],
        "signIn": {"userId": "u1", "appId": "app"},
        "satisfied": [{"method": "password", "at": six_days_ago}, {"method": "sms", "at": now - 600}],
        "now": now
    }));
    assert_eq!(out["decision"]["type"], "require", "{out}");
    assert_eq!(out["decision"]["reauthentication"], true, "{out}");
    // With `mfa`: SMS and email OTP fresh, the password six days old.
    let out = evaluate(&json!({
        "policies": [policy("hourly-mfa", json!({"operator": "OR", "builtInControls": ["mfa"]}))],
        "signIn": {"userId": "u1", "appId": "app"},
        "satisfied": [{"method": "password", "at": six_days_ago}, {"method": "sms", "at": now - 600},
                      {"method": "email", "at": now - 60}],
        "now": now
    }));
    assert_eq!(out["decision"]["type"], "require", "{out}");
    assert_eq!(out["decision"]["reauthentication"], true, "{out}");
}

/// An IPv6 range written in IPv4-mapped form is accepted but can never match: the engine
/// turns a mapped sign-in address into plain IPv4 before comparing, and an IPv6 range never
/// contains an IPv4 address. So `::ffff:10.1.2.3` is not in `::ffff:10.0.0.0/104`, which
/// contains it by plain IPv6 arithmetic, and the block policy on that location never fires.
/// Reference §1.8: `ipRanges` hold `#microsoft.graph.iPv6CidrRange` `cidrAddress` values;
/// docs/policy-semantics.md: "IPv4-mapped IPv6 address | Matched as the IPv4 address it
/// carries" (the range itself is not mapped). Fixed (`Cidr::normalized`, applied when a
/// named location is parsed).
#[test]
fn an_ipv4_mapped_ipv6_range_contains_its_mapped_addresses() {
    let out = evaluate(&json!({
        "policies": [{"id": "p", "displayName": "Block the lab", "state": "enabled",
            "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]},
                "locations": {"includeLocations": ["lab"]}},
            "grantControls": {"operator": "OR", "builtInControls": ["block"]}}],
        "namedLocations": [{"@odata.type": "#microsoft.graph.ipNamedLocation", "id": "lab", "displayName": "Lab",
            "ipRanges": [{"@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "::ffff:10.0.0.0/104"}]}],
        "signIn": {"userId": "u", "appId": "a", "ipAddress": "::ffff:10.1.2.3"},
        "now": 100
    }));
    assert_eq!(out["decision"]["type"], "block", "{out}");
}

/// The device filter limit is 3072 *characters* (reference §1.5: "The rule can be at most
/// 3072 characters"); the engine counted UTF-8 bytes, so a 1625-character rule naming a
/// device with accented letters was refused as "longer than 3072 characters". Fixed
/// (`device_filter::too_long`).
#[test]
fn device_filter_limit_counts_characters_not_bytes() {
    let rule = format!("device.displayName -eq \"{}\"", "é".repeat(1600));
    assert!(rule.chars().count() <= 3072 && rule.len() > 3072);
    let out = validate(
        &json!({"policies": [{"id": "p", "displayName": "p", "state": "enabled",
        "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]},
            "devices": {"deviceFilter": {"mode": "exclude", "rule": rule}}},
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}]}),
    );
    assert_eq!(out["valid"], true, "{out}");
    // The limit itself still holds, counted in characters: 3072 pass, 3073 do not.
    for (extra, valid) in [(0usize, true), (1, false)] {
        let head = "device.displayName -eq \"\"";
        let rule = format!("{head}{}", " ".repeat(3072 - head.len() + extra));
        let out = validate(
            &json!({"policies": [{"id": "p", "displayName": "p", "state": "enabled",
            "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]},
                "devices": {"deviceFilter": {"mode": "exclude", "rule": rule}}},
            "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}]}),
        );
        assert_eq!(out["valid"], valid, "{extra}: {out}");
    }
}

/// Graph ids are GUIDs and the engine compares every other id without regard to case
/// (docs/policy-semantics.md), and it refuses two named locations whose ids differ only in
/// case; but two policies `ABC-1` and `abc-1` were both accepted, so one Graph policy given
/// twice (once as exported, once retyped) was enforced and reported twice. Fixed in
/// `set::check_references`.
#[test]
fn policy_ids_that_differ_only_in_case_are_duplicates() {
    let policy = |id: &str| {
        json!({"id": id, "displayName": "p", "state": "enabled",
            "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}},
            "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}})
    };
    let out = validate(
        &json!({"policies": [policy("DF9E6F15-2B60-4E78-B990-B2DA33A10886"),
                                             policy("df9e6f15-2b60-4e78-b990-b2da33a10886")]}),
    );
    assert_eq!(out["valid"], false, "{out}");
    assert_eq!(out["errors"][0]["code"], "policy.duplicate_id", "{out}");
    assert_eq!(out["errors"][0]["target"], "policies[1].id", "{out}");
}

/// Legacy clients cannot perform MFA, so a policy that requires it blocks them. Reference
/// §2.9 (S-CA-COND): "Legacy auth can't do MFA/device state, so 'they are blocked by
/// Conditional Access grant controls, like requiring MFA or compliant devices'.
/// `exchangeActiveSync` + `other` = legacy." The engine answers an Exchange ActiveSync or
/// `other` sign-in under "Require MFA for all users" with `require` `mfa` (a prompt the
/// client can never show) instead of `block`, and a report-only copy would be recorded as
/// `reportOnlyInterrupted` instead of `reportOnlyFailure`. Fixed (`grant::cannot_prompt`).
#[test]
fn legacy_clients_are_blocked_by_an_mfa_requirement() {
    for client in ["exchangeActiveSync", "easSupported", "other"] {
        let out = evaluate(&json!({
            "policies": [
                {"id": "mfa-all", "displayName": "Require MFA for all users", "state": "enabled",
                 "conditions": {"clientAppTypes": ["all"], "users": {"includeUsers": ["All"]},
                    "applications": {"includeApplications": ["All"]}},
                 "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}},
                {"id": "mfa-all-ro", "displayName": "Require MFA for all users (report-only)",
                 "state": "enabledForReportingButNotEnforced",
                 "conditions": {"clientAppTypes": ["all"], "users": {"includeUsers": ["All"]},
                    "applications": {"includeApplications": ["All"]}},
                 "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}],
            "signIn": {"userId": "u1", "appId": "00000002-0000-0ff1-ce00-000000000000", "clientAppType": client},
            "satisfied": [{"method": "password", "at": 1000}],
            "now": 1000
        }));
        assert_eq!(out["decision"]["type"], "block", "{client}: {out}");
        assert_eq!(
            result_of(&out, "mfa-all-ro")["result"],
            "reportOnlyFailure",
            "{client}: {out}"
        );
    }
}

/// `signIn.appId` is required (a missing one is `policy.missing_field`), but an empty string
/// passes and then matches no application policy at all, not even `All`: a caller whose app
/// id variable is empty gets `allow` past a tenant-wide block. The project refuses a missing
/// `policies` for exactly this reason (README: "a missing or null one is
/// `policy.missing_field`, never 'no policies, allow'"); Graph has no sign-in without a
/// target resource (reference §1.4, §8: `signInContext` is required). Fixed
/// (`parse::request::sign_in` refuses it unless the sign-in is a user action).
#[test]
fn an_empty_app_id_is_an_input_error_not_an_exemption() {
    let out = evaluate(&json!({
        "policies": [{"id": "block-all", "displayName": "Block everyone", "state": "enabled",
            "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}},
            "grantControls": {"operator": "OR", "builtInControls": ["block"]}}],
        "signIn": {"userId": "u1", "appId": ""},
        "now": 1000
    }));
    let refused =
        out["error"]["code"] == "policy.invalid_value" && out["error"]["target"] == "signIn.appId";
    let blocked = out["decision"]["type"] == "block";
    assert!(refused || blocked, "{out}");
}

/// Graph's `signInConditions.insiderRiskLevel` accepts `none`, its documented default
/// (microsoft-graph-docs-contrib `api-reference/v1.0/resources/signinconditions.md`:
/// "The possible value is: `none`, `minor`, `moderate`, `elevated`, `unknownFutureValue`.
/// Default value is `none`."). The What If parser refused it ("expected `minor`, `moderate`
/// or `elevated`"), so a request that spelt out the default was an error. Fixed in
/// `parse::request::sign_in_conditions`.
#[test]
fn what_if_accepts_insider_risk_none() {
    let out = what_if(&json!({
        "policies": [],
        "request": {
            "signInIdentity": {"@odata.type": "#microsoft.graph.userSignIn", "userId": "u1"},
            "signInContext": {"@odata.type": "#microsoft.graph.applicationContext", "includeApplications": ["a"]},
            "signInConditions": {"insiderRiskLevel": "none"}
        }
    }));
    assert_eq!(out, json!({"value": []}));
}

/// A named location exactly as Graph returns it on its own (reference §6.6, S-GD-NL:
/// "Response 201 adds `@odata.context`, `id`, `createdDateTime`, `modifiedDateTime`") is
/// refused: `id`, `createdDateTime` and `modifiedDateTime` are accepted but `@odata.context`
/// is an unknown field, so an admin who pastes a `GET …/namedLocations/{id}` answer gets
/// `policy.unknown_field` (the same holds for a policy from `GET …/policies/{id}`). Accepting
/// it in the parser alone would let the Worker's admin API store and echo a client-supplied
/// `@odata.context`, so it is dropped when read. Fixed: the parsers accept it (a string) and
/// drop it from the echoed source, and `admin::Collection` drops it before storing.
#[test]
fn a_named_location_as_graph_returns_it_is_accepted() {
    let location = json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/namedLocations/$entity",
        "@odata.type": "#microsoft.graph.ipNamedLocation",
        "id": "0854951d-5fc0-4eb1-b392-9b2c9d7949c2",
        "displayName": "Untrusted IP named location",
        "modifiedDateTime": "2021-01-01T00:00:00Z", "createdDateTime": "2021-01-01T00:00:00Z",
        "isTrusted": false,
        "ipRanges": [
            {"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "12.34.221.11/22"},
            {"@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "2001:0:9d38:90d6:0:0:0:0/63"}]
    });
    let out = validate(&json!({"policies": [], "namedLocations": [location]}));
    assert_eq!(out["valid"], true, "{out}");
}
