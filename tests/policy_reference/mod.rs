//! A deliberately simple reference evaluator for differential tests.
//!
//! It walks the parsed model policy by policy, condition by condition, with plain loops
//! and string comparisons: no index, no bit sets, no precomputation. It shares only leaf
//! predicates with the engine (device rule matching, CIDR/country containment, enum
//! parsing, the mode → method mapping), so a disagreement points at the optimised
//! indexing, combining or session logic.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the reference"
)]

use std::collections::BTreeSet;
use vestibule::policy::model::{
    AppRef, BuiltInControl, ClientAppType, ExternalTenants, GraphEnum, GuestType,
    GuestsOrExternalUsers, LocationRef, NamedLocation, Platform, Policy, PolicyState, RiskLevel,
    TransferMethod, UserRef,
};
use vestibule::policy::{
    AuthMethod, Decision, Enforcement, PolicyOutcome, PolicyResult, Requirements, SatisfiedMethod,
    SignIn,
};
use vestibule::time::Timestamp;

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn any_eq(list: &[String], items: &[String]) -> bool {
    list.iter().any(|l| items.iter().any(|i| eq(l, i)))
}

fn guest_type(s: &SignIn) -> Option<GuestType> {
    if !s.is_guest && s.external_user_type.is_none() {
        return None;
    }
    Some(
        s.external_user_type
            .as_deref()
            .and_then(GuestType::parse)
            .unwrap_or(GuestType::B2bCollaborationGuest),
    )
}

fn guests_match(g: &GuestsOrExternalUsers, s: &SignIn) -> bool {
    let Some(t) = guest_type(s) else { return false };
    if !g.types.contains(&t) {
        return false;
    }
    if t == GuestType::InternalGuest {
        return true;
    }
    match &g.tenants {
        ExternalTenants::All => true,
        ExternalTenants::Enumerated(list) => s
            .external_tenant_id
            .as_deref()
            .is_some_and(|x| list.iter().any(|m| eq(m, x))),
    }
}

fn user_ref_match(r: &UserRef, s: &SignIn) -> bool {
    match r {
        UserRef::All => true,
        UserRef::None => false,
        UserRef::GuestsOrExternalUsers => guest_type(s).is_some(),
        UserRef::Id(id) => eq(id, &s.user_id),
    }
}

/// `None` when the policy applies, else the Graph reason for the first failing condition.
pub fn reason(p: &Policy, locations: &[NamedLocation], s: &SignIn) -> Option<&'static str> {
    let c = &p.conditions;
    let u = &c.users;
    let included = u.include_users.iter().any(|r| user_ref_match(r, s))
        || any_eq(&u.include_groups, &s.group_ids)
        || any_eq(&u.include_roles, &s.role_ids)
        || u.include_guests_or_external_users
            .as_ref()
            .is_some_and(|g| guests_match(g, s));
    let excluded = u.exclude_users.iter().any(|r| user_ref_match(r, s))
        || any_eq(&u.exclude_groups, &s.group_ids)
        || any_eq(&u.exclude_roles, &s.role_ids)
        || u.exclude_guests_or_external_users
            .as_ref()
            .is_some_and(|g| guests_match(g, s));
    if !included || excluded {
        return Some("users");
    }

    let a = &c.applications;
    let kind = if !a.user_actions.is_empty() {
        "userActions"
    } else if !a.auth_contexts.is_empty() {
        "authenticationContext"
    } else {
        "application"
    };
    let mut targeted = match &s.user_action {
        Some(action) => a.user_actions.iter().any(|x| eq(x.as_str(), action)),
        None => {
            !s.app_id.is_empty()
                && a.include.iter().any(|r| match r {
                    AppRef::All => true,
                    AppRef::None => false,
                    AppRef::Id(id) => eq(id, &s.app_id),
                })
                && !a.exclude.iter().any(|x| eq(x, &s.app_id))
        }
    };
    targeted |= any_eq(&a.auth_contexts, &s.auth_contexts);
    if !targeted {
        return Some(kind);
    }

    if let Some(pl) = &c.platforms {
        let platform = s
            .device_platform
            .as_deref()
            .and_then(Platform::parse)
            .filter(|x| *x != Platform::All);
        let has = |list: &[Platform]| {
            list.contains(&Platform::All) || platform.is_some_and(|x| list.contains(&x))
        };
        if !has(&pl.include) || has(&pl.exclude) {
            return Some("devicePlatform");
        }
    }

    if let Some(f) = &c.device_filter {
        if f.rule.matches(s.device.as_ref()) != f.include {
            return Some("devices");
        }
    }

    if !c.client_app_types.is_empty() && !c.client_app_types.contains(&ClientAppType::All) {
        let client = s.client_app_type.as_deref().and_then(ClientAppType::parse);
        let ok = match client {
            None | Some(ClientAppType::All) => false,
            Some(t) => {
                c.client_app_types.contains(&t)
                    || (t == ClientAppType::EasSupported
                        && c.client_app_types
                            .contains(&ClientAppType::ExchangeActiveSync))
            }
        };
        if !ok {
            return Some("clientApps");
        }
    }

    if let Some(l) = &c.locations {
        let ip = s.ip_address.as_deref().and_then(|x| x.parse().ok());
        let country = s.country.as_deref().map(str::to_ascii_uppercase);
        let matched: Vec<&NamedLocation> = locations
            .iter()
            .filter(|n| n.contains(ip, country.as_deref()))
            .collect();
        let trusted = matched.iter().any(|n| n.is_trusted());
        let hit = |r: &LocationRef| match r {
            LocationRef::All => true,
            LocationRef::AllTrusted => trusted,
            LocationRef::Id(id) => matched
                .iter()
                .any(|n| n.id.as_deref().is_some_and(|x| eq(x, id))),
        };
        if !l.include.iter().any(hit) || l.exclude.iter().any(hit) {
            return Some("location");
        }
    }

    let risk = |x: &Option<String>| {
        x.as_deref()
            .and_then(RiskLevel::parse)
            .unwrap_or(RiskLevel::None)
    };
    if !c.sign_in_risk_levels.is_empty() && !c.sign_in_risk_levels.contains(&risk(&s.sign_in_risk))
    {
        return Some("signInRisk");
    }
    if !c.user_risk_levels.is_empty() && !c.user_risk_levels.contains(&risk(&s.user_risk)) {
        return Some("userRisk");
    }
    if !c.transfer_methods.is_empty() {
        let flow = s
            .authentication_flow
            .as_deref()
            .and_then(TransferMethod::parse);
        if !flow.is_some_and(|f| c.transfer_methods.contains(&f)) {
            return Some("authenticationFlow");
        }
    }
    None
}

