//! The admin API in Microsoft Graph paths and shapes, under `/v1.0/…` (default tenant) or
//! `/{tenant}/v1.0/…`. Every request needs the admin credential; every write is validated
//! by the core against the whole tenant configuration and a bad one is never stored.
//!
//! This file authenticates and dispatches (one `match` arm per area) and serves Conditional
//! Access; the other areas live in their own files: [`super::admin_flow_config`] (methods
//! policy, user flow, Vestibule settings) and [`super::admin_users`].

use super::{
    admin_flow_config, admin_hooks, admin_users, reply, request, store, store::CollectionName,
    tenant,
};
use crate::admin::flow_document::Refusal;
use crate::admin::{collection::WriteError, cors, credential, query};
use crate::error::ErrorBody;
use crate::pii::Secret;
use crate::worker::route::Ctx;
use serde_json::{Value, json};
use worker::{Method, Request, Response, Result};

/// Entry point for every `/v1.0/*rest` and `/:tenant/v1.0/*rest` request: CORS for the
/// origins `ADMIN_CORS_ORIGINS` lists (none unless set, see [`crate::admin::cors`]), then
/// [`serve`].
pub async fn handle(req: Request, ctx: Ctx) -> Result<Response> {
    let configured = ctx.var("ADMIN_CORS_ORIGINS").ok().map(|v| v.to_string());
    let origin = req.headers().get("origin").ok().flatten();
    let allowed = cors::allowed_origin(configured.as_deref(), origin.as_deref()).map(str::to_owned);
    let Some(allowed) = allowed else {
        let mut resp = serve(req, ctx).await?;
        // With a list configured, answers differ by origin: a cache must not hand one
        // origin's answer (with or without CORS headers) to another.
        if configured.as_deref().is_some_and(|c| !c.trim().is_empty()) {
            resp.headers_mut().append("vary", "Origin")?;
        }
        return Ok(resp);
    };
    let mut resp = if req.method() == Method::Options {
        let resp = Response::empty()?.with_status(204);
        resp.headers()
            .set("access-control-allow-methods", cors::ALLOW_METHODS)?;
        resp.headers()
            .set("access-control-allow-headers", cors::ALLOW_HEADERS)?;
        resp.headers().set("access-control-max-age", "600")?;
        resp
    } else {
        serve(req, ctx).await?
    };
    let headers = resp.headers_mut();
    headers.set("access-control-allow-origin", &allowed)?;
    headers.append("vary", "Origin")?;
    Ok(resp)
}

/// The admin API proper: the credential check, then one area's handler.
async fn serve(mut req: Request, ctx: Ctx) -> Result<Response> {
    let Some(tenant) = tenant::from_route(&ctx) else {
        return reply::error(
            404,
            ErrorBody::new(
                "tenant.invalid",
                "the tenant segment is not a valid tenant name",
            ),
        );
    };
    let configured = ctx
        .secret("ADMIN_TOKEN")
        .ok()
        .map(|s| Secret::new(s.to_string()));
    let authorization = req.headers().get("authorization").ok().flatten();
    if credential::check(configured.as_ref(), authorization.as_deref()).is_err() {
        let mut resp = reply::error(
            401,
            ErrorBody::new(
                "admin.unauthorized",
                "send the admin credential as `Authorization: Bearer <secret>`",
            ),
        )?;
        resp.headers_mut()
            .set("www-authenticate", credential::CHALLENGE)?;
        return Ok(resp);
    }
    let rest = ctx.param("rest").cloned().unwrap_or_default();
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    // Users and sign-in logs read their own query options; elsewhere an option Graph
    // would narrow the list by is refused rather than ignored (the core's decision).
    if req.method() == Method::Get && !matches!(segments.as_slice(), ["users" | "auditLogs", ..]) {
        let url = req.url()?;
        let keys: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
        if let Err(e) = query::refuse_narrowing(keys.iter().map(String::as_str), &rest) {
            return reply::error(400, e);
        }
    }
    let kv = ctx.kv("KV")?;
    let at = Admin {
        kv: &kv,
        tenant: &tenant,
        ctx: &ctx,
    };
    // One arm per area; each area's file does its own method and sub-path dispatch.
    match segments.as_slice() {
        ["identity", "conditionalAccess", rest @ ..] => {
            conditional_access(&mut req, &kv, &tenant, rest).await
        }
        ["policies", "authenticationMethodsPolicy", rest @ ..] => {
            admin_flow_config::methods(&mut req, &at, rest).await
        }
        ["identity", "authenticationEventsFlows", rest @ ..] => {
            admin_flow_config::user_flows(&mut req, &at, rest).await
        }
        ["vestibule", "flowSettings"] => admin_flow_config::settings(&mut req, &at).await,
        ["vestibule", "deliveryHooks"] => admin_hooks::handle(&mut req, &at).await,
        ["users", rest @ ..] => admin_users::handle(&mut req, &at, rest).await,
        ["auditLogs", "signIns", rest @ ..] => {
            super::sign_in_log::serve(&req, &kv, &tenant, rest).await
        }
        ["identity", "authenticationEventListeners", rest @ ..] => {
            let method = req.method();
            super::admin_sms::handle(&mut req, &kv, &tenant, method, rest).await
        }
        ["applications", rest @ ..] => {
            let method = req.method();
            super::admin_apps::handle(&mut req, &kv, &tenant, method, rest).await
        }
        _ => reply::not_found(),
    }
}

