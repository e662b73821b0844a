//! OpenID Connect in the Worker: discovery and JWKS, the authorization endpoint with the
//! hosted sign-up / sign-in / MFA pages, the `authorization_code` grant (dispatched from
//! the shared `/oauth2/v2.0/token` endpoint of [`super::native`]), userinfo, and
//! RP-initiated logout at `/oauth2/v2.0/logout`.
//!
//! Every decision is in [`crate::oidc`] (request checks, page choice, code checks,
//! userinfo claims and step-up) and [`crate::flow`] (the sign-in itself, the same engine
//! native auth runs). This module reads requests, KV and secrets and writes responses.
//!
//! KV keys, by tenant: `oidc/{tenant}/interaction/{lookup}` (a page's state behind its
//! hidden-field handle), `oidc/{tenant}/code/{lookup}` (an authorization code),
//! `oidc/{tenant}/sso/{lookup}` (a browser's single sign-on session, behind its cookie);
//! `tenant/{tenant}/applications` holds the app registrations. Users, refresh sessions
//! and revoked session families are native auth's (`native/{tenant}/…`).

pub mod apps;
mod authorize;
mod captcha;
mod discovery;
mod drive;
mod logout;
mod pages;
pub mod token;
mod userinfo;

pub use authorize::{authorize, interaction};
pub use discovery::{discovery, jwks};
pub use logout::logout;
pub use userinfo::userinfo;

use crate::native::tokens::issuer;
use worker::{Request, Result};

/// The origin and the tenant's issuer (`{origin}/{tenant}/v2.0`), as tokens carry it.
fn issuer_of(req: &Request, tenant: &str) -> Result<(String, String)> {
    let origin = req.url()?.origin().ascii_serialization();
    let iss = issuer(&origin, tenant);
    Ok((origin, iss))
}
