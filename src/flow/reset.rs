//! Self-service password reset: an email code, then a new password, then the
//! continuation sign-in through the gate.
//!
//! ```text
//! start ─▶ ResetExpectChallenge ─challenge─▶ ResetExpectCode ─code─▶ ResetExpectNewPassword
//!   ─password─▶ ExpectTokenRequest (poll_completion: succeeded) ─continuation─▶ gate
//! ```
//!
//! The reset code proves the email, so after a reset the first factor is the email
//! code, not the password: if MFA is required, the second factor cannot be email too.
//! A reset does not clear the account's failure counter (only a complete sign-in
//! does), or control of the mailbox would reset the throttling of second factors.

use super::channel::Channel;
use super::codes::{CodePurpose, PendingCode};
use super::config::LocalAccount;
use super::contact;
use super::cx::{Checked, Cx, Next};
use super::effect::Effect;
use super::err::FlowError;
use super::gate::{After, ExpectTokenRequest, unexpected};
use super::input::{FlowInput, StartPasswordReset};
use super::password;
use super::reply::{Rejection, Reply};
use super::state::{FlowCommon, FlowKind, FlowState};
use crate::pii::Pii;
use crate::policy::AuthMethod;
use crate::time::{Seconds, Timestamp};
use serde::{Deserialize, Serialize};

/// Opens a password reset.
pub(crate) fn start(s: StartPasswordReset, cx: &mut Cx) -> Result<Next, FlowError> {
    let email = contact::normalize_email(s.email.expose())
        .ok_or_else(|| FlowError::input("input.email", "not an email address"))?;
    let mut common = FlowCommon::new(
        FlowKind::PasswordReset,
        s.app_id,
        Pii::new(email),
        cx.now,
        cx.config.settings.flow_lifetime_seconds,
    );
    common.capabilities = s.capabilities;
    common.facts = s.facts;
    if !cx.config.user_flow.serves(&common.app_id) {
        cx.audit(
            &common,
            "flow.refused",
            None,
            Some("unauthorized_client".into()),
        );
        return Ok(Next::reject(None, Rejection::UnauthorizedClient));
    }
    let Some(user) = cx.user.as_ref() else {
        cx.audit(&common, "flow.refused", None, Some("user_not_found".into()));
        return Ok(Next::reject(None, Rejection::UserNotFound));
    };
    if user.email != common.email {
        return Err(FlowError::UserMismatch);
    }
    common.user_id = Some(user.id.clone());
    let has_password = user.password_hash.is_some();
    if cx.config.user_flow.local_account()? == LocalAccount::EmailOtp || !has_password {
        cx.audit(&common, "flow.refused", None, Some("no_password".into()));
        return Ok(Next::reject(None, Rejection::PasswordResetUnavailable));
    }
    cx.audit(&common, "flow.started", None, None);
    Ok(Next::to(
        FlowState::ResetExpectChallenge(ResetExpectChallenge { common }),
        Reply::Started,
    ))
}

/// Waiting for `/resetpassword/v1.0/challenge`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResetExpectChallenge {
    /// The flow.
    pub common: FlowCommon,
}

impl ResetExpectChallenge {
    pub(crate) fn handle(self, input: FlowInput, cx: &mut Cx) -> Result<Next, FlowError> {
        let FlowInput::Challenge { challenge_types } = input else {
            return Err(unexpected("resetExpectChallenge", &input));
        };
        let mut common = self.common;
        // A reset is an email code: a client that cannot ask for one gets the web
        // fallback, as at sign-up, not a code it has no screen for.
        if challenge_types.is_some_and(|t| !t.oob) {
            return Ok(super::gate::redirect(
                &common,
                "password reset needs the oob challenge",
                cx,
            ));
        }
        let user = cx.user_for(&common)?;
        if let Some(rejection) = cx.locked(&user) {
            return Ok(Next::reject(
                Some(FlowState::ResetExpectChallenge(ResetExpectChallenge {
                    common,
                })),
                rejection,
            ));
        }
        match cx.send_code(
            &mut common,
            Channel::Email,
            user.email,
            CodePurpose::PasswordReset,
            None,
        )? {
            Ok((code, reply)) => Ok(Next::to(
                FlowState::ResetExpectCode(ResetExpectCode { common, code }),
                reply,
            )),
            Err(rejection) => Ok(Next::reject(
                Some(FlowState::ResetExpectChallenge(ResetExpectChallenge {
                    common,
                })),
                rejection,
            )),
        }
    }
}

