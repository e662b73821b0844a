//! `grantControls`, `sessionControls` and the documented rules that tie them to conditions.

use super::{
    Problems, boolean, field, id, known_fields, member, neutral_only, object, odata_type, string,
    strings,
};
use crate::policy::err;
use crate::policy::model::{
    AppRef, BuiltInControl, ClientAppType, Conditions, EVERY_TIME_WINDOW, GrantControls, GraphEnum,
    SignInFrequency,
};
use crate::policy::strength::{self, AuthMode, AuthStrength};
use crate::time::Seconds;
use serde_json::Value;

pub(crate) fn grant_controls(value: &Value, path: &str, p: &mut Problems) -> Option<GrantControls> {
    let map = object(value, path, p)?;
    known_fields(
        map,
        path,
        &[
            "operator",
            "builtInControls",
            "customAuthenticationFactors",
            "termsOfUse",
            "authenticationStrength",
            "authenticationStrength@odata.context",
        ],
        p,
    );
    neutral_only(map, path, &["customAuthenticationFactors", "termsOfUse"], p);
    let op_path = err::key(path, "operator");
    let any = match string(map, "operator", path, p) {
        None => false,
        Some(o) if o.eq_ignore_ascii_case("AND") => false,
        Some(o) if o.eq_ignore_ascii_case("OR") => true,
        Some(o) => {
            p.push(
                err::INVALID_VALUE,
                &op_path,
                format!("`{o}` is not valid; expected `AND` or `OR`"),
            );
            false
        }
    };
    let list_path = err::key(path, "builtInControls");
    let mut built_in: Vec<BuiltInControl> = Vec::new();
    for (i, text) in strings(map, "builtInControls", path, p) {
        if let Some(c) = member::<BuiltInControl>(text, &err::index(&list_path, i), p) {
            if !built_in.contains(&c) {
                built_in.push(c);
            }
        }
    }
    let strength = field(map, "authenticationStrength")
        .and_then(|v| authentication_strength(v, &err::key(path, "authenticationStrength"), p));
    if built_in.contains(&BuiltInControl::Block) && (built_in.len() > 1 || strength.is_some()) {
        p.push(
            err::INVALID_COMBINATION,
            &list_path,
            "`block` cannot be combined with other controls",
        );
    }
    if built_in.contains(&BuiltInControl::Mfa) && strength.is_some() {
        p.push(
            err::INVALID_COMBINATION,
            &list_path,
            "`mfa` and `authenticationStrength` cannot be used together in one policy",
        );
    }
    Some(GrantControls {
        any,
        built_in,
        strength,
    })
}

fn authentication_strength(value: &Value, path: &str, p: &mut Problems) -> Option<AuthStrength> {
    let map = object(value, path, p)?;
    known_fields(
        map,
        path,
        &[
            "@odata.type",
            "id",
            "displayName",
            "description",
            "policyType",
            "requirementsSatisfied",
            "allowedCombinations",
            "combinationConfigurations",
            "createdDateTime",
            "modifiedDateTime",
        ],
        p,
    );
    odata_type(
        map,
        path,
        &["#microsoft.graph.authenticationStrengthPolicy"],
        p,
    );
    neutral_only(map, path, &["combinationConfigurations"], p);
    for name in [
        "displayName",
        "description",
        "createdDateTime",
        "modifiedDateTime",
    ] {
        string(map, name, path, p);
    }
    for (name, allowed) in [
        ("policyType", ["builtIn", "custom"]),
        ("requirementsSatisfied", ["none", "mfa"]),
    ] {
        if let Some(v) = string(map, name, path, p) {
            if !allowed.iter().any(|a| a.eq_ignore_ascii_case(v)) {
                p.push(
                    err::INVALID_VALUE,
                    &err::key(path, name),
                    format!(
                        "`{v}` is not valid; expected `{}` or `{}`",
                        allowed[0], allowed[1]
                    ),
                );
            }
        }
    }
    let strength_id = string(map, "id", path, p).and_then(|s| id(s, &err::key(path, "id"), p));
    let combos_path = err::key(path, "allowedCombinations");
    let given: Option<Vec<Vec<AuthMode>>> = field(map, "allowedCombinations").map(|_| {
        strings(map, "allowedCombinations", path, p)
            .into_iter()
            .filter_map(|(i, text)| match strength::parse_combination(text) {
                Ok(c) => Some(c),
                Err(mode) => {
                    p.push(
                        err::INVALID_VALUE,
                        &err::index(&combos_path, i),
                        format!(
                            "`{mode}` is not an authentication method mode; expected one of {}",
                            AuthMode::expected()
                        ),
                    );
                    None
                }
            })
            .collect()
    });
    if given.as_ref().is_some_and(Vec::is_empty) {
        p.push(
            err::INVALID_VALUE,
            &combos_path,
            "`allowedCombinations` needs at least one combination",
        );
        return None;
    }
    let built_in = strength_id.as_deref().and_then(strength::built_in);
    let combinations = match (built_in, given) {
        (Some(documented), Some(given)) => {
            if sorted(&documented) != sorted(&given) {
                p.push(
                    err::INVALID_VALUE,
                    &combos_path,
                    "the combinations of a built-in strength cannot be changed; use a custom strength",
                );
            }
            documented
        }
        (Some(documented), None) => documented,
        (None, Some(given)) => given,
        (None, None) => {
            match &strength_id {
                Some(sid) => p.push(
                    err::UNKNOWN_AUTHENTICATION_STRENGTH,
                    &err::key(path, "id"),
                    format!("`{sid}` is not a built-in strength; give its `allowedCombinations`"),
                ),
                None => p.push(
                    err::MISSING_FIELD,
                    &combos_path,
                    "give `id` or `allowedCombinations`",
                ),
            }
            return None;
        }
    };
    Some(AuthStrength {
        id: strength_id,
        combinations,
    })
}

