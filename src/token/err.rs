//! Errors of the token module, as data with stable codes.
//!
//! Two enums because they fail at different times: [`KeyringError`] when the Worker loads
//! its signing keys from a secret (configuration, so `#[non_exhaustive]`), [`TokenError`]
//! on the request path when a token is issued or checked (matched exhaustively by callers,
//! who map each code to an OAuth error such as `invalid_grant` or `invalid_token`).
//!
//! No message ever contains key material or a token: keyring messages name the entry by its
//! index, and token messages quote only short header values.

use crate::error::ErrorBody;
use crate::time::Timestamp;
use thiserror::Error;

/// Why a keyring secret could not be loaded. The Worker should refuse to start on any of
/// these rather than sign with a partial keyring.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyringError {
    /// The secret is not a JSON array of `{kid, seed}` / `{kid, x}` objects.
    #[error("keyring is not a json array of {{kid, seed}} objects (line {line}, column {column})")]
    NotJson {
        /// 1-based line of the first syntax or shape error.
        line: usize,
        /// 1-based column of the first syntax or shape error.
        column: usize,
    },
    /// The array is empty, so nothing could sign.
    #[error("keyring has no keys")]
    Empty,
    /// More keys than the JWKS should ever publish.
    #[error("keyring has {count} keys, at most {max} are allowed")]
    TooManyKeys {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A `kid` is empty, too long, or uses characters other than `[A-Za-z0-9._-]`.
    #[error("key id `{kid}` must be 1 to 64 characters from [A-Za-z0-9._-]")]
    KidInvalid {
        /// Position in the array.
        index: usize,
        /// The offending kid, shortened.
        kid: String,
    },
    /// Two entries share a `kid`, so verifiers could not tell them apart.
    #[error("key id `{kid}` appears more than once")]
    KidDuplicate {
        /// Position of the second occurrence.
        index: usize,
        /// The repeated kid.
        kid: String,
    },
    /// An entry has both `seed` and `x`, or neither.
    #[error("each key needs exactly one of `seed` (signing key) or `x` (retired, verify only)")]
    KeyMaterialAmbiguous {
        /// Position in the array.
        index: usize,
    },
    /// A `seed` is not base64url for exactly 32 bytes.
    #[error("seed must be base64url (no padding) of exactly 32 bytes")]
    SeedInvalid {
        /// Position in the array.
        index: usize,
    },
    /// An `x` is not base64url of a valid, non-weak Ed25519 public key.
    #[error("x must be base64url (no padding) of a valid 32-byte ed25519 public key")]
    PublicKeyInvalid {
        /// Position in the array.
        index: usize,
    },
    /// The first entry signs new tokens, so it must carry a `seed`.
    #[error("the first key signs new tokens, so it needs a `seed`")]
    FirstKeyCannotSign,
}

impl KeyringError {
    /// The stable code, e.g. `token.keyring_invalid`.
    pub fn code(&self) -> &'static str {
        match self {
            KeyringError::NotJson { .. } | KeyringError::KeyMaterialAmbiguous { .. } => {
                "token.keyring_invalid"
            }
            KeyringError::Empty => "token.keyring_empty",
            KeyringError::TooManyKeys { .. } => "token.keyring_too_large",
            KeyringError::KidInvalid { .. } => "token.kid_invalid",
            KeyringError::KidDuplicate { .. } => "token.kid_duplicate",
            KeyringError::SeedInvalid { .. } => "token.seed_invalid",
            KeyringError::PublicKeyInvalid { .. } => "token.public_key_invalid",
            KeyringError::FirstKeyCannotSign => "token.keyring_no_signer",
        }
    }

    /// The JSON path at fault inside the keyring secret, if one entry is to blame.
    pub fn target(&self) -> Option<String> {
        match self {
            KeyringError::NotJson { .. }
            | KeyringError::Empty
            | KeyringError::TooManyKeys { .. } => None,
            KeyringError::KidInvalid { index, .. } | KeyringError::KidDuplicate { index, .. } => {
                Some(format!("[{index}].kid"))
            }
            KeyringError::KeyMaterialAmbiguous { index } => Some(format!("[{index}]")),
            KeyringError::SeedInvalid { index } => Some(format!("[{index}].seed")),
            KeyringError::PublicKeyInvalid { index } => Some(format!("[{index}].x")),
            KeyringError::FirstKeyCannotSign => Some("[0]".to_string()),
        }
    }
}

