//! A Graph collection (`/policies`, `/namedLocations`, …) as a document of JSON objects.
//!
//! Items are kept in Graph's own JSON shape, exactly as admins wrote them, so what they GET
//! is what they PUT; the core validates every write before it is accepted, and a refused
//! write leaves the collection unchanged.

use crate::error::ErrorBody;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Largest collection accepted. Entra allows 195 Conditional Access policies per tenant; the
/// engine is benchmarked at 1000.
pub const MAX_ITEMS: usize = 1000;

/// Largest collection accepted, as serialized JSON (1 MiB). The item count alone does not
/// bound it: each write may be up to the 256 KiB body limit, so 1000 items could reach
/// 250 MiB, far past a KV value's 25 MiB (the store would then fail with a 5xx), and every
/// native-auth request of the tenant reads and parses its policies and locations. A
/// thousand ordinary policies take about a megabyte.
pub const MAX_BYTES: usize = 1024 * 1024;

/// Checks one complete item (after server fields are set) and lists every problem.
pub type Validator = fn(&Value) -> Result<(), Vec<ErrorBody>>;

/// The items of one collection, in creation order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Collection {
    items: Vec<Value>,
}

/// Why a write was refused. Each maps to one HTTP status in the Worker.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteError {
    /// No item has that id (404).
    NotFound,
    /// The body is not acceptable (400); every problem is listed.
    Invalid(Vec<ErrorBody>),
    /// The collection is full (409).
    Full,
}

/// Graph's annotation on a single object it returns. A body pasted from a `GET` may carry
/// it; it describes that response, not the item, so it is dropped and never stored (the
/// core's parsers accept it for the same reason).
const ODATA_CONTEXT: &str = "@odata.context";

/// Fields the server owns; a client may not set them.
const SERVER_FIELDS: &[&str] = &["id", "createdDateTime", "modifiedDateTime"];

impl Collection {
    /// All items, for `GET` on the collection.
    pub fn items(&self) -> &[Value] {
        &self.items
    }

    /// One item by id.
    pub fn item(&self, id: &str) -> Option<&Value> {
        self.items.iter().find(|item| has_id(item, id))
    }

    /// `POST`: adds `body` under the server-chosen `id`, stamped with `now`.
    pub fn create(
        &mut self,
        body: Value,
        id: String,
        now: Timestamp,
        validate: Validator,
    ) -> Result<Value, WriteError> {
        let Value::Object(mut map) = body else {
            return Err(not_an_object());
        };
        map.remove(ODATA_CONTEXT);
        refuse_server_fields(&map)?;
        if self.items.len() >= MAX_ITEMS {
            return Err(WriteError::Full);
        }
        let stamp = Value::String(super::rfc3339::format(now));
        let mut item = Map::new();
        item.insert("id".into(), Value::String(id));
        item.append(&mut map);
        item.insert("createdDateTime".into(), stamp.clone());
        item.insert("modifiedDateTime".into(), stamp);
        let item = Value::Object(item);
        validate(&item).map_err(WriteError::Invalid)?;
        self.items.push(item.clone());
        if let Err(e) = self.check_size() {
            self.items.pop();
            return Err(e);
        }
        Ok(item)
    }

    /// `PATCH`: replaces the top-level properties present in `patch`, as Graph does for
    /// complex properties, then validates the whole result.
    pub fn patch(
        &mut self,
        id: &str,
        patch: Value,
        now: Timestamp,
        validate: Validator,
    ) -> Result<Value, WriteError> {
        let Value::Object(mut changes) = patch else {
            return Err(not_an_object());
        };
        changes.remove(ODATA_CONTEXT);
        refuse_server_fields(&changes)?;
        let slot = self
            .items
            .iter_mut()
            .find(|item| has_id(item, id))
            .ok_or(WriteError::NotFound)?;
        let Value::Object(current) = slot.clone() else {
            return Err(WriteError::NotFound);
        };
        let mut updated = current;
        for (key, value) in changes {
            updated.insert(key, value);
        }
        updated.insert(
            "modifiedDateTime".into(),
            Value::String(super::rfc3339::format(now)),
        );
        let updated = Value::Object(updated);
        validate(&updated).map_err(WriteError::Invalid)?;
        let before = std::mem::replace(slot, updated.clone());
        if let Err(e) = self.check_size() {
            if let Some(slot) = self.items.iter_mut().find(|item| has_id(item, id)) {
                *slot = before;
            }
            return Err(e);
        }
        Ok(updated)
    }

