//! HTML and redirect responses of the hosted pages, with the headers that keep them out
//! of caches, frames and referrers. The pages run no script at all, so the content
//! security policy allows none; `form-action` is left unset because Chromium applies it
//! to the redirect that follows a form post, which goes to the application.

use worker::{Response, Result};

const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";

/// An HTML page.
pub fn html(status: u16, body: String) -> Result<Response> {
    let resp = Response::from_html(body)?.with_status(status);
    let h = resp.headers();
    h.set("cache-control", "no-store")?;
    h.set("content-security-policy", CSP)?;
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
