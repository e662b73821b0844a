//! Pure OpenID Connect pieces the Worker serves: discovery, app registrations and
//! redirect URI checks, the authorization request, the hosted pages, authorization codes,
//! userinfo, and the RFC 9470 step-up decision with its `WWW-Authenticate` challenge.
//!
//! - [`discovery_document`] builds the `/.well-known/openid-configuration` body.
//! - [`apps`]: Graph `application` registrations and the client they define;
//!   [`validate_redirect_uri`] / [`redirect_uri_allowed`]: what may be registered, and
//!   the exact-match check at the authorization endpoint.
//! - [`authorize`]: the authorization request, checked in RFC 6749 §4.1.2.1 order;
//!   [`acr`]: what `acr_values` asks of the sign-in.
//! - [`hosted`] / [`html`] / [`interaction`] / [`captcha`]: the sign-up, sign-in and MFA
//!   pages (with the CAPTCHA before a text message when fraud is suspected), driving
//!   the flow engine ([`crate::flow::step`]); [`binding`]: each sign-in bound to the
//!   browser that opened it (login CSRF).
//! - [`sso`]: the browser's single sign-on session (`prompt`, `max_age`);
//!   [`logout`]: RP-Initiated Logout, which ends it ([`logout_hint`]: whether its
//!   `id_token_hint` is ours); [`logout_confirm`] /
//!   [`logout_page`]: the confirmation asked first when the request has no valid hint.
//! - [`code`]: authorization codes and the token endpoint's checks.
//! - [`userinfo`] and [`step_up_needed`] / [`www_authenticate`]: whether a token's `acr` /
//!   `auth_time` meet a resource's requirements, and the challenge if not.

pub mod acr;
pub mod apps;
pub mod authorize;
pub mod binding;
pub mod captcha;
pub mod code;
pub mod discovery;
pub mod err;
pub mod hosted;
pub mod html;
pub mod interaction;
pub mod logout;
pub mod logout_confirm;
pub mod logout_hint;
pub mod logout_page;
pub mod redirect;
pub mod replay;
pub mod sso;
pub mod step_up;
mod uri;
pub mod userinfo;

pub use discovery::{CLAIMS_SUPPORTED, DiscoveryDocument, Endpoints, discovery_document};
pub use err::OidcError;
pub use redirect::{redirect_uri_allowed, validate_redirect_uri};
pub use step_up::{
    INSUFFICIENT_USER_AUTHENTICATION, InsufficientAuth, step_up_needed, www_authenticate,
};
