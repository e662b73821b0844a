//! `conditionalAccessPolicy` and its condition set.

use super::controls::{grant_controls, session_controls, validate_password_change};
use super::{
    Problems, field, flags, id, known_fields, member, members, neutral_only, object, odata_type,
    required_string, string, strings,
};
use crate::error::ErrorBody;
use crate::policy::device_filter::DeviceRule;
use crate::policy::err;
use crate::policy::model::{
    AppRef, Applications, ClientAppType, Conditions, DeviceFilter, ExternalTenants, GuestType,
    GuestsOrExternalUsers, LocationRef, Locations, Platform, Platforms, Policy, PolicyState,
    RiskLevel, TransferMethod, UserAction, UserRef, Users,
};
use serde_json::{Map, Value};

const POLICY_FIELDS: &[&str] = &[
    "@odata.type",
    super::ODATA_CONTEXT,
    "id",
    "displayName",
    "description",
    "state",
    "conditions",
    "grantControls",
    "sessionControls",
    "createdDateTime",
    "modifiedDateTime",
    "templateId",
    "partialEnablementStrategy",
];

/// Parses one policy at `path` (empty for a policy on its own). The id may be absent (a
/// policy about to be created); a policy set requires it.
pub fn parse_policy(value: &Value, path: &str) -> Result<Policy, Vec<ErrorBody>> {
    let mut p = Problems::default();
    match policy(value, path, &mut p) {
        Some(policy) if p.0.is_empty() => Ok(policy),
        _ => Err(p.0),
    }
}

pub(crate) fn policy(value: &Value, path: &str, p: &mut Problems) -> Option<Policy> {
    let map = object(value, path, p)?;
    let before = p.len();
    known_fields(map, path, POLICY_FIELDS, p);
    neutral_only(map, path, &["partialEnablementStrategy"], p);
    odata_type(map, path, &["#microsoft.graph.conditionalAccessPolicy"], p);
    for name in [
        super::ODATA_CONTEXT,
        "description",
        "createdDateTime",
        "modifiedDateTime",
        "templateId",
    ] {
        string(map, name, path, p);
    }
    // Policy ids are only reported, never looked up, so they keep their spelling.
    let policy_id = string(map, "id", path, p)
        .and_then(|s| id(s, &err::key(path, "id"), p).map(|_| s.to_string()));
    let display_name = required_string(map, "displayName", path, p).unwrap_or_default();
    let state = required_string(map, "state", path, p)
        .and_then(|s| member::<PolicyState>(s, &err::key(path, "state"), p));
    let cond_path = err::key(path, "conditions");
    let conditions = match field(map, "conditions") {
        Some(v) => conditions(v, &cond_path, p),
        None => {
            p.push(err::MISSING_FIELD, &cond_path, "`conditions` is required");
            None
        }
    };
    let grant_path = err::key(path, "grantControls");
    let grant = field(map, "grantControls").and_then(|v| grant_controls(v, &grant_path, p));
    let session_path = err::key(path, "sessionControls");
    let sign_in_frequency =
        field(map, "sessionControls").and_then(|v| session_controls(v, &session_path, p));
    let (state, conditions) = (state?, conditions?);
    let grant = grant.unwrap_or_default();

    let users = field_present(map, "conditions", "users");
    let apps_configured = !conditions.applications.include.is_empty()
        || !conditions.applications.user_actions.is_empty()
        || !conditions.applications.auth_contexts.is_empty();
    if !users && !apps_configured && grant.is_empty() && sign_in_frequency.is_none() {
        p.push(
            err::EMPTY_POLICY,
            path,
            "the policy has no user rule, no application rule and no control; add at least one",
        );
    }
    validate_password_change(&conditions, &grant, &cond_path, &grant_path, p);
    if state == PolicyState::ReportOnly && !conditions.applications.user_actions.is_empty() {
        p.push(
            err::INVALID_COMBINATION,
            &err::key(path, "state"),
            "report-only is not supported for policies that target user actions",
        );
    }
    if p.len() > before {
        return None;
    }
    Some(Policy {
        id: policy_id,
        display_name: display_name.to_string(),
        state,
        conditions,
        grant,
        sign_in_frequency: sign_in_frequency.flatten(),
        source: super::without_context(map),
    })
}

