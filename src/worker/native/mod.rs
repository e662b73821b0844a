//! The native authentication API (Entra External ID V1) in the Worker: the fifteen
//! endpoints under `/{tenant}/oauth2/v2.0/…`, `/{tenant}/signup/v1.0/…`,
//! `/{tenant}/resetpassword/v1.0/…` and `/{tenant}/register/v1.0/…`, plus their CORS
//! preflight.
//!
//! The protocol rules are the pure [`crate::native`]; the flow is [`crate::flow`]. This
//! module only does I/O: read the form, load the tenant's setup ([`setup`]), look up
//! the flow and the user in KV ([`kv`]), run one step, apply its effects (users to KV,
//! codes to [`delivery`], tokens from [`tokens`], audit to the log), rotate the
//! continuation token and write the answer ([`http`]). Every answer is JSON; bad input
//! is a `400`, never a `5xx`; a missing secret or a storage failure is a
//! `server_error` (500 or 503) and nothing is stored.

pub(super) mod delivery;
mod dev_config;
pub(super) mod effects;
mod hook_send;
pub(super) mod http;
pub(super) mod kv;
pub(super) mod setup;
mod step;
pub(super) mod tokens;

pub use delivery::read as read_outbox;
pub use dev_config::put as dev_flow_config;
pub(crate) use kv::Store as UserStore;
pub(crate) use setup::flow_config_key;

use crate::native::tokens::{TokenSettings, issuer};
use crate::native::{
    Endpoint, Form, Meta, NativeError, NativeRequest, NativeResponse, error_response,
};
use crate::worker::route::Ctx;
use worker::{Method, Request, Response, Result};

/// Why a request could not be answered normally: a protocol error for the client, or
/// a failure of the runtime (KV, entropy).
pub enum Fail {
    /// Answer with this error.
    Protocol(NativeError),
    /// The runtime failed; answer `server_error` (503) and log the category.
    Runtime(worker::Error),
}

impl From<NativeError> for Fail {
    fn from(e: NativeError) -> Self {
        Fail::Protocol(e)
    }
}

impl From<worker::Error> for Fail {
    fn from(e: worker::Error) -> Self {
        Fail::Runtime(e)
    }
}

impl From<worker::kv::KvError> for Fail {
    fn from(e: worker::kv::KvError) -> Self {
        Fail::Runtime(e.into())
    }
}

/// Entry point for every native-auth path and method.
pub async fn handle(mut req: Request, ctx: Ctx) -> Result<Response> {
    let meta = http::meta(&req)?;
    let answer = match req.method() {
        Method::Options => return http::preflight(&req),
        Method::Post => match run(&mut req, &ctx, &meta).await {
            Ok(answer) => answer,
            Err(Fail::Protocol(e)) => error_response(&e, &meta, None),
            Err(Fail::Runtime(e)) => {
                worker::console_error!(
                    "native: runtime failure ({})",
                    crate::worker::reply::category(&e)
                );
                let mut e = NativeError::server_error(
                    "the service could not complete the request; try again shortly",
                );
                e.status = 503;
                error_response(&e, &meta, None)
            }
        },
        // As everywhere in the Worker: a JSON 405 (MSAL only ever POSTs here).
        _ => return crate::worker::reply::method_not_allowed(),
    };
    http::respond(&answer, &meta)
}

/// The endpoint named by the path `/{tenant}/{family}/{version}/{operation}`.
fn endpoint(req: &Request) -> Option<Endpoint> {
    let path = req.path();
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match parts.as_slice() {
        [_, family, version, operation] => Endpoint::from_parts(family, version, operation),
        _ => None,
    }
}

async fn run(
    req: &mut Request,
    ctx: &Ctx,
    meta: &Meta,
) -> std::result::Result<NativeResponse, Fail> {
    let (Some(endpoint), Some(tenant)) = (endpoint(req), crate::worker::tenant::from_route(ctx))
    else {
        let mut e = NativeError::invalid_request("no such native authentication endpoint");
        e.status = 404;
        return Err(e.into());
    };
    let body = http::form_body(req).await?;
    let form = Form::parse(&body)?;
    // OpenID Connect's code grant shares this token endpoint (src/worker/oidc).
    if endpoint == Endpoint::Token && form.get("grant_type") == Some("authorization_code") {
        return crate::worker::oidc::token::exchange(req, ctx, &tenant, &form, meta).await;
    }
    let request = crate::native::parse(endpoint, &form, &http::facts(req))?;
    let kv = ctx.kv("KV")?;
    let first = kv::Store::new(&kv, &tenant).first_read_key(&request);
    let (setup, prefetched) = setup::load_with(ctx, &tenant, first).await?;
    let origin = req.url()?.origin().ascii_serialization();
    let settings = TokenSettings::new(issuer(&origin, &tenant), tenant.clone());
    if let NativeRequest::Refresh {
        client_id,
        refresh_token,
        ..
    } = &request
    {
        let store = kv::Store::new(&kv, &tenant)
            .with_prefetched(prefetched)
            .with_env(&ctx.env);
        let served = setup.config.user_flow.serves(client_id)
            || crate::worker::oidc::apps::is_registered(&kv, &tenant, client_id).await?;
        let guard = crate::worker::guard::Client::for_request(ctx, req);
        return tokens::refresh(
            &store,
            &guard,
            &setup,
            &settings,
            client_id,
            refresh_token,
            meta,
            served,
        )
        .await;
    }
    let delivery = delivery::Delivery::load(ctx, &tenant, setup.delivery_hooks.as_deref())?;
    let call = step::Call {
        kv: &kv,
        tenant: &tenant,
        setup: &setup,
        delivery: &delivery,
        tokens: &settings,
        meta,
        sign_in_log: crate::worker::sign_in_log::SignInLog::for_env(ctx),
        guard: crate::worker::guard::Client::for_request(ctx, req),
        prefetched: std::cell::Cell::new(prefetched),
    };
    step::run(&call, request).await
}
