//! `GET|POST /{tenant}/oauth2/v2.0/logout` (OpenID Connect RP-Initiated Logout 1.0):
//! deletes the browser's single sign-on session in KV, clears its cookie, revokes the
//! hinted session family, and either sends the browser back to the application or shows
//! the "You are signed out" page. What is accepted is decided by
//! [`crate::oidc::logout`]; this module only reads the request, KV and the keyring.
//!
//! The KV delete is seen at once where it was made, and at other edge locations within
//! KV's propagation delay (up to about 60 s): the cookie is cleared in the same answer, so
//! the browser itself never presents it again, but a copy of the cookie could resume the
//! session elsewhere for that long. The session cookie is `SameSite=Lax`, so another site
//! cannot log the person out with an embedded request; a top-level navigation can, as the
//! protocol intends.

use super::super::native::kv::Store;
use super::super::native::{http, setup};
use super::super::{request, tenant};
use super::authorize::sso_key;
use super::pages;
use crate::native::tokens::TokenSettings;
use crate::oidc::html::render_signed_out;
use crate::oidc::logout::{self, Hint};
use crate::oidc::sso;
use crate::token::{HandleKind, lookup_key};
use crate::worker::route::Ctx;
use worker::{Method, Request, Response, Result};

/// The end-session endpoint.
pub async fn logout(mut req: Request, ctx: Ctx) -> Result<Response> {
    let Some(tenant) = tenant::from_route(&ctx) else {
        return pages::error(404, "this sign-out address names no valid tenant");
    };
    let query = match req.method() {
        Method::Get => Ok(req.url()?.query().unwrap_or_default().to_string()),
        Method::Post => match http::form_body(&mut req).await {
            // Strict like every other form: a body that is not UTF-8 is refused, not
            // decoded with replacement characters.
            Ok(body) => String::from_utf8(body).map_err(|_| {
                "the sign-out request is not valid utf-8; send the form as utf-8".to_string()
            }),
            Err(_) => Err("the sign-out request could not be read".to_string()),
        },
        _ => return super::super::reply::method_not_allowed(),
    };
    let secure = req.url()?.scheme() == "https";
    let kv = ctx.kv("KV")?;
    // The session ends first, whatever the rest of the request says.
    let cookie = req.headers().get("cookie").ok().flatten();
    if let Some(lookup) = sso::read_cookie(cookie.as_deref())
        .and_then(|h| lookup_key(HandleKind::ContinuationToken, h).ok())
    {
        kv.delete(&sso_key(&tenant, lookup.as_str())).await?;
    }
    let parsed = query.and_then(|q| logout::parse(&q));
    let req_params = match parsed {
        Ok(r) => r,
        Err(message) => {
            worker::console_warn!("logout: unreadable request, signed out without redirect");
            return signed_out(400, Some(&message), &tenant, secure);
        }
    };
    let hint = if req_params.id_token_hint.is_none() {
        Hint::Absent
    } else {
        let Ok(secrets) = setup::secrets(&ctx) else {
            worker::console_error!("logout: signing keys unavailable");
            return signed_out(
                503,
                Some(
                    "the sign-out could not be verified; you were signed out here, but not sent back to the application",
                ),
                &tenant,
                secure,
            );
        };
        let (_, issuer) = super::issuer_of(&req, &tenant)?;
        logout::check_hint(&req_params, &secrets.1, &issuer, request::now())
    };
    let client = match logout::client_id(&req_params, &hint) {
        Some(id) => super::apps::client(&kv, &tenant, id).await?,
        None => None,
    };
    let decision = logout::decide(&req_params, &hint, client.as_ref());
    if let Some(family) = &decision.revoke_family {
        // Until the family's last refresh session would have ended.
        let ttl = TokenSettings::new("", tenant.as_str()).refresh_lifetime.0;
        Store::new(&kv, &tenant).revoke_family(family, ttl).await?;
    }
    if matches!(hint, Hint::Invalid) {
        worker::console_warn!("logout: id_token_hint refused; signed out without redirect");
    }
    match decision.redirect {
        Some(url) => {
            let resp = Response::empty()?.with_status(302);
            let h = resp.headers();
            h.set("location", &url)?;
            h.set("cache-control", "no-store")?;
            h.set("referrer-policy", "no-referrer")?;
            h.set("set-cookie", &sso::clear_cookie(&tenant, secure))?;
            Ok(resp)
        }
        None => signed_out(200, decision.notice.as_deref(), &tenant, secure),
    }
}

/// The "You are signed out" page, clearing the cookie.
fn signed_out(status: u16, notice: Option<&str>, tenant: &str, secure: bool) -> Result<Response> {
    let resp = pages::html(status, render_signed_out(notice))?;
    resp.headers()
        .set("set-cookie", &sso::clear_cookie(tenant, secure))?;
    Ok(resp)
}
