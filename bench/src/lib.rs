//! Synthetic tenants for the benchmarks: one abstract policy list rendered twice, as Graph
//! `conditionalAccessPolicy` JSON for Vestibule and as Cedar policies, so both engines
//! decide the same questions.
//!
//! Each Conditional Access policy becomes one Cedar `forbid` whose `when` clause is the
//! policy's assignments and conditions and, for grant controls, "and the control is not
//! met"; one `permit` allows everything else. Cedar answers Allow/Deny; Vestibule answers
//! Allow/Require/Block, so "Deny" corresponds to anything but Allow. Report-only and
//! disabled policies are not enforced, so they are left out of the Cedar set.

use serde_json::{Value, json};

/// What a synthetic policy requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// `block`.
    Block,
    /// `mfa`.
    Mfa,
    /// The built-in multifactor strength (met by password + sms here).
    Strength,
    /// `mfa` OR `compliantDevice`.
    MfaOrCompliant,
}

/// One synthetic policy, in terms both renderings share.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Policy id.
    pub id: String,
    /// `enabled`, `disabled` or `enabledForReportingButNotEnforced`.
    pub state: &'static str,
    /// Included user ids; empty with `all_users` false means groups only.
    pub users: Vec<String>,
    /// Include every user.
    pub all_users: bool,
    /// Included group ids.
    pub groups: Vec<String>,
    /// Excluded group ids.
    pub exclude_groups: Vec<String>,
    /// Included apps; `None` is All.
    pub apps: Option<Vec<String>>,
    /// Excluded apps.
    pub exclude_apps: Vec<String>,
    /// Client app types; empty is unconfigured.
    pub clients: Vec<&'static str>,
    /// Included platforms; empty is unconfigured.
    pub platforms: Vec<&'static str>,
    /// Location condition: include All, exclude the trusted office range.
    pub outside_office: bool,
    /// Include only the blocked countries location.
    pub blocked_countries: bool,
    /// Sign-in risk levels; empty is unconfigured.
    pub sign_in_risk: Vec<&'static str>,
    /// Device filter `device.trustType -eq "ServerAD"` with mode exclude.
    pub exclude_hybrid_devices: bool,
    /// The grant.
    pub grant: Grant,
}

/// A deterministic pseudo-random sequence (no RNG crate, reproducible tenants).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next(100) < percent
    }
}

/// `n` policies with a realistic mix: most target groups or all users with exclusions,
/// a few target specific apps, clients, platforms, locations, risk or devices.
pub fn specs(n: usize) -> Vec<Spec> {
    let mut r = Lcg(0x5eed_u64.wrapping_add(n as u64));
    (0..n)
        .map(|i| {
            let all_users = r.chance(40);
            let grant = match r.next(10) {
                0 => Grant::Block,
                1..=5 => Grant::Mfa,
                6 | 7 => Grant::Strength,
                _ => Grant::MfaOrCompliant,
            };
            Spec {
                id: format!("policy-{i:04}"),
                state: match r.next(10) {
                    0 => "disabled",
                    1 => "enabledForReportingButNotEnforced",
                    _ => "enabled",
                },
                users: if all_users || r.chance(70) {
                    vec![]
                } else {
                    vec![format!("user-{}", r.next(50))]
                },
                all_users,
                groups: if all_users {
                    vec![]
                } else {
                    (0..1 + r.next(3))
                        .map(|_| format!("group-{}", r.next(40)))
                        .collect()
                },
                exclude_groups: (0..r.next(3))
                    .map(|_| format!("group-{}", r.next(40)))
                    .collect(),
                apps: if r.chance(50) {
                    None
                } else {
                    Some(
                        (0..1 + r.next(3))
                            .map(|_| format!("app-{}", r.next(12)))
                            .collect(),
                    )
                },
                exclude_apps: if r.chance(20) {
                    vec![format!("app-{}", r.next(12))]
                } else {
                    vec![]
                },
                clients: if r.chance(25) {
                    vec!["browser", "mobileAppsAndDesktopClients"]
                } else {
                    vec![]
                },
                platforms: if r.chance(20) {
                    vec!["android", "iOS"]
                } else {
                    vec![]
                },
                outside_office: r.chance(25),
                blocked_countries: grant == Grant::Block && r.chance(50),
                sign_in_risk: if r.chance(15) {
                    vec!["medium", "high"]
                } else {
                    vec![]
                },
                exclude_hybrid_devices: r.chance(10),
                grant,
            }
        })
        .collect()
}

