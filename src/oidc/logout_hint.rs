//! Whether a logout request's `id_token_hint` is ours (OpenID Connect RP-Initiated
//! Logout 1.0 §2), and what it says about who is asking.
//!
//! The hint is verified like every other token (signature with the tenant's keyring,
//! `iss`, `aud`, `typ`), and must be an ID token, not an access token. An expired hint is
//! accepted: §2 lets the OP skip its expiry, and an application typically logs out long
//! after its ID token expired. A hint that fails any other check is [`Hint::Invalid`],
//! which refuses the redirect ([`super::logout::decide`]) and never counts as trusted.

use super::logout::LogoutRequest;
use super::userinfo::{audience_hint, is_access_token};
use crate::time::Timestamp;
use crate::token::{Claims, Keyring, TokenError, Validation, verify};

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

/// Whether the request provably comes from the application the person signed in to: a
/// valid hint whose audience is the `client_id`, if one was given. Only such a request
/// ends the session without asking.
pub fn trusted(req: &LogoutRequest, hint: &Hint) -> bool {
    match hint {
        Hint::Valid(claims) => req.client_id.as_deref().is_none_or(|id| id == claims.aud),
        Hint::Absent | Hint::Invalid => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::logout::tests::{ISS, request, valid};
    use crate::token::{Amr, TokenType, issue, issue_typed};
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

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

    #[test]
    fn only_a_valid_hint_for_the_named_client_is_trusted() {
        let r = request(None, None, None);
        assert!(trusted(&r, &valid("shop", None)));
        assert!(!trusted(&r, &Hint::Absent));
        assert!(!trusted(&r, &Hint::Invalid));
        let named = request(None, Some("shop"), None);
        assert!(trusted(&named, &valid("shop", None)));
        assert!(!trusted(&named, &valid("other-app", None)));
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
}
