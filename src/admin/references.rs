//! What refers to what across a tenant's Conditional Access collections, for the refusals
//! an administrator can act on.
//!
//! Deleting a named location that a policy still names is refused (the whole-tenant check
//! in the Worker would refuse it anyway, but as "no named location has the id", about the
//! policy, which reads as if the location were already gone). This names each policy that
//! uses it and where, so the admin knows what to change first.

use crate::error::ErrorBody;
use serde_json::Value;

/// One problem per place a policy in `policies` names the named location `id` (ids are
/// GUIDs, compared without regard to case); none when it is unused.
pub fn location_in_use(policies: &[Value], id: &str) -> Vec<ErrorBody> {
    let mut problems = Vec::new();
    for (i, policy) in policies.iter().enumerate() {
        let name = policy
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let policy_id = policy.get("id").and_then(Value::as_str).unwrap_or_default();
        for list in ["includeLocations", "excludeLocations"] {
            let named = policy
                .get("conditions")
                .and_then(|c| c.get("locations"))
                .and_then(|l| l.get(list))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|r| r.as_str().is_some_and(|r| r.eq_ignore_ascii_case(id)));
            if named {
                problems.push(
                    ErrorBody::new(
                        "admin.location_in_use",
                        format!(
                            "the named location `{id}` is used by the policy `{name}` \
                             (`{policy_id}`) in `conditions.locations.{list}`; remove it \
                             there first"
                        ),
                    )
                    .at(format!("policies[{i}].conditions.locations.{list}")),
                );
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LOC: &str = "0854951d-5fc0-4eb1-b392-9b2c9d7949c2";

    fn policy(name: &str, include: &[&str], exclude: &[&str]) -> Value {
        json!({"id": format!("id-{name}"), "displayName": name,
            "conditions": {"locations": {"includeLocations": include, "excludeLocations": exclude}}})
    }

    #[test]
    fn every_policy_naming_the_location_is_listed_with_where() {
        let policies = [
            policy("Unrelated", &["All"], &[]),
            policy(
                "MFA outside the office",
                &["All"],
                &[&LOC.to_ascii_uppercase()],
            ),
            policy("Block the office", &[LOC], &[]),
            json!({"id": "no-conditions", "displayName": "x"}),
        ];
        let problems = location_in_use(&policies, LOC);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].code, "admin.location_in_use");
        assert_eq!(
            problems[0].target.as_deref(),
            Some("policies[1].conditions.locations.excludeLocations")
        );
        assert!(problems[0].message.contains("`MFA outside the office`"));
        assert!(problems[0].message.contains("`id-MFA outside the office`"));
        assert_eq!(
            problems[1].target.as_deref(),
            Some("policies[2].conditions.locations.includeLocations")
        );
    }

    #[test]
    fn an_unused_location_has_no_problem() {
        assert!(location_in_use(&[policy("a", &["All"], &["AllTrusted"])], LOC).is_empty());
        assert!(location_in_use(&[], LOC).is_empty());
    }
}
