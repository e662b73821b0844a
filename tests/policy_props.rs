//! Property tests of the Conditional Access engine over random tenants and sign-ins:
//!
//! - differential: the optimised engine agrees with the simple reference evaluator;
//! - an applicable enabled block always blocks;
//! - report-only policies never change the decision;
//! - adding an exclusion never adds a requirement;
//! - evaluation is deterministic and independent of policy order;
//! - What If agrees with enforcement on which policies apply;
//! - no input, however malformed, makes the JSON entry points panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "property tests: a broken expectation must fail loudly"
)]

mod policy_reference;

use proptest::prelude::*;
use serde_json::{Value, json};
use vestibule::policy::{
    Decision, Enforcement, PolicySet, Requirements, SatisfiedMethod, SignIn, WhatIfRequest,
    enforce, enforce_into, evaluate_json, validate_policies_json, what_if_json,
};
use vestibule::time::Timestamp;

const NOW: u64 = 1_000_000;

fn named_locations() -> Value {
    json!([
        {"@odata.type": "#microsoft.graph.ipNamedLocation", "id": "loc-office", "displayName": "Office", "isTrusted": true,
         "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "10.1.0.0/16"},
                      {"@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "2001:db8::/48"}]},
        {"@odata.type": "#microsoft.graph.ipNamedLocation", "id": "loc-cafe", "displayName": "Cafe", "isTrusted": false,
         "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "10.2.3.0/24"}]},
        {"@odata.type": "#microsoft.graph.countryNamedLocation", "id": "loc-bad", "displayName": "Blocked countries",
         "countriesAndRegions": ["KP", "IR"], "includeUnknownCountriesAndRegions": true}
    ])
}

fn subset(items: &'static [&'static str]) -> impl Strategy<Value = Vec<&'static str>> {
    proptest::sample::subsequence(items, 0..=items.len())
}

fn users() -> impl Strategy<Value = Value> {
    let ids: &'static [&'static str] = &["All", "None", "GuestsOrExternalUsers", "u1", "u2", "U3"];
    (
        prop_oneof![
            Just(vec!["All"]),
            Just(vec!["None"]),
            proptest::sample::subsequence(ids, 0..3)
        ],
        proptest::sample::subsequence(&["GuestsOrExternalUsers", "u1", "u2", "u3"][..], 0..2),
        subset(&["g1", "G2"]),
        subset(&["g2", "g3"]),
        subset(&["r1"]),
        subset(&["r2"]),
        prop::option::of(guests()),
        prop::option::of(guests()),
    )
        .prop_map(|(mut iu, eu, ig, eg, ir, er, ig2, eg2)| {
            if iu.contains(&"None") {
                iu = vec!["None"];
            }
            json!({"includeUsers": iu, "excludeUsers": eu, "includeGroups": ig, "excludeGroups": eg,
                   "includeRoles": ir, "excludeRoles": er,
                   "includeGuestsOrExternalUsers": ig2, "excludeGuestsOrExternalUsers": eg2})
        })
}

fn guests() -> impl Strategy<Value = Value> {
    (
        proptest::sample::subsequence(
            &[
                "internalGuest",
                "b2bCollaborationGuest",
                "b2bCollaborationMember",
                "serviceProvider",
            ][..],
            1..3,
        ),
        prop::bool::ANY,
    )
        .prop_map(|(types, all)| {
            let tenants = if all {
                json!({"membershipKind": "all"})
            } else {
                json!({"membershipKind": "enumerated", "members": ["t1"]})
            };
            json!({"guestOrExternalUserTypes": types.join(","), "externalTenants": tenants})
        })
}

fn applications() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (prop_oneof![Just(vec!["All"]), Just(vec!["None"]), proptest::sample::subsequence(&["a1", "A2"][..], 1..=2)],
              subset(&["a1", "a3"]))
            .prop_map(|(inc, exc)| {
                let exc = if inc == ["None"] { vec![] } else { exc };
                json!({"includeApplications": inc, "excludeApplications": exc})
            }),
        1 => proptest::sample::subsequence(&["urn:user:registersecurityinfo", "urn:user:registerdevice"][..], 1..=2)
            .prop_map(|a| json!({"includeUserActions": a})),
        1 => proptest::sample::subsequence(&["c1", "c2"][..], 1..=2)
            .prop_map(|c| json!({"includeAuthenticationContextClassReferences": c})),
    ]
}

