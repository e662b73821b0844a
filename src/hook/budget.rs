//! The attempts of one synchronous code delivery within a total time budget.
//!
//! The user waits for the code while the Worker calls the hook, so all attempts share
//! one budget ([`BUDGET_MS`], Supabase's 5 s): the first attempt may use all of it; a
//! retry (only where [`super::retry::should_retry`] says so) gets what is left after a
//! short pause, and is not started when too little is left to get an answer. Every
//! attempt carries the same `webhook-id`, so a receiver that got the first one dedupes
//! the retry. The clock is the caller's (milliseconds), so this is pure and testable.
//!
//! A receiver that answers 429 or 503 with `Retry-After` says when it can take the
//! request again, and Standard Webhooks asks senders to honor it
//! (`peers-and-standards.md`). The retry waits that long instead of the short pause; if
//! the wait leaves too little of the budget for an answer, there is no retry and the
//! delivery fails at once with the receiver's status, rather than hammering a receiver
//! that asked for time ([`super::retry_after`] reads the header; a value it cannot read is
//! ignored, and the short pause applies).

use super::retry::{Outcome, is_success, should_retry};
use super::retry_after::retry_after_ms;

/// The total time for all attempts of one delivery.
pub const BUDGET_MS: u64 = 5_000;
/// The pause before a retry: a receiver that answered 429 or 503, or a connection that
/// failed, gets a moment to recover.
pub const RETRY_PAUSE_MS: u64 = 250;
/// A retry is not started with less than this left of the budget.
pub const MIN_ATTEMPT_MS: u64 = 500;
/// Why a delivery failed, as the client's error and the log will say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No answer: connection refused, DNS, TLS.
    Unreachable,
    /// No answer within the budget. The receiver may have sent the code anyway.
    TimedOut,
    /// The receiver answered with this non-`2xx` status.
    Refused(u16),
}

impl Failure {
    /// A stable word for logs and audit reasons: `unreachable`, `timeout`, `status_503`.
    pub fn reason(self) -> String {
        match self {
            Failure::Unreachable => "unreachable".to_string(),
            Failure::TimedOut => "timeout".to_string(),
            Failure::Refused(status) => format!("status_{status}"),
        }
    }
}

/// What the sender does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Wait `pause_ms`, then send an attempt that is abandoned after `timeout_ms`.
    Send {
        /// Milliseconds to wait first.
        pause_ms: u64,
        /// Milliseconds this attempt may take.
        timeout_ms: u64,
    },
    /// Stop: delivered, or failed for this reason.
    Done(Result<(), Failure>),
}

/// The attempts made so far of one delivery.
#[derive(Debug, Clone)]
pub struct Attempts {
    started_ms: u64,
    budget_ms: u64,
    made: u32,
}

impl Attempts {
    /// A delivery starting at `now_ms` with the standard budget.
    pub fn start(now_ms: u64) -> Attempts {
        Attempts::with_budget(now_ms, BUDGET_MS)
    }

    /// A delivery with another budget (tests, or a tighter caller).
    pub fn with_budget(now_ms: u64, budget_ms: u64) -> Attempts {
        Attempts {
            started_ms: now_ms,
            budget_ms,
            made: 0,
        }
    }

    /// The first attempt: the whole budget.
    pub fn first(&mut self) -> Next {
        self.made = 1;
        Next::Send {
            pause_ms: 0,
            timeout_ms: self.budget_ms,
        }
    }

    /// How many attempts were sent.
    pub fn made(&self) -> u32 {
        self.made
    }

    /// What to do after the latest attempt ended with `outcome` at `now_ms` (Unix
    /// milliseconds), with no `Retry-After`.
    pub fn after(&mut self, outcome: Outcome, now_ms: u64) -> Next {
        self.after_answer(outcome, None, now_ms)
    }

