//! RP-Initiated Logout 1.0 at Entra's `/{tenant}/oauth2/v2.0/logout`: what a logout
//! request asks for, whether its `id_token_hint` is ours, and where the browser goes.
//!
//! Every request that reaches the endpoint (GET or POST) signs the browser out: its
//! single sign-on session is deleted and the cookie cleared, whatever else is wrong with
//! the request, because a person who pressed "sign out" must never stay signed in
//! because an application built the URL badly. What the checks decide is only whether
//! the browser is sent back to the application or shown the "You are signed out" page.
//!
//! - `post_logout_redirect_uri` is followed only when it exactly matches (simple string
//!   comparison, §3.1) a redirect URI registered for the client, the client being named
//!   by `client_id` or by the hint's `aud` (and when both are given they must agree).
//!   Graph app registrations have no separate list of post-logout URIs (`web.logoutUrl`
//!   is a front-channel URL the OP calls, not a place to send the browser), so, as Entra
//!   does, the app's registered redirect URIs (`spa`, `web`, `publicClient`) are the
//!   allowed ones. The loopback-any-port leniency of the authorization endpoint does not
//!   apply here; the built-in demo client, which has no list, accepts its loopback rule.
//!   Anything else never redirects (no open redirect): the page says why.
//! - `id_token_hint` is verified like every other token (signature with the tenant's
//!   keyring, `iss`, `aud`, `typ`), and must be an ID token, not an access token. An
//!   expired hint is accepted (§2: the OP need not check its expiry, and an application
//!   typically logs out long after its ID token expired). A hint that fails any other
//!   check refuses the redirect.
//! - `logout_hint` and `ui_locales` are ignored: there is one session per browser.
//! - The session is cleared without asking for confirmation, also without a hint (§2
//!   lets the OP ask; Vestibule's sessions hold nothing worth protecting from being
//!   ended, and a confirmation page would need a form round trip for nothing).
//!
//! Refresh tokens: a valid hint names its session family (`sid`), and that family is
//! revoked, so the refresh tokens (and, at userinfo, the access tokens) issued to the
//! application that logs out stop working. Families of other applications that signed in
//! through the same browser session are not tracked by the session and stay valid until
//! they expire, as in Entra, where front-channel logout does not revoke refresh tokens
//! either. Without a valid hint nothing is revoked.

use super::apps::Client;
use super::authorize::{MAX_ECHO_LEN, MAX_QUERY_LEN, Params};
use super::userinfo::{audience_hint, is_access_token};
use crate::time::Timestamp;
use crate::token::err::shorten;
use crate::token::{Claims, Keyring, TokenError, Validation, verify};

/// The parameters of a logout request that Vestibule acts on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogoutRequest {
    /// `id_token_hint`, unverified.
    pub id_token_hint: Option<String>,
    /// `client_id`.
    pub client_id: Option<String>,
    /// `post_logout_redirect_uri`.
    pub post_logout_redirect_uri: Option<String>,
    /// `state`, echoed to the redirect URI.
    pub state: Option<String>,
}

/// Reads the query (GET) or form body (POST). `Err` is the message for the page: a
/// request that cannot be read still signs out, but redirects nowhere.
pub fn parse(query: &str) -> Result<LogoutRequest, String> {
    if query.len() > MAX_QUERY_LEN {
        return Err("the sign-out request is too large".into());
    }
    let params = Params::parse(query)
        .map_err(|name| format!("the parameter `{name}` appears more than once"))?;
    let get = |name: &str| params.get(name).map(str::to_string);
    let state = get("state");
    if state.as_ref().is_some_and(|s| s.len() > MAX_ECHO_LEN) {
        return Err(format!("`state` is longer than {MAX_ECHO_LEN} characters"));
    }
    Ok(LogoutRequest {
        id_token_hint: get("id_token_hint"),
        client_id: get("client_id"),
        post_logout_redirect_uri: get("post_logout_redirect_uri"),
        state,
    })
}

/// What the `id_token_hint` turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Hint {
    /// None was sent.
    Absent,
    /// An ID token this issuer signed (possibly expired).
    Valid(Box<Claims>),
    /// Anything else: forged, another issuer's, malformed, an access token.
    Invalid,
}