/// Whether `conditions.<name>` holds a non-empty rule (for the blank-policy check).
fn field_present(map: &Map<String, Value>, conditions: &str, name: &str) -> bool {
    let Some(Value::Object(users)) = field(map, conditions).and_then(|c| c.get(name)) else {
        return false;
    };
    users.values().any(|v| match v {
        Value::Null => false,
        Value::Array(a) => !a.is_empty(),
        _ => true,
    })
}

const CONDITION_FIELDS: &[&str] = &[
    "applications",
    "users",
    "clientApplications",
    "clientAppTypes",
    "platforms",
    "locations",
    "signInRiskLevels",
    "userRiskLevels",
    "servicePrincipalRiskLevels",
    "insiderRiskLevels",
    "devices",
    "authenticationFlows",
    // Beta-only fields that Graph echoes as null in v1.0 responses.
    "clients",
    "times",
    "deviceStates",
    "agentIdRiskLevels",
];

fn conditions(value: &Value, path: &str, p: &mut Problems) -> Option<Conditions> {
    let map = object(value, path, p)?;
    known_fields(map, path, CONDITION_FIELDS, p);
    neutral_only(
        map,
        path,
        &[
            "clientApplications",
            "servicePrincipalRiskLevels",
            "insiderRiskLevels",
            "clients",
            "times",
            "deviceStates",
            "agentIdRiskLevels",
        ],
        p,
    );
    let users = match field(map, "users") {
        Some(v) => users(v, &err::key(path, "users"), p),
        None => {
            p.push(
                err::MISSING_FIELD,
                &err::key(path, "users"),
                "`users` is required",
            );
            None
        }
    };
    let applications = match field(map, "applications") {
        Some(v) => applications(v, &err::key(path, "applications"), p),
        None => {
            p.push(
                err::MISSING_FIELD,
                &err::key(path, "applications"),
                "`applications` is required",
            );
            None
        }
    };
    let ca_path = err::key(path, "clientAppTypes");
    let mut client_app_types = Vec::new();
    for (i, text) in strings(map, "clientAppTypes", path, p) {
        let at = err::index(&ca_path, i);
        if ["easUnsupported", "modern"]
            .iter()
            .any(|d| d.eq_ignore_ascii_case(text))
        {
            p.push(
                err::UNSUPPORTED_VALUE,
                &at,
                format!("`{text}` is deprecated by graph; use `exchangeActiveSync` or `mobileAppsAndDesktopClients`"),
            );
        } else if let Some(c) = member::<ClientAppType>(text, &at, p) {
            if !client_app_types.contains(&c) {
                client_app_types.push(c);
            }
        }
    }
    let platforms =
        field(map, "platforms").and_then(|v| platforms(v, &err::key(path, "platforms"), p));
    let locations =
        field(map, "locations").and_then(|v| locations(v, &err::key(path, "locations"), p));
    let device_filter =
        field(map, "devices").and_then(|v| devices(v, &err::key(path, "devices"), p));
    let transfer_methods = field(map, "authenticationFlows")
        .and_then(|v| authentication_flows(v, &err::key(path, "authenticationFlows"), p))
        .unwrap_or_default();
    Some(Conditions {
        users: users?,
        applications: applications?,
        client_app_types,
        platforms,
        locations,
        sign_in_risk_levels: members::<RiskLevel>(map, "signInRiskLevels", path, p),
        user_risk_levels: members::<RiskLevel>(map, "userRiskLevels", path, p),
        device_filter,
        transfer_methods,
    })
}

