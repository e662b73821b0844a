//! The OpenID Provider metadata served at `/.well-known/openid-configuration`
//! (OpenID Connect Discovery 1.0 §3, RFC 8414).
//!
//! Only what Vestibule really does is advertised: the authorization code flow with PKCE
//! `S256`, refresh tokens, public clients (`token_endpoint_auth_methods_supported:
//! ["none"]`, as MSAL browser apps are), EdDSA-signed ID tokens, and the claims
//! [`crate::token::Claims`] can carry, including `amr`, `acr` and `auth_time` for RFC 9470
//! step-up. The native-auth grants (`password`, `oob`, `mfa_oob`, `continuation_token`)
//! are Entra extensions that clients find by endpoint, not by metadata, so they are not
//! listed.

use super::err::OidcError;
use super::uri;
use crate::token::err::shorten;
use serde::Serialize;

/// Where the Worker serves each endpoint. All must be `https` (or `http` on loopback for
/// development).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// `authorization_endpoint`.
    pub authorization: String,
    /// `token_endpoint`.
    pub token: String,
    /// `jwks_uri`.
    pub jwks_uri: String,
    /// `userinfo_endpoint`, if served.
    pub userinfo: Option<String>,
    /// `end_session_endpoint`, if served.
    pub end_session: Option<String>,
}

/// The discovery document. Serialize it as the response body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiscoveryDocument {
    /// Must equal every token's `iss` exactly.
    pub issuer: String,
    /// Where the user authenticates.
    pub authorization_endpoint: String,
    /// Where codes and refresh tokens are exchanged.
    pub token_endpoint: String,
    /// The JWK Set (see [`crate::token::jwks`]).
    pub jwks_uri: String,
    /// Userinfo, if served.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userinfo_endpoint: Option<String>,
    /// RP-initiated logout, if served.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<String>,
    /// `["code"]`: no implicit or hybrid flow.
    pub response_types_supported: Vec<&'static str>,
    /// `["query", "fragment"]`, the modes MSAL uses.
    pub response_modes_supported: Vec<&'static str>,
    /// `["authorization_code", "refresh_token"]`.
    pub grant_types_supported: Vec<&'static str>,
    /// `["public"]`.
    pub subject_types_supported: Vec<&'static str>,
    /// `["EdDSA"]`.
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    /// `["none"]`: public clients with PKCE.
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// `["S256"]`: `plain` is refused.
    pub code_challenge_methods_supported: Vec<&'static str>,
    /// The scopes MSAL requests.
    pub scopes_supported: Vec<&'static str>,
    /// Every claim the tokens can carry.
    pub claims_supported: Vec<&'static str>,
    /// `true`: authorization responses carry `iss` (RFC 9207), against mix-up attacks.
    pub authorization_response_iss_parameter_supported: bool,
    /// The `acr` values this issuer can satisfy (RFC 9470), if any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub acr_values_supported: Vec<String>,
}

/// Claims [`crate::token::Claims`] can carry.
pub const CLAIMS_SUPPORTED: [&str; 21] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "auth_time",
    "amr",
    "acr",
    "nonce",
    "sid",
    "oid",
    "tid",
    "ver",
    "preferred_username",
    "name",
    "email",
    "scp",
    "azp",
    "client_id",
    "jti",
];

/// Builds the discovery document, refusing an issuer or endpoint a client could not trust.
pub fn discovery_document(
    issuer: &str,
    endpoints: &Endpoints,
    acr_values_supported: &[String],
) -> Result<DiscoveryDocument, OidcError> {
    check_issuer(issuer)?;
    check_endpoint("authorization_endpoint", &endpoints.authorization)?;
    check_endpoint("token_endpoint", &endpoints.token)?;
    check_endpoint("jwks_uri", &endpoints.jwks_uri)?;
    if let Some(userinfo) = &endpoints.userinfo {
        check_endpoint("userinfo_endpoint", userinfo)?;
    }
    if let Some(end_session) = &endpoints.end_session {
        check_endpoint("end_session_endpoint", end_session)?;
    }
    Ok(DiscoveryDocument {
        issuer: issuer.to_string(),
        authorization_endpoint: endpoints.authorization.clone(),
        token_endpoint: endpoints.token.clone(),
        jwks_uri: endpoints.jwks_uri.clone(),
        userinfo_endpoint: endpoints.userinfo.clone(),
        end_session_endpoint: endpoints.end_session.clone(),
        response_types_supported: vec!["code"],
        response_modes_supported: vec!["query", "fragment"],
        grant_types_supported: vec!["authorization_code", "refresh_token"],
        subject_types_supported: vec!["public"],
        id_token_signing_alg_values_supported: vec!["EdDSA"],
        token_endpoint_auth_methods_supported: vec!["none"],
        code_challenge_methods_supported: vec!["S256"],
        scopes_supported: vec!["openid", "profile", "email", "offline_access"],
        claims_supported: CLAIMS_SUPPORTED.to_vec(),
        authorization_response_iss_parameter_supported: true,
        acr_values_supported: acr_values_supported.to_vec(),
    })
}