/// What every admin area works with: the tenant's KV namespace and name.
pub struct Admin<'a> {
    /// The `KV` binding.
    pub kv: &'a worker::kv::KvStore,
    /// The tenant of the request.
    pub tenant: &'a str,
    /// Bindings and secrets, for an area that needs more than KV (a user's guard object).
    pub ctx: &'a Ctx,
}

/// The JSON body of a write, or the error reply for it.
pub async fn body(req: &mut Request) -> Result<std::result::Result<Value, Response>> {
    Ok(match request::json_body(req).await? {
        Ok(v) => Ok(v),
        Err(e) => Err(reply::bad_body(e)?),
    })
}

/// `201 Created` with the created `item` and, as OData asks of a create, its URL in
/// `Location`: the request's URL (without its query) and the item's `id`.
pub fn reply_created(req: &Request, item: &Value) -> Result<Response> {
    let mut resp = Response::from_json(item)?.with_status(201);
    if let Some(id) = item.get("id").and_then(Value::as_str) {
        let mut url = req.url()?;
        url.set_query(None);
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push(id);
        }
        resp.headers_mut().set("location", url.as_str())?;
    }
    Ok(resp)
}

/// The reply for a write the core refused.
pub fn refused(r: Refusal) -> Result<Response> {
    let status = r.status();
    reply::error(status, r.body())
}

/// `/identity/conditionalAccess/…`: policies, named locations and What If.
async fn conditional_access(
    req: &mut Request,
    kv: &worker::kv::KvStore,
    tenant: &str,
    segments: &[&str],
) -> Result<Response> {
    let method = req.method();
    let (name, id) = match segments {
        ["evaluate"] => {
            return match method {
                Method::Post => evaluate(req, kv, tenant).await,
                _ => reply::method_not_allowed(),
            };
        }
        ["policies", rest @ ..] => (CollectionName::Policies, rest),
        ["namedLocations", rest @ ..] => (CollectionName::NamedLocations, rest),
        _ => return reply::not_found(),
    };
    match (method, id) {
        (Method::Get, []) => list(kv, tenant, name).await,
        (Method::Post, []) => create(req, kv, tenant, name).await,
        (Method::Get, [id]) => read(kv, tenant, name, id).await,
        (Method::Patch, [id]) => patch(req, kv, tenant, name, id).await,
        (Method::Delete, [id]) => delete(kv, tenant, name, id).await,
        (_, [] | [_]) => reply::method_not_allowed(),
        _ => reply::not_found(),
    }
}

fn context_url(name: CollectionName) -> &'static str {
    match name {
        CollectionName::Policies => {
            "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies"
        }
        CollectionName::NamedLocations => {
            "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/namedLocations"
        }
    }
}

async fn list(kv: &worker::kv::KvStore, tenant: &str, name: CollectionName) -> Result<Response> {
    let c = store::load(kv, tenant, name).await?;
    Response::from_json(&json!({ "@odata.context": context_url(name), "value": c.items() }))
}

async fn read(
    kv: &worker::kv::KvStore,
    tenant: &str,
    name: CollectionName,
    id: &str,
) -> Result<Response> {
    let c = store::load(kv, tenant, name).await?;
    match c.item(id) {
        Some(item) => Response::from_json(item),
        None => not_found_item(),
    }
}

async fn create(
    req: &mut Request,
    kv: &worker::kv::KvStore,
    tenant: &str,
    name: CollectionName,
) -> Result<Response> {
    let body = match request::json_body(req).await? {
        Ok(v) => v,
        Err(e) => return reply::bad_body(e),
    };
    let mut c = store::load(kv, tenant, name).await?;
    let id = request::new_id()?;
    let now = request::now();
    let created = match c.create(body, id, now, validator(name)) {
        Ok(item) => item,
        Err(e) => return write_error(e, "item"),
    };
    if let Err(problems) = validate_tenant(kv, tenant, name, &c).await? {
        return write_error(WriteError::Invalid(problems), "item");
    }
    store::save(kv, tenant, name, &c).await?;
    reply_created(req, &created)
}

