//! JSON error replies. Every failure leaves as `{"error": {code, message}}` with a status
//! chosen here, so clients always get JSON and internals never leak.

use crate::error::{ErrorBody, ErrorEnvelope};
use worker::{Response, Result};

/// A JSON error reply with the given status.
pub fn error(status: u16, body: ErrorBody) -> Result<Response> {
    Ok(Response::from_json(&ErrorEnvelope::from(body))?.with_status(status))
}

/// A refused request body: the status follows the error code (415 for a wrong content
/// type, 413 for an oversized body, 400 otherwise).
pub fn bad_body(body: ErrorBody) -> Result<Response> {
    let status = match body.code.as_str() {
        "request.unsupported_media_type" => 415,
        "request.too_large" => 413,
        _ => 400,
    };
    error(status, body)
}

/// The reply for a path or method that does not exist.
pub fn not_found() -> Result<Response> {
    error(404, ErrorBody::new("route.not_found", "no such route"))
}

/// The reply for a known path called with a method it does not serve.
pub fn method_not_allowed() -> Result<Response> {
    error(
        405,
        ErrorBody::new(
            "route.method_not_allowed",
            "this path does not accept that method",
        ),
    )
}

/// The reply for a failure of the runtime itself (KV, fetch). The cause is logged by
/// category only: runtime errors can embed request data.
pub fn internal(err: &worker::Error) -> Result<Response> {
    worker::console_error!("internal error: {}", category(err));
    error(
        503,
        ErrorBody::new(
            "service.unavailable",
            "the service could not complete the request; try again shortly",
        ),
    )
}

/// A runtime failure's kind for the log: never its message, which may carry data.
pub fn category(err: &worker::Error) -> &'static str {
    match err {
        worker::Error::Json(_) | worker::Error::SerdeJsonError(_) => "json",
        worker::Error::KvError(_) => "kv",
        worker::Error::RustError(_) => "rust",
        worker::Error::JsError(_) | worker::Error::Internal(_) => "js",
        _ => "other",
    }
}