/// Verifies the hint against the tenant's keyring. The audience to check is the hint's
/// own `aud`, read before verification only to choose it (the signature covers it); the
/// decision then requires it to match `client_id` when both are present.
pub fn check_hint(req: &LogoutRequest, keyring: &Keyring, issuer: &str, now: Timestamp) -> Hint {
    let Some(token) = req.id_token_hint.as_deref() else {
        return Hint::Absent;
    };
    let Some(audience) = audience_hint(token) else {
        return Hint::Invalid;
    };
    let validation = Validation::new(issuer, &audience);
    let claims = match verify(keyring, token, &validation, now) {
        Ok(c) => c,
        // Expiry is checked last, after the signature, issuer, audience and consistency:
        // verifying again at the moment of expiry yields the claims of a token that
        // passed everything but the clock.
        Err(TokenError::Expired { exp }) => match verify(keyring, token, &validation, exp) {
            Ok(c) => c,
            Err(_) => return Hint::Invalid,
        },
        Err(_) => return Hint::Invalid,
    };
    if is_access_token(&claims) {
        return Hint::Invalid;
    }
    Hint::Valid(Box::new(claims))
}

/// The client to look up: `client_id`, else a valid hint's `aud`.
pub fn client_id<'a>(req: &'a LogoutRequest, hint: &'a Hint) -> Option<&'a str> {
    req.client_id.as_deref().or(match hint {
        Hint::Valid(claims) => Some(claims.aud.as_str()),
        _ => None,
    })
}

/// What to answer, besides clearing the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Send the browser here (the registered URI with `state`), or show the page.
    pub redirect: Option<String>,
    /// Why the page is shown instead of going back to the application, if it should.
    pub notice: Option<String>,
    /// The session family to revoke (the valid hint's `sid`).
    pub revoke_family: Option<String>,
}

const NOT_VERIFIED: &str =
    "the sign-out request could not be verified, so you were not sent back to the application";

/// Decides where the browser goes. `client` is the registration [`client_id`] named, if
/// any exists.
pub fn decide(req: &LogoutRequest, hint: &Hint, client: Option<&Client>) -> Decision {
    let page = |notice: Option<String>, revoke: Option<String>| Decision {
        redirect: None,
        notice,
        revoke_family: revoke,
    };
    let claims = match hint {
        Hint::Invalid => return page(Some(NOT_VERIFIED.into()), None),
        Hint::Valid(c) => Some(c),
        Hint::Absent => None,
    };
    // OIDC RP-Initiated Logout §2: a `client_id` that is not the hint's audience.
    if let (Some(c), Some(id)) = (claims, req.client_id.as_deref())
        && c.aud != id
    {
        return page(Some(NOT_VERIFIED.into()), None);
    }
    let revoke = claims
        .and_then(|c| c.sid.clone())
        .filter(|sid| !sid.is_empty());
    let Some(uri) = req.post_logout_redirect_uri.as_deref() else {
        return page(None, revoke);
    };
    let shown = shorten(uri, 120);
    let Some(client) = client else {
        let notice = match client_id(req, hint) {
            Some(id) => format!(
                "the application `{}` is not registered, so you were not sent to `{shown}`",
                shorten(id, 80)
            ),
            None => format!(
                "the application did not identify itself (`client_id` or `id_token_hint`), so you were not sent to `{shown}`"
            ),
        };
        return page(Some(notice), revoke);
    };
    if !allows_post_logout(client, uri) {
        return page(
            Some(format!(
                "`{shown}` is not a registered address of {}, so you were not sent there",
                client.display_name
            )),
            revoke,
        );
    }
    let mut url = uri.to_string();
    if let Some(state) = &req.state {
        let sep = if url.contains('?') { '&' } else { '?' };
        let encoded: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("state", state)
            .finish();
        url.push(sep);
        url.push_str(&encoded);
    }
    Decision {
        redirect: Some(url),
        notice: None,
        revoke_family: revoke,
    }
}

