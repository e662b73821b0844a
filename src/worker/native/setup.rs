//! Everything a native-auth request needs besides the request: the tenant's flow
//! configuration and Conditional Access policies, the code key and the signing keys.
//!
//! Each is parsed or compiled once per isolate per change: the caches below are keyed
//! by the text they were built from, so an admin write takes effect on the next request
//! and an unchanged tenant costs a KV read and a string compare.
//!
//! - Flow configuration: `tenant/{tenant}/flowConfig` in KV (Graph-shaped
//!   [`crate::flow::FlowConfig`]), else the built-in flow of
//!   [`crate::native::defaults`] (client `vestibule-demo-app`, email + password, email
//!   and SMS second factors, MFA when Conditional Access requires it).
//! - Conditional Access: the tenant's `policies` and `namedLocations` collections of
//!   the admin API, compiled into a [`PolicySet`]. A stored set that no longer compiles
//!   fails closed (`server_error`), never open.
//! - `CODE_KEY` (≥ 32 bytes, base64url or hex) keys code digests; `SIGNING_KEYS` is
//!   the Ed25519 keyring ([`Keyring::parse`]). Both are Worker secrets and are never
//!   created here: without them the endpoints answer `server_error`.

use super::Fail;
use crate::flow::{CodeKey, FlowConfig, MfaEnforcement};
use crate::native::NativeError;
use crate::policy::PolicySet;
use crate::token::Keyring;
use crate::worker::store::{self, CollectionName};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use serde_json::json;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use worker::RouteContext;
use worker::kv::KvStore;

/// Tenants whose compiled configuration an isolate keeps; more are rebuilt on demand.
const MAX_CACHED_TENANTS: usize = 64;

/// The KV key of a tenant's stored flow configuration.
pub fn flow_config_key(tenant: &str) -> String {
    format!("tenant/{tenant}/flowConfig")
}

type Cache<T> = RefCell<HashMap<String, (String, Rc<T>)>>;
/// The code key and the signing keys, parsed together from the two secrets.
pub type Secrets = Rc<(CodeKey, Keyring)>;

thread_local! {
    static CONFIGS: Cache<FlowConfig> = RefCell::new(HashMap::new());
    static POLICIES: Cache<PolicySet> = RefCell::new(HashMap::new());
    static SECRETS: RefCell<Option<(String, Secrets)>> = const { RefCell::new(None) };
}

/// Returns the cached value for `slot` if it was built from `text`, else builds it.
fn cached<T>(
    cache: &'static std::thread::LocalKey<Cache<T>>,
    slot: &str,
    text: &str,
    build: impl FnOnce() -> Result<T, NativeError>,
) -> Result<Rc<T>, NativeError> {
    let hit = cache.with(|c| {
        c.borrow()
            .get(slot)
            .filter(|(t, _)| t == text)
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
        c.insert(slot.to_string(), (text.to_string(), Rc::clone(&value)));
    });
    Ok(value)
}

/// What one request works with.
pub struct Setup {
    /// The tenant's flow configuration.
    pub config: Rc<FlowConfig>,
    /// Its Conditional Access policies (`None`: no policy, or MFA not conditional).
    pub policies: Option<Rc<PolicySet>>,
    /// The code key and the signing keys.
    pub secrets: Secrets,
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

/// Loads (or reuses) everything for `tenant`.
pub async fn load(ctx: &RouteContext<()>, kv: &KvStore, tenant: &str) -> Result<Setup, Fail> {
    let secrets = secrets(ctx)?;
    let config = with_phone_listeners(flow_config(kv, tenant).await?, kv, tenant).await?;
    let policies = match config.settings.mfa_enforcement {
        MfaEnforcement::Conditional => policies(kv, tenant).await?,
        MfaEnforcement::Off | MfaEnforcement::Always => None,
    };
    Ok(Setup {
        config,
        policies,
        secrets,
    })
}

/// Adds the tenant's stored `onPhoneMethodLoadStartListener`s (admin API) to the SMS
/// settings; none stored leaves the configuration as is.
async fn with_phone_listeners(
    config: Rc<FlowConfig>,
    kv: &KvStore,
    tenant: &str,
) -> Result<Rc<FlowConfig>, Fail> {
    let stored = crate::worker::admin_sms::listeners(kv, tenant).await?;
    if stored.is_empty() {
        return Ok(config);
    }
    let mut config = (*config).clone();
    config.settings.sms.phone_method_listeners.extend(stored);
    Ok(Rc::new(config))
}

/// The code key and the signing keys from the Worker secrets (parsed once per change).
pub fn secrets(ctx: &RouteContext<()>) -> Result<Secrets, Fail> {
    let read = |name: &str| ctx.secret(name).ok().map(|s| s.to_string());
    let (Some(code_key), Some(keys)) = (read("CODE_KEY"), read("SIGNING_KEYS")) else {
        return Err(NativeError::server_error(
            "native authentication is not configured: set the CODE_KEY and SIGNING_KEYS secrets",
        )
        .into());
    };
    let text = format!("{code_key}\n{keys}");
    let hit = SECRETS.with(|s| {
        s.borrow()
            .as_ref()
            .filter(|(t, _)| t == &text)
            .map(|(_, v)| Rc::clone(v))
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
    SECRETS.with(|s| *s.borrow_mut() = Some((text, Rc::clone(&value))));
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

async fn flow_config(kv: &KvStore, tenant: &str) -> Result<Rc<FlowConfig>, Fail> {
    let stored = kv.get(&flow_config_key(tenant)).text().await?;
    let (slot, text) = match stored {
        Some(text) => (tenant.to_string(), text),
        // One shared slot for the built-in flow, whatever the tenant.
        None => ("\0builtin".to_string(), String::new()),
    };
    Ok(cached(&CONFIGS, &slot, &text, || {
        let config = if text.is_empty() {
            crate::native::defaults::builtin_flow_config()
        } else {
            FlowConfig::from_json_text(&text)
                .ok()
                .filter(|c| c.validate().is_ok())
        };
        config
            .ok_or_else(|| NativeError::server_error("the tenant's flow configuration is invalid"))
    })?)
}

async fn policies(kv: &KvStore, tenant: &str) -> Result<Option<Rc<PolicySet>>, Fail> {
    let policies = store::load(kv, tenant, CollectionName::Policies).await?;
    if policies.items().is_empty() {
        return Ok(None);
    }
    let locations = store::load(kv, tenant, CollectionName::NamedLocations).await?;
    let doc = json!({"policies": policies.items(), "namedLocations": locations.items()});
    let text = doc.to_string();
    let set = cached(&POLICIES, tenant, &text, || {
        PolicySet::from_json(&doc).map_err(|errors| {
            let code = errors.first().map(|e| e.code.clone()).unwrap_or_default();
            worker::console_error!("native: stored policies do not compile ({code})");
            NativeError::server_error(
                "the tenant's Conditional Access policies cannot be evaluated",
            )
        })
    })?;
    Ok(Some(set))
}
