//! Ed25519 signing keys loaded from a secret, and the JWKS that publishes them.
//!
//! The core never generates keys: an operator creates 32 random bytes (the Ed25519 seed of
//! RFC 8032), and the Worker passes the secret's text to [`Keyring::parse`]. The secret is a
//! JSON array, newest key first:
//!
//! ```json
//! [{"kid":"2026-11","seed":"<base64url of 32 bytes>"},
//!  {"kid":"2026-05","x":"<base64url public key>"}]
//! ```
//!
//! The first entry signs every new token. Every entry is published in the JWKS and accepted
//! by [`super::verify`], which is what makes rotation safe: add the new key first, keep the
//! old one until the last token it signed has expired. A retired key may be kept as its
//! public half only (`x`), so its seed can be destroyed as soon as it stops signing.

use super::err::{KeyringError, shorten};
use crate::pii::Secret;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer as _, VerifyingKey};
use serde::Deserialize;
use zeroize::Zeroize as _;

/// The JOSE algorithm name used in headers and the JWKS (RFC 8037).
pub const ALG: &str = "EdDSA";

/// More keys than this in one JWKS is a rotation that was never finished.
pub const MAX_KEYS: usize = 16;

/// A key that can sign: an Ed25519 key pair with its key id.
///
/// The private half lives in a [`Secret`] (redacted when printed) and is zeroized when
/// dropped by `ed25519-dalek`.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    key: Secret<ed25519_dalek::SigningKey>,
}

/// A key that can only verify: a published Ed25519 public key with its key id.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    kid: String,
    key: VerifyingKey,
}

/// The keys of one issuer: the one that signs, then every key still published.
///
/// Built only through [`Keyring::parse`] or [`Keyring::new`], so it always has a signer and
/// its key ids are unique.
#[derive(Clone)]
pub struct Keyring {
    signer: SigningKey,
    /// Every published key, the signer's public half first.
    published: Vec<PublicKey>,
}

/// One entry of the keyring secret, as written by the operator.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKey {
    kid: String,
    #[serde(default)]
    seed: Option<Secret<String>>,
    #[serde(default)]
    x: Option<String>,
}

impl SigningKey {
    /// A signing key from its 32-byte RFC 8032 seed, for callers that hold the bytes
    /// already (tests, a future WebCrypto import). Most callers use [`Keyring::parse`].
    pub fn from_seed(kid: &str, seed: &Secret<[u8; 32]>) -> Result<SigningKey, KeyringError> {
        check_kid(0, kid)?;
        Ok(SigningKey {
            kid: kid.to_string(),
            key: Secret::new(ed25519_dalek::SigningKey::from_bytes(seed.expose())),
        })
    }

    /// The key id put in the `kid` header of every token this key signs.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half, as published in the JWKS.
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            kid: self.kid.clone(),
            key: self.key.expose().verifying_key(),
        }
    }

    /// A JWS in compact serialization over exactly these header and payload bytes:
    /// `base64url(header).base64url(payload).base64url(signature)`.
    ///
    /// This is the primitive under [`super::issue`]; it is public so the RFC 8037 test
    /// vector (whose header has no `kid`) can be checked byte for byte. Prefer `issue`,
    /// which writes a correct header itself.
    pub fn sign_compact(&self, header: &[u8], payload: &[u8]) -> Secret<String> {
        let mut out = String::with_capacity(
            (header
                .len()
                .saturating_add(payload.len())
                .saturating_add(64))
                / 3
                * 4
                + 8,
        );
        URL_SAFE_NO_PAD.encode_string(header, &mut out);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut out);
        // Ed25519 signing cannot fail: `try_sign` in ed25519-dalek always returns `Ok`.
        let signature = self.key.expose().sign(out.as_bytes());
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut out);
        Secret::new(out)
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("key", &self.key)
            .finish()
    }
}

impl PublicKey {
    /// The key id verifiers match against a token's `kid` header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The raw 32-byte public key (the JWK `x` before base64url).
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The JWK (RFC 8037 `OKP`/`Ed25519`) that publishes this key.
    pub fn to_jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(self.key.as_bytes()),
            "kid": self.kid,
            "use": "sig",
            "alg": ALG,
        })
    }

    pub(crate) fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey")
            .field("kid", &self.kid)
            .field("x", &URL_SAFE_NO_PAD.encode(self.key.as_bytes()))
            .finish()
    }
}

