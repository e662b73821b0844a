//! Several KV values in one bulk `get` (`KV.get([keys], "text")`, up to 100 keys).
//!
//! Why: every native-auth request reads a tenant's configuration documents (flow
//! configuration, phone listeners, Conditional Access policies and named locations).
//! Read one by one, each is a call into the runtime, a promise and a wasm future: about
//! 0.1 ms of the isolate's CPU apiece in the profile of `scripts/bench-cpu.sh`. One bulk
//! read returns the same values (same consistency, key by key) for one call. This calls
//! the binding directly rather than through workers-rs 0.8.7's `get_bulk`, which copies
//! the answer entry by entry through a callback into a `HashMap`: measured, that glue
//! cost more of the isolate's CPU than the call it saved.

use worker::js_sys::{Array, Function, Map, Promise, Reflect};
use worker::wasm_bindgen::{JsCast as _, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{Env, Error, Result};

/// The most keys one bulk `get` accepts.
pub const MAX_KEYS: usize = 100;

/// The text values of `keys` in binding `binding` (`None`: no such key), in order.
pub async fn get_texts(env: &Env, binding: &str, keys: &[String]) -> Result<Vec<Option<String>>> {
    if keys.len() > MAX_KEYS {
        return Err(Error::RustError(format!(
            "a bulk KV read takes at most {MAX_KEYS} keys"
        )));
    }
    let namespace = Reflect::get(env, &JsValue::from_str(binding))?;
    let get: Function = Reflect::get(&namespace, &JsValue::from_str("get"))?
        .dyn_into()
        .map_err(|_| Error::RustError(format!("binding `{binding}` is not a KV namespace")))?;
    let list: Array = keys.iter().map(|k| JsValue::from_str(k)).collect();
    let promise: Promise = get
        .call2(&namespace, &list, &JsValue::from_str("text"))?
        .dyn_into()
        .map_err(|_| Error::RustError("a bulk KV read did not return a promise".into()))?;
    let values: Map = JsFuture::from(promise)
        .await?
        .dyn_into()
        .map_err(|_| Error::RustError("a bulk KV read did not return a Map".into()))?;
    Ok(keys
        .iter()
        .map(|k| values.get(&JsValue::from_str(k)).as_string())
        .collect())
}
