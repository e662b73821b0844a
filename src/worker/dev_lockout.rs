//! `PUT /_dev/native/:tenant/users/:id/lockout` (only with `DEV_ROUTES=on`; for tests):
//! writes the user's record back to KV with the body as its lockout, and does nothing
//! else: no guard object is told, no clear is stamped.
//!
//! It stands in for what KV at another location may still show (an older record, with
//! fewer failures), which one `wrangler dev` cannot produce otherwise: the end-to-end test
//! `tests/e2e/lockout_authority.test.mjs` uses it to prove that a password is judged by
//! the count in the account's guard object ([`crate::guard::password`]), not by the
//! record. Production deployments leave `DEV_ROUTES` unset and this answers 404.

use super::native::UserStore;
use super::route::Ctx;
use super::{reply, request, tenant};
use crate::error::ErrorBody;
use crate::flow::user::Lockout;
use worker::{Request, Response, Result};

/// Writes the record with the given lockout.
pub async fn put(mut req: Request, ctx: Ctx) -> Result<Response> {
    let dev = ctx
        .var("DEV_ROUTES")
        .map(|v| v.to_string() == "on")
        .unwrap_or(false);
    let (Some(tenant), Some(id)) = (tenant::from_route(&ctx), ctx.param("key").cloned()) else {
        return reply::not_found();
    };
    if !dev || !crate::admin::users::valid_id(&id) {
        return reply::not_found();
    }
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
