//! The Graph `onPhoneMethodLoadStartListener`: which apps turn which SMS regions on or
//! off (`POST /v1.0/identity/authenticationEventListeners`).
//!
//! ```json
//! {"@odata.type": "#microsoft.graph.onPhoneMethodLoadStartListener",
//!  "conditions": {"applications": {"includeApplications": ["<appId>"]}},
//!  "priority": 500,
//!  "handler": {"@odata.type": "#microsoft.graph.onPhoneMethodLoadStartExternalUsersAuthHandler",
//!              "smsOptions": {"includeAdditionalRegions": [222, 998], "excludeRegions": [234, 971]},
//!              "voiceOptions": {"includeAdditionalRegions": [], "excludeRegions": []}}}
//! ```
//!
//! It is static configuration, not a callout: "If this listener isn't specified, the
//! default list of calling regions are enabled". Region codes are ISD calling codes of at
//! most 4 digits, and one code may not be both included and excluded (S-REGION).
//!
//! Decisions the docs leave open, made here: `includeApplications` takes bare app ids
//! (as the region doc shows) or `{"appId": …}` objects (as other listener docs show);
//! when several listeners name an app, the highest `priority` (0–1000, Graph's range)
//! wins and, on a tie, the first stored; a listener with `includeAllApplications: true`
//! applies to apps no listener names. Voice is not offered, so `voiceOptions` is
//! validated and kept but not used.

use super::regions::RegionRules;
use crate::error::ErrorBody;
use serde_json::Value;

/// The listener's `@odata.type`.
pub const LISTENER_TYPE: &str = "#microsoft.graph.onPhoneMethodLoadStartListener";
/// The handler's `@odata.type`.
pub const HANDLER_TYPE: &str = "#microsoft.graph.onPhoneMethodLoadStartExternalUsersAuthHandler";

/// An app id, bare (`"…"`) or as Graph `authenticationConditionApplication`
/// (`{"appId": "…"}`).
fn app_id(v: &Value) -> Option<&str> {
    v.as_str()
        .or_else(|| v.get("appId").and_then(Value::as_str))
}

fn apps(listener: &Value) -> Option<&Value> {
    listener.get("conditions")?.get("applications")
}

fn names(listener: &Value, app: &str) -> bool {
    apps(listener)
        .and_then(|a| a.get("includeApplications"))
        .and_then(Value::as_array)
        .is_some_and(|list| list.iter().any(|a| app_id(a) == Some(app)))
}

