//! Native-auth data in KV, all keyed by tenant:
//!
//! - `native/{tenant}/flow/{lookup}`: a [`FlowRecord`] behind a continuation token;
//! - `native/{tenant}/refresh/{lookup}`: a [`RefreshSession`] behind a refresh token;
//! - `native/{tenant}/revoked/{family}`: a revoked session family (see
//!   [`crate::native::tokens::refresh_use`]);
//! - `native/{tenant}/user/{id}`: a [`UserRecord`];
//! - `native/{tenant}/email/{sha256 of the normalized email}`: the user id for an email.
//!
//! Tokens are stored under their SHA-256 lookup key only, never in clear; the email
//! index is hashed too, so key listings show no addresses. KV is eventually consistent
//! and has no compare-and-set: two requests racing on one continuation token can both
//! read it. What must hold anyway (a code accepted once, attempt caps, SMS velocity)
//! is decided by the Durable Object guard (`src/worker/guard.rs`), not by this state.

use crate::flow::UserRecord;
use crate::native::tokens::RefreshSession;
use crate::native::{FlowRecord, NativeRequest};
use crate::time::Timestamp;
use crate::token::{HandleKind, LookupKey, lookup_key};
use serde::de::DeserializeOwned;
use sha2::{Digest as _, Sha256};
use std::cell::RefCell;
use worker::Result;
use worker::kv::KvStore;

/// A tenant's native-auth storage.
pub struct Store<'a> {
    kv: &'a KvStore,
    tenant: &'a str,
    prefetched: RefCell<Option<Prefetched>>,
    /// The Worker's bindings, for bulk reads ([`crate::worker::kv_bulk`]) of `KV`.
    env: Option<&'a worker::Env>,
}

/// One KV value read ahead, in the same bulk read as the tenant's configuration
/// ([`super::setup::load_with`]): the record a request reads first (its flow, its refresh
/// session, the email index of a start), so that read costs no call of its own. A bulk
/// read returns each key as a single `get` would (same consistency). It serves the first
/// read of its key only, and a write or delete of the key drops it, so the store never
/// answers with a value older than one it wrote itself.
pub struct Prefetched {
    key: String,
    text: Option<String>,
}

impl Prefetched {
    /// The value of `key` as read (`None`: no such key).
    pub fn new(key: String, text: Option<String>) -> Self {
        Prefetched { key, text }
    }
}

