//! JSON documents read as text and parsed by `serde_json`, from KV and from requests.
//!
//! Why not the `worker` crate's `.json()`: it parses with `JSON.parse` and then reads the JS
//! value with `serde_wasm_bindgen`, a second deserializer next to `serde_json`. Every type
//! read that way carried a second copy of its deserialization code in the Worker (~80 KB of
//! wasm for the OIDC interaction, users, refresh sessions and the guard call). One parser
//! for everything keeps one copy.

use serde::de::DeserializeOwned;
use worker::{Request, Result, kv::KvStore};

/// The document at `key`, or `None` when there is none.
pub async fn get<T: DeserializeOwned>(kv: &KvStore, key: &str) -> Result<Option<T>> {
    match kv.get(key).text().await? {
        None => Ok(None),
        Some(text) => Ok(Some(serde_json::from_str(&text)?)),
    }
}

/// The request's body.
pub async fn body<T: DeserializeOwned>(req: &mut Request) -> Result<T> {
    Ok(serde_json::from_str(&req.text().await?)?)
}
