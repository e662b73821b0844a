//! Issuing and verifying EdDSA (Ed25519) JWTs.
//!
//! Issuing writes the header `{"alg":"EdDSA","typ":"JWT","kid":"<signer>"}` (or
//! `"typ":"at+jwt"` for RFC 9068 access tokens), serializes the claims once and signs.
//!
//! Verifying follows RFC 8725 (JWT best practices) in this order, stopping at the first
//! failure, so no claim is ever read from a token whose signature has not been checked:
//!
//! 1. size limit, then exactly three strict base64url parts (no padding, canonical);
//! 2. header: `alg` must be exactly `EdDSA` (so `none`, `HS256`, ... are refused), no
//!    `crit`, the expected `typ`, and a `kid` found in the keyring (keys are never taken
//!    from the token itself: `jwk`, `jku`, `x5u` are ignored);
//! 3. the Ed25519 signature, with `verify_strict` (refuses weak keys and malleable
//!    signatures);
//! 4. the claims: `iss` and `aud` equal the expected values, `exp`, `nbf` and `iat` agree
//!    with `now` within the leeway.

use super::claims::Claims;
use super::err::{TokenError, shorten};
use super::keyring::{ALG, Keyring};
use crate::pii::Secret;
use crate::time::{Seconds, Timestamp};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signature;
use serde::{Deserialize, Serialize};

/// Tokens longer than this are refused before any decoding (a JWT we issue is < 2 KiB).
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The `typ` header, which keeps one kind of token from being accepted as another
/// (RFC 8725 §3.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenType {
    /// `typ: JWT`: ID tokens, and access tokens for clients that expect Entra's shape.
    Jwt,
    /// `typ: at+jwt`: RFC 9068 access tokens.
    AccessToken,
}

impl TokenType {
    /// The header value written when issuing.
    pub fn header_value(self) -> &'static str {
        match self {
            TokenType::Jwt => "JWT",
            TokenType::AccessToken => "at+jwt",
        }
    }

    /// Whether a presented `typ` means this type. Media types compare case-insensitively and
    /// may carry the `application/` prefix (RFC 7515 §4.1.9).
    fn matches(self, typ: &str) -> bool {
        let typ = match typ.get(..12) {
            Some(prefix) if prefix.eq_ignore_ascii_case("application/") => typ.get(12..),
            _ => Some(typ),
        };
        typ.is_some_and(|t| t.eq_ignore_ascii_case(self.header_value()))
    }
}

/// What a verifier expects of a token besides a good signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validation<'a> {
    /// The exact `iss` (the discovery document's `issuer`).
    pub issuer: &'a str,
    /// The exact `aud` (a client id, or the resource's identifier).
    pub audience: &'a str,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: Seconds,
    /// The `typ` header required.
    pub token_type: TokenType,
}

impl<'a> Validation<'a> {
    /// Expects `typ: JWT` from this issuer for this audience, with a 60 s leeway.
    pub fn new(issuer: &'a str, audience: &'a str) -> Validation<'a> {
        Validation {
            issuer,
            audience,
            leeway: Seconds(60),
            token_type: TokenType::Jwt,
        }
    }
}

#[derive(Serialize)]
struct HeaderOut<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

