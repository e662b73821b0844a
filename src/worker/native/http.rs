//! The HTTP edge of native auth: reading the form body and the request ids, and
//! writing every answer as JSON with the headers MSAL and browsers need.

use super::Fail;
use crate::flow::ClientFacts;
use crate::native::form::{MAX_FORM_BODY, check_content_type};
use crate::native::{Meta, NativeError, NativeResponse};
use crate::pii::Pii;
use crate::worker::request;
use worker::{Headers, Request, Response, Result};

/// The request ids and clock of one request. The correlation id is the client's
/// `client-request-id` when it looks like an id (MSAL sends a UUID, and reuses the
/// `correlation_id` of an error body), else a fresh one; the trace id is always fresh.
pub fn meta(req: &Request) -> Result<Meta> {
    let client = req
        .headers()
        .get("client-request-id")
        .ok()
        .flatten()
        .filter(|v| {
            (1..=64).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    Ok(Meta {
        now: request::now(),
        trace_id: request::new_id()?,
        correlation_id: match client {
            Some(id) => id,
            None => request::new_id()?,
        },
    })
}

/// The form body, refused unless its media type is `application/x-www-form-urlencoded`
/// ([`check_content_type`] decides; MSAL's refresh adds `;charset=utf-8`) and small.
pub async fn form_body(req: &mut Request) -> std::result::Result<Vec<u8>, Fail> {
    let content_type = req.headers().get("content-type").ok().flatten();
    check_content_type(content_type.as_deref())?;
    // Never read whole before the size is known: see `request::bytes_within`.
    match request::bytes_within(req, MAX_FORM_BODY).await? {
        Some(bytes) => Ok(bytes),
        None => Err(NativeError::invalid_request(format!(
            "the request body is larger than {MAX_FORM_BODY} bytes"
        ))
        .into()),
    }
}

/// What the edge knows about the caller, for Conditional Access and the SMS checks: the
/// client IP and country Cloudflare adds. Personal data: wrapped, never logged.
///
/// The country is passed as Cloudflare sends it, pseudo-codes included (`T1` for Tor,
/// `XX` when unknown): what they mean is the core's to decide (the SMS CAPTCHA suspects
/// them, Conditional Access reads them as an unknown country). Anything but two
/// uppercase ASCII letters or digits is dropped.
pub fn facts(req: &Request) -> ClientFacts {
    let header = |name: &str| req.headers().get(name).ok().flatten();
    ClientFacts {
        ip_address: header("cf-connecting-ip").map(Pii::new),
        country: header("cf-ipcountry").filter(|c| {
            c.len() == 2
                && c.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        }),
        ..ClientFacts::default()
    }
}

fn cors(headers: &Headers) -> Result<()> {
    headers.set("access-control-allow-origin", "*")?;
    headers.set("access-control-expose-headers", "x-ms-request-id")?;
    Ok(())
}

/// Writes an answer: JSON, never cached (it may hold tokens), with the trace id as
/// `x-ms-request-id` (MSAL reads it as the correlation id) and CORS headers.
pub fn respond(answer: &NativeResponse, meta: &Meta) -> Result<Response> {
    let resp = Response::from_json(&answer.body)?.with_status(answer.status);
    let headers = resp.headers();
    headers.set("cache-control", "no-store")?;
    headers.set("pragma", "no-cache")?;
    headers.set("x-ms-request-id", &meta.trace_id)?;
    headers.set("client-request-id", &meta.correlation_id)?;
    cors(headers)?;
    Ok(resp)
}

/// The CORS preflight answer for every native-auth path: MSAL's headers and the app's own
/// `x-` headers it asks for ([`crate::native::cors`]).
pub fn preflight(req: &Request) -> Result<Response> {
    let requested = req
        .headers()
        .get("access-control-request-headers")
        .ok()
        .flatten();
    let resp = Response::empty()?.with_status(204);
    let headers = resp.headers();
    cors(headers)?;
    headers.set("access-control-allow-methods", "POST, OPTIONS")?;
    headers.set(
        "access-control-allow-headers",
        &crate::native::cors::allow_headers(requested.as_deref()),
    )?;
    headers.set("vary", "Access-Control-Request-Headers")?;
    headers.set("access-control-max-age", "86400")?;
    Ok(resp)
}
