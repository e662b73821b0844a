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
mod dev_lockout;
mod guard;
mod kv_bulk;
mod kv_json;
mod native;
mod oidc;
mod reply;
mod request;
mod route;
mod sign_in_log;
mod sms_captcha;
mod store;
mod tenant;

use crate::routes::{Handler, Routed};
use route::Ctx;
use worker::{Context, Env, Request, Response, Result, event};

/// The single entry point the Workers runtime calls for every request.
#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let (handler, params) = match crate::routes::route(req.method().as_ref(), &req.path()) {
        Routed::To(handler, params) => (handler, params),
        Routed::MethodNotAllowed => return reply::method_not_allowed(),
        Routed::NotFound => return reply::not_found(),
    };
    let ctx = Ctx::new(env, params);
    let answer = match handler {
        Handler::Healthz => Response::from_json(&crate::about::build_info()),
        Handler::DevKvGet => dev::kv_get(req, ctx).await,
        Handler::DevKvPut => dev::kv_put(req, ctx).await,
        Handler::DevFetch => dev::fetch_probe(req, ctx).await,
        Handler::DevOutbox => dev::outbox(req, ctx).await,
        Handler::DevFlowConfig => native::dev_flow_config(req, ctx).await,
        Handler::DevUserLockout => dev_lockout::put(req, ctx).await,
        Handler::DevUserRecord => dev_lockout::record(req, ctx).await,
        Handler::Admin => admin::handle(req, ctx).await,
        Handler::Discovery => oidc::discovery(req, ctx).await,
        Handler::Jwks => oidc::jwks(req, ctx).await,
        Handler::Authorize => oidc::authorize(req, ctx).await,
        Handler::Interaction => oidc::interaction(req, ctx).await,
        Handler::Userinfo => oidc::userinfo(req, ctx).await,
        Handler::Logout => oidc::logout(req, ctx).await,
        Handler::Native => native::handle(req, ctx).await,
    };
    match answer {
        Ok(resp) => Ok(resp),
        Err(err) => reply::internal(&err),
    }
}
