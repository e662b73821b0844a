//! Binds each hosted-page sign-in to the browser that opened it, against login CSRF from
//! browsers that send no Fetch Metadata (Safari before 16.4, some embedded webviews).
//!
//! The attack: an attacker opens their own authorization request, takes the page's hidden
//! `interaction` handle, and makes the victim's browser post it with the attacker's
//! credentials; the answer finishes the attacker's sign-in in the victim's browser and
//! plants the attacker's single sign-on cookie there (RFC 6749 §10.12).
//! [`super::interaction::posted_from_another_site`] stops that only when the browser
//! says where the post came from.
//!
//! So the authorization endpoint gives the browser a random cookie ([`set_cookie`]) and
//! the interaction records only a keyed hash of it ([`digest`], HMAC-SHA256 under
//! `CODE_KEY`, bound to the tenant). A form post is accepted only when it carries the
//! cookie whose hash the interaction holds ([`check`], compared in constant time). The
//! attacker cannot read or set the victim's cookie (`HttpOnly`, `__Host-` over https),
//! and the victim's browser does not hold the attacker's, so the attacker's handle is
//! refused there, before it is spent.
//!
//! One cookie per browser, not per sign-in: the endpoint keeps the cookie a browser
//! already holds (renewing its lifetime), so several tabs each with their own sign-in
//! all record the same hash and none breaks another. A private window has its own
//! cookie jar and so its own cookie.

use crate::flow::CodeKey;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq as _;

/// The cookie's name over http (local development).
pub const COOKIE: &str = "vestibule_bind";
/// The cookie's name over https: the `__Host-` prefix makes the browser refuse it unless
/// it is `Secure`, has `Path=/` and no `Domain`, so a sibling subdomain cannot plant one.
pub const HOST_COOKIE: &str = "__Host-vestibule_bind";

/// How long the browser keeps the cookie: as long as an interaction lives, renewed by
/// every authorization request of that browser, so it outlives each sign-in it binds.
pub const COOKIE_MAX_AGE: u64 = super::interaction::INTERACTION_LIFETIME.0;

/// Bytes of randomness in a cookie value (43 characters of base64url).
pub const VALUE_BYTES: usize = 32;

/// Separates these MACs from every other use of `CODE_KEY`.
const DOMAIN: &str = "vestibule.oidc.binding.v1";

/// The cookie's name for a request over https (`secure`) or http.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure { HOST_COOKIE } else { COOKIE }
}

/// A fresh cookie value from `random` bytes.
pub fn new_value(random: &[u8; VALUE_BYTES]) -> String {
    URL_SAFE_NO_PAD.encode(random)
}

/// Whether `value` has the shape [`new_value`] gives; anything else is not ours and is
/// never hashed or kept.
pub fn well_formed(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The cookie's value in a `Cookie` request header, if present and well formed.
pub fn read_cookie(header: Option<&str>, secure: bool) -> Option<&str> {
    let name = cookie_name(secure);
    header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(n, _)| n.trim() == name)
        .map(|(_, value)| value.trim())
        .find(|v| well_formed(v))
}

/// The value the authorization endpoint sets: the browser's own when it sent a good one
/// (so its other tabs stay bound), else a fresh one from `random`.
pub fn value_for(header: Option<&str>, secure: bool, random: &[u8; VALUE_BYTES]) -> String {
    read_cookie(header, secure).map_or_else(|| new_value(random), str::to_string)
}

/// The `Set-Cookie` value for `value`: `__Host-` with `Path=/` and `Secure` over https;
/// over http (local development) the plain name scoped to the tenant's paths, which
/// cover both the authorization endpoint and the form posts.
pub fn set_cookie(value: &str, tenant: &str, secure: bool) -> String {
    if secure {
        format!(
            "{HOST_COOKIE}={value}; Path=/; Max-Age={COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax; Secure"
        )
    } else {
        format!(
            "{COOKIE}={value}; Path=/{tenant}/; Max-Age={COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax"
        )
    }
}

/// What the interaction records: base64url of the HMAC of the cookie's value, bound to
/// the tenant. A stolen KV record does not give the cookie.
pub fn digest(key: &CodeKey, tenant: &str, value: &str) -> String {
    // Unambiguous: a tenant is a path segment, so it holds no newline.
    URL_SAFE_NO_PAD.encode(key.keyed_hash(DOMAIN, &format!("{tenant}\n{value}")))
}

/// Why a form post was refused as not coming from the browser that opened the sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The post carried no binding cookie: another browser, or cookies are blocked.
    NoCookie,
    /// The post carried another browser's (or another sign-in's) cookie.
    OtherBrowser,
    /// The interaction records no binding (stored before bindings existed).
    Unbound,
}

