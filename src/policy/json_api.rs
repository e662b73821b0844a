//! JSON string entry points, the exact code path of the JS package (`whatIf`,
//! `evaluate`), the Worker admin API and native tests: text in, text out, never a panic
//! and never an exception. Failures come back as `{"error": {"code", "message", "target"}}`
//! (the first problem, with all of them in `details` when there are several;
//! [`validate_policies_json`] lists them as `errors`).
//!
//! The typed twins ([`parse_what_if_input`], [`what_if`], [`parse_evaluate_input`],
//! [`evaluate`], [`validate_policies`]) let the Worker parse a policy set once and reuse it.

use super::decision::Enforcement;
use super::engine::enforce;
use super::err;
use super::json;
use super::parse::{self, Problems};
use super::set::PolicySet;
use super::signin::{SatisfiedMethod, SignIn};
use super::whatif::WhatIfRequest;
use crate::error::{ErrorBody, ErrorEnvelope};
use crate::time::Timestamp;
use serde::Serialize;
use serde_json::Value;

/// A parsed What If input: `{policies, namedLocations, request, directory: {groupIds, roleIds}}`.
#[derive(Debug, Clone)]
pub struct WhatIfInput {
    /// The compiled policies and named locations.
    pub set: PolicySet,
    /// The Graph `evaluate` request body, with the directory's group and role ids.
    pub request: WhatIfRequest,
}

/// A parsed evaluate input: `{policies, namedLocations, signIn, satisfied, now}`.
#[derive(Debug, Clone)]
pub struct EvaluateInput {
    /// The compiled policies and named locations.
    pub set: PolicySet,
    /// The sign-in.
    pub sign_in: SignIn,
    /// The methods satisfied in this session, with when.
    pub satisfied: Vec<SatisfiedMethod>,
    /// The current time (unix seconds).
    pub now: Timestamp,
}

/// The answer of [`validate_policies`]: every problem, each with its JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Validation {
    /// No problem found.
    pub valid: bool,
    /// Every problem found.
    pub errors: Vec<ErrorBody>,
}

/// What If over JSON: the Graph response body, or the error envelope.
pub fn what_if_json(input: &str) -> String {
    match json::parse(input)
        .map_err(|e| vec![e])
        .and_then(|v| parse_what_if_input(&v))
    {
        Ok(parsed) => to_text(&what_if(&parsed)),
        Err(errors) => envelope(errors),
    }
}

/// Enforcement over JSON: the [`Enforcement`], or the error envelope.
pub fn evaluate_json(input: &str) -> String {
    match json::parse(input)
        .map_err(|e| vec![e])
        .and_then(|v| parse_evaluate_input(&v))
    {
        Ok(parsed) => to_text(&evaluate(&parsed)),
        Err(errors) => envelope(errors),
    }
}

/// Validation over JSON: `{"valid": bool, "errors": [...]}` listing every problem.
pub fn validate_policies_json(input: &str) -> String {
    let validation = match json::parse(input) {
        Ok(v) => validate_policies(&v),
        Err(e) => Validation {
            valid: false,
            errors: vec![e],
        },
    };
    to_text(&validation)
}

/// Parses `{policies, namedLocations, request, directory}`, reporting every problem.
pub fn parse_what_if_input(value: &Value) -> Result<WhatIfInput, Vec<ErrorBody>> {
    let mut p = Problems::default();
    let Some(map) = parse::object(value, "", &mut p) else {
        return Err(p.0);
    };
    parse::known_fields(
        map,
        "",
        &["policies", "namedLocations", "request", "directory"],
        &mut p,
    );
    crate::policy::set::require_policies(map, &mut p);
    let set = PolicySet::from_parts(map.get("policies"), map.get("namedLocations"), &mut p);
    let (groups, roles) = directory(map.get("directory"), &mut p);
    let request = match parse::field(map, "request") {
        None => {
            p.push(
                err::MISSING_FIELD,
                "request",
                "`request` (the graph evaluate body) is required",
            );
            None
        }
        Some(v) => parse::parse_what_if_request(v, "request", groups, roles)
            .map_err(|e| p.0.extend(e))
            .ok(),
    };
    match (set, request) {
        (Some(set), Some(request)) if p.0.is_empty() => Ok(WhatIfInput { set, request }),
        _ => Err(p.0),
    }
}

pub(crate) fn directory(value: Option<&Value>, p: &mut Problems) -> (Vec<String>, Vec<String>) {
    let Some(map) = value
        .filter(|v| !v.is_null())
        .and_then(|v| parse::object(v, "directory", p))
    else {
        return (Vec::new(), Vec::new());
    };
    parse::known_fields(map, "directory", &["groupIds", "roleIds"], p);
    let ids = |name: &str, p: &mut Problems| -> Vec<String> {
        parse::strings(map, name, "directory", p)
            .into_iter()
            .map(|(_, s)| s.to_string())
            .collect()
    };
    (ids("groupIds", p), ids("roleIds", p))
}

