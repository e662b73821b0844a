//! Everything a native-auth request needs besides the request: the tenant's flow
//! configuration and Conditional Access policies, the code key and the signing keys.
//!
//! The tenant's documents (these and the delivery hooks) come in one bulk KV read. Each is parsed or compiled once
//! per isolate per change: the caches below are keyed by the exact text they were built
//! from, so an admin write takes effect on the next request (as soon as KV returns it)
//! and an unchanged tenant costs that read and a few string compares.
//!
//! - Flow configuration: `tenant/{tenant}/flowConfig` in KV (Graph-shaped
//!   [`crate::flow::FlowConfig`]), else the built-in flow of
//!   [`crate::native::defaults`] (client `vestibule-demo-app`, email + password, email
//!   and SMS second factors, MFA when Conditional Access requires it).
//! - Phone listeners: the tenant's `onPhoneMethodLoadStartListener`s (admin API), merged
//!   into the flow configuration's SMS settings.
//! - Conditional Access: the tenant's `policies` and `namedLocations` collections of
//!   the admin API, compiled into a [`PolicySet`]. A stored set that no longer compiles
//!   fails closed (`server_error`), never open.
//! - `CODE_KEY` (≥ 32 bytes, base64url or hex) keys code digests; `SIGNING_KEYS` is
//!   the Ed25519 keyring ([`Keyring::parse`]). Both are Worker secrets and are never
//!   created here: without them the endpoints answer `server_error`.

use super::Fail;
use super::kv::Prefetched;
use crate::admin::Collection;
use crate::flow::{CodeKey, FlowConfig};
use crate::native::NativeError;
use crate::policy::PolicySet;
use crate::token::Keyring;
use crate::worker::kv_bulk;
use crate::worker::route::Ctx;
use crate::worker::store::{self, CollectionName};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use serde_json::json;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Tenants whose compiled configuration an isolate keeps; more are rebuilt on demand.
const MAX_CACHED_TENANTS: usize = 64;

/// The KV key of a tenant's stored flow configuration.
pub fn flow_config_key(tenant: &str) -> String {
    format!("tenant/{tenant}/flowConfig")
}

/// Per slot (tenant): the texts a value was built from, and the value.
type Cache<T> = RefCell<HashMap<String, (Vec<String>, Rc<T>)>>;
/// The code key and the signing keys, parsed together from the two secrets.
pub type Secrets = Rc<(CodeKey, Keyring)>;

thread_local! {
    static CONFIGS: Cache<FlowConfig> = RefCell::new(HashMap::new());
    static WITH_LISTENERS: Cache<FlowConfig> = RefCell::new(HashMap::new());
    static POLICY_ITEMS: Cache<Collection> = RefCell::new(HashMap::new());
    static POLICIES: Cache<PolicySet> = RefCell::new(HashMap::new());
    /// The two secrets' texts (`CODE_KEY`, `SIGNING_KEYS`) and what they parse to.
    static SECRETS: RefCell<Option<(String, String, Secrets)>> = const { RefCell::new(None) };
}

/// Returns the cached value for `slot` if it was built from exactly `texts` (compared
/// one by one, so a hit copies nothing), else builds it.
fn cached<T, E>(
    cache: &'static std::thread::LocalKey<Cache<T>>,
    slot: &str,
    texts: &[&str],
    build: impl FnOnce() -> Result<T, E>,
) -> Result<Rc<T>, E> {
    let same = |stored: &[String]| {
        stored.len() == texts.len() && stored.iter().zip(texts).all(|(a, b)| a == b)
    };
    let hit = cache.with(|c| {
        c.borrow()
            .get(slot)
            .filter(|(t, _)| same(t))
            .map(|(_, v)| Rc::clone(v))
    });
    if let Some(v) = hit {
        return Ok(v);
    }
    let value = Rc::new(build()?);
    cache.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= MAX_CACHED_TENANTS {
            c.clear();
        }
        let key = texts.iter().map(|t| (*t).to_string()).collect();
        c.insert(slot.to_string(), (key, Rc::clone(&value)));
    });
    Ok(value)
}

