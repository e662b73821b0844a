//! `/vestibule/deliveryHooks`: where a tenant's email and SMS codes go (KV
//! `tenant/{tenant}/deliveryHooks`, read by [`super::native::delivery::Delivery::load`]).
//!
//! Graph has no resource for this (Entra configures its OnOtpSend extension through a
//! custom authentication extension bound to a user flow, for email only), so the path is
//! Vestibule's own. The document names Worker secrets, never holds one; the core
//! ([`crate::hook::config::TenantHooks::parse`]) checks it before it is stored, and a
//! refused document stores nothing.

use super::admin::{Admin, body};
use super::native::delivery::hooks_key;
use super::reply;
use crate::error::ErrorBody;
use crate::hook::config::TenantHooks;
use serde_json::{Value, json};
use worker::{Method, Request, Response, Result};

/// `GET` (the stored document, `{}` when none), `PUT` (replace) and `DELETE` (back to the
/// deployment's hooks).
pub async fn handle(req: &mut Request, at: &Admin<'_>) -> Result<Response> {
    let key = hooks_key(at.tenant);
    match req.method() {
        Method::Get => {
            let stored = at.kv.get(&key).text().await?;
            let doc: Value = stored
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or_else(|| json!({}));
            Response::from_json(&doc)
        }
        Method::Put => {
            let doc = match body(req).await? {
                Ok(v) => v,
                Err(resp) => return Ok(resp),
            };
            let text = serde_json::to_string(&doc)?;
            if let Err(e) = TenantHooks::parse(&key, &text) {
                // The admin API names the member relative to the request body.
                let prefix = format!("{key}#");
                let target = e.setting.strip_prefix(&prefix).unwrap_or(&e.setting);
                let body = ErrorBody::new(e.error.code(), e.to_string()).at(target);
                return reply::error(400, body);
            }
            at.kv.put(&key, text)?.execute().await?;
            Response::from_json(&doc)
        }
        Method::Delete => {
            at.kv.delete(&key).await?;
            Ok(Response::empty()?.with_status(204))
        }
        _ => reply::method_not_allowed(),
    }
}
