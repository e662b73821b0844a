//! What a step answers, shaped after the native-auth responses so the Worker can map
//! each variant to one HTTP response ([`Reply::native`] gives the status, `error`,
//! `suberror`, `error_codes` and `challenge_type` to use).

use super::attributes::AttributeSpec;
use super::channel::Channel;
use super::password::PasswordProblem;
use crate::pii::Pii;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The answer to one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Reply {
    /// The flow started (`initiate`, `signup/start`, `resetpassword/start`: 200).
    Started,
    /// Ask for the password (`challenge_type: password`).
    PasswordRequired,
    /// A code was sent (`challenge_type: oob`).
    CodeSent {
        /// Email or SMS (`challenge_channel`).
        channel: Channel,
        /// Masked destination (`challenge_target_label`).
        target_label: String,
        /// The destination as entered, for registration (`challenge_target`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<Pii<String>>,
        /// Digits (`code_length`).
        code_length: u8,
        /// Seconds before a resend is allowed (`interval`).
        interval: u64,
        /// Seconds the code stays valid.
        expires_in: u64,
    },
    /// The email to register was verified earlier in this flow (`challenge_type: preverified`).
    Preverified,
    /// Sign-up needs a password next (`credential_required`).
    CredentialRequired,
    /// Sign-up needs these attributes next (`attributes_required`).
    AttributesRequired {
        /// The attributes still missing.
        attributes: Vec<AttributeSpec>,
    },
    /// A step succeeded and the flow continues (`signup/continue`, `register/continue`,
    /// `resetpassword/continue`: 200).
    Verified {
        /// Seconds left for the next step (`expires_in` after a reset code).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_in: Option<u64>,
    },
    /// The new password was accepted (`resetpassword/submit`: 200).
    ResetSubmitted {
        /// Seconds between polls.
        poll_interval: u64,
    },
    /// `poll_completion`: `succeeded`.
    ResetCompleted,
    /// A second factor is needed and the user has these methods (`mfa_required`).
    MfaRequired {
        /// Usable registered methods.
        methods: Vec<MfaMethod>,
    },
    /// The methods list (`/oauth2/v2.0/introspect`).
    MfaMethods {
        /// Usable registered methods.
        methods: Vec<MfaMethod>,
    },
    /// A second factor is needed and none is registered (`registration_required`).
    RegistrationRequired {
        /// Methods that may be registered.
        methods: Vec<RegistrationMethod>,
    },
    /// The registration methods list (`/register/v1.0/introspect`).
    RegistrationMethods {
        /// Methods that may be registered.
        methods: Vec<RegistrationMethod>,
    },
    /// A step-up needs the first factor again (sign-in frequency); send `challenge`.
    ReauthenticationRequired,
    /// Conditional Access requires a password change; send the new password.
    PasswordChangeRequired,
    /// Tokens were issued (see the `IssueTokens` effect).
    SignedIn {
        /// The user.
        user_id: String,
        /// RFC 8176 values.
        amr: Vec<String>,
        /// `1` or `2`.
        acr: String,
    },
    /// A strong method was added, replaced or removed.
    MethodChanged {
        /// The new method id (add, replace) or the removed one.
        method_id: String,
    },
    /// The client lacks a capability the flow needs (`challenge_type: redirect`).
    Redirect {
        /// `redirect_reason`.
        reason: String,
    },
    /// No tokens, and the flow is over.
    Blocked {
        /// Why.
        reason: BlockReason,
        /// The policies that caused it, if any.
        policy_ids: Vec<String>,
    },
    /// The user cancelled; nothing was issued.
    Cancelled,
    /// The input was refused; see whether a state came back to know if the flow goes on.
    Rejected {
        /// Why.
        rejection: Rejection,
    },
}

/// A registered method offered as a second factor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MfaMethod {
    /// The method id (`id` for `/oauth2/v2.0/challenge`).
    pub id: String,
    /// Email or SMS.
    pub channel: Channel,
    /// Masked target (`login_hint`).
    pub login_hint: String,
}

/// A method that may be registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationMethod {
    /// `email` or `sms`.
    pub id: String,
    /// Email or SMS.
    pub channel: Channel,
    /// Prefill (`login_hint`): the account email for the email method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_hint: Option<Pii<String>>,
}

