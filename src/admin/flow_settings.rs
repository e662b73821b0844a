//! Vestibule's own flow settings at `/vestibule/flowSettings`: MFA enforcement, one-time
//! code length and lifetimes, lockout, password hashing and banned passwords.
//!
//! Graph has no resource for these: Entra fixes them service-wide (8-digit codes, its own
//! smart lockout) and MFA enforcement there is Conditional Access alone, while Azure AD
//! B2C's per-flow MFA setting has no Graph v1.0 shape. So the path is namespaced
//! `vestibule` rather than dressed as a Graph resource that does not exist.
//!
//! GET shows every setting with its value in effect (defaults filled in). PATCH is a JSON
//! merge patch (RFC 7396) of that object: nested objects merge, `null` resets a value to
//! its default. Hand-written because it is a dozen lines over `serde_json`.

use super::flow_document::{self, Refusal, body_object};
use crate::error::ErrorBody;
use crate::flow::FlowSettings;
use serde_json::{Map, Value};

const ROOT: &str = "settings";

/// The settings in effect, every field present.
pub fn view(doc: &Value) -> Value {
    // Read from text, as `FlowConfig::from_json_text` reads it, so the Worker carries one
    // copy of the settings' deserialization code, not two.
    let settings: FlowSettings = doc
        .get(ROOT)
        .and_then(|s| serde_json::from_str(&s.to_string()).ok())
        .unwrap_or_default();
    serde_json::to_value(settings).unwrap_or(Value::Null)
}

/// `PATCH`: merges `body` into the settings in effect. Returns the new document.
pub fn patch(doc: &Value, body: Value) -> Result<Value, Refusal> {
    let changes = body_object(body, &[])?;
    let mut settings = view(doc);
    let mut problems = Vec::new();
    groups_stay_objects(&settings, &changes, "", &mut problems);
    if !problems.is_empty() {
        return Err(Refusal::Invalid(problems));
    }
    merge(&mut settings, Value::Object(changes));
    let mut next = doc.clone();
    if let Some(map) = next.as_object_mut() {
        map.insert(ROOT.into(), prune_nulls(settings));
    }
    flow_document::check(&next, ROOT)?;
    Ok(next)
}

/// A merge patch replaces whatever is not an object, so `"codes": []` would replace the
/// group, and serde reads a struct from a list (positionally, or all defaults when
/// empty): the write would be stored as a list and silently mean something else. A group
/// may only be patched with an object, or reset with `null`.
fn groups_stay_objects(
    current: &Value,
    changes: &Map<String, Value>,
    at: &str,
    out: &mut Vec<ErrorBody>,
) {
    for (k, v) in changes {
        let path = if at.is_empty() {
            k.clone()
        } else {
            format!("{at}.{k}")
        };
        let Some(group @ Value::Object(_)) = current.get(k) else {
            continue;
        };
        match v {
            Value::Null => {}
            Value::Object(inner) => groups_stay_objects(group, inner, &path, out),
            _ => out.push(
                ErrorBody::new(
                    "admin.invalid_value",
                    format!("`{path}` is a group of settings: send an object, or null to reset it"),
                )
                .at(&path),
            ),
        }
    }
}

/// RFC 7396 JSON merge patch.
fn merge(target: &mut Value, patch: Value) {
    let Value::Object(patch) = patch else {
        *target = patch;
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(map) = target.as_object_mut() else {
        return;
    };
    for (k, v) in patch {
        if v.is_null() {
            map.remove(&k);
        } else {
            merge(map.entry(k).or_insert(Value::Null), v);
        }
    }
}

/// Removed members fall back to their defaults when parsed; nulls inside arrays stay
/// (and are refused by the types).
fn prune_nulls(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, prune_nulls(v)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::MfaEnforcement;
    use serde_json::json;

    fn builtin() -> Value {
        flow_document::effective(None).unwrap()
    }

    #[test]
    fn the_view_fills_in_defaults() {
        let v = view(&builtin());
        assert_eq!(v["mfaEnforcement"], "conditional");
        assert_eq!(v["codes"]["length"], 8);
        assert_eq!(v["passwords"]["hashing"]["iterations"], 2);
    }

    #[test]
    fn merge_patch_changes_only_what_it_names_and_null_resets() {
        let doc = builtin();
        let next = patch(
            &doc,
            json!({"mfaEnforcement": "always", "codes": {"length": 6}}),
        )
        .unwrap();
        let c = flow_document::check(&next, "").unwrap().settings;
        assert_eq!(c.mfa_enforcement, MfaEnforcement::Always);
        assert_eq!(c.codes.length, 6);
        assert_eq!(c.codes.lifetime_seconds, 600);
        let reset = patch(&next, json!({"codes": {"length": null}})).unwrap();
        let c = flow_document::check(&reset, "").unwrap().settings;
        assert_eq!(c.codes.length, 8);
        assert_eq!(c.mfa_enforcement, MfaEnforcement::Always);
    }

    #[test]
    fn bad_settings_are_refused_with_their_path() {
        let doc = builtin();
        let refused = |body: Value| match patch(&doc, body) {
            Err(Refusal::Invalid(p)) => (p[0].code.clone(), p[0].target.clone()),
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert_eq!(
            refused(json!({"codes": {"length": 9}})),
            ("flow.invalid_config".into(), Some("codes.length".into()))
        );
        assert_eq!(
            refused(json!({"mfaEnforcement": "sometimes"})),
            ("admin.invalid_value".into(), Some("mfaEnforcement".into()))
        );
        let (code, _) = refused(json!({"codez": {}}));
        assert_eq!(code, "admin.invalid_value");
        assert_eq!(
            refused(json!({"lockout": {"maxConsecutiveFailures": 101}})).1,
            Some("lockout.maxConsecutiveFailures".into())
        );
        // A group replaced by a list or a number would be read positionally or as defaults.
        assert_eq!(
            refused(json!({"codes": []})),
            ("admin.invalid_value".into(), Some("codes".into()))
        );
        assert_eq!(
            refused(json!({"passwords": {"hashing": [1, 2, 3]}})),
            (
                "admin.invalid_value".into(),
                Some("passwords.hashing".into())
            )
        );
        assert_eq!(refused(json!({"lockout": 5})).1, Some("lockout".into()));
    }
}