/// A stored admin collection, parsed as [`store::load`] does: a document that is not a
/// collection is a runtime failure (`server_error`), as it was when the admin API
/// stored it valid.
fn parse_collection(text: &str) -> Result<Collection, Fail> {
    serde_json::from_str(text).map_err(|e| Fail::Runtime(e.into()))
}

/// What one request works with.
pub struct Setup {
    /// The tenant's flow configuration.
    pub config: Rc<FlowConfig>,
    /// Its Conditional Access policies (`None`: no policy), under every MFA setting.
    pub policies: Option<Rc<PolicySet>>,
    /// The code key and the signing keys.
    pub secrets: Secrets,
    /// The tenant's delivery hooks document as stored (read in the same bulk read), for
    /// [`super::delivery::Delivery::load`].
    pub delivery_hooks: Option<String>,
}

impl Setup {
    /// The code key.
    pub fn code_key(&self) -> &CodeKey {
        &self.secrets.0
    }

    /// The signing keys.
    pub fn keyring(&self) -> &Keyring {
        &self.secrets.1
    }
}

/// Loads (or reuses) everything for `tenant`: its configuration documents in one
/// bulk KV read ([`kv_bulk`]), each parsed or compiled only when its text changed.
pub async fn load(ctx: &Ctx, tenant: &str) -> Result<Setup, Fail> {
    Ok(load_with(ctx, tenant, None).await?.0)
}

/// [`load`], also reading `extra` (the record the request reads first, see
/// [`super::kv::Store::first_read_key`]) in the same bulk read: one runtime call and one
/// wait fewer per request.
pub async fn load_with(
    ctx: &Ctx,
    tenant: &str,
    extra: Option<String>,
) -> Result<(Setup, Option<Prefetched>), Fail> {
    let secrets = secrets(ctx)?;
    let mut keys = vec![
        flow_config_key(tenant),
        crate::worker::admin_sms::key(tenant),
        store::key(tenant, CollectionName::Policies),
        store::key(tenant, CollectionName::NamedLocations),
        super::delivery::hooks_key(tenant),
    ];
    keys.extend(extra.iter().cloned());
    let mut texts = kv_bulk::get_texts(&ctx.env, "KV", &keys).await?.into_iter();
    let mut next = || texts.next().flatten();
    let (flow, listeners, policy_items, locations) = (next(), next(), next(), next());
    let delivery_hooks = next();
    let prefetched = extra.map(|key| Prefetched::new(key, next()));
    let config = with_phone_listeners(flow_config(tenant, flow)?, listeners, tenant)?;
    // Compiled under every MFA setting: `off` and `always` replace only the MFA part of
    // the decision, and a Conditional Access block still blocks (the core's
    // `flow::access::effective`). Skipping them here once let a block policy lapse.
    let policies = policies(tenant, policy_items, locations)?;
    let setup = Setup {
        config,
        policies,
        secrets,
        delivery_hooks,
    };
    Ok((setup, prefetched))
}

/// Adds the tenant's stored `onPhoneMethodLoadStartListener`s (admin API) to the SMS
/// settings; none stored leaves the configuration as is. The merged configuration is
/// cached per tenant, keyed by the flow configuration it extends and the listeners' text.
fn with_phone_listeners(
    config: (Rc<FlowConfig>, String),
    stored: Option<String>,
    tenant: &str,
) -> Result<Rc<FlowConfig>, Fail> {
    let (config, config_text) = config;
    let Some(text) = stored else {
        return Ok(config);
    };
    let merged = cached(&WITH_LISTENERS, tenant, &[&config_text, &text], || {
        let stored = parse_collection(&text)?;
        let mut merged = (*config).clone();
        merged
            .settings
            .sms
            .phone_method_listeners
            .extend(stored.items().iter().cloned());
        Ok::<_, Fail>(merged)
    })?;
    Ok(merged)
}