fn users(value: &Value, path: &str, p: &mut Problems) -> Option<Users> {
    let map = object(value, path, p)?;
    known_fields(
        map,
        path,
        &[
            "includeUsers",
            "excludeUsers",
            "includeGroups",
            "excludeGroups",
            "includeRoles",
            "excludeRoles",
            "includeGuestsOrExternalUsers",
            "excludeGuestsOrExternalUsers",
        ],
        p,
    );
    let ids = |name: &str, p: &mut Problems| -> Vec<String> {
        let list_path = err::key(path, name);
        strings(map, name, path, p)
            .into_iter()
            .filter_map(|(i, s)| id(s, &err::index(&list_path, i), p))
            .collect()
    };
    let include_groups = ids("includeGroups", p);
    let exclude_groups = ids("excludeGroups", p);
    let include_roles = ids("includeRoles", p);
    let exclude_roles = ids("excludeRoles", p);
    Some(Users {
        include_users: user_refs(map, "includeUsers", path, true, p),
        exclude_users: user_refs(map, "excludeUsers", path, false, p),
        include_groups,
        exclude_groups,
        include_roles,
        exclude_roles,
        include_guests_or_external_users: field(map, "includeGuestsOrExternalUsers")
            .and_then(|v| guests(v, &err::key(path, "includeGuestsOrExternalUsers"), p)),
        exclude_guests_or_external_users: field(map, "excludeGuestsOrExternalUsers")
            .and_then(|v| guests(v, &err::key(path, "excludeGuestsOrExternalUsers"), p)),
    })
}

fn user_refs(
    map: &Map<String, Value>,
    name: &str,
    path: &str,
    include: bool,
    p: &mut Problems,
) -> Vec<UserRef> {
    let list_path = err::key(path, name);
    let items = strings(map, name, path, p);
    let count = items.len();
    let mut out = Vec::new();
    for (i, text) in items {
        let at = err::index(&list_path, i);
        let special = [
            ("All", UserRef::All),
            ("None", UserRef::None),
            ("GuestsOrExternalUsers", UserRef::GuestsOrExternalUsers),
        ]
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(text));
        match special {
            Some((n, UserRef::All | UserRef::None)) if !include => p.push(
                err::INVALID_VALUE,
                &at,
                format!("`{n}` cannot be excluded; list user ids or `GuestsOrExternalUsers`"),
            ),
            Some((_, UserRef::None)) if count > 1 => p.push(
                err::INVALID_COMBINATION,
                &at,
                "`None` must be the only member of `includeUsers`",
            ),
            Some((_, r)) => out.push(r),
            None => out.extend(id(text, &at, p).map(UserRef::Id)),
        }
    }
    out
}

fn guests(value: &Value, path: &str, p: &mut Problems) -> Option<GuestsOrExternalUsers> {
    let map = object(value, path, p)?;
    known_fields(
        map,
        path,
        &["@odata.type", "guestOrExternalUserTypes", "externalTenants"],
        p,
    );
    odata_type(
        map,
        path,
        &["#microsoft.graph.conditionalAccessGuestsOrExternalUsers"],
        p,
    );
    let types_path = err::key(path, "guestOrExternalUserTypes");
    let types = required_string(map, "guestOrExternalUserTypes", path, p)
        .map(|s| flags::<GuestType>(s, &types_path, p));
    let tenants = match field(map, "externalTenants") {
        None => Some(ExternalTenants::All),
        Some(v) => external_tenants(v, &err::key(path, "externalTenants"), p),
    };
    Some(GuestsOrExternalUsers {
        types: types?,
        tenants: tenants?,
    })
}

fn external_tenants(value: &Value, path: &str, p: &mut Problems) -> Option<ExternalTenants> {
    let map = object(value, path, p)?;
    known_fields(map, path, &["@odata.type", "membershipKind", "members"], p);
    let by_type = odata_type(
        map,
        path,
        &[
            "#microsoft.graph.conditionalAccessAllExternalTenants",
            "#microsoft.graph.conditionalAccessEnumeratedExternalTenants",
        ],
        p,
    );
    let kind_path = err::key(path, "membershipKind");
    let by_kind = match string(map, "membershipKind", path, p) {
        Some(k) if k.eq_ignore_ascii_case("all") => Some(0),
        Some(k) if k.eq_ignore_ascii_case("enumerated") => Some(1),
        Some(k) => {
            p.push(
                err::INVALID_VALUE,
                &kind_path,
                format!("`{k}` is not valid; expected `all` or `enumerated`"),
            );
            return None;
        }
        None => None,
    };
    let enumerated = match (by_type, by_kind) {
        (Some(t), Some(k)) if t != k => {
            p.push(
                err::INVALID_COMBINATION,
                &kind_path,
                "`membershipKind` contradicts `@odata.type`",
            );
            return None;
        }
        (_, Some(k)) | (Some(k), None) => k == 1,
        (None, None) => {
            p.push(
                err::MISSING_FIELD,
                &kind_path,
                "`membershipKind` is required",
            );
            return None;
        }
    };
    let members_path = err::key(path, "members");
    let members: Vec<String> = strings(map, "members", path, p)
        .into_iter()
        .filter_map(|(i, s)| id(s, &err::index(&members_path, i), p))
        .collect();
    if enumerated {
        if members.is_empty() {
            p.push(
                err::MISSING_FIELD,
                &members_path,
                "enumerated external tenants need at least one member",
            );
        }
        Some(ExternalTenants::Enumerated(members))
    } else {
        if !members.is_empty() {
            p.push(
                err::INVALID_COMBINATION,
                &members_path,
                "`members` is only allowed with `enumerated`",
            );
        }
        Some(ExternalTenants::All)
    }
}

