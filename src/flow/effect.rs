//! Effects: what the adapter must do after a step, as data. The adapter applies them
//! in order, then stores the returned state (or deletes it when the state is `None`);
//! it must apply all effects before feeding the next input.

use super::channel::Channel;
use super::codes::CodePurpose;
use super::user::UserRecord;
use crate::pii::{Pii, Secret};
use crate::policy::SatisfiedMethod;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// One thing for the adapter to do.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Effect {
    /// Deliver a one-time code. The only place the plaintext code exists.
    SendCode(CodeDelivery),
    /// Store a new user (sign-up).
    CreateUser(UserRecord),
    /// Replace the stored user with this record.
    UpdateUser(UserRecord),
    /// Mint tokens with these claims.
    IssueTokens(TokenGrant),
    /// Write an audit event (no personal data inside).
    Audit(AuditEvent),
}

/// A code to deliver.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeDelivery {
    /// Email or SMS.
    pub channel: Channel,
    /// The address or E.164 number.
    pub to: Pii<String>,
    /// The code.
    pub code: Secret<String>,
    /// What it is for (for the message template).
    pub purpose: CodePurpose,
    /// When it stops working.
    pub expires_at: Timestamp,
}

/// What the tokens say about the authentication. Issued only when every control the
/// access policy requires is satisfied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenGrant {
    /// `sub`/`oid`.
    pub user_id: String,
    /// `aud` / the client.
    pub app_id: String,
    /// `email` / `preferred_username`.
    pub email: Pii<String>,
    /// `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<Pii<String>>,
    /// RFC 8176 values: `pwd`, `otp` (email code), `sms`, and `mfa` when two or more
    /// distinct methods were used.
    pub amr: Vec<String>,
    /// `1` for one factor, `2` for more than one.
    pub acr: String,
    /// Authentication contexts satisfied (Entra's `acrs` claim), e.g. `["c1"]`.
    pub acrs: Vec<String>,
    /// The latest time a method was performed (OIDC `auth_time`).
    pub auth_time: Timestamp,
    /// Methods with times, for the adapter to keep with the session (step-up input).
    pub methods: Vec<SatisfiedMethod>,
}

/// A flow event for the audit log: ids and codes only, never emails, numbers or codes.
///
/// The event of a sign-in attempt that ended (tokens issued, a wrong password or code,
/// a lockout, a block, an unknown user or app) also carries [`Self::sign_in`], the
/// evidence the sign-in log record is built from ([`crate::audit::sign_in::build`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// When.
    pub at: Timestamp,
    /// Which kind of flow.
    pub flow: super::state::FlowKind,
    /// What happened, as a stable dotted code (e.g. `mfa.code_rejected`).
    pub event: String,
    /// The user's object id, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The app.
    pub app_id: String,
    /// The channel involved, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// A reason code, if any (e.g. `password_too_weak`, a policy id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For an attempt that ended: what the sign-in log needs. It holds the account email,
    /// so it is never serialized: the event's JSON (what the Worker logs and the JS
    /// package hands to `onAudit`) stays ids and codes only, and the adapter reads this
    /// field in-process to store the admin-only sign-in log record.
    #[serde(skip)]
    pub sign_in: Option<Box<crate::audit::SignInEvidence>>,
}
