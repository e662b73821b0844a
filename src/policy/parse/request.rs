//! The sign-in side: a [`SignIn`] and its satisfied methods (enforcement input), and the
//! Graph `evaluate` request body (What If input), checked with paths like policies are.

use super::{
    Problems, boolean, field, id, known_fields, member, object, odata_type, required_string,
    string, strings,
};
use crate::error::ErrorBody;
use crate::policy::err;
use crate::policy::model::{
    ClientAppType, GraphEnum, GuestType, Platform, RiskLevel, TransferMethod, UserAction,
};
use crate::policy::signin::{AuthMethod, SatisfiedMethod, SignIn};
use crate::policy::whatif::WhatIfRequest;
use crate::time::Timestamp;
use serde_json::{Map, Value};

const SIGN_IN_FIELDS: &[&str] = &[
    "userId",
    "isGuest",
    "groupIds",
    "roleIds",
    "appId",
    "userAction",
    "authContexts",
    "ipAddress",
    "country",
    "clientAppType",
    "devicePlatform",
    "signInRisk",
    "userRisk",
    "device",
    "authenticationFlow",
    "externalUserType",
    "externalTenantId",
    "passwordChanged",
];

/// Parses a [`SignIn`] (its camelCase JSON form) at `path`, checking every enum value so
/// a typo such as `"devicePlatform": "andriod"` is an error rather than an unknown platform.
pub fn parse_sign_in(value: &Value, path: &str) -> Result<SignIn, Vec<ErrorBody>> {
    let mut p = Problems::default();
    let signin = sign_in(value, path, &mut p);
    match signin {
        Some(s) if p.0.is_empty() => Ok(s),
        _ => Err(p.0),
    }
}

fn sign_in(value: &Value, path: &str, p: &mut Problems) -> Option<SignIn> {
    let map = object(value, path, p)?;
    known_fields(map, path, SIGN_IN_FIELDS, p);
    let text = |name: &str, p: &mut Problems| string(map, name, path, p).map(str::to_string);
    let list = |name: &str, p: &mut Problems| -> Vec<String> {
        strings(map, name, path, p)
            .into_iter()
            .map(|(_, s)| s.to_string())
            .collect()
    };
    let user_id = required_string(map, "userId", path, p).map(str::to_string);
    let app_id = required_string(map, "appId", path, p).map(str::to_string);
    let blank_app = app_id.as_deref().is_some_and(|a| a.trim().is_empty());
    let signin = SignIn {
        user_id: user_id.unwrap_or_default(),
        is_guest: boolean(map, "isGuest", path, p).unwrap_or(false),
        group_ids: list("groupIds", p),
        role_ids: list("roleIds", p),
        app_id: app_id.unwrap_or_default(),
        user_action: checked::<UserAction>(map, "userAction", path, p),
        auth_contexts: list("authContexts", p),
        ip_address: ip(map, "ipAddress", path, p),
        country: country(map, "country", path, p),
        client_app_type: checked::<ClientAppType>(map, "clientAppType", path, p),
        device_platform: checked::<Platform>(map, "devicePlatform", path, p),
        sign_in_risk: checked::<RiskLevel>(map, "signInRisk", path, p),
        user_risk: checked::<RiskLevel>(map, "userRisk", path, p),
        device: device(map, "device", path, p, false),
        authentication_flow: checked::<TransferMethod>(map, "authenticationFlow", path, p),
        external_user_type: checked::<GuestType>(map, "externalUserType", path, p),
        external_tenant_id: text("externalTenantId", p),
        password_changed: boolean(map, "passwordChanged", path, p).unwrap_or(false),
    };
    // A blank app id would match no application policy, not even `All`, so a caller whose
    // app id variable is empty would slip past every tenant-wide policy. Only a user action
    // has no application (a misspelt one is reported, and is no excuse).
    if blank_app && signin.user_action.is_none() {
        p.push(
            err::INVALID_VALUE,
            &err::key(path, "appId"),
            "`appId` is empty: give the client id of the application being signed in to \
             (only a `userAction` sign-in may leave it empty)",
        );
    }
    Some(signin)
}

/// A string field that must be a member of `T`; kept as text (the [`SignIn`] contract).
fn checked<T: GraphEnum>(
    map: &Map<String, Value>,
    name: &str,
    path: &str,
    p: &mut Problems,
) -> Option<String> {
    let s = string(map, name, path, p)?;
    member::<T>(s, &err::key(path, name), p).map(|_| s.to_string())
}