impl Keyring {
    /// Loads the keyring secret (see the module docs for its shape). Fails on the first
    /// problem, naming the entry at fault, and never echoes key material.
    pub fn parse(json: &str) -> Result<Keyring, KeyringError> {
        let raw: Vec<RawKey> = serde_json::from_str(json).map_err(|e| KeyringError::NotJson {
            line: e.line(),
            column: e.column(),
        })?;
        if raw.len() > MAX_KEYS {
            return Err(KeyringError::TooManyKeys {
                count: raw.len(),
                max: MAX_KEYS,
            });
        }
        let mut signer = None;
        let mut older = Vec::with_capacity(raw.len());
        for (index, entry) in raw.into_iter().enumerate() {
            check_kid(index, &entry.kid)?;
            match (entry.seed, entry.x, index) {
                (Some(seed), None, 0) => {
                    let seed = decode_seed(index, seed)?;
                    signer = Some(SigningKey {
                        kid: entry.kid,
                        key: Secret::new(ed25519_dalek::SigningKey::from_bytes(seed.expose())),
                    });
                }
                (Some(seed), None, _) => {
                    // An older key that still has its seed: publish it, never sign with it.
                    let seed = decode_seed(index, seed)?;
                    let key = ed25519_dalek::SigningKey::from_bytes(seed.expose());
                    older.push(PublicKey {
                        kid: entry.kid,
                        key: key.verifying_key(),
                    });
                }
                (None, Some(_), 0) => return Err(KeyringError::FirstKeyCannotSign),
                (None, Some(x), _) => older.push(PublicKey {
                    kid: entry.kid,
                    key: decode_public(index, &x)?,
                }),
                (Some(_), Some(_), _) | (None, None, _) => {
                    return Err(KeyringError::KeyMaterialAmbiguous { index });
                }
            }
        }
        let signer = signer.ok_or(KeyringError::Empty)?;
        Keyring::new(signer, older)
    }

    /// A keyring from keys already in hand: `signer` signs, `older` keys are only
    /// published and accepted. Key ids must be unique.
    pub fn new(signer: SigningKey, older: Vec<PublicKey>) -> Result<Keyring, KeyringError> {
        let count = older.len().saturating_add(1);
        if count > MAX_KEYS {
            return Err(KeyringError::TooManyKeys {
                count,
                max: MAX_KEYS,
            });
        }
        let mut published = Vec::with_capacity(count);
        published.push(signer.public_key());
        for (offset, key) in older.into_iter().enumerate() {
            if published.iter().any(|k| k.kid == key.kid) {
                return Err(KeyringError::KidDuplicate {
                    index: offset.saturating_add(1),
                    kid: shorten(&key.kid, 64),
                });
            }
            published.push(key);
        }
        Ok(Keyring { signer, published })
    }

    /// The key that signs new tokens (the first entry).
    pub fn signer(&self) -> &SigningKey {
        &self.signer
    }

    /// Every published key, the signer first.
    pub fn published(&self) -> &[PublicKey] {
        &self.published
    }

    /// The published key with this id, if any.
    pub fn find(&self, kid: &str) -> Option<&PublicKey> {
        self.published.iter().find(|k| k.kid == kid)
    }
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("signer", &self.signer.kid)
            .field("published", &self.published)
            .finish()
    }
}

/// The JWK Set document served at `jwks_uri`: every published key, the signer first.
pub fn jwks(keyring: &Keyring) -> serde_json::Value {
    let keys: Vec<serde_json::Value> = keyring.published.iter().map(PublicKey::to_jwk).collect();
    serde_json::json!({ "keys": keys })
}

fn check_kid(index: usize, kid: &str) -> Result<(), KeyringError> {
    let ok = !kid.is_empty()
        && kid.len() <= 64
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(KeyringError::KidInvalid {
            index,
            kid: shorten(kid, 64),
        })
    }
}

fn decode_seed(index: usize, seed: Secret<String>) -> Result<Secret<[u8; 32]>, KeyringError> {
    let mut text = seed.into_inner();
    let decoded = URL_SAFE_NO_PAD.decode(text.trim());
    text.zeroize();
    let mut bytes = decoded.map_err(|_| KeyringError::SeedInvalid { index })?;
    let seed =
        <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| KeyringError::SeedInvalid { index });
    bytes.zeroize();
    seed.map(Secret::new)
}

