//! The tenant's flow configuration as the admin API edits it: one JSON document
//! (`{authenticationMethodsPolicy, userFlow, settings}`, the shape of
//! [`crate::flow::FlowConfig`]) that the Worker stores whole at `tenant/{tenant}/flowConfig`
//! and the native-auth engine reads on the next sign-in.
//!
//! The document is edited as JSON, not through the typed config, so Graph fields the engine
//! does not read (a flow's `description`, a method's `isSoftwareOathEnabled`, …) survive a
//! round trip: what an admin PATCHes is what a later GET shows. Every write is checked
//! against the whole resulting [`FlowConfig`] (its types, then [`FlowConfig::validate`],
//! then the admin's own rules on method ids) and a refused write changes nothing.

use crate::error::ErrorBody;
use crate::flow::FlowConfig;
use serde_json::{Map, Value};

/// Why an admin write to the flow configuration was refused. The Worker maps each to
/// one HTTP status with [`Refusal::status`].
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// No item with that id (404).
    NotFound,
    /// The request or the resulting configuration is invalid (400); every problem listed.
    Invalid(Vec<ErrorBody>),
    /// The write conflicts with what exists (409), e.g. a second user flow.
    Conflict(ErrorBody),
}

impl Refusal {
    /// The HTTP status for this refusal.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::NotFound => 404,
            Refusal::Invalid(_) => 400,
            Refusal::Conflict(_) => 409,
        }
    }

    /// The error body: the first problem, with all of them in `details` when several.
    pub fn body(self) -> ErrorBody {
        match self {
            Refusal::NotFound => ErrorBody::new("admin.not_found", "no item with that id"),
            Refusal::Invalid(problems) => ErrorBody::from_problems(problems)
                .unwrap_or_else(|| ErrorBody::new("admin.invalid", "the request was refused")),
            Refusal::Conflict(body) => body,
        }
    }

    /// A single problem at `target`.
    pub(crate) fn invalid(code: &str, message: impl Into<String>, target: &str) -> Self {
        Refusal::Invalid(vec![ErrorBody::new(code, message).at(target)])
    }
}

/// The configuration in effect: the stored document, else the built-in flow. A stored
/// text that is not a JSON object is treated as absent only if it is empty; otherwise
/// it is refused, so an admin write never silently replaces a document it cannot read.
pub fn effective(stored: Option<&str>) -> Result<Value, ErrorBody> {
    match stored.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(crate::native::defaults::builtin_flow_config_json()),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(v @ Value::Object(_)) => Ok(v),
            _ => Err(ErrorBody::new(
                "admin.stored_config_unreadable",
                "the stored flow configuration is not a JSON object; replace it through the dev route or delete the KV key",
            )),
        },
    }
}

/// The typed configuration of a document, or every reason it is not a valid one.
/// `reroot` is the JSON path of the part the request wrote (`settings`, …): targets
/// inside it are given relative to the request body, others in full.
pub fn check(doc: &Value, reroot: &str) -> Result<FlowConfig, Refusal> {
    let config = FlowConfig::from_json_text(&doc.to_string()).map_err(|e| {
        let body = ErrorBody::new("admin.invalid_value", lowercase_first(&e.message));
        Refusal::Invalid(vec![body.at(relative(&e.path, reroot))])
    })?;
    config.validate().map_err(|e| {
        let mut body = ErrorBody::from(e);
        body.target = body.target.map(|t| relative(&t, reroot));
        Refusal::Invalid(vec![body])
    })?;
    super::methods::check_ids(doc, reroot)?;
    Ok(config)
}

/// `path` relative to `root` when it lies inside it (`settings.codes.length` under
/// `settings` is `codes.length`), else unchanged.
pub(crate) fn relative(path: &str, root: &str) -> String {
    if root.is_empty() {
        return path.to_string();
    }
    match path.strip_prefix(root) {
        Some("") => "$".to_string(),
        Some(rest) if rest.starts_with('.') => rest.trim_start_matches('.').to_string(),
        Some(rest) if rest.starts_with('[') => rest.to_string(),
        _ => path.to_string(),
    }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The body of a write as an object, without `@odata.context` (pasting a GET response
/// back is allowed), refusing the server-owned fields `read_only`.
pub(crate) fn body_object(body: Value, read_only: &[&str]) -> Result<Map<String, Value>, Refusal> {
    let Value::Object(mut map) = body else {
        return Err(Refusal::invalid(
            "admin.body_not_object",
            "the request body must be a JSON object",
            "$",
        ));
    };
    map.remove("@odata.context");
    let problems = super::collection::read_only_problems(&map, read_only);
    if problems.is_empty() {
        Ok(map)
    } else {
        Err(Refusal::Invalid(problems))
    }
}

/// The object at `key` of a document, created empty if absent or not an object.
pub(crate) fn object_at<'a>(doc: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    let map = doc.as_object_mut()?;
    let slot = map
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nothing_stored_means_the_builtin_flow() {
        let doc = effective(None).unwrap();
        assert!(check(&doc, "").is_ok());
        assert_eq!(effective(Some("  ")).unwrap(), doc);
        assert_eq!(
            effective(Some("[1]")).unwrap_err().code,
            "admin.stored_config_unreadable"
        );
    }

    #[test]
    fn type_errors_carry_the_path_relative_to_the_written_part() {
        let mut doc = effective(None).unwrap();
        doc["settings"] = json!({"codes": {"length": "eight"}});
        let Err(Refusal::Invalid(p)) = check(&doc, "settings") else {
            panic!("refused")
        };
        assert_eq!(p[0].code, "admin.invalid_value");
        assert_eq!(p[0].target.as_deref(), Some("codes.length"));
        let Err(Refusal::Invalid(p)) = check(&doc, "") else {
            panic!("refused")
        };
        assert_eq!(p[0].target.as_deref(), Some("settings.codes.length"));
    }

    #[test]
    fn rule_errors_carry_the_path_too() {
        let mut doc = effective(None).unwrap();
        doc["settings"] = json!({"codes": {"length": 5}});
        let Err(Refusal::Invalid(p)) = check(&doc, "settings") else {
            panic!("refused")
        };
        assert_eq!(p[0].code, "flow.invalid_config");
        assert_eq!(p[0].target.as_deref(), Some("codes.length"));
    }

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative("settings.codes.length", "settings"),
            "codes.length"
        );
        assert_eq!(relative("settingsX.a", "settings"), "settingsX.a");
        assert_eq!(relative("userFlow", "userFlow"), "$");
        assert_eq!(relative("a.b[2].c", "a.b"), "[2].c");
        assert_eq!(relative("a.b", ""), "a.b");
    }

    #[test]
    fn bodies_must_be_objects_without_server_fields() {
        assert!(matches!(
            body_object(json!([1]), &[]),
            Err(Refusal::Invalid(ref p)) if p[0].code == "admin.body_not_object"
        ));
        let Err(Refusal::Invalid(p)) = body_object(json!({"id": "x", "a": 1}), &["id"]) else {
            panic!("refused")
        };
        assert_eq!(p[0].target.as_deref(), Some("id"));
        let ok = body_object(json!({"@odata.context": "x", "a": 1}), &["id"]).unwrap();
        assert_eq!(Value::Object(ok), json!({"a": 1}));
    }
}
