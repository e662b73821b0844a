//! Password guesses for one account are judged one at a time. The lockout's failure count
//! lives in the user record in KV and is read, then written: thirty wrong passwords sent at
//! once all read "no failures yet" and were all judged, so a burst escaped the lockout
//! (NIST SP 800-63B §5.2.2 limits *consecutive failed attempts*). Each password step
//! therefore holds its account's guard object, then reads the user record, judges and
//! writes it back; a guess that arrives meanwhile is refused unjudged. The hold lapses by
//! itself, so a request that dies holding it blocks the account for seconds, not for good,
//! and a release frees only the hold it took (its ticket), never a later one.
//!
//! Across locations KV may still show an older record for up to a minute, so a guess
//! there can be judged on a stale count: the hold makes bursts count, not a spread of
//! single guesses over many locations (that needs the count itself in the object).

use crate::flow::{CodeKey, FlowInput, FlowState};
use crate::time::{Seconds, Timestamp};

/// Whether this input is a password judged against the account's lockout: a sign-in
/// password. Setting a password (sign-up, a reset, a required change) judges nothing and
/// needs no hold.
pub fn needs_hold(input: &FlowInput, state: Option<&FlowState>) -> bool {
    matches!(input, FlowInput::SubmitPassword { .. })
        && matches!(state, Some(FlowState::SignInExpectPassword(_)))
}

/// How long a hold lasts if it is never released: longer than a password step takes
/// (argon2id at ~50 ms, a few KV calls), short enough to be a brief wait for the owner.
pub const HOLD: Seconds = Seconds(10);

/// Takes the hold if it is free or has lapsed; the answer is the ticket (when this hold
/// lapses) that releases it, or `None` while another step holds the account.
pub fn hold(
    held_until: Option<Timestamp>,
    now: Timestamp,
) -> (Option<Timestamp>, Option<Timestamp>) {
    match held_until {
        Some(until) if until > now => (Some(until), None),
        _ => {
            let until = now.plus(HOLD);
            (Some(until), Some(until))
        }
    }
}

/// Frees the hold `ticket` took; a hold taken since (after that one lapsed) stays.
pub fn release(held_until: Option<Timestamp>, ticket: Timestamp) -> Option<Timestamp> {
    held_until.filter(|until| *until != ticket)
}

/// The object of one account's password guesses, named by a keyed hash of its id.
pub fn password_object_name(key: &CodeKey, tenant: &str, user_id: &str) -> String {
    let hash = key.keyed_hash(&format!("vestibule.guard.v1/{tenant}/password"), user_id);
    format!("password/{tenant}/{}", super::hex16(&hash))
}

/// The protocol error for a guess refused while another is judged: `invalid_grant`
/// 50053 (too many attempts), as for a locked account, since it is one of a burst.
pub fn busy_error() -> crate::native::NativeError {
    crate::native::NativeError::new(
        "invalid_grant",
        "AADSTS50053: another password for this account is being checked; try again in a moment",
    )
    .code(50_053)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hold_at_a_time_until_released_or_lapsed() {
        let (state, first) = hold(None, Timestamp(100));
        let ticket = first.unwrap();
        let (state, second) = hold(state, Timestamp(101));
        assert_eq!(second, None, "held");
        let (_, after_release) = hold(release(state, ticket), Timestamp(101));
        assert!(after_release.is_some());
        // A hold that lapsed and was taken by another step is not freed by the old ticket.
        let (lapsed, next) = hold(state, Timestamp(100 + HOLD.0));
        let next = next.unwrap();
        assert_eq!(release(lapsed, ticket), Some(next));
        assert_eq!(release(lapsed, next), None);
    }

    #[test]
    fn only_a_sign_in_password_is_held() {
        let password = FlowInput::SubmitPassword {
            password: crate::pii::Secret::new("p".into()),
        };
        let common = crate::flow::FlowCommon::new(
            crate::flow::FlowKind::SignIn,
            "a".into(),
            crate::pii::Pii::new("a@example.com".into()),
            Timestamp(1),
            600,
        );
        let state =
            FlowState::SignInExpectPassword(crate::flow::signin::SignInExpectPassword { common });
        assert!(needs_hold(&password, Some(&state)));
        assert!(!needs_hold(&password, None));
        let challenge = FlowInput::Challenge {
            challenge_types: None,
        };
        assert!(!needs_hold(&challenge, Some(&state)));
    }

    #[test]
    fn names_are_per_account_and_hide_the_id() {
        let key = CodeKey::new(vec![3; 32]).unwrap();
        let a = password_object_name(&key, "t", "user-a");
        assert!(a.starts_with("password/t/") && !a.contains("user-a"));
        assert_ne!(a, password_object_name(&key, "t", "user-b"));
        assert_eq!(busy_error().error_codes, vec![50_053]);
    }
}