    /// Refuses a collection larger than [`MAX_BYTES`] once serialized.
    fn check_size(&self) -> Result<(), WriteError> {
        let size = serde_json::to_vec(&self.items).map_or(usize::MAX, |v| v.len());
        if size <= MAX_BYTES {
            return Ok(());
        }
        Err(WriteError::Invalid(vec![ErrorBody::new(
            "admin.collection_too_large",
            format!(
                "the collection would take {size} bytes, more than the {MAX_BYTES} allowed; \
                 remove or shorten items first"
            ),
        )]))
    }

    /// `DELETE`.
    pub fn delete(&mut self, id: &str) -> Result<(), WriteError> {
        let before = self.items.len();
        self.items.retain(|item| !has_id(item, id));
        if self.items.len() == before {
            Err(WriteError::NotFound)
        } else {
            Ok(())
        }
    }
}

fn item_id(item: &Value) -> Option<&str> {
    item.get("id").and_then(Value::as_str)
}

/// Whether `item` is the one `id` names. Ids are GUIDs the server chose, and Graph reads a
/// GUID in a path in any case (as the policy engine compares ids, docs/policy-semantics.md),
/// so `…/policies/0854951D-…` is the policy `0854951d-…`.
fn has_id(item: &Value, id: &str) -> bool {
    item_id(item).is_some_and(|own| own.eq_ignore_ascii_case(id))
}

fn not_an_object() -> WriteError {
    WriteError::Invalid(vec![ErrorBody::new(
        "admin.body_not_object",
        "the request body must be a JSON object",
    )])
}

fn refuse_server_fields(map: &Map<String, Value>) -> Result<(), WriteError> {
    let problems = read_only_problems(map, SERVER_FIELDS);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(WriteError::Invalid(problems))
    }
}

