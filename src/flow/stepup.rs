//! Flows for a signed-in session: step-up (an authentication context such as the
//! seeds' wire transfer, or a lapsed sign-in frequency) and method changes.
//!
//! The session's methods count as satisfied (with their times), so the policy asks
//! only for what is missing: often a single second factor, or nothing. When the policy
//! answers that sign-in frequency has lapsed, the session's methods are dropped and
//! the first factor is asked again (`ReauthenticationRequired`, then the sign-in
//! states). A method change additionally needs a second factor proven in this flow
//! whenever the user already has a usable one.

use super::cx::{Cx, Next};
use super::err::FlowError;
use super::gate;
use super::input::{MethodChange, Session, StartMethodChange, StartStepUp};
use super::register;
use super::reply::{Rejection, Reply};
use super::signin::SignInExpectChallenge;
use super::state::{FlowCommon, FlowKind, FlowState};
use super::user::UserRecord;

fn session_common(
    kind: FlowKind,
    app_id: String,
    session: Session,
    cx: &Cx,
) -> Result<(FlowCommon, UserRecord), FlowError> {
    let user = cx.user.clone().ok_or(FlowError::UserRequired)?;
    if user.id != session.user_id {
        return Err(FlowError::UserMismatch);
    }
    let mut common = FlowCommon::new(
        kind,
        app_id,
        user.email.clone(),
        cx.now,
        cx.config.settings.flow_lifetime_seconds,
    );
    common.user_id = Some(user.id.clone());
    // A method dated in the future is not evidence of anything. A session that began
    // before the password was last changed or reset was ended by that change (a reset is
    // what a person does after a leak): nothing it proved counts, so the first factor is
    // asked again.
    let ended = matches!(
        (session.signed_in_at, user.password_changed_at),
        (Some(began), Some(changed)) if began < changed
    );
    common.prior = session
        .methods
        .into_iter()
        .filter(|m| !ended && m.at <= cx.now)
        .collect();
    common.first_factor = Some(gate::account_first_factor(&user, cx)?);
    Ok((common, user))
}

/// A disabled account (by an administrator, or at the lockout's hard limit) continues no
/// session: what it proved before the switch was turned off counts for nothing, else a
/// browser's single sign-on session or an app's session would keep getting tokens for
/// it. A temporary lockout wait does not end a session (only guesses are throttled).
fn refuse_disabled(user: &UserRecord) -> Option<Next> {
    user.lockout
        .disabled
        .then(|| Next::reject(None, Rejection::AccountLocked { until: None }))
}

/// Without any session method, the first factor is needed again.
fn reauthenticate(mut common: FlowCommon, cx: &mut Cx) -> Next {
    common.first_factor = None;
    cx.audit(&common, "stepup.reauthentication_required", None, None);
    Next::to(
        FlowState::SignInExpectChallenge(SignInExpectChallenge { common }),
        Reply::ReauthenticationRequired,
    )
}

/// Opens a step-up.
pub(crate) fn start_step_up(s: StartStepUp, cx: &mut Cx) -> Result<Next, FlowError> {
    let (mut common, user) = session_common(FlowKind::StepUp, s.app_id, s.session, cx)?;
    if let Some(refused) = refuse_disabled(&user) {
        return Ok(refused);
    }
    common.capabilities = s.capabilities;
    common.challenge_types = s.challenge_types;
    common.facts = s.facts;
    common.auth_contexts = s.auth_contexts;
    if !cx.config.user_flow.serves(&common.app_id) {
        return Ok(Next::reject(None, Rejection::UnauthorizedClient));
    }
    cx.audit(&common, "flow.started", None, None);
    if common.prior.is_empty() {
        return Ok(reauthenticate(common, cx));
    }
    gate::proceed(common, cx)
}

/// Opens a method change.
pub(crate) fn start_method_change(s: StartMethodChange, cx: &mut Cx) -> Result<Next, FlowError> {
    let (mut common, user) = session_common(FlowKind::MethodChange, s.app_id, s.session, cx)?;
    if let Some(refused) = refuse_disabled(&user) {
        return Ok(refused);
    }
    common.facts = s.facts;
    if !cx.config.user_flow.serves(&common.app_id) {
        return Ok(Next::reject(None, Rejection::UnauthorizedClient));
    }
    if !gate::change_target_exists(&s.change, &user) {
        return Ok(Next::reject(None, Rejection::MethodNotFound));
    }
    let channel = match &s.change {
        MethodChange::Add { channel } => Some(*channel),
        MethodChange::Replace { method_id } => user.strong_method(method_id).map(|m| m.channel),
        MethodChange::Remove { .. } => None,
    };
    if let Some(channel) = channel
        && !register::channel_allowed(&common, &user, channel, cx)
    {
        return Ok(Next::reject(None, Rejection::ChannelNotAllowed));
    }
    common.method_change = Some(s.change);
    cx.audit(&common, "flow.started", None, None);
    if common.prior.is_empty() {
        return Ok(reauthenticate(common, cx));
    }
    gate::proceed(common, cx)
}
