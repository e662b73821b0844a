//! The claims Vestibule puts in its ID and access tokens, typed so that a token cannot be
//! issued with a misspelled claim or an `amr` value outside RFC 8176.
//!
//! One struct serves both token kinds because they share most claims; fields that belong to
//! only one kind are optional and omitted from the JSON when `None`.
//!
//! - ID token (what `@azure/msal-browser` reads to build the account): `oid`, `tid`, `sub`,
//!   `preferred_username`, `name`, plus `ver: "2.0"`, `nonce`, `sid`.
//! - Access token (RFC 9068 style): `scp`, `azp` / `client_id`, `jti`.
//! - Both: `auth_time`, `amr`, `acr` and (when a context was asked for and met) `acrs`,
//!   which the resource server needs for RFC 9470 step-up.
//!
//! Unknown claims are ignored when reading (RFC 7519 §4), but each known claim may appear
//! only once: a duplicated `aud` or `exp` makes the token unreadable rather than ambiguous.
//! Reading is strict where it matters for our own tokens: `aud` must be a single string
//! (the form we issue) and every `amr` value must be a registered one.

use crate::pii::Pii;
use crate::policy::{AuthMethod, SatisfiedMethod};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The `ver` of Entra v2.0 ID tokens, which MSAL clients expect.
pub const ID_TOKEN_VERSION: &str = "2.0";

/// An Authentication Method Reference value from the IANA registry (RFC 8176, plus `pop`
/// registered by the OpenID Foundation). Serialized as the registry's lowercase string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Amr {
    /// Password-based authentication.
    Pwd,
    /// One-time password. Vestibule uses it for a code sent by email (the registry has no
    /// email value).
    Otp,
    /// Confirmation by SMS text message to a registered number.
    Sms,
    /// Multiple-factor authentication: more than one method was used.
    Mfa,
    /// Multiple-channel authentication.
    Mca,
    /// Telephone call to a registered number.
    Tel,
    /// Proof of possession of a hardware-secured key.
    Hwk,
    /// Proof of possession of a software-secured key.
    Swk,
    /// Personal identification number or pattern.
    Pin,
    /// Knowledge-based authentication.
    Kba,
    /// Risk-based authentication.
    Rba,
    /// User presence test.
    User,
    /// Facial recognition.
    Face,
    /// Fingerprint biometric.
    Fpt,
    /// Iris scan.
    Iris,
    /// Retina scan.
    Retina,
    /// Voice biometric.
    Vbm,
    /// Smart card.
    Sc,
    /// Windows integrated authentication.
    Wia,
    /// Use of geolocation information.
    Geo,
    /// Proof of possession of a key (OpenID Foundation registration).
    Pop,
}

/// The claims of one JWT. Build with [`Claims::new`] and set the optional fields needed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer: the exact `issuer` of the discovery document.
    pub iss: String,
    /// Subject: a stable, non-reassignable id of the user for this issuer.
    pub sub: String,
    /// Audience: the client id (ID token) or the resource (access token).
    pub aud: String,
    /// Expiry.
    pub exp: Timestamp,
    /// Issued at.
    pub iat: Timestamp,
    /// Not before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<Timestamp>,
    /// When the user last actively authenticated (OIDC `auth_time`, RFC 9470 `max_age`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<Timestamp>,
    /// How the user authenticated (RFC 8176). See [`amr_for`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<Amr>,
    /// Authentication context class reference satisfied (RFC 9470 `acr_values`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// Entra's authentication contexts this sign-in satisfied (`c1` … `c99`), e.g.
    /// `["c1"]`: what a resource checks before a sensitive action, since `acr` only says
    /// how many factors were used, not which Conditional Access context was met.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acrs: Vec<String>,
    /// ID token: the user's object id (MSAL account `localAccountId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oid: Option<String>,
    /// ID token: the tenant id (MSAL account `tenantId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    /// ID token: the sign-in name shown by the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<Pii<String>>,
    /// ID token: the display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Pii<String>>,
    /// ID token: the email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Pii<String>>,
    /// ID token: the `nonce` of the authorization request, echoed back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// ID token: the session id, for logout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// ID token: the token version, [`ID_TOKEN_VERSION`] for MSAL clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ver: Option<String>,
    /// Access token: granted scopes, space-separated (Entra `scp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    /// Access token: the client the token was issued to (Entra v2.0 `azp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    /// Access token: the client the token was issued to (RFC 9068 `client_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Access token: a unique token id (RFC 9068 `jti`), e.g. for revocation lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

impl Claims {
    /// The registered claims every token has; everything else starts empty.
    pub fn new(
        iss: impl Into<String>,
        sub: impl Into<String>,
        aud: impl Into<String>,
        iat: Timestamp,
        exp: Timestamp,
    ) -> Claims {
        Claims {
            iss: iss.into(),
            sub: sub.into(),
            aud: aud.into(),
            exp,
            iat,
            nbf: None,
            auth_time: None,
            amr: Vec::new(),
            acr: None,
            acrs: Vec::new(),
            oid: None,
            tid: None,
            preferred_username: None,
            name: None,
            email: None,
            nonce: None,
            sid: None,
            ver: None,
            scp: None,
            azp: None,
            client_id: None,
            jti: None,
        }
    }

