//! Sign-in: `initiate` → `challenge` → password or email code (first factor) → gate.
//!
//! ```text
//! start ─▶ SignInExpectChallenge ─challenge─▶ SignInExpectPassword ─password─▶ gate
//!                                 └─────────▶ SignInExpectCode ─────code─────▶ gate
//! ```

use super::channel::Channel;
use super::codes::{CodePurpose, PendingCode};
use super::contact;
use super::cx::{Checked, Cx, Next};
use super::err::FlowError;
use super::gate::{self, unexpected};
use super::input::{FlowInput, StartSignIn};
use super::password;
use super::reply::{Rejection, Reply};
use super::state::{FlowCommon, FlowKind, FlowState};
use crate::audit::SignInOutcome;
use crate::pii::Pii;
use crate::policy::AuthMethod;
use serde::{Deserialize, Serialize};

/// Opens a sign-in for an existing account.
pub(crate) fn start(s: StartSignIn, cx: &mut Cx) -> Result<Next, FlowError> {
    let email = contact::normalize_email(s.email.expose())
        .ok_or_else(|| FlowError::input("input.email", "not an email address"))?;
    let mut common = FlowCommon::new(
        FlowKind::SignIn,
        s.app_id,
        Pii::new(email),
        cx.now,
        cx.config.settings.flow_lifetime_seconds,
    );
    common.capabilities = s.capabilities;
    common.challenge_types = s.challenge_types;
    common.facts = s.facts;
    common.auth_contexts = s.auth_contexts;
    if !cx.config.user_flow.serves(&common.app_id) {
        return Ok(refuse(
            &common,
            "unauthorized_client",
            Rejection::UnauthorizedClient,
            cx,
        ));
    }
    let Some(user) = cx.user.as_ref() else {
        return Ok(refuse(
            &common,
            "user_not_found",
            Rejection::UserNotFound,
            cx,
        ));
    };
    if user.email != common.email {
        return Err(FlowError::UserMismatch);
    }
    common.user_id = Some(user.id.clone());
    cx.audit(&common, "flow.started", None, None);
    Ok(Next::to(
        FlowState::SignInExpectChallenge(SignInExpectChallenge { common }),
        Reply::Started,
    ))
}

/// Ends a sign-in at its start: the app or the user is unknown (a failed attempt).
fn refuse(common: &FlowCommon, reason: &str, rejection: Rejection, cx: &mut Cx) -> Next {
    cx.sign_in_attempt(
        common,
        "flow.refused",
        None,
        Some(reason.to_string()),
        SignInOutcome::Rejected {
            rejection: rejection.clone(),
            second_factor: false,
        },
        None,
    );
    Next::reject(None, rejection)
}

/// Waiting for `/oauth2/v2.0/challenge` (also the first step of a step-up that needs
/// the first factor again).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignInExpectChallenge {
    /// The flow.
    pub common: FlowCommon,
}

impl SignInExpectChallenge {
    pub(crate) fn handle(self, input: FlowInput, cx: &mut Cx) -> Result<Next, FlowError> {
        let FlowInput::Challenge { challenge_types } = input else {
            return Err(unexpected("signInExpectChallenge", &input));
        };
        let mut common = self.common;
        if let Some(types) = challenge_types {
            common.challenge_types = types;
        }
        let user = cx.user_for(&common)?;
        if gate::account_first_factor(&user, cx)? == AuthMethod::Password {
            if !common.challenge_types.password {
                return Ok(gate::redirect(
                    &common,
                    "client does not support the password challenge",
                    cx,
                ));
            }
            return Ok(Next::to(
                FlowState::SignInExpectPassword(SignInExpectPassword { common }),
                Reply::PasswordRequired,
            ));
        }
        if !common.challenge_types.oob {
            return Ok(gate::redirect(
                &common,
                "client does not support the oob challenge",
                cx,
            ));
        }
        if let Some(rejection) = cx.locked(&user) {
            return Ok(Next::reject(
                Some(FlowState::SignInExpectChallenge(SignInExpectChallenge {
                    common,
                })),
                rejection,
            ));
        }
        match cx.send_code(
            &mut common,
            Channel::Email,
            user.email,
            CodePurpose::SignIn,
            None,
        )? {
            Ok((code, reply)) => Ok(Next::to(
                FlowState::SignInExpectCode(SignInExpectCode { common, code }),
                reply,
            )),
            Err(rejection) => Ok(Next::reject(
                Some(FlowState::SignInExpectChallenge(SignInExpectChallenge {
                    common,
                })),
                rejection,
            )),
        }
    }
}

