//! Graph JSON to the typed model, reporting every problem with its JSON path.
//!
//! Parsing never stops at the first problem: each object checks its keys against the
//! schema, each value its type and range, and all errors are collected so an admin sees
//! the whole list at once. A value that does not parse is left out of the model, and the
//! caller returns the errors instead of the model whenever there is at least one.

mod controls;
mod location;
mod policy;
mod request;

pub(crate) use location::named_location as location_into;
pub use location::parse_named_location;
pub use policy::parse_policy;
pub(crate) use policy::policy as policy_into;
pub use request::{parse_satisfied, parse_sign_in, parse_what_if_request};

use super::err;
use super::model::GraphEnum;
use crate::error::ErrorBody;
use serde_json::{Map, Value};

/// Collects the problems found while parsing.
#[derive(Debug, Default)]
pub(crate) struct Problems(pub Vec<ErrorBody>);

impl Problems {
    pub(crate) fn push(&mut self, code: &str, path: &str, message: impl Into<String>) {
        self.0.push(err::at(code, path, message));
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// `value` as an object, or a type error.
pub(crate) fn object<'v>(
    value: &'v Value,
    path: &str,
    p: &mut Problems,
) -> Option<&'v Map<String, Value>> {
    match value {
        Value::Object(map) => Some(map),
        other => {
            p.push(
                err::INVALID_TYPE,
                path,
                format!("expected an object, found {}", kind(other)),
            );
            None
        }
    }
}

/// Reports every key of `map` that is not in `known`.
/// The annotation Graph adds to a single object it returns (`GET …/policies/{id}`, the
/// `201` of a create). An object pasted from such a response is accepted, but the key is
/// metadata about that response, not a property: it is dropped and never stored or echoed.
pub(crate) const ODATA_CONTEXT: &str = "@odata.context";

/// `map` without its top-level [`ODATA_CONTEXT`].
pub(crate) fn without_context(map: &Map<String, Value>) -> Map<String, Value> {
    let mut map = map.clone();
    map.remove(ODATA_CONTEXT);
    map
}

pub(crate) fn known_fields(map: &Map<String, Value>, path: &str, known: &[&str], p: &mut Problems) {
    for name in map.keys() {
        if !known.contains(&name.as_str()) {
            p.push(
                err::UNKNOWN_FIELD,
                &err::key(path, name),
                format!("unknown field `{name}`; expected one of {}", quoted(known)),
            );
        }
    }
}

/// Fields Graph echoes (often beta-only) that this engine does not evaluate: accepted only
/// with their neutral value (absent, null, `[]`, `false`), so they are never silently ignored.
pub(crate) fn neutral_only(map: &Map<String, Value>, path: &str, names: &[&str], p: &mut Problems) {
    for name in names {
        match map.get(*name) {
            None | Some(Value::Null | Value::Bool(false)) => {}
            Some(Value::Array(a)) if a.is_empty() => {}
            Some(_) => p.push(
                err::UNSUPPORTED_FIELD,
                &err::key(path, name),
                format!(
                    "`{name}` is not evaluated by this engine yet; remove it or set it to null"
                ),
            ),
        }
    }
}

/// The field, treating JSON `null` as absent (Graph echoes unset fields as null).
pub(crate) fn field<'v>(map: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    map.get(name).filter(|v| !v.is_null())
}

/// An optional string field.
pub(crate) fn string<'v>(
    map: &'v Map<String, Value>,
    name: &str,
    path: &str,
    p: &mut Problems,
) -> Option<&'v str> {
    match field(map, name)? {
        Value::String(s) => Some(s),
        other => {
            p.push(
                err::INVALID_TYPE,
                &err::key(path, name),
                format!("expected a string, found {}", kind(other)),
            );
            None
        }
    }
}

/// A required string field.
pub(crate) fn required_string<'v>(
    map: &'v Map<String, Value>,
    name: &str,
    path: &str,
    p: &mut Problems,
) -> Option<&'v str> {
    if field(map, name).is_none() {
        p.push(
            err::MISSING_FIELD,
            &err::key(path, name),
            format!("`{name}` is required"),
        );
        return None;
    }
    string(map, name, path, p)
}

