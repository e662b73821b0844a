//! `PUT /_dev/native/:tenant/flow-config` (only with `DEV_ROUTES=on`): stores a
//! tenant's whole flow configuration in one request, validated by the core, for local
//! runs and tests. Deployed tenants use the admin API's Graph paths instead
//! (`/policies/authenticationMethodsPolicy`, `/identity/authenticationEventsFlows`,
//! `/vestibule/flowSettings`), which write the same KV document.

use super::setup::flow_config_key;
use crate::error::ErrorBody;
use crate::flow::FlowConfig;
use crate::worker::route::Ctx;
use crate::worker::{reply, request, tenant};
use worker::{Request, Response, Result};

/// Stores the body as the tenant's flow configuration if the core accepts it.
pub async fn put(mut req: Request, ctx: Ctx) -> Result<Response> {
    let dev = ctx
        .var("DEV_ROUTES")
        .map(|v| v.to_string() == "on")
        .unwrap_or(false);
    if !dev {
        return reply::not_found();
    }
    let Some(tenant) = tenant::from_route(&ctx) else {
        return reply::not_found();
    };
    let body = match request::json_body(&mut req).await? {
        Ok(v) => v,
        Err(e) => return reply::bad_body(e),
    };
    let config = match FlowConfig::from_json_text(&body.to_string()) {
        Ok(c) => c,
        Err(e) => {
            let e = e.message;
            return reply::error(
                400,
                ErrorBody::new(
                    "flow.invalid_config",
                    format!("not a flow configuration: {e}"),
                ),
            );
        }
    };
    if let Err(e) = config.validate() {
        return reply::error(400, ErrorBody::from(e));
    }
    ctx.kv("KV")?
        .put(&flow_config_key(&tenant), body.to_string())?
        .execute()
        .await?;
    Response::from_json(&serde_json::json!({"tenant": tenant, "stored": true}))
}
