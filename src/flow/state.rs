//! The flow state: one struct per step (`Expect*`), each holding only what that step
//! needs, wrapped in [`FlowState`] for storage. The state is serializable so the Worker
//! can keep it in KV and the demo in memory. It must stay server-side: it holds the
//! methods proven so far, so a client that could edit it could skip factors.
//!
//! [`FlowCommon`] is what every step carries. Its list of methods proven in this flow
//! is private and grows only from a [`VerifiedCode`] or a [`PasswordProof`], values
//! that only a real verification creates.

use super::channel::Channel;
use super::codes::VerifiedCode;
use super::gate::{ExpectPasswordChange, ExpectTokenRequest};
use super::input::{Capabilities, ChallengeTypes, ClientFacts, MethodChange};
use super::mfa::{ExpectMfaCode, ExpectMfaMethod};
use super::password::PasswordProof;
use super::register::{ExpectRegistrationCode, ExpectRegistrationMethod};
use super::reset::{ResetExpectChallenge, ResetExpectCode, ResetExpectNewPassword};
use super::signin::{SignInExpectChallenge, SignInExpectCode, SignInExpectPassword};
use super::signup::{
    SignUpExpectAttributes, SignUpExpectChallenge, SignUpExpectCode, SignUpExpectPassword,
};
use crate::pii::Pii;
use crate::policy::{AuthMethod, SatisfiedMethod};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Which flow this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FlowKind {
    /// Sign-in.
    SignIn,
    /// Sign-up.
    SignUp,
    /// Self-service password reset.
    PasswordReset,
    /// Step-up of a signed-in session.
    StepUp,
    /// Adding, replacing or removing a strong method.
    MethodChange,
}

/// What every step carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlowCommon {
    /// Which flow.
    pub kind: FlowKind,
    /// The app.
    pub app_id: String,
    /// The account email (normalized).
    pub email: Pii<String>,
    /// The user, once known (absent during sign-up until the account exists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// When the flow started.
    pub started_at: Timestamp,
    /// When the flow (continuation) expires.
    pub expires_at: Timestamp,
    /// Client capabilities.
    pub capabilities: Capabilities,
    /// Client challenge types.
    pub challenge_types: ChallengeTypes,
    /// Request facts for Conditional Access.
    #[serde(default)]
    pub facts: ClientFacts,
    /// Authentication contexts requested.
    #[serde(default)]
    pub auth_contexts: Vec<String>,
    /// Methods from the signed-in session (step-up, method change).
    #[serde(default)]
    pub prior: Vec<SatisfiedMethod>,
    /// Methods verified in this flow.
    #[serde(default)]
    proven: Vec<SatisfiedMethod>,
    /// The first factor used (or, for a session, the account's first factor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_factor: Option<AuthMethod>,
    /// When the account email was proven by a code in this flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email_verified_at: Option<Timestamp>,
    /// Codes sent by this flow.
    #[serde(default)]
    pub codes_sent: u8,
    /// The password was changed in this flow (satisfies a `passwordChange` control).
    #[serde(default)]
    pub password_changed: bool,
    /// For method changes: what to change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_change: Option<MethodChange>,
}

impl FlowCommon {
    /// A new flow's common part.
    pub(crate) fn new(
        kind: FlowKind,
        app_id: String,
        email: Pii<String>,
        now: Timestamp,
        lifetime: u64,
    ) -> Self {
        Self {
            kind,
            app_id,
            email,
            user_id: None,
            started_at: now,
            expires_at: now.plus(crate::time::Seconds(lifetime)),
            capabilities: Capabilities::default(),
            challenge_types: ChallengeTypes::default(),
            facts: ClientFacts::default(),
            auth_contexts: Vec::new(),
            prior: Vec::new(),
            proven: Vec::new(),
            first_factor: None,
            email_verified_at: None,
            codes_sent: 0,
            password_changed: false,
            method_change: None,
        }
    }

    /// Records a verified code as a factor.
    pub(crate) fn record_factor(&mut self, code: &VerifiedCode) {
        self.proven.push(SatisfiedMethod {
            method: code.channel().method(),
            at: code.at(),
        });
        self.record_ownership(code);
    }

    /// Records that the account email was proven, without counting it as a factor
    /// (sign-up of an email-with-password account, as Entra does).
    pub(crate) fn record_ownership(&mut self, code: &VerifiedCode) {
        if code.channel() == Channel::Email && code.destination() == &self.email {
            self.email_verified_at = Some(code.at());
        }
    }