/// The named locations every synthetic tenant has.
pub fn named_locations() -> Value {
    json!([
        {"@odata.type": "#microsoft.graph.ipNamedLocation", "id": "loc-office", "displayName": "Office", "isTrusted": true,
         "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "10.1.0.0/16"}]},
        {"@odata.type": "#microsoft.graph.countryNamedLocation", "id": "loc-blocked", "displayName": "Blocked countries",
         "countriesAndRegions": ["KP", "IR"], "includeUnknownCountriesAndRegions": false}
    ])
}

/// The Graph JSON of one spec.
pub fn graph(s: &Spec) -> Value {
    let mut include_users: Vec<String> = s.users.clone();
    if s.all_users {
        include_users = vec!["All".into()];
    }
    let mut conditions = json!({
        "users": {"includeUsers": include_users, "includeGroups": s.groups, "excludeGroups": s.exclude_groups},
        "applications": {"includeApplications": s.apps.clone().unwrap_or_else(|| vec!["All".into()]), "excludeApplications": s.exclude_apps},
        "clientAppTypes": s.clients,
        "signInRiskLevels": s.sign_in_risk,
    });
    if !s.platforms.is_empty() {
        conditions["platforms"] = json!({"includePlatforms": s.platforms});
    }
    if s.blocked_countries {
        conditions["locations"] = json!({"includeLocations": ["loc-blocked"]});
    } else if s.outside_office {
        conditions["locations"] =
            json!({"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]});
    }
    if s.exclude_hybrid_devices {
        conditions["devices"] = json!({"deviceFilter": {"mode": "exclude", "rule": "device.trustType -eq \"ServerAD\""}});
    }
    let grant = match s.grant {
        Grant::Block => json!({"operator": "OR", "builtInControls": ["block"]}),
        Grant::Mfa => json!({"operator": "OR", "builtInControls": ["mfa"]}),
        Grant::Strength => {
            json!({"operator": "OR", "authenticationStrength": {"id": "00000000-0000-0000-0000-000000000002"}})
        }
        Grant::MfaOrCompliant => {
            json!({"operator": "OR", "builtInControls": ["mfa", "compliantDevice"]})
        }
    };
    json!({"id": s.id, "displayName": format!("Synthetic {}", s.id), "state": s.state, "conditions": conditions, "grantControls": grant})
}

/// `{"policies": [...], "namedLocations": [...]}` for `n` policies.
pub fn tenant(n: usize) -> Value {
    json!({"policies": specs(n).iter().map(graph).collect::<Vec<_>>(), "namedLocations": named_locations()})
}

fn cedar_set(items: &[String]) -> String {
    format!(
        "[{}]",
        items
            .iter()
            .map(|i| format!("{i:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The enforced (enabled) specs as Cedar policies, plus one permit-all.
pub fn cedar(specs: &[Spec]) -> String {
    let mut out = String::from("permit(principal, action, resource);\n");
    for s in specs.iter().filter(|s| s.state == "enabled") {
        let mut parts: Vec<String> = Vec::new();
        if !s.all_users {
            let mut who: Vec<String> = s
                .users
                .iter()
                .map(|u| format!("principal == User::{u:?}"))
                .collect();
            who.extend(
                s.groups
                    .iter()
                    .map(|g| format!("principal in Group::{g:?}")),
            );
            parts.push(format!(
                "({})",
                if who.is_empty() {
                    "false".to_string()
                } else {
                    who.join(" || ")
                }
            ));
        }
        parts.extend(
            s.exclude_groups
                .iter()
                .map(|g| format!("!(principal in Group::{g:?})")),
        );
        if let Some(apps) = &s.apps {
            let uids: Vec<String> = apps.iter().map(|a| format!("App::{a:?}")).collect();
            parts.push(format!("resource in [{}]", uids.join(", ")));
        }
        parts.extend(
            s.exclude_apps
                .iter()
                .map(|a| format!("resource != App::{a:?}")),
        );
        let strs = |v: &[&str]| v.iter().map(|x| (*x).to_string()).collect::<Vec<_>>();
        if !s.clients.is_empty() {
            parts.push(format!(
                "{}.contains(context.clientAppType)",
                cedar_set(&strs(&s.clients))
            ));
        }
        if !s.platforms.is_empty() {
            parts.push(format!(
                "{}.contains(context.platform)",
                cedar_set(&strs(&s.platforms))
            ));
        }
        if s.blocked_countries {
            parts.push("[\"KP\", \"IR\"].contains(context.country)".into());
        } else if s.outside_office {
            parts.push("!context.ip.isInRange(ip(\"10.1.0.0/16\"))".into());
        }
        if !s.sign_in_risk.is_empty() {
            parts.push(format!(
                "{}.contains(context.signInRisk)",
                cedar_set(&strs(&s.sign_in_risk))
            ));
        }
        if s.exclude_hybrid_devices {
            parts.push("context.device.trustType != \"ServerAD\"".into());
        }
        match s.grant {
            Grant::Block => {}
            Grant::Mfa => parts.push("context.distinctMethods < 2".into()),
            Grant::Strength => {
                parts.push("!context.methods.containsAll([\"password\", \"sms\"])".into())
            }
            Grant::MfaOrCompliant => {
                parts.push("context.distinctMethods < 2 && !context.device.isCompliant".into())
            }
        }
        let when = if parts.is_empty() {
            "true".to_string()
        } else {
            parts.join(" && ")
        };
        out.push_str(&format!(
            "@id({:?})\nforbid(principal, action, resource) when {{ {when} }};\n",
            s.id
        ));
    }
    out
}

/// The benchmark sign-in, as a Vestibule `SignIn` JSON: a user in ten groups, on an
/// Android browser outside the office, medium risk, first factor done.
pub fn sign_in_json() -> Value {
    json!({
        "userId": "user-7",
        "groupIds": (0..10).map(|g| format!("group-{}", g * 4)).collect::<Vec<_>>(),
        "roleIds": [],
        "appId": "app-3",
        "ipAddress": "198.51.100.20",
        "country": "US",
        "clientAppType": "browser",
        "devicePlatform": "android",
        "signInRisk": "medium",
        "device": {"trustType": "AzureAD", "isCompliant": false}
    })
}

/// The same sign-in as Cedar entities (user with its groups) and context.
pub fn cedar_request_json() -> (Value, Value) {
    let groups: Vec<Value> = (0..10)
        .map(|g| json!({"type": "Group", "id": format!("group-{}", g * 4)}))
        .collect();
    let mut entities =
        vec![json!({"uid": {"type": "User", "id": "user-7"}, "attrs": {}, "parents": groups})];
    for g in 0..40 {
        entities.push(json!({"uid": {"type": "Group", "id": format!("group-{g}")}, "attrs": {}, "parents": []}));
    }
    entities.push(json!({"uid": {"type": "App", "id": "app-3"}, "attrs": {}, "parents": []}));
    let context = json!({
        "ip": {"__extn": {"fn": "ip", "arg": "198.51.100.20"}},
        "country": "US",
        "clientAppType": "browser",
        "platform": "android",
        "signInRisk": "medium",
        "device": {"trustType": "AzureAD", "isCompliant": false},
        "methods": ["password"],
        "distinctMethods": 1
    });
    (Value::Array(entities), context)
}