fn sorted(combos: &[Vec<AuthMode>]) -> Vec<Vec<AuthMode>> {
    let mut out = combos.to_vec();
    out.sort();
    out.dedup();
    out
}

const SESSION_FIELDS: &[&str] = &[
    "applicationEnforcedRestrictions",
    "cloudAppSecurity",
    "disableResilienceDefaults",
    "persistentBrowser",
    "secureSignInSession",
    "signInFrequency",
    // Beta-only fields that Graph echoes as null in v1.0 responses.
    "continuousAccessEvaluation",
    "networkAccessSecurity",
    "globalSecureAccessFilteringProfile",
];

/// `Some(None)` for session controls with no enabled sign-in frequency.
pub(crate) fn session_controls(
    value: &Value,
    path: &str,
    p: &mut Problems,
) -> Option<Option<SignInFrequency>> {
    let map = object(value, path, p)?;
    known_fields(map, path, SESSION_FIELDS, p);
    neutral_only(map, path, SESSION_FIELDS.get(..5).unwrap_or_default(), p);
    neutral_only(map, path, SESSION_FIELDS.get(6..).unwrap_or_default(), p);
    match field(map, "signInFrequency") {
        None => Some(None),
        Some(v) => sign_in_frequency(v, &err::key(path, "signInFrequency"), p).map(Some),
    }
}

/// Allowed `value` ranges (UNCONFIRMED by any source; these are the portal's choices).
const MAX_HOURS: u64 = 23;
const MAX_DAYS: u64 = 365;

fn sign_in_frequency(value: &Value, path: &str, p: &mut Problems) -> Option<SignInFrequency> {
    let map = object(value, path, p)?;
    known_fields(
        map,
        path,
        &[
            "@odata.type",
            "isEnabled",
            "type",
            "value",
            "authenticationType",
            "frequencyInterval",
        ],
        p,
    );
    odata_type(
        map,
        path,
        &["#microsoft.graph.signInFrequencySessionControl"],
        p,
    );
    let before = p.len();
    let enabled = boolean(map, "isEnabled", path, p);
    if field(map, "isEnabled").is_none() {
        p.push(
            err::MISSING_FIELD,
            &err::key(path, "isEnabled"),
            "`isEnabled` is required",
        );
    }
    let every_time = match string(map, "frequencyInterval", path, p) {
        None => false,
        Some(f) if f.eq_ignore_ascii_case("timeBased") => false,
        Some(f) if f.eq_ignore_ascii_case("everyTime") => true,
        Some(f) => {
            p.push(
                err::INVALID_VALUE,
                &err::key(path, "frequencyInterval"),
                format!("`{f}` is not valid; expected `timeBased` or `everyTime`"),
            );
            false
        }
    };
    let secondary_only = match string(map, "authenticationType", path, p) {
        None => false,
        Some(a) if a.eq_ignore_ascii_case("primaryAndSecondaryAuthentication") => false,
        Some(a) if a.eq_ignore_ascii_case("secondaryAuthentication") => true,
        Some(a) => {
            p.push(
                err::INVALID_VALUE,
                &err::key(path, "authenticationType"),
                format!("`{a}` is not valid; expected `primaryAndSecondaryAuthentication` or `secondaryAuthentication`"),
            );
            false
        }
    };
    let unit = string(map, "type", path, p);
    let count = field(map, "value");
    let window = if every_time {
        for (name, present) in [("type", unit.is_some()), ("value", count.is_some())] {
            if present {
                p.push(
                    err::INVALID_COMBINATION,
                    &err::key(path, name),
                    format!("`{name}` must be null with `everyTime`"),
                );
            }
        }
        EVERY_TIME_WINDOW
    } else if enabled != Some(true) && unit.is_none() && count.is_none() {
        // A switched-off control as Graph echoes it: nothing to check.
        Seconds(0)
    } else {
        time_window(unit, count, path, p).unwrap_or(Seconds(0))
    };
    if p.len() > before || enabled != Some(true) {
        return None;
    }
    Some(SignInFrequency {
        window,
        every_time,
        secondary_only,
    })
}

