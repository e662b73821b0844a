//! Where each channel's codes go: the delivery hook configuration, parsed and checked
//! here so the Worker only reads variables and KV.
//!
//! Two levels, the tenant's winning per channel:
//!
//! - **Deployment**: Worker variables `EMAIL_HOOK_URL` / `SMS_HOOK_URL` and secrets
//!   `EMAIL_HOOK_SECRETS` / `SMS_HOOK_SECRETS` (whitespace-separated `whsec_` / `whsk_`
//!   values, newest first; every one signs, for rotation). URL and secrets come as a
//!   pair: one without the other is an error, not a silent fallback.
//! - **Tenant**: an optional KV document [`TenantHooks`] at `tenant/{t}/deliveryHooks`,
//!   `{"email": {"url": "https://…", "secretName": "CONTOSO_EMAIL_HOOK_SECRETS"}, "sms":
//!   …}`. It names a Worker secret and never holds one, so KV (readable by anyone with
//!   the namespace) holds no signing key. The name must end in `_HOOK_SECRETS`, so a
//!   tenant document cannot point at the Worker's other secrets (`CODE_KEY`, …). A
//!   channel set to `null` is off for the tenant (e.g. its SMS subscription lapsed): no
//!   hook, no outbox, so the flow stops offering it.
//!
//! A hook URL must be `https`; plain `http` only to the loopback host (local runs and
//! tests). [`route`] then picks the sender: a configured hook always wins over the dev
//! outbox, so a local run with a hook exercises the hook.

use super::err::HookError;
use super::secrets::SigningSecrets;
use crate::flow::Channel;
use serde::Deserialize;
use std::fmt;

/// The longest hook URL accepted.
pub const MAX_URL_LEN: usize = 2048;
/// The longest secret name accepted in a tenant document.
pub const MAX_SECRET_NAME_LEN: usize = 64;
/// Every secret name in a tenant document ends with this.
pub const SECRET_NAME_SUFFIX: &str = "_HOOK_SECRETS";

/// The Worker variable holding `channel`'s deployment-level hook URL.
pub fn url_setting(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "EMAIL_HOOK_URL",
        Channel::Sms => "SMS_HOOK_URL",
    }
}

/// The Worker secret holding `channel`'s deployment-level signing secrets.
pub fn secrets_setting(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "EMAIL_HOOK_SECRETS",
        Channel::Sms => "SMS_HOOK_SECRETS",
    }
}

/// A configuration problem and the setting it is in (a variable, a secret's name, or
/// the tenant document's member). Never holds a secret value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// E.g. `SMS_HOOK_SECRETS` or `tenant/contoso/deliveryHooks#sms.url`.
    pub setting: String,
    /// What is wrong.
    pub error: HookError,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.setting, self.error)
    }
}

impl std::error::Error for ConfigError {}

fn at(setting: &str) -> impl Fn(HookError) -> ConfigError + '_ {
    move |error| ConfigError {
        setting: setting.to_string(),
        error,
    }
}

/// One receiver: where to POST and what to sign with.
#[derive(Debug, Clone)]
pub struct HookEndpoint {
    url: String,
    secrets: SigningSecrets,
}

impl HookEndpoint {
    /// Checks `url` ([`check_url`]) and parses `secrets`; `url_setting` and
    /// `secrets_setting` name them in errors.
    pub fn new(
        url_setting: &str,
        url: &str,
        secrets_setting: &str,
        secrets: &str,
    ) -> Result<HookEndpoint, ConfigError> {
        let url = check_url(url).map_err(at(url_setting))?;
        let secrets = SigningSecrets::parse(secrets).map_err(at(secrets_setting))?;
        Ok(HookEndpoint { url, secrets })
    }

    /// The checked URL, as serialized by the URL parser.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The signing secrets.
    pub fn secrets(&self) -> &SigningSecrets {
        &self.secrets
    }
}

