//! The per-step context: the values a step receives (config, key, policy, time,
//! entropy, user record) and the effects it emits, with the helpers every flow shares
//! (sending codes under the limits, checking codes under the lockout, auditing).

use super::access::AccessPolicy as _;
use super::channel::Channel;
use super::codes::{self, CodeCheck, CodeKey, CodePurpose, PendingCode, VerifiedCode};
use super::config::{CodeSettings, FlowConfig};
use super::contact;
use super::effect::{AuditEvent, CodeDelivery, Effect};
use super::entropy::Entropy;
use super::err::FlowError;
use super::reply::{Rejection, Reply};
use super::state::{FlowCommon, FlowState};
use super::user::UserRecord;
use crate::audit::{AuthStep, SignInEvidence, SignInOutcome};
use crate::pii::{Pii, Secret};
use crate::policy::AuthMethod;
use crate::time::Timestamp;

/// Where a handler goes next: the new state (none when the flow is over) and the reply.
pub(crate) struct Next {
    pub(crate) state: Option<FlowState>,
    pub(crate) reply: Reply,
}

impl Next {
    pub(crate) fn to(state: FlowState, reply: Reply) -> Self {
        Next {
            state: Some(state),
            reply,
        }
    }

    pub(crate) fn end(reply: Reply) -> Self {
        Next { state: None, reply }
    }

    pub(crate) fn reject(state: Option<FlowState>, rejection: Rejection) -> Self {
        Next {
            state,
            reply: Reply::Rejected { rejection },
        }
    }
}

/// What a step works with.
pub(crate) struct Cx<'a> {
    pub(crate) config: &'a FlowConfig,
    pub(crate) key: &'a CodeKey,
    pub(crate) policy: super::access::Effective<'a>,
    pub(crate) now: Timestamp,
    pub(crate) entropy: Entropy,
    pub(crate) user: Option<UserRecord>,
    pub(crate) effects: Vec<Effect>,
}

/// The result of checking a code under the account lockout.
pub(crate) enum Checked {
    Valid(VerifiedCode),
    Refused(Rejection),
}

