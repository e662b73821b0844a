//! Pure OpenID Connect pieces the Worker serves: the discovery document, redirect URI
//! checks, and the RFC 9470 step-up decision with its `WWW-Authenticate` challenge.
//!
//! - [`discovery_document`] builds the `/.well-known/openid-configuration` body.
//! - [`validate_redirect_uri`] / [`redirect_uri_allowed`]: what may be registered, and
//!   the exact-match check at the authorization endpoint.
//! - [`step_up_needed`] / [`www_authenticate`]: whether a token's `acr` / `auth_time`
//!   meet a resource's requirements, and the challenge if not.

pub mod discovery;
pub mod err;
pub mod redirect;
pub mod step_up;
mod uri;

pub use discovery::{CLAIMS_SUPPORTED, DiscoveryDocument, Endpoints, discovery_document};
pub use err::OidcError;
pub use redirect::{redirect_uri_allowed, validate_redirect_uri};
pub use step_up::{
    INSUFFICIENT_USER_AUTHENTICATION, InsufficientAuth, step_up_needed, www_authenticate,
};
