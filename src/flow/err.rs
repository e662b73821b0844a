//! Errors of the flow engine: the cases where a step could not run at all.
//!
//! A wrong code or a refused password is *not* an error: the step ran, the state moved
//! (an attempt was counted) and effects must be applied, so those come back as
//! [`super::Reply::Rejected`]. A [`FlowError`] means nothing happened: the adapter keeps
//! the state it had and applies no effect. Every variant has a stable dotted code.

use crate::error::ErrorBody;

/// Why a step could not run. The previous state stays valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    /// The input is not one the current step accepts (wire: `invalid_request`).
    #[error("`{input}` is not expected at step `{step}`")]
    UnexpectedInput {
        /// The step the flow is at.
        step: &'static str,
        /// The input that was sent.
        input: &'static str,
    },
    /// A non-start input arrived with no flow state.
    #[error("no flow is in progress: send a start input first")]
    NoFlow,
    /// A start input arrived together with a flow state.
    #[error("a flow is already in progress: a start input needs an empty state")]
    FlowInProgress,
    /// A request value is malformed (e.g. not an email address).
    #[error("invalid `{field}`: {reason}")]
    InvalidInput {
        /// The JSON path of the value at fault.
        field: String,
        /// What is wrong, lowercase.
        reason: String,
    },
    /// The step needs the user record and the caller passed none.
    #[error("this step needs the user record of the flow: look it up and pass it")]
    UserRequired,
    /// The user record passed belongs to someone else than the flow's user.
    #[error("the user record passed does not belong to this flow")]
    UserMismatch,
    /// The caller's random bytes ran out before the step was done.
    #[error("not enough random bytes for this step: pass at least 64")]
    EntropyExhausted,
    /// The configuration is invalid.
    #[error("invalid configuration at `{target}`: {reason}")]
    Config {
        /// The JSON path at fault.
        target: String,
        /// What is wrong, lowercase.
        reason: String,
    },
    /// The HMAC key for codes is too short to be a secret.
    #[error("the code key must be at least 32 bytes")]
    KeyTooShort,
    /// A stored password hash cannot be read (corrupt record, or parameters out of bounds).
    #[error("the stored password hash is unreadable")]
    CorruptPasswordHash,
    /// The JSON entry point got input it cannot read.
    #[error("invalid json at `{target}`: {reason}")]
    Json {
        /// The JSON path at fault (`$` for the whole document).
        target: String,
        /// What is wrong, lowercase.
        reason: String,
    },
}

impl FlowError {
    /// The stable machine-readable code; tests assert this, never the message.
    pub fn code(&self) -> &'static str {
        match self {
            FlowError::UnexpectedInput { .. } => "flow.unexpected_input",
            FlowError::NoFlow => "flow.no_flow",
            FlowError::FlowInProgress => "flow.flow_in_progress",
            FlowError::InvalidInput { .. } => "flow.invalid_input",
            FlowError::UserRequired => "flow.user_required",
            FlowError::UserMismatch => "flow.user_mismatch",
            FlowError::EntropyExhausted => "flow.entropy_exhausted",
            FlowError::Config { .. } => "flow.invalid_config",
            FlowError::KeyTooShort => "flow.key_too_short",
            FlowError::CorruptPasswordHash => "flow.corrupt_password_hash",
            FlowError::Json { .. } => "flow.invalid_json",
        }
    }

    /// The JSON path at fault, where one is known.
    pub fn target(&self) -> Option<&str> {
        match self {
            FlowError::InvalidInput { field, .. } => Some(field),
            FlowError::Config { target, .. } | FlowError::Json { target, .. } => Some(target),
            _ => None,
        }
    }

    pub(crate) fn input(field: &str, reason: impl Into<String>) -> Self {
        FlowError::InvalidInput {
            field: field.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn config(target: impl Into<String>, reason: impl Into<String>) -> Self {
        FlowError::Config {
            target: target.into(),
            reason: reason.into(),
        }
    }
}

impl From<FlowError> for ErrorBody {
    fn from(e: FlowError) -> Self {
        let body = ErrorBody::new(e.code(), e.to_string());
        match e.target() {
            Some(t) => body.at(t),
            None => body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_stable_codes_and_paths() {
        let body: ErrorBody = FlowError::input("input.email", "not an email address").into();
        assert_eq!(body.code, "flow.invalid_input");
        assert_eq!(body.target.as_deref(), Some("input.email"));
        assert!(!body.message.ends_with('.'));
        let body: ErrorBody = FlowError::EntropyExhausted.into();
        assert_eq!(body.code, "flow.entropy_exhausted");
        assert_eq!(body.target, None);
    }
}