fn ip(map: &Map<String, Value>, name: &str, path: &str, p: &mut Problems) -> Option<String> {
    let s = string(map, name, path, p)?;
    if s.parse::<std::net::IpAddr>().is_err() {
        p.push(
            err::INVALID_VALUE,
            &err::key(path, name),
            format!("`{s}` is not an ip address"),
        );
        return None;
    }
    Some(s.to_string())
}

fn country(map: &Map<String, Value>, name: &str, path: &str, p: &mut Problems) -> Option<String> {
    let s = string(map, name, path, p)?;
    if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_alphabetic()) {
        p.push(
            err::INVALID_VALUE,
            &err::key(path, name),
            format!("`{s}` is not a two-letter iso 3166 country code"),
        );
        return None;
    }
    Some(s.to_ascii_uppercase())
}

/// Device facts: every device-filter attribute, plus `ownership`, Graph's `deviceInfo` name
/// for what the rule syntax calls `deviceOwnership`.
const EXTRA_DEVICE_FIELDS: &[&str] = &["ownership"];

/// Device properties (SignIn `device` or Graph `deviceInfo`): known names, right types.
fn device(
    map: &Map<String, Value>,
    name: &str,
    path: &str,
    p: &mut Problems,
    graph: bool,
) -> Option<Map<String, Value>> {
    let dev_path = err::key(path, name);
    let dev = object(field(map, name)?, &dev_path, p)?;
    let mut known: Vec<&str> = crate::policy::device_filter::ATTRIBUTES
        .iter()
        .chain(EXTRA_DEVICE_FIELDS)
        .copied()
        .collect();
    if graph {
        known.push("@odata.type");
        odata_type(dev, &dev_path, &["#microsoft.graph.deviceInfo"], p);
    }
    known_fields(dev, &dev_path, &known, p);
    let mut out = Map::new();
    for (key, v) in dev {
        let at = err::key(&dev_path, key);
        let ok = match (key.as_str(), v) {
            ("@odata.type", _) | (_, Value::Null) => continue,
            ("isCompliant", v) => v.is_boolean(),
            ("physicalIds" | "systemLabels", Value::Array(items)) => {
                items.iter().all(Value::is_string)
            }
            (_, v) => v.is_string(),
        };
        if ok {
            out.insert(key.clone(), v.clone());
        } else {
            let expected = match key.as_str() {
                "isCompliant" => "true or false",
                "physicalIds" | "systemLabels" => "an array of strings",
                _ => "a string",
            };
            p.push(
                err::INVALID_TYPE,
                &at,
                format!("expected {expected}, found {}", super::kind(v)),
            );
        }
    }
    Some(out)
}

/// Parses the satisfied methods: `[{"method": "password", "at": 1700000000}, ...]`.
pub fn parse_satisfied(value: &Value, path: &str) -> Result<Vec<SatisfiedMethod>, Vec<ErrorBody>> {
    let mut p = Problems::default();
    let Value::Array(items) = value else {
        p.push(
            err::INVALID_TYPE,
            path,
            format!("expected an array, found {}", super::kind(value)),
        );
        return Err(p.0);
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = err::index(path, i);
        let Some(m) = object(item, &at, &mut p) else {
            continue;
        };
        known_fields(m, &at, &["method", "at"], &mut p);
        let method = required_string(m, "method", &at, &mut p).and_then(|s| match s {
            "password" => Some(AuthMethod::Password),
            "email" => Some(AuthMethod::Email),
            "sms" => Some(AuthMethod::Sms),
            other => {
                p.push(
                    err::INVALID_VALUE,
                    &err::key(&at, "method"),
                    format!("`{other}` is not a method; expected `password`, `email` or `sms`"),
                );
                None
            }
        });
        let when = match field(m, "at") {
            Some(v) => v.as_u64().or_else(|| {
                p.push(
                    err::INVALID_TYPE,
                    &err::key(&at, "at"),
                    "expected unix seconds (a whole number)",
                );
                None
            }),
            None => {
                p.push(err::MISSING_FIELD, &err::key(&at, "at"), "`at` is required");
                None
            }
        };
        if let (Some(method), Some(at)) = (method, when) {
            out.push(SatisfiedMethod {
                method,
                at: Timestamp(at),
            });
        }
    }
    if p.0.is_empty() { Ok(out) } else { Err(p.0) }
}

