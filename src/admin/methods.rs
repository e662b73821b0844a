//! Graph `authenticationMethodsPolicy` over the tenant's flow document: the policy
//! (`/policies/authenticationMethodsPolicy`) and one method configuration
//! (`…/authenticationMethodConfigurations/{id}`).
//!
//! Graph knows a fixed set of method ids; each has its own `@odata.type`. All of them are
//! accepted and stored (so a Graph GET response can be pasted), the engine reads only
//! `Email` and `Sms`, and a method absent from the document is off, which is what GET of
//! an absent configuration shows. A PATCH of the policy merges the configurations it
//! names into the stored list by id (the others are kept), so disabling SMS does not
//! need the whole list; each configuration's own top-level properties are replaced, as
//! Graph does for complex properties.

use super::flow_document::{self, Refusal, body_object, object_at, relative};
use crate::error::ErrorBody;
use serde_json::{Map, Value, json};

const ROOT: &str = "authenticationMethodsPolicy";
const CONFIGS: &str = "authenticationMethodConfigurations";
const POLICY_ID: &str = "authenticationMethodsPolicy";

/// The policy's own Graph properties (v1.0 and beta), stored as written so a Graph GET
/// response can be pasted. Anything else is refused: stored, it would be shown back as
/// if it meant something.
const POLICY_PROPERTIES: &[&str] = &[
    "@odata.type",
    "displayName",
    "description",
    "lastModifiedDateTime",
    "policyVersion",
    "policyMigrationState",
    "reconfirmationInDays",
    "registrationEnforcement",
    "reportSuspiciousActivitySettings",
    "systemCredentialPreferences",
    "microsoftAuthenticatorPlatformSettings",
];

/// The Graph method ids and their `@odata.type`, as Graph spells them.
const KNOWN: &[(&str, &str)] = &[
    ("Email", "emailAuthenticationMethodConfiguration"),
    ("Sms", "smsAuthenticationMethodConfiguration"),
    ("Voice", "voiceAuthenticationMethodConfiguration"),
    ("Fido2", "fido2AuthenticationMethodConfiguration"),
    (
        "MicrosoftAuthenticator",
        "microsoftAuthenticatorAuthenticationMethodConfiguration",
    ),
    (
        "TemporaryAccessPass",
        "temporaryAccessPassAuthenticationMethodConfiguration",
    ),
    (
        "SoftwareOath",
        "softwareOathAuthenticationMethodConfiguration",
    ),
    (
        "HardwareOath",
        "hardwareOathAuthenticationMethodConfiguration",
    ),
    (
        "X509Certificate",
        "x509CertificateAuthenticationMethodConfiguration",
    ),
];

/// The Graph spelling of a method id (ids match case-insensitively, as the engine reads them).
fn canonical(id: &str) -> Option<&'static str> {
    KNOWN
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(id))
        .map(|(k, _)| *k)
}

fn odata_type(id: &str) -> Option<String> {
    KNOWN
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(id))
        .map(|(_, t)| format!("#microsoft.graph.{t}"))
}

