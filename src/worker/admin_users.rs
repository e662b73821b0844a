//! `/users…` of the admin API: the tenant's local accounts (KV `native/{tenant}/user/{id}`)
//! in Graph's `user` shape, and their registered second factors as Graph phone and email
//! authentication methods. The projection and the PATCH rules are [`crate::admin::users`].
//!
//! The listing pages through KV `list`, which is eventually consistent: an account created
//! or deleted within about a minute may be missing from, or still in, the list. A user's
//! own path reads the record directly and is current. Personal data leaves only in these
//! responses and is never logged. Every write of a record goes through the account's
//! guard object ([`AccountGuard`]), so a record read from an older copy of KV at this
//! location cannot undo a write made elsewhere (a disable, a password reset, a phone
//! registered or removed); a field both change is last writer wins.

use super::admin::{Admin, body, refused};
use super::native::UserStore;
use super::reply;
use crate::admin::flow_document::Refusal;
use crate::admin::users;
use crate::flow::{Channel, UserRecord};
use crate::guard::GuardOp;
use crate::time::Timestamp;
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
                    methods(method, at, &store, user, channel, rest).await
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
    if let Some(filter) = &page.filter {
        // One account, from the email index: current, unlike the listing. An identity of
        // another issuer is not this tenant's local account.
        let issuer_matches = filter
            .issuer
            .as_deref()
            .is_none_or(|issuer| issuer.eq_ignore_ascii_case(at.tenant));
        let user = match issuer_matches {
            true => store.user_by_email(&filter.email).await?,
            false => None,
        };
        let value = user.iter().map(|u| users::to_graph(u, at.tenant)).collect();
        return Response::from_json(&users::list_view(value, None));
    }
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
                    let guard = AccountGuard::new(at);
                    // The object hears of a disable before the record shows it: a record
                    // written back from an older copy of KV elsewhere cannot undo it.
                    if next.lockout.disabled
                        && !user.lockout.disabled
                        && let Some(refusal) = guard.tell(&next.id, GuardOp::Disable, now).await
                    {
                        return refusal;
                    }
                    let next = match guard.write(store, &user, next, now).await? {
                        Ok(next) => next,
                        Err(reply) => return reply,
                    };
                    if crate::guard::password::cleared_now(&next.lockout, now) {
                        let enable = next.lockout.enabled_at == Some(now);
                        guard.clear(&next.id, now, enable).await;
                    }
                    Ok(Response::empty()?.with_status(204))
                }
                Err(r) => refused(r),
            }
        }
        Method::Delete => {
            // The object hears of it first: a record written back from an older copy of
            // KV elsewhere would bring the account back.
            let now = super::request::now();
            if let Some(refusal) = AccountGuard::new(at)
                .tell(&user.id, GuardOp::Delete, now)
                .await
            {
                return refusal;
            }
            store.delete_user(&user).await?;
            Ok(Response::empty()?.with_status(204))
        }
        _ => reply::method_not_allowed(),
    }
}

/// The account guard objects ([`crate::guard::password`], [`crate::guard::record`]) an
/// administrator's writes of a user record go through, as a flow's do: every record
/// written is merged with what other locations wrote since it was read (this location's
/// KV may show an older one), a disable or a deletion reaches the object first, and a
/// re-enable after. Without the native-auth secrets there
/// are no flows, so no objects, and the record is written as it is.
struct AccountGuard<'a> {
    client: super::guard::Client,
    secrets: Option<super::native::setup::Secrets>,
    tenant: &'a str,
}

impl<'a> AccountGuard<'a> {
    fn new(at: &Admin<'a>) -> Self {
        AccountGuard {
            client: super::guard::Client::without_ip(at.ctx),
            secrets: super::native::setup::secrets(at.ctx).ok(),
            tenant: at.tenant,
        }
    }

    /// Tells the object of a disable or a deletion ([`Client::tell_account`]); the reply
    /// when that failed.
    ///
    /// [`Client::tell_account`]: super::guard::Client::tell_account
    async fn tell(&self, user_id: &str, op: GuardOp, now: Timestamp) -> Option<Result<Response>> {
        let secrets = self.secrets.as_ref()?;
        let told = self
            .client
            .tell_account(&secrets.0, self.tenant, user_id, op, now)
            .await;
        told.is_err().then(unavailable)
    }

    /// Stores `next`, what the administrator made of `base`, merged with what other
    /// locations wrote since ([`super::guard::Client::write_record`]); the record stored.
    /// The reply instead when the object could not be asked (the write is not made: it
    /// could undo one made elsewhere) or the account was deleted meanwhile.
    async fn write(
        &self,
        store: &UserStore<'_>,
        base: &UserRecord,
        next: UserRecord,
        now: Timestamp,
    ) -> Result<std::result::Result<UserRecord, Result<Response>>> {
        let Some(secrets) = &self.secrets else {
            store.put_user(&next, false).await?;
            return Ok(Ok(next));
        };
        let written = self
            .client
            .write_record(store, &secrets.0, Some(base), next, now)
            .await;
        Ok(match written {
            Ok(Some(next)) => Ok(next),
            Ok(None) => Err(refused(Refusal::NotFound)),
            Err(_) => Err(unavailable()),
        })
    }

    /// Tells the object that the record was written with its lockout cleared (by a
    /// re-enable when `enable`). Best effort, as after a complete sign-in
    /// ([`super::guard::Client::clear_lockout`]): the record's stamps stand in.
    async fn clear(&self, user_id: &str, now: Timestamp, enable: bool) {
        if let Some(secrets) = &self.secrets {
            self.client
                .clear_lockout(&secrets.0, self.tenant, user_id, now, enable)
                .await;
        }
    }
}

/// The reply when a guard object could not be asked: nothing was written.
fn unavailable() -> Result<Response> {
    reply::error(
        503,
        crate::error::ErrorBody::new(
            "service.unavailable",
            "the account's guard could not be reached, so nothing was changed; try again shortly",
        ),
    )
}

async fn methods(
    method: Method,
    at: &Admin<'_>,
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
                let guard = AccountGuard::new(at);
                let now = super::request::now();
                if let Err(reply) = guard.write(store, &user, next, now).await? {
                    return reply;
                }
                Ok(Response::empty()?.with_status(204))
            }
            Err(r) => refused(r),
        },
        (_, [] | [_]) => reply::method_not_allowed(),
        _ => reply::not_found(),
    }
}
