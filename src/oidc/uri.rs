//! Just enough URI parsing to vet issuers, endpoints and redirect URIs (RFC 3986), without
//! pulling a URL crate into the wasm module. Nothing here normalizes: redirect URIs are
//! compared byte for byte elsewhere, so this only decides what may be configured.

/// The parts of an absolute URI the checks need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Parts<'a> {
    /// The scheme, lowercase not guaranteed.
    pub scheme: &'a str,
    /// The host of a hierarchical (`//`) URI, brackets kept for IPv6; `None` otherwise.
    pub host: Option<&'a str>,
    /// Whether a `?` query is present.
    pub has_query: bool,
    /// Whether a `#` fragment is present.
    pub has_fragment: bool,
}

/// Longest URI accepted anywhere in configuration.
pub(crate) const MAX_URI_LEN: usize = 2048;

/// Splits an absolute URI, or `None` if it is not one we could ever serve: too long, with
/// whitespace or control characters, a malformed scheme, userinfo (`user@host`), an empty
/// host or a non-numeric port.
pub(crate) fn parse(uri: &str) -> Option<Parts<'_>> {
    if uri.is_empty() || uri.len() > MAX_URI_LEN {
        return None;
    }
    if uri.bytes().any(|b| !b.is_ascii_graphic()) {
        return None;
    }
    let (scheme, rest) = uri.split_once(':')?;
    let mut scheme_bytes = scheme.bytes();
    let first_ok = scheme_bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
    if !first_ok
        || !scheme_bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    {
        return None;
    }
    let has_query = rest.contains('?');
    let has_fragment = rest.contains('#');
    let host = match rest.strip_prefix("//") {
        Some(after) => {
            let authority = after.split(['/', '?', '#']).next().unwrap_or_default();
            if authority.contains('@') {
                return None;
            }
            let (host, port) = if authority.starts_with('[') {
                let end = authority.find(']')?;
                let host = authority.get(..=end)?;
                let port = authority.get(end.saturating_add(1)..)?;
                (host, port.strip_prefix(':'))
            } else {
                match authority.split_once(':') {
                    Some((host, port)) => (host, Some(port)),
                    None => (authority, None),
                }
            };
            if host.is_empty()
                || port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
            {
                return None;
            }
            Some(host)
        }
        None => None,
    };
    Some(Parts {
        scheme,
        host,
        has_query,
        has_fragment,
    })
}

/// Whether `host` is the local machine, where plain `http` is acceptable (development,
/// and native apps' loopback redirects per RFC 8252 §7.3).
pub(crate) fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host == "127.0.0.1" || host == "[::1]"
}

/// Whether this is an `https` URL, or `http` on a loopback host.
pub(crate) fn is_web_url(parts: &Parts<'_>) -> bool {
    match parts.host {
        Some(host) if parts.scheme.eq_ignore_ascii_case("https") => !host.is_empty(),
        Some(host) if parts.scheme.eq_ignore_ascii_case("http") => is_loopback(host),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_uris_split_into_the_parts_we_check() {
        let p = parse("https://login.example.com:8443/t/v2.0?x=1#f").unwrap();
        assert_eq!(p.scheme, "https");
        assert_eq!(p.host, Some("login.example.com"));
        assert!(p.has_query && p.has_fragment);
        let p = parse("http://[::1]:3000/cb").unwrap();
        assert_eq!(p.host, Some("[::1]"));
        assert!(is_web_url(&p));
        let p = parse("msauth.com.example.app://auth").unwrap();
        assert_eq!(p.scheme, "msauth.com.example.app");
        assert_eq!(p.host, Some("auth"));
        let p = parse("com.example.app:/oauth2redirect").unwrap();
        assert_eq!(p.host, None);
    }

    #[test]
    fn unusable_uris_are_refused() {
        for uri in [
            "",
            "no-scheme",
            "1http://x",
            "https://",
            "https://user@host/",
            "https://host:/",
            "https://host:80a/",
            "https://ho st/",
            "https://host/\n",
            "https://[::1/",
        ] {
            assert!(parse(uri).is_none(), "{uri}");
        }
        assert!(parse(&format!("https://h/{}", "a".repeat(MAX_URI_LEN))).is_none());
    }

    #[test]
    fn http_is_a_web_url_only_on_loopback() {
        for (uri, ok) in [
            ("https://example.com", true),
            ("http://localhost:8787/cb", true),
            ("http://127.0.0.1/cb", true),
            ("http://example.com/cb", false),
            ("http://127.0.0.2/cb", false),
            ("ftp://example.com", false),
        ] {
            assert_eq!(is_web_url(&parse(uri).unwrap()), ok, "{uri}");
        }
    }
}
