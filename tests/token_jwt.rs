//! Tokens through the public API: the RFC 8037 test vector, a sign-in's ID token as an MSAL
//! client receives it, rotation, and property tests that tampering always fails and no
//! input panics the verifier.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] fns: a panic here is a failed test"
)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use vestibule::pii::{Pii, Secret};
use vestibule::policy::{AuthMethod, SatisfiedMethod};
use vestibule::time::{Seconds, Timestamp};
use vestibule::token::{
    self, Claims, HandleKind, ID_TOKEN_VERSION, Keyring, SigningKey, TokenType, Validation,
};

/// RFC 8037 Appendix A.1: the Ed25519 private key `d` and public key `x`.
const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
/// RFC 8037 Appendix A.4: header `{"alg":"EdDSA"}`, payload "Example of Ed25519 signing".
const RFC8037_JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

const ISSUER: &str = "https://id.example.com/contoso/v2.0";
const CLIENT: &str = "00000000-0000-0000-0000-0000000000c1";

fn keyring() -> Keyring {
    let seed = URL_SAFE_NO_PAD.encode([42u8; 32]);
    Keyring::parse(&format!(r#"[{{"kid":"2026-11","seed":"{seed}"}}]"#)).unwrap()
}

fn id_token_claims(now: u64) -> Claims {
    let satisfied = [
        SatisfiedMethod {
            method: AuthMethod::Password,
            at: Timestamp(now - 30),
        },
        SatisfiedMethod {
            method: AuthMethod::Email,
            at: Timestamp(now - 5),
        },
    ];
    let methods: Vec<AuthMethod> = satisfied.iter().map(|m| m.method).collect();
    let mut claims = Claims::new(
        ISSUER,
        "sub-1",
        CLIENT,
        Timestamp(now),
        Timestamp(now + 3600),
    );
    claims.nbf = Some(Timestamp(now));
    claims.auth_time = token::auth_time_of(&satisfied);
    claims.amr = token::amr_for(&methods);
    claims.oid = Some("oid-1".into());
    claims.tid = Some("tid-1".into());
    claims.preferred_username = Some(Pii::new("alice@example.com".into()));
    claims.name = Some(Pii::new("Alice".into()));
    claims.ver = Some(ID_TOKEN_VERSION.into());
    claims
}

#[test]
fn the_rfc_8037_vector_is_reproduced_through_the_public_api() {
    let d: [u8; 32] = URL_SAFE_NO_PAD
        .decode(RFC8037_D)
        .unwrap()
        .try_into()
        .unwrap();
    let key = SigningKey::from_seed("rfc8037", &Secret::new(d)).unwrap();
    assert_eq!(
        URL_SAFE_NO_PAD.encode(key.public_key().to_bytes()),
        RFC8037_X
    );
    let jws = key.sign_compact(br#"{"alg":"EdDSA"}"#, b"Example of Ed25519 signing");
    assert_eq!(jws.expose(), RFC8037_JWS);
    // The JWKS publishes exactly the RFC's public key.
    let ring = Keyring::new(key, Vec::new()).unwrap();
    let jwks = token::jwks(&ring);
    assert_eq!(jwks["keys"][0]["x"], RFC8037_X);
    assert_eq!(jwks["keys"][0]["kid"], "rfc8037");
}

#[test]
fn an_id_token_after_password_and_email_otp_reads_as_msal_expects() {
    let ring = keyring();
    let now = 1_800_000_000;
    let token = token::issue(&ring, &id_token_claims(now)).unwrap();
    // What msal-common does: split, base64url-decode the payload, read the claims.
    let payload = token.expose().split('.').nth(1).unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(json["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    assert_eq!(json["auth_time"], now - 5);
    assert_eq!(json["ver"], "2.0");
    assert_eq!(json["preferred_username"], "alice@example.com");
    for claim in [
        "oid", "tid", "sub", "name", "iss", "aud", "exp", "iat", "nbf",
    ] {
        assert!(json.get(claim).is_some(), "{claim}");
    }
    // And what a relying party does: verify.
    let claims = token::verify(
        &ring,
        token.expose(),
        &Validation::new(ISSUER, CLIENT),
        Timestamp(now + 10),
    )
    .unwrap();
    assert_eq!(claims, id_token_claims(now));
    // client_info carries the same ids MSAL joins into homeAccountId.
    let info = token::client_info("oid-1", "tid-1");
    let info: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(info).unwrap()).unwrap();
    assert_eq!(info, serde_json::json!({"uid":"oid-1","utid":"tid-1"}));
}

#[test]
fn a_printed_token_is_redacted() {
    let token = token::issue(&keyring(), &id_token_claims(1_800_000_000)).unwrap();
    let printed = format!("{token:?} {token}");
    assert!(!printed.contains("eyJ"), "{printed}");
}

#[test]
fn a_refresh_token_is_found_by_its_hash_only() {
    let handle = token::refresh_token_handle(&[3u8; 32]);
    let presented = handle.token.expose().clone();
    let key = token::lookup_key(HandleKind::RefreshToken, &presented).unwrap();
    assert_eq!(key, handle.lookup_key);
    assert!(!key.as_str().contains(&presented[4..]));
    assert!(token::lookup_key(HandleKind::AuthorizationCode, &presented).is_err());
}

fn claims_strategy() -> impl Strategy<Value = Claims> {
    (
        "[ -~]{1,40}",
        "[ -~]{1,40}",
        "\\PC{0,30}",
        1u64..4_000_000_000,
        1u64..100_000,
        proptest::option::of("[a-z0-9]{1,10}"),
        proptest::collection::vec(
            prop_oneof![
                Just(AuthMethod::Password),
                Just(AuthMethod::Email),
                Just(AuthMethod::Sms)
            ],
            0..4,
        ),
    )
        .prop_map(|(sub, aud, name, iat, lifetime, acr, methods)| {
            let mut c = Claims::new(ISSUER, sub, aud, Timestamp(iat), Timestamp(iat + lifetime));
            c.name = Some(Pii::new(name));
            c.acr = acr;
            c.amr = token::amr_for(&methods);
            c.auth_time = Some(Timestamp(iat));
            c
        })
}

/// Replaces the character at `index` with another one from the JWS alphabet or beyond.
fn tamper(token: &str, index: usize, replacement: char) -> Option<String> {
    let mut chars: Vec<char> = token.chars().collect();
    let i = index % chars.len();
    if chars[i] == replacement {
        return None;
    }
    chars[i] = replacement;
    Some(chars.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_issued_token_verifies_and_returns_its_claims(claims in claims_strategy()) {
        let ring = keyring();
        let typed = token::issue_typed(&ring, &claims, TokenType::AccessToken).unwrap();
        let mut v = Validation::new(ISSUER, &claims.aud);
        v.token_type = TokenType::AccessToken;
        let back = token::verify(&ring, typed.expose(), &v, claims.iat).unwrap();
        prop_assert_eq!(back, claims);
    }

    #[test]
    fn changing_any_character_of_a_token_makes_it_fail(
        claims in claims_strategy(),
        index in any::<usize>(),
        replacement in prop_oneof![
            proptest::char::range('A', 'Z'),
            proptest::char::range('a', 'z'),
            proptest::char::range('0', '9'),
            Just('-'), Just('_'), Just('.'), Just('='), Just('+'), Just('/'), any::<char>(),
        ],
    ) {
        let ring = keyring();
        let token = token::issue(&ring, &claims).unwrap();
        let v = Validation::new(ISSUER, &claims.aud);
        prop_assume!(token::verify(&ring, token.expose(), &v, claims.iat).is_ok());
        if let Some(tampered) = tamper(token.expose(), index, replacement) {
            prop_assert!(token::verify(&ring, &tampered, &v, claims.iat).is_err());
        }
    }

    #[test]
    fn removing_or_inserting_a_character_makes_it_fail(
        claims in claims_strategy(),
        index in any::<usize>(),
        insert in any::<bool>(),
        extra in proptest::char::range('A', 'z'),
    ) {
        let ring = keyring();
        let token = token::issue(&ring, &claims).unwrap().into_inner();
        let v = Validation::new(ISSUER, &claims.aud);
        let mut chars: Vec<char> = token.chars().collect();
        let i = index % chars.len();
        if insert { chars.insert(i, extra) } else { chars.remove(i); }
        let changed: String = chars.into_iter().collect();
        prop_assume!(changed != token);
        prop_assert!(token::verify(&ring, &changed, &v, claims.iat).is_err());
    }

    #[test]
    fn a_token_signed_by_another_key_with_the_same_kid_fails(claims in claims_strategy(), seed in any::<[u8; 32]>()) {
        prop_assume!(seed != [42u8; 32]);
        let seed_b64 = URL_SAFE_NO_PAD.encode(seed);
        let forger = Keyring::parse(&format!(r#"[{{"kid":"2026-11","seed":"{seed_b64}"}}]"#)).unwrap();
        let forged = token::issue(&forger, &claims).unwrap();
        let v = Validation::new(ISSUER, &claims.aud);
        let err = token::verify(&keyring(), forged.expose(), &v, claims.iat).unwrap_err();
        prop_assert_eq!(err.code(), "token.bad_signature");
    }

    #[test]
    fn arbitrary_text_never_panics_the_verifier(text in "\\PC{0,300}", now in any::<u64>()) {
        let v = Validation::new(ISSUER, CLIENT);
        let _ = token::verify(&keyring(), &text, &v, Timestamp(now));
        let _ = token::lookup_key(HandleKind::RefreshToken, &text);
        let _ = token::verify_pkce_s256(&text, &text);
    }

    #[test]
    fn jws_shaped_garbage_never_panics_the_verifier(
        header in "\\PC{0,80}",
        payload in proptest::collection::vec(any::<u8>(), 0..200),
        signature in proptest::collection::vec(any::<u8>(), 0..80),
        leeway in any::<u64>(),
        now in any::<u64>(),
    ) {
        let token = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(signature)
        );
        let mut v = Validation::new(ISSUER, CLIENT);
        v.leeway = Seconds(leeway);
        prop_assert!(token::verify(&keyring(), &token, &v, Timestamp(now)).is_err());
    }

    #[test]
    fn well_signed_but_odd_claims_never_panic(payload in "\\PC{0,200}", now in any::<u64>(), leeway in any::<u64>()) {
        let ring = keyring();
        let signed = ring.signer().sign_compact(br#"{"alg":"EdDSA","typ":"JWT","kid":"2026-11"}"#, payload.as_bytes());
        let mut v = Validation::new(ISSUER, CLIENT);
        v.leeway = Seconds(leeway);
        let _ = token::verify(&ring, signed.expose(), &v, Timestamp(now));
    }

    #[test]
    fn pkce_accepts_exactly_the_matching_verifier(verifier in "[A-Za-z0-9._~-]{43,128}", other in "[A-Za-z0-9._~-]{43,128}") {
        let challenge = token::challenge_s256(&verifier).unwrap();
        prop_assert!(token::challenge_is_valid(&challenge));
        prop_assert!(token::verify_pkce_s256(&verifier, &challenge));
        prop_assert_eq!(token::verify_pkce_s256(&other, &challenge), other == verifier);
    }

    #[test]
    fn handles_round_trip_for_any_random_bytes(random in any::<[u8; 32]>()) {
        for kind in [HandleKind::RefreshToken, HandleKind::ContinuationToken, HandleKind::AuthorizationCode] {
            let handle = token::new_handle(kind, &random);
            prop_assert!(handle.token.expose().len() >= 4 + 43);
            prop_assert_eq!(token::lookup_key(kind, handle.token.expose()).unwrap(), handle.lookup_key);
        }
    }
}
