//! Code attempts of one flow: who may evaluate a one-time code, and who may consume it.
//!
//! The flow state in KV counts wrong tries itself ([`crate::flow::PendingCode`]), but KV
//! has no compare-and-set: a hundred requests racing on one continuation token all read
//! the same state with the same count, and all would be evaluated, and all would succeed
//! with the right code. This state lives in the flow's Durable Object, which runs one
//! request at a time, and closes both holes with two operations:
//!
//! - **acquire** before evaluating a submitted code: a slot is granted only while the code
//!   has evaluations left (the flow's `maxAttempts`, at most 5, NIST SP 800-63B rate
//!   limiting and the OWASP cap) and is not consumed. The slot is counted *when granted*,
//!   not when the outcome is known, so concurrent guesses cannot overtake the count, and
//!   a request that dies mid-evaluation still spent its try (fail closed).
//! - **commit** after the code matched: the first commit consumes the code; any later one
//!   is refused, so a code is accepted at most once (NIST: "accept a secret only once")
//!   even when several granted slots evaluated the right code at the same time.
//!
//! Codes are named by a fingerprint ([`crate::flow::PendingCode::fingerprint`]), so a
//! resend (a new code) starts with fresh counters while the old code keeps its own: a
//! stale KV read that still holds the old code cannot reset anything.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Codes remembered per flow. A flow sends at most `maxCodesPerFlow` codes (default 10);
/// past this many the oldest entry is dropped, which only matters for a code that was
/// voided long ago by a resend (and its flow state is gone from KV by then).
pub const MAX_CODES: usize = 32;

/// The hard cap on evaluations of one code, whatever the configuration says (the same
/// clamp as [`crate::flow::PendingCode`]'s own check).
pub const HARD_CAP: u8 = 5;

/// One code of the flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeEntry {
    /// The code's fingerprint.
    pub code: String,
    /// Evaluations granted so far.
    pub evaluated: u8,
    /// The code was accepted once; it never works again.
    pub consumed: bool,
}

/// The attempt state of one flow.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptsState {
    /// Codes seen, oldest first.
    #[serde(default)]
    pub codes: Vec<CodeEntry>,
    /// When this state may be forgotten: the latest flow expiry a request named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forget_at: Option<Timestamp>,
}

/// Why the guard refused a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeRefusal {
    /// The code was already accepted by an earlier request.
    Consumed,
    /// Every evaluation this code allows was granted already.
    Exhausted,
    /// The code matched, but a concurrent request with the same code committed first.
    LostRace,
    /// A commit without a granted slot (a bug or a forged call): refused, fail closed.
    NoSlot,
}

/// The answer to an acquire or commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "snake_case")]
pub enum CodeVerdict {
    /// Go ahead.
    Granted {
        /// Evaluations left after this one (acquire), zero for a commit.
        left: u8,
    },
    /// Do not evaluate (acquire) / do not accept (commit).
    Refused {
        /// Why.
        reason: CodeRefusal,
    },
}
crate::tagged_enum!(CodeVerdict, "verdict");

impl AttemptsState {
    fn entry(&mut self, code: &str) -> Option<&mut CodeEntry> {
        self.codes.iter_mut().find(|e| e.code == code)
    }

    fn remember(&mut self, forget_at: Timestamp) {
        self.forget_at = Some(self.forget_at.map_or(forget_at, |t| t.max(forget_at)));
    }
}

/// Asks for one evaluation of `code`, allowed `max_attempts` (clamped to 1..=5) in all.
/// `forget_at` is the flow's expiry: the state is kept at least until then.
pub fn acquire(
    mut state: AttemptsState,
    code: &str,
    max_attempts: u8,
    forget_at: Timestamp,
) -> (AttemptsState, CodeVerdict) {
    let cap = max_attempts.clamp(1, HARD_CAP);
    state.remember(forget_at);
    if state.entry(code).is_none() {
        if state.codes.len() >= MAX_CODES {
            state.codes.remove(0);
        }
        state.codes.push(CodeEntry {
            code: code.to_string(),
            evaluated: 0,
            consumed: false,
        });
    }
    let verdict = match state.entry(code) {
        None => CodeVerdict::Refused {
            reason: CodeRefusal::NoSlot,
        },
        Some(e) if e.consumed => CodeVerdict::Refused {
            reason: CodeRefusal::Consumed,
        },
        Some(e) if e.evaluated >= cap => CodeVerdict::Refused {
            reason: CodeRefusal::Exhausted,
        },
        Some(e) => {
            e.evaluated = e.evaluated.saturating_add(1);
            CodeVerdict::Granted {
                left: cap.saturating_sub(e.evaluated),
            }
        }
    };
    (state, verdict)
}

