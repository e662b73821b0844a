//! Tenant configuration documents in KV.
//!
//! Each Graph collection of a tenant is one KV value (`tenant/{tenant}/{collection}`), read
//! and written whole: admin writes are rare, a sign-in then needs one read per collection,
//! and there is no eventually consistent KV `list` to trust. Two admins writing the same
//! collection at once is last-writer-wins; the README says so.

use crate::admin::Collection;
use worker::{Result, kv::KvStore};

/// The collections the admin API serves, with their KV names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectionName {
    /// `conditionalAccessPolicy` items.
    Policies,
    /// `namedLocation` items.
    NamedLocations,
}

/// The KV key of a tenant's collection.
pub fn key(tenant: &str, name: CollectionName) -> String {
    name.key(tenant)
}

impl CollectionName {
    fn key(self, tenant: &str) -> String {
        let name = match self {
            CollectionName::Policies => "conditionalAccess/policies",
            CollectionName::NamedLocations => "conditionalAccess/namedLocations",
        };
        format!("tenant/{tenant}/{name}")
    }
}

/// Loads a collection; a missing document is an empty collection.
pub async fn load(kv: &KvStore, tenant: &str, name: CollectionName) -> Result<Collection> {
    load_at(kv, &name.key(tenant)).await
}

/// The collection at `key` (any Graph collection: policies, applications, listeners); a
/// missing document is an empty collection.
pub async fn load_at(kv: &KvStore, key: &str) -> Result<Collection> {
    Ok(crate::worker::kv_json::get::<Collection>(kv, key)
        .await?
        .unwrap_or_default())
}

/// Stores a collection whole.
pub async fn save(kv: &KvStore, tenant: &str, name: CollectionName, c: &Collection) -> Result<()> {
    save_at(kv, &name.key(tenant), c).await
}

/// Stores the collection at `key` whole.
pub async fn save_at(kv: &KvStore, key: &str, c: &Collection) -> Result<()> {
    // Serialized here, not by the binding: its serde-wasm-bindgen path turns JSON objects
    // into JS Maps, which KV would store as `{}`.
    kv.put(key, serde_json::to_string(c)?)?.execute().await?;
    Ok(())
}
