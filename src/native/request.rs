//! One form body → one [`NativeRequest`]: a start input, a step input with its
//! continuation token, or a refresh. Every parameter rule of the reference lives here;
//! the Worker only looks up state and runs the flow.

use super::endpoint::Endpoint;
use super::error::NativeError;
use super::form::Form;
use super::params;
use crate::flow::{
    Channel, ClientFacts, FlowInput, FlowState, StartPasswordReset, StartSignIn, StartSignUp,
};
use crate::pii::{Pii, Secret};
use serde_json::{Map, Value};

/// The grant of a token or continue call, kept so the step check can refuse e.g.
/// `mfa_oob` for a first-factor code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// `password`.
    Password,
    /// `oob`: a one-time code (first factor, sign-up, reset, registration; or MFA, as
    /// the 2025 docs sent it).
    Oob,
    /// `mfa_oob`: a second-factor code.
    MfaOob,
    /// `continuation_token`: redeem a finished sign-up, reset or registration.
    ContinuationToken,
    /// `attributes`: sign-up attributes.
    Attributes,
}

/// What one request asks for.
#[derive(Debug, Clone)]
pub enum NativeRequest {
    /// Open a flow (`initiate`, `signup/start`, `resetpassword/start`).
    Start {
        /// The endpoint.
        endpoint: Endpoint,
        /// `client_id`.
        client_id: String,
        /// The start input (it carries the username).
        input: FlowInput,
    },
    /// Continue a flow.
    Step {
        /// The endpoint.
        endpoint: Endpoint,
        /// `client_id`.
        client_id: String,
        /// `continuation_token`, as presented.
        continuation_token: Secret<String>,
        /// The step input.
        input: FlowInput,
        /// The grant, on token and continue calls.
        grant: Option<Grant>,
        /// `scope` (token calls; defaulted).
        scope: String,
        /// `username` on a `continuation_token` grant, which must name the flow's account.
        username: Option<Pii<String>>,
    },
    /// `grant_type=refresh_token` at `/oauth2/v2.0/token`.
    Refresh {
        /// `client_id`.
        client_id: String,
        /// `refresh_token`, as presented.
        refresh_token: Secret<String>,
        /// `scope` (defaulted).
        scope: String,
    },
}

impl NativeRequest {
    /// The username of a start request (the account to look up), as sent.
    pub fn start_username(&self) -> Option<&Pii<String>> {
        match self {
            NativeRequest::Start { input, .. } => match input {
                FlowInput::StartSignIn(s) => Some(&s.email),
                FlowInput::StartSignUp(s) => Some(&s.email),
                FlowInput::StartPasswordReset(s) => Some(&s.email),
                _ => None,
            },
            _ => None,
        }
    }

    /// The flow input, for start and step requests.
    pub fn into_input(self) -> Option<FlowInput> {
        match self {
            NativeRequest::Start { input, .. } | NativeRequest::Step { input, .. } => Some(input),
            NativeRequest::Refresh { .. } => None,
        }
    }

    /// The `client_id` of the request.
    pub fn client_id(&self) -> &str {
        match self {
            NativeRequest::Start { client_id, .. }
            | NativeRequest::Step { client_id, .. }
            | NativeRequest::Refresh { client_id, .. } => client_id,
        }
    }
}

/// A client id as Entra issues them (a GUID) or a simple app name: 1 to 128 of
/// `A-Z a-z 0-9 - . _`. Anything else is refused before it reaches the flow or a log.
fn client_id(form: &Form) -> Result<String, NativeError> {
    let id = form.require("client_id")?;
    let ok = id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if ok {
        Ok(id.to_string())
    } else {
        Err(NativeError::unauthorized_client())
    }
}

/// `username`: required, and an email address.
fn username(form: &Form) -> Result<Pii<String>, NativeError> {
    let name = form
        .get("username")
        .ok_or_else(NativeError::invalid_username)?;
    if crate::flow::contact::normalize_email(name).is_none() {
        return Err(NativeError::invalid_username());
    }
    Ok(Pii::new(name.to_string()))
}

/// A JSON-object parameter (`attributes`).
fn json_object(form: &Form, name: &str) -> Result<Map<String, Value>, NativeError> {
    match form.get(name) {
        None => Ok(Map::new()),
        Some(text) => match crate::policy::json::parse(text) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(NativeError::invalid_request(format!(
                "the `{name}` parameter must be a JSON object"
            ))),
        },
    }
}

fn secret(form: &Form, name: &str) -> Result<Secret<String>, NativeError> {
    form.require(name).map(|v| Secret::new(v.to_string()))
}

