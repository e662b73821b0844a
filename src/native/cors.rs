//! Which request headers a browser may send to native auth across origins. MSAL sends a
//! fixed set (reference §1), and its `customAuth.requestInterceptor` lets an app add its
//! own `x-` headers (MSAL's `CustomHeaderUtils` refuses only its reserved ones). A
//! preflight that allowed the fixed set alone made such an app fail in the browser before
//! any request was sent. The endpoints take no cookies or credentials, so letting a page
//! send an extra `x-` header grants it nothing; names are still checked, so the answer
//! echoes only well-formed header names.

/// Headers MSAL sends, always allowed.
pub const ALLOW_HEADERS: &str = "content-type, x-client-sku, x-client-ver, x-client-os, x-client-cpu, \
x-client-current-telemetry, x-client-last-telemetry, client-request-id, x-ms-lib-capability, \
x-app-name, x-app-ver";

/// At most this many extra names are echoed (a preflight asking for more gets the rest
/// refused by the browser, which is the answer such a request deserves).
const MAX_EXTRA: usize = 16;

/// The `Access-Control-Allow-Headers` value for a preflight that asked for `requested`
/// (its `Access-Control-Request-Headers`): MSAL's set plus each requested `x-` name of at
/// most 64 lowercase token characters that is not already in it.
pub fn allow_headers(requested: Option<&str>) -> String {
    let mut out = ALLOW_HEADERS.to_string();
    let known: Vec<&str> = ALLOW_HEADERS.split(", ").collect();
    let mut added: Vec<String> = Vec::new();
    for name in requested.unwrap_or_default().split(',') {
        let name = name.trim().to_ascii_lowercase();
        let well_formed = name.len() <= 64
            && name.starts_with("x-")
            && name.len() > 2
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if well_formed && !known.contains(&name.as_str()) && !added.contains(&name) {
            if added.len() == MAX_EXTRA {
                break;
            }
            added.push(name);
        }
    }
    for name in added {
        out.push_str(", ");
        out.push_str(&name);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msals_headers_always_and_an_apps_own_x_headers_when_asked() {
        assert_eq!(allow_headers(None), ALLOW_HEADERS);
        let asked = allow_headers(Some(
            "Content-Type, X-Shop-Session, x-client-sku, x-shop-session",
        ));
        assert_eq!(asked, format!("{ALLOW_HEADERS}, x-shop-session"));
    }

    #[test]
    fn only_well_formed_x_names_are_echoed_and_only_so_many() {
        let odd = allow_headers(Some(
            "authorization, cookie, x-, x-a b, x-\u{e9}, x-ok\r\nset-cookie: a",
        ));
        assert_eq!(odd, ALLOW_HEADERS, "nothing but MSAL's set");
        let many: Vec<String> = (0..40).map(|i| format!("x-h{i}")).collect();
        let answer = allow_headers(Some(&many.join(",")));
        assert_eq!(answer.matches(", x-h").count(), MAX_EXTRA);
    }
}