    /// What to do after the latest attempt ended with `outcome` at `now_ms` (Unix
    /// milliseconds), the answer carrying `retry_after` (the raw `Retry-After` header,
    /// if any). A retry waits at least the short pause and at least what the receiver
    /// asked for; it is not made when that wait leaves less than [`MIN_ATTEMPT_MS`] of
    /// the budget.
    pub fn after_answer(
        &mut self,
        outcome: Outcome,
        retry_after: Option<&str>,
        now_ms: u64,
    ) -> Next {
        let failure = match outcome {
            Outcome::Status(status) if is_success(status) => return Next::Done(Ok(())),
            Outcome::Status(status) => Failure::Refused(status),
            Outcome::NetworkError => Failure::Unreachable,
            Outcome::Timeout => Failure::TimedOut,
        };
        // Only an answer carries the header.
        let asked = match outcome {
            Outcome::Status(_) => retry_after.and_then(|v| retry_after_ms(v, now_ms)),
            Outcome::NetworkError | Outcome::Timeout => None,
        };
        let pause_ms = asked.map_or(RETRY_PAUSE_MS, |ms| ms.max(RETRY_PAUSE_MS));
        let elapsed = now_ms.saturating_sub(self.started_ms);
        let left = self
            .budget_ms
            .saturating_sub(elapsed)
            .saturating_sub(pause_ms);
        if should_retry(outcome, self.made) && left >= MIN_ATTEMPT_MS {
            self.made = self.made.saturating_add(1);
            return Next::Send {
                pause_ms,
                timeout_ms: left,
            };
        }
        Next::Done(Err(failure))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drives the planner against scripted outcomes, each taking `took` ms; returns the
    /// attempts sent, their timeouts, and the result.
    fn run(script: &[(Outcome, u64)]) -> (u32, Vec<u64>, Result<(), Failure>) {
        let script: Vec<(Outcome, u64, Option<&str>)> =
            script.iter().map(|(o, t)| (*o, *t, None)).collect();
        let (made, timeouts, _, result) = run_asked(&script);
        (made, timeouts, result)
    }

    /// As [`run`], each answer carrying a `Retry-After` value; also returns the pauses.
    fn run_asked(
        script: &[(Outcome, u64, Option<&str>)],
    ) -> (u32, Vec<u64>, Vec<u64>, Result<(), Failure>) {
        let mut clock = 1_000_000;
        let mut attempts = Attempts::start(clock);
        let mut timeouts = Vec::new();
        let mut pauses = Vec::new();
        let mut next = attempts.first();
        let mut outcomes = script.iter();
        loop {
            match next {
                Next::Send {
                    pause_ms,
                    timeout_ms,
                } => {
                    clock += pause_ms;
                    pauses.push(pause_ms);
                    timeouts.push(timeout_ms);
                    let (outcome, took, asked) =
                        outcomes.next().expect("the planner sent too often");
                    // A real attempt never outlives its timeout.
                    let took = (*took).min(timeout_ms);
                    clock += took;
                    let outcome = if took == timeout_ms && *outcome != Outcome::Status(200) {
                        Outcome::Timeout
                    } else {
                        *outcome
                    };
                    next = attempts.after_answer(outcome, *asked, clock);
                }
                Next::Done(result) => return (attempts.made(), timeouts, pauses, result),
            }
        }
    }

    #[test]
    fn any_2xx_is_delivered_at_once() {
        for status in [200, 202, 204] {
            assert_eq!(
                run(&[(Outcome::Status(status), 30)]),
                (1, vec![5000], Ok(()))
            );
        }
    }

    #[test]
    fn one_retry_on_429_503_and_network_errors_within_the_budget() {
        assert_eq!(
            run(&[(Outcome::Status(429), 100), (Outcome::Status(200), 10)]),
            (2, vec![5000, 4650], Ok(()))
        );
        assert_eq!(
            run(&[(Outcome::NetworkError, 5), (Outcome::NetworkError, 5)]),
            (2, vec![5000, 4745], Err(Failure::Unreachable))
        );
        assert_eq!(
            run(&[(Outcome::Status(503), 10), (Outcome::Status(503), 10)]),
            (2, vec![5000, 4740], Err(Failure::Refused(503)))
        );
    }

    #[test]
    fn other_statuses_and_timeouts_are_not_retried() {
        for status in [500, 401, 400, 410, 302] {
            assert_eq!(
                run(&[(Outcome::Status(status), 20)]),
                (1, vec![5000], Err(Failure::Refused(status)))
            );
        }
        assert_eq!(
            run(&[(Outcome::Status(500), 9_000)]),
            (1, vec![5000], Err(Failure::TimedOut))
        );
    }

    #[test]
    fn no_retry_without_time_left_and_never_past_the_budget() {
        // 429 after 4.4 s: 600 ms left minus the pause is under the minimum.
        assert_eq!(
            run(&[(Outcome::Status(429), 4_400)]),
            (1, vec![5000], Err(Failure::Refused(429)))
        );
        // 429 after 4 s: the retry gets exactly what is left.
        let (made, timeouts, result) =
            run(&[(Outcome::Status(429), 4_000), (Outcome::Status(200), 10)]);
        assert_eq!((made, result), (2, Ok(())));
        assert_eq!(timeouts, vec![5000, 750]);
        for slow in [1, 100, 2_000, 4_249, 4_250, 4_251, 5_000] {
            let (_, timeouts, _) = run(&[(Outcome::NetworkError, slow), (Outcome::Status(200), 1)]);
            let spent = slow + timeouts.get(1).map_or(0, |t| RETRY_PAUSE_MS + t);
            assert!(spent <= BUDGET_MS, "{slow}: {spent}");
        }
        assert_eq!(Failure::Refused(503).reason(), "status_503");
    }

    #[test]
    fn a_retry_after_longer_than_the_budget_ends_the_delivery_at_once() {
        for asked in ["30", "5", "120", "99999999999999999999999", " 30 "] {
            assert_eq!(
                run_asked(&[(Outcome::Status(429), 20, Some(asked))]),
                (1, vec![5000], vec![0], Err(Failure::Refused(429))),
                "{asked}"
            );
        }
        assert_eq!(
            run_asked(&[(Outcome::Status(503), 20, Some("30"))]).3,
            Err(Failure::Refused(503))
        );
        // 4 s after 20 ms leaves 980 ms: enough for the retry; after 600 ms it is not.
        assert_eq!(
            run_asked(&[
                (Outcome::Status(429), 20, Some("4")),
                (Outcome::Status(200), 10, None)
            ]),
            (2, vec![5000, 980], vec![0, 4000], Ok(()))
        );
        assert_eq!(
            run_asked(&[(Outcome::Status(429), 600, Some("4"))]).3,
            Err(Failure::Refused(429))
        );
    }

    #[test]
    fn a_retry_after_within_the_budget_is_waited_for() {
        // Asked for 2 s after 100 ms: the retry waits 2 s and gets the rest.
        assert_eq!(
            run_asked(&[
                (Outcome::Status(503), 100, Some("2")),
                (Outcome::Status(200), 10, None)
            ]),
            (2, vec![5000, 2900], vec![0, 2000], Ok(()))
        );
        // 0 (or a date in the past) is no wait beyond the usual pause.
        for asked in ["0", "Thu, 01 Jan 1970 00:00:00 GMT"] {
            let (made, _, pauses, _) = run_asked(&[
                (Outcome::Status(429), 10, Some(asked)),
                (Outcome::Status(200), 10, None),
            ]);
            assert_eq!((made, pauses), (2, vec![0, RETRY_PAUSE_MS]), "{asked}");
        }
        // Unreadable values are ignored: the usual pause.
        for asked in ["", "-5", "1.5", "soon", "3s", &"9".repeat(65)] {
            let (made, _, pauses, _) = run_asked(&[
                (Outcome::Status(429), 10, Some(asked)),
                (Outcome::Status(200), 10, None),
            ]);
            assert_eq!((made, pauses), (2, vec![0, RETRY_PAUSE_MS]), "{asked:?}");
        }
        // The retry never outlasts the budget, whatever was asked.
        for secs in 0..=5u64 {
            let asked = secs.to_string();
            let (_, timeouts, pauses, _) = run_asked(&[
                (Outcome::Status(503), 700, Some(&asked)),
                (Outcome::Status(200), 1, None),
            ]);
            let spent = 700 + pauses.iter().sum::<u64>() + timeouts.get(1).copied().unwrap_or(0);
            assert!(spent <= BUDGET_MS, "{secs}: {spent}");
        }
    }
}