/// Reads the request for `endpoint`. `facts` are what the Worker knows about the
/// caller (IP, country) for Conditional Access.
pub fn parse(
    endpoint: Endpoint,
    form: &Form,
    facts: &ClientFacts,
) -> Result<NativeRequest, NativeError> {
    let client_id = client_id(form)?;
    let capabilities = || params::capabilities(form.get("capabilities"), form.get("capability"));
    if endpoint.is_start() {
        let email = username(form)?;
        let challenge_types = params::challenge_types(form.get("challenge_type"))?;
        let app_id = client_id.clone();
        let facts = facts.clone();
        let input = match endpoint {
            Endpoint::Initiate => FlowInput::StartSignIn(StartSignIn {
                app_id,
                email,
                capabilities: capabilities(),
                challenge_types,
                facts,
                auth_contexts: Vec::new(),
            }),
            Endpoint::SignUpStart => FlowInput::StartSignUp(StartSignUp {
                app_id,
                email,
                password: form.get("password").map(|p| Secret::new(p.to_string())),
                attributes: json_object(form, "attributes")?,
                capabilities: capabilities(),
                challenge_types,
                facts,
            }),
            _ => FlowInput::StartPasswordReset(StartPasswordReset {
                app_id,
                email,
                capabilities: capabilities(),
                facts,
            }),
        };
        return Ok(NativeRequest::Start {
            endpoint,
            client_id,
            input,
        });
    }
    let grant_type = form.get("grant_type");
    if endpoint == Endpoint::Token && grant_type == Some("refresh_token") {
        return Ok(NativeRequest::Refresh {
            client_id,
            refresh_token: secret(form, "refresh_token")?,
            scope: params::scope(form.get("scope")),
        });
    }
    // A grant this endpoint does not have is named as such, before the continuation
    // token it would not use is asked for (else `grant_type=client_credentials` would
    // be told to send a `continuation_token`). `authorization_code` never gets here: the
    // adapter hands it to the OpenID Connect code exchange.
    if endpoint == Endpoint::Token
        && let Some(given) = grant_type
        && !TOKEN_GRANTS.contains(&given)
    {
        return Err(NativeError::unsupported_grant_type(given));
    }
    let continuation_token = secret(form, "continuation_token")?;
    let (input, grant) = step_input(endpoint, form, grant_type)?;
    Ok(NativeRequest::Step {
        endpoint,
        client_id,
        continuation_token,
        input,
        grant,
        scope: params::scope(form.get("scope")),
        username: form.get("username").map(|u| Pii::new(u.to_string())),
    })
}

/// The grants `/oauth2/v2.0/token` takes with a continuation token (see `step_input`).
const TOKEN_GRANTS: [&str; 4] = ["password", "oob", "mfa_oob", "continuation_token"];