/// Why a flow ended without tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BlockReason {
    /// A Conditional Access policy blocks.
    Policy,
    /// A second factor is required and the user has none usable and can register none
    /// (e.g. an email-OTP account while SMS is disabled).
    NoUsableSecondFactor,
    /// A risky sign-in for a user with no registered method (Entra AADSTS53004).
    RiskWithoutRegisteredMethod,
    /// The policy requires something this flow cannot provide.
    Unsatisfiable,
    /// A password change is required of an account without a password.
    PasswordChangeImpossible,
    /// The only second factor is an SMS number in a region the app does not allow.
    SmsRegionBlocked,
}

/// Why an input was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "code",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum Rejection {
    /// The app is not served by this user flow.
    UnauthorizedClient,
    /// The user flow does not allow sign-up.
    SignUpDisabled,
    /// No account has this email.
    UserNotFound,
    /// An account has this email already.
    UserAlreadyExists,
    /// The account has no password to reset (email one-time passcode account).
    PasswordResetUnavailable,
    /// Wrong password.
    InvalidPassword,
    /// A new password was refused.
    PasswordRefused {
        /// The native-auth suberror.
        problem: PasswordProblem,
    },
    /// Wrong code.
    InvalidCode {
        /// Tries left for this code.
        attempts_left: u8,
    },
    /// The code is past its lifetime; ask for a new one.
    CodeExpired,
    /// The code had too many wrong tries; ask for a new one.
    CodeAttemptsExhausted,
    /// A new code was asked for too soon.
    ResendTooSoon {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// The step or flow sent as many codes as allowed.
    TooManyCodes,
    /// Too many failures on this account.
    AccountLocked {
        /// Until when; absent when the account is disabled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<Timestamp>,
    },
    /// Attribute values failed validation.
    AttributeValidationFailed {
        /// The attribute ids at fault.
        attributes: Vec<String>,
    },
    /// Not a valid E.164 phone number or email address.
    InvalidTarget,
    /// This channel may not be registered or used by this user.
    ChannelNotAllowed,
    /// No such method.
    MethodNotFound,
    /// SMS to this number's region is off for this app (default opt-in list or the
    /// app's `onPhoneMethodLoadStartListener`).
    SmsRegionBlocked {
        /// The region code (`234`, `1876`).
        region: u16,
    },
    /// The flow is too old; start again.
    FlowExpired,
}

/// How a reply maps to a native-auth HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Native {
    /// HTTP status: 200, or 400 for every protocol error (reference §1: MSAL Android
    /// takes anything but 200 and 400 for an unknown error, so a resend asked for too
    /// soon is a 400 `slow_down` with `retry_after`, not a 429).
    pub status: u16,
    /// `error`.
    pub error: Option<&'static str>,
    /// `suberror`.
    pub suberror: Option<&'static str>,
    /// `error_codes`.
    pub error_codes: Vec<u32>,
    /// `challenge_type` on 200 answers.
    pub challenge_type: Option<&'static str>,
}

impl Native {
    fn ok(challenge_type: Option<&'static str>) -> Self {
        Native {
            status: 200,
            error: None,
            suberror: None,
            error_codes: Vec::new(),
            challenge_type,
        }
    }

    fn err(
        status: u16,
        error: &'static str,
        suberror: Option<&'static str>,
        code: Option<u32>,
    ) -> Self {
        Native {
            status,
            error: Some(error),
            suberror,
            error_codes: code.into_iter().collect(),
            challenge_type: None,
        }
    }
}

