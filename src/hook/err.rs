//! Errors of the hook module, as data with stable codes.
//!
//! [`HookError`] covers loading the configuration (endpoint URLs and secrets), and
//! checking a received delivery (in tests and receivers). Messages never contain secret
//! material.

use crate::error::ErrorBody;
use thiserror::Error;

/// Why hook secrets could not be loaded, or why a delivery does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HookError {
    /// No secret was given.
    #[error("no webhook secret was given")]
    NoSecrets,
    /// More secrets than a rotation needs.
    #[error("{count} webhook secrets were given, at most {max} are allowed")]
    TooManySecrets {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A secret lacks a known prefix, is not base64, or has the wrong length.
    #[error("webhook secret {index} is not valid: {reason}")]
    SecretInvalid {
        /// Position in the whitespace-separated list.
        index: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A `whpk_` public key was given where a signing secret is needed.
    #[error("webhook secret {index} is a public key (`whpk_`), which cannot sign")]
    SecretCannotSign {
        /// Position in the list.
        index: usize,
    },
    /// A message id that is empty, too long, or contains `.`, whitespace or controls.
    #[error("`webhook-id` is not a valid message id")]
    MessageIdInvalid,
    /// `webhook-timestamp` is not a plain decimal number of seconds.
    #[error("`webhook-timestamp` is not unix seconds")]
    TimestampInvalid,
    /// The delivery is older than the tolerance allows (possible replay).
    #[error("`webhook-timestamp` is too old")]
    TimestampTooOld,
    /// The delivery claims to come from the future beyond the tolerance.
    #[error("`webhook-timestamp` is too far in the future")]
    TimestampTooNew,
    /// No signature in `webhook-signature` matches any known secret.
    #[error("no signature in `webhook-signature` matches")]
    SignatureMismatch,
    /// An endpoint URL that does not parse or has parts a hook URL must not have.
    #[error("the hook url is not valid: {reason}")]
    UrlInvalid {
        /// What is wrong.
        reason: &'static str,
    },
    /// An endpoint URL that would send codes in clear over the network.
    #[error("the hook url must be https (http only for 127.0.0.1, localhost or [::1])")]
    UrlNotHttps,
    /// One half of an endpoint (URL or secrets) is set and the other is not.
    #[error("`{name}` is not set")]
    SettingMissing {
        /// The Worker variable or secret that is missing.
        name: String,
    },
    /// A secret name in a tenant document that is not a hook secret's name.
    #[error(
        "`{name}` is not a hook secret name: use capitals, digits and `_`, ending in `_HOOK_SECRETS`"
    )]
    SecretNameInvalid {
        /// The name given (a name, never a value).
        name: String,
    },
    /// A tenant's delivery hooks document that does not parse.
    #[error("the delivery hooks document is invalid: {reason}")]
    DocumentInvalid {
        /// What is wrong.
        reason: String,
    },
}

impl HookError {
    /// The stable code, e.g. `hook.signature_mismatch`.
    pub fn code(&self) -> &'static str {
        match self {
            HookError::NoSecrets => "hook.no_secrets",
            HookError::TooManySecrets { .. } => "hook.too_many_secrets",
            HookError::SecretInvalid { .. } => "hook.secret_invalid",
            HookError::SecretCannotSign { .. } => "hook.secret_cannot_sign",
            HookError::MessageIdInvalid => "hook.message_id_invalid",
            HookError::TimestampInvalid => "hook.timestamp_invalid",
            HookError::TimestampTooOld => "hook.timestamp_too_old",
            HookError::TimestampTooNew => "hook.timestamp_too_new",
            HookError::SignatureMismatch => "hook.signature_mismatch",
            HookError::UrlInvalid { .. } => "hook.url_invalid",
            HookError::UrlNotHttps => "hook.url_not_https",
            HookError::SettingMissing { .. } => "hook.setting_missing",
            HookError::SecretNameInvalid { .. } => "hook.secret_name_invalid",
            HookError::DocumentInvalid { .. } => "hook.document_invalid",
        }
    }

    /// Where the fault is: the secret's index, or the header at fault.
    pub fn target(&self) -> Option<String> {
        match self {
            HookError::SecretInvalid { index, .. } | HookError::SecretCannotSign { index } => {
                Some(format!("[{index}]"))
            }
            HookError::MessageIdInvalid => Some("webhook-id".to_string()),
            HookError::TimestampInvalid
            | HookError::TimestampTooOld
            | HookError::TimestampTooNew => Some("webhook-timestamp".to_string()),
            HookError::SignatureMismatch => Some("webhook-signature".to_string()),
            HookError::NoSecrets
            | HookError::TooManySecrets { .. }
            | HookError::UrlInvalid { .. }
            | HookError::UrlNotHttps
            | HookError::SettingMissing { .. }
            | HookError::SecretNameInvalid { .. }
            | HookError::DocumentInvalid { .. } => None,
        }
    }
}

impl From<HookError> for ErrorBody {
    fn from(e: HookError) -> Self {
        let body = ErrorBody::new(e.code(), e.to_string());
        match e.target() {
            Some(target) => body.at(target),
            None => body,
        }
    }
}
