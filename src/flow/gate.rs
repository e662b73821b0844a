//! The gate every flow passes after a factor: ask the access policy, then issue
//! tokens, block, or go to the step that supplies what is missing (a second factor,
//! registration of one, the first factor again, a new password).
//!
//! Tokens come from one place only, [`finish`], reached only when the policy answers
//! `Allow` for the methods satisfied. A `Require` the flow cannot meet ends in `Blocked`
//! with a reason, never in tokens: MFA is never skipped silently.

use super::access::AccessPolicy;
use super::channel::{self, Channel};
use super::contact;
use super::cx::{Cx, Next};
use super::effect::{Effect, TokenGrant};
use super::err::FlowError;
use super::input::{FlowInput, MethodChange};
use super::mfa::ExpectMfaMethod;
use super::password;
use super::register::{self, ExpectRegistrationMethod};
use super::reply::{BlockReason, MfaMethod, Rejection, Reply};
use super::signin::SignInExpectChallenge;
use super::sms_guard;
use super::state::{FlowCommon, FlowKind, FlowState};
use super::user::UserRecord;
use crate::audit::SignInOutcome;
use crate::policy::{AuthMethod, Decision, Requirements, SignIn};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The user action Conditional Access sees when a user changes their methods.
pub const REGISTER_SECURITY_INFO: &str = "urn:user:registersecurityinfo";

/// Decides what comes after a factor (or at the start of a step-up or method change).
pub(crate) fn proceed(mut common: FlowCommon, cx: &mut Cx) -> Result<Next, FlowError> {
    let user = cx.user_for(&common)?;
    if common.kind == FlowKind::MethodChange && needs_fresh_second_factor(&common, &user, cx) {
        let wanted = second_factor_channels(&common);
        return second_factor(common, &user, wanted, false, cx);
    }
    let sign_in = sign_in(&common, &user);
    let decision = cx.policy.decide(&sign_in, &common.satisfied(), cx.now);
    match decision {
        Decision::Allow => finish(common, user, cx),
        Decision::Block { policy_ids } => Ok(block(&common, BlockReason::Policy, policy_ids, cx)),
        Decision::Require(r) => {
            if r.reauthentication {
                if common.prior.is_empty() {
                    // Everything was proven in this flow: nothing fresher can be given.
                    return Ok(block(&common, BlockReason::Unsatisfiable, r.policy_ids, cx));
                }
                common.prior.clear();
                common.first_factor = None;
                cx.audit(&common, "stepup.reauthentication_required", None, None);
                return Ok(Next::to(
                    FlowState::SignInExpectChallenge(SignInExpectChallenge { common }),
                    Reply::ReauthenticationRequired,
                ));
            }
            if r.mfa || !r.authentication_strengths.is_empty() {
                let wanted = wanted_channels(&common, &r);
                if wanted.is_empty() {
                    let reason = if r.mfa {
                        BlockReason::NoUsableSecondFactor
                    } else {
                        BlockReason::Unsatisfiable
                    };
                    return Ok(block(&common, reason, r.policy_ids, cx));
                }
                let may_register = common.kind != FlowKind::MethodChange;
                return second_factor(common, &user, wanted, may_register, cx);
            }
            if r.password_change {
                if common.password_changed {
                    // Changed in this flow: the control is met. Nothing else was required.
                    return finish(common, user, cx);
                }
                let has_password = user.password_hash.is_some()
                    && common.first_factor == Some(AuthMethod::Password);
                if !has_password {
                    return Ok(block(
                        &common,
                        BlockReason::PasswordChangeImpossible,
                        r.policy_ids,
                        cx,
                    ));
                }
                cx.audit(&common, "password.change_required", None, None);
                return Ok(Next::to(
                    FlowState::ExpectPasswordChange(ExpectPasswordChange { common }),
                    Reply::PasswordChangeRequired,
                ));
            }
            Ok(block(&common, BlockReason::Unsatisfiable, r.policy_ids, cx))
        }
    }
}

/// The sign-in facts for Conditional Access.
pub(crate) fn sign_in(common: &FlowCommon, user: &UserRecord) -> SignIn {
    let f = &common.facts;
    SignIn {
        user_id: user.id.clone(),
        is_guest: false,
        group_ids: user.groups.clone(),
        role_ids: Vec::new(),
        app_id: common.app_id.clone(),
        user_action: (common.kind == FlowKind::MethodChange)
            .then(|| REGISTER_SECURITY_INFO.to_string()),
        auth_contexts: common.auth_contexts.clone(),
        ip_address: f.ip_address.as_ref().map(|ip| ip.expose().clone()),
        country: f.country.clone(),
        client_app_type: f.client_app_type.clone(),
        device_platform: f.device_platform.clone(),
        sign_in_risk: f.sign_in_risk.clone(),
        user_risk: f.user_risk.clone(),
        device: f.device.clone(),
        authentication_flow: f.authentication_flow.clone(),
        password_changed: common.password_changed,
        ..SignIn::default()
    }
}

