//! App registrations in the admin API: `GET/POST …/v1.0/applications` and
//! `GET/PATCH/DELETE …/v1.0/applications/{id}`, in Graph's `application` shape (`id`,
//! `appId`, `displayName`, `spa` / `web` / `publicClient` `.redirectUris`). The admin
//! credential was checked by [`super::admin`] before this is called.
//!
//! Every write is validated by the core ([`crate::oidc::apps::validate_application`],
//! each redirect URI through [`crate::oidc::validate_redirect_uri`]) and against the
//! tenant (one registration per `appId`); a refused write stores nothing. `appId` is the
//! OAuth `client_id`: the server assigns a GUID unless the body brings one.

use super::oidc::apps;
use super::{reply, request};
use crate::admin::collection::WriteError;
use crate::oidc::apps::{validate_application, validate_tenant_apps};
use serde_json::{Value, json};
use worker::kv::KvStore;
use worker::{Method, Request, Response, Result};

const CONTEXT: &str = "https://graph.microsoft.com/v1.0/$metadata#applications";

/// Serves `…/v1.0/applications/{rest}` for `tenant`.
pub async fn handle(
    req: &mut Request,
    kv: &KvStore,
    tenant: &str,
    method: Method,
    rest: &[&str],
) -> Result<Response> {
    match (method, rest) {
        (Method::Get, []) => {
            let c = apps::load(kv, tenant).await?;
            Response::from_json(&json!({"@odata.context": CONTEXT, "value": c.items()}))
        }
        (Method::Post, []) => create(req, kv, tenant).await,
        (Method::Get, [id]) => match apps::load(kv, tenant).await?.item(id) {
            Some(item) => Response::from_json(item),
            None => super::admin::write_error(WriteError::NotFound, "application"),
        },
        (Method::Patch, [id]) => patch(req, kv, tenant, id).await,
        (Method::Delete, [id]) => {
            let mut c = apps::load(kv, tenant).await?;
            if let Err(e) = c.delete(id) {
                return super::admin::write_error(e, "application");
            }
            apps::save(kv, tenant, &c).await?;
            Ok(Response::empty()?.with_status(204))
        }
        (_, [] | [_]) => reply::method_not_allowed(),
        _ => reply::not_found(),
    }
}

async fn create(req: &mut Request, kv: &KvStore, tenant: &str) -> Result<Response> {
    let mut body = match request::json_body(req).await? {
        Ok(v) => v,
        Err(e) => return reply::bad_body(e),
    };
    if let Value::Object(map) = &mut body
        && !map.contains_key("appId")
    {
        map.insert("appId".into(), Value::String(request::new_id()?));
    }
    let mut c = apps::load(kv, tenant).await?;
    let created = match c.create(
        body,
        request::new_id()?,
        request::now(),
        validate_application,
    ) {
        Ok(item) => item,
        Err(e) => return super::admin::write_error(e, "application"),
    };
    if let Err(problems) = validate_tenant_apps(c.items()) {
        return super::admin::write_error(WriteError::Invalid(problems), "application");
    }
    apps::save(kv, tenant, &c).await?;
    super::admin::reply_created(req, &created)
}

async fn patch(req: &mut Request, kv: &KvStore, tenant: &str, id: &str) -> Result<Response> {
    let body = match request::json_body(req).await? {
        Ok(v) => v,
        Err(e) => return reply::bad_body(e),
    };
    let mut c = apps::load(kv, tenant).await?;
    if let Some(current) = c.item(id)
        && let Err(e) = crate::admin::applications::app_id_unchanged(current, &body)
    {
        return reply::error(400, e);
    }
    let updated = match c.patch(id, body, request::now(), validate_application) {
        Ok(item) => item,
        Err(e) => return super::admin::write_error(e, "application"),
    };
    if let Err(problems) = validate_tenant_apps(c.items()) {
        return super::admin::write_error(WriteError::Invalid(problems), "application");
    }
    apps::save(kv, tenant, &c).await?;
    Response::from_json(&updated)
}
