//! JSON entry points over a policy set compiled once, for callers that decide many sign-ins
//! against the same configuration (the JS package's `compilePolicies`, the Worker's
//! per-isolate cache): only the small per-sign-in JSON crosses the boundary per decision.

use super::decision::PolicyOutcome;
use super::err;
use super::json;
use super::json_api::{envelope, to_text};
use super::parse::{self, Problems};
use super::set::PolicySet;
use super::signin::{SatisfiedMethod, SignIn};
use crate::time::Timestamp;

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
    match per_call(input) {
        Ok((sign_in, satisfied, now)) => to_text(&super::enforce(set, &sign_in, &satisfied, now)),
        Err(envelope) => envelope,
    }
}

/// [`evaluate_compiled_json`] in the compact form the JS wrapper expands (`js/api.js`), so
/// neither side serializes or parses the per-policy record as JSON: the same answer in
/// about a quarter of the text. An error is the same envelope as [`evaluate_compiled_json`],
/// on one line (JSON text holds no raw newline). Otherwise the first line is the `decision`
/// as JSON and ends with a newline even when there are no policies, then one line
/// per policy record: `index TAB result TAB reason TAB unmet,controls`, where `index` is the
/// policy's position in [`policy_names_json`] (its `id` and `displayName`), `reason` is
/// empty when the policy applied and the unmet controls are empty when none are unmet.
pub fn evaluate_compiled_compact(set: &PolicySet, input: &str) -> String {
    let (sign_in, satisfied, now) = match per_call(input) {
        Ok(parsed) => parsed,
        Err(envelope) => return envelope,
    };
    let mut lines = String::with_capacity(set.policies.len().saturating_mul(24));
    let decision = super::enforce_each(
        set,
        &sign_in,
        &satisfied,
        now,
        |i, result, reason, unmet| {
            write_record(
                &mut lines,
                i,
                result,
                reason.map(super::index::Reason::as_str),
                unmet,
            );
        },
    );
    let mut out = to_text(&decision);
    out.push('\n');
    out.push_str(&lines);
    out
}

/// The `[id, displayName]` of every policy of `set`, in input order, as the records of
/// [`evaluate_compiled_compact`] name them (a policy without an id has `""`, as in
/// [`super::enforce`]).
pub fn policy_names_json(set: &PolicySet) -> String {
    let names: Vec<(&str, &str)> = set
        .policies
        .iter()
        .map(|p| (p.id.as_deref().unwrap_or_default(), p.display_name.as_str()))
        .collect();
    to_text(&names)
}

fn write_record(
    out: &mut String,
    index: usize,
    result: PolicyOutcome,
    reason: Option<&str>,
    unmet: &[&str],
) {
    push_decimal(out, index);
    out.push('\t');
    out.push_str(outcome_name(result));
    out.push('\t');
    out.push_str(reason.unwrap_or_default());
    out.push('\t');
    for (k, name) in unmet.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        out.push_str(name);
    }
    out.push('\n');
}

/// `n` in decimal, without the formatting machinery (this runs once per policy per call).
fn push_decimal(out: &mut String, n: usize) {
    let mut digits = [0u8; 20];
    let mut len = 0usize;
    let mut rest = n;
    loop {
        if let Some(d) = digits.get_mut(len) {
            // `rest % 10` is below 10, so the cast and the addition stay in ASCII digits.
            *d = b'0'.saturating_add(u8::try_from(rest % 10).unwrap_or(0));
        }
        len = len.saturating_add(1);
        rest /= 10;
        if rest == 0 || len >= digits.len() {
            break;
        }
    }
    for d in digits.iter().take(len).rev() {
        out.push(char::from(*d));
    }
}

/// The serde name of each outcome (a test checks they agree).
fn outcome_name(outcome: PolicyOutcome) -> &'static str {
    match outcome {
        PolicyOutcome::Success => "success",
        PolicyOutcome::Failure => "failure",
        PolicyOutcome::NotApplied => "notApplied",
        PolicyOutcome::NotEnabled => "notEnabled",
        PolicyOutcome::ReportOnlySuccess => "reportOnlySuccess",
        PolicyOutcome::ReportOnlyFailure => "reportOnlyFailure",
        PolicyOutcome::ReportOnlyNotApplied => "reportOnlyNotApplied",
        PolicyOutcome::ReportOnlyInterrupted => "reportOnlyInterrupted",
    }
}