/// One problem per server-owned field in `map` that a write tried to set.
pub(crate) fn read_only_problems(map: &Map<String, Value>, read_only: &[&str]) -> Vec<ErrorBody> {
    read_only
        .iter()
        .filter(|f| map.contains_key(**f))
        .map(|f| {
            ErrorBody::new(
                "admin.read_only_field",
                format!("`{f}` is set by the service; leave it out of the request"),
            )
            .at(*f)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn needs_name(item: &Value) -> Result<(), Vec<ErrorBody>> {
        match item.get("displayName").and_then(Value::as_str) {
            Some(name) if !name.is_empty() => Ok(()),
            _ => Err(vec![
                ErrorBody::new("test.name", "name required").at("displayName"),
            ]),
        }
    }

    #[test]
    fn create_sets_server_fields_and_patch_replaces_top_level_properties() {
        let mut c = Collection::default();
        let made = c
            .create(
                json!({"displayName": "a", "conditions": {"x": 1, "y": 2}}),
                "id-1".into(),
                Timestamp(0),
                needs_name,
            )
            .unwrap();
        assert_eq!(made["id"], "id-1");
        assert_eq!(made["createdDateTime"], "1970-01-01T00:00:00Z");
        let patched = c
            .patch(
                "id-1",
                json!({"conditions": {"x": 3}}),
                Timestamp(60),
                needs_name,
            )
            .unwrap();
        assert_eq!(patched["conditions"], json!({"x": 3}));
        assert_eq!(patched["displayName"], "a");
        assert_eq!(patched["createdDateTime"], "1970-01-01T00:00:00Z");
        assert_eq!(patched["modifiedDateTime"], "1970-01-01T00:01:00Z");
        assert_eq!(c.item("id-1"), Some(&patched));
    }

    #[test]
    fn odata_context_from_a_pasted_response_is_never_stored() {
        let mut c = Collection::default();
        let context = "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies/$entity";
        let made = c
            .create(
                json!({"@odata.context": context, "displayName": "a"}),
                "id-1".into(),
                Timestamp(0),
                needs_name,
            )
            .unwrap();
        assert!(made.get("@odata.context").is_none(), "{made}");
        let patched = c
            .patch(
                "id-1",
                json!({"@odata.context": context, "displayName": "b"}),
                Timestamp(1),
                needs_name,
            )
            .unwrap();
        assert!(patched.get("@odata.context").is_none(), "{patched}");
        assert_eq!(patched["displayName"], "b");
        assert!(
            !serde_json::to_string(&c).unwrap().contains("odata.context"),
            "{c:?}"
        );
    }

    #[test]
    fn a_refused_write_leaves_the_collection_unchanged() {
        let mut c = Collection::default();
        c.create(
            json!({"displayName": "a"}),
            "id-1".into(),
            Timestamp(0),
            needs_name,
        )
        .unwrap();
        let before = c.clone();
        assert!(matches!(
            c.patch("id-1", json!({"displayName": ""}), Timestamp(1), needs_name),
            Err(WriteError::Invalid(_))
        ));
        assert!(matches!(
            c.create(
                json!({"displayName": ""}),
                "id-2".into(),
                Timestamp(1),
                needs_name
            ),
            Err(WriteError::Invalid(_))
        ));
        assert!(matches!(
            c.create(json!({"id": "mine", "displayName": "b"}), "id-3".into(), Timestamp(1), needs_name),
            Err(WriteError::Invalid(ref p)) if p[0].code == "admin.read_only_field"
        ));
        assert!(matches!(
            c.create(json!([1]), "id-4".into(), Timestamp(1), needs_name),
            Err(WriteError::Invalid(_))
        ));
        assert_eq!(c, before);
    }

    #[test]
    fn delete_and_missing_ids() {
        let mut c = Collection::default();
        c.create(
            json!({"displayName": "a"}),
            "id-1".into(),
            Timestamp(0),
            needs_name,
        )
        .unwrap();
        assert_eq!(c.delete("nope"), Err(WriteError::NotFound));
        assert_eq!(
            c.patch("nope", json!({}), Timestamp(0), needs_name),
            Err(WriteError::NotFound)
        );
        // An id is read in any case, as Graph reads a GUID.
        assert_eq!(c.item("ID-1").map(|i| &i["id"]), Some(&json!("id-1")));
        assert!(
            c.patch(
                "Id-1",
                json!({"displayName": "b"}),
                Timestamp(1),
                needs_name
            )
            .is_ok()
        );
        assert_eq!(c.delete("ID-1"), Ok(()));
        assert!(c.items().is_empty());
    }

    #[test]
    fn the_collection_is_bounded_in_bytes_and_a_refused_write_changes_nothing() {
        let mut c = Collection::default();
        let big = |n: usize| json!({"displayName": "x".repeat(n)});
        let quarter = MAX_BYTES / 4;
        for i in 0..3 {
            c.create(big(quarter), format!("id-{i}"), Timestamp(0), needs_name)
                .unwrap();
        }
        let before = c.clone();
        let refused = c.create(big(quarter + 100), "id-3".into(), Timestamp(0), needs_name);
        let Err(WriteError::Invalid(problems)) = refused else {
            panic!("{refused:?}");
        };
        assert_eq!(problems[0].code, "admin.collection_too_large");
        assert_eq!(c, before);
        let refused = c.patch("id-1", big(quarter * 2), Timestamp(1), needs_name);
        assert!(
            matches!(refused, Err(WriteError::Invalid(_))),
            "{refused:?}"
        );
        assert_eq!(c, before);
        // Shrinking is always allowed.
        c.patch("id-1", big(10), Timestamp(1), needs_name).unwrap();
        c.create(big(quarter), "id-3".into(), Timestamp(0), needs_name)
            .unwrap();
    }

    #[test]
    fn the_collection_is_bounded() {
        let mut c = Collection::default();
        for i in 0..MAX_ITEMS {
            c.create(
                json!({"displayName": "a"}),
                format!("id-{i}"),
                Timestamp(0),
                needs_name,
            )
            .unwrap();
        }
        assert_eq!(
            c.create(
                json!({"displayName": "a"}),
                "one-more".into(),
                Timestamp(0),
                needs_name
            ),
            Err(WriteError::Full)
        );
    }
}
