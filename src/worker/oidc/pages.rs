//! HTML and redirect responses of the hosted pages, with the headers that keep them out
//! of caches, frames and referrers. The content security policy is the core's
//! ([`crate::oidc::html::content_security_policy`]): no script at all, except the
//! CAPTCHA widget's on the CAPTCHA page.

use crate::oidc::hosted::Page;
use crate::oidc::html::{NO_SCRIPT_CSP, content_security_policy};
use worker::{Response, Result};

/// An HTML page that runs no script.
pub fn html(status: u16, body: String) -> Result<Response> {
    with_csp(status, body, NO_SCRIPT_CSP)
}

/// The HTML of `page`, with that page's content security policy.
pub fn page(status: u16, page: &Page, body: String) -> Result<Response> {
    with_csp(status, body, content_security_policy(page))
}

fn with_csp(status: u16, body: String, csp: &str) -> Result<Response> {
    let resp = Response::from_html(body)?.with_status(status);
    let h = resp.headers();
    h.set("cache-control", "no-store")?;
    h.set("content-security-policy", csp)?;
    h.set("x-frame-options", "DENY")?;
    h.set("x-content-type-options", "nosniff")?;
    h.set("referrer-policy", "no-referrer")?;
    Ok(resp)
}

/// An error page that does not send the person anywhere.
pub fn error(status: u16, message: &str) -> Result<Response> {
    html(
        status,
        crate::oidc::html::render_error("Sign-in cannot continue", message),
    )
}

/// `303 See Other` to `url` (the application's redirect URI with the response).
pub fn redirect(url: &str) -> Result<Response> {
    let resp = Response::empty()?.with_status(303);
    let h = resp.headers();
    h.set("location", url)?;
    h.set("cache-control", "no-store")?;
    h.set("referrer-policy", "no-referrer")?;
    Ok(resp)
}