fn decode_public(index: usize, x: &str) -> Result<VerifyingKey, KeyringError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(x.trim())
        .map_err(|_| KeyringError::PublicKeyInvalid { index })?;
    let bytes = <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| KeyringError::PublicKeyInvalid { index })?;
    let key =
        VerifyingKey::from_bytes(&bytes).map_err(|_| KeyringError::PublicKeyInvalid { index })?;
    if key.is_weak() {
        return Err(KeyringError::PublicKeyInvalid { index });
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8037 Appendix A.1 private key `d` and A.2 public key `x`.
    const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    fn seed_b64(byte: u8) -> String {
        URL_SAFE_NO_PAD.encode([byte; 32])
    }

    #[test]
    fn the_rfc_8037_seed_yields_the_rfc_8037_public_key() {
        let ring = Keyring::parse(&format!(r#"[{{"kid":"a","seed":"{RFC8037_D}"}}]"#)).unwrap();
        let jwks = jwks(&ring);
        assert_eq!(jwks["keys"][0]["x"], RFC8037_X);
        assert_eq!(jwks["keys"][0]["kty"], "OKP");
        assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
        assert_eq!(jwks["keys"][0]["alg"], "EdDSA");
        assert_eq!(jwks["keys"][0]["use"], "sig");
        assert_eq!(jwks["keys"][0]["kid"], "a");
        assert!(
            jwks["keys"][0].get("d").is_none(),
            "private part must never be published"
        );
    }

    #[test]
    fn rotation_publishes_every_key_and_signs_with_the_first() {
        let text = format!(
            r#"[{{"kid":"new","seed":"{}"}},{{"kid":"old","seed":"{}"}},{{"kid":"retired","x":"{RFC8037_X}"}}]"#,
            seed_b64(1),
            seed_b64(2)
        );
        let ring = Keyring::parse(&text).unwrap();
        assert_eq!(ring.signer().kid(), "new");
        let kids: Vec<&str> = ring.published().iter().map(PublicKey::kid).collect();
        assert_eq!(kids, ["new", "old", "retired"]);
        assert_eq!(jwks(&ring)["keys"].as_array().unwrap().len(), 3);
        assert!(ring.find("old").is_some());
        assert!(ring.find("nope").is_none());
    }

    #[test]
    fn bad_keyrings_are_refused_with_a_code_and_the_entry_at_fault() {
        let good = seed_b64(7);
        let cases = [
            ("not json".to_string(), "token.keyring_invalid", None),
            ("[]".to_string(), "token.keyring_empty", None),
            (r#"{"kid":"a"}"#.to_string(), "token.keyring_invalid", None),
            (
                format!(r#"[{{"kid":"","seed":"{good}"}}]"#),
                "token.kid_invalid",
                Some("[0].kid"),
            ),
            (
                format!(r#"[{{"kid":"a b","seed":"{good}"}}]"#),
                "token.kid_invalid",
                Some("[0].kid"),
            ),
            (
                r#"[{"kid":"a","seed":"short"}]"#.to_string(),
                "token.seed_invalid",
                Some("[0].seed"),
            ),
            (
                format!(r#"[{{"kid":"a","seed":"{good}="}}]"#),
                "token.seed_invalid",
                Some("[0].seed"),
            ),
            (
                r#"[{"kid":"a"}]"#.to_string(),
                "token.keyring_invalid",
                Some("[0]"),
            ),
            (
                format!(r#"[{{"kid":"a","seed":"{good}","x":"{RFC8037_X}"}}]"#),
                "token.keyring_invalid",
                Some("[0]"),
            ),
            (
                format!(r#"[{{"kid":"a","x":"{RFC8037_X}"}}]"#),
                "token.keyring_no_signer",
                Some("[0]"),
            ),
            (
                format!(r#"[{{"kid":"a","seed":"{good}"}},{{"kid":"a","x":"{RFC8037_X}"}}]"#),
                "token.kid_duplicate",
                Some("[1].kid"),
            ),
            (
                format!(r#"[{{"kid":"a","seed":"{good}"}},{{"kid":"b","x":"AAAA"}}]"#),
                "token.public_key_invalid",
                Some("[1].x"),
            ),
            (
                format!(r#"[{{"kid":"a","seed":"{good}","extra":1}}]"#),
                "token.keyring_invalid",
                None,
            ),
        ];
        for (text, code, target) in cases {
            let err = Keyring::parse(&text).unwrap_err();
            assert_eq!(err.code(), code, "{text}");
            assert_eq!(err.target().as_deref(), target, "{text}");
        }
    }

    #[test]
    fn a_weak_public_key_is_refused() {
        // The identity point (y = 1) is a small-order, weak key.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let x = URL_SAFE_NO_PAD.encode(identity);
        let text = format!(
            r#"[{{"kid":"a","seed":"{}"}},{{"kid":"b","x":"{x}"}}]"#,
            seed_b64(3)
        );
        assert_eq!(
            Keyring::parse(&text).unwrap_err().code(),
            "token.public_key_invalid"
        );
    }

    #[test]
    fn too_many_keys_are_refused() {
        let entries: Vec<String> = (0..=MAX_KEYS)
            .map(|i| format!(r#"{{"kid":"k{i}","seed":"{}"}}"#, seed_b64(9)))
            .collect();
        let text = format!("[{}]", entries.join(","));
        assert_eq!(
            Keyring::parse(&text).unwrap_err().code(),
            "token.keyring_too_large"
        );
    }

    #[test]
    fn printing_a_keyring_never_shows_a_seed() {
        let seed = seed_b64(5);
        let ring = Keyring::parse(&format!(r#"[{{"kid":"a","seed":"{seed}"}}]"#)).unwrap();
        let printed = format!("{ring:?} {:?}", ring.signer());
        assert!(!printed.contains(&seed), "{printed}");
        assert!(printed.contains("redacted"), "{printed}");
        let err = Keyring::parse(&format!(r#"[{{"kid":"a","seed":"{seed}x"}}]"#)).unwrap_err();
        assert!(!err.to_string().contains(&seed));
    }
}
