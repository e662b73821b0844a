//! The sign-in log record: a subset of Graph `signIn`, built from the flow's evidence.
//!
//! Choices where Graph leaves room (all tested below):
//!
//! - `status.errorCode` uses Entra's AADSTS numbers: `0` success, `50126` wrong password,
//!   `50034` unknown user, `700016` unknown app, `50053` locked account, `50181` a wrong
//!   or expired one-time code as first factor, `500121` a failed second factor, `53003`
//!   blocked by Conditional Access, `53004` a second factor required that the user cannot
//!   give or register. `failureReason` is a short text; `null` on success.
//! - `conditionalAccessStatus` reads the **enabled** policies only (report-only results
//!   never change it, as in Entra): `failure` if one failed, else `success` if one
//!   applied, else `notApplied` (also when Conditional Access did not run: it runs after
//!   the first factor, so a wrong password or an unknown user has no policy results).
//! - `appliedConditionalAccessPolicies[].result` is the engine's result, report-only
//!   results included; `enforcedGrantControls` lists an applying policy's controls.
//! - `authenticationRequirement` is `multiFactorAuthentication` when an enabled policy
//!   that applied asks for MFA or an authentication strength, or a second factor was
//!   performed or tried (the user flow's "MFA always" setting); otherwise
//!   `singleFactorAuthentication`.
//! - `authenticationMethodsUsed` names the methods that succeeded (`Password`,
//!   `Email OTP`, `SMS`); `authenticationDetails` lists every step, failed ones too.
//!
//! A record holds ids, the email (`userPrincipalName`) and the client IP, never a code,
//! password, token or phone number: the evidence it is built from has none.

use super::evidence::{AuthStep, SignInEvidence, SignInOutcome};
use crate::admin::rfc3339;
use crate::flow::reply::{BlockReason, Rejection, Reply};
use crate::flow::{AuditEvent, FlowKind};
use crate::pii::Pii;
use crate::policy::AuthMethod;
use crate::policy::decision::PolicyOutcome;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One sign-in attempt, as `GET /auditLogs/signIns` returns it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInRecord {
    /// The record id (a UUID the adapter chose).
    pub id: String,
    /// When the attempt ended, RFC 3339 UTC.
    pub created_date_time: String,
    /// The user's object id; `null` when no account matched.
    pub user_id: Option<String>,
    /// The email the attempt named. Personal data: shown to admins, never logged.
    pub user_principal_name: Pii<String>,
    /// The client (app) id.
    pub app_id: String,
    /// The client IP, when known. Personal data.
    pub ip_address: Option<Pii<String>>,
    /// Always `true`: every native-auth sign-in is interactive.
    pub is_interactive: bool,
    /// Where the client was.
    pub location: Location,
    /// Success (`errorCode` 0) or why not.
    pub status: Status,
    /// `success`, `failure` or `notApplied`, from the enabled policies.
    pub conditional_access_status: String,
    /// Every Conditional Access policy with its result.
    pub applied_conditional_access_policies: Vec<AppliedConditionalAccessPolicy>,
    /// Each authentication step.
    pub authentication_details: Vec<AuthenticationDetail>,
    /// The methods that succeeded.
    pub authentication_methods_used: Vec<String>,
    /// `singleFactorAuthentication` or `multiFactorAuthentication`.
    pub authentication_requirement: String,
}

/// Graph `signInLocation` (the part we know).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    /// ISO 3166-1 alpha-2 country, when known.
    pub country_or_region: Option<String>,
}

/// Graph `signInStatus`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// `0` on success, else an AADSTS number.
    pub error_code: u32,
    /// Why it failed; `null` on success.
    pub failure_reason: Option<String>,
}

/// Graph `appliedConditionalAccessPolicy`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedConditionalAccessPolicy {
    /// The policy id.
    pub id: String,
    /// Its display name.
    pub display_name: String,
    /// The grant controls of a policy that applied.
    pub enforced_grant_controls: Vec<String>,
    /// Session controls are not reported yet: always empty.
    pub enforced_session_controls: Vec<String>,
    /// `success`, `failure`, `notApplied`, `notEnabled` or a `reportOnly…` value.
    pub result: PolicyOutcome,
}

/// Graph `authenticationDetail`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationDetail {
    /// `Password`, `Email OTP` or `SMS`.
    pub authentication_method: String,
    /// When the step happened.
    pub authentication_step_date_time: String,
    /// `Primary authentication` or `Multifactor authentication`.
    pub authentication_step_requirement: String,
    /// What happened, in words.
    pub authentication_step_result_detail: String,
    /// Whether the step succeeded.
    pub succeeded: bool,
}

