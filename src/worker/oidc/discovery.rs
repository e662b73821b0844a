//! `GET /{tenant}/v2.0/.well-known/openid-configuration` and
//! `GET /{tenant}/discovery/v2.0/keys`, at Entra's paths.
//!
//! The JWKS publishes every key of the `SIGNING_KEYS` secret, newest first, so during a
//! rotation the old and the new key are both there. Keys come only from that secret;
//! nothing is generated here.

use super::super::native::Fail;
use super::super::native::setup;
use super::super::{reply, tenant};
use crate::error::ErrorBody;
use crate::oidc::{Endpoints, discovery_document};
use crate::worker::route::Ctx;
use worker::{Request, Response, Result};

fn public_json(value: &impl serde::Serialize) -> Result<Response> {
    let resp = Response::from_json(value)?;
    let h = resp.headers();
    h.set("cache-control", "public, max-age=300")?;
    h.set("access-control-allow-origin", "*")?;
    Ok(resp)
}

fn bad_tenant() -> Result<Response> {
    reply::error(
        404,
        ErrorBody::new(
            "tenant.invalid",
            "the tenant segment is not a valid tenant name",
        ),
    )
}

/// The discovery document.
pub async fn discovery(req: Request, ctx: Ctx) -> Result<Response> {
    let Some(tenant) = tenant::from_route(&ctx) else {
        return bad_tenant();
    };
    let (origin, issuer) = super::issuer_of(&req, &tenant)?;
    let base = format!("{origin}/{tenant}");
    let endpoints = Endpoints {
        authorization: format!("{base}/oauth2/v2.0/authorize"),
        token: format!("{base}/oauth2/v2.0/token"),
        jwks_uri: format!("{base}/discovery/v2.0/keys"),
        userinfo: Some(format!("{base}/oidc/userinfo")),
        end_session: Some(format!("{base}/oauth2/v2.0/logout")),
    };
    match discovery_document(&issuer, &endpoints, &crate::oidc::acr::supported()) {
        Ok(doc) => public_json(&doc),
        Err(e) => reply::error(500, ErrorBody::from(e)),
    }
}

/// The JWK Set.
pub async fn jwks(_req: Request, ctx: Ctx) -> Result<Response> {
    if tenant::from_route(&ctx).is_none() {
        return bad_tenant();
    }
    match setup::secrets(&ctx) {
        Ok(secrets) => public_json(&crate::token::jwks(&secrets.1)),
        Err(Fail::Protocol(e)) => {
            reply::error(500, ErrorBody::new("oidc.keys_unavailable", e.description))
        }
        Err(Fail::Runtime(e)) => reply::internal(&e),
    }
}
