//! The admin areas over the tenant's flow configuration (KV `tenant/{tenant}/flowConfig`,
//! the one document native auth reads): `/policies/authenticationMethodsPolicy…`,
//! `/identity/authenticationEventsFlows…` and `/vestibule/flowSettings`.
//!
//! Each write loads the document in effect (stored, else the built-in flow), lets the core
//! compute and check the new one ([`crate::admin::methods`], [`crate::admin::user_flows`],
//! [`crate::admin::flow_settings`]) and stores it whole only if the core accepted it. The
//! native endpoints cache the parsed configuration by its text, so a write takes effect on
//! the next sign-in step. Concurrent writes are last-writer-wins, as for Conditional Access.

use super::admin::{Admin, body, refused};
use super::native::flow_config_key;
use super::{reply, request};
use crate::admin::flow_document::{self, Refusal};
use crate::admin::{flow_settings, methods, user_flows};
use serde_json::Value;
use worker::{Method, Request, Response, Result};

/// The document in effect, or the reply when the stored one is unreadable.
async fn load(at: &Admin<'_>) -> Result<std::result::Result<Value, Response>> {
    let stored = at.kv.get(&flow_config_key(at.tenant)).text().await?;
    Ok(match flow_document::effective(stored.as_deref()) {
        Ok(doc) => Ok(doc),
        Err(e) => Err(reply::error(409, e)?),
    })
}

/// Applies a core change to the document in effect and stores the result if accepted.
async fn apply(
    at: &Admin<'_>,
    change: impl FnOnce(&Value) -> std::result::Result<Value, Refusal>,
) -> Result<std::result::Result<Value, Response>> {
    let doc = match load(at).await? {
        Ok(doc) => doc,
        Err(resp) => return Ok(Err(resp)),
    };
    match change(&doc) {
        Ok(next) => {
            // Serialized here: the binding's own path would store JSON objects as `{}`.
            at.kv
                .put(&flow_config_key(at.tenant), serde_json::to_string(&next)?)?
                .execute()
                .await?;
            Ok(Ok(next))
        }
        Err(r) => Ok(Err(refused(r)?)),
    }
}

/// Reads the body, then [`apply`]s `change` with it.
async fn apply_body(
    req: &mut Request,
    at: &Admin<'_>,
    change: impl FnOnce(&Value, Value) -> std::result::Result<Value, Refusal>,
) -> Result<std::result::Result<Value, Response>> {
    let body = match body(req).await? {
        Ok(v) => v,
        Err(resp) => return Ok(Err(resp)),
    };
    apply(at, |doc| change(doc, body)).await
}

fn found(view: Option<Value>) -> Result<Response> {
    match view {
        Some(v) => Response::from_json(&v),
        None => refused(Refusal::NotFound),
    }
}

fn no_content() -> Result<Response> {
    Ok(Response::empty()?.with_status(204))
}

/// `/policies/authenticationMethodsPolicy[/authenticationMethodConfigurations/{id}]`.
pub async fn methods(req: &mut Request, at: &Admin<'_>, rest: &[&str]) -> Result<Response> {
    match (req.method(), rest) {
        (Method::Get, []) => match load(at).await? {
            Ok(doc) => Response::from_json(&methods::policy_view(&doc)),
            Err(resp) => Ok(resp),
        },
        (Method::Patch, []) => match apply_body(req, at, methods::patch_policy).await? {
            Ok(doc) => Response::from_json(&methods::policy_view(&doc)),
            Err(resp) => Ok(resp),
        },
        (Method::Get, ["authenticationMethodConfigurations", id]) => match load(at).await? {
            Ok(doc) => found(methods::config_view(&doc, id)),
            Err(resp) => Ok(resp),
        },
        (Method::Patch, ["authenticationMethodConfigurations", id]) => {
            match apply_body(req, at, |doc, b| methods::patch_config(doc, id, b)).await? {
                Ok(_) => no_content(),
                Err(resp) => Ok(resp),
            }
        }
        (_, [] | ["authenticationMethodConfigurations", _]) => reply::method_not_allowed(),
        _ => reply::not_found(),
    }
}

/// `/identity/authenticationEventsFlows[/{id}[/conditions/applications/includeApplications[/{appId}]]]`.
pub async fn user_flows(req: &mut Request, at: &Admin<'_>, rest: &[&str]) -> Result<Response> {
    const APPS: [&str; 3] = ["conditions", "applications", "includeApplications"];
    match (req.method(), rest) {
        (Method::Get, []) => match load(at).await? {
            Ok(doc) => Response::from_json(&user_flows::list_view(&doc)),
            Err(resp) => Ok(resp),
        },
        (Method::Post, []) => {
            let id = request::new_id()?;
            match apply_body(req, at, |doc, b| user_flows::create(doc, b, id)).await? {
                Ok(doc) => super::admin::reply_created(req, &user_flows::view(&doc)),
                Err(resp) => Ok(resp),
            }
        }
        (Method::Get, [id]) => match load(at).await? {
            Ok(doc) => found(user_flows::get(&doc, id)),
            Err(resp) => Ok(resp),
        },
        (Method::Patch, [id]) => {
            match apply_body(req, at, |doc, b| user_flows::patch(doc, id, b)).await? {
                Ok(_) => no_content(),
                Err(resp) => Ok(resp),
            }
        }
        (Method::Delete, [id]) => match apply(at, |doc| user_flows::delete(doc, id)).await? {
            Ok(_) => no_content(),
            Err(resp) => Ok(resp),
        },
        (Method::Get, [id, a, b, c]) if [*a, *b, *c] == APPS => match load(at).await? {
            Ok(doc) => found(user_flows::apps_view(&doc, id)),
            Err(resp) => Ok(resp),
        },
        (Method::Post, [id, a, b, c]) if [*a, *b, *c] == APPS => {
            match apply_body(req, at, |doc, body| user_flows::set_app(doc, id, Ok(body))).await? {
                Ok(doc) => {
                    Ok(Response::from_json(&user_flows::apps_view(&doc, id))?.with_status(201))
                }
                Err(resp) => Ok(resp),
            }
        }
        (Method::Delete, [id, a, b, c, app]) if [*a, *b, *c] == APPS => {
            match apply(at, |doc| user_flows::set_app(doc, id, Err(app))).await? {
                Ok(_) => no_content(),
                Err(resp) => Ok(resp),
            }
        }
        (_, [] | [_]) => reply::method_not_allowed(),
        (_, [_, a, b, c] | [_, a, b, c, _]) if [*a, *b, *c] == APPS => reply::method_not_allowed(),
        _ => reply::not_found(),
    }
}

/// `/vestibule/flowSettings`.
pub async fn settings(req: &mut Request, at: &Admin<'_>) -> Result<Response> {
    match req.method() {
        Method::Get => match load(at).await? {
            Ok(doc) => Response::from_json(&flow_settings::view(&doc)),
            Err(resp) => Ok(resp),
        },
        Method::Patch => match apply_body(req, at, flow_settings::patch).await? {
            Ok(doc) => Response::from_json(&flow_settings::view(&doc)),
            Err(resp) => Ok(resp),
        },
        _ => reply::method_not_allowed(),
    }
}
