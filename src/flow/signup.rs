//! Sign-up: the email is proven by a code, then a password (email-with-password flows)
//! and the required attributes are collected, then the account is created, before any
//! MFA step (as B2C and External ID do). The auto sign-in that follows
//! (`grant_type=continuation_token`) goes through the gate, which may ask to register
//! a strong method; a user who drops out there keeps the account and is asked again
//! at the next sign-in.
//!
//! ```text
//! start ─▶ SignUpExpectChallenge ─challenge─▶ SignUpExpectCode ─code─┐
//!   ┌────────────────────────────────────────────────────────────────┘
//!   ├─(no password yet)─▶ SignUpExpectPassword ─password─┐
//!   ├─(attributes missing)─▶ SignUpExpectAttributes ─────┤
//!   └───────────────────────────────▶ create user ◀──────┘ ─▶ ExpectTokenRequest ─▶ gate
//! ```
//!
//! For email-with-password accounts the sign-up code proves the email but is not
//! counted as a factor (the password is the first factor); the email may then be
//! registered as a strong method without a second code (`preverified`), as Entra does.
//! For email-one-time-passcode accounts the code is the first factor.

use super::attributes;
use super::channel::Channel;
use super::codes::{CodePurpose, PendingCode};
use super::config::LocalAccount;
use super::contact;
use super::cx::{Checked, Cx, Next};
use super::effect::Effect;
use super::err::FlowError;
use super::gate::{After, ExpectTokenRequest, unexpected};
use super::input::{FlowInput, StartSignUp};
use super::password;
use super::reply::{Rejection, Reply};
use super::state::{FlowCommon, FlowKind, FlowState};
use super::user::UserRecord;
use crate::pii::{Pii, Secret};
use crate::policy::AuthMethod;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Attribute values collected so far (personal data).
pub type Collected = Pii<BTreeMap<String, Value>>;

/// Opens a sign-up.
pub(crate) fn start(s: StartSignUp, cx: &mut Cx) -> Result<Next, FlowError> {
    let email = contact::normalize_email(s.email.expose())
        .ok_or_else(|| FlowError::input("input.email", "not an email address"))?;
    let mut common = FlowCommon::new(
        FlowKind::SignUp,
        s.app_id,
        Pii::new(email),
        cx.now,
        cx.config.settings.flow_lifetime_seconds,
    );
    common.capabilities = s.capabilities;
    common.challenge_types = s.challenge_types;
    common.facts = s.facts;
    let refuse = |cx: &mut Cx, common: &FlowCommon, rejection: Rejection, why: &str| {
        cx.audit(common, "flow.refused", None, Some(why.to_string()));
        Ok(Next::reject(None, rejection))
    };
    if !cx.config.user_flow.serves(&common.app_id) {
        return refuse(
            cx,
            &common,
            Rejection::UnauthorizedClient,
            "unauthorized_client",
        );
    }
    if !cx.config.user_flow.sign_up_allowed() {
        return refuse(cx, &common, Rejection::SignUpDisabled, "sign_up_disabled");
    }
    if cx.user.is_some() {
        return refuse(
            cx,
            &common,
            Rejection::UserAlreadyExists,
            "user_already_exists",
        );
    }
    let local = cx.config.user_flow.local_account()?;
    if !common.challenge_types.oob {
        return Ok(super::gate::redirect(
            &common,
            "sign-up needs the oob challenge",
            cx,
        ));
    }
    let mut password_hash = None;
    if let Some(given) = &s.password {
        if local == LocalAccount::EmailOtp {
            return Err(FlowError::input(
                "input.password",
                "this user flow signs in with one-time passcodes and takes no password",
            ));
        }
        match set_password(&mut common, given, cx)? {
            Ok(hash) => password_hash = Some(hash),
            Err(rejection) => return refuse(cx, &common, rejection, "password_refused"),
        }
    }
    let specs = cx.config.user_flow.attribute_specs();
    let collected = match attributes::validate(&specs, &s.attributes)? {
        Ok(good) => good,
        Err(bad) => {
            return refuse(
                cx,
                &common,
                Rejection::AttributeValidationFailed { attributes: bad },
                "attribute_validation_failed",
            );
        }
    };
    cx.audit(&common, "flow.started", None, None);
    Ok(Next::to(
        FlowState::SignUpExpectChallenge(SignUpExpectChallenge {
            common,
            password_hash,
            attributes: Pii::new(collected),
        }),
        Reply::Started,
    ))
}

