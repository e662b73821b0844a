//! The JSON entry point the JS `Flow` class, the demo and the Worker drive the engine
//! through: one document in, one document out, never a panic or an exception.
//!
//! In: `{"config", "codeKey", "state" | null, "input", "now", "entropy", "user" | null}`.
//! `codeKey` (at least 32 bytes) and `entropy` (64 bytes recommended) are hex, or
//! base64 (standard or URL-safe, padded or not) when not valid hex. `now` is Unix
//! seconds. Out: `{"state", "effects", "reply"}` or `{"error": {code, message, target}}`.
//!
//! With `mfaEnforcement: conditional`, the optional `conditionalAccess` member
//! (`{"policies": [...], "namedLocations": [...]}`, Graph shapes) decides; without it
//! nothing is required ([`NoPolicies`]). Compiling policies on every call costs time;
//! native callers build a [`crate::policy::PolicySet`] once and call [`super::step`].

use super::access::{AccessPolicy, NoPolicies};
use super::codes::CodeKey;
use super::config::FlowConfig;
use super::effect::Effect;
use super::entropy::Entropy;
use super::err::FlowError;
use super::hex;
use super::input::FlowInput;
use super::reply::Reply;
use super::state::FlowState;
use super::user::UserRecord;
use super::{Step, StepContext, step};
use crate::error::{ErrorBody, ErrorEnvelope};
use crate::guard::app_sends::{SendCounter, counters};
use crate::policy::PolicySet;
use crate::time::Timestamp;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

/// One call.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StepCall {
    /// The flow configuration.
    pub config: FlowConfig,
    /// The HMAC key for code digests, hex or base64.
    pub code_key: String,
    /// The current state, or null before a start input.
    #[serde(default)]
    pub state: Option<FlowState>,
    /// The input.
    pub input: FlowInput,
    /// Unix seconds.
    pub now: Timestamp,
    /// Random bytes, hex or base64.
    pub entropy: String,
    /// The user record, if found.
    #[serde(default)]
    pub user: Option<UserRecord>,
    /// Conditional Access policies and named locations, in Graph shapes.
    #[serde(default)]
    pub conditional_access: Option<serde_json::Value>,
    /// The caller's IP address, for the network send counters ([`SendCounter`]).
    #[serde(default)]
    pub ip: Option<String>,
}

/// One answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepAnswer {
    /// The next state, or null when the flow is over.
    pub state: Option<FlowState>,
    /// Effects to apply in order.
    pub effects: Vec<Effect>,
    /// The reply.
    pub reply: Reply,
    /// The send counters the step's codes must pass before they go out, in order
    /// ([`crate::guard::app_sends`]); absent when the step sends nothing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub send_counters: Vec<SendCounter>,
}

/// Decodes hex, else base64 in any common dialect.
fn bytes(text: &str, field: &str) -> Result<Vec<u8>, FlowError> {
    let text = text.trim();
    if let Some(b) = hex::decode(text) {
        return Ok(b);
    }
    let unpadded = text.trim_end_matches('=');
    STANDARD_NO_PAD
        .decode(unpadded)
        .or_else(|_| URL_SAFE_NO_PAD.decode(unpadded))
        .map_err(|_| FlowError::input(field, "neither hex nor base64"))
}

/// Runs one step from a parsed call.
pub fn step_call(call: StepCall) -> Result<StepAnswer, FlowError> {
    call.config.validate()?;
    let key = CodeKey::new(bytes(&call.code_key, "codeKey")?)?;
    let entropy = Entropy::new(bytes(&call.entropy, "entropy")?);
    let policies = match &call.conditional_access {
        None => None,
        Some(value) => Some(PolicySet::from_json(value).map_err(|errors| {
            let first = errors.into_iter().next();
            FlowError::config(
                format!(
                    "conditionalAccess.{}",
                    first
                        .as_ref()
                        .and_then(|e| e.target.clone())
                        .unwrap_or_default()
                ),
                first.map_or_else(|| "invalid policies".to_string(), |e| e.message),
            )
        })?),
    };
    let access: &dyn AccessPolicy = match &policies {
        Some(set) => set,
        None => &NoPolicies,
    };
    let user_id = call.user.as_ref().map(|u| u.id.clone());
    let ctx = StepContext {
        config: &call.config,
        code_key: &key,
        access_policy: access,
        now: call.now,
        entropy,
        user: call.user,
    };
    let done: Step = step(call.state, call.input, ctx)?;
    let user_id = user_id.or_else(|| done.state.as_ref().and_then(|s| s.common().user_id.clone()));
    let send_counters = counters(
        &done.effects,
        &call.config.settings,
        &key,
        user_id.as_deref(),
        call.ip.as_deref(),
    );
    Ok(StepAnswer {
        state: done.state,
        effects: done.effects,
        reply: done.reply,
        send_counters,
    })
}

/// A step call that does not read: a value of the wrong shape is the app's input error at
/// its JSON path (`input.email`, `config.settings.mfaEnforcement`), since the JS side
/// builds the text with `JSON.stringify` and a line and column in it would mean nothing to
/// the app; only text that is not JSON at all stays `flow.invalid_json`.
fn step_call_error(text: &str, e: &serde_json::Error) -> FlowError {
    let target = crate::json_path::at(text, e.line(), e.column());
    let reason = crate::json_path::message(e);
    match e.classify() {
        serde_json::error::Category::Data => FlowError::input(&target, reason),
        _ => FlowError::Json { target, reason },
    }
}

/// Runs one step from JSON text; always returns JSON text.
pub fn step_json(input: &str) -> String {
    step_json_with(input, str::to_string)
}

/// [`step_json`] with the input's passwords normalized by the platform's `normalize`
/// ([`FlowInput::with_normalized_passwords`]).
pub fn step_json_with(input: &str, normalize: impl Fn(&str) -> String) -> String {
    let result = serde_json::from_str::<StepCall>(input)
        .map_err(|e| step_call_error(input, &e))
        .and_then(|mut call| {
            call.input = call.input.with_normalized_passwords(normalize);
            step_call(call)
        });
    let text = match result {
        Ok(answer) => serde_json::to_string(&answer),
        Err(e) => serde_json::to_string(&ErrorEnvelope::from(ErrorBody::from(e))),
    };
    text.unwrap_or_else(|_| {
        r#"{"error":{"code":"flow.internal","message":"the answer could not be serialized"}}"#
            .to_string()
    })
}