fn check_issuer(issuer: &str) -> Result<(), OidcError> {
    let invalid = |reason| OidcError::IssuerInvalid {
        value: shorten(issuer, 120),
        reason,
    };
    let parts = uri::parse(issuer).ok_or(invalid("not an absolute url"))?;
    if !uri::is_web_url(&parts) {
        return Err(invalid("must use https (http only on localhost)"));
    }
    if parts.has_query || parts.has_fragment {
        return Err(invalid("must have no query or fragment"));
    }
    Ok(())
}

fn check_endpoint(name: &'static str, url: &str) -> Result<(), OidcError> {
    let invalid = |reason| OidcError::EndpointInvalid { name, reason };
    let parts = uri::parse(url).ok_or(invalid("not an absolute url"))?;
    if !uri::is_web_url(&parts) {
        return Err(invalid("must use https (http only on localhost)"));
    }
    if parts.has_fragment {
        return Err(invalid("must have no fragment"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints(base: &str) -> Endpoints {
        Endpoints {
            authorization: format!("{base}/oauth2/v2.0/authorize"),
            token: format!("{base}/oauth2/v2.0/token"),
            jwks_uri: format!("{base}/discovery/v2.0/keys"),
            userinfo: None,
            end_session: None,
        }
    }

    #[test]
    fn the_document_advertises_only_what_is_implemented() {
        let base = "https://id.example.com/contoso";
        let doc =
            discovery_document(&format!("{base}/v2.0"), &endpoints(base), &["c1".into()]).unwrap();
        let json = serde_json::to_value(&doc).unwrap();
        assert_eq!(json["issuer"], "https://id.example.com/contoso/v2.0");
        assert_eq!(
            json["id_token_signing_alg_values_supported"],
            serde_json::json!(["EdDSA"])
        );
        assert_eq!(
            json["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        assert_eq!(
            json["response_types_supported"],
            serde_json::json!(["code"])
        );
        assert_eq!(
            json["grant_types_supported"],
            serde_json::json!(["authorization_code", "refresh_token"])
        );
        assert_eq!(json["acr_values_supported"], serde_json::json!(["c1"]));
        for claim in ["amr", "acr", "auth_time"] {
            assert!(doc.claims_supported.contains(&claim), "{claim}");
        }
        assert!(json.get("userinfo_endpoint").is_none());
    }

    #[test]
    fn the_supported_claims_are_exactly_the_fields_of_claims() {
        use crate::time::Timestamp;
        use crate::token::Claims;
        let mut c = Claims::new("i", "s", "a", Timestamp(1), Timestamp(2));
        c.nbf = Some(Timestamp(1));
        c.auth_time = Some(Timestamp(1));
        c.amr = vec![crate::token::Amr::Pwd];
        for field in [
            &mut c.acr,
            &mut c.oid,
            &mut c.tid,
            &mut c.nonce,
            &mut c.sid,
            &mut c.ver,
            &mut c.scp,
            &mut c.azp,
            &mut c.client_id,
            &mut c.jti,
        ] {
            *field = Some("x".into());
        }
        c.preferred_username = Some(crate::pii::Pii::new("x".into()));
        c.name = Some(crate::pii::Pii::new("x".into()));
        c.email = Some(crate::pii::Pii::new("x".into()));
        let json = serde_json::to_value(&c).unwrap();
        let mut fields: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut advertised = CLAIMS_SUPPORTED.to_vec();
        fields.sort_unstable();
        advertised.sort_unstable();
        assert_eq!(fields, advertised);
    }

    #[test]
    fn untrustworthy_issuers_and_endpoints_are_refused() {
        let ok = endpoints("https://id.example.com");
        for issuer in [
            "http://id.example.com",
            "https://id.example.com?x=1",
            "https://id.example.com#f",
            "id.example.com",
        ] {
            let err = discovery_document(issuer, &ok, &[]).unwrap_err();
            assert_eq!(err.code(), "oidc.issuer_invalid", "{issuer}");
        }
        let mut bad = ok.clone();
        bad.token = "http://id.example.com/token".into();
        let err = discovery_document("https://id.example.com", &bad, &[]).unwrap_err();
        assert_eq!(err.code(), "oidc.endpoint_invalid");
        assert_eq!(err.target().as_deref(), Some("token_endpoint"));
        // Local development over http works.
        assert!(
            discovery_document(
                "http://localhost:8787",
                &endpoints("http://localhost:8787"),
                &[]
            )
            .is_ok()
        );
    }
}
