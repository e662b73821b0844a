//! Reading requests and the runtime's clock and entropy: the values the core is handed.

use crate::error::ErrorBody;
use crate::time::Timestamp;
use worker::{Request, Result};

/// Largest JSON body accepted. A tenant's whole policy set fits easily; more is abuse.
pub const MAX_JSON_BODY: usize = 256 * 1024;

/// The request body as JSON, or an error a client can act on (wrong content type, too
/// large, invalid JSON, duplicate keys).
pub async fn json_body(
    req: &mut Request,
) -> Result<std::result::Result<serde_json::Value, ErrorBody>> {
    let content_type = req
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .unwrap_or_default();
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/json")
    {
        return Ok(Err(ErrorBody::new(
            "request.unsupported_media_type",
            "send the body as `application/json`",
        )));
    }
    let Some(bytes) = bytes_within(req, MAX_JSON_BODY).await? else {
        return Ok(Err(ErrorBody::new(
            "request.too_large",
            format!("the body is larger than {MAX_JSON_BODY} bytes"),
        )));
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Ok(Err(ErrorBody::new(
            "request.invalid_utf8",
            "the body is not valid utf-8",
        )));
    };
    Ok(crate::policy::json::parse(text))
}

/// The request body if it is at most `max` bytes, else `None`, without ever holding
/// more than `max` bytes of it: a declared `Content-Length` over `max` is refused before
/// anything is read (the runtime discards the body), and a body without one is read chunk
/// by chunk, what passes `max` being dropped as it comes. Reading it whole first
/// (`Request::bytes`) would buffer whatever the platform lets through (100 MB) twice, in
/// JS and in wasm memory, over an isolate's 128 MB.
pub async fn bytes_within(req: &mut Request, max: usize) -> Result<Option<Vec<u8>>> {
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| usize::try_from(n).map_or(true, |n| n > max)) {
        return Ok(None);
    }
    if req.inner().body().is_none() {
        return Ok(Some(Vec::new()));
    }
    // A declared length within `max` (every browser and MSAL request) is read in one call:
    // the runtime delivers no more than it declares, and chunk by chunk through the stream
    // cost each request several more trips between wasm and JS.
    if declared.is_some() {
        let bytes = req.bytes().await?;
        return Ok((bytes.len() <= max).then_some(bytes));
    }
    let mut stream = req.stream()?;
    let mut out = Some(Vec::new());
    // Past `max` the rest is still read, chunk by chunk, and dropped: cancelling the body
    // instead breaks the client's connection (its next request on it fails).
    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
        let chunk = chunk?;
        if let Some(buf) = &mut out {
            if buf.len().saturating_add(chunk.len()) > max {
                out = None;
            } else {
                buf.extend_from_slice(&chunk);
            }
        }
    }
    Ok(out)
}

/// Now, from the runtime's clock (in Workers it advances only across I/O, which is fine for
/// second-resolution expiry).
pub fn now() -> Timestamp {
    let millis = js_sys::Date::now();
    Timestamp(if millis.is_finite() && millis > 0.0 {
        (millis / 1000.0) as u64
    } else {
        0
    })
}

/// Random bytes from the runtime's CSPRNG.
pub fn random<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| worker::Error::RustError(format!("getrandom: {e}")))?;
    Ok(buf)
}

/// A random (version 4) UUID, the id shape Graph uses for policies and locations.
pub fn new_id() -> Result<String> {
    let mut b: [u8; 16] = random()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = |range: std::ops::Range<usize>| -> String {
        b.get(range)
            .unwrap_or_default()
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect()
    };
    Ok(format!(
        "{}-{}-{}-{}-{}",
        hex(0..4),
        hex(4..6),
        hex(6..8),
        hex(8..10),
        hex(10..16)
    ))
}
