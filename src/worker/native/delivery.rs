//! Where one-time codes go: the seam between the flow's `SendCode` effect and a
//! sender, per channel.
//!
//! - A **delivery hook** ([`super::hook_send`]): a signed JSON POST (Standard Webhooks)
//!   to the URL configured for the channel, by the deployment (`EMAIL_HOOK_URL` +
//!   `EMAIL_HOOK_SECRETS`, `SMS_HOOK_URL` + `SMS_HOOK_SECRETS`) or by the tenant (KV
//!   `tenant/{t}/deliveryHooks`, naming a Worker secret, or `null` to turn a channel
//!   off). A configured hook always wins.
//! - The **outbox**: a per-destination list in KV that the dev-only route
//!   `GET /_dev/outbox?to=<address>` reads, which is how the end-to-end tests and the
//!   local demo see codes. Chosen only when `DEV_ROUTES` is `on`, because it stores codes
//!   in clear.
//! - Neither: the channel cannot send. The core then stops offering it
//!   ([`crate::native::delivery::only_deliverable`]), and a code that must still go out
//!   on it fails like a failed hook (state kept, `server_error`).
//!
//! What to configure and which sender wins is decided by [`crate::hook::config`]; what a
//! failed send means for the client by [`crate::native::delivery`]. This file reads the
//! bindings and KV, and writes the outbox.

use super::Fail;
use crate::flow::{Channel, CodeDelivery};
use crate::hook::config::{self, Route, TenantHooks};
use crate::hook::request::Context;
use crate::native::NativeError;
use crate::native::delivery::Undelivered;
use crate::time::Timestamp;
use crate::worker::route::Ctx;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use worker::Result;
use worker::kv::KvStore;

/// Messages kept per destination.
const OUTBOX_DEPTH: usize = 20;
/// How long the outbox keeps a destination's messages.
const OUTBOX_TTL: u64 = 3600;

/// The KV key of a tenant's delivery hooks document.
pub fn hooks_key(tenant: &str) -> String {
    format!("tenant/{tenant}/deliveryHooks")
}

/// How each channel's codes are sent for one tenant (shared: see [`DELIVERIES`]).
#[derive(Debug, Clone)]
pub struct Delivery {
    routes: Rc<Routes>,
}

#[derive(Debug)]
struct Routes {
    email: Route,
    sms: Route,
}

/// A tenant's resolved senders and everything they were resolved from: its hooks
/// document, the dev flag, and each binding read while resolving (name and value, or
/// `None` when unset). Resolving parses the document, checks URLs and parses signing
/// secrets (a `whsk_` secret derives an Ed25519 key, a scalar multiplication, per
/// channel); a request whose inputs all read the same reuses the result, so nothing is
/// staler than the bindings and KV themselves.
struct Resolved {
    stored: Option<String>,
    dev: bool,
    read: Vec<(String, Option<String>)>,
    delivery: Delivery,
}

/// Tenants whose senders an isolate keeps; more are resolved again on demand.
const MAX_CACHED_TENANTS: usize = 64;

thread_local! {
    static DELIVERIES: RefCell<HashMap<String, Resolved>> = RefCell::new(HashMap::new());
}

impl Delivery {
    /// The senders for `tenant`: its hooks document (`stored`, as read with the rest of
    /// its setup), the deployment's hook settings, the outbox when `DEV_ROUTES` is `on`.
    /// A configuration error is a `server_error` that names the setting (never a value),
    /// like an invalid flow configuration.
    pub fn load(
        ctx: &Ctx,
        tenant: &str,
        stored: Option<&str>,
    ) -> std::result::Result<Delivery, Fail> {
        let dev = ctx
            .var("DEV_ROUTES")
            .map(|v| v.to_string() == "on")
            .unwrap_or(false);
        let lookup = |name: &str| {
            ctx.secret(name)
                .map(|s| s.to_string())
                .or_else(|_| ctx.var(name).map(|v| v.to_string()))
                .ok()
        };
        let hit = DELIVERIES.with(|c| {
            c.borrow()
                .get(tenant)
                .filter(|r| r.stored.as_deref() == stored && r.dev == dev)
                .filter(|r| r.read.iter().all(|(name, value)| lookup(name) == *value))
                .map(|r| r.delivery.clone())
        });
        if let Some(delivery) = hit {
            return Ok(delivery);
        }
        let doc = match stored {
            Some(text) => {
                Some(TenantHooks::parse(&hooks_key(tenant), text).map_err(misconfigured)?)
            }
            None => None,
        };
        let read = RefCell::new(Vec::new());
        let recording = |name: &str| {
            let value = lookup(name);
            read.borrow_mut().push((name.to_string(), value.clone()));
            value
        };
        let route = |channel| {
            config::resolve(channel, doc.as_ref(), &recording, dev).map_err(misconfigured)
        };
        let delivery = Delivery {
            routes: Rc::new(Routes {
                email: route(Channel::Email)?,
                sms: route(Channel::Sms)?,
            }),
        };
        let resolved = Resolved {
            stored: stored.map(str::to_string),
            dev,
            read: read.into_inner(),
            delivery: delivery.clone(),
        };
        DELIVERIES.with(|c| {
            let mut c = c.borrow_mut();
            if c.len() >= MAX_CACHED_TENANTS {
                c.clear();
            }
            c.insert(tenant.to_string(), resolved);
        });
        Ok(delivery)
    }

