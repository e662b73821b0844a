//! When a code delivery counts as sent, and when it is worth one more try.
//!
//! The hook is synchronous: the user waits for the code, and the Worker has a budget of a
//! few seconds. So, unlike the multi-day schedule Standard Webhooks suggests for
//! asynchronous events, there is at most one retry, and only where a retry can help:
//!
//! - a network error (the request never got an answer);
//! - `429 Too Many Requests` and `503 Service Unavailable` (the receiver asks to come back).
//!
//! A timeout is *not* retried: the receiver may have sent the SMS already (SMS costs money
//! and a second code confuses the user), and the time budget is spent anyway. Any other
//! status, including `5xx` other than 503 and `3xx` (redirects are not followed), fails
//! at once. Success is any `2xx`.

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// No response: DNS, connection or TLS failure.
    NetworkError,
    /// No response within the time budget.
    Timeout,
    /// A response with this HTTP status.
    Status(u16),
}

/// Attempts allowed in total: the first one and one retry.
pub const MAX_ATTEMPTS: u32 = 2;

/// Whether the receiver accepted the delivery: any `2xx`.
pub fn is_success(status: u16) -> bool {
    (200..=299).contains(&status)
}

/// Whether this outcome is worth retrying at all: network errors, 429 and 503.
pub fn is_retryable(outcome: Outcome) -> bool {
    matches!(outcome, Outcome::NetworkError | Outcome::Status(429 | 503))
}

/// Whether to try again after `attempts_made` attempts ended with `outcome`: only a
/// retryable outcome, and only once.
pub fn should_retry(outcome: Outcome, attempts_made: u32) -> bool {
    is_retryable(outcome) && attempts_made < MAX_ATTEMPTS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_is_exactly_2xx() {
        for status in [200, 201, 202, 204, 299] {
            assert!(is_success(status), "{status}");
        }
        for status in [0, 100, 199, 300, 302, 400, 429, 500, 503, 999] {
            assert!(!is_success(status), "{status}");
        }
    }

    #[test]
    fn only_network_errors_429_and_503_are_retried_and_only_once() {
        assert!(should_retry(Outcome::NetworkError, 1));
        assert!(should_retry(Outcome::Status(429), 1));
        assert!(should_retry(Outcome::Status(503), 1));
        assert!(!should_retry(Outcome::NetworkError, 2));
        assert!(!should_retry(Outcome::Status(503), 2));
        for outcome in [
            Outcome::Timeout,
            Outcome::Status(200),
            Outcome::Status(301),
            Outcome::Status(400),
            Outcome::Status(410),
            Outcome::Status(500),
            Outcome::Status(502),
            Outcome::Status(504),
        ] {
            assert!(!should_retry(outcome, 1), "{outcome:?}");
        }
    }
}