/// The Graph response body for a parsed input.
pub fn what_if(input: &WhatIfInput) -> Value {
    input.set.what_if(&input.request)
}

/// Parses `{policies, namedLocations, signIn, satisfied, now}`, reporting every problem.
pub fn parse_evaluate_input(value: &Value) -> Result<EvaluateInput, Vec<ErrorBody>> {
    let mut p = Problems::default();
    let Some(map) = parse::object(value, "", &mut p) else {
        return Err(p.0);
    };
    parse::known_fields(
        map,
        "",
        &["policies", "namedLocations", "signIn", "satisfied", "now"],
        &mut p,
    );
    crate::policy::set::require_policies(map, &mut p);
    let set = PolicySet::from_parts(map.get("policies"), map.get("namedLocations"), &mut p);
    let (sign_in, satisfied, now) = sign_in_members(map, &mut p);
    match (set, sign_in, satisfied, now) {
        (Some(set), Some(sign_in), Some(satisfied), Some(now)) if p.0.is_empty() => {
            Ok(EvaluateInput {
                set,
                sign_in,
                satisfied,
                now,
            })
        }
        _ => Err(p.0),
    }
}

/// The per-sign-in members `signIn`, `satisfied` (default: none) and `now` of an evaluate
/// input, shared by the one-shot and the compiled entry points; problems go to `p`.
pub(crate) fn sign_in_members(
    map: &serde_json::Map<String, Value>,
    p: &mut Problems,
) -> (
    Option<SignIn>,
    Option<Vec<SatisfiedMethod>>,
    Option<Timestamp>,
) {
    let sign_in = match parse::field(map, "signIn") {
        None => {
            p.push(err::MISSING_FIELD, "signIn", "`signIn` is required");
            None
        }
        Some(v) => parse::parse_sign_in(v, "signIn")
            .map_err(|e| p.0.extend(e))
            .ok(),
    };
    let satisfied = match parse::field(map, "satisfied") {
        None => Some(Vec::new()),
        Some(v) => parse::parse_satisfied(v, "satisfied")
            .map_err(|e| p.0.extend(e))
            .ok(),
    };
    let now = match parse::field(map, "now") {
        Some(v) => v.as_u64().map(Timestamp).or_else(|| {
            p.push(
                err::INVALID_TYPE,
                "now",
                "expected unix seconds (a whole number)",
            );
            None
        }),
        None => {
            p.push(
                err::MISSING_FIELD,
                "now",
                "`now` (unix seconds) is required",
            );
            None
        }
    };
    if let (Some(satisfied), Some(now)) = (&satisfied, now) {
        future_methods(satisfied, now, p);
    }
    (sign_in, satisfied, now)
}

/// How far ahead of `now` a method's time may be (clocks of two machines disagree).
const CLOCK_SKEW: u64 = 300;

/// A method satisfied well after `now` is refused rather than counted as fresh: it is
/// almost always milliseconds given for seconds (`Date.now()`), and a time 1000× too
/// large would look fresh forever and get around every sign-in frequency.
fn future_methods(satisfied: &[SatisfiedMethod], now: Timestamp, p: &mut Problems) {
    for (i, s) in satisfied.iter().enumerate() {
        if s.at.0 > now.0.saturating_add(CLOCK_SKEW) {
            p.push(
                err::INVALID_VALUE,
                &err::key(&err::index("satisfied", i), "at"),
                format!(
                    "`{}` is more than {CLOCK_SKEW} seconds after `now`; give unix seconds, not milliseconds",
                    s.at.0
                ),
            );
        }
    }
}

/// The enforcement answer for a parsed input.
pub fn evaluate(input: &EvaluateInput) -> Enforcement {
    enforce(&input.set, &input.sign_in, &input.satisfied, input.now)
}

/// Checks `{policies, namedLocations}` and lists every problem.
pub fn validate_policies(value: &Value) -> Validation {
    match PolicySet::from_json(value) {
        Ok(_) => Validation {
            valid: true,
            errors: Vec::new(),
        },
        Err(errors) => Validation {
            valid: false,
            errors,
        },
    }
}

/// The error envelope for `errors`, as every JSON entry point of this module answers it.
pub(crate) fn envelope(errors: Vec<ErrorBody>) -> String {
    // The first problem, with every problem in `details` (Graph's `error.details`).
    let body = ErrorBody::from_problems(errors)
        .unwrap_or_else(|| ErrorBody::new(err::INVALID_VALUE, "the input is not valid"));
    to_text(&ErrorEnvelope::from(body))
}

/// Serializes an answer; serde_json cannot fail on these types, but if it did the caller
/// still gets a JSON error rather than a panic.
pub(crate) fn to_text(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| {
        r#"{"error":{"code":"policy.internal","message":"the answer could not be serialized"}}"#
            .to_string()
    })
}