/// Waiting for the reset code (`/resetpassword/v1.0/continue`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResetExpectCode {
    /// The flow.
    pub common: FlowCommon,
    /// The code sent.
    pub code: PendingCode,
}

impl ResetExpectCode {
    pub(crate) fn handle(self, input: FlowInput, cx: &mut Cx) -> Result<Next, FlowError> {
        let ResetExpectCode {
            mut common,
            mut code,
        } = self;
        let mut user = cx.user_for(&common)?;
        match input {
            FlowInput::Challenge { .. } => {
                let sent = match cx.locked(&user) {
                    Some(rejection) => Err(rejection),
                    None => cx.send_code(
                        &mut common,
                        Channel::Email,
                        user.email.clone(),
                        CodePurpose::PasswordReset,
                        Some(&code),
                    )?,
                };
                Ok(match sent {
                    Ok((code, reply)) => Next::to(
                        FlowState::ResetExpectCode(ResetExpectCode { common, code }),
                        reply,
                    ),
                    Err(rejection) => Next::reject(
                        Some(FlowState::ResetExpectCode(ResetExpectCode { common, code })),
                        rejection,
                    ),
                })
            }
            FlowInput::SubmitCode { code: given } => {
                match cx.check_code(&common, &mut code, &given, Some(&mut user)) {
                    Checked::Valid(verified) => {
                        common.record_factor(&verified);
                        common.first_factor = Some(AuthMethod::Email);
                        let window = cx.config.settings.reset_window_seconds;
                        Ok(Next::to(
                            FlowState::ResetExpectNewPassword(ResetExpectNewPassword {
                                common,
                                verified_at: cx.now,
                                submit_by: Some(cx.now.plus(Seconds(window))),
                            }),
                            Reply::Verified {
                                expires_in: Some(window),
                            },
                        ))
                    }
                    Checked::Refused(rejection) => Ok(Next::reject(
                        Some(FlowState::ResetExpectCode(ResetExpectCode { common, code })),
                        rejection,
                    )),
                }
            }
            other => Err(unexpected("resetExpectCode", &other)),
        }
    }
}

/// Waiting for the new password (`/resetpassword/v1.0/submit`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResetExpectNewPassword {
    /// The flow.
    pub common: FlowCommon,
    /// When the code was verified; the password must come within the reset window.
    pub verified_at: Timestamp,
    /// The end of the reset window. Kept in the state (not only recomputed at submit) so
    /// the token's stored record expires with it: an expired reset token is then
    /// `expired_token` at every endpoint, not "wrong step" at the ones other than submit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submit_by: Option<Timestamp>,
}

impl ResetExpectNewPassword {
    pub(crate) fn handle(self, input: FlowInput, cx: &mut Cx) -> Result<Next, FlowError> {
        let FlowInput::SubmitPassword { password: given } = input else {
            return Err(unexpected("resetExpectNewPassword", &input));
        };
        let common = self.common;
        let window = Seconds(cx.config.settings.reset_window_seconds);
        if cx.now >= self.submit_by.unwrap_or(self.verified_at.plus(window)) {
            cx.audit(&common, "flow.expired", None, None);
            return Ok(Next::reject(None, Rejection::FlowExpired));
        }
        let mut user = cx.user_for(&common)?;
        let salt = cx.salt()?;
        let current = user.password_hash.as_ref().map(|h| h.expose().clone());
        match password::new_password(
            given.expose(),
            user.email.expose(),
            &cx.config.settings.passwords,
            current.as_deref(),
            &salt,
            cx.now,
        )? {
            Err(problem) => Ok(Next::reject(
                Some(FlowState::ResetExpectNewPassword(ResetExpectNewPassword {
                    common,
                    verified_at: self.verified_at,
                    submit_by: self.submit_by,
                })),
                Rejection::PasswordRefused { problem },
            )),
            Ok(np) => {
                user.password_hash = Some(np.hash);
                user.password_changed_at = Some(cx.now);
                cx.effects.push(Effect::UpdateUser(user.clone()));
                cx.user = Some(user);
                cx.audit(&common, "password.reset", None, None);
                Ok(Next::to(
                    FlowState::ExpectTokenRequest(ExpectTokenRequest {
                        common,
                        after: After::Reset,
                    }),
                    Reply::ResetSubmitted { poll_interval: 2 },
                ))
            }
        }
    }
}
