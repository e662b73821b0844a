//! Where one-time codes go: the seam between the flow's `SendCode` effect and a
//! sender.
//!
//! [`Delivery::Outbox`] is the only implementation today: a per-destination list in KV
//! that the dev-only route `GET /_dev/outbox?to=<address>` reads, which is how the
//! end-to-end tests and the local demo see codes. It is chosen only when `DEV_ROUTES`
//! is `on`, because it stores codes in clear. Signed HTTP delivery hooks (Standard
//! Webhooks, `crate::hook`) are the planned production implementation and plug in as
//! another variant of [`Delivery`]; without one a deployment cannot send codes and the
//! step answers `server_error` (nothing is stored, the client may retry).

use super::Fail;
use crate::flow::{Channel, CodeDelivery};
use crate::native::NativeError;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use worker::kv::KvStore;
use worker::{Result, RouteContext};

/// Messages kept per destination.
const OUTBOX_DEPTH: usize = 20;
/// How long the outbox keeps a destination's messages.
const OUTBOX_TTL: u64 = 3600;

/// A way to deliver codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The local outbox (development only).
    Outbox,
    /// No sender is configured.
    Unconfigured,
}

impl Delivery {
    /// The sender for this deployment.
    pub fn for_env(ctx: &RouteContext<()>) -> Delivery {
        let dev = ctx
            .var("DEV_ROUTES")
            .map(|v| v.to_string() == "on")
            .unwrap_or(false);
        if dev {
            Delivery::Outbox
        } else {
            Delivery::Unconfigured
        }
    }

    /// Delivers one code for `tenant`.
    pub async fn deliver(
        self,
        kv: &KvStore,
        tenant: &str,
        code: &CodeDelivery,
        now: Timestamp,
    ) -> std::result::Result<(), Fail> {
        match self {
            Delivery::Outbox => Ok(append(kv, tenant, code, now).await?),
            Delivery::Unconfigured => Err(NativeError::server_error(
                "no code delivery is configured for this deployment",
            )
            .into()),
        }
    }
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
    let mut list: Vec<OutboxMessage> = kv.get(&k).json().await?.unwrap_or_default();
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
    let mut list: Vec<OutboxMessage> = kv.get(&key(&normalized)).json().await?.unwrap_or_default();
    list.retain(|m| tenant.is_none_or(|t| t == m.tenant));
    list.reverse();
    Ok(list)
}