fn applications(value: &Value, path: &str, p: &mut Problems) -> Option<Applications> {
    let map = object(value, path, p)?;
    known_fields(
        map,
        path,
        &[
            "includeApplications",
            "excludeApplications",
            "includeUserActions",
            "includeAuthenticationContextClassReferences",
            "applicationFilter",
            "networkAccess",
            "globalSecureAccess",
        ],
        p,
    );
    neutral_only(
        map,
        path,
        &["applicationFilter", "networkAccess", "globalSecureAccess"],
        p,
    );
    let groups = ["Office365", "MicrosoftAdminPortals"];
    let mut include = Vec::new();
    let inc_path = err::key(path, "includeApplications");
    for (i, text) in strings(map, "includeApplications", path, p) {
        let at = err::index(&inc_path, i);
        if text.eq_ignore_ascii_case("All") {
            include.push(AppRef::All);
        } else if text.eq_ignore_ascii_case("None") {
            include.push(AppRef::None);
        } else if let Some(g) = groups.iter().find(|g| g.eq_ignore_ascii_case(text)) {
            p.push(
                err::UNSUPPORTED_VALUE,
                &at,
                format!("the app group `{g}` is not supported; list app ids"),
            );
        } else {
            include.extend(id(text, &at, p).map(AppRef::Id));
        }
    }
    let mut exclude = Vec::new();
    let exc_path = err::key(path, "excludeApplications");
    for (i, text) in strings(map, "excludeApplications", path, p) {
        let at = err::index(&exc_path, i);
        if ["All", "None"].iter().any(|s| s.eq_ignore_ascii_case(text)) {
            p.push(
                err::INVALID_VALUE,
                &at,
                format!("`{text}` cannot be excluded; list app ids"),
            );
        } else if let Some(g) = groups.iter().find(|g| g.eq_ignore_ascii_case(text)) {
            p.push(
                err::UNSUPPORTED_VALUE,
                &at,
                format!("the app group `{g}` is not supported; list app ids"),
            );
        } else {
            exclude.extend(id(text, &at, p));
        }
    }
    let user_actions = members::<UserAction>(map, "includeUserActions", path, p);
    let ctx_name = "includeAuthenticationContextClassReferences";
    let ctx_path = err::key(path, ctx_name);
    let auth_contexts: Vec<String> = strings(map, ctx_name, path, p)
        .into_iter()
        .filter_map(|(i, s)| id(s, &err::index(&ctx_path, i), p))
        .collect();
    let targets = [
        !include.is_empty(),
        !user_actions.is_empty(),
        !auth_contexts.is_empty(),
    ];
    if targets.iter().filter(|t| **t).count() > 1 {
        p.push(
            err::INVALID_COMBINATION,
            path,
            "target applications, user actions or authentication contexts, not more than one kind",
        );
    }
    if include.contains(&AppRef::None) && include.len() > 1 {
        p.push(
            err::INVALID_COMBINATION,
            &inc_path,
            "`None` must be the only member of `includeApplications`",
        );
    }
    if include.is_empty() && !exclude.is_empty() {
        p.push(
            err::INVALID_COMBINATION,
            &exc_path,
            "`excludeApplications` needs `includeApplications`",
        );
    }
    Some(Applications {
        include,
        exclude,
        user_actions,
        auth_contexts,
    })
}

fn platforms(value: &Value, path: &str, p: &mut Problems) -> Option<Platforms> {
    let map = object(value, path, p)?;
    known_fields(map, path, &["includePlatforms", "excludePlatforms"], p);
    let include = members::<Platform>(map, "includePlatforms", path, p);
    let exclude = members::<Platform>(map, "excludePlatforms", path, p);
    let (include, exclude) = included(include, exclude, path, "Platforms", p)?;
    Some(Platforms { include, exclude })
}

