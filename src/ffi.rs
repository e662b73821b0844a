//! The wasm-bindgen API of the npm package (feature `js`).
//!
//! JSON text crosses the boundary in both directions: the JS wrapper (`js/api.js`) calls
//! `JSON.stringify` / `JSON.parse`, which V8 does faster than walking objects field by
//! field through the boundary, and the core's JSON-string entry points do the rest, so the
//! Worker, native tests and JS share one code path. Nothing here throws: bad input comes
//! back as `{"error": {code, message, target}}`.

use crate::policy::PolicySet;
use crate::policy::compiled_api;
use wasm_bindgen::prelude::*;

/// `{ name, version }` of this build, as JSON text.
#[wasm_bindgen(js_name = versionJson)]
pub fn version_json() -> String {
    serde_json::to_string(&crate::about::build_info()).unwrap_or_default()
}

/// What If: `{policies, namedLocations, request, directory}` in, the Graph response out.
#[wasm_bindgen(js_name = whatIfJson)]
pub fn what_if_json(input: &str) -> String {
    crate::policy::what_if_json(input)
}

/// Enforcement: `{policies, namedLocations, signIn, satisfied, now}` in, the decision out.
#[wasm_bindgen(js_name = evaluateJson)]
pub fn evaluate_json(input: &str) -> String {
    crate::policy::evaluate_json(input)
}

/// Validation: `{policies, namedLocations}` in, `{valid, errors}` out with every problem.
#[wasm_bindgen(js_name = validatePoliciesJson)]
pub fn validate_policies_json(input: &str) -> String {
    crate::policy::validate_policies_json(input)
}

/// A policy set compiled once, for deciding many sign-ins against one configuration.
#[wasm_bindgen]
pub struct CompiledPolicies {
    set: PolicySet,
}

/// Compiles `{policies, namedLocations}`. Returns `undefined` and writes nothing on error;
/// the wrapper then calls [`validate_policies_json`] to report why, so this never throws.
#[wasm_bindgen(js_name = compilePoliciesJson)]
pub fn compile_policies_json(input: &str) -> Option<CompiledPolicies> {
    compiled_api::compile_json(input)
        .ok()
        .map(|set| CompiledPolicies { set })
}

#[wasm_bindgen]
impl CompiledPolicies {
    /// Enforcement for `{signIn, satisfied, now}`.
    #[wasm_bindgen(js_name = evaluateJson)]
    pub fn evaluate_json(&self, input: &str) -> String {
        compiled_api::evaluate_compiled_json(&self.set, input)
    }

    /// Enforcement for `{signIn, satisfied, now}` in the compact form `js/api.js` expands
    /// (see [`compiled_api::evaluate_compiled_compact`]): the per-policy record is neither
    /// serialized nor parsed as JSON, which was most of a decision's cost in JS.
    #[wasm_bindgen(js_name = evaluateCompact)]
    pub fn evaluate_compact(&self, input: &str) -> String {
        compiled_api::evaluate_compiled_compact(&self.set, input)
    }

    /// `[[id, displayName], ...]` of the compiled policies, which the compact records name
    /// by index.
    #[wasm_bindgen(js_name = policyNamesJson)]
    pub fn policy_names_json(&self) -> String {
        compiled_api::policy_names_json(&self.set)
    }

    /// What If for `{request, directory}`.
    #[wasm_bindgen(js_name = whatIfJson)]
    pub fn what_if_json(&self, input: &str) -> String {
        compiled_api::what_if_compiled_json(&self.set, input)
    }
}

/// One flow step: `{config, codeKey, state, input, now, entropy, user, conditionalAccess?}`
/// in, `{state, effects, reply}` or the error envelope out.
#[wasm_bindgen(js_name = stepJson)]
pub fn step_json(input: &str) -> String {
    crate::flow::json_api::step_json_with(input, nfkc)
}

/// NFKC by the platform's own Unicode data (`String.prototype.normalize`): the same
/// password typed on two keyboards is one secret
/// ([`crate::flow::FlowInput::with_normalized_passwords`]).
fn nfkc(text: &str) -> String {
    js_sys::JsString::from(text).normalize("NFKC").into()
}

