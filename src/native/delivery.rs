//! What the protocol does when a code cannot be sent: the decisions behind the Worker's
//! delivery hooks, kept here so they are pure and tested.
//!
//! - **A channel with no sender is not offered.** [`only_deliverable`] turns the methods
//!   policy's configuration off for such a channel before the flow runs, so MFA offers
//!   the user's other methods (e.g. email instead of SMS), registration offers only
//!   channels that can deliver, and a user with no deliverable method is blocked with
//!   the flow's own clear reason (`NoUsableSecondFactor`). MFA is never skipped: the
//!   gate blocks rather than issue tokens without the factor.
//! - **A failed send keeps the flow where it was.** The step's new state is dropped and
//!   the state the client's continuation token points at stays ([`after_failed_send`]),
//!   so the client can retry, or pick another method, with the token it holds. The
//!   failed send still counts against the flow's code cap, so a client cannot make the
//!   Worker call a receiver without limit (each call may cost an SMS when the receiver
//!   sent it but answered too late).
//! - **The client gets `server_error` with status 503** ([`failure_error`]). Of the
//!   documented native-auth errors it is the one that says "not your input, try again":
//!   `invalid_request`/`invalid_grant` would blame the request, `access_denied` with
//!   `provider_blocked_by_*` is documented for a contact the service refuses (MSAL reads
//!   it as "contact blocked", which a lapsed provider is not), and a `redirect` would
//!   throw away the flow. 503 (not 500) because the condition is temporary; the
//!   description names the channel and, when the user has one, the other method, and
//!   `error_codes` carries Entra's custom-extension codes (1003005 timeout, 1003002 bad
//!   status) so support can tell the cases apart. No detail of the receiver (URL,
//!   status text) reaches the client.

use super::error::NativeError;
use crate::flow::methods::MethodState;
use crate::flow::{Channel, FlowConfig, FlowState};
use crate::hook::Failure;

/// Entra's sign-in log code for a custom extension that did not answer in time.
pub const EXTENSION_TIMED_OUT: u32 = 1_003_005;
/// Entra's sign-in log code for a custom extension that answered with a bad status.
pub const EXTENSION_BAD_STATUS: u32 = 1_003_002;

/// Why a code did not go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undelivered {
    /// No sender is configured for the channel.
    NoSender,
    /// The hook failed.
    Hook(Failure),
}

impl Undelivered {
    /// A stable word for the log and the audit line.
    pub fn reason(self) -> String {
        match self {
            Undelivered::NoSender => "no_sender".to_string(),
            Undelivered::Hook(f) => f.reason(),
        }
    }
}

/// The flow configuration with every channel that cannot deliver turned off in the
/// methods policy; `None` when every configured channel can deliver (use the original).
pub fn only_deliverable(
    config: &FlowConfig,
    can_send: impl Fn(Channel) -> bool,
) -> Option<FlowConfig> {
    let off: Vec<Channel> = [Channel::Email, Channel::Sms]
        .into_iter()
        .filter(|c| !can_send(*c))
        .collect();
    let affected = |id: &str| off.iter().any(|c| id.eq_ignore_ascii_case(c.as_str()));
    let policy = &config.authentication_methods_policy;
    if !policy
        .authentication_method_configurations
        .iter()
        .any(|m| m.state == MethodState::Enabled && affected(&m.id))
    {
        return None;
    }
    let mut config = config.clone();
    for method in &mut config
        .authentication_methods_policy
        .authentication_method_configurations
    {
        if affected(&method.id) {
            method.state = MethodState::Disabled;
        }
    }
    Some(config)
}

/// The channels other than `failed` the user can still get a code on at the step
/// `state` (the one the client's token points at): the other MFA methods offered, or
/// the other channels registration offers.
pub fn other_channels(state: &FlowState, failed: Channel) -> Vec<Channel> {
    let mut out: Vec<Channel> = match state {
        FlowState::ExpectMfaMethod(s) => s.methods.iter().map(|m| m.channel).collect(),
        FlowState::ExpectMfaCode(s) => s.methods.iter().map(|m| m.channel).collect(),
        FlowState::ExpectRegistrationMethod(s) => s.channels.clone(),
        FlowState::ExpectRegistrationCode(s) => s.channels.clone(),
        _ => Vec::new(),
    };
    out.retain(|c| *c != failed);
    out.sort();
    out.dedup();
    out
}

/// The state the client's token points at after a send failed: the state before the step
/// (counting the failed send, [`after_failed_send`]), so the client retries the step.
/// After a timeout, though, the delivery service may have passed the code on: then the
/// step's own state is kept, its code marked so the client's retry answers with that code
/// instead of sending a second one that would void it.
pub fn kept_after_failed_send(
    why: Undelivered,
    before: Option<FlowState>,
    next: Option<FlowState>,
) -> Option<FlowState> {
    match next {
        Some(next) if may_have_gone_out(why, Some(&next)) => Some(next.mark_code_unconfirmed()),
        _ => before.map(after_failed_send),
    }
}

