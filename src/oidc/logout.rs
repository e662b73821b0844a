//! RP-Initiated Logout 1.0 at Entra's `/{tenant}/oauth2/v2.0/logout`: what a logout
//! request asks for, whether its `id_token_hint` is ours, and where the browser goes.
//!
//! Who asked decides what happens (§2: the OP SHOULD ask the End-User whether to log out
//! when the request carries no valid hint). A request with a valid hint ([`trusted`])
//! comes from the application the person signed in to, so the session ends at once.
//! Any other request could come from any site (a cross-site link or image is all logout
//! CSRF needs), so while the browser has a session nothing ends until the person
//! confirms on Vestibule's own page ([`super::logout_confirm`]); without a session there
//! is nothing to end and the signed-out page (or the return address) is shown.
//!
//! - `post_logout_redirect_uri` is followed only when it exactly matches (simple string
//!   comparison, §3.1) a redirect URI registered for the client, the client being named
//!   by `client_id` or by the hint's `aud` (and when both are given they must agree).
//!   Graph app registrations have no separate list of post-logout URIs (`web.logoutUrl`
//!   is a front-channel URL the OP calls, not a place to send the browser), so, as Entra
//!   does, the app's registered redirect URIs (`spa`, `web`, `publicClient`) are the
//!   allowed ones. The loopback-any-port leniency of the authorization endpoint does not
//!   apply here; the built-in demo client, which has no list, accepts its loopback rule.
//!   Anything else never redirects (no open redirect): the page says why. A registered
//!   URI named by `client_id` alone is followed too: §3 allows the redirect without a
//!   hint when "the OP has other means of confirming the legitimacy of the post-logout
//!   redirection target", and exact registration for the named client is that means.
//! - `id_token_hint` is verified like every other token, expired ones included
//!   ([`super::logout_hint`]); a hint that fails a check refuses the redirect.
//! - `logout_hint` and `ui_locales` are ignored: there is one session per browser.
//!
//! Refresh tokens: a valid hint names its session family (`sid`), and that family is
//! revoked, so the refresh tokens (and, at userinfo, the access tokens) issued to the
//! application that logs out stop working. Families of other applications that signed in
//! through the same browser session are not tracked by the session and stay valid until
//! they expire, as in Entra, where front-channel logout does not revoke refresh tokens
//! either. Without a valid hint nothing is revoked, also after a confirmation.

use super::apps::Client;
use super::authorize::{MAX_ECHO_LEN, MAX_QUERY_LEN, Params};
pub use super::logout_hint::{Hint, check_hint, client_id, trusted};
use crate::token::err::shorten;

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
    /// The person's answer on the confirmation page (form posts only).
    pub answer: Option<Answer>,
}

/// What the person chose on the confirmation page ([`super::logout_confirm`]). Only a
/// form post carries an answer: the page always posts, so a link cannot answer for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// "Sign out", with the page's anti-forgery token.
    SignOut {
        /// The `csrf` field, unverified.
        csrf: Option<String>,
    },
    /// "Stay signed in".
    Stay,
}

/// Longest `post_logout_redirect_uri` read: longer ones are never registered, and the
/// confirmation page echoes what it reads.
pub const MAX_URI_LEN: usize = 2048;
/// Longest `client_id` read.
pub const MAX_CLIENT_ID_LEN: usize = 256;
/// Longest `csrf` field read (a real token is about 60 characters).
pub const MAX_CSRF_LEN: usize = 128;

/// Reads the query of a GET. `Err` is the message for the page: a request that cannot
/// be read redirects nowhere.
pub fn parse(query: &str) -> Result<LogoutRequest, String> {
    read(query, false)
}

/// Reads the form body of a POST: the request parameters, and the answer when the post
/// comes from the confirmation page (it has an `action`).
pub fn parse_form(body: &str) -> Result<LogoutRequest, String> {
    read(body, true)
}

