//! A tenant's policies and named locations, checked against each other and compiled into
//! an index once, so every later sign-in is evaluated without re-reading any JSON.

use super::err;
use super::index::Index;
use super::model::{LocationRef, NamedLocation, Policy};
use super::parse::{self, Problems};
use crate::error::ErrorBody;
use serde_json::Value;
use std::collections::HashSet;

/// At most this many named locations per tenant (documented limit).
pub const MAX_NAMED_LOCATIONS: usize = 195;

/// A compiled, immutable policy set. Build it once per configuration change and share it.
#[derive(Debug, Clone)]
pub struct PolicySet {
    pub(crate) policies: Vec<Policy>,
    pub(crate) locations: Vec<NamedLocation>,
    pub(crate) index: Index,
}

impl PolicySet {
    /// Compiles parsed policies and named locations. Every policy and location needs a
    /// unique id, and every location a policy names must exist. Error paths are
    /// `policies[i]...` and `namedLocations[j]...`.
    pub fn new(
        policies: Vec<Policy>,
        locations: Vec<NamedLocation>,
    ) -> Result<PolicySet, Vec<ErrorBody>> {
        let mut p = Problems::default();
        let indexed_p: Vec<(usize, &Policy)> = policies.iter().enumerate().collect();
        let indexed_l: Vec<(usize, &NamedLocation)> = locations.iter().enumerate().collect();
        check_references(&indexed_p, &indexed_l, &mut p);
        if !p.0.is_empty() {
            return Err(p.0);
        }
        let index = Index::build(&policies, &locations);
        Ok(PolicySet {
            policies,
            locations,
            index,
        })
    }

    /// Parses and compiles `{"policies": [...], "namedLocations": [...]}` (the locations
    /// may be absent), reporting every problem in every policy and location.
    pub fn from_json(value: &Value) -> Result<PolicySet, Vec<ErrorBody>> {
        let mut p = Problems::default();
        let Some(map) = parse::object(value, "", &mut p) else {
            return Err(p.0);
        };
        parse::known_fields(map, "", &["policies", "namedLocations"], &mut p);
        require_policies(map, &mut p);
        Self::from_parts(map.get("policies"), map.get("namedLocations"), &mut p).ok_or(p.0)
    }

    /// Parses and compiles the `policies` and `namedLocations` members of a larger input,
    /// adding problems to `p`. `None` when there is any problem.
    pub(crate) fn from_parts(
        policies: Option<&Value>,
        locations: Option<&Value>,
        p: &mut Problems,
    ) -> Option<PolicySet> {
        let parsed_l = list(locations, "namedLocations", p, parse::location_into);
        if parsed_l.len() > MAX_NAMED_LOCATIONS {
            p.push(
                err::LIMIT_EXCEEDED,
                "namedLocations",
                format!("at most {MAX_NAMED_LOCATIONS} named locations are allowed"),
            );
        }
        let parsed_p = list(policies, "policies", p, parse::policy_into);
        let refs_p: Vec<(usize, &Policy)> = parsed_p.iter().map(|(i, x)| (*i, x)).collect();
        let refs_l: Vec<(usize, &NamedLocation)> = parsed_l.iter().map(|(i, x)| (*i, x)).collect();
        check_references(&refs_p, &refs_l, p);
        if !p.0.is_empty() {
            return None;
        }
        let policies: Vec<Policy> = parsed_p.into_iter().map(|(_, x)| x).collect();
        let locations: Vec<NamedLocation> = parsed_l.into_iter().map(|(_, x)| x).collect();
        let index = Index::build(&policies, &locations);
        Some(PolicySet {
            policies,
            locations,
            index,
        })
    }

    /// The policies, in input order.
    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// The named locations, in input order.
    pub fn named_locations(&self) -> &[NamedLocation] {
        &self.locations
    }
}

/// A missing or null `policies` is refused, not read as "no policies": a misspelt or
/// unset variable in the caller (`cfg.policies` undefined) would otherwise allow every
/// sign-in. `[]` says "no policies" on purpose.
pub(crate) fn require_policies(map: &serde_json::Map<String, Value>, p: &mut Problems) {
    if matches!(map.get("policies"), None | Some(Value::Null)) {
        p.push(
            err::MISSING_FIELD,
            "policies",
            "`policies` is required: give the tenant's policies, or `[]` for none",
        );
    }
}

/// Parses each element of an optional array with `item`, keeping the index of the ones
/// that parsed.
fn list<T>(
    value: Option<&Value>,
    name: &str,
    p: &mut Problems,
    item: fn(&Value, &str, &mut Problems) -> Option<T>,
) -> Vec<(usize, T)> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| item(v, &err::index(name, i), p).map(|x| (i, x)))
            .collect(),
        Some(other) => {
            p.push(
                err::INVALID_TYPE,
                name,
                format!("expected an array, found {}", parse::kind(other)),
            );
            Vec::new()
        }
    }
}

/// Ids present and unique; every referenced named location exists.
fn check_references(
    policies: &[(usize, &Policy)],
    locations: &[(usize, &NamedLocation)],
    p: &mut Problems,
) {
    let mut location_ids = HashSet::new();
    for (i, loc) in locations {
        let path = err::key(&err::index("namedLocations", *i), "id");
        match &loc.id {
            None => p.push(
                err::MISSING_FIELD,
                &path,
                "a named location in a policy set needs an `id`",
            ),
            Some(id) if !location_ids.insert(id.as_str()) => p.push(
                err::DUPLICATE_ID,
                &path,
                format!("the id `{id}` is used by another named location"),
            ),
            Some(_) => {}
        }
    }
    let mut policy_ids = HashSet::new();
    for (i, policy) in policies {
        let base = err::index("policies", *i);
        match &policy.id {
            None => p.push(
                err::MISSING_FIELD,
                &err::key(&base, "id"),
                "a policy in a policy set needs an `id`",
            ),
            // Graph ids are GUIDs: `ABC` and `abc` name one policy, as they do for locations.
            Some(id) if !policy_ids.insert(id.to_ascii_lowercase()) => p.push(
                err::DUPLICATE_ID,
                &err::key(&base, "id"),
                format!("the id `{id}` is used by another policy"),
            ),
            Some(_) => {}
        }
        let Some(locs) = &policy.conditions.locations else {
            continue;
        };
        for (name, refs) in [
            ("includeLocations", &locs.include),
            ("excludeLocations", &locs.exclude),
        ] {
            for (j, r) in refs.iter().enumerate() {
                if let LocationRef::Id(id) = r {
                    if !location_ids.contains(id.as_str()) {
                        let list_path = err::key(&err::key(&base, "conditions.locations"), name);
                        p.push(
                            err::UNKNOWN_LOCATION,
                            &err::index(&list_path, j),
                            format!("no named location has the id `{id}`"),
                        );
                    }
                }
            }
        }
    }
}
