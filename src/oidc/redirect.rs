//! Redirect URIs: what may be registered, and the exact-match check at the authorization
//! endpoint.
//!
//! Matching is byte-for-byte against the registered list (OAuth 2.0 Security BCP,
//! RFC 9700 §4.1.3): no prefix, wildcard, case or trailing-slash leniency, because each
//! such leniency has been an open redirector that leaks codes. The one variation the BCP
//! allows, any port on a loopback IP redirect for native apps (RFC 8252 §7.3), is applied
//! by the authorization endpoint's client check ([`super::apps::Client::allows_redirect`]),
//! not here.

use super::err::OidcError;
use super::uri;
use crate::token::err::shorten;

/// Schemes that can run code or read local data in a browser; never a redirect target.
const DANGEROUS_SCHEMES: [&str; 6] = ["javascript", "data", "vbscript", "file", "about", "blob"];

/// Whether `presented` is exactly one of the `registered` redirect URIs.
pub fn redirect_uri_allowed(registered: &[String], presented: &str) -> bool {
    registered.iter().any(|r| r == presented)
}

/// Whether `candidate` may be registered as a redirect URI:
/// - an absolute URI with no fragment (RFC 6749 §3.1.2) and no `*` (no wildcards);
/// - `https`, or `http` on a loopback host only (development, native apps);
/// - or a private-use scheme for native apps (e.g. `msauth.com.example.app://auth`,
///   RFC 8252 §7.1), except schemes that run code or read local data (`javascript`,
///   `data`, `file`, ...).
pub fn validate_redirect_uri(candidate: &str) -> Result<(), OidcError> {
    let invalid = |reason| OidcError::RedirectUriInvalid {
        value: shorten(candidate, 120),
        reason,
    };
    let parts = uri::parse(candidate).ok_or(invalid("not an absolute uri"))?;
    if parts.has_fragment {
        return Err(invalid("must have no fragment"));
    }
    if candidate.contains('*') {
        return Err(invalid("wildcards are not allowed"));
    }
    let scheme = parts.scheme;
    if scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http") {
        return if uri::is_web_url(&parts) {
            Ok(())
        } else {
            Err(invalid(
                "http is allowed only on localhost, 127.0.0.1 or [::1]",
            ))
        };
    }
    if DANGEROUS_SCHEMES
        .iter()
        .any(|s| scheme.eq_ignore_ascii_case(s))
    {
        return Err(invalid("this scheme can run code or read local data"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_exact_match_is_allowed() {
        let registered = vec![
            "https://app.example.com/callback".to_string(),
            "http://localhost:3000".to_string(),
        ];
        assert!(redirect_uri_allowed(
            &registered,
            "https://app.example.com/callback"
        ));
        assert!(redirect_uri_allowed(&registered, "http://localhost:3000"));
        for near_miss in [
            "https://app.example.com/callback/",
            "https://app.example.com/callback?x=1",
            "https://APP.example.com/callback",
            "https://app.example.com/callbac",
            "https://app.example.com/callback/../evil",
            "https://app.example.com.evil.com/callback",
            "http://localhost:3001",
            "http://localhost:3000/",
            "",
        ] {
            assert!(!redirect_uri_allowed(&registered, near_miss), "{near_miss}");
        }
        assert!(!redirect_uri_allowed(
            &[],
            "https://app.example.com/callback"
        ));
    }

    #[test]
    fn registration_accepts_web_and_native_uris() {
        for uri in [
            "https://app.example.com/callback",
            "https://app.example.com/cb?tenant=contoso",
            "http://localhost:3000",
            "http://127.0.0.1:8400/cb",
            "http://[::1]/cb",
            "msauth.com.example.app://auth",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(validate_redirect_uri(uri).is_ok(), "{uri}");
        }
    }

    #[test]
    fn registration_refuses_dangerous_uris() {
        for uri in [
            "https://app.example.com/cb#frag",
            "https://*.example.com/cb",
            "http://app.example.com/cb",
            "javascript:alert(1)",
            "JavaScript://x/%0aalert(1)",
            "data:text/html,hi",
            "file:///etc/passwd",
            "/relative/path",
            "https://user@app.example.com/cb",
        ] {
            let err = validate_redirect_uri(uri).unwrap_err();
            assert_eq!(err.code(), "oidc.redirect_uri_invalid", "{uri}");
        }
    }
}
