//! The SMS region settings in the admin API: Graph
//! `GET/POST /v1.0/identity/authenticationEventListeners` and
//! `GET/PATCH/DELETE …/{id}`, for `onPhoneMethodLoadStartListener` items only.
//!
//! The listeners are one KV document per tenant
//! (`tenant/{tenant}/identity/authenticationEventListeners`), validated by the core
//! ([`crate::sms::listener::validate`]) before they are stored: a bad listener is a 400
//! listing every problem and is never written. The native endpoints read them on every
//! request (`native::setup`, by [`key`]), so a change applies to the next SMS.

use super::{reply, request};
use crate::admin::Collection;
use crate::admin::collection::WriteError;
use crate::sms::listener;
use serde_json::json;
use worker::kv::KvStore;
use worker::{Method, Request, Response, Result};

const CONTEXT: &str =
    "https://graph.microsoft.com/v1.0/$metadata#identity/authenticationEventListeners";

/// The KV key of a tenant's listeners (read by the native endpoints' setup too).
pub(super) fn key(tenant: &str) -> String {
    format!("tenant/{tenant}/identity/authenticationEventListeners")
}

async fn load(kv: &KvStore, tenant: &str) -> Result<Collection> {
    crate::worker::store::load_at(kv, &key(tenant)).await
}

async fn save(kv: &KvStore, tenant: &str, c: &Collection) -> Result<()> {
    crate::worker::store::save_at(kv, &key(tenant), c).await
}

/// `…/identity/authenticationEventListeners[/{id}]`; `rest` is what follows the
/// collection name.
pub async fn handle(
    req: &mut Request,
    kv: &KvStore,
    tenant: &str,
    method: Method,
    rest: &[&str],
) -> Result<Response> {
    match (method, rest) {
        (Method::Get, []) => {
            let c = load(kv, tenant).await?;
            Response::from_json(&json!({ "@odata.context": CONTEXT, "value": c.items() }))
        }
        (Method::Get, [id]) => match load(kv, tenant).await?.item(id) {
            Some(item) => Response::from_json(item),
            None => super::admin::write_error(WriteError::NotFound, "listener"),
        },
        (Method::Post, []) => {
            let body = match request::json_body(req).await? {
                Ok(v) => v,
                Err(e) => return reply::bad_body(e),
            };
            let mut c = load(kv, tenant).await?;
            let created =
                match c.create(body, request::new_id()?, request::now(), listener::validate) {
                    Ok(item) => item,
                    Err(e) => return super::admin::write_error(e, "listener"),
                };
            save(kv, tenant, &c).await?;
            let mut created = created;
            if let Some(map) = created.as_object_mut() {
                map.insert("@odata.context".into(), json!(format!("{CONTEXT}/$entity")));
            }
            super::admin::reply_created(req, &created)
        }
        (Method::Patch, [id]) => {
            let body = match request::json_body(req).await? {
                Ok(v) => v,
                Err(e) => return reply::bad_body(e),
            };
            let mut c = load(kv, tenant).await?;
            let updated = match c.patch(id, body, request::now(), listener::validate) {
                Ok(item) => item,
                Err(e) => return super::admin::write_error(e, "listener"),
            };
            save(kv, tenant, &c).await?;
            Response::from_json(&updated)
        }
        (Method::Delete, [id]) => {
            let mut c = load(kv, tenant).await?;
            if let Err(e) = c.delete(id) {
                return super::admin::write_error(e, "listener");
            }
            save(kv, tenant, &c).await?;
            Ok(Response::empty()?.with_status(204))
        }
        (_, [] | [_]) => reply::method_not_allowed(),
        _ => reply::not_found(),
    }
}
