//! Giving back the velocity counts of a code that never went out.
//!
//! Sends are counted before the code is delivered ([`super::velocity`]: the Worker asks
//! the counters after the flow step and before it applies the step's effects), so that
//! two racing requests cannot both slip under a cap. When the delivery then fails, the
//! count stays, and the error asks the user to try again: after three 503s from a
//! lapsed SMS provider, the recovered provider was met with "too many codes" although
//! no code had ever been sent. So a send whose delivery was refused, could not reach the
//! receiver, or had no sender is given back ([`should_refund`]).
//!
//! A delivery that timed out is *not* given back: the receiver may have passed the code
//! to the provider and answered too late (the same reason a timeout is never retried,
//! [`crate::hook::retry`]). Counting it errs on the side of fewer messages.
//!
//! The refund restores the counter as it was before the send ([`refund`], from the
//! [`VelocityState::undo`] the send left) when that send is still the latest. When another send was
//! counted since (a concurrent request), only this send's entry leaves the burst window
//! and the escalation level stays: stricter than an exact undo, never looser.

use super::velocity::VelocityState;
use crate::hook::Failure;
use crate::native::delivery::Undelivered;
use crate::time::Timestamp;

/// Whether the counts of a send that failed this way are given back: when nothing can
/// have been sent (refused, unreachable, no sender), not when it timed out.
pub fn should_refund(why: Undelivered) -> bool {
    match why {
        Undelivered::NoSender => true,
        Undelivered::Hook(Failure::Refused(_) | Failure::Unreachable) => true,
        Undelivered::Hook(Failure::TimedOut) => false,
    }
}

/// The counter with the send counted at `sent_at` given back; the flag says whether
/// there was such a send to give back (a refund twice, or for a send this counter
/// never counted, changes nothing).
pub fn refund(mut state: VelocityState, sent_at: Timestamp) -> (VelocityState, bool) {
    match state.undo.take() {
        Some(before) if state.last_send == Some(sent_at) => {
            state.recent = before.recent;
            state.level = before.level;
            state.last_send = before.last_send;
            (state, true)
        }
        undo => {
            state.undo = undo;
            match state.recent.iter().position(|t| *t == sent_at) {
                Some(i) => {
                    state.recent.remove(i);
                    (state, true)
                }
                None => (state, false),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::velocity::{SendVerdict, SmsVelocity, decide};

    fn sends(times: &[u64]) -> VelocityState {
        let limits = SmsVelocity::default().number;
        times.iter().fold(VelocityState::default(), |s, t| {
            let (next, verdict) = decide(s, &limits, Timestamp(*t));
            assert_eq!(verdict, SendVerdict::Allowed, "at {t}");
            next
        })
    }

    #[test]
    fn only_sends_that_cannot_have_gone_out_are_given_back() {
        assert!(should_refund(Undelivered::NoSender));
        assert!(should_refund(Undelivered::Hook(Failure::Unreachable)));
        for status in [503, 429, 500, 400, 302] {
            assert!(should_refund(Undelivered::Hook(Failure::Refused(status))));
        }
        assert!(!should_refund(Undelivered::Hook(Failure::TimedOut)));
    }

    #[test]
    fn failed_sends_given_back_leave_the_cap_for_the_one_that_works() {
        let limits = SmsVelocity::default().number;
        // Three failed deliveries, each given back: the fourth goes out, and the cap
        // is what it would be had the three never been tried.
        let mut state = VelocityState::default();
        for t in [0, 10, 20] {
            let (next, verdict) = decide(state, &limits, Timestamp(t));
            assert_eq!(verdict, SendVerdict::Allowed);
            let (next, refunded) = refund(next, Timestamp(t));
            assert!(refunded);
            state = next;
        }
        assert_eq!(state, VelocityState::default());
        let (_, verdict) = decide(state, &limits, Timestamp(30));
        assert_eq!(verdict, SendVerdict::Allowed);
        // Without refunds the same four are refused at the fourth.
        let (_, verdict) = decide(sends(&[0, 10, 20]), &limits, Timestamp(30));
        assert!(matches!(verdict, SendVerdict::Refused { .. }));
    }

    #[test]
    fn a_refund_restores_the_escalation_the_send_caused() {
        let limits = SmsVelocity::default().number;
        let before = sends(&[0, 1]);
        let (after, _) = decide(before.clone(), &limits, Timestamp(2));
        assert_eq!(after.level, 1, "the third send escalates");
        let (back, refunded) = refund(after, Timestamp(2));
        assert!(refunded);
        assert_eq!((back.recent, back.level), (before.recent, before.level));
        assert_eq!(back.last_send, Some(Timestamp(1)));
    }

    #[test]
    fn a_refund_twice_or_for_another_send_changes_nothing() {
        let state = sends(&[0, 5]);
        let (once, first) = refund(state.clone(), Timestamp(5));
        assert!(first);
        let (twice, second) = refund(once.clone(), Timestamp(5));
        assert!(!second);
        assert_eq!(twice, once);
        let (other, refunded) = refund(state.clone(), Timestamp(7));
        assert!(!refunded);
        assert_eq!(other, state);
    }

    #[test]
    fn an_older_send_is_taken_out_of_the_window_but_the_level_stays() {
        // Sends at 0, 1, 2 (escalated to level 1); the one at 1 failed and is refunded
        // after the one at 2 was counted: one entry leaves the window, the level stays.
        let state = sends(&[0, 1, 2]);
        let (back, refunded) = refund(state.clone(), Timestamp(1));
        assert!(refunded);
        assert_eq!(back.recent, vec![Timestamp(0), Timestamp(2)]);
        assert_eq!(back.level, state.level);
        assert_eq!(back.last_send, Some(Timestamp(2)));
    }

    #[test]
    fn states_stored_before_refunds_load_and_refund_conservatively() {
        let old: VelocityState =
            serde_json::from_str(r#"{"recent":[10,20],"level":0,"lastSend":20}"#).unwrap();
        assert_eq!(old.undo, None);
        let (back, refunded) = refund(old, Timestamp(20));
        assert!(refunded);
        assert_eq!(back.recent, vec![Timestamp(10)]);
        assert_eq!(back.last_send, Some(Timestamp(20)));
        // The undo round-trips through storage.
        let state = sends(&[0]);
        let stored = serde_json::to_string(&state).unwrap();
        assert!(stored.contains("\"undo\""), "{stored}");
        assert_eq!(
            serde_json::from_str::<VelocityState>(&stored).unwrap(),
            state
        );
    }
}
