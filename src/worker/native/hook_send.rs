//! The HTTP half of a delivery hook: send the attempts [`crate::hook::Attempts`] plans,
//! each a `fetch` raced against a timer and aborted when the timer wins.
//!
//! Every attempt of one delivery carries the same `webhook-id` (a fresh 128-bit id per
//! delivery) and is signed again with its own timestamp. Redirects are not followed
//! (a `3xx` is a failure, as the core says), and the answer's body is never read; its
//! `Retry-After` header is handed to the core, which decides the wait. Only
//! the channel, the outcome and the number of attempts are logged: never the URL, the
//! body, the code, the destination or a secret.

use crate::hook::request::{HookRequest, build};
use crate::hook::{Attempts, CodeDelivery, Failure, HookEndpoint, MessageId, Next, Outcome};
use crate::time::Timestamp;
use crate::worker::request;
use futures_util::future::{Either, select};
use std::pin::pin;
use std::time::Duration;
use worker::{
    AbortController, Date, Delay, Fetch, Headers, Method, Request, RequestInit, RequestRedirect,
    Result,
};

/// Sends `payload` to `endpoint` within the delivery budget. The outer error is a
/// runtime failure (no entropy, a request the runtime cannot build).
pub async fn send(
    endpoint: &HookEndpoint,
    payload: &CodeDelivery,
) -> Result<std::result::Result<(), Failure>> {
    let id = MessageId::from_random(&request::random::<16>()?);
    let mut attempts = Attempts::start(now_ms());
    let mut next = attempts.first();
    loop {
        match next {
            Next::Done(result) => {
                if let Err(failure) = result {
                    worker::console_warn!(
                        "native: delivery hook failed ({}, {} attempt(s), {:?})",
                        failure.reason(),
                        attempts.made(),
                        payload.kind
                    );
                }
                return Ok(result);
            }
            Next::Send {
                pause_ms,
                timeout_ms,
            } => {
                if pause_ms > 0 {
                    Delay::from(Duration::from_millis(pause_ms)).await;
                }
                let req = build(endpoint, &id, Timestamp(now_ms() / 1000), payload);
                let (outcome, retry_after) = attempt(&req, timeout_ms).await?;
                next = attempts.after_answer(outcome, retry_after.as_deref(), now_ms());
            }
        }
    }
}

fn now_ms() -> u64 {
    Date::now().as_millis()
}

/// One POST, abandoned (and aborted) after `timeout_ms`: how it ended and the answer's
/// `Retry-After` header as sent (the core reads it).
async fn attempt(req: &HookRequest, timeout_ms: u64) -> Result<(Outcome, Option<String>)> {
    let headers = Headers::new();
    for (name, value) in &req.headers {
        headers.set(name, value)?;
    }
    let body = js_sys::Uint8Array::from(req.body.expose().as_slice());
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual)
        .with_body(Some(body.into()));
    let request = Request::new_with_init(&req.url, &init)?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    let sent = pin!(fetch.send_with_signal(&signal));
    let timer = pin!(Delay::from(Duration::from_millis(timeout_ms)));
    Ok(match select(sent, timer).await {
        Either::Left((Ok(response), _)) => (
            Outcome::Status(response.status_code()),
            response.headers().get("retry-after").ok().flatten(),
        ),
        Either::Left((Err(_), _)) => (Outcome::NetworkError, None),
        Either::Right(((), _)) => {
            controller.abort();
            (Outcome::Timeout, None)
        }
    })
}