/// Parses a Graph `evaluate` request body into the sign-in it describes. `groups` and
/// `roles` come from the caller's directory (Graph looks them up itself).
pub fn parse_what_if_request(
    value: &Value,
    path: &str,
    groups: Vec<String>,
    roles: Vec<String>,
) -> Result<WhatIfRequest, Vec<ErrorBody>> {
    let mut p = Problems::default();
    let req = what_if(value, path, groups, roles, &mut p);
    match req {
        Some(r) if p.0.is_empty() => Ok(r),
        _ => Err(p.0),
    }
}

fn what_if(
    value: &Value,
    path: &str,
    groups: Vec<String>,
    roles: Vec<String>,
    p: &mut Problems,
) -> Option<WhatIfRequest> {
    let map = object(value, path, p)?;
    known_fields(
        map,
        path,
        &[
            "signInIdentity",
            "signInContext",
            "signInConditions",
            "appliedPoliciesOnly",
        ],
        p,
    );
    let mut signin = SignIn {
        group_ids: groups,
        role_ids: roles,
        ..SignIn::default()
    };
    let applied_only = boolean(map, "appliedPoliciesOnly", path, p).unwrap_or(false);
    let require = |name: &str, p: &mut Problems| {
        let v = field(map, name);
        if v.is_none() {
            p.push(
                err::MISSING_FIELD,
                &err::key(path, name),
                format!("`{name}` is required"),
            );
        }
        v
    };
    let identity = require("signInIdentity", p);
    let context = require("signInContext", p);
    let conditions = require("signInConditions", p);
    if let Some(v) = identity {
        sign_in_identity(v, &err::key(path, "signInIdentity"), &mut signin, p);
    }
    if let Some(v) = context {
        sign_in_context(v, &err::key(path, "signInContext"), &mut signin, p);
    }
    if let Some(v) = conditions {
        sign_in_conditions(v, &err::key(path, "signInConditions"), &mut signin, p);
    }
    Some(WhatIfRequest {
        sign_in: signin,
        applied_policies_only: applied_only,
    })
}

fn sign_in_identity(value: &Value, path: &str, s: &mut SignIn, p: &mut Problems) -> Option<()> {
    let map = object(value, path, p)?;
    let kind = required_string(map, "@odata.type", path, p)?;
    if kind.eq_ignore_ascii_case("#microsoft.graph.servicePrincipalSignIn") {
        p.push(
            err::UNSUPPORTED_VALUE,
            &err::key(path, "@odata.type"),
            "workload identities are not supported; use `#microsoft.graph.userSignIn`",
        );
        return None;
    }
    odata_type(map, path, &["#microsoft.graph.userSignIn"], p)?;
    known_fields(
        map,
        path,
        &[
            "@odata.type",
            "userId",
            "externalTenantId",
            "externalUserType",
        ],
        p,
    );
    s.user_id = required_string(map, "userId", path, p)?.to_string();
    s.external_tenant_id = string(map, "externalTenantId", path, p).map(str::to_string);
    if let Some(t) = string(map, "externalUserType", path, p) {
        if !t.eq_ignore_ascii_case("none") {
            s.external_user_type = member::<GuestType>(t, &err::key(path, "externalUserType"), p)
                .map(|_| t.to_string());
            s.is_guest = true;
        }
    }
    Some(())
}

fn sign_in_context(value: &Value, path: &str, s: &mut SignIn, p: &mut Problems) -> Option<()> {
    let map = object(value, path, p)?;
    required_string(map, "@odata.type", path, p)?;
    let kind = odata_type(
        map,
        path,
        &[
            "#microsoft.graph.applicationContext",
            "#microsoft.graph.userActionContext",
            "#microsoft.graph.authContext",
        ],
        p,
    )?;
    match kind {
        0 => {
            known_fields(map, path, &["@odata.type", "includeApplications"], p);
            let apps = strings(map, "includeApplications", path, p);
            let list_path = err::key(path, "includeApplications");
            match apps.as_slice() {
                [(i, app)] => s.app_id = id(app, &err::index(&list_path, *i), p)?,
                _ => p.push(
                    err::UNSUPPORTED_VALUE,
                    &list_path,
                    "give exactly one application; evaluate several apps with one request each",
                ),
            }
        }
        1 => {
            known_fields(map, path, &["@odata.type", "userAction"], p);
            let action = required_string(map, "userAction", path, p)?;
            let urn = match action {
                a if a.eq_ignore_ascii_case("registerSecurityInformation") => {
                    UserAction::RegisterSecurityInfo
                }
                a if a.eq_ignore_ascii_case("registerOrJoinDevices") => UserAction::RegisterDevice,
                a => {
                    p.push(
                        err::INVALID_VALUE,
                        &err::key(path, "userAction"),
                        format!("`{a}` is not valid; expected `registerSecurityInformation` or `registerOrJoinDevices`"),
                    );
                    return None;
                }
            };
            s.user_action = Some(urn.as_str().to_string());
        }
        _ => {
            known_fields(map, path, &["@odata.type", "authenticationContextValue"], p);
            let value = required_string(map, "authenticationContextValue", path, p)?;
            s.auth_contexts = vec![id(value, &err::key(path, "authenticationContextValue"), p)?];
        }
    }
    Some(())
}

