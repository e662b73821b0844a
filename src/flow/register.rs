//! Just-in-time registration of a strong method (`/register/v1.0/*`), and the
//! completion of method changes.
//!
//! ```text
//! gate ─▶ ExpectRegistrationMethod ─register(target)─▶ ExpectRegistrationCode ─code─┐
//!          │                        └─(sign-up email, proven in this flow)─▶ preverified ─┤
//!          └─cancel: flow ends, no tokens; the next sign-in asks again                   │
//!                                            ExpectTokenRequest ◀─(method added)──────────┘
//! ```
//!
//! A verified registration code both adds the method to the account and counts as the
//! second factor (no extra `mfa_oob` step, as native auth does). In a method change,
//! the code completes the change instead and no tokens are issued.

use super::channel::Channel;
use super::codes::{CodePurpose, PendingCode};
use super::contact;
use super::cx::{Checked, Cx, Next};
use super::effect::Effect;
use super::err::FlowError;
use super::gate::{self, After, ExpectTokenRequest, unexpected};
use super::input::{FlowInput, MethodChange};
use super::reply::{BlockReason, RegistrationMethod, Rejection, Reply};
use super::sms_guard::{self, Stop};
use super::state::{FlowCommon, FlowKind, FlowState};
use super::user::{StrongMethod, UserRecord};
use crate::pii::Pii;
use serde::{Deserialize, Serialize};

/// The registration choices for `channels`, with the account email as the email hint.
pub(crate) fn options(channels: &[Channel], common: &FlowCommon) -> Vec<RegistrationMethod> {
    channels
        .iter()
        .map(|c| RegistrationMethod {
            id: c.as_str().to_string(),
            channel: *c,
            login_hint: (*c == Channel::Email).then(|| common.email.clone()),
        })
        .collect()
}

/// Waiting for the phone number or email to register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpectRegistrationMethod {
    /// The flow.
    pub common: FlowCommon,
    /// Channels that may be registered.
    pub channels: Vec<Channel>,
}

impl ExpectRegistrationMethod {
    pub(crate) fn handle(self, input: FlowInput, cx: &mut Cx) -> Result<Next, FlowError> {
        match input {
            FlowInput::ListMethods => {
                let methods = options(&self.channels, &self.common);
                Ok(Next::to(
                    FlowState::ExpectRegistrationMethod(self),
                    Reply::RegistrationMethods { methods },
                ))
            }
            FlowInput::RegisterMethod { channel, target } => {
                register_target(self.common, self.channels, channel, target, None, cx)
            }
            other => Err(unexpected("expectRegistrationMethod", &other)),
        }
    }
}

/// Waiting for the code sent to the method being registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpectRegistrationCode {
    /// The flow.
    pub common: FlowCommon,
    /// Channels that may be registered.
    pub channels: Vec<Channel>,
    /// The code sent (it names the channel and the target).
    pub code: PendingCode,
}

impl ExpectRegistrationCode {
    pub(crate) fn handle(self, input: FlowInput, cx: &mut Cx) -> Result<Next, FlowError> {
        let ExpectRegistrationCode {
            mut common,
            channels,
            mut code,
        } = self;
        match input {
            FlowInput::ListMethods => {
                let methods = options(&channels, &common);
                Ok(Next::to(
                    FlowState::ExpectRegistrationCode(ExpectRegistrationCode {
                        common,
                        channels,
                        code,
                    }),
                    Reply::RegistrationMethods { methods },
                ))
            }
            FlowInput::RegisterMethod { channel, target } => {
                register_target(common, channels, channel, target, Some(code), cx)
            }
            FlowInput::SubmitCode { code: given } => {
                let mut user = cx.user_for(&common)?;
                match cx.check_code(&common, &mut code, &given, Some(&mut user)) {
                    Checked::Refused(rejection) => Ok(Next::reject(
                        Some(FlowState::ExpectRegistrationCode(ExpectRegistrationCode {
                            common,
                            channels,
                            code,
                        })),
                        rejection,
                    )),
                    Checked::Valid(verified) => {
                        common.record_factor(&verified);
                        let channel = verified.channel();
                        let target = verified.destination().clone();
                        if common.kind == FlowKind::MethodChange {
                            return complete_method_change(common, user, channel, target, cx);
                        }
                        add_method(&mut user, channel, target, cx)?;
                        cx.effects.push(Effect::UpdateUser(user.clone()));
                        cx.user = Some(user);
                        cx.audit(&common, "method.registered", Some(channel), None);
                        Ok(Next::to(
                            FlowState::ExpectTokenRequest(ExpectTokenRequest {
                                common,
                                after: After::Registration,
                            }),
                            Reply::Verified { expires_in: None },
                        ))
                    }
                }
            }
            other => Err(unexpected("expectRegistrationCode", &other)),
        }
    }
}

