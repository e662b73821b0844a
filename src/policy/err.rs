//! The stable error codes of the policy engine, and small constructors for them.
//!
//! Every problem found in policies, named locations or a request becomes an
//! [`ErrorBody`] with one of these codes and the JSON path at fault, so callers can
//! show all problems at once and tests can assert codes instead of message text.

use crate::error::ErrorBody;

/// The input is not valid JSON (syntax error, trailing characters, nesting too deep).
pub const INVALID_JSON: &str = "policy.invalid_json";
/// An object has the same key twice; serde would silently keep the last one.
pub const DUPLICATE_KEY: &str = "policy.duplicate_key";
/// A key that the Graph v1.0 schema does not define at this place.
pub const UNKNOWN_FIELD: &str = "policy.unknown_field";
/// A key that must be present is absent or null.
pub const MISSING_FIELD: &str = "policy.missing_field";
/// A value has the wrong JSON type (e.g. a string where an array is expected).
pub const INVALID_TYPE: &str = "policy.invalid_type";
/// A value is not one the schema allows (unknown enum member, empty id, out of range).
pub const INVALID_VALUE: &str = "policy.invalid_value";
/// A Graph field that this engine does not evaluate yet is set to something other
/// than its neutral value (null, `[]`, `false`); rejected so it is never silently ignored.
pub const UNSUPPORTED_FIELD: &str = "policy.unsupported_field";
/// A Graph value that this engine does not evaluate yet (e.g. `Office365`).
pub const UNSUPPORTED_VALUE: &str = "policy.unsupported_value";
/// A documented validation rule is broken (e.g. `mfa` with `authenticationStrength`).
pub const INVALID_COMBINATION: &str = "policy.invalid_combination";
/// A policy with no user rule, no application rule and no control.
pub const EMPTY_POLICY: &str = "policy.empty_policy";
/// Two policies or two named locations share one id.
pub const DUPLICATE_ID: &str = "policy.duplicate_id";
/// A policy names a location id that is not among the named locations.
pub const UNKNOWN_LOCATION: &str = "policy.unknown_location";
/// A `devices.deviceFilter.rule` that does not parse.
pub const INVALID_DEVICE_FILTER: &str = "policy.invalid_device_filter";
/// An IP range that is not a valid CIDR of the declared family, or is /8 or wider.
pub const INVALID_CIDR: &str = "policy.invalid_cidr";
/// A documented size limit is exceeded (named locations, IP ranges, rule length).
pub const LIMIT_EXCEEDED: &str = "policy.limit_exceeded";
/// An authentication strength referenced only by an id that is not built in, so its
/// combinations are unknown.
pub const UNKNOWN_AUTHENTICATION_STRENGTH: &str = "policy.unknown_authentication_strength";

/// An error at a JSON path.
pub(crate) fn at(code: &str, path: &str, message: impl Into<String>) -> ErrorBody {
    let body = ErrorBody::new(code, message);
    if path.is_empty() { body } else { body.at(path) }
}

/// Joins a parent path and an object key (`a.b`), or starts a path at the root.
pub(crate) fn key(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

/// Joins a parent path and an array index (`a[3]`).
pub(crate) fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_keys_and_indexes() {
        assert_eq!(key("", "policies"), "policies");
        assert_eq!(index(&key("", "policies"), 2), "policies[2]");
        assert_eq!(key("policies[2]", "state"), "policies[2].state");
        assert_eq!(at(INVALID_VALUE, "", "x").target, None);
        assert_eq!(at(INVALID_VALUE, "a", "x").target.as_deref(), Some("a"));
    }
}