/// A method may serve as second factor unless it was the first factor or was already
/// proven in this flow (email OTP as first factor can't also be the second).
fn excluded(common: &FlowCommon, fresh: &BTreeSet<AuthMethod>, method: AuthMethod) -> bool {
    fresh.contains(&method) || common.first_factor == Some(method)
}

fn second_factor_channels(common: &FlowCommon) -> BTreeSet<Channel> {
    let fresh = common.fresh_methods();
    [Channel::Email, Channel::Sms]
        .into_iter()
        .filter(|c| !excluded(common, &fresh, c.method()))
        .collect()
}

/// Channels that would make progress on the requirements.
fn wanted_channels(common: &FlowCommon, r: &Requirements) -> BTreeSet<Channel> {
    let fresh = common.fresh_methods();
    let all: BTreeSet<AuthMethod> = common.satisfied().iter().map(|s| s.method).collect();
    let mut out = BTreeSet::new();
    if r.mfa {
        out.extend(second_factor_channels(common));
    }
    for strength in &r.authentication_strengths {
        for combination in strength {
            let missing: Vec<AuthMethod> = combination
                .iter()
                .copied()
                .filter(|m| !all.contains(m))
                .collect();
            // A combination met by older methods but still required wants them fresh.
            let candidates = if missing.is_empty() {
                combination.clone()
            } else if missing.len() == 1 {
                missing
            } else {
                continue;
            };
            out.extend(
                candidates
                    .into_iter()
                    .filter(|m| !excluded(common, &fresh, *m))
                    .filter_map(Channel::for_method),
            );
        }
    }
    out
}

/// A method change needs a second factor proven in this flow when the user has a
/// usable one already (OWASP: changing a factor requires the current factors).
fn needs_fresh_second_factor(common: &FlowCommon, user: &UserRecord, cx: &Cx) -> bool {
    let second: Vec<Channel> = [Channel::Email, Channel::Sms]
        .into_iter()
        .filter(|c| common.first_factor != Some(c.method()))
        .collect();
    let fresh = common.fresh_methods();
    let proven = second.iter().any(|c| fresh.contains(&c.method()));
    let policy = &cx.config.authentication_methods_policy;
    let has_usable = user
        .strong_methods
        .iter()
        .any(|m| second.contains(&m.channel) && policy.allows(m.channel, user));
    has_usable && !proven
}

/// Offers the user's usable methods for `wanted`, else registration, else blocks.
fn second_factor(
    common: FlowCommon,
    user: &UserRecord,
    wanted: BTreeSet<Channel>,
    may_register: bool,
    cx: &mut Cx,
) -> Result<Next, FlowError> {
    let policy = &cx.config.authentication_methods_policy;
    let usable: Vec<&super::user::StrongMethod> = user
        .strong_methods
        .iter()
        .filter(|m| wanted.contains(&m.channel) && policy.allows(m.channel, user))
        .collect();
    // A phone whose region the app no longer allows is not offered; if it was the only
    // method, the flow ends with a clear `provider_blocked_by_admin`.
    let (usable, region_blocked): (Vec<_>, Vec<_>) = usable.into_iter().partition(|m| {
        m.channel != Channel::Sms || sms_guard::region_allowed(&common, m.target.expose(), cx)
    });
    if usable.is_empty() && !region_blocked.is_empty() {
        return Ok(block(
            &common,
            BlockReason::SmsRegionBlocked,
            Vec::new(),
            cx,
        ));
    }
    let methods: Vec<MfaMethod> = usable
        .into_iter()
        .map(|m| MfaMethod {
            id: m.id.clone(),
            channel: m.channel,
            login_hint: match m.channel {
                Channel::Email => contact::mask_email(m.target.expose()),
                Channel::Sms => contact::mask_phone(m.target.expose()),
            },
        })
        .collect();
    if !methods.is_empty() {
        if !common.capabilities.mfa_required {
            return Ok(redirect(
                &common,
                "client is missing mfa_required capability",
                cx,
            ));
        }
        cx.audit(&common, "mfa.required", None, None);
        return Ok(Next::to(
            FlowState::ExpectMfaMethod(ExpectMfaMethod {
                common,
                methods: methods.clone(),
            }),
            Reply::MfaRequired { methods },
        ));
    }
    let channels: Vec<Channel> = wanted
        .into_iter()
        .filter(|c| policy.allows(*c, user))
        .collect();
    // Registration is the first independent method of an account. An account with a
    // registered method that cannot serve here (a second mailbox excluded because this
    // flow's first factor was email, a phone with no sender, a channel the admin turned
    // off) is blocked instead: letting it register a new method would let whoever holds
    // the first factor alone (a password, or the mailbox a reset went to) add their own
    // phone and skip the owner's second factor.
    if !may_register || has_independent_method(&common, user) || channels.is_empty() {
        return Ok(block(
            &common,
            BlockReason::NoUsableSecondFactor,
            Vec::new(),
            cx,
        ));
    }
    if common.facts.is_risky() {
        return Ok(block(
            &common,
            BlockReason::RiskWithoutRegisteredMethod,
            Vec::new(),
            cx,
        ));
    }
    if !common.capabilities.registration_required {
        return Ok(redirect(
            &common,
            "client is missing registration_required capability",
            cx,
        ));
    }
    cx.audit(&common, "registration.required", None, None);
    let methods = register::options(&channels, &common);
    Ok(Next::to(
        FlowState::ExpectRegistrationMethod(ExpectRegistrationMethod { common, channels }),
        Reply::RegistrationRequired { methods },
    ))
}