impl Cx<'_> {
    pub(crate) fn codes(&self) -> &CodeSettings {
        &self.config.settings.codes
    }

    /// Writes an audit event (ids and codes only).
    pub(crate) fn audit(
        &mut self,
        common: &FlowCommon,
        event: &str,
        channel: Option<Channel>,
        reason: Option<String>,
    ) {
        self.push_audit(common, event, channel, reason, None);
    }

    fn push_audit(
        &mut self,
        common: &FlowCommon,
        event: &str,
        channel: Option<Channel>,
        reason: Option<String>,
        sign_in: Option<Box<crate::audit::SignInEvidence>>,
    ) {
        self.effects.push(Effect::Audit(AuditEvent {
            at: self.now,
            flow: common.kind,
            event: event.to_string(),
            user_id: common.user_id.clone(),
            app_id: common.app_id.clone(),
            channel,
            reason,
            sign_in,
        }));
    }

    /// Writes the audit event of a sign-in attempt that ended, with the evidence for the
    /// sign-in log: the steps so far plus the one that `failed`, and each Conditional
    /// Access policy's result, judged now on what this flow has proven (not at all before
    /// a first factor, as in Entra, where Conditional Access runs after it).
    pub(crate) fn sign_in_attempt(
        &mut self,
        common: &FlowCommon,
        event: &str,
        channel: Option<Channel>,
        reason: Option<String>,
        outcome: SignInOutcome,
        failed: Option<AuthMethod>,
    ) {
        let mut steps = Vec::new();
        let mut primary_seen = false;
        let mut is_primary = |method: AuthMethod| {
            let primary = !primary_seen && common.first_factor == Some(method);
            primary_seen |= primary;
            primary
        };
        for m in &common.prior {
            steps.push(AuthStep::satisfied(m, is_primary(m.method), true));
        }
        for m in common.proven() {
            steps.push(AuthStep::satisfied(m, is_primary(m.method), false));
        }
        if let Some(method) = failed {
            let second_factor = matches!(
                outcome,
                SignInOutcome::Rejected {
                    second_factor: true,
                    ..
                }
            );
            steps.push(AuthStep {
                method,
                at: self.now,
                succeeded: false,
                primary: !second_factor,
                previously_satisfied: false,
            });
        }
        let user = self
            .user
            .as_ref()
            .filter(|u| common.user_id.as_ref() == Some(&u.id));
        let factor_done = !common.prior.is_empty() || !common.proven().is_empty();
        let conditional_access = match user {
            Some(user) if factor_done => Some(self.policy.applied_policies(
                &super::gate::sign_in(common, user),
                &common.satisfied(),
                self.now,
            )),
            _ => None,
        };
        let evidence = SignInEvidence {
            user_principal_name: common.email.clone(),
            ip_address: common.facts.ip_address.clone(),
            country: common.facts.country.clone(),
            outcome,
            steps,
            conditional_access,
        };
        self.push_audit(common, event, channel, reason, Some(Box::new(evidence)));
    }

    /// The flow's user record, checked to be the flow's user.
    pub(crate) fn user_for(&self, common: &FlowCommon) -> Result<UserRecord, FlowError> {
        let user = self.user.as_ref().ok_or(FlowError::UserRequired)?;
        match &common.user_id {
            Some(id) if id == &user.id => Ok(user.clone()),
            _ => Err(FlowError::UserMismatch),
        }
    }

    /// A rejection if the account is locked now.
    pub(crate) fn locked(&self, user: &UserRecord) -> Option<Rejection> {
        user.lockout
            .check(self.now)
            .err()
            .map(|l| Rejection::AccountLocked { until: l.until })
    }

    /// Sends a code, within the flow cap and, for a resend (`previous`), the step cap
    /// and cool-down. The inner `Err` is a rejection for the client.
    pub(crate) fn send_code(
        &mut self,
        common: &mut FlowCommon,
        channel: Channel,
        to: Pii<String>,
        purpose: CodePurpose,
        previous: Option<&PendingCode>,
    ) -> Result<Result<(PendingCode, Reply), Rejection>, FlowError> {
        let settings = self.codes().clone();
        // The last send of this very code timed out, so it may have arrived: answer with
        // it again, once, rather than send a second code that voids it. A resend after
        // this follows the usual cool-down and caps.
        if let Some(prev) = previous
            .filter(|p| p.may_reoffer(self.now) && p.channel() == channel && p.destination() == &to)
        {
            let pending = prev.reoffered();
            self.audit(common, "code.reoffered", Some(channel), None);
            let reply = code_sent(&pending, purpose, &settings);
            return Ok(Ok((pending, reply)));
        }
        if let Some(prev) = previous {
            let wait = prev.cooldown_left(self.now, &settings);
            if wait > 0 {
                return Ok(Err(Rejection::ResendTooSoon { retry_after: wait }));
            }
            if prev.sends() >= settings.max_sends_per_step {
                return Ok(Err(Rejection::TooManyCodes));
            }
        }
        if common.codes_sent >= settings.max_codes_per_flow {
            return Ok(Err(Rejection::TooManyCodes));
        }
        let issued = codes::issue(
            self.key,
            &mut self.entropy,
            &settings,
            channel,
            to,
            purpose,
            self.now,
            previous.map_or(0, PendingCode::sends),
        )?;
        common.codes_sent = common.codes_sent.saturating_add(1);
        let pending = issued.pending;
        self.effects.push(Effect::SendCode(CodeDelivery {
            channel,
            to: pending.destination().clone(),
            code: issued.plaintext,
            purpose,
            expires_at: pending.expires_at(),
        }));
        self.audit(common, "code.sent", Some(channel), None);
        let reply = code_sent(&pending, purpose, &settings);
        Ok(Ok((pending, reply)))
    }

    /// Checks a code. For an existing account (`user`), a locked account is refused
    /// before any comparison, and a wrong code counts a failure on the account (the
    /// caller gets the updated record through an `UpdateUser` effect).
    pub(crate) fn check_code(
        &mut self,
        common: &FlowCommon,
        pending: &mut PendingCode,
        code: &Secret<String>,
        user: Option<&mut UserRecord>,
    ) -> Checked {
        let channel = Some(pending.channel());
        // A sign-in code (first factor) or an MFA code: a refusal is a failed sign-in
        // attempt for the sign-in log. Sign-up, reset and registration codes are not.
        let second_factor = match pending.purpose() {
            CodePurpose::SignIn => Some(false),
            CodePurpose::Mfa => Some(true),
            _ => None,
        };
        if let Some(u) = user.as_deref()
            && let Some(rejection) = self.locked(u)
        {
            if let Some(second_factor) = second_factor {
                self.refused(common, channel, "account_locked", &rejection, second_factor);
            }
            return Checked::Refused(rejection);
        }
        let max = self.codes().max_attempts;
        let (reason, rejection) = match pending.check(self.key, code, self.now, max) {
            CodeCheck::Valid(v) => {
                self.audit(common, "code.verified", channel, None);
                return Checked::Valid(v);
            }
            CodeCheck::Wrong { attempts_left } => {
                if let Some(u) = user {
                    self.fail(u);
                }
                ("invalid_code", Rejection::InvalidCode { attempts_left })
            }
            CodeCheck::Expired => ("expired", Rejection::CodeExpired),
            CodeCheck::Exhausted => ("exhausted", Rejection::CodeAttemptsExhausted),
        };
        match second_factor {
            Some(second_factor) => {
                self.refused(common, channel, reason, &rejection, second_factor);
            }
            None => self.audit(common, "code.rejected", channel, Some(reason.into())),
        }
        Checked::Refused(rejection)
    }

    /// The `code.rejected` event of a sign-in or MFA code, with its sign-in evidence.
    fn refused(
        &mut self,
        common: &FlowCommon,
        channel: Option<Channel>,
        reason: &str,
        rejection: &Rejection,
        second_factor: bool,
    ) {
        self.sign_in_attempt(
            common,
            "code.rejected",
            channel,
            Some(reason.to_string()),
            SignInOutcome::Rejected {
                rejection: rejection.clone(),
                second_factor,
            },
            channel.map(Channel::method),
        );
    }

    /// Counts a failure on the account and emits the updated record.
    pub(crate) fn fail(&mut self, user: &mut UserRecord) {
        let settings = self.config.settings.lockout.clone();
        user.lockout.record_failure(self.now, &settings);
        self.effects.push(Effect::UpdateUser(user.clone()));
    }

    /// A fresh 16-byte salt.
    pub(crate) fn salt(&mut self) -> Result<[u8; 16], FlowError> {
        self.entropy.take::<16>()
    }
}

/// The reply for a code that is (or, re-offered, was) on its way.
fn code_sent(pending: &PendingCode, purpose: CodePurpose, settings: &CodeSettings) -> Reply {
    let channel = pending.channel();
    let label = match channel {
        Channel::Email => contact::mask_email(pending.destination().expose()),
        Channel::Sms => contact::mask_phone(pending.destination().expose()),
    };
    Reply::CodeSent {
        channel,
        target_label: label,
        target: (purpose == CodePurpose::Registration).then(|| pending.destination().clone()),
        code_length: settings.length,
        interval: settings.resend_cooldown_seconds,
        expires_in: settings.lifetime_seconds,
    }
}
