//! `/users…` of the admin API: the tenant's local accounts (KV `native/{tenant}/user/{id}`)
//! in Graph's `user` shape, and their registered second factors as Graph phone and email
//! authentication methods. The projection and the PATCH rules are [`crate::admin::users`].
//!
//! The listing pages through KV `list`, which is eventually consistent: an account created
//! or deleted within about a minute may be missing from, or still in, the list. A user's
//! own path reads the record directly and is current. Personal data leaves only in these
//! responses and is never logged. A PATCH races with a sign-in writing the same record
//! (failure counters): last writer wins.

use super::admin::{Admin, body, refused};
use super::native::UserStore;
use super::reply;
use crate::admin::flow_document::Refusal;
use crate::admin::users;
use crate::flow::{Channel, UserRecord};
use serde_json::Value;
use worker::{Method, Request, Response, Result};

/// Entry point for `/users` and everything under it.
pub async fn handle(req: &mut Request, at: &Admin<'_>, rest: &[&str]) -> Result<Response> {
    let store = UserStore::new(at.kv, at.tenant);
    let method = req.method();
    match rest {
        [] => match method {
            Method::Get => list(req, at, &store).await,
            _ => reply::method_not_allowed(),
        },
        [id, tail @ ..] => {
            let user = match users::valid_id(id) {
                true => store.user(id).await?,
                false => None,
            };
            let Some(user) = user else {
                return match tail {
                    [] | ["authentication", _] | ["authentication", _, _] => {
                        refused(Refusal::NotFound)
                    }
                    _ => reply::not_found(),
                };
            };
            match tail {
                [] => one(req, at, &store, user).await,
                ["authentication", "methods"] => match method {
                    Method::Get => Response::from_json(&users::all_methods_view(&user)),
                    _ => reply::method_not_allowed(),
                },
                ["authentication", kind, rest @ ..] => {
                    let channel = match *kind {
                        "phoneMethods" => Channel::Sms,
                        "emailMethods" => Channel::Email,
                        _ => return reply::not_found(),
                    };
                    methods(method, &store, user, channel, rest).await
                }
                _ => reply::not_found(),
            }
        }
    }
}

async fn list(req: &Request, at: &Admin<'_>, store: &UserStore<'_>) -> Result<Response> {
    let url = req.url()?;
    let query: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let page = match users::page(&query) {
        Ok(p) => p,
        Err(r) => return refused(r),
    };
    let from_client = page.skip_token.is_some();
    let (ids, cursor) = match store.user_ids(page.top, page.skip_token).await {
        Ok(listed) => listed,
        // KV refuses a cursor it did not issue: that is the caller's token, not our fault.
        Err(_) if from_client => {
            return reply::error(
                400,
                crate::error::ErrorBody::new(
                    "admin.invalid_query",
                    "`$skiptoken` is not one this service issued; follow `@odata.nextLink` or start from the first page",
                )
                .at("$skiptoken"),
            );
        }
        Err(e) => return Err(e),
    };
    let mut value = Vec::with_capacity(ids.len());
    for id in ids {
        // Deleted since the listing was made: skip it.
        if let Some(user) = store.user(&id).await? {
            value.push(users::to_graph(&user, at.tenant));
        }
    }
    let base = {
        let mut u = url.clone();
        u.set_query(None);
        u.to_string()
    };
    let next = cursor.map(|c| users::next_link(&base, page.top, &c));
    Response::from_json(&users::list_view(value, next))
}

async fn one(
    req: &mut Request,
    at: &Admin<'_>,
    store: &UserStore<'_>,
    user: UserRecord,
) -> Result<Response> {
    match req.method() {
        Method::Get => Response::from_json(&users::to_graph(&user, at.tenant)),
        Method::Patch => {
            let changes: Value = match body(req).await? {
                Ok(v) => v,
                Err(resp) => return Ok(resp),
            };
            let now = super::request::now();
            match users::patch(&user, changes, now) {
                Ok(next) => {
                    store.put_user(&next, false).await?;
                    if crate::guard::password::cleared_now(&next.lockout, now) {
                        clear_lockout(at, &next.id, now).await;
                    }
                    Ok(Response::empty()?.with_status(204))
                }
                Err(r) => refused(r),
            }
        }
        Method::Delete => {
            store.delete_user(&user).await?;
            Ok(Response::empty()?.with_status(204))
        }
        _ => reply::method_not_allowed(),
    }
}

/// Tells the account's guard object that an administrator cleared its lockout, or the
/// count it keeps would lock the account again ([`crate::guard::password`]). Best effort
/// after the KV write, as for a complete sign-in
/// ([`super::guard::Client::clear_lockout`]): the record's clear stamp stands in for a
/// missed call. Without the native-auth secrets there are no password objects to tell.
async fn clear_lockout(at: &Admin<'_>, user_id: &str, now: crate::time::Timestamp) {
    match super::native::setup::secrets(at.ctx) {
        Ok(secrets) => {
            let guard = super::guard::Client::without_ip(at.ctx);
            guard
                .clear_lockout(&secrets.0, at.tenant, user_id, now)
                .await;
        }
        Err(_) => worker::console_warn!(
            "admin: native auth is not configured, so no guard object holds a lockout to clear"
        ),
    }
}

async fn methods(
    method: Method,
    store: &UserStore<'_>,
    user: UserRecord,
    channel: Channel,
    rest: &[&str],
) -> Result<Response> {
    match (method, rest) {
        (Method::Get, []) => Response::from_json(&users::methods_view(&user, channel)),
        (Method::Get, [id]) => match users::method_view(&user, channel, id) {
            Some(v) => Response::from_json(&v),
            None => refused(Refusal::NotFound),
        },
        (Method::Delete, [id]) => match users::remove_method(&user, channel, id) {
            Ok(next) => {
                store.put_user(&next, false).await?;
                Ok(Response::empty()?.with_status(204))
            }
            Err(r) => refused(r),
        },
        (_, [] | [_]) => reply::method_not_allowed(),
        _ => reply::not_found(),
    }
}