/// The code key and the signing keys from the Worker secrets (parsed once per change).
pub fn secrets(ctx: &Ctx) -> Result<Secrets, Fail> {
    let read = |name: &str| ctx.secret(name).ok().map(|s| s.to_string());
    let (Some(code_key), Some(keys)) = (read("CODE_KEY"), read("SIGNING_KEYS")) else {
        return Err(NativeError::server_error(
            "native authentication is not configured: set the CODE_KEY and SIGNING_KEYS secrets",
        )
        .into());
    };
    let hit = SECRETS.with(|s| {
        s.borrow()
            .as_ref()
            .filter(|(c, k, _)| c == &code_key && k == &keys)
            .map(|(_, _, v)| Rc::clone(v))
    });
    if let Some(v) = hit {
        return Ok(v);
    }
    let key = decode_key(&code_key)
        .and_then(|b| CodeKey::new(b).ok())
        .ok_or_else(|| {
            NativeError::server_error(
                "the CODE_KEY secret must be at least 32 bytes, base64url or hex",
            )
        })?;
    let keyring = Keyring::parse(&keys).map_err(|e| {
        // The keyring error names the entry at fault and never echoes key material.
        NativeError::server_error(format!("the SIGNING_KEYS secret is invalid ({})", e.code()))
    })?;
    let value = Rc::new((key, keyring));
    SECRETS.with(|s| *s.borrow_mut() = Some((code_key, keys, Rc::clone(&value))));
    Ok(value)
}

/// Hex, else base64 (URL-safe or standard, padded or not).
fn decode_key(text: &str) -> Option<Vec<u8>> {
    let t = text.trim();
    if t.len() % 2 == 0 && !t.is_empty() && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return (0..t.len())
            .step_by(2)
            .map(|i| t.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect();
    }
    let t = t.trim_end_matches('=');
    URL_SAFE_NO_PAD
        .decode(t)
        .or_else(|_| STANDARD_NO_PAD.decode(t))
        .ok()
}

/// The tenant's flow configuration and the text it was built from (empty: built-in).
fn flow_config(tenant: &str, stored: Option<String>) -> Result<(Rc<FlowConfig>, String), Fail> {
    let (slot, text) = match stored {
        Some(text) => (tenant.to_string(), text),
        // One shared slot for the built-in flow, whatever the tenant.
        None => ("\0builtin".to_string(), String::new()),
    };
    let config = cached(&CONFIGS, &slot, &[&text], || {
        let config = if text.is_empty() {
            crate::native::defaults::builtin_flow_config()
        } else {
            FlowConfig::from_json_text(&text)
                .ok()
                .filter(|c| c.validate().is_ok())
        };
        config
            .ok_or_else(|| NativeError::server_error("the tenant's flow configuration is invalid"))
    })?;
    Ok((config, text))
}

/// The tenant's compiled policies, `None` without any. Keyed by the two collections'
/// stored texts: an unchanged tenant costs two string compares, no parsing, no
/// compiling.
fn policies(
    tenant: &str,
    policies_text: Option<String>,
    locations_text: Option<String>,
) -> Result<Option<Rc<PolicySet>>, Fail> {
    let Some(policies_text) = policies_text else {
        return Ok(None);
    };
    let policies = cached(&POLICY_ITEMS, tenant, &[&policies_text], || {
        parse_collection(&policies_text)
    })?;
    if policies.items().is_empty() {
        return Ok(None);
    }
    // `None` and an empty text are one key: both compile to no named locations.
    let key = [
        policies_text.as_str(),
        locations_text.as_deref().unwrap_or(""),
    ];
    let set = cached(&POLICIES, tenant, &key, || {
        let locations = match locations_text.as_deref() {
            Some(text) => parse_collection(text)?,
            None => Collection::default(),
        };
        let doc = json!({"policies": policies.items(), "namedLocations": locations.items()});
        PolicySet::from_json(&doc).map_err(|errors| {
            let code = errors.first().map(|e| e.code.clone()).unwrap_or_default();
            worker::console_error!("native: stored policies do not compile ({code})");
            Fail::from(NativeError::server_error(
                "the tenant's Conditional Access policies cannot be evaluated",
            ))
        })
    })?;
    Ok(Some(set))
}