const RULES: &[&str] = &[
    r#"device.trustType -eq "ServerAD""#,
    r#"device.isCompliant -eq True -or device.model -startsWith "kiosk""#,
    r#"device.extensionAttribute1 -ne "SAW""#,
];

fn conditions() -> impl Strategy<Value = Value> {
    (
        users(),
        applications(),
        subset(&["all", "browser", "mobileAppsAndDesktopClients", "exchangeActiveSync", "other"]),
        prop::option::of((
            proptest::sample::subsequence(&["all", "android", "iOS", "windows"][..], 1..3),
            subset(&["iOS", "linux"]),
        )),
        prop::option::of((
            proptest::sample::subsequence(&["All", "AllTrusted", "loc-office", "loc-cafe", "loc-bad"][..], 1..3),
            subset(&["AllTrusted", "LOC-CAFE", "loc-bad"]),
        )),
        subset(&["low", "medium", "high", "none"]),
        subset(&["high", "none"]),
        prop::option::of((0..RULES.len(), prop::bool::ANY)),
        subset(&["deviceCodeFlow", "authenticationTransfer"]),
    )
        .prop_map(|(users, apps, clients, platforms, locations, srisk, urisk, filter, flows)| {
            let mut c = json!({"users": users, "applications": apps, "clientAppTypes": clients,
                               "signInRiskLevels": srisk, "userRiskLevels": urisk});
            if let Some((inc, exc)) = platforms {
                c["platforms"] = json!({"includePlatforms": inc, "excludePlatforms": exc});
            }
            if let Some((inc, exc)) = locations {
                c["locations"] = json!({"includeLocations": inc, "excludeLocations": exc});
            }
            if let Some((rule, include)) = filter {
                c["devices"] = json!({"deviceFilter": {"mode": if include { "include" } else { "exclude" }, "rule": RULES[rule]}});
            }
            if !flows.is_empty() {
                c["authenticationFlows"] = json!({"transferMethods": flows.join(",")});
            }
            c
        })
}

fn grant() -> impl Strategy<Value = Option<Value>> {
    let controls: &'static [&'static str] = &[
        "mfa",
        "compliantDevice",
        "domainJoinedDevice",
        "approvedApplication",
    ];
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(json!({"operator": "OR", "builtInControls": ["block"]}))),
        3 => (proptest::sample::subsequence(controls, 1..3), prop::bool::ANY)
            .prop_map(|(c, or)| Some(json!({"operator": if or { "OR" } else { "AND" }, "builtInControls": c}))),
        2 => (prop_oneof![
                Just(json!({"id": "00000000-0000-0000-0000-000000000002"})),
                Just(json!({"id": "00000000-0000-0000-0000-000000000004"})),
                Just(json!({"allowedCombinations": ["password,email", "email, sms", "fido2"]})),
                Just(json!({"allowedCombinations": ["sms"]})),
             ], prop::option::of(proptest::sample::select(&["compliantDevice", "domainJoinedDevice"][..])), prop::bool::ANY)
            .prop_map(|(s, extra, or)| Some(json!({"operator": if or { "OR" } else { "AND" },
                "builtInControls": extra.into_iter().collect::<Vec<_>>(), "authenticationStrength": s}))),
    ]
}

fn session() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        3 => Just(None),
        1 => (1u64..3, prop::bool::ANY).prop_map(|(h, secondary)| Some(json!({"signInFrequency": {"isEnabled": true, "type": "hours", "value": h,
            "authenticationType": if secondary { "secondaryAuthentication" } else { "primaryAndSecondaryAuthentication" }}}))),
        1 => Just(Some(json!({"signInFrequency": {"isEnabled": true, "frequencyInterval": "everyTime"}}))),
    ]
}

