//! Authorization codes: what is stored behind one, and the token endpoint's checks
//! (RFC 6749 §4.1.3, RFC 7636 §4.6, RFC 9700 §4.2.4).
//!
//! A code is an opaque `vac_` handle (256 random bits); the store keeps a [`CodeRecord`]
//! under its SHA-256 lookup key. It lives [`CODE_LIFETIME`] seconds and is good once:
//! the exchange replaces the record with a used marker that remembers the session family
//! the code started, so a second exchange (a stolen code replayed) is refused **and**
//! revokes every token issued from the first one (RFC 6749 §4.1.2).

use super::authorize::AuthorizeRequest;
use crate::flow::TokenGrant;
use crate::native::NativeError;
use crate::time::{Seconds, Timestamp};
use crate::token::verify_pkce_s256;
use serde::{Deserialize, Serialize};

/// How long a code is good for (RFC 6749 §4.1.2 recommends at most 10 minutes; a
/// browser redirect takes seconds).
pub const CODE_LIFETIME: Seconds = Seconds(120);

/// The record behind an authorization code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CodeRecord {
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI of the authorization request; the token request must repeat it.
    pub redirect_uri: String,
    /// The PKCE `S256` challenge.
    pub code_challenge: String,
    /// The ID token's `nonce`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The scopes asked for.
    pub scope: String,
    /// What the sign-in proved.
    pub grant: TokenGrant,
    /// The session family the tokens will belong to (their `sid`).
    pub family: String,
    /// The code stops working here.
    pub expires_at: Timestamp,
    /// Exchanged already: any further exchange revokes `family`.
    #[serde(default)]
    pub used: bool,
}

impl CodeRecord {
    /// The record for a finished sign-in.
    pub fn new(req: &AuthorizeRequest, grant: TokenGrant, family: String, now: Timestamp) -> Self {
        CodeRecord {
            client_id: req.client_id.clone(),
            redirect_uri: req.redirect_uri.clone(),
            code_challenge: req.code_challenge.clone(),
            nonce: req.nonce.clone(),
            scope: req.scope.clone(),
            grant,
            family,
            expires_at: now.plus(CODE_LIFETIME),
            used: false,
        }
    }

    /// The used marker kept after the exchange, until the session would end.
    pub fn spent(mut self) -> Self {
        self.used = true;
        self
    }
}

/// What the token endpoint does with a presented code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exchange {
    /// Issue tokens.
    Issue,
    /// Refuse with this error; when `revoke` is set, also revoke that family.
    Refuse {
        /// The OAuth error.
        error: NativeError,
        /// A session family to revoke (the code was replayed).
        revoke: Option<String>,
    },
}

/// An account disabled, or deleted, after its code was issued (up to the code's 120 s)
/// gets no tokens for it: the code proves a sign-in, not that the account may still have
/// one.
pub fn account_may_redeem(user: Option<&crate::flow::UserRecord>) -> Result<(), NativeError> {
    match user {
        Some(u) if !u.lockout.disabled => Ok(()),
        _ => Err(account_closed_error()),
    }
}

/// The refusal of a code whose account is disabled or deleted, whether KV says so
/// ([`account_may_redeem`]) or the account's guard object does, before KV shows it at
/// this location ([`crate::guard::spend::closed`]): one answer, whichever knew first.
pub fn account_closed_error() -> NativeError {
    invalid_grant("the account behind this authorization code is disabled or gone")
}

fn invalid_grant(description: &str) -> NativeError {
    NativeError::new("invalid_grant", description.to_string())
}