/// The fields a list query filters on, small enough for KV list metadata (so a query
/// reads only the records it returns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInSummary {
    /// `createdDateTime` in seconds since the epoch.
    #[serde(rename = "t")]
    pub at: u64,
    /// `userId`.
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// `userPrincipalName`, lowercased.
    #[serde(rename = "p")]
    pub user_principal_name: String,
    /// `appId`.
    #[serde(rename = "a")]
    pub app_id: String,
    /// `status.errorCode`.
    #[serde(rename = "e")]
    pub error_code: u32,
    /// `conditionalAccessStatus`.
    #[serde(rename = "c")]
    pub conditional_access_status: String,
}

/// Builds the record for the attempt `event` reports, under the id `id`.
pub fn build(id: &str, event: &AuditEvent, evidence: &SignInEvidence) -> SignInRecord {
    let (error_code, failure_reason) = status(&evidence.outcome);
    let policies = evidence.conditional_access.as_deref().unwrap_or_default();
    SignInRecord {
        id: id.to_string(),
        created_date_time: rfc3339::format(event.at),
        user_id: event.user_id.clone(),
        user_principal_name: evidence.user_principal_name.clone(),
        app_id: event.app_id.clone(),
        ip_address: evidence.ip_address.clone(),
        is_interactive: true,
        location: Location {
            country_or_region: evidence.country.clone(),
        },
        status: Status {
            error_code,
            failure_reason: failure_reason.map(str::to_string),
        },
        conditional_access_status: ca_status(policies).to_string(),
        applied_conditional_access_policies: policies
            .iter()
            .map(|p| AppliedConditionalAccessPolicy {
                id: p.id.clone(),
                display_name: p.display_name.clone(),
                enforced_grant_controls: p.enforced_grant_controls.clone(),
                enforced_session_controls: Vec::new(),
                result: p.result,
            })
            .collect(),
        authentication_details: evidence
            .steps
            .iter()
            .map(|s| detail(s, event.flow, failure_reason))
            .collect(),
        authentication_methods_used: methods_used(&evidence.steps),
        authentication_requirement: requirement(evidence).to_string(),
    }
}

impl SignInSummary {
    /// The filterable fields of `record`.
    pub fn of(record: &SignInRecord) -> SignInSummary {
        SignInSummary {
            at: rfc3339_seconds(&record.created_date_time),
            user_id: record.user_id.clone(),
            user_principal_name: record.user_principal_name.expose().to_lowercase(),
            app_id: record.app_id.clone(),
            error_code: record.status.error_code,
            conditional_access_status: record.conditional_access_status.clone(),
        }
    }
}

impl SignInSummary {
    /// The filterable fields of a stored record's JSON (for a record stored without list
    /// metadata); `None` if it is not a record.
    pub fn from_record_json(record: &Value) -> Option<SignInSummary> {
        let text = |v: &Value| v.as_str().map(str::to_string);
        Some(SignInSummary {
            at: rfc3339_seconds(record.get("createdDateTime")?.as_str()?),
            user_id: record.get("userId").and_then(text),
            user_principal_name: record.get("userPrincipalName")?.as_str()?.to_lowercase(),
            app_id: text(record.get("appId")?)?,
            error_code: u32::try_from(record.get("status")?.get("errorCode")?.as_u64()?).ok()?,
            conditional_access_status: text(record.get("conditionalAccessStatus")?)?,
        })
    }
}

fn rfc3339_seconds(text: &str) -> u64 {
    super::datetime::parse_millis(text)
        .map(|ms| ms / 1000)
        .unwrap_or_default()
}

/// `status.errorCode` and `failureReason` for an outcome.
fn status(outcome: &SignInOutcome) -> (u32, Option<&'static str>) {
    match outcome {
        SignInOutcome::Success => (0, None),
        SignInOutcome::Rejected {
            rejection,
            second_factor,
        } => rejected(rejection, *second_factor),
        // Entra's "strong authentication is required" interrupt: the sign-in was not
        // refused, it has to go on in the browser.
        SignInOutcome::Interrupted => (
            50_074,
            Some("the sign-in needs a step this client cannot run; it was handed to the browser"),
        ),
        SignInOutcome::Blocked(reason) => {
            let code = Reply::Blocked {
                reason: *reason,
                policy_ids: Vec::new(),
            }
            .native()
            .error_codes
            .first()
            .copied()
            .unwrap_or(53003);
            let text = match reason {
                BlockReason::Policy => "access has been blocked by conditional access policies",
                BlockReason::Unsatisfiable => {
                    "conditional access requires a control this sign-in cannot satisfy"
                }
                BlockReason::NoUsableSecondFactor => {
                    "a second factor is required and the user has none usable or registrable"
                }
                BlockReason::RiskWithoutRegisteredMethod => {
                    "a risky sign-in needs a registered second factor and the user has none"
                }
                BlockReason::PasswordChangeImpossible => {
                    "a password change is required of an account without a password"
                }
                BlockReason::SmsRegionBlocked => {
                    "the only second factor is an SMS number in a region the app does not allow"
                }
            };
            (code, Some(text))
        }
    }
}