fn policy(i: usize) -> impl Strategy<Value = Value> {
    (
        proptest::sample::select(&["enabled", "enabled", "disabled", "enabledForReportingButNotEnforced"][..]),
        conditions(),
        grant(),
        session(),
    )
        .prop_map(move |(state, conditions, grant, session)| {
            let actions = conditions["applications"].get("includeUserActions").is_some();
            let state = if actions && state == "enabledForReportingButNotEnforced" { "enabled" } else { state };
            let mut p = json!({"id": format!("p{i}"), "displayName": format!("Policy {i}"), "state": state, "conditions": conditions});
            if let Some(g) = grant {
                p["grantControls"] = g;
            }
            if let Some(s) = session {
                p["sessionControls"] = s;
            }
            p
        })
}

/// The documented password-change template shape, so `passwordChange` is exercised too.
fn password_change_policy(i: usize) -> impl Strategy<Value = Value> {
    (subset(&["high", "medium"]), prop::bool::ANY).prop_map(move |(risk, enabled)| {
        json!({"id": format!("pc{i}"), "displayName": "Password change", "state": if enabled { "enabled" } else { "enabledForReportingButNotEnforced" },
               "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}, "userRiskLevels": risk},
               "grantControls": {"operator": "AND", "builtInControls": ["mfa", "passwordChange"]}})
    })
}

fn tenant() -> impl Strategy<Value = Value> {
    (0usize..8)
        .prop_flat_map(|n| {
            let ps: Vec<_> = (0..n).map(|i| policy(i).boxed()).collect();
            (ps, prop::option::of(password_change_policy(n)))
        })
        .prop_map(|(mut ps, pc)| {
            ps.extend(pc);
            json!({"policies": ps, "namedLocations": named_locations()})
        })
}

fn sign_in() -> impl Strategy<Value = SignIn> {
    let pick = |xs: &'static [&'static str]| {
        prop::option::of(proptest::sample::select(xs).prop_map(str::to_string))
    };
    (
        (
            proptest::sample::select(&["u1", "u2", "U3", "u4"][..]),
            subset(&["g1", "g2", "g3"]),
            subset(&["r1", "R2"]),
            prop::option::of(pick(&["internalGuest", "b2bCollaborationGuest", "b2bCollaborationMember", "serviceProvider"])),
            pick(&["t1", "t2"]),
            prop_oneof![3 => proptest::sample::select(&["a1", "a2", "a3", ""][..]).prop_map(|a| (a, None)),
                        1 => pick(&["urn:user:registersecurityinfo", "urn:user:registerdevice"]).prop_map(|u| ("a1", u))],
            subset(&["c1", "C2", "c3"]),
        ),
        (
            pick(&["10.1.2.3", "10.2.3.4", "2001:db8::5", "192.0.2.1"]),
            pick(&["US", "KP", "fr"]),
            pick(&["browser", "mobileAppsAndDesktopClients", "exchangeActiveSync", "easSupported", "other"]),
            pick(&["android", "iOS", "windows", "linux", "macOS"]),
            pick(&["low", "medium", "high", "none", "hidden"]),
            pick(&["high", "none"]),
            prop::option::of(proptest::sample::select(&[0usize, 1, 2, 3][..])),
            pick(&["deviceCodeFlow", "authenticationTransfer"]),
            prop::bool::ANY,
        ),
    )
        .prop_map(|((user, groups, roles, guest, tenant, (app, action), contexts), rest)| {
            let (ip, country, client, platform, srisk, urisk, device, flow, changed) = rest;
            let devices = [
                json!({"trustType": "ServerAD"}),
                json!({"isCompliant": true, "model": "desk"}),
                json!({"model": "Kiosk 7", "extensionAttribute1": "SAW"}),
                json!({"isCompliant": false, "trustType": "AzureAD"}),
            ];
            SignIn {
                user_id: user.to_string(),
                is_guest: guest.is_some(),
                group_ids: groups.into_iter().map(str::to_string).collect(),
                role_ids: roles.into_iter().map(str::to_string).collect(),
                app_id: app.to_string(),
                user_action: action,
                auth_contexts: contexts.into_iter().map(str::to_string).collect(),
                ip_address: ip,
                country,
                client_app_type: client,
                device_platform: platform,
                sign_in_risk: srisk,
                user_risk: urisk,
                device: device.and_then(|d| devices[d].as_object().cloned()),
                authentication_flow: flow,
                external_user_type: guest.flatten(),
                external_tenant_id: tenant,
                password_changed: changed,
            }
        })
}