fn sign_in_conditions(value: &Value, path: &str, s: &mut SignIn, p: &mut Problems) -> Option<()> {
    let map = object(value, path, p)?;
    known_fields(
        map,
        path,
        &[
            "@odata.type",
            "authenticationFlow",
            "clientAppType",
            "country",
            "deviceInfo",
            "devicePlatform",
            "insiderRiskLevel",
            "ipAddress",
            "servicePrincipalRiskLevel",
            "signInRiskLevel",
            "userRiskLevel",
        ],
        p,
    );
    odata_type(map, path, &["#microsoft.graph.signInConditions"], p);
    s.client_app_type = checked::<ClientAppType>(map, "clientAppType", path, p);
    s.device_platform = checked::<Platform>(map, "devicePlatform", path, p);
    s.sign_in_risk = checked::<RiskLevel>(map, "signInRiskLevel", path, p);
    s.user_risk = checked::<RiskLevel>(map, "userRiskLevel", path, p);
    checked::<RiskLevel>(map, "servicePrincipalRiskLevel", path, p);
    if let Some(level) = string(map, "insiderRiskLevel", path, p) {
        // `none` is Graph's documented default for the request (signInConditions).
        if !["none", "minor", "moderate", "elevated"]
            .iter()
            .any(|l| l.eq_ignore_ascii_case(level))
        {
            p.push(
                err::INVALID_VALUE,
                &err::key(path, "insiderRiskLevel"),
                format!(
                    "`{level}` is not valid; expected `none`, `minor`, `moderate` or `elevated`"
                ),
            );
        }
    }
    s.country = country(map, "country", path, p);
    s.ip_address = ip(map, "ipAddress", path, p);
    s.device = device(map, "deviceInfo", path, p, true);
    if let Some(flow) = field(map, "authenticationFlow") {
        let flow_path = err::key(path, "authenticationFlow");
        let flow = object(flow, &flow_path, p)?;
        known_fields(flow, &flow_path, &["@odata.type", "transferMethod"], p);
        odata_type(
            flow,
            &flow_path,
            &["#microsoft.graph.authenticationFlow"],
            p,
        );
        if let Some(t) = string(flow, "transferMethod", &flow_path, p) {
            if !t.eq_ignore_ascii_case("none") {
                s.authentication_flow =
                    checked::<TransferMethod>(flow, "transferMethod", &flow_path, p);
            }
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(v: Value) -> Vec<(String, Option<String>)> {
        parse_sign_in(&v, "signIn")
            .unwrap_err()
            .into_iter()
            .map(|e| (e.code, e.target))
            .collect()
    }

    #[test]
    fn a_blank_app_id_is_refused_unless_the_sign_in_is_a_user_action() {
        let app_id = (err::INVALID_VALUE.to_string(), Some("signIn.appId".into()));
        for blank in ["", " ", "\t"] {
            assert_eq!(
                problems(json!({"userId": "u", "appId": blank})),
                vec![app_id.clone()]
            );
        }
        // A misspelt user action is reported, and does not excuse the empty app id.
        assert_eq!(
            problems(json!({"userId": "u", "appId": "", "userAction": "urn:user:nope"})),
            vec![
                (err::INVALID_VALUE.into(), Some("signIn.userAction".into())),
                app_id
            ]
        );
        // A missing app id stays `missing_field`, reported once.
        assert_eq!(
            problems(json!({"userId": "u"})),
            vec![(err::MISSING_FIELD.into(), Some("signIn.appId".into()))]
        );
        let action = parse_sign_in(
            &json!({"userId": "u", "appId": "", "userAction": "urn:user:registersecurityinfo"}),
            "signIn",
        )
        .unwrap();
        assert_eq!(action.app_id, "");
        let e = parse_sign_in(&json!({"userId": "u", "appId": ""}), "signIn").unwrap_err();
        assert!(
            e[0].message.contains("`appId` is empty"),
            "{}",
            e[0].message
        );
    }
}