fn rejected(rejection: &Rejection, second_factor: bool) -> (u32, Option<&'static str>) {
    let code_texts = match rejection {
        Rejection::InvalidCode { .. } => Some((
            "the one-time code is wrong",
            "second-factor authentication failed: the code is wrong",
        )),
        Rejection::CodeExpired => Some((
            "the one-time code has expired",
            "second-factor authentication failed: the code has expired",
        )),
        Rejection::CodeAttemptsExhausted => Some((
            "the one-time code had too many wrong tries",
            "second-factor authentication failed: the code had too many wrong tries",
        )),
        _ => None,
    };
    if let Some((first, second)) = code_texts {
        return if second_factor {
            (500121, Some(second))
        } else {
            (50181, Some(first))
        };
    }
    match rejection {
        Rejection::InvalidPassword => (50126, Some("invalid username or password")),
        Rejection::UserNotFound => (50034, Some("the user account does not exist")),
        Rejection::UnauthorizedClient => (
            700016,
            Some("the application is not served by this tenant's user flow"),
        ),
        Rejection::AccountLocked { .. } => (
            50053,
            Some("the account is locked after too many failed attempts"),
        ),
        other => (
            other.native().error_codes.first().copied().unwrap_or(50000),
            Some("the sign-in was refused"),
        ),
    }
}

/// Enabled policies only: report-only results never change the sign-in's status.
fn ca_status(policies: &[super::AppliedPolicy]) -> &'static str {
    let any = |r: PolicyOutcome| policies.iter().any(|p| p.result == r);
    if any(PolicyOutcome::Failure) {
        "failure"
    } else if any(PolicyOutcome::Success) {
        "success"
    } else {
        "notApplied"
    }
}

fn requirement(evidence: &SignInEvidence) -> &'static str {
    let policy_asks = evidence
        .conditional_access
        .as_deref()
        .unwrap_or_default()
        .iter()
        .filter(|p| matches!(p.result, PolicyOutcome::Success | PolicyOutcome::Failure))
        .flat_map(|p| &p.enforced_grant_controls)
        .any(|c| c == "mfa" || c == "authenticationStrength");
    let second_factor = evidence
        .steps
        .iter()
        .any(|s| !s.primary && !s.previously_satisfied);
    if policy_asks || second_factor {
        "multiFactorAuthentication"
    } else {
        "singleFactorAuthentication"
    }
}

fn method_name(method: AuthMethod) -> &'static str {
    match method {
        AuthMethod::Password => "Password",
        AuthMethod::Email => "Email OTP",
        AuthMethod::Sms => "SMS",
    }
}

fn methods_used(steps: &[AuthStep]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in steps.iter().filter(|s| s.succeeded) {
        let name = method_name(s.method);
        if !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    }
    out
}

/// One step; a failed step's result is the attempt's failure reason (only the last
/// step can fail).
fn detail(step: &AuthStep, flow: FlowKind, failure_reason: Option<&str>) -> AuthenticationDetail {
    let chose_password = matches!(flow, FlowKind::SignUp | FlowKind::PasswordReset);
    let result = match (step.previously_satisfied, step.succeeded, step.method) {
        (true, _, _) => "previously satisfied",
        (false, true, AuthMethod::Password) if chose_password => "password set in this flow",
        (false, true, AuthMethod::Password) => "correct password",
        (false, true, _) => "correct code",
        (false, false, _) => failure_reason.unwrap_or("failed"),
    };
    AuthenticationDetail {
        authentication_method: method_name(step.method).to_string(),
        authentication_step_date_time: rfc3339::format(step.at),
        authentication_step_requirement: if step.primary {
            "Primary authentication"
        } else {
            "Multifactor authentication"
        }
        .to_string(),
        authentication_step_result_detail: result.to_string(),
        succeeded: step.succeeded,
    }
}

#[cfg(test)]
#[path = "sign_in_tests.rs"]
mod tests;