fn read(query: &str, form: bool) -> Result<LogoutRequest, String> {
    if query.len() > MAX_QUERY_LEN {
        return Err("the sign-out request is too large".into());
    }
    let params = Params::parse(query).map_err(|e| e.message())?;
    let get = |name: &str| params.get(name).map(str::to_string);
    let too_long = |name: &str, max: usize| {
        params
            .get(name)
            .is_some_and(|v| v.len() > max)
            .then(|| format!("`{name}` is longer than {max} characters"))
    };
    for (name, max) in [
        ("state", MAX_ECHO_LEN),
        ("client_id", MAX_CLIENT_ID_LEN),
        ("post_logout_redirect_uri", MAX_URI_LEN),
        ("csrf", MAX_CSRF_LEN),
    ] {
        if let Some(message) = too_long(name, max) {
            return Err(message);
        }
    }
    let answer = match (form, params.get("action")) {
        (false, _) | (true, None) => None,
        (true, Some("sign_out")) => Some(Answer::SignOut { csrf: get("csrf") }),
        (true, Some("stay")) => Some(Answer::Stay),
        (true, Some(_)) => {
            return Err("the sign-out form's `action` must be `sign_out` or `stay`".into());
        }
    };
    Ok(LogoutRequest {
        id_token_hint: get("id_token_hint"),
        client_id: get("client_id"),
        post_logout_redirect_uri: get("post_logout_redirect_uri"),
        state: get("state"),
        answer,
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
        let notice = unknown_client_notice(client_id(req, hint), uri, Moment::SignedOut);
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

/// When [`unknown_client_notice`] is shown, which decides what it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Moment {
    /// On the signed-out page ([`decide`]): the client may be named by `client_id` or
    /// by the hint's `aud`.
    SignedOut,
    /// On the confirmation page ([`super::logout_confirm`]): the hint is not carried
    /// into its form, so only `client_id` can name the client.
    BeforeConfirming,
}

/// Why the browser is not (or will not be) sent to `uri`: the client `id` names has no
/// registration, or no client was named at all. One text for both pages, so the
/// confirmation promises exactly what the sign-out then does.
pub(super) fn unknown_client_notice(id: Option<&str>, uri: &str, moment: Moment) -> String {
    let shown = shorten(uri, 120);
    let (named_by, outcome) = match moment {
        Moment::SignedOut => ("`client_id` or `id_token_hint`", "you were not sent to"),
        Moment::BeforeConfirming => ("`client_id`", "after signing out you will not be sent to"),
    };
    match id {
        Some(id) => format!(
            "the application `{}` is not registered, so {outcome} `{shown}`",
            shorten(id, 80)
        ),
        None => {
            format!("the application did not identify itself ({named_by}), so {outcome} `{shown}`")
        }
    }
}

/// Exact match against the registered URIs (no loopback port leniency); the demo client
/// keeps its any-loopback rule, which cannot leave the person's own machine.
pub(super) fn allows_post_logout(client: &Client, uri: &str) -> bool {
    match &client.redirects {
        super::apps::Redirects::Registered(list) => {
            list.iter().any(|r| r == uri) && client.allows_redirect(uri)
        }
        super::apps::Redirects::AnyLoopback => client.allows_redirect(uri),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::oidc::apps::Redirects;
    use crate::time::Timestamp;
    use crate::token::Claims;

    pub(crate) const ISS: &str = "https://id.example.com/t/v2.0";

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

    pub(crate) fn request(
        hint: Option<String>,
        client_id: Option<&str>,
        uri: Option<&str>,
    ) -> LogoutRequest {
        LogoutRequest {
            id_token_hint: hint,
            client_id: client_id.map(str::to_string),
            post_logout_redirect_uri: uri.map(str::to_string),
            state: Some("s 1&x".into()),
            answer: None,
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
    fn only_a_form_post_carries_an_answer_and_fields_have_limits() {
        let q = "client_id=shop&action=sign_out&csrf=t";
        assert_eq!(parse(q).unwrap().answer, None, "a link cannot answer");
        assert_eq!(
            parse_form(q).unwrap().answer,
            Some(Answer::SignOut {
                csrf: Some("t".into())
            })
        );
        assert_eq!(
            parse_form("action=sign_out").unwrap().answer,
            Some(Answer::SignOut { csrf: None })
        );
        assert_eq!(
            parse_form("action=stay&csrf=x").unwrap().answer,
            Some(Answer::Stay)
        );
        assert_eq!(parse_form("client_id=shop").unwrap().answer, None);
        assert!(
            parse_form("action=delete")
                .unwrap_err()
                .contains("must be `sign_out` or `stay`")
        );
        for (name, max) in [
            ("client_id", MAX_CLIENT_ID_LEN),
            ("post_logout_redirect_uri", MAX_URI_LEN),
            ("csrf", MAX_CSRF_LEN),
        ] {
            let at_limit = format!("{name}={}", "a".repeat(max));
            assert!(parse_form(&at_limit).is_ok(), "{name}");
            let over = format!("{name}={}", "a".repeat(max + 1));
            assert_eq!(
                parse_form(&over).unwrap_err(),
                format!("`{name}` is longer than {max} characters")
            );
        }
    }

    pub(crate) fn valid(aud: &str, sid: Option<&str>) -> Hint {
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
    fn the_unknown_client_notice_says_what_each_page_does() {
        let uri = "https://shop.example.com/cb";
        assert_eq!(
            unknown_client_notice(Some("nobody"), uri, Moment::SignedOut),
            "the application `nobody` is not registered, so you were not sent to `https://shop.example.com/cb`"
        );
        assert_eq!(
            unknown_client_notice(None, uri, Moment::SignedOut),
            "the application did not identify itself (`client_id` or `id_token_hint`), so you were not sent to `https://shop.example.com/cb`"
        );
        assert_eq!(
            unknown_client_notice(Some("nobody"), uri, Moment::BeforeConfirming),
            "the application `nobody` is not registered, so after signing out you will not be sent to `https://shop.example.com/cb`"
        );
        assert_eq!(
            unknown_client_notice(None, uri, Moment::BeforeConfirming),
            "the application did not identify itself (`client_id`), so after signing out you will not be sent to `https://shop.example.com/cb`"
        );
        let long =
            unknown_client_notice(Some(&"i".repeat(500)), &"u".repeat(500), Moment::SignedOut);
        assert!(
            long.len() < 300,
            "both the id and the address are shortened"
        );
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