#[derive(Deserialize)]
struct HeaderIn {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// Signs `claims` with the keyring's signer as a `typ: JWT` token (ID tokens, and access
/// tokens for MSAL clients, which expect Entra's `JWT`).
///
/// Fails only when the claims are inconsistent (empty `iss`/`sub`/`aud`, `exp` not after
/// `iat`, `nbf` not before `exp`, `auth_time` after `iat`): such a token must not exist.
pub fn issue(keyring: &Keyring, claims: &Claims) -> Result<Secret<String>, TokenError> {
    issue_typed(keyring, claims, TokenType::Jwt)
}

/// Like [`issue`], with an explicit `typ` header (use [`TokenType::AccessToken`] for
/// RFC 9068 access tokens).
pub fn issue_typed(
    keyring: &Keyring,
    claims: &Claims,
    token_type: TokenType,
) -> Result<Secret<String>, TokenError> {
    if let Some(reason) = claims.consistency_error() {
        return Err(TokenError::ClaimsInvalid { reason });
    }
    let signer = keyring.signer();
    let header = serde_json::to_vec(&HeaderOut {
        alg: ALG,
        typ: token_type.header_value(),
        kid: signer.kid(),
    })
    .map_err(|_| TokenError::ClaimsInvalid {
        reason: "header does not serialize",
    })?;
    let payload = serde_json::to_vec(claims).map_err(|_| TokenError::ClaimsInvalid {
        reason: "claims do not serialize",
    })?;
    Ok(signer.sign_compact(&header, &payload))
}

/// Checks a JWT issued by this keyring's issuer and returns its claims. See the module docs
/// for the order of checks; any failure means the token must not be trusted.
pub fn verify(
    keyring: &Keyring,
    token: &str,
    validation: &Validation<'_>,
    now: Timestamp,
) -> Result<Claims, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Malformed {
            reason: "token is too long",
        });
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed {
            reason: "a jws has exactly three parts",
        });
    };

    let header_bytes = decode(header_b64, "header is not base64url")?;
    let header: HeaderIn = from_json_object(&header_bytes).ok_or(TokenError::Malformed {
        reason: "header is not a json object with a string `alg`",
    })?;
    if header.alg != ALG || header.crit.is_some() {
        return Err(TokenError::UnsupportedAlgorithm {
            alg: shorten(&header.alg, 32),
        });
    }
    let typ = header.typ.unwrap_or_default();
    if !validation.token_type.matches(&typ) {
        return Err(TokenError::WrongType {
            typ: shorten(&typ, 32),
        });
    }
    let kid = header.kid.unwrap_or_default();
    let key = keyring.find(&kid).ok_or_else(|| TokenError::UnknownKey {
        kid: shorten(&kid, 64),
    })?;

    let signature_bytes = decode(signature_b64, "signature is not base64url")?;
    let signature = Signature::from_slice(&signature_bytes).map_err(|_| TokenError::Malformed {
        reason: "signature is not 64 bytes",
    })?;
    // The signing input is the first two parts exactly as received, including the dot.
    let signing_input_len = header_b64
        .len()
        .saturating_add(1)
        .saturating_add(payload_b64.len());
    let signing_input = token
        .get(..signing_input_len)
        .ok_or(TokenError::Malformed {
            reason: "token is truncated",
        })?;
    key.verifying_key()
        .verify_strict(signing_input.as_bytes(), &signature)
        .map_err(|_| TokenError::BadSignature)?;

    let payload = decode(payload_b64, "payload is not base64url")?;
    let claims: Claims = from_json_object(&payload).ok_or(TokenError::ClaimsInvalid {
        reason: "payload is not a json object with the registered claims",
    })?;
    check_claims(&claims, validation, now)?;
    Ok(claims)
}

fn check_claims(
    claims: &Claims,
    validation: &Validation<'_>,
    now: Timestamp,
) -> Result<(), TokenError> {
    if claims.iss != validation.issuer {
        return Err(TokenError::WrongIssuer);
    }
    if claims.aud != validation.audience {
        return Err(TokenError::WrongAudience);
    }
    if let Some(reason) = claims.consistency_error() {
        return Err(TokenError::ClaimsInvalid { reason });
    }
    let leeway = validation.leeway;
    // RFC 7519 §4.1.4: the current time must be before `exp`.
    if now >= claims.exp.plus(leeway) {
        return Err(TokenError::Expired { exp: claims.exp });
    }
    let latest_acceptable = now.plus(leeway);
    if claims.nbf.is_some_and(|nbf| nbf > latest_acceptable) || claims.iat > latest_acceptable {
        return Err(TokenError::NotYetValid);
    }
    Ok(())
}

/// Reads a JSON *object* into `T`. serde would also fill a struct from a JSON array by
/// position, which a JOSE header or claims set must never be.
fn from_json_object<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    // From `str`, not bytes: every other JSON in the crate is read from `str`, and each
    // reader type instantiates the deserialization code of every type again.
    serde_json::from_str(std::str::from_utf8(bytes).ok()?).ok()
}

