//! JSON entry points over a policy set compiled once, for callers that decide many sign-ins
//! against the same configuration (the JS package's `compilePolicies`, the Worker's
//! per-isolate cache): only the small per-sign-in JSON crosses the boundary per decision.

use super::err;
use super::json;
use super::parse::{self, Problems};
use super::set::PolicySet;
use crate::error::{ErrorBody, ErrorEnvelope};
use crate::time::Timestamp;
use serde::Serialize;
use serde_json::Value;

/// Compiles `{"policies": [...], "namedLocations": [...]}`, or returns the error envelope
/// (first problem, all of them in `details`).
pub fn compile_json(input: &str) -> Result<PolicySet, String> {
    json::parse(input)
        .map_err(|e| vec![e])
        .and_then(|v| PolicySet::from_json(&v))
        .map_err(envelope)
}

/// Enforcement for `{signIn, satisfied, now}` against `set`: the `Enforcement`, or the
/// error envelope.
pub fn evaluate_compiled_json(set: &PolicySet, input: &str) -> String {
    let value = match json::parse(input) {
        Ok(v) => v,
        Err(e) => return envelope(vec![e]),
    };
    let mut p = Problems::default();
    let Some(map) = parse::object(&value, "", &mut p) else {
        return envelope(p.0);
    };
    parse::known_fields(map, "", &["signIn", "satisfied", "now"], &mut p);
    let sign_in = match parse::field(map, "signIn") {
        Some(v) => parse::parse_sign_in(v, "signIn")
            .map_err(|e| p.0.extend(e))
            .ok(),
        None => {
            p.push(err::MISSING_FIELD, "signIn", "`signIn` is required");
            None
        }
    };
    let satisfied = match parse::field(map, "satisfied") {
        Some(v) => parse::parse_satisfied(v, "satisfied")
            .map_err(|e| p.0.extend(e))
            .ok(),
        None => Some(Vec::new()),
    };
    let now = match parse::field(map, "now").map(Value::as_u64) {
        Some(Some(secs)) => Some(Timestamp(secs)),
        Some(None) => {
            p.push(
                err::INVALID_TYPE,
                "now",
                "expected unix seconds (a whole number)",
            );
            None
        }
        None => {
            p.push(
                err::MISSING_FIELD,
                "now",
                "`now` (unix seconds) is required",
            );
            None
        }
    };
    match (sign_in, satisfied, now) {
        (Some(sign_in), Some(satisfied), Some(now)) if p.0.is_empty() => {
            to_text(&super::enforce(set, &sign_in, &satisfied, now))
        }
        _ => envelope(p.0),
    }
}

/// What If for `{request, directory: {groupIds, roleIds}}` against `set`: the Graph
/// response body, or the error envelope.
pub fn what_if_compiled_json(set: &PolicySet, input: &str) -> String {
    let value = match json::parse(input) {
        Ok(v) => v,
        Err(e) => return envelope(vec![e]),
    };
    let mut p = Problems::default();
    let Some(map) = parse::object(&value, "", &mut p) else {
        return envelope(p.0);
    };
    parse::known_fields(map, "", &["request", "directory"], &mut p);
    let (groups, roles) = super::json_api::directory(map.get("directory"), &mut p);
    let request = match parse::field(map, "request") {
        Some(v) => parse::parse_what_if_request(v, "request", groups, roles)
            .map_err(|e| p.0.extend(e))
            .ok(),
        None => {
            p.push(
                err::MISSING_FIELD,
                "request",
                "`request` (the graph evaluate body) is required",
            );
            None
        }
    };
    match request {
        Some(request) if p.0.is_empty() => to_text(&set.what_if(&request)),
        _ => envelope(p.0),
    }
}

fn envelope(problems: Vec<ErrorBody>) -> String {
    let body = ErrorBody::from_problems(problems)
        .unwrap_or_else(|| ErrorBody::new(err::INVALID_VALUE, "the input is not valid"));
    to_text(&ErrorEnvelope::from(body))
}

fn to_text(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| {
        r#"{"error":{"code":"policy.internal","message":"the answer could not be serialized"}}"#
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SET: &str = r#"{"policies":[{"id":"p1","displayName":"MFA for all","state":"enabled",
        "conditions":{"users":{"includeUsers":["All"]},"applications":{"includeApplications":["All"]}},
        "grantControls":{"operator":"OR","builtInControls":["mfa"]}}]}"#;

    #[test]
    fn a_compiled_set_answers_like_the_one_shot_api() {
        let set = compile_json(SET).unwrap();
        let per_call = r#"{"signIn":{"userId":"u1","appId":"a1"},"satisfied":[{"method":"password","at":100}],"now":120}"#;
        let compiled: Value =
            serde_json::from_str(&evaluate_compiled_json(&set, per_call)).unwrap();
        let mut one_shot_input: Value = serde_json::from_str(SET).unwrap();
        let per_call_value: Value = serde_json::from_str(per_call).unwrap();
        for (k, v) in per_call_value.as_object().unwrap() {
            one_shot_input[k] = v.clone();
        }
        let one_shot: Value =
            serde_json::from_str(&super::super::evaluate_json(&one_shot_input.to_string()))
                .unwrap();
        assert_eq!(compiled, one_shot);
        assert_eq!(compiled["decision"]["type"], "require");
    }

    #[test]
    fn bad_per_call_input_is_an_error_envelope_with_a_path() {
        let set = compile_json(SET).unwrap();
        let answer: Value = serde_json::from_str(&evaluate_compiled_json(
            &set,
            r#"{"signIn":{"userId":"u"},"now":"x"}"#,
        ))
        .unwrap();
        assert!(answer["error"]["code"].is_string());
        assert!(answer["error"]["details"].as_array().unwrap().len() >= 2);
        let answer: Value = serde_json::from_str(&what_if_compiled_json(&set, "[]")).unwrap();
        assert!(answer["error"]["code"].is_string());
        let broken = compile_json(r#"{"policies":[{"id":"p"}]}"#).unwrap_err();
        assert!(broken.contains("policies[0]"), "{broken}");
    }
}