async fn patch(
    req: &mut Request,
    kv: &worker::kv::KvStore,
    tenant: &str,
    name: CollectionName,
    id: &str,
) -> Result<Response> {
    let body = match request::json_body(req).await? {
        Ok(v) => v,
        Err(e) => return reply::bad_body(e),
    };
    let mut c = store::load(kv, tenant, name).await?;
    let updated = match c.patch(id, body, request::now(), validator(name)) {
        Ok(item) => item,
        Err(e) => return write_error(e, "item"),
    };
    if let Err(problems) = validate_tenant(kv, tenant, name, &c).await? {
        return write_error(WriteError::Invalid(problems), "item");
    }
    store::save(kv, tenant, name, &c).await?;
    Response::from_json(&updated)
}

async fn delete(
    kv: &worker::kv::KvStore,
    tenant: &str,
    name: CollectionName,
    id: &str,
) -> Result<Response> {
    let mut c = store::load(kv, tenant, name).await?;
    if name == CollectionName::NamedLocations && c.item(id).is_some() {
        let policies = store::load(kv, tenant, CollectionName::Policies).await?;
        let problems = crate::admin::references::location_in_use(policies.items(), id);
        if !problems.is_empty() {
            return write_error(WriteError::Invalid(problems), "item");
        }
    }
    if let Err(e) = c.delete(id) {
        return write_error(e, "item");
    }
    if let Err(problems) = validate_tenant(kv, tenant, name, &c).await? {
        return write_error(WriteError::Invalid(problems), "item");
    }
    store::save(kv, tenant, name, &c).await?;
    Ok(Response::empty()?.with_status(204))
}

/// `POST …/evaluate`: What If against the stored policies. Group and role ids are not yet
/// resolved from a user directory, so the request may carry them in `directory`.
async fn evaluate(req: &mut Request, kv: &worker::kv::KvStore, tenant: &str) -> Result<Response> {
    let body = match request::json_body(req).await? {
        Ok(v) => v,
        Err(e) => return reply::bad_body(e),
    };
    let (request, directory) = match body {
        Value::Object(mut map) => {
            let directory = map.remove("directory").unwrap_or_else(|| json!({}));
            (Value::Object(map), directory)
        }
        _ => {
            return reply::error(
                400,
                ErrorBody::new(
                    "admin.body_not_object",
                    "the request body must be a JSON object",
                ),
            );
        }
    };
    let policies = store::load(kv, tenant, CollectionName::Policies).await?;
    let locations = store::load(kv, tenant, CollectionName::NamedLocations).await?;
    let input = json!({
        "policies": policies.items(),
        "namedLocations": locations.items(),
        "request": request,
        "directory": directory,
    });
    let answer: Value = serde_json::from_str(&crate::policy::what_if_json(&input.to_string()))?;
    if answer.get("error").is_some() {
        return Ok(Response::from_json(&answer)?.with_status(400));
    }
    Response::from_json(&answer)
}

fn validator(name: CollectionName) -> crate::admin::Validator {
    match name {
        CollectionName::Policies => |v| crate::policy::parse_policy(v, "").map(|_| ()),
        CollectionName::NamedLocations => {
            |v| crate::policy::parse_named_location(v, "").map(|_| ())
        }
    }
}

/// The whole tenant must still make sense after a write: e.g. a policy may not name a
/// location that does not exist, and a location in use may not be deleted.
async fn validate_tenant(
    kv: &worker::kv::KvStore,
    tenant: &str,
    changed: CollectionName,
    updated: &crate::admin::Collection,
) -> Result<std::result::Result<(), Vec<ErrorBody>>> {
    let other = match changed {
        CollectionName::Policies => CollectionName::NamedLocations,
        CollectionName::NamedLocations => CollectionName::Policies,
    };
    let other = store::load(kv, tenant, other).await?;
    let (policies, locations) = match changed {
        CollectionName::Policies => (updated.items(), other.items()),
        CollectionName::NamedLocations => (other.items(), updated.items()),
    };
    let input = json!({ "policies": policies, "namedLocations": locations });
    let answer: Value =
        serde_json::from_str(&crate::policy::validate_policies_json(&input.to_string()))?;
    if answer.get("valid") == Some(&Value::Bool(true)) {
        return Ok(Ok(()));
    }
    let problems = answer
        .get("errors")
        .cloned()
        .and_then(|e| serde_json::from_value::<Vec<ErrorBody>>(e).ok())
        .unwrap_or_default();
    Ok(Err(problems))
}

fn not_found_item() -> Result<Response> {
    write_error(WriteError::NotFound, "item")
}

/// The reply for a refused collection write; `item` names what the collection holds.
pub fn write_error(e: WriteError, item: &str) -> Result<Response> {
    match e {
        WriteError::NotFound => reply::error(
            404,
            ErrorBody::new("admin.not_found", format!("no {item} with that id")),
        ),
        WriteError::Full => reply::error(
            409,
            ErrorBody::new(
                "admin.collection_full",
                format!("the tenant already holds the maximum number of {item}s"),
            ),
        ),
        WriteError::Invalid(problems) => match ErrorBody::from_problems(problems) {
            Some(body) => reply::error(400, body),
            None => reply::error(
                400,
                ErrorBody::new("admin.invalid", "the request was refused"),
            ),
        },
    }
}
