//! A flow [`Reply`] (plus the next continuation token and, when tokens were issued,
//! the token response) → the HTTP status and JSON body of the reference.

use super::error::NativeError;
use crate::flow::{BlockReason, FlowError, Rejection, Reply};
use crate::time::Timestamp;
use serde_json::{Map, Value, json};

/// What every answer carries besides the reply: when, and the ids that tie a client's
/// report to the server's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// Now.
    pub now: Timestamp,
    /// `trace_id` (also the `x-ms-request-id` header): fresh per request.
    pub trace_id: String,
    /// `correlation_id`: the client's `client-request-id`, or a fresh id.
    pub correlation_id: String,
}

impl Meta {
    /// `timestamp` as Entra writes it: `2026-11-23 15:40:00Z`.
    pub fn timestamp(&self) -> String {
        crate::admin::rfc3339::format(self.now).replacen('T', " ", 1)
    }
}

/// An answer: status and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeResponse {
    /// 200, 400 or 500.
    pub status: u16,
    /// The body.
    pub body: Value,
}

/// The answer for a protocol error, with `continuation` when the flow goes on.
pub fn error_response(
    err: &NativeError,
    meta: &Meta,
    continuation: Option<&str>,
) -> NativeResponse {
    NativeResponse {
        status: err.status,
        body: err.body(meta, continuation),
    }
}

fn ok(fields: Value, continuation: Option<&str>) -> NativeResponse {
    let mut body = match fields {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    if let Some(token) = continuation {
        body.insert("continuation_token".into(), Value::from(token));
    }
    NativeResponse {
        status: 200,
        body: Value::Object(body),
    }
}

/// The answer for a reply. `continuation` is the new token when the flow continued at
/// a new key (`None` when it ended, or when a refused input left the client's token in
/// force). `tokens` is the token response body when the reply is `SignedIn`.
pub fn reply_response(
    reply: &Reply,
    continuation: Option<&str>,
    tokens: Option<&Value>,
    meta: &Meta,
) -> NativeResponse {
    match reply {
        Reply::Started | Reply::MethodChanged { .. } | Reply::Cancelled => {
            ok(json!({}), continuation)
        }
        Reply::PasswordRequired => ok(json!({"challenge_type": "password"}), continuation),
        Reply::Preverified => ok(json!({"challenge_type": "preverified"}), continuation),
        Reply::CodeSent {
            channel,
            target_label,
            target,
            code_length,
            interval,
            ..
        } => {
            let mut body = json!({
                "challenge_type": "oob",
                "binding_method": "prompt",
                "challenge_channel": channel.as_str(),
                "challenge_target_label": target_label,
                "code_length": code_length,
                "interval": interval,
            });
            if let (Some(t), Value::Object(map)) = (target, &mut body) {
                map.insert("challenge_target".into(), Value::from(t.expose().clone()));
            }
            ok(body, continuation)
        }
        Reply::Verified { expires_in } => match expires_in {
            Some(s) => ok(json!({"expires_in": s}), continuation),
            None => ok(json!({}), continuation),
        },
        Reply::ResetSubmitted { poll_interval } => {
            ok(json!({"poll_interval": poll_interval}), continuation)
        }
        Reply::ResetCompleted => ok(json!({"status": "succeeded"}), continuation),
        Reply::MfaMethods { methods } => {
            let list: Vec<Value> = methods
                .iter()
                .map(|m| {
                    json!({"id": m.id, "challenge_type": "oob",
                           "challenge_channel": m.channel.as_str(), "login_hint": m.login_hint})
                })
                .collect();
            ok(json!({"methods": list}), continuation)
        }
        Reply::RegistrationMethods { methods } => {
            let list: Vec<Value> = methods
                .iter()
                .map(|m| {
                    let mut v = json!({"id": m.id, "challenge_type": "oob",
                                       "challenge_channel": m.channel.as_str()});
                    if let (Some(hint), Value::Object(map)) = (&m.login_hint, &mut v) {
                        map.insert("login_hint".into(), Value::from(hint.expose().clone()));
                    }
                    v
                })
                .collect();
            ok(json!({"methods": list}), continuation)
        }
        Reply::Redirect { reason } => ok(
            json!({"challenge_type": "redirect", "redirect_reason": reason}),
            None,
        ),
        Reply::SignedIn { .. } => match tokens {
            Some(body) => NativeResponse {
                status: 200,
                body: body.clone(),
            },
            None => error_response(
                &NativeError::server_error("tokens were not issued"),
                meta,
                None,
            ),
        },
        _ => error_response(&reply_error(reply), meta, continuation),
    }
}

/// The protocol error for a reply that is not a success.
pub fn reply_error(reply: &Reply) -> NativeError {
    let native = reply.native();
    let description = describe(reply);
    let mut err = NativeError::new(native.error.unwrap_or("invalid_request"), description);
    err.suberror = native.suberror;
    err.error_codes = native.error_codes;
    match reply {
        Reply::AttributesRequired { attributes } => {
            let list: Vec<Value> = attributes
                .iter()
                .map(|a| {
                    let mut v =
                        json!({"name": a.name, "type": attribute_type(a), "required": a.required});
                    if let (Some(re), Value::Object(map)) = (&a.regex, &mut v) {
                        map.insert("options".into(), json!({"regex": re}));
                    }
                    v
                })
                .collect();
            err.with("required_attributes", Value::from(list))
        }
        Reply::Rejected {
            rejection: Rejection::AttributeValidationFailed { attributes },
        } => {
            let list: Vec<Value> = attributes
                .iter()
                .map(|n| json!({"name": n, "reason": "the value is not valid for this attribute"}))
                .collect();
            err.with("invalid_attributes", Value::from(list))
        }
        Reply::Rejected {
            rejection: Rejection::ResendTooSoon { retry_after },
        } => err.with("retry_after", Value::from(*retry_after)),
        _ => err,
    }
}

/// The `type` MSAL shows for an attribute.
fn attribute_type(a: &crate::flow::attributes::AttributeSpec) -> &'static str {
    use crate::flow::attributes::AttributeType;
    match a.data_type {
        AttributeType::String => "string",
        AttributeType::Boolean => "boolean",
        AttributeType::Int64 => "int",
        AttributeType::StringCollection => "stringCollection",
    }
}

