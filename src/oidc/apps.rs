//! App registrations: the Graph `application` shape the admin API stores, the checks a
//! registration must pass, and the client the authorization endpoint builds from it.
//!
//! Only the members Vestibule acts on are checked (`displayName`, `appId`, and the
//! redirect URIs of `spa`, `web` and `publicClient`); other Graph members are kept as
//! written. `appId` is the OAuth `client_id`: an admin may choose it (e.g. to keep the
//! id an Entra app already has), else the server assigns a GUID.
//!
//! A tenant with no registration still has the built-in demo client
//! ([`crate::native::defaults::DEMO_CLIENT_ID`]), whose redirect URIs are any loopback
//! IP address and port (RFC 8252 §7.3), so a local app works without set-up.

use super::redirect::validate_redirect_uri;
use super::uri;
use crate::error::ErrorBody;
use crate::flow::FlowConfig;
use crate::flow::config::ApplicationRef;
use serde_json::Value;

/// Most redirect URIs one registration may hold (Entra allows 256 in total).
pub const MAX_REDIRECT_URIS: usize = 256;
/// Longest `displayName`.
pub const MAX_DISPLAY_NAME: usize = 256;

/// The three platforms whose redirect URIs Graph keeps apart.
pub const PLATFORMS: [&str; 3] = ["spa", "web", "publicClient"];

/// A client the authorization endpoint can serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// `client_id`.
    pub app_id: String,
    /// Display name for the hosted pages.
    pub display_name: String,
    /// Where codes may be sent.
    pub redirects: Redirects,
}

/// A client's redirect URI rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redirects {
    /// Registered URIs: exact match, except that a loopback IP literal on `http` matches
    /// with any port (RFC 8252 §7.3: native apps listen on an ephemeral port).
    Registered(Vec<String>),
    /// The demo client: any `http://127.0.0.1:{port}/…` or `http://[::1]:{port}/…`.
    AnyLoopback,
}

impl Client {
    /// The built-in demo client every tenant has.
    pub fn demo() -> Client {
        Client {
            app_id: crate::native::defaults::DEMO_CLIENT_ID.to_string(),
            display_name: "Vestibule demo app".to_string(),
            redirects: Redirects::AnyLoopback,
        }
    }

    /// Whether a code may be sent to `presented`.
    pub fn allows_redirect(&self, presented: &str) -> bool {
        if validate_redirect_uri(presented).is_err() {
            return false;
        }
        match &self.redirects {
            Redirects::Registered(list) => list
                .iter()
                .any(|r| r == presented || loopback_port_free_match(r, presented)),
            Redirects::AnyLoopback => loopback_ip(presented).is_some(),
        }
    }

    /// The client for a stored registration, if it has an `appId`.
    pub fn from_application(app: &Value) -> Option<Client> {
        let app_id = app.get("appId")?.as_str()?.to_string();
        let display_name = app
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or(&app_id)
            .to_string();
        Some(Client {
            app_id,
            display_name,
            redirects: Redirects::Registered(redirect_uris(app)),
        })
    }
}

/// The client `client_id` names: a registration of the tenant, else the demo client when
/// asked for by its id. A registration may not take the demo client's id.
pub fn find_client(applications: &[Value], client_id: &str) -> Option<Client> {
    applications
        .iter()
        .filter_map(Client::from_application)
        .find(|c| c.app_id == client_id)
        .or_else(|| (client_id == crate::native::defaults::DEMO_CLIENT_ID).then(Client::demo))
}

/// The tenant's user flow as it serves a registered app. Registering an app in a tenant
/// is what assigns it to the tenant's user flow here (Entra adds apps to a user flow in
/// a separate step; with one flow per tenant that step would only be a second place to
/// forget). `None` when the flow serves the app already.
pub fn flow_serving(config: &FlowConfig, app_id: &str) -> Option<FlowConfig> {
    if config.user_flow.serves(app_id) {
        return None;
    }
    let mut config = config.clone();
    let conditions = config
        .user_flow
        .conditions
        .get_or_insert_with(Default::default);
    conditions
        .applications
        .get_or_insert_with(Default::default)
        .include_applications
        .push(ApplicationRef {
            app_id: app_id.to_string(),
        });
    Some(config)
}