impl Reply {
    /// The native-auth response this reply maps to (error codes are Entra's where
    /// known; see the reference for which are confirmed).
    pub fn native(&self) -> Native {
        match self {
            Reply::Started
            | Reply::Verified { .. }
            | Reply::ResetSubmitted { .. }
            | Reply::ResetCompleted
            | Reply::MfaMethods { .. }
            | Reply::RegistrationMethods { .. }
            | Reply::SignedIn { .. }
            | Reply::MethodChanged { .. }
            | Reply::Cancelled => Native::ok(None),
            Reply::PasswordRequired => Native::ok(Some("password")),
            Reply::CodeSent { .. } => Native::ok(Some("oob")),
            Reply::Preverified => Native::ok(Some("preverified")),
            Reply::Redirect { .. } => Native::ok(Some("redirect")),
            Reply::CredentialRequired => Native::err(400, "credential_required", None, Some(55103)),
            Reply::AttributesRequired { .. } => {
                Native::err(400, "attributes_required", None, Some(55106))
            }
            Reply::MfaRequired { .. } => {
                Native::err(400, "invalid_grant", Some("mfa_required"), Some(50076))
            }
            Reply::RegistrationRequired { .. } => Native::err(
                400,
                "invalid_grant",
                Some("registration_required"),
                Some(50076),
            ),
            Reply::ReauthenticationRequired => {
                Native::err(400, "insufficient_user_authentication", None, None)
            }
            Reply::PasswordChangeRequired => Native::err(400, "invalid_request", None, Some(50142)),
            Reply::Blocked { reason, .. } => match reason {
                BlockReason::Policy | BlockReason::Unsatisfiable => {
                    Native::err(400, "access_denied", None, Some(53003))
                }
                BlockReason::NoUsableSecondFactor
                | BlockReason::RiskWithoutRegisteredMethod
                | BlockReason::PasswordChangeImpossible => {
                    Native::err(400, "access_denied", None, Some(53004))
                }
                BlockReason::SmsRegionBlocked => Native::err(
                    400,
                    "access_denied",
                    Some("provider_blocked_by_admin"),
                    None,
                ),
            },
            Reply::Rejected { rejection } => rejection.native(),
        }
    }
}

impl Rejection {
    /// The native-auth error for this rejection.
    pub fn native(&self) -> Native {
        let otp = Some("invalid_oob_value");
        match self {
            // AADSTS700016, as the request parser sends for a malformed client id: a client
            // sees the same code whether the id is malformed or just not served here.
            Rejection::UnauthorizedClient => {
                Native::err(400, "unauthorized_client", None, Some(700016))
            }
            Rejection::SignUpDisabled
            | Rejection::PasswordResetUnavailable
            | Rejection::MethodNotFound => Native::err(400, "invalid_request", None, None),
            Rejection::UserNotFound => Native::err(400, "user_not_found", None, None),
            Rejection::UserAlreadyExists => {
                Native::err(400, "user_already_exists", None, Some(1003037))
            }
            Rejection::InvalidPassword => Native::err(400, "invalid_grant", None, Some(50126)),
            Rejection::PasswordRefused { problem } => {
                Native::err(400, "invalid_grant", Some(problem.suberror()), Some(399246))
            }
            Rejection::InvalidCode { .. }
            | Rejection::CodeExpired
            | Rejection::CodeAttemptsExhausted => {
                Native::err(400, "invalid_grant", otp, Some(50181))
            }
            Rejection::ResendTooSoon { .. } | Rejection::TooManyCodes => {
                Native::err(400, "slow_down", None, None)
            }
            Rejection::AccountLocked { .. } => Native::err(400, "invalid_grant", None, Some(50053)),
            Rejection::AttributeValidationFailed { .. } => Native::err(
                400,
                "invalid_grant",
                Some("attribute_validation_failed"),
                None,
            ),
            Rejection::InvalidTarget => Native::err(400, "invalid_request", None, Some(901001)),
            Rejection::ChannelNotAllowed | Rejection::SmsRegionBlocked { .. } => Native::err(
                400,
                "access_denied",
                Some("provider_blocked_by_admin"),
                None,
            ),
            Rejection::FlowExpired => Native::err(400, "expired_token", None, Some(552003)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mfa_outcomes_map_to_the_native_suberrors() {
        let n = Reply::MfaRequired { methods: vec![] }.native();
        assert_eq!(
            (n.status, n.error, n.suberror),
            (400, Some("invalid_grant"), Some("mfa_required"))
        );
        let n = Reply::RegistrationRequired { methods: vec![] }.native();
        assert_eq!(n.suberror, Some("registration_required"));
        let n = Reply::Rejected {
            rejection: Rejection::PasswordRefused {
                problem: PasswordProblem::PasswordTooWeak,
            },
        }
        .native();
        assert_eq!(n.suberror, Some("password_too_weak"));
    }

    #[test]
    fn rejections_serialize_with_a_stable_code() {
        let json = serde_json::to_value(Reply::Rejected {
            rejection: Rejection::InvalidCode { attempts_left: 3 },
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "rejected", "rejection": {"code": "invalid_code", "attemptsLeft": 3}})
        );
    }
}