fn time_window(
    unit: Option<&str>,
    count: Option<&Value>,
    path: &str,
    p: &mut Problems,
) -> Option<Seconds> {
    let value_path = err::key(path, "value");
    let type_path = err::key(path, "type");
    let (per, max) = match unit {
        Some(u) if u.eq_ignore_ascii_case("hours") => (3600u64, MAX_HOURS),
        Some(u) if u.eq_ignore_ascii_case("days") => (86_400u64, MAX_DAYS),
        Some(u) => {
            p.push(
                err::INVALID_VALUE,
                &type_path,
                format!("`{u}` is not valid; expected `hours` or `days`"),
            );
            return None;
        }
        None => {
            p.push(
                err::MISSING_FIELD,
                &type_path,
                "`type` is required with `timeBased`",
            );
            return None;
        }
    };
    let Some(count) = count else {
        p.push(
            err::MISSING_FIELD,
            &value_path,
            "`value` is required with `timeBased`",
        );
        return None;
    };
    match count.as_u64() {
        Some(n) if (1..=max).contains(&n) => Some(Seconds(n.saturating_mul(per))),
        _ => {
            p.push(
                err::INVALID_VALUE,
                &value_path,
                format!("`{count}` is not valid; expected a whole number from 1 to {max}"),
            );
            None
        }
    }
}

/// The documented rules for `passwordChange`: all resources, only with `mfa` or an
/// authentication strength (operator AND), and only with the users, applications and
/// user-risk conditions.
pub(crate) fn validate_password_change(
    conditions: &Conditions,
    grant: &GrantControls,
    cond_path: &str,
    grant_path: &str,
    p: &mut Problems,
) {
    if !grant.built_in.contains(&BuiltInControl::PasswordChange) {
        return;
    }
    let list_path = err::key(grant_path, "builtInControls");
    let others = grant
        .built_in
        .iter()
        .any(|c| !matches!(c, BuiltInControl::PasswordChange | BuiltInControl::Mfa));
    if others {
        p.push(
            err::INVALID_COMBINATION,
            &list_path,
            "`passwordChange` can only be combined with `mfa` or an authentication strength",
        );
    }
    if grant.any && (grant.built_in.len() > 1 || grant.strength.is_some()) {
        p.push(
            err::INVALID_COMBINATION,
            &err::key(grant_path, "operator"),
            "`passwordChange` requires the `AND` operator",
        );
    }
    let apps = &conditions.applications;
    if apps.include != [AppRef::All] || !apps.exclude.is_empty() {
        p.push(
            err::INVALID_COMBINATION,
            &err::key(cond_path, "applications"),
            "`passwordChange` requires all resources (`includeApplications` `All`, nothing excluded)",
        );
    }
    let c = conditions;
    let extra = [
        (
            "clientAppTypes",
            c.client_app_types.iter().any(|t| *t != ClientAppType::All),
        ),
        ("platforms", c.platforms.is_some()),
        ("locations", c.locations.is_some()),
        ("signInRiskLevels", !c.sign_in_risk_levels.is_empty()),
        ("devices", c.device_filter.is_some()),
        ("authenticationFlows", !c.transfer_methods.is_empty()),
    ];
    for (name, set) in extra {
        if set {
            p.push(
                err::INVALID_COMBINATION,
                &err::key(cond_path, name),
                "`passwordChange` can only be used with the users, applications and user risk conditions",
            );
        }
    }
}