/// An optional boolean field.
pub(crate) fn boolean(
    map: &Map<String, Value>,
    name: &str,
    path: &str,
    p: &mut Problems,
) -> Option<bool> {
    match field(map, name)? {
        Value::Bool(b) => Some(*b),
        other => {
            p.push(
                err::INVALID_TYPE,
                &err::key(path, name),
                format!("expected true or false, found {}", kind(other)),
            );
            None
        }
    }
}

/// An optional array of strings, each with its index (elements of the wrong type are
/// reported and skipped). Absent or null gives an empty list.
pub(crate) fn strings<'v>(
    map: &'v Map<String, Value>,
    name: &str,
    path: &str,
    p: &mut Problems,
) -> Vec<(usize, &'v str)> {
    let list_path = err::key(path, name);
    match field(map, name) {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| match item {
                Value::String(s) => Some((i, s.as_str())),
                other => {
                    p.push(
                        err::INVALID_TYPE,
                        &err::index(&list_path, i),
                        format!("expected a string, found {}", kind(other)),
                    );
                    None
                }
            })
            .collect(),
        Some(other) => {
            p.push(
                err::INVALID_TYPE,
                &list_path,
                format!("expected an array of strings, found {}", kind(other)),
            );
            Vec::new()
        }
    }
}

/// An id: non-empty, without surrounding blanks; kept lowercase so lookups ignore case.
pub(crate) fn id(text: &str, path: &str, p: &mut Problems) -> Option<String> {
    if text.trim().is_empty() || text.trim() != text {
        p.push(
            err::INVALID_VALUE,
            path,
            format!("`{text}` is not a valid id: it must be non-empty with no surrounding blanks"),
        );
        return None;
    }
    Some(text.to_ascii_lowercase())
}

/// A Graph enum member. `unknownFutureValue` is reserved by Graph and never valid input.
pub(crate) fn member<T: GraphEnum>(text: &str, path: &str, p: &mut Problems) -> Option<T> {
    let found = T::parse(text);
    if found.is_none() {
        p.push(
            err::INVALID_VALUE,
            path,
            format!(
                "`{text}` is not a valid value; expected one of {}",
                T::expected()
            ),
        );
    }
    found
}

/// A list of Graph enum members from an array field, without duplicates.
pub(crate) fn members<T: GraphEnum + PartialEq>(
    map: &Map<String, Value>,
    name: &str,
    path: &str,
    p: &mut Problems,
) -> Vec<T> {
    let list_path = err::key(path, name);
    let mut out: Vec<T> = Vec::new();
    for (i, text) in strings(map, name, path, p) {
        if let Some(m) = member::<T>(text, &err::index(&list_path, i), p) {
            if !out.contains(&m) {
                out.push(m);
            }
        }
    }
    out
}

/// A flags enum serialized as one comma-separated string (Graph's format for
/// `guestOrExternalUserTypes` and `transferMethods`). `none` alone means no flag.
pub(crate) fn flags<T: GraphEnum + PartialEq>(text: &str, path: &str, p: &mut Problems) -> Vec<T> {
    if text.trim().eq_ignore_ascii_case("none") {
        return Vec::new();
    }
    let mut out: Vec<T> = Vec::new();
    for part in text.split(',') {
        if let Some(m) = member::<T>(part.trim(), path, p) {
            if !out.contains(&m) {
                out.push(m);
            }
        }
    }
    out
}

/// A JSON type name for messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `@odata.type` must, when present, name the expected Graph type.
pub(crate) fn odata_type(
    map: &Map<String, Value>,
    path: &str,
    expected: &[&str],
    p: &mut Problems,
) -> Option<usize> {
    let text = string(map, "@odata.type", path, p)?;
    let found = expected.iter().position(|e| e.eq_ignore_ascii_case(text));
    if found.is_none() {
        p.push(
            err::INVALID_VALUE,
            &err::key(path, "@odata.type"),
            format!(
                "`{text}` is not a valid type here; expected {}",
                quoted(expected)
            ),
        );
    }
    found
}
