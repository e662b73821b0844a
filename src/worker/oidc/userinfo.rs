//! `GET|POST /{tenant}/oidc/userinfo` (OIDC Core §5.3): the bearer access token is
//! verified with the keyring (signature, issuer, audience, expiry), must be an access
//! token of a session family that was not revoked, and the user must still exist.
//!
//! It is also the RFC 9470 demonstration resource: `?acr_values=…&max_age=…` state what
//! it requires, and a token that falls short is answered `401` with
//! `WWW-Authenticate: Bearer error="insufficient_user_authentication", …`.

use super::super::native::kv::Store;
use super::super::native::{Fail, setup};
use super::super::{request, tenant};
use crate::oidc::userinfo as core;
use crate::oidc::www_authenticate;
use crate::token::{Validation, verify};
use crate::worker::route::Ctx;
use serde_json::json;
use worker::{Method, Request, Response, Result};

fn challenge(status: u16, error: &str, description: &str) -> Result<Response> {
    let resp = Response::from_json(&json!({"error": error, "error_description": description}))?
        .with_status(status);
    let h = resp.headers();
    h.set(
        "www-authenticate",
        &format!("Bearer error=\"{error}\", error_description=\"{description}\""),
    )?;
    h.set("cache-control", "no-store")?;
    h.set("access-control-allow-origin", "*")?;
    h.set("access-control-expose-headers", "www-authenticate")?;
    Ok(resp)
}

/// The userinfo endpoint.
pub async fn userinfo(req: Request, ctx: Ctx) -> Result<Response> {
    if req.method() == Method::Options {
        let resp = Response::empty()?.with_status(204);
        let h = resp.headers();
        h.set("access-control-allow-origin", "*")?;
        h.set("access-control-allow-methods", "GET, POST, OPTIONS")?;
        h.set("access-control-allow-headers", "authorization")?;
        return Ok(resp);
    }
    if !matches!(req.method(), Method::Get | Method::Post) {
        return super::super::reply::method_not_allowed();
    }
    let Some(tenant) = tenant::from_route(&ctx) else {
        return challenge(404, "invalid_request", "no such tenant");
    };
    let header = req.headers().get("authorization").ok().flatten();
    let Some(token) = core::bearer(header.as_deref()) else {
        let resp = Response::from_json(&json!({"error": "invalid_token", "error_description": "send the access token as `Authorization: Bearer <token>`"}))?.with_status(401);
        resp.headers().set("www-authenticate", "Bearer")?;
        resp.headers().set("access-control-allow-origin", "*")?;
        return Ok(resp);
    };
    let invalid = || {
        challenge(
            401,
            "invalid_token",
            "the access token is invalid or expired",
        )
    };
    let required = match core::required(req.url()?.query().unwrap_or_default()) {
        Ok(r) => r,
        Err(message) => return challenge(400, "invalid_request", message),
    };
    let secrets = match setup::secrets(&ctx) {
        Ok(s) => s,
        Err(Fail::Runtime(e)) => return super::super::reply::internal(&e),
        Err(Fail::Protocol(_)) => {
            return challenge(500, "server_error", "the signing keys are not configured");
        }
    };
    let (_, issuer) = super::issuer_of(&req, &tenant)?;
    let now = request::now();
    let Some(audience) = core::audience_hint(token) else {
        return invalid();
    };
    let Ok(claims) = verify(&secrets.1, token, &Validation::new(&issuer, &audience), now) else {
        return invalid();
    };
    if !core::is_access_token(&claims) {
        return invalid();
    }
    let kv = ctx.kv("KV")?;
    let store = Store::new(&kv, &tenant);
    if let Some(sid) = &claims.sid
        && store.family_revoked(sid).await?
    {
        return invalid();
    }
    if let Some(need) = core::step_up(&claims, &required, now) {
        let resp = Response::from_json(&json!({
            "error": crate::oidc::INSUFFICIENT_USER_AUTHENTICATION,
            "error_description": need.description(),
        }))?
        .with_status(401);
        let h = resp.headers();
        h.set("www-authenticate", &www_authenticate(&need))?;
        h.set("cache-control", "no-store")?;
        h.set("access-control-allow-origin", "*")?;
        h.set("access-control-expose-headers", "www-authenticate")?;
        return Ok(resp);
    }
    let Some(user) = store
        .user(&claims.sub)
        .await?
        .filter(|u| !u.lockout.disabled)
    else {
        return invalid();
    };
    let body = core::claims_for(
        &claims,
        user.email.expose(),
        user.display_name.as_ref().map(|n| n.expose().as_str()),
    );
    let resp = Response::from_json(&body)?;
    resp.headers().set("cache-control", "no-store")?;
    resp.headers().set("access-control-allow-origin", "*")?;
    Ok(resp)
}
