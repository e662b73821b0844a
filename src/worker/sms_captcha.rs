//! The CAPTCHA check's I/O: read its configuration and POST a widget token to a
//! Turnstile-compatible `siteverify` endpoint. The core builds the form
//! ([`crate::sms::captcha::SiteverifyRequest`]), judges the answer
//! ([`crate::sms::captcha::read_siteverify`], fail closed) and decides what the hosted
//! page does with it ([`crate::oidc::captcha`]).
//!
//! Configuration (see `wrangler.toml`):
//! - `CAPTCHA_SITE_KEY` (variable): the widget's public site key;
//! - `CAPTCHA_SECRET` (secret): the key `siteverify` checks tokens with;
//! - `CAPTCHA_SITEVERIFY_URL` (variable, optional): default Cloudflare Turnstile's
//!   `https://challenges.cloudflare.com/turnstile/v0/siteverify`; any service that takes
//!   the same form (`secret`, `response`, `remoteip`) and answers the same JSON
//!   (`success`, `error-codes`) works.
//!
//! Without a site key or without the secret the hosted pages do not offer the widget and
//! keep the behaviour they had before it existed: when fraud is suspected the sign-in
//! ends with `access_denied` and no SMS is sent. Native auth never calls this: its
//! clients cannot show a widget and the protocol has no token field, so the flow answers
//! `redirect` instead.

use crate::oidc::captcha::{SITEVERIFY_BUDGET_MS, widget};
use crate::pii::Secret;
use crate::sms::captcha::{SiteverifyRequest, TIMED_OUT, UNREACHABLE, read_siteverify};
use crate::worker::route::Ctx;
use futures_util::future::{Either, select};
use std::pin::pin;
use std::time::Duration;
use worker::{
    AbortController, Delay, Fetch, Headers, Method, Request, RequestInit, RequestRedirect,
};

/// Cloudflare Turnstile's endpoint.
pub const DEFAULT_SITEVERIFY_URL: &str =
    "https://challenges.cloudflare.com/turnstile/v0/siteverify";

fn secret(ctx: &Ctx) -> Option<String> {
    ctx.secret("CAPTCHA_SECRET")
        .ok()
        .map(|s| s.to_string())
        .filter(|s| !s.is_empty())
}

/// The widget's site key when the hosted pages can run the check (a site key and a
/// secret are configured); `None` keeps the pages as they were without a CAPTCHA.
pub fn site_key(ctx: &Ctx) -> Option<String> {
    let key = ctx.var("CAPTCHA_SITE_KEY").ok().map(|v| v.to_string());
    widget(key.as_deref(), secret(ctx).is_some())
}

/// Verifies one widget token within [`SITEVERIFY_BUDGET_MS`]. `Err` holds the reason
/// codes: the service's own, or [`TIMED_OUT`] / [`UNREACHABLE`] when it did not answer
/// in time or could not be asked. Never an error of its own: whatever goes wrong, the
/// check fails and the page says so, with the flow kept.
pub async fn verify(
    ctx: &Ctx,
    token: &Secret<String>,
    remote_ip: Option<&str>,
) -> Result<(), Vec<String>> {
    let Some(secret) = secret(ctx) else {
        return Err(vec!["missing-input-secret".into()]);
    };
    let url = ctx
        .var("CAPTCHA_SITEVERIFY_URL")
        .map(|v| v.to_string())
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_SITEVERIFY_URL.to_string());
    let Some(form) = SiteverifyRequest::new(&secret, token.expose(), remote_ip) else {
        return Err(vec!["invalid-input-response".into()]);
    };
    let Ok(request) = build(&url, form) else {
        worker::console_error!("captcha: CAPTCHA_SITEVERIFY_URL cannot be requested");
        return Err(vec![UNREACHABLE.into()]);
    };
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    // The body is read inside the race too: a service that sends its headers and then
    // stalls is as slow as one that never answers.
    let answer = pin!(async {
        let mut resp = fetch.send_with_signal(&signal).await?;
        let status = resp.status_code();
        let body = resp.text().await?;
        Ok::<_, worker::Error>((status, body))
    });
    let timer = pin!(Delay::from(Duration::from_millis(SITEVERIFY_BUDGET_MS)));
    match select(answer, timer).await {
        Either::Left((Ok((status, body)), _)) => read_siteverify(status, &body),
        Either::Left((Err(_), _)) => Err(vec![UNREACHABLE.into()]),
        Either::Right(((), _)) => {
            controller.abort();
            Err(vec![TIMED_OUT.into()])
        }
    }
}

/// The `POST` of the form; redirects are not followed (a `3xx` fails the check).
fn build(url: &str, form: SiteverifyRequest) -> worker::Result<Request> {
    let headers = Headers::new();
    headers.set("content-type", SiteverifyRequest::CONTENT_TYPE)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual)
        .with_body(Some(form.body.into()));
    Request::new_with_init(url, &init)
}
