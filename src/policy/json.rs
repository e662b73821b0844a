//! A JSON reader that rejects duplicate object keys and says where they are.
//!
//! `serde_json::from_str::<Value>` keeps the last of two equal keys, so
//! `{"state": "disabled", "state": "enabled"}` would silently mean "enabled". Policies are
//! security configuration: a duplicate is always a mistake (or an attack on a reviewer), so
//! it is an error with its JSON path. The reader builds an ordinary [`Value`] through a
//! path-carrying [`DeserializeSeed`]; serde_json's own recursion limit (128) still applies.

use super::err;
use crate::error::ErrorBody;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::fmt;

/// Parses `text` as one JSON value, rejecting duplicate keys anywhere in it.
pub fn parse(text: &str) -> Result<Value, ErrorBody> {
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = ValueSeed {
        path: Path::Root,
        duplicate: &duplicate,
    };
    let parsed = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(value) => Ok(value),
        Err(e) => Err(match duplicate.into_inner() {
            Some((path, name)) => err::at(
                err::DUPLICATE_KEY,
                &path,
                format!("duplicate key `{name}`: each key may appear once per object"),
            ),
            None => err::at(
                err::INVALID_JSON,
                "",
                format!(
                    "invalid json at line {} column {}: {}",
                    e.line(),
                    e.column(),
                    lower_first(&strip_position(&e.to_string()))
                ),
            ),
        }),
    }
}

/// serde_json appends " at line X column Y"; the message states the position once itself.
fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message.get(..i).unwrap_or(message).to_string(),
        None => message.to_string(),
    }
}

/// Lowercases the first letter of a sentence, but leaves an acronym alone (serde_json's
/// "EOF while parsing a value" must not become "eOF while parsing a value").
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    let acronym = s.chars().take(2).filter(|c| c.is_uppercase()).count() == 2;
    match chars.next() {
        Some(c) if !acronym => c.to_lowercase().chain(chars).collect(),
        _ => s.to_string(),
    }
}

/// The path to the value being read, kept on the stack and rendered only on error.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    fn render(&self) -> String {
        match self {
            Path::Root => String::new(),
            Path::Key(parent, name) => err::key(&parent.render(), name),
            Path::Index(parent, i) => err::index(&parent.render(), *i),
        }
    }
}

struct ValueSeed<'a> {
    path: Path<'a>,
    duplicate: &'a RefCell<Option<(String, String)>>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any json value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let seed = ValueSeed {
                path: Path::Index(&self.path, items.len()),
                duplicate: self.duplicate,
            };
            match seq.next_element_seed(seed)? {
                Some(v) => items.push(v),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            // One hash per key: the entry both detects a duplicate and is where it goes.
            match object.entry(name) {
                Entry::Occupied(taken) => {
                    *self.duplicate.borrow_mut() = Some((self.path.render(), taken.key().clone()));
                    return Err(de::Error::custom("duplicate key"));
                }
                Entry::Vacant(slot) => {
                    let value = map.next_value_seed(ValueSeed {
                        path: Path::Key(&self.path, slot.key()),
                        duplicate: self.duplicate,
                    })?;
                    slot.insert(value);
                }
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ordinary_json() {
        let v = parse(r#"{"a": [1, -2, 3.5, true, null, "x"], "b": {}}"#).unwrap();
        assert_eq!(v["a"][1], Value::from(-2));
        assert_eq!(v["a"][5], Value::from("x"));
    }

    #[test]
    fn rejects_duplicate_keys_with_their_path() {
        let e = parse(r#"{"policies": [{"id": "1"}, {"state": "a", "state": "b"}]}"#).unwrap_err();
        assert_eq!(e.code, err::DUPLICATE_KEY);
        assert_eq!(e.target.as_deref(), Some("policies[1]"));
        assert!(e.message.contains("`state`"), "{}", e.message);
    }

    #[test]
    fn rejects_top_level_duplicates_and_syntax_errors() {
        let e = parse(r#"{"a": 1, "a": 1}"#).unwrap_err();
        assert_eq!((e.code.as_str(), e.target), (err::DUPLICATE_KEY, None));
        let e = parse(r#"{"a": 1"#).unwrap_err();
        assert_eq!(e.code, err::INVALID_JSON);
        let e = parse(r#"{} x"#).unwrap_err();
        assert_eq!(e.code, err::INVALID_JSON);
    }

    #[test]
    fn messages_start_lowercase_but_keep_acronyms() {
        let e = parse("").unwrap_err();
        assert!(e.message.contains(": EOF while parsing"), "{}", e.message);
        let e = parse("{} x").unwrap_err();
        assert!(e.message.contains(": trailing characters"), "{}", e.message);
        assert_eq!(lower_first("Expected value"), "expected value");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let text = "[".repeat(100_000);
        assert_eq!(parse(&text).unwrap_err().code, err::INVALID_JSON);
    }
}