/// Whether the account has a registered method other than what this flow already
/// proved: its own address as an email method proves nothing more once the first factor
/// was a code sent there, so such an account may still register a real second factor.
fn has_independent_method(common: &FlowCommon, user: &UserRecord) -> bool {
    let mailbox_proven = common.first_factor == Some(AuthMethod::Email);
    user.strong_methods.iter().any(|m| {
        !(mailbox_proven
            && m.channel == Channel::Email
            && m.target.expose().eq_ignore_ascii_case(user.email.expose()))
    })
}

/// Ends the flow without tokens.
pub(crate) fn block(
    common: &FlowCommon,
    reason: BlockReason,
    policy_ids: Vec<String>,
    cx: &mut Cx,
) -> Next {
    let code = serde_json::to_value(reason)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string));
    if common.kind == FlowKind::MethodChange {
        cx.audit(common, "flow.blocked", None, code);
    } else {
        let outcome = SignInOutcome::Blocked(reason);
        cx.sign_in_attempt(common, "flow.blocked", None, code, outcome, None);
    }
    Next::end(Reply::Blocked { reason, policy_ids })
}

/// Ends the flow with a web fallback. A flow that got past its first factor is a sign-in
/// attempt the log must show (interrupted), as [`block`] logs one; earlier redirects (a
/// client that cannot run the first factor at all), a sign-up that has no account yet
/// (a password given at its start is not a sign-in) and method changes are audit lines.
pub(crate) fn redirect(common: &FlowCommon, reason: &str, cx: &mut Cx) -> Next {
    let factor_done = !common.prior.is_empty() || !common.proven().is_empty();
    let has_account = common.user_id.is_some();
    if common.kind != FlowKind::MethodChange && factor_done && has_account {
        let outcome = SignInOutcome::Interrupted;
        cx.sign_in_attempt(
            common,
            "flow.redirect",
            None,
            Some(reason.to_string()),
            outcome,
            None,
        );
    } else {
        cx.audit(common, "flow.redirect", None, Some(reason.to_string()));
    }
    Next::end(Reply::Redirect {
        reason: reason.to_string(),
    })
}

/// Everything required is satisfied: issue tokens, or apply a method change.
fn finish(common: FlowCommon, mut user: UserRecord, cx: &mut Cx) -> Result<Next, FlowError> {
    if common.kind == FlowKind::MethodChange {
        return register::apply_method_change(common, user, cx);
    }
    // An account disabled while the flow ran (or since its continuation token was
    // issued) gets no tokens: the redemption of a finished sign-up, reset or
    // registration checks no password or code that would have refused it.
    if user.lockout.disabled {
        let rejection = Rejection::AccountLocked { until: None };
        cx.sign_in_attempt(
            &common,
            "flow.refused",
            None,
            Some("account_disabled".into()),
            SignInOutcome::Rejected {
                rejection: rejection.clone(),
                second_factor: false,
            },
            None,
        );
        return Ok(Next::reject(None, rejection));
    }
    if user.lockout.record_success(cx.now) {
        cx.effects.push(Effect::UpdateUser(user.clone()));
    }
    let satisfied = common.satisfied();
    let distinct: BTreeSet<AuthMethod> = satisfied.iter().map(|s| s.method).collect();
    let mut amr: Vec<String> = distinct
        .iter()
        .map(|m| channel::amr_value(*m).to_string())
        .collect();
    if distinct.len() >= 2 {
        amr.push("mfa".to_string());
    }
    let acr = if distinct.len() >= 2 { "2" } else { "1" }.to_string();
    let auth_time = satisfied.iter().map(|s| s.at).max().unwrap_or(cx.now);
    cx.effects.push(Effect::IssueTokens(TokenGrant {
        user_id: user.id.clone(),
        app_id: common.app_id.clone(),
        email: user.email.clone(),
        display_name: user.display_name.clone(),
        amr: amr.clone(),
        acr: acr.clone(),
        acrs: common.auth_contexts.clone(),
        auth_time,
        methods: satisfied,
    }));
    let amr_text = Some(amr.join(" "));
    cx.sign_in_attempt(
        &common,
        "flow.signed_in",
        None,
        amr_text,
        SignInOutcome::Success,
        None,
    );
    Ok(Next::end(Reply::SignedIn {
        user_id: user.id,
        amr,
        acr,
    }))
}