/// Consumes `code` after it matched. Only the first commit of a code is granted.
pub fn commit(mut state: AttemptsState, code: &str) -> (AttemptsState, CodeVerdict) {
    let verdict = match state.entry(code) {
        Some(e) if e.evaluated == 0 => CodeVerdict::Refused {
            reason: CodeRefusal::NoSlot,
        },
        Some(e) if e.consumed => CodeVerdict::Refused {
            reason: CodeRefusal::LostRace,
        },
        Some(e) => {
            e.consumed = true;
            CodeVerdict::Granted { left: 0 }
        }
        None => CodeVerdict::Refused {
            reason: CodeRefusal::NoSlot,
        },
    };
    (state, verdict)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LATER: Timestamp = Timestamp(5000);

    fn granted(v: CodeVerdict) -> bool {
        matches!(v, CodeVerdict::Granted { .. })
    }

    #[test]
    fn a_code_gets_exactly_max_attempts_evaluations() {
        let mut s = AttemptsState::default();
        let mut lefts = Vec::new();
        for _ in 0..3 {
            let (next, v) = acquire(s, "c1", 3, LATER);
            s = next;
            match v {
                CodeVerdict::Granted { left } => lefts.push(left),
                other => panic!("refused early: {other:?}"),
            }
        }
        assert_eq!(lefts, vec![2, 1, 0]);
        let (s, v) = acquire(s, "c1", 3, LATER);
        assert_eq!(
            v,
            CodeVerdict::Refused {
                reason: CodeRefusal::Exhausted
            }
        );
        // Refusals do not grow the count.
        assert_eq!(s.codes.first().map(|e| e.evaluated), Some(3));
    }

    #[test]
    fn the_cap_is_clamped_to_five_and_to_at_least_one() {
        let mut s = AttemptsState::default();
        let mut granted_count = 0;
        for _ in 0..100 {
            let (next, v) = acquire(s, "c", 200, LATER);
            s = next;
            granted_count += usize::from(granted(v));
        }
        assert_eq!(granted_count, 5);
        let (s, v) = acquire(AttemptsState::default(), "c", 0, LATER);
        assert!(granted(v));
        assert!(!granted(acquire(s, "c", 0, LATER).1));
    }

    #[test]
    fn a_code_is_consumed_once() {
        let (s, _) = acquire(AttemptsState::default(), "c", 5, LATER);
        let (s, _) = acquire(s, "c", 5, LATER);
        // Two slots evaluated the right code at once: only the first commit wins.
        let (s, first) = commit(s, "c");
        let (s, second) = commit(s, "c");
        assert_eq!(first, CodeVerdict::Granted { left: 0 });
        assert_eq!(
            second,
            CodeVerdict::Refused {
                reason: CodeRefusal::LostRace
            }
        );
        // And no new evaluation is granted afterwards.
        let (_, v) = acquire(s, "c", 5, LATER);
        assert_eq!(
            v,
            CodeVerdict::Refused {
                reason: CodeRefusal::Consumed
            }
        );
    }

    #[test]
    fn commit_without_a_slot_is_refused() {
        let (_, v) = commit(AttemptsState::default(), "c");
        assert_eq!(
            v,
            CodeVerdict::Refused {
                reason: CodeRefusal::NoSlot
            }
        );
    }

    #[test]
    fn a_new_code_has_its_own_count_and_the_old_one_keeps_its_own() {
        let mut s = AttemptsState::default();
        for _ in 0..5 {
            s = acquire(s, "old", 5, LATER).0;
        }
        let (s, v) = acquire(s, "new", 5, LATER);
        assert_eq!(v, CodeVerdict::Granted { left: 4 });
        let (s, v) = acquire(s, "old", 5, LATER);
        assert!(
            !granted(v),
            "a stale read of the old code must not reset it"
        );
        assert_eq!(s.codes.len(), 2);
    }

    #[test]
    fn memory_is_bounded_and_forget_at_only_grows() {
        let mut s = AttemptsState::default();
        for i in 0..(MAX_CODES + 10) {
            s = acquire(s, &format!("c{i}"), 5, Timestamp(100 + i as u64)).0;
        }
        assert_eq!(s.codes.len(), MAX_CODES);
        assert_eq!(s.codes.first().map(|e| e.code.as_str()), Some("c10"));
        let (s, _) = acquire(s, "x", 5, Timestamp(1));
        assert_eq!(s.forget_at, Some(Timestamp(100 + MAX_CODES as u64 + 9)));
    }

    #[test]
    fn state_round_trips_through_json() {
        let (s, _) = acquire(AttemptsState::default(), "c", 5, LATER);
        let json = serde_json::to_string(&s).unwrap();
        let back: AttemptsState = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
    }
}