/// Parses a hook URL: absolute, `https` (or `http` to the loopback host), a host, no
/// credentials, no fragment. Returns the parser's serialization.
pub fn check_url(text: &str) -> Result<String, HookError> {
    let text = text.trim();
    if text.len() > MAX_URL_LEN {
        return Err(HookError::UrlInvalid {
            reason: "it is longer than 2048 characters",
        });
    }
    let url = url::Url::parse(text).map_err(|e| HookError::UrlInvalid {
        // The build has no Unicode IDNA data (see `idna_adapter` in Cargo.toml).
        reason: if e == url::ParseError::IdnaError {
            "write an international host name in its `xn--` form"
        } else {
            "it is not an absolute url"
        },
    })?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(HookError::UrlNotHttps),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(HookError::UrlInvalid {
            reason: "it has no host",
        });
    }
    if url.host().is_some_and(|h| unroutable(&h)) {
        return Err(HookError::UrlInvalid {
            reason: "its host is a link-local, unspecified or multicast address, where no delivery service answers (cloud metadata services do)",
        });
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(HookError::UrlInvalid {
            reason: "credentials in the url would be logged by proxies; use the signing secret",
        });
    }
    if url.fragment().is_some() {
        return Err(HookError::UrlInvalid {
            reason: "it has a fragment",
        });
    }
    Ok(url.into())
}

/// An IP host no delivery service is reached at: link-local (`169.254.169.254` is the
/// metadata service of AWS, GCP and Azure; `fe80::/10`), unspecified, broadcast or
/// multicast, also in IPv4-mapped IPv6 form. A hook URL is signed and carries codes and
/// phone numbers: an administrator's typo or a pasted SSRF probe must not send them there.
/// Private ranges stay allowed: a self-hosted runtime may reach its SMS gateway at one.
fn unroutable(host: &url::Host<&str>) -> bool {
    use std::net::Ipv4Addr;
    let v4 = |ip: Ipv4Addr| {
        ip.is_link_local() || ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast()
    };
    match host {
        url::Host::Domain(_) => false,
        url::Host::Ipv4(ip) => v4(*ip),
        url::Host::Ipv6(ip) => match ip.to_ipv4_mapped() {
            Some(mapped) => v4(mapped),
            None => {
                ip.is_unspecified() || ip.is_multicast() || (ip.segments()[0] & 0xffc0) == 0xfe80
            }
        },
    }
}

/// `channel`'s deployment-level hook from the Worker's variables and secrets
/// (`lookup` returns a binding's text). `None` when neither half is set.
pub fn deployment_hook(
    channel: Channel,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<HookEndpoint>, ConfigError> {
    let (url_name, secrets_name) = (url_setting(channel), secrets_setting(channel));
    let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    match (set(url_name), set(secrets_name)) {
        (None, None) => Ok(None),
        (Some(url), Some(secrets)) => {
            HookEndpoint::new(url_name, &url, secrets_name, &secrets).map(Some)
        }
        (Some(_), None) => Err(missing(url_name, secrets_name)),
        (None, Some(_)) => Err(missing(secrets_name, url_name)),
    }
}

fn missing(set: &str, name: &str) -> ConfigError {
    ConfigError {
        setting: set.to_string(),
        error: HookError::SettingMissing {
            name: name.to_string(),
        },
    }
}

/// A tenant's own hooks (KV `tenant/{t}/deliveryHooks`); a channel left out uses the
/// deployment's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantHooks {
    /// Where email codes go: absent uses the deployment's, `null` turns email off.
    #[serde(default, deserialize_with = "present")]
    pub email: Option<Option<TenantHook>>,
    /// Where SMS codes go: absent uses the deployment's, `null` turns SMS off.
    #[serde(default, deserialize_with = "present")]
    pub sms: Option<Option<TenantHook>>,
}

/// A member that is present (even as `null`) is `Some`; an absent one stays `None`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// One channel of a tenant document.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantHook {
    /// The receiver.
    pub url: String,
    /// The Worker secret holding the signing secrets, e.g. `CONTOSO_SMS_HOOK_SECRETS`.
    pub secret_name: String,
}

