//! The shape every error takes when it leaves the core: data, never an exception.
//!
//! Each module keeps its own error enum; all of them convert into [`ErrorBody`] so the
//! Worker, the JS package and the demo show the same stable `code`, an actionable
//! `message` and, where input was at fault, the JSON path (`target`) that caused it.

use serde::{Deserialize, Serialize};

/// A stable, machine-readable error plus a message a person can act on.
///
/// Tests assert `code`, never `message`, so messages can be improved freely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable dotted code, e.g. `policy.unknown_field`.
    pub code: String,
    /// Lowercase, no final period; user input in backticks.
    pub message: String,
    /// The JSON path at fault (e.g. `policies[2].conditions.users.includeUsers`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Every problem found, when there is more than one (Graph's `error.details`), so a
    /// person can fix a document in one pass instead of one error per try.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorBody>,
}

impl ErrorBody {
    /// An error with no particular input location.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            target: None,
            details: Vec::new(),
        }
    }

    /// One error standing for several: the first problem's code, message and target, with
    /// all of them in `details`. `None` when there are no problems.
    pub fn from_problems(mut problems: Vec<ErrorBody>) -> Option<Self> {
        if problems.len() == 1 {
            return problems.pop();
        }
        let first = problems.first()?.clone();
        Some(Self {
            details: problems,
            ..first
        })
    }

    /// The same error, pointing at the JSON path at fault.
    pub fn at(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }
}

/// The wire envelope used by the JS package and the admin API: `{"error": {...}}`,
/// the same shape Microsoft Graph uses for its errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    /// The error itself.
    pub error: ErrorBody,
}

impl From<ErrorBody> for ErrorEnvelope {
    fn from(error: ErrorBody) -> Self {
        Self { error }
    }
}