fn hex_sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl<'a> Store<'a> {
    /// The store of `tenant`.
    pub fn new(kv: &'a KvStore, tenant: &'a str) -> Self {
        Store {
            kv,
            tenant,
            prefetched: RefCell::new(None),
            env: None,
        }
    }

    /// The tenant this store reads and writes.
    pub fn tenant(&self) -> &str {
        self.tenant
    }

    /// The same store, reading several keys in one call where it can (`kv` must be
    /// `env`'s `KV` binding).
    pub fn with_env(mut self, env: &'a worker::Env) -> Self {
        self.env = Some(env);
        self
    }

    /// The same store, answering the first read of `prefetched`'s key from it.
    pub fn with_prefetched(self, prefetched: Option<Prefetched>) -> Self {
        *self.prefetched.borrow_mut() = prefetched;
        self
    }

    /// The KV key `request` reads first: its flow (a step), its refresh session (a
    /// refresh) or the email index entry of its username (a start). `None` when the
    /// request names none (a malformed token or address is refused later, as before).
    pub fn first_read_key(&self, request: &NativeRequest) -> Option<String> {
        match request {
            NativeRequest::Start { .. } => {
                let email =
                    crate::flow::contact::normalize_email(request.start_username()?.expose())?;
                Some(self.key("email", &hex_sha256(&email)))
            }
            NativeRequest::Step {
                continuation_token, ..
            } => {
                let key =
                    lookup_key(HandleKind::ContinuationToken, continuation_token.expose()).ok()?;
                Some(self.key("flow", key.as_str()))
            }
            NativeRequest::Refresh { refresh_token, .. } => {
                let key = lookup_key(HandleKind::RefreshToken, refresh_token.expose()).ok()?;
                Some(self.key("refresh", key.as_str()))
            }
        }
    }

    fn key(&self, kind: &str, id: &str) -> String {
        format!("native/{}/{kind}/{id}", self.tenant)
    }

    /// The text at `key`: the prefetched value if it is that key's (once), else KV.
    async fn text(&self, key: &str) -> Result<Option<String>> {
        let ahead = {
            let mut slot = self.prefetched.borrow_mut();
            match slot.as_ref() {
                Some(p) if p.key == key => slot.take().map(|p| p.text),
                _ => None,
            }
        };
        match ahead {
            Some(text) => Ok(text),
            None => Ok(self.kv.get(key).text().await?),
        }
    }

    /// The JSON document at `key`, read through [`Store::text`].
    async fn json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        match self.text(key).await? {
            Some(text) => Ok(Some(serde_json::from_str(&text)?)),
            None => Ok(None),
        }
    }

    /// Drops a prefetched value of `key` before `key` is written or deleted.
    fn forget(&self, key: &str) {
        let mut slot = self.prefetched.borrow_mut();
        if slot.as_ref().is_some_and(|p| p.key == key) {
            *slot = None;
        }
    }

    /// The flow behind a continuation token.
    pub async fn flow(&self, key: &LookupKey) -> Result<Option<FlowRecord>> {
        self.json::<FlowRecord>(&self.key("flow", key.as_str()))
            .await
    }

    /// Stores a flow under a token's lookup key until the flow expires.
    pub async fn put_flow(
        &self,
        key: &LookupKey,
        record: &FlowRecord,
        now: Timestamp,
    ) -> Result<()> {
        let key = self.key("flow", key.as_str());
        self.forget(&key);
        self.kv
            .put(&key, serde_json::to_string(record)?)?
            .expiration_ttl(record.ttl(now))
            .execute()
            .await?;
        Ok(())
    }

    /// Forgets a continuation token.
    pub async fn delete_flow(&self, key: &LookupKey) -> Result<()> {
        let key = self.key("flow", key.as_str());
        self.forget(&key);
        Ok(self.kv.delete(&key).await?)
    }

    /// The session behind a refresh token.
    pub async fn refresh(&self, key: &LookupKey) -> Result<Option<RefreshSession>> {
        self.json::<RefreshSession>(&self.key("refresh", key.as_str()))
            .await
    }

    /// Stores a refresh session until it ends.
    pub async fn put_refresh(
        &self,
        key: &LookupKey,
        session: &RefreshSession,
        now: Timestamp,
    ) -> Result<()> {
        let key = self.key("refresh", key.as_str());
        self.forget(&key);
        self.kv
            .put(&key, serde_json::to_string(session)?)?
            .expiration_ttl(session.ttl(now))
            .execute()
            .await?;
        Ok(())
    }

    /// Whether a session family was revoked (an empty family never is).
    pub async fn family_revoked(&self, family: &str) -> Result<bool> {
        if family.is_empty() {
            return Ok(false);
        }
        Ok(self
            .kv
            .get(&self.key("revoked", family))
            .text()
            .await?
            .is_some())
    }

    /// Whether `family` was revoked, and the user `id`: what a refresh reads once it has
    /// the session, in one bulk read (one runtime call; each key as a single `get` reads
    /// it).
    pub async fn revoked_and_user(
        &self,
        family: &str,
        id: &str,
    ) -> Result<(bool, Option<UserRecord>)> {
        let Some(env) = self.env.filter(|_| !family.is_empty()) else {
            return Ok((self.family_revoked(family).await?, self.user(id).await?));
        };
        // Not the `worker` crate's `get_bulk`: it copies the answer through a per-entry
        // callback into a HashMap, which cost more glue than the call it saved.
        let keys = [self.key("revoked", family), self.key("user", id)];
        let mut texts = crate::worker::kv_bulk::get_texts(env, "KV", &keys)
            .await?
            .into_iter();
        let revoked = texts.next().flatten().is_some();
        let user = match texts.next().flatten() {
            Some(text) => Some(serde_json::from_str(&text)?),
            None => None,
        };
        Ok((revoked, user))
    }

    /// Revokes a session family for `ttl` seconds (until its sessions would end).
    pub async fn revoke_family(&self, family: &str, ttl: u64) -> Result<()> {
        if family.is_empty() {
            return Ok(());
        }
        self.kv
            .put(&self.key("revoked", family), "1")?
            .expiration_ttl(ttl.max(60))
            .execute()
            .await?;
        Ok(())
    }

    /// A user by id.
    pub async fn user(&self, id: &str) -> Result<Option<UserRecord>> {
        self.json::<UserRecord>(&self.key("user", id)).await
    }

    /// A user by email (normalized here; `None` for a non-address).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
        let Some(email) = crate::flow::contact::normalize_email(email) else {
            return Ok(None);
        };
        let id = self.text(&self.key("email", &hex_sha256(&email))).await?;
        match id {
            Some(id) => {
                // The index may outlive a deleted user, or point at a user whose email
                // changed: trust only a record that still has this email.
                let user = self.user(&id).await?;
                Ok(user.filter(|u| u.email.expose() == &email))
            }
            None => Ok(None),
        }
    }

    /// Writes a user record (and, when `index`, its email index entry).
    pub async fn put_user(&self, user: &UserRecord, index: bool) -> Result<()> {
        self.kv
            .put(&self.key("user", &user.id), serde_json::to_string(user)?)?
            .execute()
            .await?;
        if index {
            let key = self.key("email", &hex_sha256(user.email.expose()));
            self.forget(&key);
            self.kv.put(&key, user.id.clone())?.execute().await?;
        }
        Ok(())
    }

    /// One page of user ids for the admin API, in key order, and the cursor of the next
    /// page. KV `list` is eventually consistent: a user created or deleted in the last
    /// minute may be missing from, or still in, the listing.
    pub async fn user_ids(
        &self,
        limit: usize,
        cursor: Option<String>,
    ) -> Result<(Vec<String>, Option<String>)> {
        let prefix = format!("native/{}/user/", self.tenant);
        let mut list = self
            .kv
            .list()
            .prefix(prefix.clone())
            .limit(u64::try_from(limit).unwrap_or(1));
        if let Some(c) = cursor {
            list = list.cursor(c);
        }
        let page = list.execute().await?;
        let ids = page
            .keys
            .iter()
            .filter_map(|k| k.name.strip_prefix(&prefix).map(str::to_string))
            .collect();
        let next = if page.list_complete {
            None
        } else {
            page.cursor.filter(|c| !c.is_empty())
        };
        Ok((ids, next))
    }

    /// Removes a user and, if it still points at this user, its email index entry.
    pub async fn delete_user(&self, user: &UserRecord) -> Result<()> {
        let index = self.key("email", &hex_sha256(user.email.expose()));
        if self.text(&index).await?.as_deref() == Some(user.id.as_str()) {
            self.forget(&index);
            self.kv.delete(&index).await?;
        }
        Ok(self.kv.delete(&self.key("user", &user.id)).await?)
    }
}