impl TenantHooks {
    /// Parses and checks a tenant document: known members only, good URLs, secret names
    /// that name hook secrets. `key` names the document in errors.
    pub fn parse(key: &str, text: &str) -> Result<TenantHooks, ConfigError> {
        let invalid = |reason: String| ConfigError {
            setting: key.to_string(),
            error: HookError::DocumentInvalid { reason },
        };
        // serde reads a struct from a list too (`[]` as "no hooks", `[{…}]` as the email
        // hook by position), so the shape is checked on the JSON value first.
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let objects = value
            .as_object()
            .is_some_and(|members| members.values().all(|v| v.is_object() || v.is_null()));
        if !objects {
            return Err(invalid(
                "it must be a JSON object whose channels are objects or null".into(),
            ));
        }
        let doc: TenantHooks = serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
        for (channel, hook) in doc.channels() {
            let member = |field: &str| format!("{key}#{}.{field}", channel.as_str());
            check_url(&hook.url).map_err(at(&member("url")))?;
            check_secret_name(&hook.secret_name).map_err(at(&member("secretName")))?;
        }
        Ok(doc)
    }

    fn channels(&self) -> impl Iterator<Item = (Channel, &TenantHook)> {
        [(Channel::Email, &self.email), (Channel::Sms, &self.sms)]
            .into_iter()
            .filter_map(|(c, h)| h.as_ref().and_then(Option::as_ref).map(|h| (c, h)))
    }

    /// The entry for `channel`: `None` if the tenant has none, `Some(None)` if it turned
    /// the channel off.
    pub fn get(&self, channel: Channel) -> Option<Option<&TenantHook>> {
        match channel {
            Channel::Email => self.email.as_ref().map(Option::as_ref),
            Channel::Sms => self.sms.as_ref().map(Option::as_ref),
        }
    }
}

/// A tenant document's secret name: capitals, digits and `_`, ending in `_HOOK_SECRETS`.
pub fn check_secret_name(name: &str) -> Result<(), HookError> {
    let ok = name.len() <= MAX_SECRET_NAME_LEN
        && name.len() > SECRET_NAME_SUFFIX.len()
        && name.ends_with(SECRET_NAME_SUFFIX)
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(HookError::SecretNameInvalid {
            name: name.chars().take(MAX_SECRET_NAME_LEN).collect(),
        })
    }
}

/// How `channel`'s codes go for a tenant: its own entry if it has one (a hook whose
/// secrets are read through `lookup` by name, or off), else the deployment's hook, else
/// the outbox when `dev_outbox`, else nothing.
pub fn resolve(
    channel: Channel,
    tenant: Option<&TenantHooks>,
    lookup: &dyn Fn(&str) -> Option<String>,
    dev_outbox: bool,
) -> Result<Route, ConfigError> {
    match tenant.and_then(|t| t.get(channel)) {
        None => Ok(route(deployment_hook(channel, lookup)?, dev_outbox)),
        Some(None) => Ok(Route::Unconfigured),
        Some(Some(hook)) => tenant_hook(channel, hook, lookup).map(Route::Hook),
    }
}

fn tenant_hook(
    channel: Channel,
    hook: &TenantHook,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<HookEndpoint, ConfigError> {
    let secrets = lookup(&hook.secret_name)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ConfigError {
            setting: hook.secret_name.clone(),
            error: HookError::SettingMissing {
                name: hook.secret_name.clone(),
            },
        })?;
    HookEndpoint::new(url_setting(channel), &hook.url, &hook.secret_name, &secrets)
}

/// How one channel's codes are sent.
#[derive(Debug, Clone)]
pub enum Route {
    /// POST to this hook.
    Hook(HookEndpoint),
    /// The dev outbox (only with dev routes on; codes stored in clear).
    Outbox,
    /// Nothing can send on this channel.
    Unconfigured,
}

impl Route {
    /// Whether codes can go out this way.
    pub fn can_send(&self) -> bool {
        !matches!(self, Route::Unconfigured)
    }
}