fn all_apps(listener: &Value) -> bool {
    apps(listener)
        .and_then(|a| a.get("includeAllApplications"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn priority(listener: &Value) -> u64 {
    listener
        .get("priority")
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

/// The codes of `handler.smsOptions.<name>` (entries that are not codes are skipped;
/// [`validate`] refuses them before anything is stored).
fn sms_codes(listener: &Value, name: &str) -> Vec<u16> {
    listener
        .get("handler")
        .and_then(|h| h.get("smsOptions"))
        .and_then(|o| o.get(name))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_u64)
                .filter_map(|c| u16::try_from(c).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The SMS region rules for `app` under `listeners` (Graph JSON, as stored; none: the
/// defaults alone). Listeners are read as JSON values rather than typed structs: the
/// derived readers cost the Worker's wasm several KB for a few fields.
pub fn rules_for(listeners: &[Value], app: &str) -> RegionRules {
    let chosen = highest(listeners.iter().filter(|l| names(l, app)).collect())
        .or_else(|| highest(listeners.iter().filter(|l| all_apps(l)).collect()));
    chosen.map_or_else(RegionRules::default, |l| RegionRules {
        include: sms_codes(l, "includeAdditionalRegions"),
        exclude: sms_codes(l, "excludeRegions"),
    })
}

/// The highest-priority listener; the first of equals (`max_by_key` keeps the last, so
/// the list is reversed).
fn highest(found: Vec<&Value>) -> Option<&Value> {
    found.into_iter().rev().max_by_key(|l| priority(l))
}

/// Checks one listener as the admin API receives it and lists every problem, with the
/// JSON path at fault (`target`).
pub fn validate(item: &Value) -> Result<(), Vec<ErrorBody>> {
    let mut problems = Vec::new();
    let bad = |code: &str, target: &str, message: String| {
        ErrorBody::new(format!("sms.{code}"), message).at(target)
    };
    let Some(obj) = item.as_object() else {
        return Err(vec![ErrorBody::new(
            "sms.listener_not_object",
            "the listener must be a JSON object",
        )]);
    };
    match obj.get("@odata.type").and_then(Value::as_str) {
        Some(LISTENER_TYPE) => {}
        other => problems.push(bad(
            "unsupported_listener_type",
            "@odata.type",
            format!(
                "only `{LISTENER_TYPE}` is supported here, got `{}`",
                other.unwrap_or("")
            ),
        )),
    }
    if let Some(p) = obj.get("priority")
        && p.as_u64().is_none_or(|p| p > 1000)
    {
        problems.push(bad(
            "invalid_priority",
            "priority",
            format!("`{p}` is not a priority: use an integer from 0 to 1000"),
        ));
    }
    let apps = obj.get("conditions").and_then(|c| c.get("applications"));
    let list = apps.and_then(|a| a.get("includeApplications"));
    let all = apps
        .and_then(|a| a.get("includeAllApplications"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    match list {
        Some(Value::Array(items)) => {
            for (i, a) in items.iter().enumerate() {
                let id = app_id(a);
                if id.is_none_or(|id| id.trim().is_empty()) {
                    problems.push(bad(
                        "invalid_application",
                        &format!("conditions.applications.includeApplications[{i}]"),
                        format!("`{a}` is not an app id: use the app's client id, or {{\"appId\": \"…\"}}"),
                    ));
                }
            }
            if items.is_empty() && !all {
                problems.push(bad(
                    "no_applications",
                    "conditions.applications.includeApplications",
                    "name at least one app the listener applies to".to_string(),
                ));
            }
        }
        None if all => {}
        _ => problems.push(bad(
            "no_applications",
            "conditions.applications.includeApplications",
            "name the apps the listener applies to as a list of app ids".to_string(),
        )),
    }
    let handler = obj.get("handler");
    match handler
        .and_then(|h| h.get("@odata.type"))
        .and_then(Value::as_str)
    {
        Some(HANDLER_TYPE) => {}
        other => problems.push(bad(
            "unsupported_handler_type",
            "handler.@odata.type",
            format!(
                "the handler must be `{HANDLER_TYPE}`, got `{}`",
                other.unwrap_or("")
            ),
        )),
    }
    for options in ["smsOptions", "voiceOptions"] {
        let Some(o) = handler.and_then(|h| h.get(options)) else {
            continue;
        };
        if !o.is_object() {
            problems.push(bad(
                "invalid_phone_options",
                &format!("handler.{options}"),
                "must be an object with `includeAdditionalRegions` and `excludeRegions`"
                    .to_string(),
            ));
            continue;
        }
        let include = region_list(o, options, "includeAdditionalRegions", &mut problems);
        let exclude = region_list(o, options, "excludeRegions", &mut problems);
        for code in include.iter().filter(|c| exclude.contains(c)) {
            problems.push(bad(
                "region_overlap",
                &format!("handler.{options}"),
                format!("region `{code}` is both included and excluded; keep it in one list"),
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The codes of one region list, recording a problem for each bad entry.
fn region_list(
    options: &Value,
    parent: &str,
    name: &str,
    problems: &mut Vec<ErrorBody>,
) -> Vec<u64> {
    let target = format!("handler.{parent}.{name}");
    match options.get(name) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| match v.as_u64() {
                Some(c) if (1..=9999).contains(&c) => Some(c),
                _ => {
                    problems.push(
                        ErrorBody::new(
                            "sms.invalid_region",
                            format!(
                                "`{v}` is not a region: use a country calling code of 1 to 4 digits, as a number (e.g. 234)"
                            ),
                        )
                        .at(format!("{target}[{i}]")),
                    );
                    None
                }
            })
            .collect(),
        Some(_) => {
            problems.push(
                ErrorBody::new(
                    "sms.invalid_region_list",
                    "must be a list of country calling codes (numbers)",
                )
                .at(target),
            );
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const APP: &str = "3dfff01b-0afb-4a07-967f-d1ccbd81102a";

    fn doc_example() -> Value {
        json!({
          "@odata.type": "#microsoft.graph.onPhoneMethodLoadStartListener",
          "conditions": { "applications": { "includeApplications": [ APP ] } },
          "priority": 500,
          "handler": {
            "@odata.type": "#microsoft.graph.onPhoneMethodLoadStartExternalUsersAuthHandler",
            "smsOptions": { "includeAdditionalRegions": [222, 998], "excludeRegions": [234, 971] },
            "voiceOptions": { "includeAdditionalRegions": [], "excludeRegions": [] }
          }
        })
    }

    #[test]
    fn the_docs_example_is_valid_and_applies_to_its_app_only() {
        assert_eq!(validate(&doc_example()), Ok(()));
        let l = vec![doc_example()];
        let rules = rules_for(&l, APP);
        assert_eq!(rules.include, vec![222, 998]);
        assert_eq!(rules.exclude, vec![234, 971]);
        assert_eq!(rules_for(&l, "other-app"), RegionRules::default());
    }

    #[test]
    fn app_objects_are_read_like_bare_ids() {
        let mut v = doc_example();
        v["conditions"]["applications"]["includeApplications"] = json!([{"appId": APP}]);
        assert_eq!(validate(&v), Ok(()));
        assert_eq!(rules_for(&[v], APP).include, vec![222, 998]);
    }

    #[test]
    fn the_highest_priority_wins_and_a_named_app_beats_all_apps() {
        let mut low = doc_example();
        low["priority"] = json!(10);
        low["handler"]["smsOptions"] =
            json!({"includeAdditionalRegions": [7], "excludeRegions": []});
        let high = doc_example();
        let mut all = doc_example();
        all["conditions"]["applications"] = json!({"includeAllApplications": true});
        all["priority"] = json!(1000);
        all["handler"]["smsOptions"] =
            json!({"includeAdditionalRegions": [20], "excludeRegions": []});
        assert_eq!(validate(&all), Ok(()));
        let l = vec![low, high, all];
        assert_eq!(rules_for(&l, APP).include, vec![222, 998]);
        assert_eq!(rules_for(&l, "other-app").include, vec![20]);
    }

    #[test]
    fn bad_listeners_list_every_problem_with_its_path() {
        let v = json!({
          "@odata.type": "#microsoft.graph.onTokenIssuanceStartListener",
          "priority": 5000,
          "conditions": { "applications": { "includeApplications": [ "", 3 ] } },
          "handler": {
            "@odata.type": "#microsoft.graph.onPhoneMethodLoadStartExternalUsersAuthHandler",
            "smsOptions": { "includeAdditionalRegions": [222, "998", 12345, 0], "excludeRegions": [222] }
          }
        });
        let problems = validate(&v).unwrap_err();
        let got: Vec<(&str, Option<&str>)> = problems
            .iter()
            .map(|p| (p.code.as_str(), p.target.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("sms.unsupported_listener_type", Some("@odata.type")),
                ("sms.invalid_priority", Some("priority")),
                (
                    "sms.invalid_application",
                    Some("conditions.applications.includeApplications[0]")
                ),
                (
                    "sms.invalid_application",
                    Some("conditions.applications.includeApplications[1]")
                ),
                (
                    "sms.invalid_region",
                    Some("handler.smsOptions.includeAdditionalRegions[1]")
                ),
                (
                    "sms.invalid_region",
                    Some("handler.smsOptions.includeAdditionalRegions[2]")
                ),
                (
                    "sms.invalid_region",
                    Some("handler.smsOptions.includeAdditionalRegions[3]")
                ),
                ("sms.region_overlap", Some("handler.smsOptions")),
            ]
        );
    }

    #[test]
    fn a_listener_must_name_its_apps_and_handler() {
        let problems = validate(&json!({"@odata.type": LISTENER_TYPE})).unwrap_err();
        let codes: Vec<&str> = problems.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(
            codes,
            vec!["sms.no_applications", "sms.unsupported_handler_type"]
        );
        assert!(validate(&json!([1])).is_err());
    }
}