    /// Records a password proven (or set) in this flow.
    pub(crate) fn record_password(&mut self, proof: &PasswordProof) {
        self.proven.push(SatisfiedMethod {
            method: AuthMethod::Password,
            at: proof.at(),
        });
    }

    /// Counts the account email, proven earlier in this flow, as the email factor
    /// (the `preverified` registration fast-pass). False if it was not proven.
    pub(crate) fn record_preverified_email(&mut self) -> bool {
        match self.email_verified_at {
            Some(at) => {
                self.proven.push(SatisfiedMethod {
                    method: AuthMethod::Email,
                    at,
                });
                true
            }
            None => false,
        }
    }

    /// Whether the account email was proven by a code in this flow.
    pub fn email_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }

    /// Methods verified in this flow.
    pub fn proven(&self) -> &[SatisfiedMethod] {
        &self.proven
    }

    /// Everything satisfied: the session's methods, then this flow's.
    pub fn satisfied(&self) -> Vec<SatisfiedMethod> {
        self.prior
            .iter()
            .chain(self.proven.iter())
            .copied()
            .collect()
    }

    /// The distinct methods verified in this flow.
    pub fn fresh_methods(&self) -> BTreeSet<AuthMethod> {
        self.proven.iter().map(|s| s.method).collect()
    }
}

/// How the adapter finds the user record to pass with the next step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "camelCase")]
pub enum UserLookup {
    /// By object id.
    Id(String),
    /// By email (sign-up, to catch an account created meanwhile).
    Email(Pii<String>),
}

/// The state between two steps: which step the flow expects, with its data.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
#[allow(
    clippy::large_enum_variant,
    reason = "states are moved rarely and stored as JSON"
)]
pub enum FlowState {
    /// Sign-in: waiting for `/challenge`.
    SignInExpectChallenge(SignInExpectChallenge),
    /// Sign-in: waiting for the password.
    SignInExpectPassword(SignInExpectPassword),
    /// Sign-in: waiting for the email code (first factor).
    SignInExpectCode(SignInExpectCode),
    /// Sign-up: waiting for `/challenge`.
    SignUpExpectChallenge(SignUpExpectChallenge),
    /// Sign-up: waiting for the email code.
    SignUpExpectCode(SignUpExpectCode),
    /// Sign-up: waiting for the password.
    SignUpExpectPassword(SignUpExpectPassword),
    /// Sign-up: waiting for attributes.
    SignUpExpectAttributes(SignUpExpectAttributes),
    /// Reset: waiting for `/challenge`.
    ResetExpectChallenge(ResetExpectChallenge),
    /// Reset: waiting for the email code.
    ResetExpectCode(ResetExpectCode),
    /// Reset: waiting for the new password.
    ResetExpectNewPassword(ResetExpectNewPassword),
    /// MFA: waiting for the method choice.
    ExpectMfaMethod(ExpectMfaMethod),
    /// MFA: waiting for the code.
    ExpectMfaCode(ExpectMfaCode),
    /// Registration: waiting for a phone number or email.
    ExpectRegistrationMethod(ExpectRegistrationMethod),
    /// Registration: waiting for the code sent to it.
    ExpectRegistrationCode(ExpectRegistrationCode),
    /// Conditional Access requires a new password.
    ExpectPasswordChange(ExpectPasswordChange),
    /// Waiting for `/token` with `grant_type=continuation_token`.
    ExpectTokenRequest(ExpectTokenRequest),
}
crate::tagged_enum!(FlowState, "step");

impl FlowState {
    /// When this state stops being usable: the flow's expiry, or the end of the password
    /// reset window when that comes first.
    pub fn deadline(&self) -> Timestamp {
        match self {
            FlowState::ResetExpectNewPassword(s) => s
                .submit_by
                .map_or(s.common.expires_at, |t| t.min(s.common.expires_at)),
            _ => self.common().expires_at,
        }
    }

    /// The common part.
    pub fn common(&self) -> &FlowCommon {
        match self {
            FlowState::SignInExpectChallenge(s) => &s.common,
            FlowState::SignInExpectPassword(s) => &s.common,
            FlowState::SignInExpectCode(s) => &s.common,
            FlowState::SignUpExpectChallenge(s) => &s.common,
            FlowState::SignUpExpectCode(s) => &s.common,
            FlowState::SignUpExpectPassword(s) => &s.common,
            FlowState::SignUpExpectAttributes(s) => &s.common,
            FlowState::ResetExpectChallenge(s) => &s.common,
            FlowState::ResetExpectCode(s) => &s.common,
            FlowState::ResetExpectNewPassword(s) => &s.common,
            FlowState::ExpectMfaMethod(s) => &s.common,
            FlowState::ExpectMfaCode(s) => &s.common,
            FlowState::ExpectRegistrationMethod(s) => &s.common,
            FlowState::ExpectRegistrationCode(s) => &s.common,
            FlowState::ExpectPasswordChange(s) => &s.common,
            FlowState::ExpectTokenRequest(s) => &s.common,
        }
    }

