//! `GET|POST /{tenant}/oauth2/v2.0/logout` (OpenID Connect RP-Initiated Logout 1.0).
//! A request with a valid `id_token_hint` deletes the browser's single sign-on session
//! in KV, clears its cookie, revokes the hinted session family, and either sends the
//! browser back to the application or shows the "You are signed out" page. Any other
//! request, while the browser has a live session, gets the confirmation page, and only
//! its "Sign out" post (with a valid anti-forgery token) ends the session. What is
//! decided is [`crate::oidc::logout`] and [`crate::oidc::logout_confirm`]; this module
//! reads the request, the session record in KV, the app registration and the secrets.
//!
//! The KV delete is seen at once where it was made, and at other edge locations within
//! KV's propagation delay (up to about 60 s): the cookie is cleared in the same answer, so
//! the browser itself never presents it again, but a copy of the cookie could resume the
//! session elsewhere for that long.

use super::super::native::kv::Store;
use super::super::native::{http, setup};
use super::super::{request, tenant};
use super::authorize::sso_key;
use super::pages;
use crate::flow::CodeKey;
use crate::native::tokens::TokenSettings;
use crate::oidc::html::render_signed_out;
use crate::oidc::logout::{self, Answer, Decision, Hint};
use crate::oidc::logout_confirm::{
    Confirmation, Plan, Session, csrf_token, csrf_valid, hint_for_session, plan, plan_unreadable,
};
use crate::oidc::logout_page::{render_confirm, render_still_signed_in};
use crate::oidc::sso::{self, SsoSession};
use crate::token::{HandleKind, LookupKey, lookup_key};
use crate::worker::route::Ctx;
use worker::kv::KvStore;
use worker::{Method, Request, Response, Result};

/// The end-session endpoint.
pub async fn logout(mut req: Request, ctx: Ctx) -> Result<Response> {
    let Some(tenant) = tenant::from_route(&ctx) else {
        return pages::error(404, "this sign-out address names no valid tenant");
    };
    let post = match req.method() {
        Method::Get => false,
        Method::Post => true,
        _ => return super::super::reply::method_not_allowed(),
    };
    let parsed = if post {
        match http::form_body(&mut req).await {
            // Strict like every other form: a body that is not UTF-8 is refused, not
            // decoded with replacement characters.
            Ok(body) => String::from_utf8(body)
                .map_err(|_| {
                    "the sign-out request is not valid utf-8; send the form as utf-8".to_string()
                })
                .and_then(|text| logout::parse_form(&text)),
            Err(_) => Err("the sign-out request could not be read".to_string()),
        }
    } else {
        logout::parse(req.url()?.query().unwrap_or_default())
    };
    let here = Here {
        tenant: &tenant,
        secure: req.url()?.scheme() == "https",
        post,
        kv: ctx.kv("KV")?,
        now: request::now(),
    };
    let cookie = req.headers().get("cookie").ok().flatten();
    let lookup = sso::read_cookie(cookie.as_deref())
        .and_then(|h| lookup_key(HandleKind::ContinuationToken, h).ok());
    // A live session: a record that has run out is nothing to protect (and cannot be
    // resumed at the authorization endpoint either); one that cannot be read may be live,
    // so it is protected like one whose user is unknown.
    let record = match &lookup {
        Some(k) => Some(
            crate::worker::kv_json::get::<SsoSession>(&here.kv, &sso_key(&tenant, k.as_str()))
                .await,
        ),
        None => None,
    };
    let session = match &record {
        Some(Ok(Some(s))) if here.now < s.expires_at => Session::Of(&s.user_id),
        Some(Err(_)) => Session::Unreadable,
        _ => Session::None,
    };
    let live = lookup.as_ref().filter(|_| session != Session::None);
    // The keys verify a hint, and sign and check the confirmation's anti-forgery token
    // (asked only while there is a live session, readable request or not).
    let needs_keys = live.is_some() || parsed.as_ref().is_ok_and(|p| p.id_token_hint.is_some());
    let secrets = if needs_keys {
        match setup::secrets(&ctx) {
            Ok(s) => Some(s),
            Err(_) => {
                worker::console_error!("logout: CODE_KEY or SIGNING_KEYS unavailable");
                return pages::error(
                    503,
                    "the sign-out could not be verified because the server is not configured; nothing was changed",
                );
            }
        }
    } else {
        None
    };
    // The session a confirmation page would protect, with the key that signs its token
    // (always both or neither: the keys were loaded because there is a session).
    let confirmable = live.zip(secrets.as_ref());
    let params = match parsed {
        Ok(p) => p,
        Err(message) => {
            worker::console_warn!(
                "logout: unreadable request; nothing ended without a confirmation"
            );
            return match (plan_unreadable(message, live.is_some()), confirmable) {
                (Plan::Confirm(page), Some((session, s))) => here.confirm(&s.0, page, session),
                (Plan::SignOut(d), _) => {
                    here.signed_out(lookup.as_ref(), 400, d.notice.as_deref())
                        .await
                }
                // `plan_unreadable` asks only when there is a session.
                _ => here.signed_out(lookup.as_ref(), 400, None).await,
            };
        }
    };
    let hint = match (&params.id_token_hint, &secrets) {
        (Some(_), Some(s)) => {
            let (_, issuer) = super::issuer_of(&req, &tenant)?;
            hint_for_session(
                logout::check_hint(&params, &s.1, &issuer, here.now),
                session,
            )
        }
        _ => Hint::Absent,
    };
    let client = match logout::client_id(&params, &hint) {
        Some(id) => super::apps::client(&here.kv, &tenant, id).await?,
        None => None,
    };
    let csrf_ok = match (&params.answer, live, &secrets) {
        (Some(Answer::SignOut { csrf: Some(token) }), Some(session), Some(s)) => {
            csrf_valid(&s.0, &tenant, session.as_str(), token, here.now)
        }
        _ => false,
    };
    if matches!(hint, Hint::Invalid) {
        worker::console_warn!("logout: id_token_hint refused");
    }
    match plan(&params, &hint, client.as_ref(), live.is_some(), csrf_ok) {
        Plan::SignOut(decision) => here.sign_out(lookup.as_ref(), &decision).await,
        Plan::Confirm(page) => {
            if matches!(params.answer, Some(Answer::SignOut { .. })) {
                worker::console_warn!(
                    "logout: confirmation without a valid csrf token; session kept"
                );
            }
            match confirmable {
                Some((session, s)) => here.confirm(&s.0, page, session),
                // `plan` asks only when there is a session.
                None => here.signed_out(lookup.as_ref(), 200, None).await,
            }
        }
        Plan::Stay => pages::html(200, render_still_signed_in()),
    }
}