/// The flow input of a step endpoint.
fn step_input(
    endpoint: Endpoint,
    form: &Form,
    grant_type: Option<&str>,
) -> Result<(FlowInput, Option<Grant>), NativeError> {
    let challenge = || -> Result<FlowInput, NativeError> {
        Ok(FlowInput::Challenge {
            challenge_types: Some(params::challenge_types(form.get("challenge_type"))?),
        })
    };
    let code = || -> Result<FlowInput, NativeError> {
        Ok(FlowInput::SubmitCode {
            code: secret(form, "oob")?,
        })
    };
    let grant = |allowed: &[(&str, Grant)]| -> Result<Grant, NativeError> {
        let given = grant_type.ok_or_else(|| NativeError::missing("grant_type"))?;
        allowed
            .iter()
            .find(|(name, _)| *name == given)
            .map(|(_, g)| *g)
            .ok_or_else(|| NativeError::unsupported_grant_type(given))
    };
    Ok(match endpoint {
        Endpoint::Challenge => match form.get("id") {
            // The documented MFA challenge is `client_id`, `continuation_token` and `id`
            // (reference §2.2(b)); MSAL browser adds `challenge_type`, which must then
            // still include redirect.
            Some(id) => {
                if let Some(types) = form.get("challenge_type") {
                    params::challenge_types(Some(types))?;
                }
                (FlowInput::SelectMethod { id: id.to_string() }, None)
            }
            None => (challenge()?, None),
        },
        Endpoint::SignUpChallenge | Endpoint::ResetChallenge => (challenge()?, None),
        Endpoint::Introspect | Endpoint::RegisterIntrospect => (FlowInput::ListMethods, None),
        Endpoint::Token => {
            let g = grant(&[
                ("password", Grant::Password),
                ("oob", Grant::Oob),
                ("mfa_oob", Grant::MfaOob),
                ("continuation_token", Grant::ContinuationToken),
            ])?;
            let input = match g {
                Grant::Password => FlowInput::SubmitPassword {
                    password: secret(form, "password")?,
                },
                Grant::Oob | Grant::MfaOob => code()?,
                _ => FlowInput::RedeemContinuation,
            };
            (input, Some(g))
        }
        Endpoint::SignUpContinue => {
            let g = grant(&[
                ("oob", Grant::Oob),
                ("password", Grant::Password),
                ("attributes", Grant::Attributes),
            ])?;
            let input = match g {
                Grant::Oob => code()?,
                Grant::Password => FlowInput::SubmitPassword {
                    password: secret(form, "password")?,
                },
                _ => {
                    form.require("attributes")?;
                    FlowInput::SubmitAttributes {
                        attributes: json_object(form, "attributes")?,
                    }
                }
            };
            (input, Some(g))
        }
        Endpoint::ResetContinue => {
            let g = grant(&[("oob", Grant::Oob)])?;
            (code()?, Some(g))
        }
        Endpoint::ResetSubmit => (
            FlowInput::SubmitPassword {
                password: secret(form, "new_password")?,
            },
            None,
        ),
        Endpoint::ResetPollCompletion => (FlowInput::PollCompletion, None),
        Endpoint::RegisterChallenge => {
            params::register_challenge_type(form.get("challenge_type"))?;
            let target = form.require("challenge_target")?;
            let channel = match form.get("challenge_channel") {
                Some("email") => Channel::Email,
                Some("sms") => Channel::Sms,
                Some(other) => {
                    return Err(NativeError::invalid_request(format!(
                        "the challenge_channel `{}` is not supported; use `email` or `sms`",
                        other.chars().take(20).collect::<String>()
                    ))
                    .code(901_001));
                }
                None if target.contains('@') => Channel::Email,
                None => Channel::Sms,
            };
            (
                FlowInput::RegisterMethod {
                    channel,
                    target: Pii::new(target.to_string()),
                },
                None,
            )
        }
        Endpoint::RegisterContinue => {
            let g = grant(&[
                ("oob", Grant::Oob),
                ("continuation_token", Grant::ContinuationToken),
            ])?;
            let input = match g {
                Grant::Oob => code()?,
                _ => FlowInput::Continue,
            };
            (input, Some(g))
        }
        Endpoint::Initiate | Endpoint::SignUpStart | Endpoint::ResetStart => {
            return Err(NativeError::invalid_request("not a step endpoint"));
        }
    })
}

/// Checks that a step request fits the flow it continues: same client, an endpoint
/// that belongs to the flow's current step, `mfa_oob` only for a second factor, and
/// on a `continuation_token` grant a `username` (if given) naming the flow's account.
/// A refusal leaves the flow untouched.
pub fn check_step(req: &NativeRequest, state: &FlowState) -> Result<(), NativeError> {
    let NativeRequest::Step {
        endpoint,
        client_id,
        continuation_token,
        grant,
        username,
        input,
        ..
    } = req
    else {
        return Err(NativeError::invalid_request("not a step request"));
    };
    let common = state.common();
    if &common.app_id != client_id {
        return Err(NativeError::invalid_token("continuation token"));
    }
    if !endpoint.continues(state) {
        return Err(NativeError::invalid_request(format!(
            "AADSTS55200: the continuation token cannot be used at `{}` at this point of the flow",
            endpoint.path()
        ))
        .code(55_200));
    }
    // A second-factor challenge names its method (`id` from introspect). Without one it
    // is the older design's "challenge the default method" (reference §2.2, §12), which
    // MSAL Android handles: `introspect_required` sends it to the method list. Android
    // reads the token for that call from this error body (it asserts one is there), so
    // the body carries the token the client sent, still good: nothing moved.
    if *endpoint == Endpoint::Challenge
        && matches!(input, FlowInput::Challenge { .. })
        && matches!(
            state,
            FlowState::ExpectMfaMethod(_) | FlowState::ExpectMfaCode(_)
        )
    {
        return Err(NativeError::introspect_required().with(
            "continuation_token",
            Value::from(continuation_token.expose().as_str()),
        ));
    }
    if *grant == Some(Grant::MfaOob) && !matches!(state, FlowState::ExpectMfaCode(_)) {
        return Err(NativeError::invalid_request(
            "grant_type `mfa_oob` is only for a second-factor code; use `oob`",
        ));
    }
    if *grant == Some(Grant::ContinuationToken)
        && let Some(name) = username
    {
        let given = crate::flow::contact::normalize_email(name.expose());
        if given.as_deref() != Some(common.email.expose().as_str()) {
            return Err(NativeError::new(
                "invalid_grant",
                "the username does not match the account of this flow",
            ));
        }
    }
    Ok(())
}