fn configs(doc: &Value) -> &[Value] {
    doc.get(ROOT)
        .and_then(|p| p.get(CONFIGS))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn config_id(config: &Value) -> Option<&str> {
    config.get("id").and_then(Value::as_str)
}

/// The index of configuration `id` in the document.
fn position(doc: &Value, id: &str) -> Option<usize> {
    configs(doc)
        .iter()
        .position(|c| config_id(c).is_some_and(|c| c.eq_ignore_ascii_case(id)))
}

/// One configuration as Graph returns it, with its `@odata.type`.
fn with_type(config: &Value) -> Value {
    let Value::Object(map) = config else {
        return config.clone();
    };
    let mut out = Map::new();
    if let Some(t) = config_id(config).and_then(odata_type) {
        out.insert("@odata.type".into(), Value::String(t));
    }
    for (k, v) in map {
        if k != "@odata.type" {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// `GET /policies/authenticationMethodsPolicy`.
pub fn policy_view(doc: &Value) -> Value {
    let mut out = Map::new();
    out.insert(
        "@odata.context".into(),
        json!("https://graph.microsoft.com/v1.0/$metadata#authenticationMethodsPolicy"),
    );
    out.insert("id".into(), json!(POLICY_ID));
    if let Some(Value::Object(policy)) = doc.get(ROOT) {
        for (k, v) in policy {
            if k != CONFIGS && k != "id" {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out.insert(
        CONFIGS.into(),
        Value::Array(configs(doc).iter().map(with_type).collect()),
    );
    Value::Object(out)
}

/// `GET …/authenticationMethodConfigurations/{id}`: the stored configuration, or for a
/// Graph method the tenant never configured, that method switched off. `None` for an id
/// Graph does not know.
pub fn config_view(doc: &Value, id: &str) -> Option<Value> {
    let canonical = canonical(id)?;
    let config = configs(doc)
        .iter()
        .find(|c| config_id(c).is_some_and(|c| c.eq_ignore_ascii_case(id)))
        .cloned()
        .unwrap_or_else(|| off(canonical));
    let mut out = Map::new();
    out.insert(
        "@odata.context".into(),
        json!(
            "https://graph.microsoft.com/v1.0/$metadata#policies/authenticationMethodsPolicy/authenticationMethodConfigurations/$entity"
        ),
    );
    if let Value::Object(map) = with_type(&config) {
        out.extend(map);
    }
    Some(Value::Object(out))
}

fn off(id: &str) -> Value {
    json!({"id": id, "state": "disabled", "includeTargets": [], "excludeTargets": []})
}

/// `PATCH /policies/authenticationMethodsPolicy`: top-level properties replaced,
/// configurations merged by id. Returns the new document.
pub fn patch_policy(doc: &Value, body: Value) -> Result<Value, Refusal> {
    let mut changes = body_object(body, &[])?;
    if let Some(id) = changes.remove("id")
        && id != json!(POLICY_ID)
    {
        return Err(Refusal::invalid(
            "admin.read_only_field",
            "`id` is always `authenticationMethodsPolicy`; leave it out of the request",
            "id",
        ));
    }
    let given = match changes.remove(CONFIGS) {
        None => Vec::new(),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(Refusal::invalid(
                "admin.invalid_value",
                "must be an array of method configurations",
                CONFIGS,
            ));
        }
    };
    let unknown: Vec<ErrorBody> = changes
        .keys()
        .filter(|k| !POLICY_PROPERTIES.contains(&k.as_str()))
        .map(|k| {
            ErrorBody::new(
                "admin.unsupported_property",
                format!("`{k}` is not a property of Graph's authenticationMethodsPolicy"),
            )
            .at(k)
        })
        .collect();
    if !unknown.is_empty() {
        return Err(Refusal::Invalid(unknown));
    }
    let mut next = doc.clone();
    let policy = object_at(&mut next, ROOT).ok_or_else(not_object)?;
    for (k, v) in changes {
        policy.insert(k, v);
    }
    // Body index → document index, so errors point into the request body.
    let mut placed: Vec<(usize, usize)> = Vec::new();
    for (k, item) in given.into_iter().enumerate() {
        let at = |field: &str| format!("{CONFIGS}[{k}]{field}");
        let Value::Object(map) = item else {
            return Err(Refusal::invalid(
                "admin.invalid_value",
                "a method configuration must be an object",
                &at(""),
            ));
        };
        let id = map.get("id").and_then(Value::as_str).unwrap_or_default();
        let canonical = canonical(id).ok_or_else(|| unknown_method(id, &at(".id")))?;
        check_type(&map, canonical, &at(".@odata.type"))?;
        let j = merge_config(&mut next, canonical, map)?;
        placed.push((j, k));
    }
    flow_document::check(&next, "").map_err(|r| reindex(r, &placed))?;
    Ok(next)
}

/// `PATCH …/authenticationMethodConfigurations/{id}`: the configuration's top-level
/// properties replaced (a configuration Graph knows but the tenant never stored starts
/// from switched off). Returns the new document.
pub fn patch_config(doc: &Value, id: &str, body: Value) -> Result<Value, Refusal> {
    let canonical = canonical(id).ok_or(Refusal::NotFound)?;
    let mut map = body_object(body, &[])?;
    if let Some(given) = map.get("id")
        && !given
            .as_str()
            .is_some_and(|g| g.eq_ignore_ascii_case(canonical))
    {
        return Err(Refusal::invalid(
            "admin.read_only_field",
            format!("`id` is `{canonical}`, from the path; leave it out of the request"),
            "id",
        ));
    }
    check_type(&map, canonical, "@odata.type")?;
    let mut next = doc.clone();
    map.remove("id");
    let j = merge_config(&mut next, canonical, map)?;
    flow_document::check(&next, &format!("{ROOT}.{CONFIGS}[{j}]"))?;
    Ok(next)
}

/// Merges `changes` into configuration `id` (appending it, switched off, if absent);
/// returns its index.
fn merge_config(
    doc: &mut Value,
    id: &'static str,
    mut changes: Map<String, Value>,
) -> Result<usize, Refusal> {
    let j = position(doc, id);
    let policy = object_at(doc, ROOT).ok_or_else(not_object)?;
    let list = policy
        .entry(CONFIGS.to_string())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !list.is_array() {
        *list = Value::Array(Vec::new());
    }
    let list = list.as_array_mut().ok_or_else(not_object)?;
    let j = match j {
        Some(j) => j,
        None => {
            list.push(off(id));
            list.len().saturating_sub(1)
        }
    };
    let slot = list.get_mut(j).ok_or_else(not_object)?;
    if !slot.is_object() {
        *slot = off(id);
    }
    let target = slot.as_object_mut().ok_or_else(not_object)?;
    changes.insert("id".into(), Value::String(id.to_string()));
    for (k, v) in changes {
        target.insert(k, v);
    }
    Ok(j)
}

fn check_type(map: &Map<String, Value>, id: &str, target: &str) -> Result<(), Refusal> {
    match (map.get("@odata.type"), odata_type(id)) {
        (None, _) => Ok(()),
        (Some(Value::String(given)), Some(expected)) if given.eq_ignore_ascii_case(&expected) => {
            Ok(())
        }
        (Some(given), expected) => Err(Refusal::invalid(
            "admin.odata_type_mismatch",
            format!(
                "`{}` is not the type of method `{id}`; use `{}` or leave it out",
                given.as_str().unwrap_or("?"),
                expected.unwrap_or_default()
            ),
            target,
        )),
    }
}

fn unknown_method(id: &str, target: &str) -> Refusal {
    let names: Vec<&str> = KNOWN.iter().map(|(k, _)| *k).collect();
    Refusal::invalid(
        "admin.unknown_method",
        format!(
            "`{id}` is not an authentication method id; use one of {}",
            names.join(", ")
        ),
        target,
    )
}

fn not_object() -> Refusal {
    Refusal::invalid(
        "admin.stored_config_unreadable",
        "the stored authentication methods policy is not an object",
        ROOT,
    )
}

/// Rewrites `authenticationMethodsPolicy.authenticationMethodConfigurations[j]…` targets
/// to the body's `authenticationMethodConfigurations[k]…`.
fn reindex(refusal: Refusal, placed: &[(usize, usize)]) -> Refusal {
    let Refusal::Invalid(problems) = refusal else {
        return refusal;
    };
    let problems = problems
        .into_iter()
        .map(|mut p| {
            if let Some(t) = p.target.take() {
                let mut out = relative(&t, ROOT);
                for (j, k) in placed {
                    let from = format!("{CONFIGS}[{j}]");
                    if let Some(rest) = out.strip_prefix(&from)
                        && (rest.is_empty() || rest.starts_with('.'))
                    {
                        out = format!("{CONFIGS}[{k}]{rest}");
                        break;
                    }
                }
                p.target = Some(out);
            }
            p
        })
        .collect();
    Refusal::Invalid(problems)
}

/// The admin's rules on the stored list: Graph method ids only, each once, with its own
/// `@odata.type`. (The engine itself ignores ids it does not read.)
pub(crate) fn check_ids(doc: &Value, reroot: &str) -> Result<(), Refusal> {
    let mut seen: Vec<&str> = Vec::new();
    let mut problems = Vec::new();
    for (i, config) in configs(doc).iter().enumerate() {
        let at = |field: &str| relative(&format!("{ROOT}.{CONFIGS}[{i}]{field}"), reroot);
        let id = config_id(config).unwrap_or_default();
        let Some(canonical) = canonical(id) else {
            if let Refusal::Invalid(p) = unknown_method(id, &at(".id")) {
                problems.extend(p);
            }
            continue;
        };
        if seen.contains(&canonical) {
            problems.push(
                ErrorBody::new(
                    "admin.duplicate_method",
                    format!("method `{canonical}` is configured twice; keep one entry"),
                )
                .at(at(".id")),
            );
        }
        seen.push(canonical);
        if let Some(map) = config.as_object()
            && let Err(Refusal::Invalid(p)) = check_type(map, canonical, &at(".@odata.type"))
        {
            problems.extend(p);
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Refusal::Invalid(problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Channel;
    use crate::flow::UserRecord;
    use crate::pii::Pii;
    use crate::time::Timestamp;

    fn builtin() -> Value {
        flow_document::effective(None).unwrap()
    }

    fn anyone() -> UserRecord {
        UserRecord {
            id: "u1".into(),
            email: Pii::new("a@example.com".into()),
            password_hash: None,
            display_name: None,
            attributes: Default::default(),
            groups: vec![],
            strong_methods: vec![],
            lockout: Default::default(),
            created_at: Timestamp(0),
            password_changed_at: None,
        }
    }

    fn allows(doc: &Value, channel: Channel) -> bool {
        flow_document::check(doc, "")
            .unwrap()
            .authentication_methods_policy
            .allows(channel, &anyone())
    }

    #[test]
    fn the_view_has_graph_types_and_ids() {
        let view = policy_view(&builtin());
        assert_eq!(view["id"], "authenticationMethodsPolicy");
        let configs = view[CONFIGS].as_array().unwrap();
        assert_eq!(configs.len(), 2);
        assert_eq!(
            configs[1]["@odata.type"],
            "#microsoft.graph.smsAuthenticationMethodConfiguration"
        );
        let fido = config_view(&builtin(), "fido2").unwrap();
        assert_eq!(fido["id"], "Fido2");
        assert_eq!(fido["state"], "disabled");
        assert_eq!(config_view(&builtin(), "Carrier"), None);
    }

    #[test]
    fn patching_one_configuration_disables_sms_and_keeps_email() {
        let doc = builtin();
        assert!(allows(&doc, Channel::Sms));
        let next = patch_config(&doc, "sms", json!({"@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration", "state": "disabled"})).unwrap();
        assert!(!allows(&next, Channel::Sms));
        assert!(allows(&next, Channel::Email));
        assert_eq!(
            configs(&next)[1]["includeTargets"],
            configs(&doc)[1]["includeTargets"]
        );
    }

    #[test]
    fn the_policy_patch_merges_configurations_by_id() {
        let next = patch_policy(
            &builtin(),
            json!({"description": "ours", CONFIGS: [{"id": "SMS", "state": "disabled"}, {"id": "Fido2", "state": "enabled", "isSelfServiceRegistrationAllowed": true}]}),
        )
        .unwrap();
        let view = policy_view(&next);
        assert_eq!(view["description"], "ours");
        let ids: Vec<&str> = view[CONFIGS]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["Email", "Sms", "Fido2"]);
        assert!(!allows(&next, Channel::Sms));
        assert_eq!(view[CONFIGS][2]["isSelfServiceRegistrationAllowed"], true);
    }

    #[test]
    fn bad_patches_are_refused_with_the_body_path() {
        let doc = builtin();
        let target = |r: Result<Value, Refusal>| match r {
            Err(Refusal::Invalid(p)) => (p[0].code.clone(), p[0].target.clone().unwrap()),
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert_eq!(
            target(patch_policy(
                &doc,
                json!({CONFIGS: [{"id": "Email", "state": "enabled"}, {"id": "Carrier", "state": "enabled"}]})
            )),
            (
                "admin.unknown_method".into(),
                "authenticationMethodConfigurations[1].id".into()
            )
        );
        assert_eq!(
            target(patch_policy(
                &doc,
                json!({CONFIGS: [{"id": "Fido2", "state": "on"}]})
            )),
            (
                "admin.invalid_value".into(),
                "authenticationMethodConfigurations[0].state".into()
            )
        );
        assert_eq!(
            target(patch_config(&doc, "Sms", json!({"state": "maybe"}))),
            ("admin.invalid_value".into(), "state".into())
        );
        assert_eq!(
            target(patch_config(
                &doc,
                "Sms",
                json!({"@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration"})
            )),
            ("admin.odata_type_mismatch".into(), "@odata.type".into())
        );
        assert_eq!(
            target(patch_config(
                &doc,
                "Sms",
                json!({"includeTargets": [{"targetType": "device", "id": "x"}]})
            )),
            (
                "admin.invalid_value".into(),
                "includeTargets[0].targetType".into()
            )
        );
        assert_eq!(
            patch_config(&doc, "Carrier", json!({})),
            Err(Refusal::NotFound)
        );
        // A property Graph's policy does not have is refused, not stored and shown back.
        assert_eq!(
            target(patch_policy(
                &doc,
                json!({"description": "ours", "sudo": true})
            )),
            ("admin.unsupported_property".into(), "sudo".into())
        );
    }

    #[test]
    fn stored_lists_with_duplicates_or_unknown_ids_are_refused() {
        let mut doc = builtin();
        doc[ROOT][CONFIGS] = json!([{"id": "Email", "state": "enabled"}, {"id": "email", "state": "disabled"}, {"id": "Pigeon", "state": "enabled"}]);
        let Err(Refusal::Invalid(p)) = check_ids(&doc, ROOT) else {
            panic!("refused")
        };
        let codes: Vec<&str> = p.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(codes, ["admin.duplicate_method", "admin.unknown_method"]);
        assert_eq!(
            p[1].target.as_deref(),
            Some("authenticationMethodConfigurations[2].id")
        );
    }
}