fn satisfied() -> impl Strategy<Value = Vec<SatisfiedMethod>> {
    let method = proptest::sample::select(&["password", "email", "sms"][..]);
    let age = prop_oneof![
        Just(0u64),
        0u64..200,
        200u64..400,
        3000u64..4000,
        7000u64..8000
    ];
    prop::collection::vec((method, age), 0..4).prop_map(|ms| {
        ms.into_iter()
            .map(|(m, age)| serde_json::from_value(json!({"method": m, "at": NOW - age})).unwrap())
            .collect()
    })
}

fn compile(tenant: &Value) -> PolicySet {
    PolicySet::from_json(tenant)
        .unwrap_or_else(|e| panic!("generated tenant is invalid: {e:?}\n{tenant}"))
}

/// Order-insensitive presentation details made canonical: strength combinations sorted.
fn canonical(mut e: Enforcement) -> Enforcement {
    if let Decision::Require(r) = &mut e.decision {
        for s in &mut r.authentication_strengths {
            s.sort();
        }
    }
    e
}

/// `new` asks for no more than `old`: Allow < Require (fewer controls) < Block.
fn no_stricter(new: &Decision, old: &Decision) -> bool {
    let within = |n: &Requirements, o: &Requirements| {
        (!n.mfa || o.mfa)
            && (!n.reauthentication || o.reauthentication)
            && (!n.password_change || o.password_change)
            && n.authentication_strengths
                .iter()
                .all(|s| o.authentication_strengths.contains(s))
            && n.policy_ids.iter().all(|p| o.policy_ids.contains(p))
    };
    match (new, old) {
        (Decision::Allow, _) | (_, Decision::Block { .. }) => true,
        (Decision::Require(n), Decision::Require(o)) => within(n, o),
        _ => false,
    }
}