/// Whether a code that failed to send may have reached the person anyway: the delivery
/// service did not answer in time (it may have passed the code on, then been slow to
/// say so), and the step's own state `next` waits for that code. The hosted pages then
/// go on to the code entry with [`late_notice`]; native auth keeps `next` for the
/// client's retry ([`kept_after_failed_send`]).
pub fn may_have_gone_out(why: Undelivered, next: Option<&FlowState>) -> bool {
    matches!(why, Undelivered::Hook(Failure::TimedOut))
        && next.is_some_and(|s| s.pending_code().is_some())
}

/// What the code page says when its code may be late ([`may_have_gone_out`]).
pub fn late_notice(channel: Channel) -> String {
    let by = match channel {
        Channel::Email => "email",
        Channel::Sms => "text message",
    };
    format!(
        "the {by} service was slow to confirm that it sent your code, so it may arrive late; if it has not arrived in a minute, ask for a new one"
    )
}

/// The state to keep under the client's token after a failed send: unchanged, except
/// that the attempt counts against the flow's code cap.
pub fn after_failed_send(mut state: FlowState) -> FlowState {
    let common = state.common_mut();
    common.codes_sent = common.codes_sent.saturating_add(1);
    state
}

/// The error for a code that could not be sent on `channel`, with `others` the
/// channels the user may pick instead ([`other_channels`]).
pub fn failure_error(channel: Channel, why: Undelivered, others: &[Channel]) -> NativeError {
    let name = |c: Channel| match c {
        Channel::Email => "email",
        Channel::Sms => "SMS",
    };
    let cause = match why {
        Undelivered::NoSender => "no sender is configured for it",
        Undelivered::Hook(Failure::TimedOut) => "the delivery service did not answer in time",
        Undelivered::Hook(Failure::Unreachable) => "the delivery service could not be reached",
        Undelivered::Hook(Failure::Refused(_)) => "the delivery service refused it",
    };
    let next = match others.first() {
        Some(other) => format!(
            "choose another method ({}) or try again later",
            name(*other)
        ),
        None => "try again later with the same continuation token".to_string(),
    };
    let mut error = NativeError::server_error(format!(
        "the code could not be sent by {}: {cause}; {next}",
        name(channel)
    ));
    error.status = 503;
    match why {
        Undelivered::Hook(Failure::TimedOut) => error.code(EXTENSION_TIMED_OUT),
        Undelivered::Hook(Failure::Refused(_)) => error.code(EXTENSION_BAD_STATUS),
        Undelivered::Hook(Failure::Unreachable) | Undelivered::NoSender => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::MfaMethod;

    fn config() -> FlowConfig {
        crate::native::defaults::builtin_flow_config().unwrap()
    }

    fn state(methods: &[Channel]) -> FlowState {
        let mut value = serde_json::to_value(mfa_state()).unwrap();
        value["methods"] = serde_json::to_value(
            methods
                .iter()
                .map(|c| MfaMethod {
                    id: c.as_str().into(),
                    channel: *c,
                    login_hint: "x".into(),
                })
                .collect::<Vec<_>>(),
        )
        .unwrap();
        serde_json::from_value(value).unwrap()
    }

    /// An `ExpectMfaMethod` state, built the way the flow builds it (through the JSON
    /// shape it stores), so the test needs no private constructor.
    fn mfa_state() -> FlowState {
        let common = serde_json::json!({
            "kind": "signIn", "appId": "app", "email": "a@example.com", "userId": "u1",
            "startedAt": 0, "expiresAt": 1800,
            "capabilities": {"mfaRequired": true, "registrationRequired": true},
            "challengeTypes": {"password": true, "oob": true},
            "codesSent": 2
        });
        serde_json::from_value(serde_json::json!({
            "step": "expectMfaMethod", "common": common, "methods": []
        }))
        .unwrap()
    }

    #[test]
    fn a_channel_without_sender_is_turned_off_and_the_rest_is_kept() {
        let original = config();
        assert!(only_deliverable(&original, |_| true).is_none());
        let no_sms = only_deliverable(&original, |c| c == Channel::Email).unwrap();
        let state_of = |cfg: &FlowConfig, id: &str| {
            cfg.authentication_methods_policy
                .authentication_method_configurations
                .iter()
                .find(|m| m.id.eq_ignore_ascii_case(id))
                .map(|m| m.state)
        };
        assert_eq!(state_of(&no_sms, "sms"), Some(MethodState::Disabled));
        assert_eq!(state_of(&no_sms, "email"), Some(MethodState::Enabled));
        assert_eq!(no_sms.user_flow, original.user_flow);
        // Already off: nothing to change.
        assert!(only_deliverable(&no_sms, |c| c == Channel::Email).is_none());
        let none = only_deliverable(&original, |_| false).unwrap();
        assert_eq!(state_of(&none, "email"), Some(MethodState::Disabled));
    }

    #[test]
    fn the_other_methods_are_those_offered_at_the_kept_step() {
        let both = state(&[Channel::Sms, Channel::Email, Channel::Sms]);
        assert_eq!(other_channels(&both, Channel::Sms), vec![Channel::Email]);
        assert_eq!(
            other_channels(&state(&[Channel::Sms]), Channel::Sms),
            Vec::<Channel>::new()
        );
    }

    #[test]
    fn a_failed_send_counts_against_the_cap_and_keeps_everything_else() {
        let before = state(&[Channel::Sms]);
        let after = after_failed_send(before.clone());
        assert_eq!(after.common().codes_sent, 3);
        assert_eq!(after.step_name(), before.step_name());
        let mut same = after.common().clone();
        same.codes_sent = 2;
        assert_eq!(&same, before.common());
    }

    #[test]
    fn the_error_is_a_temporary_server_error_that_names_the_way_out() {
        let e = failure_error(
            Channel::Sms,
            Undelivered::Hook(Failure::Refused(500)),
            &[Channel::Email],
        );
        assert_eq!((e.status, e.error), (503, "server_error"));
        assert_eq!(e.error_codes, vec![EXTENSION_BAD_STATUS]);
        assert!(e.description.contains("by SMS"), "{}", e.description);
        assert!(
            e.description.contains("another method (email)"),
            "{}",
            e.description
        );
        assert!(!e.description.contains("500"), "{}", e.description);
        let e = failure_error(Channel::Email, Undelivered::Hook(Failure::TimedOut), &[]);
        assert_eq!(e.error_codes, vec![EXTENSION_TIMED_OUT]);
        assert!(
            e.description.contains("same continuation token"),
            "{}",
            e.description
        );
        let e = failure_error(Channel::Email, Undelivered::NoSender, &[]);
        assert!(e.error_codes.is_empty());
        assert!(e.description.contains("no sender"), "{}", e.description);
        assert_eq!(
            Undelivered::Hook(Failure::Unreachable).reason(),
            "unreachable"
        );
    }

    #[test]
    fn only_a_timeout_keeps_the_steps_own_state_with_its_code_marked() {
        use crate::flow::{FlowCommon, FlowKind, FlowState};
        use crate::time::Timestamp;
        let common = FlowCommon::new(
            FlowKind::SignIn,
            "app".into(),
            crate::pii::Pii::new("a@example.com".into()),
            Timestamp(1),
            600,
        );
        let before = FlowState::SignInExpectPassword(crate::flow::signin::SignInExpectPassword {
            common: common.clone(),
        });
        let code = crate::flow::codes::issue(
            &crate::flow::CodeKey::new(vec![1; 32]).unwrap(),
            &mut crate::flow::Entropy::new(vec![9; 64]),
            &crate::flow::config::CodeSettings::default(),
            crate::flow::Channel::Email,
            crate::pii::Pii::new("a@example.com".into()),
            crate::flow::CodePurpose::SignIn,
            Timestamp(1),
            0,
        )
        .unwrap()
        .pending;
        let waiting = FlowState::SignInExpectCode(crate::flow::signin::SignInExpectCode {
            common: common.clone(),
            code,
        });
        // A timeout with the step's code-waiting state: that state, its code marked.
        let kept = kept_after_failed_send(
            Undelivered::Hook(Failure::TimedOut),
            Some(before.clone()),
            Some(waiting.clone()),
        )
        .unwrap();
        assert!(kept.pending_code().unwrap().is_unconfirmed());
        assert_eq!(kept.common().codes_sent, waiting.common().codes_sent);
        // Any other failure: the state before the step, counted, whatever came next.
        let refused = kept_after_failed_send(
            Undelivered::Hook(Failure::Unreachable),
            Some(before.clone()),
            Some(waiting),
        )
        .unwrap();
        assert!(refused.pending_code().is_none());
        let next = before.clone();
        // No code in the step's state: the state before the step, counted.
        let kept = kept_after_failed_send(
            Undelivered::Hook(Failure::TimedOut),
            Some(before.clone()),
            Some(next),
        )
        .unwrap();
        assert_eq!(kept.common().codes_sent, before.common().codes_sent + 1);
        for why in [
            Undelivered::NoSender,
            Undelivered::Hook(Failure::Unreachable),
        ] {
            let kept = kept_after_failed_send(why, Some(before.clone()), None).unwrap();
            assert_eq!(kept.common().codes_sent, before.common().codes_sent + 1);
        }
    }
}