/// What every answer needs to know about the request.
struct Here<'a> {
    tenant: &'a str,
    secure: bool,
    post: bool,
    kv: KvStore,
    now: crate::time::Timestamp,
}

impl Here<'_> {
    /// Ends the session (KV record and cookie) and revokes the hinted family, then
    /// redirects or shows the signed-out page.
    async fn sign_out(&self, lookup: Option<&LookupKey>, decision: &Decision) -> Result<Response> {
        if let Some(family) = &decision.revoke_family {
            // Until the family's last refresh session would have ended.
            let ttl = TokenSettings::new("", self.tenant).refresh_lifetime.0;
            Store::new(&self.kv, self.tenant)
                .revoke_family(family, ttl)
                .await?;
        }
        let Some(url) = &decision.redirect else {
            return self
                .signed_out(lookup, 200, decision.notice.as_deref())
                .await;
        };
        self.end(lookup).await?;
        // After a form post, 303 makes every browser follow with a GET.
        let resp = Response::empty()?.with_status(if self.post { 303 } else { 302 });
        let h = resp.headers();
        h.set("location", url)?;
        h.set("cache-control", "no-store")?;
        h.set("referrer-policy", "no-referrer")?;
        h.set("set-cookie", &sso::clear_cookie(self.tenant, self.secure))?;
        Ok(resp)
    }

    /// The "You are signed out" page, ending whatever session the cookie names.
    async fn signed_out(
        &self,
        lookup: Option<&LookupKey>,
        status: u16,
        notice: Option<&str>,
    ) -> Result<Response> {
        self.end(lookup).await?;
        let resp = pages::html(status, render_signed_out(notice))?;
        resp.headers()
            .set("set-cookie", &sso::clear_cookie(self.tenant, self.secure))?;
        Ok(resp)
    }

    async fn end(&self, lookup: Option<&LookupKey>) -> Result<()> {
        if let Some(k) = lookup {
            self.kv.delete(&sso_key(self.tenant, k.as_str())).await?;
        }
        Ok(())
    }

    /// The confirmation page, with a token bound to `session` under `code_key` (the
    /// caller has the secrets already); the session stays.
    fn confirm(
        &self,
        code_key: &CodeKey,
        page: Confirmation,
        session: &LookupKey,
    ) -> Result<Response> {
        let csrf = csrf_token(code_key, self.tenant, session.as_str(), self.now);
        let action = format!("/{}/oauth2/v2.0/logout", self.tenant);
        pages::html(page.status(), render_confirm(&page, &action, &csrf))
    }
}
