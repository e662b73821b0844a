//! Development-only diagnostics, off unless the `DEV_ROUTES` variable is `on`.
//!
//! They prove, through real requests, that the KV binding persists and that the Worker can
//! reach an HTTP endpoint, which is what delivery hooks rely on. Production deployments
//! leave `DEV_ROUTES` unset, and every route here then answers 404 like any unknown path.

use super::reply;
use crate::error::ErrorBody;
use crate::worker::route::Ctx;
use worker::{Fetch, Request, Response, Result};

const KV_BINDING: &str = "KV";
const DEV_PREFIX: &str = "dev:";
/// Large enough for diagnostics, small enough that a probe cannot fill KV.
const MAX_VALUE_BYTES: usize = 4096;

fn enabled(ctx: &Ctx) -> bool {
    ctx.var("DEV_ROUTES")
        .map(|v| v.to_string() == "on")
        .unwrap_or(false)
}

fn not_found() -> Result<Response> {
    reply::not_found()
}

/// `PUT /_dev/kv/:key`: stores the body under a namespaced key.
pub async fn kv_put(mut req: Request, ctx: Ctx) -> Result<Response> {
    if !enabled(&ctx) {
        return not_found();
    }
    let Some(key) = ctx.param("key").cloned() else {
        return not_found();
    };
    let body = req.text().await?;
    if body.len() > MAX_VALUE_BYTES {
        return reply::error(
            413,
            ErrorBody::new("request.too_large", "the value is larger than 4096 bytes"),
        );
    }
    let kv = ctx.kv(KV_BINDING)?;
    kv.put(&format!("{DEV_PREFIX}{key}"), body)?
        .expiration_ttl(3600)
        .execute()
        .await?;
    Response::from_json(&serde_json::json!({ "stored": key }))
}

/// `GET /_dev/kv/:key`: reads back what `kv_put` stored.
pub async fn kv_get(_req: Request, ctx: Ctx) -> Result<Response> {
    if !enabled(&ctx) {
        return not_found();
    }
    let Some(key) = ctx.param("key").cloned() else {
        return not_found();
    };
    let kv = ctx.kv(KV_BINDING)?;
    match kv.get(&format!("{DEV_PREFIX}{key}")).text().await? {
        Some(value) => Response::from_json(&serde_json::json!({ "key": key, "value": value })),
        None => reply::error(
            404,
            ErrorBody::new("kv.not_found", "no value under that key"),
        ),
    }
}

/// `POST /_dev/fetch?url=…`: the Worker fetches the URL and reports the status and body.
/// Only loopback URLs are allowed, so the route cannot be turned into an open proxy.
pub async fn fetch_probe(req: Request, ctx: Ctx) -> Result<Response> {
    if !enabled(&ctx) {
        return not_found();
    }
    let url = req
        .url()?
        .query_pairs()
        .find(|(k, _)| k == "url")
        .map(|(_, v)| v.into_owned());
    let Some(target) = url.and_then(|u| worker::Url::parse(&u).ok()) else {
        return reply::error(
            400,
            ErrorBody::new(
                "request.invalid_url",
                "give an absolute `url` query parameter",
            ),
        );
    };
    let loopback = matches!(target.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if !loopback || target.scheme() != "http" {
        return reply::error(
            400,
            ErrorBody::new(
                "request.url_not_allowed",
                "only http://127.0.0.1 urls are allowed",
            ),
        );
    }
    let mut upstream = Fetch::Url(target).send().await?;
    let status = upstream.status_code();
    let body = upstream.text().await?;
    Response::from_json(&serde_json::json!({ "status": status, "body": body }))
}

/// `GET /_dev/outbox?to=<address>[&tenant=<tenant>]`: the latest one-time codes sent to
/// an email address or phone number (newest first), which is how tests and the local
/// demo read codes (see `native::delivery`).
pub async fn outbox(req: Request, ctx: Ctx) -> Result<Response> {
    if !enabled(&ctx) {
        return not_found();
    }
    let url = req.url()?;
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let Some(to) = param("to") else {
        return reply::error(
            400,
            ErrorBody::new("request.missing_to", "give a `to` query parameter"),
        );
    };
    let tenant = param("tenant");
    let messages = super::native::read_outbox(&ctx.kv(KV_BINDING)?, &to, tenant.as_deref()).await?;
    let mut resp = Response::from_json(&serde_json::json!({ "messages": messages }))?;
    // The demo's "local Worker" mode reads codes from another origin (its own static
    // server); this route exists only with DEV_ROUTES=on, so any origin may read it.
    resp.headers_mut().set("access-control-allow-origin", "*")?;
    Ok(resp)
}