impl From<KeyringError> for ErrorBody {
    fn from(e: KeyringError) -> Self {
        let body = ErrorBody::new(e.code(), e.to_string());
        match e.target() {
            Some(target) => body.at(target),
            None => body,
        }
    }
}

/// Why a token could not be issued, or why a presented token (JWT or opaque handle) is
/// refused. Every variant means "do not trust this token"; the code says why, for logs.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TokenError {
    /// Not three base64url parts, not JSON, too long, or a part that does not decode.
    #[error("token is malformed: {reason}")]
    Malformed {
        /// What is wrong, in a few words (never token content).
        reason: &'static str,
    },
    /// The header names an algorithm other than `EdDSA` (including `none`), or `crit`.
    #[error("algorithm `{alg}` is not accepted, only `EdDSA` is")]
    UnsupportedAlgorithm {
        /// The header's `alg`, shortened.
        alg: String,
    },
    /// The header's `typ` is not the one expected here (e.g. an ID token used as an
    /// access token).
    #[error("token type `{typ}` is not accepted here")]
    WrongType {
        /// The header's `typ`, shortened (empty if absent).
        typ: String,
    },
    /// No key with this `kid` is in the keyring (or the header has no `kid`).
    #[error("no key with id `{kid}` is known")]
    UnknownKey {
        /// The header's `kid`, shortened (empty if absent).
        kid: String,
    },
    /// The Ed25519 signature does not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// `exp` has passed (beyond the leeway).
    #[error("token expired at {}", exp.0)]
    Expired {
        /// The token's `exp`.
        exp: Timestamp,
    },
    /// `nbf` or `iat` lies in the future (beyond the leeway).
    #[error("token is not valid yet")]
    NotYetValid,
    /// `iss` is not the expected issuer.
    #[error("token was issued by another issuer")]
    WrongIssuer,
    /// `aud` is not the expected audience.
    #[error("token was issued for another audience")]
    WrongAudience,
    /// The claims cannot be read or are inconsistent (e.g. `exp` before `iat`).
    #[error("token claims are invalid: {reason}")]
    ClaimsInvalid {
        /// What is wrong, in a few words.
        reason: &'static str,
    },
    /// An opaque handle (refresh token, continuation token, code) has the wrong shape or
    /// kind.
    #[error("handle is not a valid {kind}")]
    HandleInvalid {
        /// The kind that was expected, e.g. `refresh token`.
        kind: &'static str,
    },
}

impl TokenError {
    /// The stable code, e.g. `token.expired`.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::Malformed { .. } => "token.malformed",
            TokenError::UnsupportedAlgorithm { .. } => "token.unsupported_alg",
            TokenError::WrongType { .. } => "token.wrong_type",
            TokenError::UnknownKey { .. } => "token.unknown_kid",
            TokenError::BadSignature => "token.bad_signature",
            TokenError::Expired { .. } => "token.expired",
            TokenError::NotYetValid => "token.not_yet_valid",
            TokenError::WrongIssuer => "token.wrong_issuer",
            TokenError::WrongAudience => "token.wrong_audience",
            TokenError::ClaimsInvalid { .. } => "token.claims_invalid",
            TokenError::HandleInvalid { .. } => "token.handle_invalid",
        }
    }
}

impl From<TokenError> for ErrorBody {
    fn from(e: TokenError) -> Self {
        ErrorBody::new(e.code(), e.to_string())
    }
}

/// At most `max` characters of attacker-supplied text, for error messages.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .filter(|c| !c.is_control() && *c != '`')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyring_errors_point_at_the_entry_and_never_at_the_seed() {
        let body = ErrorBody::from(KeyringError::SeedInvalid { index: 2 });
        assert_eq!(body.code, "token.seed_invalid");
        assert_eq!(body.target.as_deref(), Some("[2].seed"));
        assert!(!body.message.ends_with('.'));
    }

    #[test]
    fn shorten_drops_control_characters_and_backticks() {
        assert_eq!(shorten("ab`c\nd", 10), "abcd");
        assert_eq!(shorten("abcdef", 3), "abc");
    }
}