/// The token endpoint's decision for a code record and the request's parameters. Every
/// refusal is `invalid_grant` except a missing verifier (`invalid_request`), and none
/// says more than needed: the code is unknown, spent, expired, or does not match.
pub fn exchange(
    record: &CodeRecord,
    client_id: &str,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
    now: Timestamp,
) -> Exchange {
    let refuse = |error| Exchange::Refuse {
        error,
        revoke: None,
    };
    if record.used {
        return Exchange::Refuse {
            error: invalid_grant("the authorization code was already used"),
            revoke: Some(record.family.clone()),
        };
    }
    if now >= record.expires_at {
        return refuse(invalid_grant("the authorization code has expired"));
    }
    if record.client_id != client_id {
        return refuse(invalid_grant(
            "the authorization code was issued to another client",
        ));
    }
    if redirect_uri != Some(record.redirect_uri.as_str()) {
        return refuse(invalid_grant(
            "`redirect_uri` does not match the authorization request",
        ));
    }
    let Some(verifier) = code_verifier else {
        return refuse(NativeError::invalid_request(
            "pkce is required: send the `code_verifier`",
        ));
    };
    if !verify_pkce_s256(verifier, &record.code_challenge) {
        return refuse(invalid_grant(
            "the `code_verifier` does not match the code challenge",
        ));
    }
    Exchange::Issue
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::Pii;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn a_disabled_or_deleted_account_redeems_no_code() {
        let mut user: crate::flow::UserRecord = serde_json::from_value(
            serde_json::json!({"id": "u", "email": "a@example.com", "createdAt": 1}),
        )
        .unwrap();
        assert!(account_may_redeem(Some(&user)).is_ok());
        user.lockout.disabled = true;
        assert_eq!(
            account_may_redeem(Some(&user)).unwrap_err().error,
            "invalid_grant"
        );
        assert!(account_may_redeem(None).is_err());
    }

    fn record() -> CodeRecord {
        CodeRecord {
            client_id: "app".into(),
            redirect_uri: "https://a.example/cb".into(),
            code_challenge: CHALLENGE.into(),
            nonce: Some("n".into()),
            scope: "openid".into(),
            grant: TokenGrant {
                user_id: "u".into(),
                app_id: "app".into(),
                email: Pii::new("a@example.com".into()),
                display_name: None,
                amr: vec!["pwd".into()],
                acr: "1".into(),
                acrs: vec![],
                auth_time: Timestamp(90),
                methods: vec![],
            },
            family: "fam".into(),
            expires_at: Timestamp(220),
            used: false,
        }
    }

    fn code_of(e: Exchange) -> (&'static str, Option<String>) {
        match e {
            Exchange::Issue => ("issue", None),
            Exchange::Refuse { error, revoke } => (error.error, revoke),
        }
    }

    #[test]
    fn a_matching_exchange_issues() {
        let r = record();
        let e = exchange(
            &r,
            "app",
            Some("https://a.example/cb"),
            Some(VERIFIER),
            Timestamp(100),
        );
        assert_eq!(e, Exchange::Issue);
    }

    #[test]
    fn every_mismatch_is_refused() {
        let r = record();
        let uri = Some("https://a.example/cb");
        let now = Timestamp(100);
        assert_eq!(
            code_of(exchange(&r, "other", uri, Some(VERIFIER), now)).0,
            "invalid_grant"
        );
        assert_eq!(
            code_of(exchange(
                &r,
                "app",
                Some("https://a.example/cb/"),
                Some(VERIFIER),
                now
            ))
            .0,
            "invalid_grant"
        );
        assert_eq!(
            code_of(exchange(&r, "app", None, Some(VERIFIER), now)).0,
            "invalid_grant"
        );
        assert_eq!(
            code_of(exchange(&r, "app", uri, None, now)).0,
            "invalid_request"
        );
        let wrong = VERIFIER.replace('d', "e");
        assert_eq!(
            code_of(exchange(&r, "app", uri, Some(&wrong), now)).0,
            "invalid_grant"
        );
        // plain: the challenge itself as verifier.
        assert_eq!(
            code_of(exchange(&r, "app", uri, Some(CHALLENGE), now)).0,
            "invalid_grant"
        );
        assert_eq!(
            code_of(exchange(&r, "app", uri, Some(VERIFIER), Timestamp(220))).0,
            "invalid_grant"
        );
    }

    #[test]
    fn a_replayed_code_is_refused_and_revokes_its_family() {
        let spent = record().spent();
        assert_eq!(
            code_of(exchange(
                &spent,
                "app",
                Some("https://a.example/cb"),
                Some(VERIFIER),
                Timestamp(100)
            )),
            ("invalid_grant", Some("fam".into()))
        );
    }
}