fn with_code(codes: &[u32], text: &str) -> String {
    match codes.first() {
        Some(code) => format!("AADSTS{code}: {text}"),
        None => text.to_string(),
    }
}

fn describe(reply: &Reply) -> String {
    let codes = reply.native().error_codes;
    let text = match reply {
        Reply::CredentialRequired => "a password is required to complete sign-up",
        Reply::AttributesRequired { .. } => "user attributes are required to complete sign-up",
        Reply::MfaRequired { .. } => "multifactor authentication is required",
        Reply::RegistrationRequired { .. } => {
            "strong authentication is required: register a method first"
        }
        Reply::ReauthenticationRequired => "the user must authenticate again",
        Reply::PasswordChangeRequired => "the password must be changed",
        Reply::Blocked { reason, .. } => match reason {
            BlockReason::Policy => "access has been blocked by conditional access policies",
            BlockReason::Unsatisfiable => "the access policy cannot be satisfied by this flow",
            BlockReason::NoUsableSecondFactor => {
                "a second factor is required and none can be used or registered"
            }
            BlockReason::RiskWithoutRegisteredMethod => {
                "this sign-in is risky and the user has no registered method"
            }
            BlockReason::PasswordChangeImpossible => {
                "a password change is required and the account has no password"
            }
            BlockReason::SmsRegionBlocked => {
                "the tenant administrator has blocked the phone region; try another verification method"
            }
        },
        Reply::Rejected { rejection } => rejection_text(rejection),
        _ => "the request was refused",
    };
    with_code(&codes, text)
}

fn rejection_text(r: &Rejection) -> &'static str {
    match r {
        Rejection::UnauthorizedClient => {
            "the application was not found or is not enabled for native authentication"
        }
        Rejection::SignUpDisabled => "sign-up is not enabled for this application",
        Rejection::UserNotFound => "the user account does not exist",
        Rejection::UserAlreadyExists => "a user with this username already exists",
        Rejection::PasswordResetUnavailable => "this account has no password to reset",
        Rejection::InvalidPassword => {
            "Error validating credentials due to invalid username or password"
        }
        Rejection::PasswordRefused { .. } => "the new password does not meet the requirements",
        Rejection::InvalidCode { .. } => "the code is not valid",
        Rejection::CodeExpired => "the code has expired; ask for a new one",
        Rejection::CodeAttemptsExhausted => "the code was tried too often; ask for a new one",
        Rejection::ResendTooSoon { .. } => "a new code was asked for too soon; wait and retry",
        Rejection::TooManyCodes => "too many codes were sent in this flow",
        Rejection::AccountLocked { .. } => {
            "the account is locked after too many failed attempts; try again later"
        }
        Rejection::AttributeValidationFailed { .. } => "some attribute values are not valid",
        Rejection::InvalidTarget => "the phone number or email address is not valid",
        Rejection::ChannelNotAllowed => "this method is not allowed by the administrator",
        Rejection::MethodNotFound => "no such method",
        Rejection::SmsRegionBlocked { .. } => {
            "the tenant administrator has blocked the phone region; try another verification method"
        }
        Rejection::FlowExpired => "the continuation token is expired; start the flow again",
    }
}

/// The protocol error for a step that could not run. Input the step does not take is
/// `invalid_request`; an account that vanished mid-flow is `invalid_grant`; faults of
/// the server's own configuration or entropy are `server_error` (500).
pub fn flow_error(e: &FlowError) -> NativeError {
    match e {
        FlowError::InvalidInput { field, .. } if field == "input.email" => {
            NativeError::invalid_username()
        }
        FlowError::UnexpectedInput { .. }
        | FlowError::NoFlow
        | FlowError::FlowInProgress
        | FlowError::InvalidInput { .. }
        | FlowError::Json { .. } => NativeError::invalid_request(e.to_string()),
        FlowError::UserRequired | FlowError::UserMismatch => NativeError::new(
            "invalid_grant",
            "the account of this flow no longer exists; start again",
        ),
        FlowError::EntropyExhausted
        | FlowError::Config { .. }
        | FlowError::KeyTooShort
        | FlowError::CorruptPasswordHash => NativeError::server_error(format!(
            "the server could not complete the step ({})",
            e.code()
        )),
    }
}
