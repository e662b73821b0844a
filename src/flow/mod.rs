//! The flow engine: sign-up, sign-in, password reset, MFA, just-in-time method
//! registration, method changes and step-up, as a sans-I/O state machine.
//!
//! # Shape
//!
//! [`step`] takes the current [`FlowState`] (none before a start input), one
//! [`FlowInput`] and a [`StepContext`] holding every outside value the step may use:
//! the configuration, the code key, the access policy, the current time, random bytes
//! and the user record the adapter looked up. It returns a [`Step`]: the next state
//! (none when the flow is over), the [`Effect`]s to apply (send a code, create or
//! update the user, issue tokens, audit) and the [`Reply`] to answer. The core reads no
//! clock and no RNG and performs no I/O.
//!
//! The adapter's loop: look up the user named by [`FlowState::user_lookup`] (or by
//! email for a start input), call [`step`], apply **all** effects in order, store the
//! state under a new continuation token (delete it when `state` is `None`), answer
//! with the reply. On `Err`, nothing happened: keep the old state and apply nothing.
//!
//! The state must stay server-side (KV or a Durable Object), keyed by an opaque
//! continuation token that is replaced on every step, so an old token cannot bring back
//! an old state (a code that was used, a counter before it was raised). KV is not
//! atomic: two concurrent guesses against one state can both be judged against the same
//! attempt count. A Durable Object per flow closes that gap.
//!
//! # States
//!
//! One struct per step (`*Expect*`), each holding only what that step needs:
//!
//! ```text
//! sign-in   SignInExpectChallenge ─▶ SignInExpectPassword | SignInExpectCode ─▶ gate
//! sign-up   SignUpExpectChallenge ─▶ SignUpExpectCode ─▶ [SignUpExpectPassword]
//!             ─▶ [SignUpExpectAttributes] ─▶ (user created) ExpectTokenRequest ─▶ gate
//! reset     ResetExpectChallenge ─▶ ResetExpectCode ─▶ ResetExpectNewPassword
//!             ─▶ ExpectTokenRequest ─▶ gate
//! step-up   (session) ─▶ gate, or SignInExpectChallenge when the first factor is needed again
//! change    (session) ─▶ [ExpectMfaMethod ─▶ ExpectMfaCode] ─▶ ExpectRegistrationMethod
//!             ─▶ ExpectRegistrationCode ─▶ done (or remove ─▶ done)
//!
//! gate      Allow ─▶ tokens (flow over)        Block ─▶ Blocked (flow over)
//!           Require mfa/strength ─▶ ExpectMfaMethod ─▶ ExpectMfaCode ─▶ gate
//!                                 ─▶ ExpectRegistrationMethod ─▶ ExpectRegistrationCode
//!                                      ─▶ ExpectTokenRequest ─▶ gate
//!                                 ─▶ Blocked (no usable or registrable method)
//!           Require reauthentication ─▶ SignInExpectChallenge
//!           Require passwordChange ─▶ ExpectPasswordChange ─▶ gate
//! ```
//!
//! Any state takes `cancel` (the flow ends, nothing is issued) and expires
//! `settings.flowLifetimeSeconds` after the start (`FlowExpired`).
//!
//! # Guarantees (tested in `tests/flow_model.rs`)
//!
//! - Tokens are issued only by the gate, only when the access policy answers `Allow`
//!   for the methods satisfied, and a method counts only once a code or password was
//!   verified in this flow (or comes from the adapter-verified session in a step-up).
//! - A code works at most once, expires, is void once a new one is sent, and allows at
//!   most 5 tries. Account failures are throttled with growing waits up to 100.
//! - An email-OTP first factor never satisfies MFA.

pub mod access;
pub mod attributes;
pub mod channel;
pub mod codes;
pub mod config;
pub mod contact;
mod cx;
pub mod effect;
pub mod entropy;
pub mod err;
pub mod gate;
mod hex;
pub mod input;
pub mod json_api;
pub mod methods;
pub mod mfa;
pub mod password;
pub mod register;
pub mod reply;
pub mod reset;
pub mod signin;
pub mod signup;
mod sms_guard;
pub mod state;
pub mod stepup;
pub mod user;

pub use access::{AccessPolicy, MfaAlways, MfaOff, NoPolicies};
pub use channel::Channel;
pub use codes::{CodeKey, CodePurpose, PendingCode};
pub use config::{FlowConfig, FlowSettings, LocalAccount, MfaEnforcement};
pub use effect::{AuditEvent, CodeDelivery, Effect, TokenGrant};
pub use entropy::Entropy;
pub use err::FlowError;
pub use input::{
    Capabilities, ChallengeTypes, ClientFacts, FlowInput, MethodChange, Session, StartMethodChange,
    StartPasswordReset, StartSignIn, StartSignUp, StartStepUp,
};
pub use json_api::step_json;
pub use reply::{BlockReason, MfaMethod, Native, RegistrationMethod, Rejection, Reply};
pub use state::{FlowCommon, FlowKind, FlowState, UserLookup};
pub use user::{Lockout, StrongMethod, UserRecord};

use crate::time::Timestamp;
use cx::{Cx, Next};