/// Validates the target and sends it a code (or takes the preverified fast-pass).
fn register_target(
    mut common: FlowCommon,
    channels: Vec<Channel>,
    channel: Channel,
    target: Pii<String>,
    previous: Option<PendingCode>,
    cx: &mut Cx,
) -> Result<Next, FlowError> {
    let back = |common: FlowCommon, channels: Vec<Channel>, previous: Option<PendingCode>| {
        Some(match previous {
            Some(code) => FlowState::ExpectRegistrationCode(ExpectRegistrationCode {
                common,
                channels,
                code,
            }),
            None => {
                FlowState::ExpectRegistrationMethod(ExpectRegistrationMethod { common, channels })
            }
        })
    };
    if !channels.contains(&channel) {
        return Ok(Next::reject(
            back(common, channels, previous),
            Rejection::ChannelNotAllowed,
        ));
    }
    let normalized = match channel {
        Channel::Email => contact::normalize_email(target.expose()),
        Channel::Sms => contact::normalize_phone(target.expose()),
    };
    let Some(normalized) = normalized else {
        return Ok(Next::reject(
            back(common, channels, previous),
            Rejection::InvalidTarget,
        ));
    };
    let mut user = cx.user_for(&common)?;
    let preverified = channel == Channel::Email
        && &normalized == common.email.expose()
        && common.email_verified()
        && common.kind != FlowKind::MethodChange;
    if preverified && common.record_preverified_email() {
        add_method(&mut user, channel, Pii::new(normalized), cx)?;
        cx.effects.push(Effect::UpdateUser(user.clone()));
        cx.user = Some(user);
        cx.audit(
            &common,
            "method.registered",
            Some(channel),
            Some("preverified".into()),
        );
        return Ok(Next::to(
            FlowState::ExpectTokenRequest(ExpectTokenRequest {
                common,
                after: After::Preverified,
            }),
            Reply::Preverified,
        ));
    }
    if let Some(rejection) = cx.locked(&user) {
        return Ok(Next::reject(back(common, channels, previous), rejection));
    }
    if channel == Channel::Sms {
        match sms_guard::check(&common, &normalized, cx) {
            Ok(()) => {}
            Err(Stop::Blocked(region)) => {
                return Ok(Next::reject(
                    back(common, channels, previous),
                    Rejection::SmsRegionBlocked { region },
                ));
            }
            Err(Stop::Redirect(reason)) => return Ok(gate::redirect(&common, &reason, cx)),
        }
    }
    let sent = cx.send_code(
        &mut common,
        channel,
        Pii::new(normalized),
        CodePurpose::Registration,
        previous.as_ref(),
    )?;
    match sent {
        Ok((code, reply)) => Ok(Next::to(
            FlowState::ExpectRegistrationCode(ExpectRegistrationCode {
                common,
                channels,
                code,
            }),
            reply,
        )),
        Err(rejection) => Ok(Next::reject(back(common, channels, previous), rejection)),
    }
}

/// Adds a method to the account (or finds the same one); returns its id.
fn add_method(
    user: &mut UserRecord,
    channel: Channel,
    target: Pii<String>,
    cx: &mut Cx,
) -> Result<String, FlowError> {
    if let Some(existing) = user
        .strong_methods
        .iter()
        .find(|m| m.channel == channel && m.target == target)
    {
        return Ok(existing.id.clone());
    }
    let id = cx.entropy.uuid()?;
    user.strong_methods.push(StrongMethod {
        id: id.clone(),
        channel,
        target,
        registered_at: cx.now,
    });
    Ok(id)
}

/// Whether this account may hold a method on `channel`: the methods policy allows it,
/// and it is not email for an account whose first factor is email.
pub(crate) fn channel_allowed(
    common: &FlowCommon,
    user: &UserRecord,
    channel: Channel,
    cx: &Cx,
) -> bool {
    cx.config
        .authentication_methods_policy
        .allows(channel, user)
        && common.first_factor != Some(channel.method())
}

/// The access policy allows the change: remove now, or ask for the new target.
pub(crate) fn apply_method_change(
    common: FlowCommon,
    mut user: UserRecord,
    cx: &mut Cx,
) -> Result<Next, FlowError> {
    let channel = match &common.method_change {
        Some(MethodChange::Remove { method_id }) => {
            let id = method_id.clone();
            if user.strong_method(&id).is_none() {
                return Ok(Next::reject(None, Rejection::MethodNotFound));
            }
            user.strong_methods.retain(|m| m.id != id);
            cx.effects.push(Effect::UpdateUser(user));
            cx.audit(&common, "method.removed", None, None);
            return Ok(Next::end(Reply::MethodChanged { method_id: id }));
        }
        Some(MethodChange::Add { channel }) => *channel,
        Some(MethodChange::Replace { method_id }) => match user.strong_method(method_id) {
            Some(m) => m.channel,
            None => return Ok(Next::reject(None, Rejection::MethodNotFound)),
        },
        None => {
            return Ok(gate::block(
                &common,
                BlockReason::Unsatisfiable,
                Vec::new(),
                cx,
            ));
        }
    };
    if !channel_allowed(&common, &user, channel, cx) {
        return Ok(Next::reject(None, Rejection::ChannelNotAllowed));
    }
    let methods = options(&[channel], &common);
    Ok(Next::to(
        FlowState::ExpectRegistrationMethod(ExpectRegistrationMethod {
            common,
            channels: vec![channel],
        }),
        Reply::RegistrationMethods { methods },
    ))
}

/// The new target is verified: add it, or replace the old method with it.
fn complete_method_change(
    common: FlowCommon,
    mut user: UserRecord,
    channel: Channel,
    target: Pii<String>,
    cx: &mut Cx,
) -> Result<Next, FlowError> {
    if let Some(MethodChange::Replace { method_id }) = &common.method_change {
        user.strong_methods.retain(|m| &m.id != method_id);
    }
    let id = add_method(&mut user, channel, target, cx)?;
    cx.effects.push(Effect::UpdateUser(user));
    cx.audit(&common, "method.changed", Some(channel), None);
    Ok(Next::end(Reply::MethodChanged { method_id: id }))
}
