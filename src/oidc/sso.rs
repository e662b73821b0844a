//! The single sign-on session of the hosted pages: after a sign-in, the browser holds a
//! session cookie naming a server-side record of who signed in and which methods they
//! proved when. The next authorization request from that browser resumes it through the
//! flow engine's step-up ([`crate::flow::StartStepUp`]), so Conditional Access and
//! `acr_values` are judged again and only what is missing is asked for (a second factor
//! for `acr_values=2`, say), or nothing at all.
//!
//! `prompt=login` and `max_age` (OIDC Core §3.1.2.1) decide whether the session may be
//! resumed: with `prompt=login`, or when the last authentication is older than
//! `max_age` seconds, the person signs in afresh and the tokens' `auth_time` is new.
//!
//! The cookie is a browser-session cookie (no `Expires`, gone when the browser or the
//! private window closes), `HttpOnly`, `SameSite=Lax`, `Secure` over https, scoped to the
//! tenant's path; its value is an opaque handle, the record lives in KV under the
//! handle's hash. Nothing else is stored in the browser.

use super::authorize::AuthorizeRequest;
use crate::policy::SatisfiedMethod;
use crate::time::{Seconds, Timestamp};
use serde::{Deserialize, Serialize};

/// The cookie's name.
pub const COOKIE: &str = "vestibule_session";
/// A session is not resumed after this long, whatever the browser keeps.
pub const SSO_LIFETIME: Seconds = Seconds(12 * 3600);

/// The record behind the cookie.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SsoSession {
    /// The user.
    pub user_id: String,
    /// The methods proven, with times (the flow's `TokenGrant.methods`).
    pub methods: Vec<SatisfiedMethod>,
    /// The session ends here.
    pub expires_at: Timestamp,
}

impl SsoSession {
    /// The session after a sign-in with these methods.
    pub fn new(user_id: String, methods: Vec<SatisfiedMethod>, now: Timestamp) -> Self {
        SsoSession {
            user_id,
            methods,
            expires_at: now.plus(SSO_LIFETIME),
        }
    }

    /// When the session began: it lasts [`SSO_LIFETIME`] from then and is never extended.
    pub fn began(&self) -> Timestamp {
        Timestamp(self.expires_at.0.saturating_sub(SSO_LIFETIME.0))
    }

    /// When the user last authenticated.
    pub fn auth_time(&self) -> Option<Timestamp> {
        self.methods.iter().map(|m| m.at).max()
    }

    /// The KV TTL: the time left, at least 60 seconds.
    pub fn ttl(&self, now: Timestamp) -> u64 {
        crate::native::tokens::kv_ttl(self.expires_at, now)
    }
}

/// Whether an authorization request may resume `session`.
pub fn may_resume(session: &SsoSession, req: &AuthorizeRequest, now: Timestamp) -> bool {
    if now >= session.expires_at || req.prompt_login || session.methods.is_empty() {
        return false;
    }
    match (req.max_age, session.auth_time()) {
        (Some(max), Some(at)) => now.since(at) <= Seconds(max),
        (Some(_), None) => false,
        (None, _) => true,
    }
}

/// The `Set-Cookie` value that stores `handle` for the tenant's paths.
pub fn set_cookie(handle: &str, tenant: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={handle}; Path=/{tenant}/; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that deletes the cookie (at logout): the attributes it was set
/// with, an empty value and `Max-Age=0`, so the browser drops exactly that cookie.
pub fn clear_cookie(tenant: &str, secure: bool) -> String {
    format!("{}; Max-Age=0", set_cookie("", tenant, secure))
}

/// The cookie's value in a `Cookie` request header, if present.
pub fn read_cookie(header: Option<&str>) -> Option<&str> {
    header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::AuthMethod;

    fn request(max_age: Option<u64>, prompt_login: bool) -> AuthorizeRequest {
        AuthorizeRequest {
            client_id: "app".into(),
            client_name: "App".into(),
            redirect_uri: "http://127.0.0.1/cb".into(),
            response_mode: super::super::authorize::ResponseMode::Query,
            scope: "openid".into(),
            state: None,
            nonce: None,
            code_challenge: "x".into(),
            acr_values: None,
            max_age,
            prompt_login,
            prompt_none: false,
            prompt_create: false,
            login_hint: None,
        }
    }

    fn session() -> SsoSession {
        SsoSession::new(
            "u".into(),
            vec![SatisfiedMethod {
                method: AuthMethod::Password,
                at: Timestamp(1000),
            }],
            Timestamp(1000),
        )
    }

    #[test]
    fn prompt_login_and_max_age_decide_whether_a_session_is_resumed() {
        let s = session();
        assert!(may_resume(&s, &request(None, false), Timestamp(1100)));
        assert!(!may_resume(&s, &request(None, true), Timestamp(1100)));
        assert!(may_resume(&s, &request(Some(100), false), Timestamp(1100)));
        assert!(!may_resume(&s, &request(Some(99), false), Timestamp(1100)));
        assert!(!may_resume(&s, &request(Some(0), false), Timestamp(1001)));
        assert!(!may_resume(&s, &request(None, false), s.expires_at));
        let mut empty = s.clone();
        empty.methods.clear();
        assert!(!may_resume(&empty, &request(None, false), Timestamp(1100)));
    }

    #[test]
    fn the_cookie_is_a_session_cookie_for_the_tenant() {
        let c = set_cookie("vct_abc", "contoso", true);
        assert_eq!(
            c,
            "vestibule_session=vct_abc; Path=/contoso/; HttpOnly; SameSite=Lax; Secure"
        );
        assert!(!c.contains("Expires") && !c.contains("Max-Age"));
        assert!(!set_cookie("v", "t", false).contains("Secure"));
        assert_eq!(
            read_cookie(Some("a=1; vestibule_session=vct_x ;b=2")),
            Some("vct_x")
        );
        assert_eq!(read_cookie(Some("vestibule_sessionx=1")), None);
        assert_eq!(read_cookie(None), None);
        assert_eq!(
            clear_cookie("contoso", true),
            "vestibule_session=; Path=/contoso/; HttpOnly; SameSite=Lax; Secure; Max-Age=0"
        );
        assert_eq!(read_cookie(Some("vestibule_session=")), None);
    }
}