/// Every redirect URI of a registration, across the three platforms.
pub fn redirect_uris(app: &Value) -> Vec<String> {
    PLATFORMS
        .iter()
        .filter_map(|p| app.get(*p)?.get("redirectUris")?.as_array())
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// `(scheme-and-host, rest after the port)` of an `http` loopback IP URI, else `None`.
fn loopback_ip(candidate: &str) -> Option<(&str, &str)> {
    let parts = uri::parse(candidate)?;
    if !parts.scheme.eq_ignore_ascii_case("http") {
        return None;
    }
    let host = parts.host?;
    if host != "127.0.0.1" && host != "[::1]" {
        return None;
    }
    let after_scheme = candidate.get("http://".len()..)?;
    let after_host = after_scheme.get(host.len()..)?;
    let rest = match after_host.strip_prefix(':') {
        Some(port_and_rest) => {
            let end = port_and_rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(port_and_rest.len());
            port_and_rest.get(end..)?
        }
        None => after_host,
    };
    Some((host, rest))
}

fn loopback_port_free_match(registered: &str, presented: &str) -> bool {
    match (loopback_ip(registered), loopback_ip(presented)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Checks a complete registration (after the server set `id` and, if absent, `appId`)
/// and lists every problem: the admin API's validator.
pub fn validate_application(app: &Value) -> Result<(), Vec<ErrorBody>> {
    let mut problems = Vec::new();
    let Some(map) = app.as_object() else {
        return Err(vec![ErrorBody::new(
            "app.not_object",
            "an application must be a JSON object",
        )]);
    };
    match map.get("displayName") {
        Some(Value::String(name))
            if !name.trim().is_empty() && name.chars().count() <= MAX_DISPLAY_NAME => {}
        _ => problems.push(
            ErrorBody::new(
                "app.display_name_invalid",
                format!("`displayName` must be a non-empty string of at most {MAX_DISPLAY_NAME} characters"),
            )
            .at("displayName"),
        ),
    }
    match map.get("appId") {
        Some(Value::String(id)) if client_id_ok(id) => {
            if id == crate::native::defaults::DEMO_CLIENT_ID {
                problems.push(
                    ErrorBody::new(
                        "app.app_id_reserved",
                        format!("`{id}` is the built-in demo client; choose another appId"),
                    )
                    .at("appId"),
                );
            }
        }
        _ => problems.push(
            ErrorBody::new(
                "app.app_id_invalid",
                "`appId` must be 1 to 128 characters from [A-Za-z0-9._-]",
            )
            .at("appId"),
        ),
    }
    let mut total = 0usize;
    for platform in PLATFORMS {
        let Some(section) = map.get(platform) else {
            continue;
        };
        let Some(section) = section.as_object() else {
            problems.push(
                ErrorBody::new(
                    "app.platform_invalid",
                    format!("`{platform}` must be an object with `redirectUris`"),
                )
                .at(platform),
            );
            continue;
        };
        let Some(uris) = section.get("redirectUris") else {
            continue;
        };
        let Some(uris) = uris.as_array() else {
            problems.push(
                ErrorBody::new(
                    "app.redirect_uris_invalid",
                    "`redirectUris` must be an array of strings",
                )
                .at(format!("{platform}.redirectUris")),
            );
            continue;
        };
        total = total.saturating_add(uris.len());
        for (i, uri) in uris.iter().enumerate() {
            let target = format!("{platform}.redirectUris[{i}]");
            match uri.as_str() {
                Some(text) => {
                    if let Err(e) = validate_redirect_uri(text) {
                        problems.push(ErrorBody::from(e).at(target));
                    } else if platform != "publicClient" && !is_web(text) {
                        problems.push(
                            ErrorBody::new(
                                "app.redirect_uri_platform",
                                format!(
                                    "redirect uri `{}` uses a custom scheme, which only `publicClient` may register",
                                    crate::token::err::shorten(text, 120)
                                ),
                            )
                            .at(target),
                        );
                    }
                }
                None => problems.push(
                    ErrorBody::new(
                        "app.redirect_uris_invalid",
                        "a redirect uri must be a string",
                    )
                    .at(target),
                ),
            }
        }
    }
    if total > MAX_REDIRECT_URIS {
        problems.push(ErrorBody::new(
            "app.too_many_redirect_uris",
            format!("an application may register at most {MAX_REDIRECT_URIS} redirect uris"),
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The whole tenant after a write: each `appId` at most once.
pub fn validate_tenant_apps(apps: &[Value]) -> Result<(), Vec<ErrorBody>> {
    let mut seen = std::collections::BTreeSet::new();
    let mut problems = Vec::new();
    for (i, app) in apps.iter().enumerate() {
        if let Some(id) = app.get("appId").and_then(Value::as_str)
            && !seen.insert(id)
        {
            problems.push(
                ErrorBody::new(
                    "app.app_id_duplicate",
                    format!("another application already has the appId `{id}`"),
                )
                .at(format!("[{i}].appId")),
            );
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn is_web(text: &str) -> bool {
    uri::parse(text).is_some_and(|p| uri::is_web_url(&p))
}

/// The `client_id` shape the token endpoint also accepts.
pub fn client_id_ok(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn app(redirects: Value) -> Value {
        let mut v = json!({"id": "x", "appId": "shop", "displayName": "Shop"});
        for (k, val) in redirects.as_object().unwrap() {
            v[k] = val.clone();
        }
        v
    }

    #[test]
    fn a_good_registration_passes_and_becomes_a_client() {
        let a = app(json!({
            "spa": {"redirectUris": ["https://shop.example.com/cb"]},
            "web": {"redirectUris": []},
            "publicClient": {"redirectUris": ["http://127.0.0.1/cb", "com.example.shop:/auth"]}
        }));
        assert_eq!(validate_application(&a), Ok(()));
        let c = find_client(&[a], "shop").unwrap();
        assert!(c.allows_redirect("https://shop.example.com/cb"));
        assert!(c.allows_redirect("com.example.shop:/auth"));
        // RFC 8252 §7.3: any port on a registered loopback IP redirect.
        assert!(c.allows_redirect("http://127.0.0.1:53127/cb"));
        assert!(!c.allows_redirect("http://127.0.0.1:53127/other"));
        assert!(!c.allows_redirect("https://shop.example.com/cb/"));
        assert!(!c.allows_redirect("https://shop.example.com/cb?x=1"));
        assert!(!c.allows_redirect("http://localhost:53127/cb"));
    }

    #[test]
    fn bad_registrations_list_every_problem() {
        let a = json!({
            "id": "x", "appId": "bad id", "displayName": "",
            "spa": {"redirectUris": ["javascript:alert(1)", "http://evil.example.com/cb", 3, "msauth.x://a"]},
            "web": "nope"
        });
        let problems = validate_application(&a).unwrap_err();
        let codes: Vec<(&str, Option<&str>)> = problems
            .iter()
            .map(|p| (p.code.as_str(), p.target.as_deref()))
            .collect();
        assert_eq!(
            codes,
            [
                ("app.display_name_invalid", Some("displayName")),
                ("app.app_id_invalid", Some("appId")),
                ("oidc.redirect_uri_invalid", Some("spa.redirectUris[0]")),
                ("oidc.redirect_uri_invalid", Some("spa.redirectUris[1]")),
                ("app.redirect_uris_invalid", Some("spa.redirectUris[2]")),
                ("app.redirect_uri_platform", Some("spa.redirectUris[3]")),
                ("app.platform_invalid", Some("web")),
            ]
        );
        let reserved = json!({"appId": "vestibule-demo-app", "displayName": "x"});
        assert_eq!(
            validate_application(&reserved).unwrap_err()[0].code,
            "app.app_id_reserved"
        );
    }

    #[test]
    fn a_registered_app_is_served_by_the_tenant_flow() {
        let builtin = crate::native::defaults::builtin_flow_config().unwrap();
        assert!(flow_serving(&builtin, "vestibule-demo-app").is_none());
        let served = flow_serving(&builtin, "shop").unwrap();
        assert!(served.user_flow.serves("shop"));
        assert!(served.user_flow.serves("vestibule-demo-app"));
        assert!(!builtin.user_flow.serves("shop"));
    }

    #[test]
    fn app_ids_are_unique_per_tenant() {
        let a = json!({"appId": "a"});
        assert!(validate_tenant_apps(&[a.clone(), json!({"appId": "b"})]).is_ok());
        let e = validate_tenant_apps(&[a.clone(), a]).unwrap_err();
        assert_eq!(e[0].code, "app.app_id_duplicate");
    }

    #[test]
    fn the_demo_client_takes_any_loopback_ip_port_and_nothing_else() {
        let c = find_client(&[], "vestibule-demo-app").unwrap();
        for ok in [
            "http://127.0.0.1:8400/cb",
            "http://127.0.0.1/",
            "http://[::1]:3000/callback?x=1",
        ] {
            assert!(c.allows_redirect(ok), "{ok}");
        }
        for bad in [
            "http://localhost:8400/cb",
            "https://127.0.0.1:8400/cb",
            "http://127.0.0.2:8400/cb",
            "http://127.0.0.1:8400/cb#f",
            "http://127.0.0.1.evil.com/cb",
            "https://app.example.com/cb",
            "javascript:alert(1)",
        ] {
            assert!(!c.allows_redirect(bad), "{bad}");
        }
        assert!(find_client(&[], "unknown").is_none());
    }
}
