//! Differential check over *wide* tenants: `tests/policy_props.rs` draws at most 9
//! policies, so every bit set it exercises is one 64-bit word. Here tenants have 60–209
//! policies (two to four words), built from documented condition shapes with a fixed seed,
//! and the optimised engine must agree with the reference evaluator, and What If with
//! enforcement, for every sign-in. (Review of issue #3; it passes: recorded as checked.)
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "a test harness: a disagreement must fail loudly"
)]

mod policy_reference;

use serde_json::{Value, json};
use vestibule::policy::{
    Decision, Enforcement, PolicyOutcome, PolicySet, SatisfiedMethod, SignIn, WhatIfRequest,
    enforce,
};
use vestibule::time::Timestamp;

/// A fixed-seed linear congruential generator: reproducible without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[(self.next() as usize) % xs.len()]
    }
    fn chance(&mut self, n: u64) -> bool {
        self.next() % n == 0
    }
}

fn policy(r: &mut Rng, i: usize) -> Value {
    let users = r.pick(&[
        json!({"includeUsers": ["All"]}), json!({"includeUsers": ["All"], "excludeUsers": ["u1"]}),
        json!({"includeUsers": ["u2"]}), json!({"includeGroups": ["g1"], "excludeGroups": ["g2"]}),
        json!({"includeRoles": ["r1"]}), json!({"includeUsers": ["GuestsOrExternalUsers"]}),
        json!({"includeUsers": ["All"], "excludeUsers": ["GuestsOrExternalUsers"]}),
        json!({"includeGuestsOrExternalUsers": {"guestOrExternalUserTypes": "b2bCollaborationGuest,internalGuest", "externalTenants": {"membershipKind": "enumerated", "members": ["t1"]}}}),
        json!({"includeUsers": ["All"], "excludeGuestsOrExternalUsers": {"guestOrExternalUserTypes": "b2bCollaborationGuest", "externalTenants": {"membershipKind": "all"}}}),
        json!({"includeUsers": ["None"]}),
    ]).clone();
    let apps = r
        .pick(&[
            json!({"includeApplications": ["All"]}),
            json!({"includeApplications": ["All"], "excludeApplications": ["a1"]}),
            json!({"includeApplications": ["a1", "A2"]}),
            json!({"includeUserActions": ["urn:user:registersecurityinfo"]}),
            json!({"includeAuthenticationContextClassReferences": ["c1"]}),
            json!({"includeApplications": ["None"]}),
        ])
        .clone();
    let mut c = json!({"users": users, "applications": apps});
    if r.chance(3) {
        c["clientAppTypes"] = r
            .pick(&[
                json!(["browser"]),
                json!(["exchangeActiveSync", "other"]),
                json!(["all"]),
                json!(["mobileAppsAndDesktopClients", "browser"]),
            ])
            .clone();
    }
    if r.chance(3) {
        c["platforms"] = r
            .pick(&[
                json!({"includePlatforms": ["all"], "excludePlatforms": ["iOS", "android"]}),
                json!({"includePlatforms": ["android"]}),
            ])
            .clone();
    }
    if r.chance(3) {
        c["locations"] = r.pick(&[json!({"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]}), json!({"includeLocations": ["loc-bad"]}), json!({"includeLocations": ["loc-office", "loc-cafe"], "excludeLocations": ["loc-cafe"]})]).clone();
    }
    if r.chance(3) {
        c["signInRiskLevels"] = r
            .pick(&[
                json!(["high", "medium"]),
                json!(["none"]),
                json!(["hidden"]),
            ])
            .clone();
    }
    if r.chance(4) {
        c["userRiskLevels"] = r.pick(&[json!(["high"]), json!(["none", "low"])]).clone();
    }
    if r.chance(5) {
        c["devices"] = r.pick(&[json!({"deviceFilter": {"mode": "exclude", "rule": "device.trustType -eq \"ServerAD\""}}), json!({"deviceFilter": {"mode": "include", "rule": "device.extensionAttribute1 -ne \"SAW\""}})]).clone();
    }
    if r.chance(5) {
        c["authenticationFlows"] = r
            .pick(&[
                json!({"transferMethods": "deviceCodeFlow"}),
                json!({"transferMethods": "deviceCodeFlow,authenticationTransfer"}),
            ])
            .clone();
    }
    let grant = r.pick(&[
        json!({"operator": "OR", "builtInControls": ["mfa"]}), json!({"operator": "OR", "builtInControls": ["block"]}),
        json!({"operator": "AND", "builtInControls": ["mfa", "compliantDevice"]}), json!({"operator": "OR", "builtInControls": ["mfa", "compliantDevice"]}),
        json!({"operator": "OR", "authenticationStrength": {"id": "00000000-0000-0000-0000-000000000002"}}),
        json!({"operator": "OR", "authenticationStrength": {"allowedCombinations": ["password,email", "sms,email"]}}),
        json!({"operator": "OR", "builtInControls": []}),
    ]).clone();
    let state = *r.pick(&[
        "enabled",
        "enabled",
        "disabled",
        "enabledForReportingButNotEnforced",
    ]);
    let is_action = c["applications"].get("includeUserActions").is_some();
    let state = if is_action && state == "enabledForReportingButNotEnforced" {
        "enabled"
    } else {
        state
    };
    let mut p = json!({"id": format!("p{i}"), "displayName": format!("P{i}"), "state": state, "conditions": c, "grantControls": grant});
    if r.chance(4) {
        p["sessionControls"] = r.pick(&[json!({"signInFrequency": {"isEnabled": true, "type": "hours", "value": 1}}),
            json!({"signInFrequency": {"isEnabled": true, "frequencyInterval": "everyTime"}}),
            json!({"signInFrequency": {"isEnabled": true, "type": "hours", "value": 2, "authenticationType": "secondaryAuthentication"}})]).clone();
    }
    p
}

fn sign_in(r: &mut Rng) -> SignIn {
    let guest = r.chance(4);
    serde_json::from_value(json!({
        "userId": r.pick(&["u1", "u2", "U1", "u9"]), "appId": r.pick(&["a1", "a2", "a3"]),
        "isGuest": guest, "externalUserType": if guest { Some(*r.pick(&["b2bCollaborationGuest", "internalGuest", "serviceProvider"])) } else { None },
        "externalTenantId": r.pick(&["t1", "t2"]),
        "userAction": if r.chance(6) { Some("urn:user:registersecurityinfo") } else { None },
        "groupIds": r.pick(&[json!([]), json!(["g1"]), json!(["G1", "g2"])]), "roleIds": r.pick(&[json!([]), json!(["R1"])]),
        "authContexts": r.pick(&[json!([]), json!(["C1"])]),
        "ipAddress": r.pick(&[Value::Null, json!("10.1.2.3"), json!("10.2.3.4"), json!("2001:db8::5"), json!("192.0.2.1")]),
        "country": r.pick(&[Value::Null, json!("KP"), json!("us")]),
        "clientAppType": r.pick(&[Value::Null, json!("browser"), json!("exchangeActiveSync"), json!("easSupported"), json!("other")]),
        "devicePlatform": r.pick(&[Value::Null, json!("android"), json!("iOS"), json!("linux")]),
        "signInRisk": r.pick(&[Value::Null, json!("high"), json!("hidden"), json!("none")]),
        "userRisk": r.pick(&[Value::Null, json!("high"), json!("low")]),
        "device": r.pick(&[Value::Null, json!({"trustType": "ServerAD"}), json!({"isCompliant": true, "extensionAttribute1": "saw"})]),
        "authenticationFlow": r.pick(&[Value::Null, json!("deviceCodeFlow"), json!("authenticationTransfer")]),
    })).unwrap()
}

#[test]
fn wide_tenants_agree_with_reference() {
    let mut r = Rng(42);
    let locations = json!([
        {"@odata.type": "#microsoft.graph.ipNamedLocation", "id": "loc-office", "displayName": "Office", "isTrusted": true,
         "ipRanges": [{"cidrAddress": "10.1.0.0/16"}, {"cidrAddress": "2001:db8::/48"}]},
        {"@odata.type": "#microsoft.graph.ipNamedLocation", "id": "loc-cafe", "displayName": "Cafe", "ipRanges": [{"cidrAddress": "10.2.3.0/24"}]},
        {"@odata.type": "#microsoft.graph.countryNamedLocation", "id": "loc-bad", "displayName": "Bad", "countriesAndRegions": ["KP"], "includeUnknownCountriesAndRegions": true}]);
    let mut checked = 0;
    for t in 0..40 {
        let n = 60 + (r.next() as usize % 150);
        let policies: Vec<Value> = (0..n).map(|i| policy(&mut r, i)).collect();
        let set = PolicySet::from_json(&json!({"policies": policies, "namedLocations": locations}))
            .unwrap_or_else(|e| panic!("{e:?}"));
        for _ in 0..60 {
            let s = sign_in(&mut r);
            let now = 1_000_000u64;
            let m: Vec<SatisfiedMethod> = serde_json::from_value(r.pick(&[json!([{"method":"password","at": now}]), json!([{"method":"password","at": now - 5000},{"method":"sms","at": now - 100}]), json!([{"method":"email","at": now - 400},{"method":"sms","at": now}])]).clone()).unwrap();
            let fast = enforce(&set, &s, &m, Timestamp(now));
            let slow = policy_reference::enforce(
                set.policies(),
                set.named_locations(),
                &s,
                &m,
                Timestamp(now),
            );
            let canon = |mut e: Enforcement| {
                if let Decision::Require(r) = &mut e.decision {
                    for s in &mut r.authentication_strengths {
                        s.sort();
                    }
                }
                e
            };
            assert_eq!(
                canon(fast.clone()),
                canon(slow),
                "tenant {t} n {n} signin {s:?}"
            );
            let wi = set.what_if_results(&WhatIfRequest {
                sign_in: s.clone(),
                applied_policies_only: false,
            });
            for (w, p) in wi.iter().zip(&fast.policies) {
                let applied = !matches!(
                    p.result,
                    PolicyOutcome::NotApplied
                        | PolicyOutcome::ReportOnlyNotApplied
                        | PolicyOutcome::NotEnabled
                );
                assert_eq!(w.policy_applies, applied);
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 2400);
}