impl Refusal {
    /// A stable code for the log.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::NoCookie => "binding_cookie_missing",
            Refusal::OtherBrowser => "binding_mismatch",
            Refusal::Unbound => "interaction_unbound",
        }
    }

    /// The error page's status: 403 for another browser's post; 400 for a record stored
    /// before bindings, which is answered like an expired page.
    pub fn status(self) -> u16 {
        match self {
            Refusal::NoCookie | Refusal::OtherBrowser => 403,
            Refusal::Unbound => 400,
        }
    }

    /// What the error page says: what happened and what to do.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::NoCookie => {
                "this sign-in form was not opened in this browser, or the browser did not send its sign-in cookie, so it was not accepted; allow cookies for this site, then go back to the application and sign in again"
            }
            Refusal::OtherBrowser => {
                "this sign-in form was started in another browser, so it was not accepted; go back to the application and sign in again"
            }
            Refusal::Unbound => {
                "this sign-in page has expired or was already used; go back to the application and sign in again"
            }
        }
    }
}

/// Whether a form post carries the cookie of the browser that opened the interaction:
/// `recorded` is the interaction's [`digest`], `cookie` what [`read_cookie`] found.
pub fn check(
    key: &CodeKey,
    tenant: &str,
    recorded: Option<&str>,
    cookie: Option<&str>,
) -> Result<(), Refusal> {
    let Some(recorded) = recorded else {
        return Err(Refusal::Unbound);
    };
    let Some(cookie) = cookie.filter(|c| well_formed(c)) else {
        return Err(Refusal::NoCookie);
    };
    let expected = digest(key, tenant, cookie);
    let same = expected.len() == recorded.len()
        && bool::from(expected.as_bytes().ct_eq(recorded.as_bytes()));
    if same {
        Ok(())
    } else {
        Err(Refusal::OtherBrowser)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CodeKey {
        CodeKey::new(vec![7; 32]).unwrap()
    }

    #[test]
    fn the_browser_that_opened_the_sign_in_is_accepted() {
        let value = new_value(&[1; 32]);
        assert!(well_formed(&value));
        let recorded = digest(&key(), "t", &value);
        assert_ne!(recorded, value, "only a keyed hash is recorded");
        assert_eq!(check(&key(), "t", Some(&recorded), Some(&value)), Ok(()));
    }

    #[test]
    fn another_browser_a_missing_cookie_or_an_unbound_record_is_refused() {
        let recorded = digest(&key(), "t", &new_value(&[1; 32]));
        let other = new_value(&[2; 32]);
        assert_eq!(
            check(&key(), "t", Some(&recorded), Some(&other)),
            Err(Refusal::OtherBrowser)
        );
        assert_eq!(
            check(&key(), "t", Some(&recorded), None),
            Err(Refusal::NoCookie)
        );
        assert_eq!(
            check(&key(), "t", Some(&recorded), Some("short")),
            Err(Refusal::NoCookie)
        );
        assert_eq!(
            check(&key(), "t", None, Some(&other)),
            Err(Refusal::Unbound)
        );
        // The hash is bound to the tenant and the key.
        let value = new_value(&[1; 32]);
        assert_eq!(
            check(&key(), "u", Some(&recorded), Some(&value)),
            Err(Refusal::OtherBrowser)
        );
        let other_key = CodeKey::new(vec![8; 32]).unwrap();
        assert_eq!(
            check(&other_key, "t", Some(&recorded), Some(&value)),
            Err(Refusal::OtherBrowser)
        );
        assert_eq!(Refusal::OtherBrowser.status(), 403);
        assert_eq!(Refusal::NoCookie.status(), 403);
        assert_eq!(Refusal::Unbound.status(), 400);
        for r in [Refusal::NoCookie, Refusal::OtherBrowser, Refusal::Unbound] {
            assert!(r.message().contains("sign in again"), "{}", r.code());
            assert!(!r.message().ends_with('.'));
        }
    }

    #[test]
    fn the_cookie_is_read_by_its_name_and_shape() {
        let value = new_value(&[3; 32]);
        let header = format!("vestibule_session=vct_x; {COOKIE}=junk; {COOKIE}={value}");
        assert_eq!(read_cookie(Some(&header), false), Some(value.as_str()));
        assert_eq!(
            read_cookie(Some(&header), true),
            None,
            "https reads __Host-"
        );
        let secure = format!("{HOST_COOKIE}={value}");
        assert_eq!(read_cookie(Some(&secure), true), Some(value.as_str()));
        assert_eq!(read_cookie(Some(&secure), false), None);
        assert_eq!(read_cookie(None, false), None);
        assert_eq!(read_cookie(Some("vestibule_bind="), false), None);
        // The browser's own good value is kept; junk is replaced.
        assert_eq!(value_for(Some(&header), false, &[9; 32]), value);
        assert_eq!(
            value_for(Some("vestibule_bind=junk"), false, &[9; 32]),
            new_value(&[9; 32])
        );
    }

    #[test]
    fn the_cookie_is_http_only_lax_and_host_prefixed_over_https() {
        assert_eq!(
            set_cookie("v", "t", true),
            "__Host-vestibule_bind=v; Path=/; Max-Age=1800; HttpOnly; SameSite=Lax; Secure"
        );
        assert_eq!(
            set_cookie("v", "t", false),
            "vestibule_bind=v; Path=/t/; Max-Age=1800; HttpOnly; SameSite=Lax"
        );
    }
}