enum Judged {
    Ok,
    Needs(Vec<&'static str>, Requirements),
    Fails(Vec<&'static str>),
}

fn judge(p: &Policy, s: &SignIn, satisfied: &[SatisfiedMethod], now: Timestamp) -> Judged {
    let g = &p.grant;
    if g.built_in.contains(&BuiltInControl::Block) {
        return Judged::Fails(vec!["block"]);
    }
    let all: BTreeSet<AuthMethod> = satisfied.iter().map(|m| m.method).collect();
    let mut reauth = false;
    let methods: BTreeSet<AuthMethod> = match p.sign_in_frequency {
        None => all,
        Some(f) => {
            let fresh: BTreeSet<AuthMethod> = satisfied
                .iter()
                .filter(|m| now.0.saturating_sub(m.at.0) <= f.window.0)
                .map(|m| m.method)
                .collect();
            let mut by_time: Vec<&SatisfiedMethod> = satisfied.iter().collect();
            by_time.sort_by_key(|m| m.at.0); // stable: the first listed wins a tie
            let first = by_time.first().map(|m| m.method);
            if f.secondary_only {
                let mut with_first = fresh;
                if let Some(m) = first {
                    with_first.insert(m);
                }
                with_first
            } else {
                // Both factors expire: reauthenticate unless the first factor's method was
                // itself satisfied again within the window.
                reauth = !first.is_some_and(|m| fresh.contains(&m));
                fresh
            }
        }
    };
    // Legacy clients cannot show a prompt: MFA, strengths and password change are never
    // met through them (reference §2.9).
    let legacy = matches!(
        s.client_app_type.as_deref().and_then(ClientAppType::parse),
        Some(
            ClientAppType::ExchangeActiveSync | ClientAppType::EasSupported | ClientAppType::Other
        )
    );
    // (name, met, meetable, requirement)
    let mut controls: Vec<(&'static str, bool, bool, Requirements)> = Vec::new();
    if g.built_in.contains(&BuiltInControl::Mfa) {
        controls.push((
            "mfa",
            !legacy && methods.len() >= 2,
            !legacy,
            Requirements {
                mfa: true,
                ..Requirements::default()
            },
        ));
    }
    if let Some(strength) = &g.strength {
        let mut usable: Vec<Vec<AuthMethod>> = strength
            .combinations
            .iter()
            .filter_map(|combo| {
                combo
                    .iter()
                    .map(|m| m.method())
                    .collect::<Option<BTreeSet<_>>>()
            })
            .filter(|set| !set.is_empty())
            .map(|set| set.into_iter().collect())
            .collect();
        usable.sort();
        usable.dedup();
        let met = usable
            .iter()
            .any(|combo| combo.iter().all(|m| methods.contains(m)));
        let req = Requirements {
            authentication_strengths: vec![usable.clone()],
            ..Requirements::default()
        };
        controls.push((
            "authenticationStrength",
            !legacy && met,
            !legacy && !usable.is_empty(),
            req,
        ));
    }
    if g.built_in.contains(&BuiltInControl::PasswordChange) {
        let req = Requirements {
            password_change: true,
            ..Requirements::default()
        };
        controls.push((
            "passwordChange",
            !legacy && s.password_changed,
            !legacy,
            req,
        ));
    }
    for c in &g.built_in {
        let met = match c {
            BuiltInControl::CompliantDevice => s
                .device
                .as_ref()
                .and_then(|d| d.get("isCompliant"))
                .is_some_and(|v| v.as_bool() == Some(true)),
            BuiltInControl::DomainJoinedDevice => s
                .device
                .as_ref()
                .and_then(|d| d.get("trustType"))
                .and_then(|v| v.as_str())
                .is_some_and(|t| eq(t, "ServerAD")),
            BuiltInControl::ApprovedApplication | BuiltInControl::CompliantApplication => false,
            _ => continue,
        };
        controls.push((c.as_str(), met, false, Requirements::default()));
    }
    let unmet: Vec<_> = controls.iter().filter(|c| !c.1).collect();
    let hard: Vec<&'static str> = unmet.iter().filter(|c| !c.2).map(|c| c.0).collect();
    let soft: Vec<_> = unmet.iter().filter(|c| c.2).collect();
    let chosen: Vec<_> = if controls.is_empty() {
        Vec::new()
    } else if g.any {
        if controls.iter().any(|c| c.1) {
            Vec::new()
        } else if let Some(first) = soft.first() {
            vec![*first]
        } else {
            let mut names = hard;
            if reauth {
                names.push("signInFrequency");
            }
            return Judged::Fails(names);
        }
    } else if !hard.is_empty() {
        let mut names = hard;
        names.extend(soft.iter().map(|c| c.0));
        if reauth {
            names.push("signInFrequency");
        }
        return Judged::Fails(names);
    } else {
        soft
    };
    let mut names: Vec<&'static str> = chosen.iter().map(|c| c.0).collect();
    let mut req = Requirements::default();
    for c in &chosen {
        req.mfa |= c.3.mfa;
        req.password_change |= c.3.password_change;
        req.authentication_strengths
            .extend(c.3.authentication_strengths.iter().cloned());
    }
    if reauth {
        names.push("signInFrequency");
        req.reauthentication = true;
    }
    if names.is_empty() {
        Judged::Ok
    } else {
        Judged::Needs(names, req)
    }
}

/// The reference enforcement.
pub fn enforce(
    policies: &[Policy],
    locations: &[NamedLocation],
    s: &SignIn,
    satisfied: &[SatisfiedMethod],
    now: Timestamp,
) -> Enforcement {
    let mut results = Vec::new();
    let mut blocked = Vec::new();
    let mut req = Requirements::default();
    for p in policies {
        let id = p.id.clone().unwrap_or_default();
        let enabled = p.state == PolicyState::Enabled;
        let (result, reasons, unmet) = if p.state == PolicyState::Disabled {
            (
                PolicyOutcome::NotEnabled,
                vec!["policyNotEnabled".to_string()],
                vec![],
            )
        } else if let Some(r) = reason(p, locations, s) {
            let o = if enabled {
                PolicyOutcome::NotApplied
            } else {
                PolicyOutcome::ReportOnlyNotApplied
            };
            (o, vec![r.to_string()], vec![])
        } else {
            match judge(p, s, satisfied, now) {
                Judged::Ok => (
                    if enabled {
                        PolicyOutcome::Success
                    } else {
                        PolicyOutcome::ReportOnlySuccess
                    },
                    vec![],
                    vec![],
                ),
                Judged::Fails(names) => {
                    if enabled {
                        blocked.push(id.clone());
                    }
                    let o = if enabled {
                        PolicyOutcome::Failure
                    } else {
                        PolicyOutcome::ReportOnlyFailure
                    };
                    (o, vec![], names)
                }
                Judged::Needs(names, r) => {
                    if enabled {
                        req.mfa |= r.mfa;
                        req.password_change |= r.password_change;
                        req.reauthentication |= r.reauthentication;
                        for s in r.authentication_strengths {
                            if !req.authentication_strengths.contains(&s) {
                                req.authentication_strengths.push(s);
                            }
                        }
                        req.policy_ids.push(id.clone());
                    }
                    let o = if enabled {
                        PolicyOutcome::Failure
                    } else {
                        PolicyOutcome::ReportOnlyInterrupted
                    };
                    (o, vec![], names)
                }
            }
        };
        results.push(PolicyResult {
            id,
            display_name: p.display_name.clone(),
            result,
            reasons,
            unmet_controls: unmet.into_iter().map(str::to_string).collect(),
        });
    }
    let decision = if !blocked.is_empty() {
        Decision::Block {
            policy_ids: blocked,
        }
    } else if !req.policy_ids.is_empty() {
        Decision::Require(req)
    } else {
        Decision::Allow
    };
    Enforcement {
        decision,
        policies: results,
    }
}