fn decode(part: &str, reason: &'static str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed { reason })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::claims::Amr;

    const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";

    fn ring(kid: &str, seed: u8) -> Keyring {
        let seed = URL_SAFE_NO_PAD.encode([seed; 32]);
        Keyring::parse(&format!(r#"[{{"kid":"{kid}","seed":"{seed}"}}]"#)).unwrap()
    }

    fn claims() -> Claims {
        let mut c = Claims::new(
            "https://issuer",
            "user-1",
            "client-1",
            Timestamp(1000),
            Timestamp(2000),
        );
        c.auth_time = Some(Timestamp(990));
        c.amr = vec![Amr::Pwd, Amr::Otp, Amr::Mfa];
        c
    }

    fn sign_raw(keyring: &Keyring, header: &str, payload: &str) -> String {
        keyring
            .signer()
            .sign_compact(header.as_bytes(), payload.as_bytes())
            .into_inner()
    }

    #[test]
    fn issued_tokens_round_trip_with_the_expected_header() {
        let keyring = ring("k1", 1);
        let token = issue(&keyring, &claims()).unwrap().into_inner();
        let header_b64 = token.split('.').next().unwrap();
        let header = URL_SAFE_NO_PAD.decode(header_b64).unwrap();
        assert_eq!(header, br#"{"alg":"EdDSA","typ":"JWT","kid":"k1"}"#);
        let back = verify(
            &keyring,
            &token,
            &Validation::new("https://issuer", "client-1"),
            Timestamp(1500),
        )
        .unwrap();
        assert_eq!(back, claims());
    }

    #[test]
    fn each_failure_has_its_code() {
        let keyring = ring("k1", 1);
        let token = issue(&keyring, &claims()).unwrap().into_inner();
        let v = Validation::new("https://issuer", "client-1");
        let code = |t: &str, v: &Validation<'_>, now: u64| {
            verify(&keyring, t, v, Timestamp(now)).unwrap_err().code()
        };

        assert_eq!(code(&token, &v, 2000 + 60), "token.expired");
        assert_eq!(code(&token, &v, 1000 - 61), "token.not_yet_valid");
        assert_eq!(
            code(&token, &Validation::new("https://other", "client-1"), 1500),
            "token.wrong_issuer"
        );
        assert_eq!(
            code(&token, &Validation::new("https://issuer", "client-2"), 1500),
            "token.wrong_audience"
        );
        let mut at = v;
        at.token_type = TokenType::AccessToken;
        assert_eq!(code(&token, &at, 1500), "token.wrong_type");
        let other = ring("k2", 2);
        let foreign = issue(&other, &claims()).unwrap().into_inner();
        assert_eq!(code(&foreign, &v, 1500), "token.unknown_kid");
        let same_kid_other_key = issue(&ring("k1", 3), &claims()).unwrap().into_inner();
        assert_eq!(code(&same_kid_other_key, &v, 1500), "token.bad_signature");
        assert_eq!(code("a.b", &v, 1500), "token.malformed");
        assert_eq!(code("a.b.c.d", &v, 1500), "token.malformed");
        assert_eq!(
            code(&"a".repeat(MAX_TOKEN_LEN + 1), &v, 1500),
            "token.malformed"
        );
        // Within the leeway both ends are accepted.
        assert!(verify(&keyring, &token, &v, Timestamp(2059)).is_ok());
        assert!(verify(&keyring, &token, &v, Timestamp(940)).is_ok());
    }

    #[test]
    fn alg_none_and_other_algorithms_are_refused() {
        let keyring = ring("k1", 1);
        let payload = serde_json::to_string(&claims()).unwrap();
        let v = Validation::new("https://issuer", "client-1");
        for alg in ["none", "HS256", "RS256", "ES256", "eddsa", "Ed25519"] {
            let header = format!(r#"{{"alg":"{alg}","typ":"JWT","kid":"k1"}}"#);
            // Signed with the right key: only the algorithm is wrong.
            let token = sign_raw(&keyring, &header, &payload);
            let err = verify(&keyring, &token, &v, Timestamp(1500)).unwrap_err();
            assert_eq!(err.code(), "token.unsupported_alg", "{alg}");
        }
        // The classic unsigned token.
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT","kid":"k1"}"#),
            URL_SAFE_NO_PAD.encode(&payload)
        );
        assert_eq!(
            verify(&keyring, &unsigned, &v, Timestamp(1500))
                .unwrap_err()
                .code(),
            "token.unsupported_alg"
        );
    }

    #[test]
    fn headers_with_crit_duplicate_alg_or_no_kid_are_refused() {
        let keyring = ring("k1", 1);
        let payload = serde_json::to_string(&claims()).unwrap();
        let v = Validation::new("https://issuer", "client-1");
        let cases = [
            (
                r#"{"alg":"EdDSA","typ":"JWT","kid":"k1","crit":["exp"]}"#,
                "token.unsupported_alg",
            ),
            (
                r#"{"alg":"none","alg":"EdDSA","typ":"JWT","kid":"k1"}"#,
                "token.malformed",
            ),
            (r#"{"alg":"EdDSA","typ":"JWT"}"#, "token.unknown_kid"),
            (r#"{"alg":"EdDSA","kid":"k1"}"#, "token.wrong_type"),
            (r#"["EdDSA"]"#, "token.malformed"),
        ];
        for (header, code) in cases {
            let token = sign_raw(&keyring, header, &payload);
            assert_eq!(
                verify(&keyring, &token, &v, Timestamp(1500))
                    .unwrap_err()
                    .code(),
                code,
                "{header}"
            );
        }
        // typ is a media type: case and the application/ prefix do not matter.
        for typ in ["jwt", "application/JWT"] {
            let header = format!(r#"{{"alg":"EdDSA","typ":"{typ}","kid":"k1"}}"#);
            assert!(
                verify(
                    &keyring,
                    &sign_raw(&keyring, &header, &payload),
                    &v,
                    Timestamp(1500)
                )
                .is_ok()
            );
        }
    }

    #[test]
    fn access_tokens_carry_at_jwt_and_are_refused_as_id_tokens() {
        let keyring = ring("k1", 1);
        let token = issue_typed(&keyring, &claims(), TokenType::AccessToken)
            .unwrap()
            .into_inner();
        let mut v = Validation::new("https://issuer", "client-1");
        assert_eq!(
            verify(&keyring, &token, &v, Timestamp(1500))
                .unwrap_err()
                .code(),
            "token.wrong_type"
        );
        v.token_type = TokenType::AccessToken;
        assert!(verify(&keyring, &token, &v, Timestamp(1500)).is_ok());
    }

    #[test]
    fn inconsistent_claims_are_never_signed() {
        let keyring = ring("k1", 1);
        let mut c = claims();
        c.exp = c.iat;
        assert_eq!(
            issue(&keyring, &c).unwrap_err().code(),
            "token.claims_invalid"
        );
    }

    #[test]
    fn old_keys_still_verify_after_rotation() {
        let old = ring("old", 1);
        let token = issue(&old, &claims()).unwrap().into_inner();
        let seed_new = URL_SAFE_NO_PAD.encode([2u8; 32]);
        let seed_old = URL_SAFE_NO_PAD.encode([1u8; 32]);
        let rotated = Keyring::parse(&format!(
            r#"[{{"kid":"new","seed":"{seed_new}"}},{{"kid":"old","seed":"{seed_old}"}}]"#
        ))
        .unwrap();
        let v = Validation::new("https://issuer", "client-1");
        assert!(verify(&rotated, &token, &v, Timestamp(1500)).is_ok());
        let fresh = issue(&rotated, &claims()).unwrap().into_inner();
        assert_eq!(
            verify(&old, &fresh, &v, Timestamp(1500))
                .unwrap_err()
                .code(),
            "token.unknown_kid"
        );
    }

    #[test]
    fn the_rfc_8037_a4_signature_is_reproduced() {
        let keyring = Keyring::parse(&format!(r#"[{{"kid":"a","seed":"{RFC8037_D}"}}]"#)).unwrap();
        let jws = keyring
            .signer()
            .sign_compact(br#"{"alg":"EdDSA"}"#, b"Example of Ed25519 signing")
            .into_inner();
        assert_eq!(
            jws,
            "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.\
             hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
        );
    }
}
