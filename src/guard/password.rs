//! Password guesses for one account are judged one at a time. The lockout's failure count
//! lives in the user record in KV and is read, then written: thirty wrong passwords sent at
//! once all read "no failures yet" and were all judged, so a burst escaped the lockout
//! (NIST SP 800-63B §5.2.2 limits *consecutive failed attempts*). Each password step
//! therefore holds its account's guard object while it reads, judges and writes back; a
//! guess that arrives meanwhile is refused unjudged. The hold lapses by itself, so a
//! request that dies holding it blocks the account for seconds, not for good.

use crate::flow::CodeKey;
use crate::time::{Seconds, Timestamp};

/// How long a hold lasts if it is never released: longer than a password step takes
/// (argon2id at ~50 ms, a few KV calls), short enough to be a brief wait for the owner.
pub const HOLD: Seconds = Seconds(10);

/// Takes the hold if it is free or has lapsed; the answer is whether it was taken.
pub fn hold(held_until: Option<Timestamp>, now: Timestamp) -> (Option<Timestamp>, bool) {
    match held_until {
        Some(until) if until > now => (Some(until), false),
        _ => (Some(now.plus(HOLD)), true),
    }
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
        assert!(first);
        let (state, second) = hold(state, Timestamp(101));
        assert!(!second, "held");
        let (_, after_lapse) = hold(state, Timestamp(100 + HOLD.0));
        assert!(after_lapse, "a hold that was never released lapses");
        let (_, after_release) = hold(None, Timestamp(101));
        assert!(after_release);
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