fn sorted_ids(d: &Decision) -> Decision {
    let mut d = d.clone();
    match &mut d {
        Decision::Block { policy_ids } => policy_ids.sort(),
        Decision::Require(r) => {
            r.policy_ids.sort();
            r.authentication_strengths.iter_mut().for_each(|s| s.sort());
            r.authentication_strengths.sort();
        }
        Decision::Allow => {}
    }
    d
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn engine_agrees_with_reference(t in tenant(), s in sign_in(), m in satisfied()) {
        let set = compile(&t);
        let fast = canonical(enforce(&set, &s, &m, Timestamp(NOW)));
        let slow = canonical(policy_reference::enforce(set.policies(), set.named_locations(), &s, &m, Timestamp(NOW)));
        prop_assert_eq!(fast, slow);
    }

    #[test]
    fn an_applicable_enabled_block_always_blocks(t in tenant(), s in sign_in(), m in satisfied()) {
        let set = compile(&t);
        let d = enforce(&set, &s, &m, Timestamp(NOW)).decision;
        for p in set.policies() {
            let blocks = p.grant.built_in.contains(&vestibule::policy::model::BuiltInControl::Block);
            let enabled = p.state == vestibule::policy::model::PolicyState::Enabled;
            if blocks && enabled && policy_reference::reason(p, set.named_locations(), &s).is_none() {
                let id = p.id.clone().unwrap();
                prop_assert!(matches!(&d, Decision::Block { policy_ids } if policy_ids.contains(&id)), "{id} should block: {d:?}");
            }
        }
    }

    #[test]
    fn report_only_never_changes_the_decision(t in tenant(), s in sign_in(), m in satisfied()) {
        let with = enforce(&compile(&t), &s, &m, Timestamp(NOW)).decision;
        let mut without = t.clone();
        without["policies"].as_array_mut().unwrap().retain(|p| p["state"] != "enabledForReportingButNotEnforced");
        let without = enforce(&compile(&without), &s, &m, Timestamp(NOW)).decision;
        prop_assert_eq!(with, without);
    }

    #[test]
    fn adding_an_exclusion_never_adds_a_requirement(
        t in tenant(), s in sign_in(), m in satisfied(), which in any::<prop::sample::Index>(), kind in 0usize..5,
    ) {
        let before = enforce(&compile(&t), &s, &m, Timestamp(NOW)).decision;
        let mut after = t.clone();
        let policies = after["policies"].as_array_mut().unwrap();
        prop_assume!(!policies.is_empty());
        let at = which.index(policies.len());
        let p = &mut policies[at];
        let (section, key, value) = match kind {
            0 => ("users", "excludeUsers", json!(s.user_id)),
            1 => ("users", "excludeGroups", json!(s.group_ids.first().cloned().unwrap_or_else(|| "g1".into()))),
            2 => ("users", "excludeUsers", json!("GuestsOrExternalUsers")),
            3 => ("applications", "excludeApplications", json!(if s.app_id.is_empty() { "a1".to_string() } else { s.app_id.clone() })),
            _ => ("locations", "excludeLocations", json!("loc-bad")),
        };
        if kind >= 3 && p["id"].as_str().is_some_and(|id| id.starts_with("pc")) {
            return Ok(()); // passwordChange needs all resources and no location condition
        }
        let cond = &mut p["conditions"];
        if section == "applications" && cond["applications"].get("includeApplications").is_none_or(|a| a == &json!(["None"])) {
            return Ok(()); // exclusions need inclusions
        }
        if section == "locations" && cond.get("locations").is_none() {
            cond["locations"] = json!({"includeLocations": ["All"], "excludeLocations": []});
        }
        let list = cond[section].as_object_mut().unwrap().entry(key).or_insert(json!([]));
        list.as_array_mut().unwrap().push(value);
        let after = enforce(&compile(&after), &s, &m, Timestamp(NOW)).decision;
        prop_assert!(no_stricter(&after, &before), "before {before:?}, after {after:?}");
    }

    #[test]
    fn deterministic_and_independent_of_policy_order(t in tenant(), s in sign_in(), m in satisfied(), seed in any::<u64>()) {
        let set = compile(&t);
        let a = enforce(&set, &s, &m, Timestamp(NOW));
        prop_assert_eq!(&a, &enforce(&set, &s, &m, Timestamp(NOW)));
        // A reused, dirty buffer gives the same answer.
        let mut reused = enforce(&compile(&json!({"policies": [], "namedLocations": []})), &s, &m, Timestamp(NOW));
        reused.policies.push(vestibule::policy::PolicyResult {
            id: "stale".into(), display_name: "stale".into(), result: vestibule::policy::PolicyOutcome::Success,
            reasons: vec!["a".into(), "b".into()], unmet_controls: vec!["c".into()],
        });
        for _ in 0..2 {
            enforce_into(&set, &s, &m, Timestamp(NOW), &mut reused);
            prop_assert_eq!(&a, &reused);
        }
        let mut shuffled = t.clone();
        let ps = shuffled["policies"].as_array_mut().unwrap();
        let n = ps.len();
        for i in (1..n).rev() {
            let j = (seed.rotate_left(i as u32) as usize ^ i.wrapping_mul(2654435761)) % (i + 1);
            ps.swap(i, j);
        }
        let b = enforce(&compile(&shuffled), &s, &m, Timestamp(NOW));
        prop_assert_eq!(sorted_ids(&a.decision), sorted_ids(&b.decision));
        let mut ra = a.policies.clone();
        let mut rb = b.policies.clone();
        ra.sort_by(|x, y| x.id.cmp(&y.id));
        rb.sort_by(|x, y| x.id.cmp(&y.id));
        prop_assert_eq!(ra, rb);
    }

    #[test]
    fn what_if_agrees_with_enforcement_on_applicability(t in tenant(), s in sign_in(), m in satisfied()) {
        let set = compile(&t);
        let e = enforce(&set, &s, &m, Timestamp(NOW));
        let w = set.what_if_results(&WhatIfRequest { sign_in: s.clone(), applied_policies_only: false });
        for (r, p) in w.iter().zip(&e.policies) {
            let reason = p.reasons.first().map_or("notSet", String::as_str);
            prop_assert_eq!(r.analysis_reasons, reason);
        }
    }

    #[test]
    fn json_entry_points_never_panic_on_arbitrary_text(text in ".{0,300}") {
        for out in [validate_policies_json(&text), what_if_json(&text), evaluate_json(&text)] {
            prop_assert!(serde_json::from_str::<Value>(&out).is_ok(), "{out}");
        }
    }

    #[test]
    fn json_entry_points_never_panic_on_arbitrary_json(v in arbitrary_json()) {
        let text = v.to_string();
        let wrapped = json!({"policies": [v.clone()], "namedLocations": [v.clone()], "request": v.clone(), "signIn": v, "now": 1}).to_string();
        for input in [&text, &wrapped] {
            for out in [validate_policies_json(input), what_if_json(input), evaluate_json(input)] {
                prop_assert!(serde_json::from_str::<Value>(&out).is_ok(), "{out}");
            }
        }
    }

    #[test]
    fn mutated_valid_policies_are_valid_or_report_paths(t in tenant(), path_pick in any::<u64>(), v in arbitrary_json()) {
        let mut mutated = t.clone();
        mutate(&mut mutated, path_pick, v);
        let out: Value = serde_json::from_str(&validate_policies_json(&mutated.to_string())).unwrap();
        if out["valid"] == json!(false) {
            let errors = out["errors"].as_array().unwrap();
            prop_assert!(!errors.is_empty());
            for e in errors {
                prop_assert!(e["code"].as_str().is_some_and(|c| c.starts_with("policy.")), "{e}");
                prop_assert!(e["message"].as_str().is_some_and(|m| !m.is_empty() && !m.ends_with('.')), "{e}");
            }
        } else {
            // Whatever validates also evaluates.
            let input = json!({"policies": mutated["policies"], "namedLocations": mutated["namedLocations"],
                               "signIn": {"userId": "u1", "appId": "a1"}, "now": NOW});
            let out: Value = serde_json::from_str(&evaluate_json(&input.to_string())).unwrap();
            prop_assert!(out.get("decision").is_some(), "{out}");
        }
    }
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        proptest::sample::select(
            &[
                "All",
                "None",
                "enabled",
                "mfa",
                "block",
                "hours",
                "10.0.0.0/8",
                "device.model -eq \"x\"",
                "#microsoft.graph.ipNamedLocation",
                ""
            ][..]
        )
        .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let keys = proptest::sample::select(
            &[
                "id",
                "displayName",
                "state",
                "conditions",
                "users",
                "includeUsers",
                "applications",
                "includeApplications",
                "grantControls",
                "builtInControls",
                "operator",
                "@odata.type",
                "ipRanges",
                "cidrAddress",
                "signInIdentity",
                "userId",
                "appId",
                "signInFrequency",
                "x",
            ][..],
        );
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys.prop_map(str::to_string), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Replaces one value somewhere in `doc` (chosen by `pick`) with `v`.
fn mutate(doc: &mut Value, pick: u64, v: Value) {
    let mut slots = 0u64;
    count(doc, &mut slots);
    let target = if slots == 0 { 0 } else { pick % slots };
    let mut seen = 0u64;
    replace(doc, target, &mut seen, &v);
}

fn count(doc: &Value, n: &mut u64) {
    *n += 1;
    match doc {
        Value::Array(a) => a.iter().for_each(|x| count(x, n)),
        Value::Object(o) => o.values().for_each(|x| count(x, n)),
        _ => {}
    }
}

fn replace(doc: &mut Value, target: u64, seen: &mut u64, v: &Value) -> bool {
    if *seen == target {
        *doc = v.clone();
        return true;
    }
    *seen += 1;
    match doc {
        Value::Array(a) => a.iter_mut().any(|x| replace(x, target, seen, v)),
        Value::Object(o) => o.values_mut().any(|x| replace(x, target, seen, v)),
        _ => false,
    }
}
