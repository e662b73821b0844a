//! Time as a value. The core never reads a clock: every call that needs "now" takes a
//! [`Timestamp`] from its caller, which keeps the engine deterministic and testable with a
//! fake clock, and avoids `SystemTime::now()`, which panics on `wasm32-unknown-unknown`.

use serde::{Deserialize, Serialize};

/// Seconds since the Unix epoch (UTC), as used by JWT `iat`/`exp`/`auth_time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub u64);

/// A span of time in whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Seconds(pub u64);

impl Timestamp {
    /// The instant `span` later; saturates instead of overflowing on absurd inputs.
    pub fn plus(self, span: Seconds) -> Timestamp {
        Timestamp(self.0.saturating_add(span.0))
    }

    /// How long ago `earlier` was, or zero if it lies in the future (clock skew).
    pub fn since(self, earlier: Timestamp) -> Seconds {
        Seconds(self.0.saturating_sub(earlier.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_panicking() {
        assert_eq!(Timestamp(u64::MAX).plus(Seconds(5)), Timestamp(u64::MAX));
        assert_eq!(Timestamp(10).since(Timestamp(20)), Seconds(0));
        assert_eq!(Timestamp(20).since(Timestamp(5)), Seconds(15));
    }
}
