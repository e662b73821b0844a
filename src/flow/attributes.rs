//! Sign-up attributes: what is required, and validation of submitted values against
//! type, regex (`validationRegEx`) and options. Values come as JSON (native auth sends
//! the `attributes` form field as a JSON string, usually with string values), so
//! `"42"` is accepted for an `int64` and `"true"` for a `boolean`.

use super::err::FlowError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The longest string value accepted.
pub const MAX_VALUE_LENGTH: usize = 1024;

/// One attribute to collect, as native auth's `required_attributes` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttributeSpec {
    /// The attribute id (`displayName`, `extension_<appid>_<name>`).
    pub name: String,
    /// The value type.
    pub data_type: AttributeType,
    /// Must be given before the account is created.
    pub required: bool,
    /// A regex every value must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// Allowed values, when the input is a selection.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// The label to show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Graph `identityUserFlowAttributeDataType`, the values the engine can check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AttributeType {
    /// Text.
    String,
    /// `true` or `false`.
    Boolean,
    /// A whole number.
    Int64,
    /// Several texts (multi-select).
    StringCollection,
}

impl AttributeType {
    /// The type for a Graph `dataType`; unknown types are read as text.
    pub fn from_graph(data_type: Option<&str>) -> Self {
        match data_type {
            Some("boolean") => AttributeType::Boolean,
            Some("int64") => AttributeType::Int64,
            Some("stringCollection") => AttributeType::StringCollection,
            _ => AttributeType::String,
        }
    }
}

/// Checks submitted values. Returns the normalized values, or the names of invalid
/// ones (unknown names are invalid too). A regex that does not compile is a
/// configuration error ([`super::FlowConfig::validate`] catches it earlier).
pub(crate) fn validate(
    specs: &[AttributeSpec],
    submitted: &Map<String, Value>,
) -> Result<Result<BTreeMap<String, Value>, Vec<String>>, FlowError> {
    let mut good = BTreeMap::new();
    let mut bad = Vec::new();
    for (name, value) in submitted {
        let Some(spec) = specs.iter().find(|s| &s.name == name) else {
            bad.push(name.clone());
            continue;
        };
        match normalize(spec, value)? {
            Some(v) => {
                good.insert(name.clone(), v);
            }
            None => bad.push(name.clone()),
        }
    }
    Ok(if bad.is_empty() { Ok(good) } else { Err(bad) })
}

/// Required attributes not collected yet.
pub(crate) fn missing(
    specs: &[AttributeSpec],
    collected: &BTreeMap<String, Value>,
) -> Vec<AttributeSpec> {
    specs
        .iter()
        .filter(|s| s.required && !collected.contains_key(&s.name))
        .cloned()
        .collect()
}

fn normalize(spec: &AttributeSpec, value: &Value) -> Result<Option<Value>, FlowError> {
    let text_ok = |text: &str| -> Result<bool, FlowError> {
        if text.trim().is_empty() || text.chars().count() > MAX_VALUE_LENGTH {
            return Ok(false);
        }
        if !spec.options.is_empty() && !spec.options.iter().any(|o| o == text) {
            return Ok(false);
        }
        match &spec.regex {
            None => Ok(true),
            Some(pattern) => regex_lite::Regex::new(pattern)
                .map(|re| re.is_match(text))
                .map_err(|e| {
                    FlowError::config(
                        format!("userFlow.onAttributeCollection ({})", spec.name),
                        format!("`{pattern}` is not a valid regex: {e}"),
                    )
                }),
        }
    };
    // A boolean or a number is held to the regex and options in its text form too, however
    // it was sent: a JSON `5` skipped the `validationRegEx` that refused `"5"`.
    Ok(match (spec.data_type, value) {
        (AttributeType::String, Value::String(s)) => text_ok(s)?.then(|| Value::String(s.clone())),
        (AttributeType::Boolean, Value::Bool(_) | Value::String(_)) => {
            let b = match value {
                Value::Bool(b) => Some(*b),
                Value::String(s) if s == "true" => Some(true),
                Value::String(s) if s == "false" => Some(false),
                _ => None,
            };
            match b {
                Some(b) if text_ok(if b { "true" } else { "false" })? => Some(Value::Bool(b)),
                _ => None,
            }
        }
        (AttributeType::Int64, Value::Number(n)) => match n.as_i64() {
            Some(i) if text_ok(&i.to_string())? => Some(Value::from(i)),
            _ => None,
        },
        (AttributeType::Int64, Value::String(s)) => {
            let ok = text_ok(s)?;
            s.trim().parse::<i64>().ok().filter(|_| ok).map(Value::from)
        }
        (AttributeType::StringCollection, Value::Array(items)) => {
            let mut out = Vec::new();
            for item in items {
                match item {
                    Value::String(s) if text_ok(s)? => out.push(Value::String(s.clone())),
                    _ => return Ok(None),
                }
            }
            (!out.is_empty()).then_some(Value::Array(out))
        }
        (AttributeType::StringCollection, Value::String(s)) => {
            text_ok(s)?.then(|| Value::Array(vec![Value::String(s.clone())]))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn specs() -> Vec<AttributeSpec> {
        vec![
            AttributeSpec {
                name: "displayName".into(),
                data_type: AttributeType::String,
                required: true,
                regex: Some("^[a-zA-Z_][0-9a-zA-Z_ ]*[0-9a-zA-Z_]+$".into()),
                options: vec![],
                label: None,
            },
            AttributeSpec {
                name: "extension_x_Age".into(),
                data_type: AttributeType::Int64,
                required: false,
                regex: None,
                options: vec![],
                label: None,
            },
            AttributeSpec {
                name: "extension_x_Color".into(),
                data_type: AttributeType::String,
                required: false,
                regex: None,
                options: vec!["red".into(), "blue".into()],
                label: None,
            },
        ]
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn good_values_are_normalized() {
        let out = validate(
            &specs(),
            &map(json!({"displayName": "Ada Lovelace", "extension_x_Age": "36", "extension_x_Color": "red"})),
        )
        .unwrap()
        .unwrap();
        assert_eq!(out["extension_x_Age"], json!(36));
        assert!(missing(&specs(), &out).is_empty());
    }

    #[test]
    fn bad_values_are_named() {
        let bad = validate(
            &specs(),
            &map(json!({"displayName": "!nope", "extension_x_Age": "old", "extension_x_Color": "green", "surprise": 1})),
        )
        .unwrap()
        .unwrap_err();
        assert_eq!(bad.len(), 4);
        assert_eq!(missing(&specs(), &BTreeMap::new()).len(), 1);
    }
}
