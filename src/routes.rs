//! Which of the Worker's handlers serves a request: a fixed table over the method and the
//! path's segments.
//!
//! Why not the `worker` crate's `Router`: it builds its route trees on every request, which
//! the isolate CPU profile of `scripts/bench-cpu.sh` put at ~0.15–0.2 ms of each request,
//! a tenth of a native-auth step. The table is small and fixed, so a match is enough, and
//! being pure it is tested here without a runtime.

/// A handler of the Worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    /// `GET /healthz`.
    Healthz,
    /// `GET /_dev/kv/{key}`.
    DevKvGet,
    /// `PUT /_dev/kv/{key}`.
    DevKvPut,
    /// `POST /_dev/fetch`.
    DevFetch,
    /// `GET /_dev/outbox`.
    DevOutbox,
    /// `PUT /_dev/native/{tenant}/flow-config`.
    DevFlowConfig,
    /// `PUT /_dev/native/{tenant}/users/{id}/lockout` (tests: a stale user record).
    DevUserLockout,
    /// `GET`/`PUT /_dev/native/{tenant}/users/{id}/record` (tests: a user record as KV
    /// stores it, and an older one written back as KV elsewhere may still show it).
    DevUserRecord,
    /// `/v1.0/{rest}` and `/{tenant}/v1.0/{rest}`: the Graph-shaped admin API.
    Admin,
    /// `GET /{tenant}/v2.0/.well-known/openid-configuration`.
    Discovery,
    /// `GET /{tenant}/discovery/v2.0/keys`.
    Jwks,
    /// `/{tenant}/oauth2/v2.0/authorize`.
    Authorize,
    /// `POST /{tenant}/oidc/interaction`: the hosted pages' form posts.
    Interaction,
    /// `/{tenant}/oidc/userinfo`.
    Userinfo,
    /// `/{tenant}/oauth2/v2.0/logout`: RP-initiated logout.
    Logout,
    /// The native authentication API (`oauth2/v2.0`, `signup/v1.0`, `resetpassword/v1.0`,
    /// `register/v1.0`).
    Native,
}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routed {
    /// To a handler, with the path's named segments (`tenant`, `op`, `key`, `rest`).
    To(Handler, Vec<(&'static str, String)>),
    /// The path is known but not for this method.
    MethodNotAllowed,
    /// No such path.
    NotFound,
}

/// The handler for `method` (upper case, as HTTP writes it) and `path` (as received, not
/// percent-decoded).
pub fn route(method: &str, path: &str) -> Routed {
    let Some(rest) = path.strip_prefix('/') else {
        return Routed::NotFound;
    };
    let segments: Vec<&str> = rest.split('/').collect();
    dev_or_root(method, &segments)
        .or_else(|| tenant_route(method, &segments))
        .unwrap_or(Routed::NotFound)
}

/// Only `allowed` serves this path.
fn only(method: &str, allowed: &str, to: Routed) -> Routed {
    if method == allowed {
        to
    } else {
        Routed::MethodNotAllowed
    }
}

fn to(handler: Handler, params: &[(&'static str, &str)]) -> Routed {
    Routed::To(
        handler,
        params.iter().map(|(k, v)| (*k, (*v).to_string())).collect(),
    )
}

/// Paths without a tenant segment.
fn dev_or_root(method: &str, segments: &[&str]) -> Option<Routed> {
    Some(match segments {
        ["healthz"] => only(method, "GET", to(Handler::Healthz, &[])),
        ["_dev", "kv", key] if !key.is_empty() => match method {
            "GET" => to(Handler::DevKvGet, &[("key", key)]),
            "PUT" => to(Handler::DevKvPut, &[("key", key)]),
            _ => Routed::MethodNotAllowed,
        },
        ["_dev", "fetch"] => only(method, "POST", to(Handler::DevFetch, &[])),
        ["_dev", "outbox"] => only(method, "GET", to(Handler::DevOutbox, &[])),
        ["_dev", "native", tenant, "flow-config"] if !tenant.is_empty() => only(
            method,
            "PUT",
            to(Handler::DevFlowConfig, &[("tenant", tenant)]),
        ),
        ["_dev", "native", tenant, "users", id, "lockout"] if !tenant.is_empty() => only(
            method,
            "PUT",
            to(Handler::DevUserLockout, &[("tenant", tenant), ("key", id)]),
        ),
        ["_dev", "native", tenant, "users", id, "record"] if !tenant.is_empty() => match method {
            "GET" | "PUT" => to(Handler::DevUserRecord, &[("tenant", tenant), ("key", id)]),
            _ => Routed::MethodNotAllowed,
        },
        ["v1.0", rest @ ..] if rest != [""] && !rest.is_empty() => {
            to(Handler::Admin, &[("rest", &rest.join("/"))])
        }
        _ => return None,
    })
}

/// Paths under `/{tenant}/`.
fn tenant_route(method: &str, segments: &[&str]) -> Option<Routed> {
    let (tenant, rest) = segments.split_first()?;
    if tenant.is_empty() {
        return None;
    }
    let t = [("tenant", *tenant)];
    Some(match rest {
        ["v1.0", rest @ ..] if rest != [""] && !rest.is_empty() => to(
            Handler::Admin,
            &[("tenant", tenant), ("rest", &rest.join("/"))],
        ),
        ["v2.0", ".well-known", "openid-configuration"] => {
            only(method, "GET", to(Handler::Discovery, &t))
        }
        ["discovery", "v2.0", "keys"] => only(method, "GET", to(Handler::Jwks, &t)),
        ["oauth2", "v2.0", "authorize"] => to(Handler::Authorize, &t),
        ["oauth2", "v2.0", "logout"] => to(Handler::Logout, &t),
        ["oidc", "interaction"] => only(method, "POST", to(Handler::Interaction, &t)),
        ["oidc", "userinfo"] => to(Handler::Userinfo, &t),
        ["oauth2", "v2.0", op] | ["signup" | "resetpassword" | "register", "v1.0", op]
            if !op.is_empty() =>
        {
            to(Handler::Native, &[("tenant", tenant), ("op", op)])
        }
        _ => return None,
    })
}

/// The tenant a tenant name stands for (the KV keys of its data), or `None` when `name`
/// cannot be one. Names are DNS-label-like (`contoso`, `contoso.onmicrosoft.com`, a GUID),
/// so they are safe inside KV keys and cannot smuggle `/`; case is ignored, as in host names
/// and Entra's tenant names. Used for the path's segment and for `DEFAULT_TENANT` alike, so
/// `/v1.0/…` and `/{DEFAULT_TENANT}/…` always reach one tenant.
pub fn tenant_key(name: &str) -> Option<String> {
    let valid = (1..=100).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !name.starts_with('.');
    valid.then(|| name.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handler(method: &str, path: &str) -> Option<Handler> {
        match route(method, path) {
            Routed::To(h, _) => Some(h),
            _ => None,
        }
    }

    fn params(method: &str, path: &str) -> Vec<(&'static str, String)> {
        match route(method, path) {
            Routed::To(_, p) => p,
            _ => Vec::new(),
        }
    }

    #[test]
    fn every_route_reaches_its_handler() {
        let cases = [
            ("GET", "/healthz", Handler::Healthz),
            ("GET", "/_dev/kv/a", Handler::DevKvGet),
            ("PUT", "/_dev/kv/a", Handler::DevKvPut),
            ("POST", "/_dev/fetch", Handler::DevFetch),
            ("GET", "/_dev/outbox", Handler::DevOutbox),
            ("PUT", "/_dev/native/t/flow-config", Handler::DevFlowConfig),
            (
                "PUT",
                "/_dev/native/t/users/u-1/lockout",
                Handler::DevUserLockout,
            ),
            (
                "GET",
                "/_dev/native/t/users/u-1/record",
                Handler::DevUserRecord,
            ),
            (
                "PUT",
                "/_dev/native/t/users/u-1/record",
                Handler::DevUserRecord,
            ),
            (
                "GET",
                "/v1.0/identity/conditionalAccess/policies",
                Handler::Admin,
            ),
            ("DELETE", "/t/v1.0/applications/x", Handler::Admin),
            (
                "GET",
                "/t/v2.0/.well-known/openid-configuration",
                Handler::Discovery,
            ),
            ("GET", "/t/discovery/v2.0/keys", Handler::Jwks),
            ("GET", "/t/oauth2/v2.0/authorize", Handler::Authorize),
            ("POST", "/t/oauth2/v2.0/authorize", Handler::Authorize),
            ("GET", "/t/oauth2/v2.0/logout", Handler::Logout),
            ("POST", "/t/oidc/interaction", Handler::Interaction),
            ("GET", "/t/oidc/userinfo", Handler::Userinfo),
            ("POST", "/t/oauth2/v2.0/initiate", Handler::Native),
            ("POST", "/t/oauth2/v2.0/token", Handler::Native),
            ("OPTIONS", "/t/signup/v1.0/start", Handler::Native),
            (
                "POST",
                "/t/resetpassword/v1.0/poll_completion",
                Handler::Native,
            ),
            ("POST", "/t/register/v1.0/introspect", Handler::Native),
        ];
        for (method, path, expected) in cases {
            assert_eq!(handler(method, path), Some(expected), "{method} {path}");
        }
    }

    #[test]
    fn named_segments_are_passed_as_received() {
        assert_eq!(
            params("POST", "/Contoso/oauth2/v2.0/initiate"),
            vec![
                ("tenant", "Contoso".to_string()),
                ("op", "initiate".to_string())
            ]
        );
        assert_eq!(
            params("GET", "/t/v1.0/identity/conditionalAccess/policies/p%201"),
            vec![
                ("tenant", "t".to_string()),
                (
                    "rest",
                    "identity/conditionalAccess/policies/p%201".to_string()
                )
            ]
        );
        assert_eq!(params("GET", "/_dev/kv/k"), vec![("key", "k".to_string())]);
    }

    #[test]
    fn a_known_path_with_another_method_is_not_allowed() {
        for (method, path) in [
            ("POST", "/healthz"),
            ("DELETE", "/_dev/kv/a"),
            ("GET", "/_dev/fetch"),
            ("POST", "/t/discovery/v2.0/keys"),
            ("GET", "/t/oidc/interaction"),
        ] {
            assert_eq!(
                route(method, path),
                Routed::MethodNotAllowed,
                "{method} {path}"
            );
        }
    }

    #[test]
    fn anything_else_is_not_found() {
        for path in [
            "",
            "/",
            "/healthz/",
            "//healthz",
            "/v1.0",
            "/v1.0/",
            "/t",
            "/t/oauth2/v2.0",
            "/t/oauth2/v2.0/",
            "/t/oauth2/v1.0/initiate",
            "/t/signup/v2.0/start",
            "/t/oauth2/v2.0/token/extra",
            "//oauth2/v2.0/token",
            "/_dev/kv/",
            "/t/unknown/v1.0/x",
        ] {
            assert_eq!(route("GET", path), Routed::NotFound, "{path}");
        }
    }
    #[test]
    fn a_tenant_name_is_its_lowercase_key_and_nothing_else_is_one() {
        assert_eq!(tenant_key("Contoso").as_deref(), Some("contoso"));
        assert_eq!(
            tenant_key("contoso.onmicrosoft.com").as_deref(),
            Some("contoso.onmicrosoft.com")
        );
        let guid = "0B8E1C2A-0000-4000-8000-00000000000A";
        assert_eq!(
            tenant_key(guid).as_deref(),
            Some("0b8e1c2a-0000-4000-8000-00000000000a")
        );
        for bad in [
            "",
            ".contoso",
            "a/b",
            "a%2Fb",
            "con_toso",
            "ünï",
            &"a".repeat(101),
        ] {
            assert_eq!(tenant_key(bad), None, "{bad}");
        }
    }
}
