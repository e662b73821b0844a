//! The second factor: choose a registered method (`/oauth2/v2.0/introspect`, then
//! `/oauth2/v2.0/challenge` with `id`), then enter the code (`grant_type=mfa_oob`).
//!
//! ```text
//! gate ─▶ ExpectMfaMethod ─select─▶ ExpectMfaCode ─code─▶ gate (tokens, or what is still missing)
//!                                    └─select again: resend (same id) or switch method
//! ```
//!
//! Only methods the gate offered can be chosen, and it never offers the first factor's
//! method: an email-OTP first factor is never followed by an email second factor.

use super::channel::Channel;
use super::codes::{CodePurpose, PendingCode};
use super::cx::{Checked, Cx, Next};
use super::err::FlowError;
use super::gate::{self, unexpected};
use super::input::FlowInput;
use super::reply::{MfaMethod, Rejection, Reply};
use super::sms_guard::{self, Stop};
use super::state::{FlowCommon, FlowState};
use serde::{Deserialize, Serialize};

/// Waiting for the choice of a second factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpectMfaMethod {
    /// The flow.
    pub common: FlowCommon,
    /// The methods offered.
    pub methods: Vec<MfaMethod>,
}

impl ExpectMfaMethod {
    pub(crate) fn handle(self, input: FlowInput, cx: &mut Cx) -> Result<Next, FlowError> {
        match input {
            FlowInput::ListMethods => {
                let methods = self.methods.clone();
                Ok(Next::to(
                    FlowState::ExpectMfaMethod(self),
                    Reply::MfaMethods { methods },
                ))
            }
            FlowInput::SelectMethod { id } => select(self.common, self.methods, id, None, cx),
            other => Err(unexpected("expectMfaMethod", &other)),
        }
    }
}

/// Waiting for the code sent to the chosen method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpectMfaCode {
    /// The flow.
    pub common: FlowCommon,
    /// The methods offered.
    pub methods: Vec<MfaMethod>,
    /// The chosen method.
    pub method_id: String,
    /// The code sent.
    pub code: PendingCode,
}

impl ExpectMfaCode {
    pub(crate) fn handle(self, input: FlowInput, cx: &mut Cx) -> Result<Next, FlowError> {
        match input {
            FlowInput::ListMethods => {
                let methods = self.methods.clone();
                Ok(Next::to(
                    FlowState::ExpectMfaCode(self),
                    Reply::MfaMethods { methods },
                ))
            }
            FlowInput::SelectMethod { id } => {
                let ExpectMfaCode {
                    common,
                    methods,
                    method_id,
                    code,
                } = self;
                select(common, methods, id, Some((method_id, code)), cx)
            }
            FlowInput::SubmitCode { code: given } => {
                let ExpectMfaCode {
                    mut common,
                    methods,
                    method_id,
                    mut code,
                } = self;
                let mut user = cx.user_for(&common)?;
                // The method may have been removed since its code was sent (an
                // administrator took a lost phone off the account): its code proves
                // nothing now. Back to the methods still registered, nothing counted.
                if user.strong_method(&method_id).is_none() {
                    let methods = methods.into_iter().filter(|m| m.id != method_id).collect();
                    return Ok(Next::reject(
                        Some(FlowState::ExpectMfaMethod(ExpectMfaMethod {
                            common,
                            methods,
                        })),
                        Rejection::MethodNotFound,
                    ));
                }
                match cx.check_code(&common, &mut code, &given, Some(&mut user)) {
                    Checked::Valid(verified) => {
                        common.record_factor(&verified);
                        gate::proceed(common, cx)
                    }
                    Checked::Refused(rejection) => Ok(Next::reject(
                        Some(FlowState::ExpectMfaCode(ExpectMfaCode {
                            common,
                            methods,
                            method_id,
                            code,
                        })),
                        rejection,
                    )),
                }
            }
            other => Err(unexpected("expectMfaCode", &other)),
        }
    }
}

/// Sends a code to method `id`. Choosing the same method again is a resend (cool-down
/// and step cap apply); another method starts a new code (the flow cap applies).
fn select(
    mut common: FlowCommon,
    methods: Vec<MfaMethod>,
    id: String,
    previous: Option<(String, PendingCode)>,
    cx: &mut Cx,
) -> Result<Next, FlowError> {
    let back =
        |common: FlowCommon, methods: Vec<MfaMethod>, previous: Option<(String, PendingCode)>| {
            Some(match previous {
                Some((method_id, code)) => FlowState::ExpectMfaCode(ExpectMfaCode {
                    common,
                    methods,
                    method_id,
                    code,
                }),
                None => FlowState::ExpectMfaMethod(ExpectMfaMethod { common, methods }),
            })
        };
    let user = cx.user_for(&common)?;
    let target = methods
        .iter()
        .any(|m| m.id == id)
        .then(|| user.strong_method(&id))
        .flatten()
        .cloned();
    let Some(target) = target else {
        return Ok(Next::reject(
            back(common, methods, previous),
            Rejection::MethodNotFound,
        ));
    };
    if let Some(rejection) = cx.locked(&user) {
        return Ok(Next::reject(back(common, methods, previous), rejection));
    }
    if target.channel == Channel::Sms {
        // The region may have been turned off since the method list was sent.
        match sms_guard::check(&common, target.target.expose(), cx) {
            Ok(()) => {}
            Err(Stop::Blocked(region)) => {
                return Ok(Next::reject(
                    back(common, methods, previous),
                    Rejection::SmsRegionBlocked { region },
                ));
            }
            Err(Stop::Redirect(reason)) => return Ok(gate::redirect(&common, &reason, cx)),
        }
    }
    let same = previous
        .as_ref()
        .filter(|(pid, _)| pid == &id)
        .map(|(_, c)| c);
    match cx.send_code(
        &mut common,
        target.channel,
        target.target,
        CodePurpose::Mfa,
        same,
    )? {
        Ok((code, reply)) => Ok(Next::to(
            FlowState::ExpectMfaCode(ExpectMfaCode {
                common,
                methods,
                method_id: id,
                code,
            }),
            reply,
        )),
        Err(rejection) => Ok(Next::reject(back(common, methods, previous), rejection)),
    }
}