/// Reads `{signIn, satisfied, now}`, or returns the error envelope with every problem.
fn per_call(input: &str) -> Result<(SignIn, Vec<SatisfiedMethod>, Timestamp), String> {
    let value = match json::parse(input) {
        Ok(v) => v,
        Err(e) => return Err(envelope(vec![e])),
    };
    let mut p = Problems::default();
    let Some(map) = parse::object(&value, "", &mut p) else {
        return Err(envelope(p.0));
    };
    parse::known_fields(map, "", &["signIn", "satisfied", "now"], &mut p);
    let (sign_in, satisfied, now) = super::json_api::sign_in_members(map, &mut p);
    match (sign_in, satisfied, now) {
        (Some(sign_in), Some(satisfied), Some(now)) if p.0.is_empty() => {
            Ok((sign_in, satisfied, now))
        }
        _ => Err(envelope(p.0)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

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

    /// Expands the compact answer the way `js/api.js` does, into the JSON answer's value.
    fn expand(set: &PolicySet, compact: &str) -> Value {
        if !compact.contains('\n') {
            return serde_json::from_str(compact).unwrap();
        }
        let names: Vec<(String, String)> = serde_json::from_str(&policy_names_json(set)).unwrap();
        let (decision, lines) = compact.split_once('\n').unwrap();
        let mut policies = Vec::new();
        for line in lines.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            let (id, name) = &names[f[0].parse::<usize>().unwrap()];
            let mut record = serde_json::json!({"id": id, "displayName": name, "result": f[1],
                "reasons": if f[2].is_empty() { vec![] } else { vec![f[2]] }});
            if !f[3].is_empty() {
                record["unmetControls"] = serde_json::json!(f[3].split(',').collect::<Vec<_>>());
            }
            policies.push(record);
        }
        serde_json::json!({"decision": serde_json::from_str::<Value>(decision).unwrap(), "policies": policies})
    }

    #[test]
    fn the_compact_answer_expands_to_the_json_answer() {
        let set = compile_json(r#"{"policies":[
            {"id":"p1","displayName":"MFA \"all\"\ttab","state":"enabled",
             "conditions":{"users":{"includeUsers":["All"]},"applications":{"includeApplications":["All"]}},
             "grantControls":{"operator":"OR","builtInControls":["mfa"]}},
            {"id":"p2","displayName":"off","state":"disabled",
             "conditions":{"users":{"includeUsers":["All"]},"applications":{"includeApplications":["All"]}},
             "grantControls":{"operator":"OR","builtInControls":["block"]}},
            {"id":"p3","displayName":"risky","state":"enabledForReportingButNotEnforced",
             "conditions":{"users":{"includeUsers":["All"]},"applications":{"includeApplications":["All"]},"signInRiskLevels":["high"]},
             "grantControls":{"operator":"OR","builtInControls":["block"]}},
            {"id":"p4","displayName":"block app b","state":"enabled",
             "conditions":{"users":{"includeUsers":["All"]},"applications":{"includeApplications":["b"]}},
             "grantControls":{"operator":"AND","builtInControls":["block"]}}]}"#).unwrap();
        for per_call in [
            r#"{"signIn":{"userId":"u1","appId":"a1"},"satisfied":[{"method":"password","at":100}],"now":120}"#,
            r#"{"signIn":{"userId":"u1","appId":"b","signInRisk":"high"},"now":120}"#,
            r#"{"signIn":{"userId":"u1","appId":"a"},"satisfied":[{"method":"password","at":100},{"method":"sms","at":110}],"now":120}"#,
            r#"{"signIn":{"userId":"u1"},"now":"x"}"#,
            r#"{"signIn":{}, "signIn":{}}"#,
        ] {
            let json: Value =
                serde_json::from_str(&evaluate_compiled_json(&set, per_call)).unwrap();
            assert_eq!(
                expand(&set, &evaluate_compiled_compact(&set, per_call)),
                json,
                "{per_call}"
            );
        }
    }

    #[test]
    fn decimals_are_written_like_display() {
        for n in [0, 7, 10, 19, 20, 999, 1000, 123_456_789, usize::MAX] {
            let mut out = String::from("x");
            push_decimal(&mut out, n);
            assert_eq!(out, format!("x{n}"));
        }
    }

    #[test]
    fn outcome_names_are_the_serde_names() {
        use PolicyOutcome::*;
        for o in [
            Success,
            Failure,
            NotApplied,
            NotEnabled,
            ReportOnlySuccess,
            ReportOnlyFailure,
            ReportOnlyNotApplied,
            ReportOnlyInterrupted,
        ] {
            assert_eq!(
                serde_json::to_value(o).unwrap(),
                Value::from(outcome_name(o))
            );
        }
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
