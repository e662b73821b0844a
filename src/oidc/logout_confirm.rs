//! The confirmation before a sign-out nobody can vouch for (OpenID Connect RP-Initiated
//! Logout 1.0 §2: the OP SHOULD ask the End-User whether to log out when there is no
//! valid `id_token_hint`). Without it any site could sign a browser out with a link or
//! an image (logout CSRF); Keycloak and Auth0 ask "Do you want to log out?" the same way.
//!
//! [`plan`] decides, from what the request proves and whether the browser has a live
//! session, one of three things: end the session (a trusted request, a confirmation with
//! a valid token, or no session at all, where there is nothing to end), ask, or keep the
//! session (the person chose "Stay signed in").
//!
//! The page's form carries an anti-forgery token ([`csrf_token`]) bound to the browser's
//! session: HMAC-SHA256 under the `CODE_KEY` secret over the tenant, the session's lookup
//! key (the hash of the cookie's handle, which only that browser holds) and an expiry
//! [`CONFIRM_LIFETIME`] ahead. Another site can neither read the page (no CORS, framing
//! forbidden) nor compute the token, and a cross-site post does not carry the
//! `SameSite=Lax` cookie anyway; a token from another session or tenant, or an expired
//! one, fails. Nothing is stored: the token is checked by recomputing it, in constant
//! time.

use super::apps::Client;
use super::logout::{
    Answer, Decision, Hint, LogoutRequest, Moment, allows_post_logout, decide, trusted,
    unknown_client_notice,
};
use crate::flow::CodeKey;
use crate::time::{Seconds, Timestamp};
use crate::token::err::shorten;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq as _;

/// How long a confirmation page may be answered: long enough to read it, short enough
/// that a token copied from a page left open is soon useless.
pub const CONFIRM_LIFETIME: Seconds = Seconds(10 * 60);

/// Separates these MACs from every other use of `CODE_KEY`.
const DOMAIN: &str = "vestibule.logout.confirm.v1";

/// The form's token for the session whose lookup key is `session`, valid until
/// `now + CONFIRM_LIFETIME`: `<expiry>.<base64url MAC>`.
pub fn csrf_token(key: &CodeKey, tenant: &str, session: &str, now: Timestamp) -> String {
    let expires = now.plus(CONFIRM_LIFETIME);
    let mac = mac(key, tenant, session, expires);
    format!("{}.{}", expires.0, URL_SAFE_NO_PAD.encode(mac))
}

/// Whether `token` is one [`csrf_token`] issued for this tenant and session and it has
/// not expired. Anything malformed is simply not valid.
pub fn csrf_valid(key: &CodeKey, tenant: &str, session: &str, token: &str, now: Timestamp) -> bool {
    let Some((expires, mac_text)) = token.split_once('.') else {
        return false;
    };
    if expires.is_empty() || expires.len() > 20 || !expires.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Ok(expires) = expires.parse::<u64>().map(Timestamp) else {
        return false;
    };
    // Expired, or further ahead than any token this code issues.
    if now >= expires || expires > now.plus(CONFIRM_LIFETIME) {
        return false;
    }
    let Ok(presented) = URL_SAFE_NO_PAD.decode(mac_text) else {
        return false;
    };
    let expected = mac(key, tenant, session, expires);
    presented.len() == expected.len() && bool::from(presented.as_slice().ct_eq(&expected))
}

fn mac(key: &CodeKey, tenant: &str, session: &str, expires: Timestamp) -> [u8; 32] {
    // Unambiguous: a tenant is a path segment and a lookup key is hex, so neither holds
    // a newline, and the expiry is digits.
    key.keyed_hash(DOMAIN, &format!("{tenant}\n{session}\n{}", expires.0))
}

/// What the confirmation page shows and posts back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confirmation {
    /// The application's display name, when `client_id` names a registered one.
    pub app_name: Option<String>,
    /// Echoed in the form: the registered client's id.
    pub client_id: Option<String>,
    /// Echoed in the form only when it is exactly registered for that client.
    pub post_logout_redirect_uri: Option<String>,
    /// Echoed in the form.
    pub state: Option<String>,
    /// Why the application's return address will not be followed, if it was refused.
    pub return_refused: Option<String>,
    /// What went wrong with the request or the previous answer (shown as an alert).
    pub error: Option<String>,
}

impl Confirmation {
    /// A confirmation that knows nothing of the request (it could not be read).
    pub fn generic(error: String) -> Self {
        Confirmation {
            error: Some(error),
            ..Confirmation::default()
        }
    }

    /// `400` when the page is shown again because something was refused, else `200`.
    pub fn status(&self) -> u16 {
        if self.error.is_some() { 400 } else { 200 }
    }
}