/// An include/exclude pair (`include{noun}` / `exclude{noun}`): with nothing included the
/// condition is not configured (`None`), and an exclusion alone is an error, since it would
/// silently exclude from nothing.
fn included<T>(
    include: Vec<T>,
    exclude: Vec<T>,
    path: &str,
    noun: &str,
    p: &mut Problems,
) -> Option<(Vec<T>, Vec<T>)> {
    if !include.is_empty() {
        return Some((include, exclude));
    }
    if !exclude.is_empty() {
        p.push(
            err::MISSING_FIELD,
            &err::key(path, &format!("include{noun}")),
            format!("`include{noun}` is required with `exclude{noun}`"),
        );
    }
    None
}

fn locations(value: &Value, path: &str, p: &mut Problems) -> Option<Locations> {
    let map = object(value, path, p)?;
    known_fields(map, path, &["includeLocations", "excludeLocations"], p);
    let refs = |name: &str, p: &mut Problems| -> Vec<LocationRef> {
        let list_path = err::key(path, name);
        let mut out = Vec::new();
        for (i, text) in strings(map, name, path, p) {
            let at = err::index(&list_path, i);
            if text.eq_ignore_ascii_case("All") {
                out.push(LocationRef::All);
            } else if text.eq_ignore_ascii_case("AllTrusted") {
                out.push(LocationRef::AllTrusted);
            } else if text == "00000000-0000-0000-0000-000000000000" {
                p.push(
                    err::UNSUPPORTED_VALUE,
                    &at,
                    "the legacy mfa trusted ips location is not supported; use an ip named location with `isTrusted`",
                );
            } else {
                out.extend(id(text, &at, p).map(LocationRef::Id));
            }
        }
        out
    };
    let include = refs("includeLocations", p);
    let exclude = refs("excludeLocations", p);
    let (include, exclude) = included(include, exclude, path, "Locations", p)?;
    Some(Locations { include, exclude })
}

fn devices(value: &Value, path: &str, p: &mut Problems) -> Option<DeviceFilter> {
    let map = object(value, path, p)?;
    let legacy = [
        "includeDevices",
        "excludeDevices",
        "includeDeviceStates",
        "excludeDeviceStates",
    ];
    let mut known = vec!["deviceFilter"];
    known.extend(legacy);
    known_fields(map, path, &known, p);
    neutral_only(map, path, &legacy, p);
    let filter_path = err::key(path, "deviceFilter");
    let filter = object(field(map, "deviceFilter")?, &filter_path, p)?;
    known_fields(filter, &filter_path, &["mode", "rule"], p);
    let mode_path = err::key(&filter_path, "mode");
    let include = match required_string(filter, "mode", &filter_path, p)? {
        m if m.eq_ignore_ascii_case("include") => true,
        m if m.eq_ignore_ascii_case("exclude") => false,
        m => {
            p.push(
                err::INVALID_VALUE,
                &mode_path,
                format!("`{m}` is not valid; expected `include` or `exclude`"),
            );
            return None;
        }
    };
    let rule_path = err::key(&filter_path, "rule");
    let text = required_string(filter, "rule", &filter_path, p)?;
    if crate::policy::device_filter::too_long(text) {
        p.push(
            err::LIMIT_EXCEEDED,
            &rule_path,
            "the rule is longer than 3072 characters",
        );
        return None;
    }
    match DeviceRule::parse(text) {
        Ok(rule) => Some(DeviceFilter { include, rule }),
        Err(why) => {
            p.push(
                err::INVALID_DEVICE_FILTER,
                &rule_path,
                format!("invalid device filter rule: {why}"),
            );
            None
        }
    }
}

fn authentication_flows(
    value: &Value,
    path: &str,
    p: &mut Problems,
) -> Option<Vec<TransferMethod>> {
    let map = object(value, path, p)?;
    known_fields(map, path, &["transferMethods"], p);
    let text = string(map, "transferMethods", path, p)?;
    Some(flags::<TransferMethod>(
        text,
        &err::key(path, "transferMethods"),
        p,
    ))
}
