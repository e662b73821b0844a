//! The userinfo endpoint's decisions (OIDC Core §5.3, RFC 6750, RFC 9470): reading the
//! bearer token, which claims the granted scopes release, and the step-up check.
//!
//! Userinfo doubles as Vestibule's example of a protected resource for RFC 9470: a
//! caller may add `acr_values` and/or `max_age` to the query to say what the resource
//! requires, and a token that falls short gets `401` with
//! `WWW-Authenticate: Bearer error="insufficient_user_authentication", …`
//! ([`super::step_up_needed`]), telling the client to send the user back to the
//! authorization endpoint with those values.

use super::authorize::Params;
use super::step_up::{InsufficientAuth, step_up_needed};
use crate::time::{Seconds, Timestamp};
use crate::token::Claims;
use crate::urlencoded::PairsError;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1).
pub fn bearer(header: Option<&str>) -> Option<&str> {
    let header = header?.trim();
    let (scheme, token) = header.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The `aud` a JWT claims, read **before** verification only to choose the audience to
/// verify against (our access tokens are issued to the client that asked for them).
/// The verification that follows checks the signature, issuer and this audience, so a
/// forged value gains nothing.
pub fn audience_hint(token: &str) -> Option<String> {
    if token.len() > crate::token::MAX_TOKEN_LEN {
        return None;
    }
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let value: Value = serde_json::from_str(std::str::from_utf8(&bytes).ok()?).ok()?;
    value.get("aud")?.as_str().map(str::to_string)
}

/// Whether verified claims are an access token (ours carry `scp`; ID tokens do not), so
/// an ID token cannot be used as a bearer token.
pub fn is_access_token(claims: &Claims) -> bool {
    claims
        .scp
        .as_deref()
        .is_some_and(|s| s.split(' ').any(|v| v == "openid"))
}

/// The userinfo body: `sub` always; `email` with the `email` scope; `name` and
/// `preferred_username` with `profile`.
pub fn claims_for(claims: &Claims, email: &str, name: Option<&str>) -> Value {
    let scopes: Vec<&str> = claims
        .scp
        .as_deref()
        .unwrap_or_default()
        .split(' ')
        .collect();
    let mut body = Map::new();
    body.insert("sub".into(), Value::from(claims.sub.clone()));
    if scopes.contains(&"email") {
        body.insert("email".into(), Value::from(email));
        // Addresses are proven by a code before an account exists.
        body.insert("email_verified".into(), Value::Bool(true));
    }
    if scopes.contains(&"profile") {
        body.insert("preferred_username".into(), Value::from(email));
        if let Some(name) = name {
            body.insert("name".into(), Value::from(name));
        }
    }
    Value::Object(body)
}

/// What the caller said the resource requires, from the query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Required {
    /// Acceptable `acr` values.
    pub acr_values: Vec<String>,
    /// Required recency of authentication.
    pub max_age: Option<Seconds>,
}

/// Reads `acr_values` and `max_age` from a userinfo query; `Err` for a malformed one.
pub fn required(query: &str) -> Result<Required, &'static str> {
    let params = Params::parse(query).map_err(|e| match e {
        PairsError::Repeated(_) => "a parameter appears more than once",
        PairsError::NameNotUtf8 | PairsError::ValueNotUtf8(_) => {
            "a parameter is not valid utf-8; send it as utf-8, percent-encoded"
        }
    })?;
    let acr_values = params
        .get("acr_values")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let max_age = match params.get("max_age") {
        None => None,
        Some(text) => Some(Seconds(
            text.parse::<u64>()
                .map_err(|_| "`max_age` must be a non-negative number of seconds")?,
        )),
    };
    Ok(Required {
        acr_values,
        max_age,
    })
}

/// The RFC 9470 check for this resource.
pub fn step_up(claims: &Claims, required: &Required, now: Timestamp) -> Option<InsufficientAuth> {
    step_up_needed(claims, &required.acr_values, required.max_age, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(scp: &str) -> Claims {
        let mut c = Claims::new("i", "user-1", "app", Timestamp(100), Timestamp(200));
        c.scp = Some(scp.into());
        c.acr = Some("1".into());
        c.auth_time = Some(Timestamp(100));
        c
    }

    #[test]
    fn the_bearer_token_is_read_strictly() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Some("abc"));
        for bad in [
            None,
            Some(""),
            Some("Basic abc"),
            Some("Bearer"),
            Some("Bearer "),
        ] {
            assert_eq!(bearer(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_audience_hint_reads_the_payload_only() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"aud":"app-1","sub":"x"}"#);
        assert_eq!(
            audience_hint(&format!("h.{payload}.s")).as_deref(),
            Some("app-1")
        );
        assert_eq!(audience_hint("nope"), None);
        assert_eq!(audience_hint("a.!!.c"), None);
    }

    #[test]
    fn scopes_release_claims_and_id_tokens_are_not_bearer_tokens() {
        let c = access("openid");
        assert_eq!(
            claims_for(&c, "a@example.com", Some("A")),
            serde_json::json!({"sub": "user-1"})
        );
        let c = access("openid profile email");
        let body = claims_for(&c, "a@example.com", Some("A"));
        assert_eq!(body["email"], "a@example.com");
        assert_eq!(body["name"], "A");
        assert!(is_access_token(&c));
        let mut id = c.clone();
        id.scp = None;
        assert!(!is_access_token(&id));
    }

    #[test]
    fn the_resource_requirements_come_from_the_query() {
        let r = required("acr_values=2&max_age=60").unwrap();
        assert_eq!(r.acr_values, ["2"]);
        let c = access("openid");
        let need = step_up(&c, &r, Timestamp(150)).unwrap();
        assert!(need.acr_unmet);
        assert!(step_up(&c, &required("acr_values=1%202").unwrap(), Timestamp(150)).is_none());
        assert!(step_up(&c, &required("").unwrap(), Timestamp(150)).is_none());
        assert!(required("max_age=x").is_err());
    }
}
