//! Stale user records for tests (only with `DEV_ROUTES=on`):
//! - `PUT /_dev/native/:tenant/users/:id/lockout` writes the user's record back to KV with
//!   the body as its lockout;
//! - `GET /_dev/native/:tenant/users/:id/record` answers the record as KV stores it, and
//!   `PUT` writes such a record back as it is (and its email index entry).
//!
//! Neither tells a guard object or stamps anything. They stand in for what KV at another
//! location may still show (an older record), which one `wrangler dev` cannot produce
//! otherwise: `tests/e2e/lockout_authority.test.mjs` and `stale_records.test.mjs` use
//! them to prove that the account's guard object, not the record a location reads, has
//! the last word ([`crate::guard::password`], [`crate::guard::record`]). Production
//! deployments leave `DEV_ROUTES` unset and these answer 404.

use super::native::UserStore;
use super::route::Ctx;
use super::{reply, request, tenant};
use crate::error::ErrorBody;
use crate::flow::UserRecord;
use crate::flow::user::Lockout;
use worker::{Method, Request, Response, Result};

/// The tenant and user id of a dev route, when dev routes are on.
fn target(ctx: &Ctx) -> Option<(String, String)> {
    let dev = ctx
        .var("DEV_ROUTES")
        .map(|v| v.to_string() == "on")
        .unwrap_or(false);
    let (Some(tenant), Some(id)) = (tenant::from_route(ctx), ctx.param("key").cloned()) else {
        return None;
    };
    (dev && crate::admin::users::valid_id(&id)).then_some((tenant, id))
}

/// Reads the record as stored, or writes one back as given.
pub async fn record(mut req: Request, ctx: Ctx) -> Result<Response> {
    let Some((tenant, id)) = target(&ctx) else {
        return reply::not_found();
    };
    let kv = ctx.kv("KV")?;
    let store = UserStore::new(&kv, &tenant);
    if req.method() == Method::Get {
        return match store.user(&id).await? {
            Some(user) => Response::from_json(&user),
            None => reply::error(404, ErrorBody::new("user.not_found", "no such user")),
        };
    }
    let text = req.text().await?;
    match serde_json::from_str::<UserRecord>(&text) {
        // With its email index entry, which a deletion removes too.
        Ok(user) if user.id == id => {
            store.put_user(&user, true).await?;
            Response::empty().map(|r| r.with_status(204))
        }
        _ => reply::error(
            400,
            ErrorBody::new(
                "request.invalid_record",
                "the body is not this user's record",
            ),
        ),
    }
}

/// Writes the record with the given lockout.
pub async fn put(mut req: Request, ctx: Ctx) -> Result<Response> {
    let Some((tenant, id)) = target(&ctx) else {
        return reply::not_found();
    };
    let body = match request::json_body(&mut req).await? {
        Ok(v) => v,
        Err(e) => return reply::bad_body(e),
    };
    let Ok(lockout) = serde_json::from_value::<Lockout>(body) else {
        return reply::error(
            400,
            ErrorBody::new(
                "request.invalid_lockout",
                "the body is not a user's `lockout`",
            ),
        );
    };
    let kv = ctx.kv("KV")?;
    let store = UserStore::new(&kv, &tenant);
    let Some(mut user) = store.user(&id).await? else {
        return reply::error(404, ErrorBody::new("user.not_found", "no such user"));
    };
    user.lockout = lockout;
    store.put_user(&user, false).await?;
    Response::empty().map(|r| r.with_status(204))
}