/// A hook when configured (it wins, even in development), else the outbox when dev
/// routes are on, else nothing.
pub fn route(hook: Option<HookEndpoint>, dev_outbox: bool) -> Route {
    match (hook, dev_outbox) {
        (Some(hook), _) => Route::Hook(hook),
        (None, true) => Route::Outbox,
        (None, false) => Route::Unconfigured,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn urls_must_be_https_except_loopback() {
        assert_eq!(
            check_url("https://hooks.example.com/sms").unwrap(),
            "https://hooks.example.com/sms"
        );
        for ok in [
            "http://127.0.0.1:8080/x",
            "http://localhost:9/",
            "http://[::1]/",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        let code = |u: &str| check_url(u).unwrap_err().code();
        assert_eq!(code("http://hooks.example.com/"), "hook.url_not_https");
        assert_eq!(code("http://127.0.0.2/"), "hook.url_not_https");
        assert_eq!(code("ftp://127.0.0.1/"), "hook.url_not_https");
        assert_eq!(code("/relative"), "hook.url_invalid");
        assert_eq!(code("https://user:pw@example.com/"), "hook.url_invalid");
        for unroutable in [
            "https://169.254.169.254/latest/meta-data/",
            "https://169.254.0.1/",
            "https://0.0.0.0/",
            "https://255.255.255.255/",
            "https://224.0.0.1/",
            "https://[fe80::1]/",
            "https://[::]/",
            "https://[::ffff:169.254.169.254]/",
            "https://[ff02::1]/",
        ] {
            assert_eq!(code(unroutable), "hook.url_invalid", "{unroutable}");
        }
        for fine in [
            "https://10.0.0.5/sms",
            "https://[2001:db8::1]/",
            "https://169.254.example/",
        ] {
            assert!(check_url(fine).is_ok(), "{fine}");
        }
        assert_eq!(code("https://example.com/#frag"), "hook.url_invalid");
        // No Unicode IDNA in the build: the punycode form is the way to name such a host.
        assert_eq!(
            check_url("https://xn--bcher-kva.example/h").unwrap(),
            "https://xn--bcher-kva.example/h"
        );
        let idn = check_url("https://bücher.example/h").unwrap_err();
        assert_eq!(idn.code(), "hook.url_invalid");
        assert!(idn.to_string().contains("`xn--` form"), "{idn}");
        assert_eq!(
            code(&format!("https://example.com/{}", "a".repeat(2048))),
            "hook.url_invalid"
        );
    }

    #[test]
    fn deployment_hooks_come_in_pairs_and_errors_name_the_setting() {
        assert!(deployment_hook(Channel::Sms, &env(&[])).unwrap().is_none());
        let hook = deployment_hook(
            Channel::Sms,
            &env(&[
                ("SMS_HOOK_URL", "https://sms.example.com/send"),
                ("SMS_HOOK_SECRETS", SECRET),
            ]),
        )
        .unwrap()
        .unwrap();
        assert_eq!(hook.url(), "https://sms.example.com/send");
        // The email channel does not read the SMS settings.
        assert!(
            deployment_hook(Channel::Email, &env(&[("SMS_HOOK_URL", "https://x.test/")]))
                .unwrap()
                .is_none()
        );
        let err = deployment_hook(Channel::Sms, &env(&[("SMS_HOOK_URL", "https://x.test/")]))
            .unwrap_err();
        assert_eq!(err.setting, "SMS_HOOK_URL");
        assert_eq!(err.error.code(), "hook.setting_missing");
        assert!(
            err.to_string().contains("`SMS_HOOK_SECRETS` is not set"),
            "{err}"
        );
        let err = deployment_hook(
            Channel::Email,
            &env(&[
                ("EMAIL_HOOK_URL", "https://mail.example.com/"),
                ("EMAIL_HOOK_SECRETS", "whsec_tooShort secret-value-xyz"),
            ]),
        )
        .unwrap_err();
        assert_eq!(err.setting, "EMAIL_HOOK_SECRETS");
        assert_eq!(err.error.code(), "hook.secret_invalid");
        assert!(!err.to_string().contains("tooShort"), "{err}");
        let err = deployment_hook(
            Channel::Email,
            &env(&[
                ("EMAIL_HOOK_URL", "http://mail.example.com/"),
                ("EMAIL_HOOK_SECRETS", SECRET),
            ]),
        )
        .unwrap_err();
        assert_eq!(
            (err.setting.as_str(), err.error.code()),
            ("EMAIL_HOOK_URL", "hook.url_not_https")
        );
    }

    #[test]
    fn a_tenant_document_names_secrets_and_wins_per_channel() {
        let key = "tenant/contoso/deliveryHooks";
        let doc = TenantHooks::parse(
            key,
            r#"{"sms": {"url": "https://sms.contoso.test/", "secretName": "CONTOSO_SMS_HOOK_SECRETS"}}"#,
        )
        .unwrap();
        let lookup = env(&[
            ("CONTOSO_SMS_HOOK_SECRETS", SECRET),
            ("EMAIL_HOOK_URL", "https://mail.example.com/"),
            ("EMAIL_HOOK_SECRETS", SECRET),
            ("SMS_HOOK_URL", "https://sms.example.com/"),
            ("SMS_HOOK_SECRETS", SECRET),
        ]);
        let url = |route: Route| match route {
            Route::Hook(hook) => hook.url().to_string(),
            other => format!("{other:?}"),
        };
        let sms = resolve(Channel::Sms, Some(&doc), &lookup, true).unwrap();
        assert_eq!(url(sms), "https://sms.contoso.test/");
        let email = resolve(Channel::Email, Some(&doc), &lookup, true).unwrap();
        assert_eq!(url(email), "https://mail.example.com/");
        // Without a deployment hook: the outbox in development, else nothing.
        assert!(matches!(
            resolve(Channel::Email, Some(&doc), &env(&[]), true),
            Ok(Route::Outbox)
        ));
        assert!(matches!(
            resolve(Channel::Email, None, &env(&[]), false),
            Ok(Route::Unconfigured)
        ));
        // `null` turns a channel off, whatever the deployment or the outbox offer.
        let off = TenantHooks::parse(key, r#"{"sms": null}"#).unwrap();
        assert!(matches!(
            resolve(Channel::Sms, Some(&off), &lookup, true),
            Ok(Route::Unconfigured)
        ));
        assert!(matches!(
            resolve(Channel::Email, Some(&off), &lookup, true),
            Ok(Route::Hook(_))
        ));
        // A named secret that is not set is an error, not the deployment's hook.
        let err = resolve(Channel::Sms, Some(&doc), &env(&[]), true).unwrap_err();
        assert_eq!(
            (err.setting.as_str(), err.error.code()),
            ("CONTOSO_SMS_HOOK_SECRETS", "hook.setting_missing")
        );
    }

    #[test]
    fn a_bad_tenant_document_is_refused_with_the_member_at_fault() {
        let key = "tenant/t/deliveryHooks";
        let check = |text: &str| {
            let e = TenantHooks::parse(key, text).unwrap_err();
            (e.setting, e.error.code())
        };
        assert_eq!(
            check(r#"{"sms": {"url": "https://x.test/", "secretName": "CODE_KEY"}}"#),
            (format!("{key}#sms.secretName"), "hook.secret_name_invalid")
        );
        assert_eq!(
            check(r#"{"email": {"url": "http://x.test/", "secretName": "A_HOOK_SECRETS"}}"#),
            (format!("{key}#email.url"), "hook.url_not_https")
        );
        assert_eq!(
            check(r#"{"sms": {"url": "https://x.test/", "secret": "whsec_x"}}"#).1,
            "hook.document_invalid"
        );
        assert_eq!(check(r#"{"fax": null}"#).1, "hook.document_invalid");
        assert_eq!(check("not json").1, "hook.document_invalid");
        // Lists would be read by position: `[]` as no hooks, `[{…}]` as the email hook.
        assert_eq!(check("[]").1, "hook.document_invalid");
        assert_eq!(
            check(r#"[{"url": "https://x.test/", "secretName": "A_HOOK_SECRETS"}]"#).1,
            "hook.document_invalid"
        );
        assert_eq!(
            check(r#"{"sms": ["https://x.test/", "A_HOOK_SECRETS"]}"#).1,
            "hook.document_invalid"
        );
        for name in [
            "_HOOK_SECRETS",
            "lower_HOOK_SECRETS",
            "A-B_HOOK_SECRETS",
            "SIGNING_KEYS",
        ] {
            assert!(check_secret_name(name).is_err(), "{name}");
        }
        assert!(check_secret_name("SMS_HOOK_SECRETS").is_ok());
        assert_eq!(
            TenantHooks::parse(key, "{}").unwrap(),
            TenantHooks::default()
        );
    }

    #[test]
    fn a_hook_wins_over_the_outbox() {
        let hook = HookEndpoint::new("U", "https://x.test/", "S", SECRET).unwrap();
        assert!(matches!(route(Some(hook.clone()), true), Route::Hook(_)));
        assert!(matches!(route(Some(hook), false), Route::Hook(_)));
        assert!(matches!(route(None, true), Route::Outbox));
        assert!(!route(None, false).can_send());
    }
}