    /// Whether the claims make sense on their own, before any signature: refuses what no
    /// issuer should sign and what no verifier should trust.
    pub(crate) fn consistency_error(&self) -> Option<&'static str> {
        if self.iss.is_empty() {
            return Some("`iss` is empty");
        }
        if self.sub.is_empty() {
            return Some("`sub` is empty");
        }
        if self.aud.is_empty() {
            return Some("`aud` is empty");
        }
        if self.exp <= self.iat {
            return Some("`exp` is not after `iat`");
        }
        if self.nbf.is_some_and(|nbf| nbf >= self.exp) {
            return Some("`nbf` is not before `exp`");
        }
        if self.auth_time.is_some_and(|t| t > self.iat) {
            return Some("`auth_time` is after `iat`");
        }
        None
    }
}

/// The RFC 8176 `amr` for the methods a session has satisfied, in a fixed order.
///
/// Each method maps to exactly one value, so the array says which methods were used:
/// password → `pwd`; email code → `otp` (the registry has no email value and `otp` is the
/// usual mapping); SMS code → `sms` only. `otp` is deliberately *not* added for SMS: the
/// registry defines `sms` for exactly this case, and adding `otp` would make "SMS" and
/// "email + SMS" look alike to a relying party that tests for `otp`.
///
/// `mfa` is added when two or more distinct methods were satisfied, matching how
/// Conditional Access counts a second factor. Note that email and SMS are both possession
/// factors in NIST terms; a relying party that needs NIST-style multi-factor should also
/// require `pwd`.
pub fn amr_for(methods: &[AuthMethod]) -> Vec<Amr> {
    let distinct: BTreeSet<AuthMethod> = methods.iter().copied().collect();
    let mut amr: Vec<Amr> = distinct
        .iter()
        .map(|method| match method {
            AuthMethod::Password => Amr::Pwd,
            AuthMethod::Email => Amr::Otp,
            AuthMethod::Sms => Amr::Sms,
        })
        .collect();
    if distinct.len() >= 2 {
        amr.push(Amr::Mfa);
    }
    amr
}

/// OIDC `auth_time`: when authentication completed, i.e. the latest satisfied method.
/// `None` if nothing was satisfied (then no token should be issued at all).
pub fn auth_time_of(methods: &[SatisfiedMethod]) -> Option<Timestamp> {
    methods.iter().map(|m| m.at).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_method_maps_to_one_rfc_8176_value_and_two_add_mfa() {
        use AuthMethod::*;
        let cases: [(&[AuthMethod], &[&str]); 7] = [
            (&[], &[]),
            (&[Password], &["pwd"]),
            (&[Email], &["otp"]),
            (&[Sms], &["sms"]),
            (&[Password, Email], &["pwd", "otp", "mfa"]),
            (&[Sms, Password, Sms], &["pwd", "sms", "mfa"]),
            (&[Email, Email], &["otp"]),
        ];
        for (methods, expected) in cases {
            let json = serde_json::to_value(amr_for(methods)).unwrap();
            assert_eq!(json, serde_json::json!(expected), "{methods:?}");
        }
    }

    #[test]
    fn auth_time_is_the_latest_satisfied_method() {
        let methods = [
            SatisfiedMethod {
                method: AuthMethod::Password,
                at: Timestamp(100),
            },
            SatisfiedMethod {
                method: AuthMethod::Sms,
                at: Timestamp(160),
            },
        ];
        assert_eq!(auth_time_of(&methods), Some(Timestamp(160)));
        assert_eq!(auth_time_of(&[]), None);
    }

    #[test]
    fn optional_claims_are_omitted_and_amr_is_an_array_of_strings() {
        let mut claims = Claims::new("https://i", "s", "a", Timestamp(10), Timestamp(20));
        let json = serde_json::to_value(&claims).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"iss":"https://i","sub":"s","aud":"a","exp":20,"iat":10})
        );
        claims.amr = vec![Amr::Pwd, Amr::Mfa];
        claims.email = Some(Pii::new("a@example.com".into()));
        let json = serde_json::to_value(&claims).unwrap();
        assert_eq!(json["amr"], serde_json::json!(["pwd", "mfa"]));
        assert_eq!(json["email"], "a@example.com");
    }

    #[test]
    fn inconsistent_claims_are_named() {
        let base = Claims::new("i", "s", "a", Timestamp(10), Timestamp(20));
        assert_eq!(base.consistency_error(), None);
        let mut c = base.clone();
        c.exp = Timestamp(10);
        assert!(c.consistency_error().is_some());
        let mut c = base.clone();
        c.nbf = Some(Timestamp(20));
        assert!(c.consistency_error().is_some());
        let mut c = base.clone();
        c.auth_time = Some(Timestamp(11));
        assert!(c.consistency_error().is_some());
        let mut c = base;
        c.iss.clear();
        assert!(c.consistency_error().is_some());
    }

    #[test]
    fn a_duplicated_claim_is_refused_when_reading() {
        let text = r#"{"iss":"i","sub":"s","aud":"a","aud":"b","exp":2,"iat":1}"#;
        assert!(serde_json::from_str::<Claims>(text).is_err());
    }
}