/// Conditional Access requires a new password (grant control `passwordChange`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpectPasswordChange {
    /// The flow.
    pub common: FlowCommon,
}

impl ExpectPasswordChange {
    pub(crate) fn handle(self, input: FlowInput, cx: &mut Cx) -> Result<Next, FlowError> {
        let FlowInput::SubmitPassword { password: new } = input else {
            return Err(unexpected("expectPasswordChange", &input));
        };
        let mut common = self.common;
        let mut user = cx.user_for(&common)?;
        let salt = cx.salt()?;
        let current = user.password_hash.as_ref().map(|h| h.expose().clone());
        match password::new_password(
            new.expose(),
            user.email.expose(),
            &cx.config.settings.passwords,
            current.as_deref(),
            &salt,
            cx.now,
        )? {
            Err(problem) => Ok(Next::reject(
                Some(FlowState::ExpectPasswordChange(ExpectPasswordChange {
                    common,
                })),
                Rejection::PasswordRefused { problem },
            )),
            Ok(np) => {
                user.password_hash = Some(np.hash);
                user.password_changed_at = Some(cx.now);
                cx.effects.push(Effect::UpdateUser(user.clone()));
                common.password_changed = true;
                cx.audit(&common, "password.changed", None, None);
                cx.user = Some(user);
                proceed(common, cx)
            }
        }
    }
}

/// What the continuation being redeemed followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum After {
    /// The account was just created.
    SignUp,
    /// A method was registered with a code.
    Registration,
    /// The sign-up email was registered without a new code (`preverified`);
    /// `/register/v1.0/continue` comes next.
    Preverified,
    /// The password was reset.
    Reset,
}

/// Waiting for `/oauth2/v2.0/token` with `grant_type=continuation_token`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpectTokenRequest {
    /// The flow.
    pub common: FlowCommon,
    /// What came before.
    pub after: After,
}

impl ExpectTokenRequest {
    pub(crate) fn handle(self, input: FlowInput, cx: &mut Cx) -> Result<Next, FlowError> {
        match (&input, self.after) {
            (FlowInput::RedeemContinuation, _) => proceed(self.common, cx),
            (FlowInput::Continue, After::Preverified) => Ok(Next::to(
                FlowState::ExpectTokenRequest(ExpectTokenRequest {
                    common: self.common,
                    after: After::Registration,
                }),
                Reply::Verified { expires_in: None },
            )),
            (FlowInput::PollCompletion, After::Reset) => Ok(Next::to(
                FlowState::ExpectTokenRequest(self),
                Reply::ResetCompleted,
            )),
            _ => Err(unexpected("expectTokenRequest", &input)),
        }
    }
}

/// The error for an input the step does not take.
pub(crate) fn unexpected(step: &'static str, input: &FlowInput) -> FlowError {
    FlowError::UnexpectedInput {
        step,
        input: input.name(),
    }
}

/// The first factor of an account: its password in an email-with-password flow, else
/// an email code.
pub(crate) fn account_first_factor(user: &UserRecord, cx: &Cx) -> Result<AuthMethod, FlowError> {
    let local = cx.config.user_flow.local_account()?;
    Ok(
        if local == super::config::LocalAccount::EmailPassword && user.password_hash.is_some() {
            AuthMethod::Password
        } else {
            AuthMethod::Email
        },
    )
}

/// Whether a change names an existing method (for replace and remove).
pub(crate) fn change_target_exists(change: &MethodChange, user: &UserRecord) -> bool {
    match change {
        MethodChange::Add { .. } => true,
        MethodChange::Replace { method_id } | MethodChange::Remove { method_id } => {
            user.strong_method(method_id).is_some()
        }
    }
}