/// The address a start input's `email` names, as the engine compares it (trimmed, ASCII
/// lowercased), or `undefined` for a spelling the engine refuses. The `Flow` looks the
/// account up by it, so a store keyed by the saved address finds `Zoe@example.com` too:
/// the typed spelling found nothing there, and a reset answered "user not found".
#[wasm_bindgen(js_name = normalizeEmail)]
pub fn normalize_email(raw: &str) -> Option<String> {
    crate::flow::contact::normalize_email(raw)
}

/// After a code could not be delivered, the state to keep under the flow id the client
/// still holds, decided as the Worker decides it
/// ([`crate::native::delivery::kept_after_failed_send`]): the state before the step with
/// the failed send counted against the flow's code cap (so retrying a failing send cannot
/// send without end), or, after a timeout, the step's own state with its code marked as
/// possibly delivered (so the retry answers with that code instead of voiding it with a
/// second one). `{why: "failed" | "timedOut", before, next}` in (states as stored, or
/// null), `{"state": ... | null}` out, or the error envelope.
#[wasm_bindgen(js_name = keptAfterFailedSendJson)]
pub fn kept_after_failed_send_json(input: &str) -> String {
    use crate::flow::FlowState;
    use crate::hook::Failure;
    use crate::native::delivery::{Undelivered, kept_after_failed_send};
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Failed {
        why: String,
        before: Option<FlowState>,
        next: Option<FlowState>,
    }
    let Ok(failed) = serde_json::from_str::<Failed>(input) else {
        return r#"{"error":{"code":"flow.state_invalid","message":"the stored flow state is not valid; start a new flow"}}"#
            .to_string();
    };
    let why = match failed.why.as_str() {
        "timedOut" => Undelivered::Hook(Failure::TimedOut),
        _ => Undelivered::Hook(Failure::Unreachable),
    };
    // Written straight to text, never through `serde_json::Value`: a second serializer
    // would compile every flow state's serialization again (~12 KB gzip).
    #[derive(serde::Serialize)]
    struct Kept {
        state: Option<FlowState>,
    }
    let kept = Kept {
        state: kept_after_failed_send(why, failed.before, failed.next),
    };
    serde_json::to_string(&kept).unwrap_or_else(|_| {
        r#"{"error":{"code":"flow.state_invalid","message":"the flow state cannot be written"}}"#
            .to_string()
    })
}

/// One send decided against a send counter's stored state
/// ([`crate::guard::app_sends::count_json`]): the `Flow` asks it for each counter a step
/// names (`sendCounters`) before the code goes out.
#[wasm_bindgen(js_name = countSendJson)]
pub fn count_send_json(state: Option<String>, counter: &str, now: f64) -> String {
    // Unix seconds from the Flow's clock; a value that is not one (NaN, negative) reads
    // as 0, never as a panic.
    let now = if now.is_finite() && now > 0.0 {
        now as u64
    } else {
        0
    };
    crate::guard::app_sends::count_json(state.as_deref(), counter, crate::time::Timestamp(now))
}

/// A failed send's count given back ([`crate::guard::app_sends::refund_json`]): the
/// `Flow` counts before it delivers, so parallel requests cannot all pass one reading.
#[wasm_bindgen(js_name = refundSendJson)]
pub fn refund_send_json(state: &str, counter: &str, sent_at: f64) -> String {
    let sent_at = if sent_at.is_finite() && sent_at > 0.0 {
        sent_at as u64
    } else {
        0
    };
    crate::guard::app_sends::refund_json(state, counter, crate::time::Timestamp(sent_at))
}

/// Which user record the next step of a stored state needs: `{"by": "id" | "email",
/// "value"}`, or the error envelope when the state is not a flow state.
#[wasm_bindgen(js_name = flowUserLookupJson)]
pub fn flow_user_lookup_json(state: &str) -> String {
    let answer = serde_json::from_str::<crate::flow::FlowState>(state)
        .map(|s| serde_json::to_string(&s.user_lookup()))
        .map_err(|_| {
            crate::error::ErrorEnvelope::from(crate::error::ErrorBody::new(
                "flow.state_invalid",
                "the stored flow state is not valid; start a new flow",
            ))
        });
    match answer {
        Ok(Ok(text)) => text,
        Ok(Err(_)) | Err(_) => {
            r#"{"error":{"code":"flow.state_invalid","message":"the stored flow state is not valid; start a new flow"}}"#
                .to_string()
        }
    }
}