/// Waiting for the password (`/oauth2/v2.0/token` `grant_type=password`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignInExpectPassword {
    /// The flow.
    pub common: FlowCommon,
}

impl SignInExpectPassword {
    pub(crate) fn handle(self, input: FlowInput, cx: &mut Cx) -> Result<Next, FlowError> {
        let mut common = self.common;
        match input {
            FlowInput::Challenge { .. } => Ok(Next::to(
                FlowState::SignInExpectPassword(SignInExpectPassword { common }),
                Reply::PasswordRequired,
            )),
            FlowInput::SubmitPassword { password: given } => {
                let mut user = cx.user_for(&common)?;
                if let Some(rejection) = cx.locked(&user) {
                    cx.sign_in_attempt(
                        &common,
                        "password.rejected",
                        None,
                        Some("account_locked".into()),
                        password_refused(&rejection),
                        Some(AuthMethod::Password),
                    );
                    return Ok(Next::reject(
                        Some(FlowState::SignInExpectPassword(SignInExpectPassword {
                            common,
                        })),
                        rejection,
                    ));
                }
                let proof = match &user.password_hash {
                    Some(hash) => password::prove(given.expose(), hash.expose(), cx.now)?,
                    None => None,
                };
                match proof {
                    Some(proof) => {
                        common.record_password(&proof);
                        common.first_factor = Some(AuthMethod::Password);
                        cx.audit(&common, "password.verified", None, None);
                        gate::proceed(common, cx)
                    }
                    None => {
                        cx.fail(&mut user);
                        cx.sign_in_attempt(
                            &common,
                            "password.rejected",
                            None,
                            None,
                            password_refused(&Rejection::InvalidPassword),
                            Some(AuthMethod::Password),
                        );
                        Ok(Next::reject(
                            Some(FlowState::SignInExpectPassword(SignInExpectPassword {
                                common,
                            })),
                            Rejection::InvalidPassword,
                        ))
                    }
                }
            }
            other => Err(unexpected("signInExpectPassword", &other)),
        }
    }
}

fn password_refused(rejection: &Rejection) -> SignInOutcome {
    SignInOutcome::Rejected {
        rejection: rejection.clone(),
        second_factor: false,
    }
}

/// Waiting for the email code (`/oauth2/v2.0/token` `grant_type=oob`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignInExpectCode {
    /// The flow.
    pub common: FlowCommon,
    /// The code sent.
    pub code: PendingCode,
}

impl SignInExpectCode {
    pub(crate) fn handle(self, input: FlowInput, cx: &mut Cx) -> Result<Next, FlowError> {
        let SignInExpectCode {
            mut common,
            mut code,
        } = self;
        let mut user = cx.user_for(&common)?;
        match input {
            FlowInput::Challenge { .. } => {
                if let Some(rejection) = cx.locked(&user) {
                    return Ok(Next::reject(
                        Some(FlowState::SignInExpectCode(SignInExpectCode {
                            common,
                            code,
                        })),
                        rejection,
                    ));
                }
                let to = user.email.clone();
                match cx.send_code(
                    &mut common,
                    Channel::Email,
                    to,
                    CodePurpose::SignIn,
                    Some(&code),
                )? {
                    Ok((code, reply)) => Ok(Next::to(
                        FlowState::SignInExpectCode(SignInExpectCode { common, code }),
                        reply,
                    )),
                    Err(rejection) => Ok(Next::reject(
                        Some(FlowState::SignInExpectCode(SignInExpectCode {
                            common,
                            code,
                        })),
                        rejection,
                    )),
                }
            }
            FlowInput::SubmitCode { code: given } => {
                match cx.check_code(&common, &mut code, &given, Some(&mut user)) {
                    Checked::Valid(verified) => {
                        common.record_factor(&verified);
                        common.first_factor = Some(AuthMethod::Email);
                        gate::proceed(common, cx)
                    }
                    Checked::Refused(rejection) => Ok(Next::reject(
                        Some(FlowState::SignInExpectCode(SignInExpectCode {
                            common,
                            code,
                        })),
                        rejection,
                    )),
                }
            }
            other => Err(unexpected("signInExpectCode", &other)),
        }
    }
}
