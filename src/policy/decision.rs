//! What enforcement answers: the decision, what is still required, and a per-policy record
//! in the sign-in log vocabulary, so the flow engine can act and admins can see why.

use super::signin::AuthMethod;
use serde::{Deserialize, Serialize};

/// The outcome of enforcing every enabled policy on one sign-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Enforcement {
    /// What happens now.
    pub decision: Decision,
    /// One entry per policy, enabled or not, in input order.
    pub policies: Vec<PolicyResult>,
}

/// Allow, block, or the controls the user must still satisfy in this session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Decision {
    /// Every applicable enabled policy is satisfied.
    Allow,
    /// An applicable enabled policy blocks, or requires a control this sign-in can never meet.
    Block {
        /// Ids of the policies that block.
        policy_ids: Vec<String>,
    },
    /// More is required before tokens may be issued.
    Require(Requirements),
}

/// Controls still missing. Each field is independent; all of them must be met.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Requirements {
    /// A second factor is needed (grant control `mfa`).
    pub mfa: bool,
    /// Each entry is an authentication strength still unmet: any one of its combinations
    /// (each a set of methods, e.g. `[password, sms]`) satisfies it.
    pub authentication_strengths: Vec<Vec<Vec<AuthMethod>>>,
    /// Sign-in frequency has lapsed: the first factor must be performed again (the flow
    /// engine restarts the sign-in with it). Whatever else is listed here (`mfa`, a
    /// strength) is then still needed from methods satisfied within the window.
    pub reauthentication: bool,
    /// The user must change their password (grant control `passwordChange`).
    pub password_change: bool,
    /// Ids of the policies that produced these requirements.
    pub policy_ids: Vec<String>,
}

/// One policy's result, as the Graph `appliedConditionalAccessPolicy.result` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyResult {
    /// The policy id.
    pub id: String,
    /// The policy display name.
    pub display_name: String,
    /// The log vocabulary result.
    pub result: PolicyOutcome,
    /// Why a policy did not apply (Graph `analysisReasons` values), empty when it applied.
    pub reasons: Vec<String>,
    /// For a policy that applied but is not satisfied, the controls still unmet, by their
    /// Graph names (`block`, `mfa`, `authenticationStrength`, `passwordChange`,
    /// `compliantDevice`, `domainJoinedDevice`, `approvedApplication`,
    /// `compliantApplication`) plus `signInFrequency` when reauthentication is due.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmet_controls: Vec<String>,
}

/// The sign-in log vocabulary for a policy's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PolicyOutcome {
    /// Applied, and its controls are satisfied.
    Success,
    /// Applied, and blocks or its controls are not satisfied yet.
    Failure,
    /// Enabled, but an assignment or condition did not match.
    NotApplied,
    /// The policy is off.
    NotEnabled,
    /// Report-only; would have been satisfied.
    ReportOnlySuccess,
    /// Report-only; would have blocked or failed.
    ReportOnlyFailure,
    /// Report-only; would not have applied.
    ReportOnlyNotApplied,
    /// Report-only; would have interrupted the user for a control (e.g. MFA).
    ReportOnlyInterrupted,
}
