//! Errors of the OIDC module, as data with stable codes. These are configuration errors
//! (an issuer, an endpoint or a registered redirect URI that cannot be served safely).

use crate::error::ErrorBody;
use thiserror::Error;

/// Why an issuer, endpoint or redirect URI is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum OidcError {
    /// The issuer is not an `https` URL without query or fragment (OIDC Discovery §3).
    #[error("issuer `{value}` is not valid: {reason}")]
    IssuerInvalid {
        /// The issuer, shortened.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// An endpoint is not an `https` URL without fragment.
    #[error("endpoint `{name}` is not valid: {reason}")]
    EndpointInvalid {
        /// The discovery field, e.g. `token_endpoint`.
        name: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A redirect URI cannot be registered (RFC 6749 §3.1.2, RFC 8252 §7).
    #[error("redirect uri `{value}` cannot be registered: {reason}")]
    RedirectUriInvalid {
        /// The URI, shortened.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
}

impl OidcError {
    /// The stable code, e.g. `oidc.issuer_invalid`.
    pub fn code(&self) -> &'static str {
        match self {
            OidcError::IssuerInvalid { .. } => "oidc.issuer_invalid",
            OidcError::EndpointInvalid { .. } => "oidc.endpoint_invalid",
            OidcError::RedirectUriInvalid { .. } => "oidc.redirect_uri_invalid",
        }
    }

    /// The field at fault.
    pub fn target(&self) -> Option<String> {
        match self {
            OidcError::IssuerInvalid { .. } => Some("issuer".to_string()),
            OidcError::EndpointInvalid { name, .. } => Some((*name).to_string()),
            OidcError::RedirectUriInvalid { .. } => None,
        }
    }
}

impl From<OidcError> for ErrorBody {
    fn from(e: OidcError) -> Self {
        let body = ErrorBody::new(e.code(), e.to_string());
        match e.target() {
            Some(target) => body.at(target),
            None => body,
        }
    }
}