/// The browser's single sign-on session, as far as a logout request could read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Session<'a> {
    /// No cookie, no record, or a record that has run out: nothing to end.
    None,
    /// A live session of this user.
    Of(&'a str),
    /// A cookie whose record could not be read (a store error): it may be live, so it is
    /// treated as one whose user is unknown rather than as nothing to protect.
    Unreadable,
}

/// The hint as it bears on this browser's session. A genuine ID token proves only that
/// *someone* signed in to the application: anyone can get one by signing up. Unless it is
/// the session's own user's (same `sub`), it vouches for nothing here and the person is
/// asked (RP-Initiated Logout §2: the OP MUST ask when the hint does not belong to the
/// currently signed-in End-User); otherwise a link carrying an attacker's own ID token
/// would end a victim's session.
pub fn hint_for_session(hint: Hint, session: Session<'_>) -> Hint {
    match (hint, session) {
        (Hint::Valid(claims), Session::Of(user)) if claims.sub != user => Hint::Invalid,
        (Hint::Valid(_), Session::Unreadable) => Hint::Invalid,
        (hint, _) => hint,
    }
}

/// What to do with a logout request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// End the session (if there is one), revoke the family, then redirect or show the
    /// signed-out page.
    SignOut(Decision),
    /// Keep the session and ask.
    Confirm(Confirmation),
    /// Keep the session: the person chose to stay signed in.
    Stay,
}

/// The answer when the token is missing, expired or not this session's.
pub const CSRF_REFUSED: &str = "this sign-out page has expired or did not come from this site, so you are still signed in; choose sign out again if you want to sign out";

/// Decides. `session` is whether the browser presented a live single sign-on session;
/// `csrf_ok` whether the answer's token is valid for it ([`csrf_valid`]); `client` the
/// registration `client_id` (or a valid hint's `aud`) names.
pub fn plan(
    req: &LogoutRequest,
    hint: &Hint,
    client: Option<&Client>,
    session: bool,
    csrf_ok: bool,
) -> Plan {
    if trusted(req, hint) {
        return Plan::SignOut(decide(req, hint, client));
    }
    match (&req.answer, session) {
        // The person asked to stay, or there is no session to keep or end: nothing to
        // ask. Staying shows the plain signed-out page when there was nothing to keep.
        (Some(Answer::Stay), true) => Plan::Stay,
        (Some(Answer::Stay), false) => Plan::SignOut(Decision {
            redirect: None,
            notice: None,
            revoke_family: None,
        }),
        // Nothing to end: the answer is what it always was (the return address, when
        // `client_id` names a client that registered it, or the page).
        (_, false) => Plan::SignOut(decide(req, hint, client)),
        // Confirmed on our page: the hint (if any) was dropped from the form, so the
        // return address rests on `client_id` and exact registration alone.
        (Some(Answer::SignOut { .. }), true) if csrf_ok => {
            Plan::SignOut(decide(req, &Hint::Absent, client))
        }
        (Some(Answer::SignOut { .. }), true) => {
            let mut page = confirmation(req, client);
            page.error = Some(CSRF_REFUSED.into());
            Plan::Confirm(page)
        }
        (None, true) => Plan::Confirm(confirmation(req, client)),
    }
}

/// Decides for a request that could not be read (`message` says why): with a live
/// session, the generic question with the reason (a request nobody can read proves
/// nothing, not even a valid hint); without one, the signed-out page with the reason.
pub fn plan_unreadable(message: String, session: bool) -> Plan {
    if session {
        Plan::Confirm(Confirmation::generic(message))
    } else {
        Plan::SignOut(Decision {
            redirect: None,
            notice: Some(message),
            revoke_family: None,
        })
    }
}

/// The page for `req`: the client only if it is the one `client_id` names, the return
/// address only if exactly registered for it.
fn confirmation(req: &LogoutRequest, client: Option<&Client>) -> Confirmation {
    let client = client.filter(|c| req.client_id.as_deref() == Some(c.app_id.as_str()));
    let mut page = Confirmation {
        app_name: client.map(|c| c.display_name.clone()),
        client_id: client.map(|c| c.app_id.clone()),
        state: req.state.clone(),
        ..Confirmation::default()
    };
    let Some(uri) = req.post_logout_redirect_uri.as_deref() else {
        return page;
    };
    let shown = shorten(uri, 120);
    match client {
        Some(c) if allows_post_logout(c, uri) => {
            page.post_logout_redirect_uri = Some(uri.to_string());
        }
        Some(c) => {
            page.return_refused = Some(format!(
                "the return address `{shown}` is not registered for {}, so after signing out you will stay on this site",
                c.display_name
            ));
        }
        None => {
            page.return_refused = Some(unknown_client_notice(
                req.client_id.as_deref(),
                uri,
                Moment::BeforeConfirming,
            ));
        }
    }
    page
}

#[cfg(test)]
#[path = "logout_confirm_tests.rs"]
mod tests;