/// Everything a step may use from outside.
pub struct StepContext<'a> {
    /// The configuration (validated once with [`FlowConfig::validate`]).
    pub config: &'a FlowConfig,
    /// The HMAC key for code digests.
    pub code_key: &'a CodeKey,
    /// The policy consulted when `mfaEnforcement` is `conditional` (Conditional
    /// Access, or [`NoPolicies`]).
    pub access_policy: &'a dyn AccessPolicy,
    /// The current time.
    pub now: Timestamp,
    /// Random bytes from a CSPRNG ([`Entropy::RECOMMENDED_LEN`] of them).
    pub entropy: Entropy,
    /// The user record, if the adapter found one.
    pub user: Option<UserRecord>,
}

/// What a step produced.
#[derive(Debug, Clone)]
pub struct Step {
    /// The next state; `None` when the flow is over (delete it).
    pub state: Option<FlowState>,
    /// Effects to apply, in order, before the next input.
    pub effects: Vec<Effect>,
    /// The answer.
    pub reply: Reply,
}

/// Runs one step of a flow.
pub fn step(
    state: Option<FlowState>,
    input: FlowInput,
    ctx: StepContext<'_>,
) -> Result<Step, FlowError> {
    let mut cx = Cx {
        config: ctx.config,
        key: ctx.code_key,
        policy: access::effective(ctx.config.settings.mfa_enforcement, ctx.access_policy),
        now: ctx.now,
        entropy: ctx.entropy,
        user: ctx.user,
        effects: Vec::new(),
    };
    let next = dispatch(state, input, &mut cx)?;
    Ok(Step {
        state: next.state,
        effects: cx.effects,
        reply: next.reply,
    })
}

fn dispatch(state: Option<FlowState>, input: FlowInput, cx: &mut Cx) -> Result<Next, FlowError> {
    let is_start = matches!(
        input,
        FlowInput::StartSignIn(_)
            | FlowInput::StartSignUp(_)
            | FlowInput::StartPasswordReset(_)
            | FlowInput::StartStepUp(_)
            | FlowInput::StartMethodChange(_)
    );
    let Some(state) = state else {
        // Conditional Access matches policies by this id: an empty one names no
        // application, so no All-resources policy would apply to the sign-in.
        let app_id = match &input {
            FlowInput::StartSignIn(s) => Some(&s.app_id),
            FlowInput::StartSignUp(s) => Some(&s.app_id),
            FlowInput::StartPasswordReset(s) => Some(&s.app_id),
            FlowInput::StartStepUp(s) => Some(&s.app_id),
            FlowInput::StartMethodChange(s) => Some(&s.app_id),
            _ => None,
        };
        if app_id.is_some_and(|id| id.trim().is_empty()) {
            return Err(FlowError::input(
                "input.appId",
                "it is empty: give the client id of the application being signed in to",
            ));
        }
        return match input {
            FlowInput::StartSignIn(s) => signin::start(s, cx),
            FlowInput::StartSignUp(s) => signup::start(s, cx),
            FlowInput::StartPasswordReset(s) => reset::start(s, cx),
            FlowInput::StartStepUp(s) => stepup::start_step_up(s, cx),
            FlowInput::StartMethodChange(s) => stepup::start_method_change(s, cx),
            _ => Err(FlowError::NoFlow),
        };
    };
    if is_start {
        return Err(FlowError::FlowInProgress);
    }
    if cx.now >= state.deadline() {
        let common = state.common().clone();
        cx.audit(&common, "flow.expired", None, None);
        return Ok(Next::reject(None, Rejection::FlowExpired));
    }
    if let FlowInput::Cancel = input {
        let common = state.common().clone();
        cx.audit(
            &common,
            "flow.cancelled",
            None,
            Some(state.step_name().to_string()),
        );
        return Ok(Next::end(Reply::Cancelled));
    }
    match state {
        FlowState::SignInExpectChallenge(s) => s.handle(input, cx),
        FlowState::SignInExpectPassword(s) => s.handle(input, cx),
        FlowState::SignInExpectCode(s) => s.handle(input, cx),
        FlowState::SignUpExpectChallenge(s) => s.handle(input, cx),
        FlowState::SignUpExpectCode(s) => s.handle(input, cx),
        FlowState::SignUpExpectPassword(s) => s.handle(input, cx),
        FlowState::SignUpExpectAttributes(s) => s.handle(input, cx),
        FlowState::ResetExpectChallenge(s) => s.handle(input, cx),
        FlowState::ResetExpectCode(s) => s.handle(input, cx),
        FlowState::ResetExpectNewPassword(s) => s.handle(input, cx),
        FlowState::ExpectMfaMethod(s) => s.handle(input, cx),
        FlowState::ExpectMfaCode(s) => s.handle(input, cx),
        FlowState::ExpectRegistrationMethod(s) => s.handle(input, cx),
        FlowState::ExpectRegistrationCode(s) => s.handle(input, cx),
        FlowState::ExpectPasswordChange(s) => s.handle(input, cx),
        FlowState::ExpectTokenRequest(s) => s.handle(input, cx),
    }
}