/// Checks and hashes a new password, recording it as the first factor.
fn set_password(
    common: &mut FlowCommon,
    given: &Secret<String>,
    cx: &mut Cx,
) -> Result<Result<Secret<String>, Rejection>, FlowError> {
    let salt = cx.salt()?;
    match password::new_password(
        given.expose(),
        common.email.expose(),
        &cx.config.settings.passwords,
        None,
        &salt,
        cx.now,
    )? {
        Ok(np) => {
            common.record_password(&np.proof);
            common.first_factor = Some(AuthMethod::Password);
            Ok(Ok(np.hash))
        }
        Err(problem) => Ok(Err(Rejection::PasswordRefused { problem })),
    }
}

/// Waiting for `/signup/v1.0/challenge`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignUpExpectChallenge {
    /// The flow.
    pub common: FlowCommon,
    /// A password given at start, hashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<Secret<String>>,
    /// Attributes given at start.
    pub attributes: Collected,
}

impl SignUpExpectChallenge {
    pub(crate) fn handle(self, input: FlowInput, cx: &mut Cx) -> Result<Next, FlowError> {
        let FlowInput::Challenge { challenge_types } = input else {
            return Err(unexpected("signUpExpectChallenge", &input));
        };
        let SignUpExpectChallenge {
            mut common,
            password_hash,
            attributes,
        } = self;
        if let Some(types) = challenge_types {
            common.challenge_types = types;
        }
        // The email code is an `oob` challenge: a client whose list lacks it gets the web
        // fallback, as at the start and in a reset, not a code it has no screen for.
        if !common.challenge_types.oob {
            return Ok(super::gate::redirect(
                &common,
                "sign-up needs the oob challenge",
                cx,
            ));
        }
        let to = common.email.clone();
        match cx.send_code(&mut common, Channel::Email, to, CodePurpose::SignUp, None)? {
            Ok((code, reply)) => Ok(Next::to(
                FlowState::SignUpExpectCode(SignUpExpectCode {
                    common,
                    password_hash,
                    attributes,
                    code,
                }),
                reply,
            )),
            Err(rejection) => Ok(Next::reject(
                Some(FlowState::SignUpExpectChallenge(SignUpExpectChallenge {
                    common,
                    password_hash,
                    attributes,
                })),
                rejection,
            )),
        }
    }
}

/// Waiting for the email code (`/signup/v1.0/continue` `grant_type=oob`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignUpExpectCode {
    /// The flow.
    pub common: FlowCommon,
    /// A password given at start, hashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<Secret<String>>,
    /// Attributes given so far.
    pub attributes: Collected,
    /// The code sent.
    pub code: PendingCode,
}

impl SignUpExpectCode {
    pub(crate) fn handle(self, input: FlowInput, cx: &mut Cx) -> Result<Next, FlowError> {
        let SignUpExpectCode {
            mut common,
            password_hash,
            attributes,
            mut code,
        } = self;
        match input {
            FlowInput::Challenge { .. } => {
                let to = common.email.clone();
                let sent = cx.send_code(
                    &mut common,
                    Channel::Email,
                    to,
                    CodePurpose::SignUp,
                    Some(&code),
                )?;
                let (code, reply) = match sent {
                    Ok((new_code, reply)) => (new_code, reply),
                    Err(rejection) => (code, Reply::Rejected { rejection }),
                };
                Ok(Next::to(
                    FlowState::SignUpExpectCode(SignUpExpectCode {
                        common,
                        password_hash,
                        attributes,
                        code,
                    }),
                    reply,
                ))
            }
            FlowInput::SubmitCode { code: given } => {
                match cx.check_code(&common, &mut code, &given, None) {
                    Checked::Valid(verified) => {
                        if cx.config.user_flow.local_account()? == LocalAccount::EmailOtp {
                            common.record_factor(&verified);
                            common.first_factor = Some(AuthMethod::Email);
                        } else {
                            common.record_ownership(&verified);
                        }
                        next_missing(common, password_hash, attributes, cx)
                    }
                    Checked::Refused(rejection) => Ok(Next::reject(
                        Some(FlowState::SignUpExpectCode(SignUpExpectCode {
                            common,
                            password_hash,
                            attributes,
                            code,
                        })),
                        rejection,
                    )),
                }
            }
            other => Err(unexpected("signUpExpectCode", &other)),
        }
    }
}

/// After the email is proven: ask for what is missing, or create the account.
fn next_missing(
    common: FlowCommon,
    password_hash: Option<Secret<String>>,
    attributes: Collected,
    cx: &mut Cx,
) -> Result<Next, FlowError> {
    let local = cx.config.user_flow.local_account()?;
    if local == LocalAccount::EmailPassword && password_hash.is_none() {
        return Ok(Next::to(
            FlowState::SignUpExpectPassword(SignUpExpectPassword { common, attributes }),
            Reply::CredentialRequired,
        ));
    }
    let missing = attributes::missing(&cx.config.user_flow.attribute_specs(), attributes.expose());
    if !missing.is_empty() {
        return Ok(Next::to(
            FlowState::SignUpExpectAttributes(SignUpExpectAttributes {
                common,
                password_hash,
                attributes,
            }),
            Reply::AttributesRequired {
                attributes: missing,
            },
        ));
    }
    create_user(common, password_hash, attributes, cx)
}

