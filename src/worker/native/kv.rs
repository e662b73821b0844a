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
use crate::native::FlowRecord;
use crate::native::tokens::RefreshSession;
use crate::time::Timestamp;
use crate::token::LookupKey;
use sha2::{Digest as _, Sha256};
use worker::Result;
use worker::kv::KvStore;

/// A tenant's native-auth storage.
pub struct Store<'a> {
    kv: &'a KvStore,
    tenant: &'a str,
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
        Store { kv, tenant }
    }

    fn key(&self, kind: &str, id: &str) -> String {
        format!("native/{}/{kind}/{id}", self.tenant)
    }

    /// The flow behind a continuation token.
    pub async fn flow(&self, key: &LookupKey) -> Result<Option<FlowRecord>> {
        crate::worker::kv_json::get::<FlowRecord>(self.kv, &self.key("flow", key.as_str())).await
    }

    /// Stores a flow under a token's lookup key until the flow expires.
    pub async fn put_flow(
        &self,
        key: &LookupKey,
        record: &FlowRecord,
        now: Timestamp,
    ) -> Result<()> {
        self.kv
            .put(
                &self.key("flow", key.as_str()),
                serde_json::to_string(record)?,
            )?
            .expiration_ttl(record.ttl(now))
            .execute()
            .await?;
        Ok(())
    }

    /// Forgets a continuation token.
    pub async fn delete_flow(&self, key: &LookupKey) -> Result<()> {
        Ok(self.kv.delete(&self.key("flow", key.as_str())).await?)
    }

    /// The session behind a refresh token.
    pub async fn refresh(&self, key: &LookupKey) -> Result<Option<RefreshSession>> {
        crate::worker::kv_json::get::<RefreshSession>(self.kv, &self.key("refresh", key.as_str()))
            .await
    }

    /// Stores a refresh session until it ends.
    pub async fn put_refresh(
        &self,
        key: &LookupKey,
        session: &RefreshSession,
        now: Timestamp,
    ) -> Result<()> {
        self.kv
            .put(
                &self.key("refresh", key.as_str()),
                serde_json::to_string(session)?,
            )?
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
        crate::worker::kv_json::get::<UserRecord>(self.kv, &self.key("user", id)).await
    }

    /// A user by email (normalized here; `None` for a non-address).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
        let Some(email) = crate::flow::contact::normalize_email(email) else {
            return Ok(None);
        };
        let id = self
            .kv
            .get(&self.key("email", &hex_sha256(&email)))
            .text()
            .await?;
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
            self.kv
                .put(
                    &self.key("email", &hex_sha256(user.email.expose())),
                    user.id.clone(),
                )?
                .execute()
                .await?;
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
        if self.kv.get(&index).text().await?.as_deref() == Some(user.id.as_str()) {
            self.kv.delete(&index).await?;
        }
        Ok(self.kv.delete(&self.key("user", &user.id)).await?)
    }
}
