//! The Cloudflare Worker adapter: HTTP in, core calls, HTTP out.
//!
//! This module and its children are the only code that touches `worker::*`. They translate
//! requests into core inputs and core effects into KV writes and `fetch` calls; every
//! decision is made by the core. Errors leave as JSON with a stable `code`, never as the
//! opaque 500 the runtime would otherwise produce.

mod admin;
mod admin_apps;
mod admin_flow_config;
mod admin_hooks;
mod admin_sms;
mod admin_users;
mod dev;
mod guard;
mod kv_bulk;
mod kv_json;
mod native;
mod oidc;
mod reply;
mod request;
mod sign_in_log;
mod sms_captcha;
mod store;
mod tenant;

use worker::{Context, Env, Request, Response, Result, Router, event};

/// The single entry point the Workers runtime calls for every request.
#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let router = Router::new()
        .get("/healthz", |_, _| {
            Response::from_json(&crate::about::build_info())
        })
        .get_async("/_dev/kv/:key", dev::kv_get)
        .put_async("/_dev/kv/:key", dev::kv_put)
        .post_async("/_dev/fetch", dev::fetch_probe)
        .on_async("/v1.0/*rest", admin::handle)
        .on_async("/:tenant/v1.0/*rest", admin::handle)
        .get_async("/_dev/outbox", dev::outbox)
        .put_async("/_dev/native/:tenant/flow-config", native::dev_flow_config)
        .get_async(
            "/:tenant/v2.0/.well-known/openid-configuration",
            oidc::discovery,
        )
        .get_async("/:tenant/discovery/v2.0/keys", oidc::jwks)
        .on_async("/:tenant/oauth2/v2.0/authorize", oidc::authorize)
        .post_async("/:tenant/oidc/interaction", oidc::interaction)
        .on_async("/:tenant/oidc/userinfo", oidc::userinfo)
        .on_async("/:tenant/oauth2/v2.0/logout", oidc::logout)
        .on_async("/:tenant/oauth2/v2.0/:op", native::handle)
        .on_async("/:tenant/signup/v1.0/:op", native::handle)
        .on_async("/:tenant/resetpassword/v1.0/:op", native::handle)
        .on_async("/:tenant/register/v1.0/:op", native::handle)
        .or_else_any_method("/", |_, _| reply::not_found())
        .or_else_any_method("/*path", |_, _| reply::not_found());
    match router.run(req, env).await {
        // The router answers a known path with the wrong method in plain text; keep JSON.
        Ok(resp) if resp.status_code() == 405 => reply::method_not_allowed(),
        Ok(resp) => Ok(resp),
        Err(err) => reply::internal(&err),
    }
}