/// Creates the account, before any MFA step.
fn create_user(
    mut common: FlowCommon,
    password_hash: Option<Secret<String>>,
    attributes: Collected,
    cx: &mut Cx,
) -> Result<Next, FlowError> {
    if cx.user.is_some() {
        cx.audit(
            &common,
            "flow.refused",
            None,
            Some("user_already_exists".into()),
        );
        return Ok(Next::reject(None, Rejection::UserAlreadyExists));
    }
    let mut values = attributes.into_inner();
    let display_name = match values.remove("displayName") {
        Some(Value::String(name)) => Some(Pii::new(name)),
        _ => None,
    };
    let user = UserRecord {
        id: cx.entropy.uuid()?,
        email: common.email.clone(),
        password_changed_at: password_hash.as_ref().map(|_| cx.now),
        password_hash,
        display_name,
        attributes: values.into_iter().map(|(k, v)| (k, Pii::new(v))).collect(),
        groups: Vec::new(),
        strong_methods: Vec::new(),
        lockout: Default::default(),
        created_at: cx.now,
    };
    common.user_id = Some(user.id.clone());
    cx.effects.push(Effect::CreateUser(user.clone()));
    cx.audit(&common, "user.created", None, None);
    cx.user = Some(user);
    Ok(Next::to(
        FlowState::ExpectTokenRequest(ExpectTokenRequest {
            common,
            after: After::SignUp,
        }),
        Reply::Verified { expires_in: None },
    ))
}

/// Waiting for the password (`credential_required`, then `/signup/v1.0/continue`
/// `grant_type=password`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignUpExpectPassword {
    /// The flow.
    pub common: FlowCommon,
    /// Attributes given so far.
    pub attributes: Collected,
}

impl SignUpExpectPassword {
    pub(crate) fn handle(self, input: FlowInput, cx: &mut Cx) -> Result<Next, FlowError> {
        let SignUpExpectPassword {
            mut common,
            attributes,
        } = self;
        match input {
            FlowInput::Challenge { challenge_types } => {
                if let Some(types) = challenge_types {
                    common.challenge_types = types;
                }
                // `challenge_type: password` goes only to a client that listed it (as at
                // sign-in); one that cannot collect a password gets the web fallback
                // instead of a password prompt it has no screen for.
                if !common.challenge_types.password {
                    return Ok(super::gate::redirect(
                        &common,
                        "client does not support the password challenge",
                        cx,
                    ));
                }
                Ok(Next::to(
                    FlowState::SignUpExpectPassword(SignUpExpectPassword { common, attributes }),
                    Reply::PasswordRequired,
                ))
            }
            FlowInput::SubmitPassword { password: given } => {
                match set_password(&mut common, &given, cx)? {
                    Ok(hash) => next_missing(common, Some(hash), attributes, cx),
                    Err(rejection) => Ok(Next::reject(
                        Some(FlowState::SignUpExpectPassword(SignUpExpectPassword {
                            common,
                            attributes,
                        })),
                        rejection,
                    )),
                }
            }
            other => Err(unexpected("signUpExpectPassword", &other)),
        }
    }
}

/// Waiting for attributes (`attributes_required`, then `/signup/v1.0/continue`
/// `grant_type=attributes`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignUpExpectAttributes {
    /// The flow.
    pub common: FlowCommon,
    /// The password, hashed (absent for one-time-passcode accounts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<Secret<String>>,
    /// Attributes given so far.
    pub attributes: Collected,
}

impl SignUpExpectAttributes {
    pub(crate) fn handle(self, input: FlowInput, cx: &mut Cx) -> Result<Next, FlowError> {
        let FlowInput::SubmitAttributes { attributes: given } = input else {
            return Err(unexpected("signUpExpectAttributes", &input));
        };
        let SignUpExpectAttributes {
            common,
            password_hash,
            attributes,
        } = self;
        let specs = cx.config.user_flow.attribute_specs();
        match attributes::validate(&specs, &given)? {
            Ok(good) => {
                let mut all = attributes.into_inner();
                all.extend(good);
                next_missing(common, password_hash, Pii::new(all), cx)
            }
            Err(bad) => Ok(Next::reject(
                Some(FlowState::SignUpExpectAttributes(SignUpExpectAttributes {
                    common,
                    password_hash,
                    attributes,
                })),
                Rejection::AttributeValidationFailed { attributes: bad },
            )),
        }
    }
}
