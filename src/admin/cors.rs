//! Which browser origins may call the admin API across origins (CORS).
//!
//! The admin API is closed to browsers by default: without the `ADMIN_CORS_ORIGINS`
//! variable no CORS header is ever sent, so a page on another origin cannot read an answer
//! or send the `Authorization` header (its preflight is refused). Local development sets
//! the variable to the demo's exact origin (`http://127.0.0.1:8080`), so the demo's
//! "Local Worker" switch can push the console's configuration with the admin credential the
//! person pastes in. Even then the credential is still required on every call: CORS only
//! lets that one origin read the answers.
//!
//! Only exact origins are accepted (scheme, host, optional port; no path, no wildcard), and
//! the answer names the one origin that asked (with `Vary: Origin`), never `*`.

/// The methods and headers a preflight allows: what the admin API serves and needs.
pub const ALLOW_METHODS: &str = "GET, POST, PATCH, DELETE, OPTIONS";
/// See [`ALLOW_METHODS`].
pub const ALLOW_HEADERS: &str = "authorization, content-type";

/// The origin to echo in `Access-Control-Allow-Origin`, if `origin` (the request's
/// `Origin` header) is one of `configured` (comma or space separated exact origins).
pub fn allowed_origin<'a>(configured: Option<&str>, origin: Option<&'a str>) -> Option<&'a str> {
    let origin = origin?;
    if !is_exact_origin(origin) {
        return None;
    }
    configured?
        .split([',', ' '])
        .map(str::trim)
        .filter(|c| is_exact_origin(c))
        .any(|c| c.eq_ignore_ascii_case(origin))
        .then_some(origin)
}

/// `http(s)://host[:port]` with nothing after it: no path, query, userinfo or wildcard.
fn is_exact_origin(s: &str) -> bool {
    let Some(rest) = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
    else {
        return false;
    };
    !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = "http://127.0.0.1:8080";

    #[test]
    fn closed_when_not_configured() {
        assert_eq!(allowed_origin(None, Some(DEMO)), None);
        assert_eq!(allowed_origin(Some(""), Some(DEMO)), None);
    }

    #[test]
    fn listed_origin_is_echoed() {
        assert_eq!(allowed_origin(Some(DEMO), Some(DEMO)), Some(DEMO));
        let list = "https://admin.example, http://127.0.0.1:8080";
        assert_eq!(allowed_origin(Some(list), Some(DEMO)), Some(DEMO));
    }

    #[test]
    fn other_origins_and_no_origin_are_refused() {
        assert_eq!(
            allowed_origin(Some(DEMO), Some("http://127.0.0.1:8081")),
            None
        );
        assert_eq!(
            allowed_origin(Some(DEMO), Some("http://evil.example")),
            None
        );
        assert_eq!(allowed_origin(Some(DEMO), None), None);
        assert_eq!(allowed_origin(Some(DEMO), Some("null")), None);
    }

    #[test]
    fn wildcards_and_paths_never_match() {
        assert_eq!(allowed_origin(Some("*"), Some(DEMO)), None);
        assert_eq!(allowed_origin(Some("*"), Some("*")), None);
        let with_path = "http://127.0.0.1:8080/www/";
        assert_eq!(allowed_origin(Some(with_path), Some(with_path)), None);
    }
}
