//! Continuation tokens: what is stored behind one, when it is still good, and what
//! happens to it after a step.
//!
//! The token is an opaque handle (`vct_` + 256 random bits, [`crate::token::new_handle`]);
//! the store keeps the flow state under the handle's SHA-256 lookup key only, with the
//! flow's own expiry inside the value (a KV TTL is at least 60 s and only a hint).

use super::error::NativeError;
use crate::flow::{FlowState, Reply};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The value stored under a continuation token's lookup key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlowRecord {
    /// The flow ends here, whatever the KV TTL says.
    pub expires_at: Timestamp,
    /// The state.
    pub state: FlowState,
}

impl FlowRecord {
    /// Wraps a state with its deadline (the flow's expiry, or the reset window's end).
    pub fn new(state: FlowState) -> Self {
        FlowRecord {
            expires_at: state.deadline(),
            state,
        }
    }

    /// `expired_token` once the flow is past its lifetime.
    pub fn check(&self, now: Timestamp) -> Result<(), NativeError> {
        if now >= self.expires_at {
            Err(NativeError::expired())
        } else {
            Ok(())
        }
    }

    /// The KV TTL to store it with: the time left, at least 60 seconds.
    pub fn ttl(&self, now: Timestamp) -> u64 {
        super::tokens::kv_ttl(self.expires_at, now)
    }
}

/// What to do with the stored state after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// The flow moved on: store the new state under a new token, delete the old key,
    /// answer with the new token.
    Rotate,
    /// The input was refused and the flow stays at its step (attempt counted): store the
    /// new state under the token the client holds, answer without a token. MSAL retries
    /// a wrong code or password with the token of its current state object.
    Keep,
    /// The flow is over: delete the old key.
    End,
}

/// The disposition for a step's next state and reply.
pub fn disposition(next: Option<&FlowState>, reply: &Reply) -> Disposition {
    match (next, reply) {
        (None, _) => Disposition::End,
        (Some(_), Reply::Rejected { .. }) => Disposition::Keep,
        (Some(_), _) => Disposition::Rotate,
    }
}