/// Exact match against the registered URIs (no loopback port leniency); the demo client
/// keeps its any-loopback rule, which cannot leave the person's own machine.
fn allows_post_logout(client: &Client, uri: &str) -> bool {
    match &client.redirects {
        super::apps::Redirects::Registered(list) => {
            list.iter().any(|r| r == uri) && client.allows_redirect(uri)
        }
        super::apps::Redirects::AnyLoopback => client.allows_redirect(uri),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::apps::Redirects;
    use crate::token::{Amr, TokenType, issue, issue_typed};
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const ISS: &str = "https://id.example.com/t/v2.0";

    fn ring(seed: u8) -> Keyring {
        let seed = URL_SAFE_NO_PAD.encode([seed; 32]);
        Keyring::parse(&format!(r#"[{{"kid":"k1","seed":"{seed}"}}]"#)).unwrap()
    }

    fn id_token(keyring: &Keyring, aud: &str, exp: u64, sid: Option<&str>) -> String {
        let mut c = Claims::new(ISS, "user-1", aud, Timestamp(1000), Timestamp(exp));
        c.amr = vec![Amr::Pwd];
        c.sid = sid.map(str::to_string);
        issue(keyring, &c).unwrap().expose().clone()
    }

    fn shop() -> Client {
        Client {
            app_id: "shop".into(),
            display_name: "Shop".into(),
            redirects: Redirects::Registered(vec![
                "https://shop.example.com/cb".into(),
                "https://shop.example.com/bye?x=1".into(),
                "http://127.0.0.1:3000/cb".into(),
            ]),
        }
    }

    fn request(hint: Option<String>, client_id: Option<&str>, uri: Option<&str>) -> LogoutRequest {
        LogoutRequest {
            id_token_hint: hint,
            client_id: client_id.map(str::to_string),
            post_logout_redirect_uri: uri.map(str::to_string),
            state: Some("s 1&x".into()),
        }
    }

    #[test]
    fn parse_reads_the_parameters_and_refuses_repeats_and_oversize() {
        let r = parse("id_token_hint=h&client_id=shop&post_logout_redirect_uri=https%3A%2F%2Fa%2Fb&state=s&logout_hint=x").unwrap();
        assert_eq!(r.id_token_hint.as_deref(), Some("h"));
        assert_eq!(r.client_id.as_deref(), Some("shop"));
        assert_eq!(r.post_logout_redirect_uri.as_deref(), Some("https://a/b"));
        assert_eq!(r.state.as_deref(), Some("s"));
        assert_eq!(parse("").unwrap(), LogoutRequest::default());
        assert_eq!(
            parse("state=").unwrap().state,
            None,
            "empty counts as absent"
        );
        assert_eq!(
            parse("state=a&state=b").unwrap_err(),
            "the parameter `state` appears more than once"
        );
        assert!(
            parse(&format!("state={}", "s".repeat(MAX_ECHO_LEN + 1)))
                .unwrap_err()
                .contains("`state` is longer")
        );
        assert_eq!(
            parse(&"a".repeat(MAX_QUERY_LEN + 1)).unwrap_err(),
            "the sign-out request is too large"
        );
    }

    #[test]
    fn a_valid_hint_is_accepted_even_when_expired() {
        let keys = ring(1);
        let now = Timestamp(10_000);
        let fresh = request(
            Some(id_token(&keys, "shop", 20_000, Some("f1"))),
            None,
            None,
        );
        let Hint::Valid(c) = check_hint(&fresh, &keys, ISS, now) else {
            panic!("a fresh hint is valid");
        };
        assert_eq!(c.aud, "shop");
        let expired = request(Some(id_token(&keys, "shop", 2000, None)), None, None);
        assert!(matches!(
            check_hint(&expired, &keys, ISS, now),
            Hint::Valid(_)
        ));
        assert_eq!(
            check_hint(&request(None, None, None), &keys, ISS, now),
            Hint::Absent
        );
    }

    #[test]
    fn forged_foreign_malformed_and_access_token_hints_are_invalid() {
        let keys = ring(1);
        let now = Timestamp(1500);
        let other_key = request(Some(id_token(&ring(2), "shop", 20_000, None)), None, None);
        assert_eq!(check_hint(&other_key, &keys, ISS, now), Hint::Invalid);
        let wrong_issuer = request(Some(id_token(&keys, "shop", 20_000, None)), None, None);
        assert_eq!(
            check_hint(&wrong_issuer, &keys, "https://other/v2.0", now),
            Hint::Invalid
        );
        for garbage in ["x", "a.b.c", "", "eyJ.eyJ.sig"] {
            let r = request(Some(garbage.into()), None, None);
            assert_eq!(check_hint(&r, &keys, ISS, now), Hint::Invalid, "{garbage}");
        }
        let mut access = Claims::new(ISS, "user-1", "shop", Timestamp(1000), Timestamp(20_000));
        access.scp = Some("openid profile".into());
        let at = issue(&keys, &access).unwrap().expose().clone();
        assert_eq!(
            check_hint(&request(Some(at), None, None), &keys, ISS, now),
            Hint::Invalid
        );
        let typed = issue_typed(&keys, &access, TokenType::AccessToken)
            .unwrap()
            .expose()
            .clone();
        assert_eq!(
            check_hint(&request(Some(typed), None, None), &keys, ISS, now),
            Hint::Invalid
        );
        // An expired token that is also forged stays invalid.
        let old_forged = request(Some(id_token(&ring(2), "shop", 1100, None)), None, None);
        assert_eq!(
            check_hint(&old_forged, &keys, ISS, Timestamp(9999)),
            Hint::Invalid
        );
    }

    fn valid(aud: &str, sid: Option<&str>) -> Hint {
        let mut c = Claims::new(ISS, "user-1", aud, Timestamp(1000), Timestamp(2000));
        c.sid = sid.map(str::to_string);
        Hint::Valid(Box::new(c))
    }

    #[test]
    fn a_registered_uri_redirects_with_state_and_revokes_the_hinted_family() {
        let hint = valid("shop", Some("fam"));
        let r = request(None, None, Some("https://shop.example.com/cb"));
        assert_eq!(client_id(&r, &hint), Some("shop"));
        let d = decide(&r, &hint, Some(&shop()));
        assert_eq!(
            d.redirect.as_deref(),
            Some("https://shop.example.com/cb?state=s+1%26x")
        );
        assert_eq!(d.notice, None);
        assert_eq!(d.revoke_family.as_deref(), Some("fam"));
        // A query of the registered URI is kept; client_id alone identifies the client.
        let mut r = request(None, Some("shop"), Some("https://shop.example.com/bye?x=1"));
        r.state = None;
        let d = decide(&r, &Hint::Absent, Some(&shop()));
        assert_eq!(
            d.redirect.as_deref(),
            Some("https://shop.example.com/bye?x=1")
        );
        assert_eq!(d.revoke_family, None, "nothing to revoke without a hint");
    }

    #[test]
    fn the_demo_client_accepts_loopback_only() {
        let demo = Client::demo();
        let r = request(None, Some(&demo.app_id), Some("http://127.0.0.1:4321/bye"));
        assert!(decide(&r, &Hint::Absent, Some(&demo)).redirect.is_some());
        let r = request(None, Some(&demo.app_id), Some("https://evil.example/bye"));
        let d = decide(&r, &Hint::Absent, Some(&demo));
        assert_eq!(d.redirect, None);
        assert!(d.notice.unwrap().contains("`https://evil.example/bye`"));
    }

    #[test]
    fn an_unregistered_or_inexact_uri_never_redirects() {
        for uri in [
            "https://evil.example/cb",
            "https://shop.example.com/cb/",
            "https://shop.example.com/cb?next=https://evil.example",
            "https://SHOP.example.com/cb",
            "http://127.0.0.1:3001/cb",
            "javascript:alert(1)",
        ] {
            let r = request(None, Some("shop"), Some(uri));
            let d = decide(&r, &valid("shop", Some("fam")), Some(&shop()));
            assert_eq!(d.redirect, None, "{uri}");
            assert!(
                d.notice
                    .as_deref()
                    .unwrap()
                    .contains("not a registered address of Shop")
            );
            assert_eq!(
                d.revoke_family.as_deref(),
                Some("fam"),
                "the logout itself stands"
            );
        }
    }

    #[test]
    fn without_a_known_client_there_is_no_redirect() {
        let uri = Some("https://shop.example.com/cb");
        let d = decide(&request(None, None, uri), &Hint::Absent, None);
        assert_eq!(d.redirect, None);
        assert!(d.notice.unwrap().contains("did not identify itself"));
        let d = decide(&request(None, Some("nobody"), uri), &Hint::Absent, None);
        assert!(d.notice.unwrap().contains("`nobody` is not registered"));
    }

    #[test]
    fn an_invalid_hint_or_a_client_id_mismatch_refuses_the_redirect() {
        let uri = Some("https://shop.example.com/cb");
        let d = decide(
            &request(None, Some("shop"), uri),
            &Hint::Invalid,
            Some(&shop()),
        );
        assert_eq!((d.redirect, d.revoke_family), (None, None));
        assert_eq!(d.notice.as_deref(), Some(NOT_VERIFIED));
        let d = decide(
            &request(None, Some("shop"), uri),
            &valid("other-app", Some("fam")),
            Some(&shop()),
        );
        assert_eq!((d.redirect, d.revoke_family), (None, None));
        assert_eq!(d.notice.as_deref(), Some(NOT_VERIFIED));
    }

    #[test]
    fn no_redirect_uri_shows_the_page_without_a_notice() {
        let d = decide(
            &request(None, None, None),
            &valid("shop", Some("")),
            Some(&shop()),
        );
        assert_eq!(
            d,
            Decision {
                redirect: None,
                notice: None,
                revoke_family: None
            }
        );
        let d = decide(&request(None, None, None), &Hint::Absent, None);
        assert_eq!((d.redirect, d.notice), (None, None));
    }
}