    /// The common part, mutable, for the native layer's bookkeeping (a failed send
    /// counts against the code cap). Crate-only: `prior` could be forged through it.
    pub(crate) fn common_mut(&mut self) -> &mut FlowCommon {
        match self {
            FlowState::SignInExpectChallenge(s) => &mut s.common,
            FlowState::SignInExpectPassword(s) => &mut s.common,
            FlowState::SignInExpectCode(s) => &mut s.common,
            FlowState::SignUpExpectChallenge(s) => &mut s.common,
            FlowState::SignUpExpectCode(s) => &mut s.common,
            FlowState::SignUpExpectPassword(s) => &mut s.common,
            FlowState::SignUpExpectAttributes(s) => &mut s.common,
            FlowState::ResetExpectChallenge(s) => &mut s.common,
            FlowState::ResetExpectCode(s) => &mut s.common,
            FlowState::ResetExpectNewPassword(s) => &mut s.common,
            FlowState::ExpectMfaMethod(s) => &mut s.common,
            FlowState::ExpectMfaCode(s) => &mut s.common,
            FlowState::ExpectRegistrationMethod(s) => &mut s.common,
            FlowState::ExpectRegistrationCode(s) => &mut s.common,
            FlowState::ExpectPasswordChange(s) => &mut s.common,
            FlowState::ExpectTokenRequest(s) => &mut s.common,
        }
    }

    /// The step name, as serialized.
    pub fn step_name(&self) -> &'static str {
        match self {
            FlowState::SignInExpectChallenge(_) => "signInExpectChallenge",
            FlowState::SignInExpectPassword(_) => "signInExpectPassword",
            FlowState::SignInExpectCode(_) => "signInExpectCode",
            FlowState::SignUpExpectChallenge(_) => "signUpExpectChallenge",
            FlowState::SignUpExpectCode(_) => "signUpExpectCode",
            FlowState::SignUpExpectPassword(_) => "signUpExpectPassword",
            FlowState::SignUpExpectAttributes(_) => "signUpExpectAttributes",
            FlowState::ResetExpectChallenge(_) => "resetExpectChallenge",
            FlowState::ResetExpectCode(_) => "resetExpectCode",
            FlowState::ResetExpectNewPassword(_) => "resetExpectNewPassword",
            FlowState::ExpectMfaMethod(_) => "expectMfaMethod",
            FlowState::ExpectMfaCode(_) => "expectMfaCode",
            FlowState::ExpectRegistrationMethod(_) => "expectRegistrationMethod",
            FlowState::ExpectRegistrationCode(_) => "expectRegistrationCode",
            FlowState::ExpectPasswordChange(_) => "expectPasswordChange",
            FlowState::ExpectTokenRequest(_) => "expectTokenRequest",
        }
    }

    /// The code this step waits for, if it waits for one.
    pub fn pending_code(&self) -> Option<&super::codes::PendingCode> {
        match self {
            FlowState::SignInExpectCode(s) => Some(&s.code),
            FlowState::SignUpExpectCode(s) => Some(&s.code),
            FlowState::ResetExpectCode(s) => Some(&s.code),
            FlowState::ExpectMfaCode(s) => Some(&s.code),
            FlowState::ExpectRegistrationCode(s) => Some(&s.code),
            _ => None,
        }
    }

    /// Marks the state's pending code as possibly delivered (its send timed out): the
    /// next resend answers with it instead of sending another. No-op without a code.
    pub fn mark_code_unconfirmed(mut self) -> Self {
        let code = match &mut self {
            FlowState::SignInExpectCode(s) => Some(&mut s.code),
            FlowState::SignUpExpectCode(s) => Some(&mut s.code),
            FlowState::ResetExpectCode(s) => Some(&mut s.code),
            FlowState::ExpectMfaCode(s) => Some(&mut s.code),
            FlowState::ExpectRegistrationCode(s) => Some(&mut s.code),
            _ => None,
        };
        if let Some(code) = code {
            code.mark_unconfirmed();
        }
        self
    }

    /// Which user record to pass with the next step.
    pub fn user_lookup(&self) -> UserLookup {
        let common = self.common();
        match &common.user_id {
            Some(id) => UserLookup::Id(id.clone()),
            None => UserLookup::Email(common.email.clone()),
        }
    }
}