    fn route(&self, channel: Channel) -> &Route {
        match channel {
            Channel::Email => &self.routes.email,
            Channel::Sms => &self.routes.sms,
        }
    }

    /// Whether codes can go out on `channel` at all.
    pub fn can_send(&self, channel: Channel) -> bool {
        self.route(channel).can_send()
    }

    /// Delivers one code. The outer error is a runtime failure (KV, entropy); the inner
    /// one says why the code did not go out, for the core to turn into the answer.
    pub async fn deliver(
        &self,
        kv: &KvStore,
        cx: Context<'_>,
        code: &CodeDelivery,
        now: Timestamp,
    ) -> std::result::Result<std::result::Result<(), Undelivered>, Fail> {
        match self.route(code.channel) {
            Route::Outbox => {
                append(kv, cx.tenant, code, now).await?;
                Ok(Ok(()))
            }
            Route::Unconfigured => Ok(Err(Undelivered::NoSender)),
            Route::Hook(endpoint) => {
                let payload = crate::hook::request::payload(code, cx);
                let result = super::hook_send::send(endpoint, &payload).await?;
                Ok(result.map_err(Undelivered::Hook))
            }
        }
    }
}

fn misconfigured(e: config::ConfigError) -> Fail {
    // The setting's name and the error code only: values (URLs, secrets) stay out of
    // the log and the answer.
    worker::console_error!(
        "native: delivery hooks are misconfigured ({} in `{}`)",
        e.error.code(),
        e.setting
    );
    NativeError::server_error(format!(
        "code delivery is misconfigured: {} in `{}`",
        e.error.code(),
        e.setting
    ))
    .into()
}

/// One message in the outbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxMessage {
    /// The tenant that sent it.
    pub tenant: String,
    /// `email` or `sms`.
    pub channel: Channel,
    /// The destination.
    pub to: String,
    /// The code, in clear (development only).
    pub code: String,
    /// What it is for.
    pub purpose: crate::flow::CodePurpose,
    /// When it was sent.
    pub sent_at: Timestamp,
    /// When it stops working.
    pub expires_at: Timestamp,
}

fn key(to: &str) -> String {
    let digest: String = Sha256::digest(to.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("outbox/{digest}")
}

async fn append(kv: &KvStore, tenant: &str, d: &CodeDelivery, now: Timestamp) -> Result<()> {
    let to = d.to.expose().clone();
    let k = key(&to);
    let mut list: Vec<OutboxMessage> = crate::worker::kv_json::get(kv, &k)
        .await?
        .unwrap_or_default();
    list.push(OutboxMessage {
        tenant: tenant.to_string(),
        channel: d.channel,
        to,
        code: d.code.expose().clone(),
        purpose: d.purpose,
        sent_at: now,
        expires_at: d.expires_at,
    });
    let excess = list.len().saturating_sub(OUTBOX_DEPTH);
    list.drain(..excess);
    kv.put(&k, serde_json::to_string(&list)?)?
        .expiration_ttl(OUTBOX_TTL)
        .execute()
        .await?;
    Ok(())
}

/// The messages sent to `to` (an email address or E.164 number, normalized here),
/// newest first, optionally only those of `tenant`.
pub async fn read(kv: &KvStore, to: &str, tenant: Option<&str>) -> Result<Vec<OutboxMessage>> {
    let trimmed = to.trim();
    // A `+` left unescaped in a query string arrives as a space.
    let phone = if trimmed.bytes().all(|b| b.is_ascii_digit()) {
        format!("+{trimmed}")
    } else {
        trimmed.to_string()
    };
    let normalized = crate::flow::contact::normalize_email(trimmed)
        .or_else(|| crate::flow::contact::normalize_phone(&phone));
    let Some(normalized) = normalized else {
        return Ok(Vec::new());
    };
    let mut list: Vec<OutboxMessage> = crate::worker::kv_json::get(kv, &key(&normalized))
        .await?
        .unwrap_or_default();
    list.retain(|m| tenant.is_none_or(|t| t == m.tenant));
    list.reverse();
    Ok(list)
}
