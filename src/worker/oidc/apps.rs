//! App registrations in KV: one Graph collection per tenant at
//! `tenant/{tenant}/applications`, written by the admin API (`super::super::admin_apps`)
//! and read by the authorization and token endpoints.

use crate::admin::Collection;
use crate::oidc::apps::{Client, find_client};
use worker::Result;
use worker::kv::KvStore;

fn key(tenant: &str) -> String {
    format!("tenant/{tenant}/applications")
}

/// The tenant's registrations; none stored is an empty collection.
pub async fn load(kv: &KvStore, tenant: &str) -> Result<Collection> {
    crate::worker::store::load_at(kv, &key(tenant)).await
}

/// Stores the registrations whole.
pub async fn save(kv: &KvStore, tenant: &str, c: &Collection) -> Result<()> {
    crate::worker::store::save_at(kv, &key(tenant), c).await
}

/// The client `client_id` names in this tenant (a registration, or the demo client).
pub async fn client(kv: &KvStore, tenant: &str, client_id: &str) -> Result<Option<Client>> {
    Ok(find_client(load(kv, tenant).await?.items(), client_id))
}

/// Whether `client_id` is a registration of this tenant.
pub async fn is_registered(kv: &KvStore, tenant: &str, client_id: &str) -> Result<bool> {
    Ok(load(kv, tenant)
        .await?
        .items()
        .iter()
        .filter_map(Client::from_application)
        .any(|c| c.app_id == client_id))
}
