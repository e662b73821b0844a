//! Standard Webhooks secrets: `whsec_` (HMAC, signature `v1`), `whsk_` / `whpk_`
//! (Ed25519 secret / public key, signature `v1a`).
//!
//! The Worker keeps one environment secret per endpoint holding a whitespace-separated
//! list, newest first. Every secret in the list signs every delivery, which is how the
//! spec does zero-downtime rotation: add the new secret, let the receiver switch, drop the
//! old one.
//!
//! Encodings (the spec says "base64 encoded" for all three):
//! - `whsec_`: standard base64 (padding optional) of 24 to 64 random bytes;
//! - `whsk_`: standard base64 of the 32-byte Ed25519 seed, or of the 64-byte
//!   libsodium-style secret key (seed then public key, checked for consistency);
//! - `whpk_`: standard base64 of the 32-byte Ed25519 public key.

use super::err::HookError;
use crate::pii::Secret;
use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ed25519_dalek::VerifyingKey;
use zeroize::Zeroizing;

/// Shortest HMAC secret the spec allows (192 bits).
pub const HMAC_SECRET_MIN: usize = 24;
/// Longest HMAC secret the spec allows (512 bits).
pub const HMAC_SECRET_MAX: usize = 64;
/// More secrets than this is a rotation that was never finished.
pub const MAX_SECRETS: usize = 8;

/// Standard base64 that accepts secrets with or without `=` padding.
const LENIENT_STANDARD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A secret that can sign a delivery.
#[derive(Clone)]
pub(crate) enum SignKey {
    /// `whsec_`: HMAC-SHA256 key bytes.
    Hmac(Secret<Zeroizing<Vec<u8>>>),
    /// `whsk_`: Ed25519 key pair, boxed so the enum stays small on wasm32 too.
    Ed25519(Box<Secret<ed25519_dalek::SigningKey>>),
}

/// A secret that can check a delivery.
#[derive(Clone)]
pub(crate) enum CheckKey {
    /// `whsec_`: HMAC-SHA256 key bytes.
    Hmac(Secret<Zeroizing<Vec<u8>>>),
    /// `whpk_` (or the public half of a `whsk_`).
    Ed25519(VerifyingKey),
}

/// The secrets that sign deliveries to one endpoint, newest first. Never empty.
#[derive(Clone)]
pub struct SigningSecrets(pub(crate) Vec<SignKey>);

/// The secrets a receiver checks deliveries against. Never empty.
#[derive(Clone)]
pub struct VerifyingSecrets(pub(crate) Vec<CheckKey>);

impl SigningSecrets {
    /// Parses a whitespace-separated list of `whsec_` / `whsk_` secrets.
    pub fn parse(list: &str) -> Result<SigningSecrets, HookError> {
        let keys = parse_list(list, |index, secret| match parse_one(index, secret)? {
            Parsed::Hmac(bytes) => Ok(SignKey::Hmac(bytes)),
            Parsed::Ed25519Secret(key) => Ok(SignKey::Ed25519(Box::new(key))),
            Parsed::Ed25519Public(_) => Err(HookError::SecretCannotSign { index }),
        })?;
        Ok(SigningSecrets(keys))
    }

    /// The matching verifier: the same HMAC secrets and the public halves of the Ed25519
    /// keys, for self-tests and for a receiver written with this crate.
    pub fn verifying(&self) -> VerifyingSecrets {
        VerifyingSecrets(
            self.0
                .iter()
                .map(|key| match key {
                    SignKey::Hmac(bytes) => CheckKey::Hmac(bytes.clone()),
                    SignKey::Ed25519(key) => CheckKey::Ed25519(key.expose().verifying_key()),
                })
                .collect(),
        )
    }

    /// The `whpk_` public keys to hand to receivers, one per `whsk_` secret, in order.
    pub fn public_keys(&self) -> Vec<String> {
        self.0
            .iter()
            .filter_map(|key| match key {
                SignKey::Ed25519(key) => Some(format!(
                    "whpk_{}",
                    LENIENT_STANDARD.encode(key.expose().verifying_key().as_bytes())
                )),
                SignKey::Hmac(_) => None,
            })
            .collect()
    }
}

impl VerifyingSecrets {
    /// Parses a whitespace-separated list of `whsec_` / `whpk_` / `whsk_` secrets.
    pub fn parse(list: &str) -> Result<VerifyingSecrets, HookError> {
        let keys = parse_list(list, |index, secret| {
            Ok(match parse_one(index, secret)? {
                Parsed::Hmac(bytes) => CheckKey::Hmac(bytes),
                Parsed::Ed25519Secret(key) => CheckKey::Ed25519(key.expose().verifying_key()),
                Parsed::Ed25519Public(key) => CheckKey::Ed25519(key),
            })
        })?;
        Ok(VerifyingSecrets(keys))
    }
}

impl std::fmt::Debug for SigningSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningSecrets({} redacted)", self.0.len())
    }
}

impl std::fmt::Debug for VerifyingSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VerifyingSecrets({} redacted)", self.0.len())
    }
}

enum Parsed {
    Hmac(Secret<Zeroizing<Vec<u8>>>),
    Ed25519Secret(Secret<ed25519_dalek::SigningKey>),
    Ed25519Public(VerifyingKey),
}

fn parse_list<T>(
    list: &str,
    mut each: impl FnMut(usize, &str) -> Result<T, HookError>,
) -> Result<Vec<T>, HookError> {
    let count = list.split_whitespace().count();
    if count == 0 {
        return Err(HookError::NoSecrets);
    }
    if count > MAX_SECRETS {
        return Err(HookError::TooManySecrets {
            count,
            max: MAX_SECRETS,
        });
    }
    list.split_whitespace()
        .enumerate()
        .map(|(index, secret)| each(index, secret))
        .collect()
}

fn parse_one(index: usize, secret: &str) -> Result<Parsed, HookError> {
    let invalid = |reason| HookError::SecretInvalid { index, reason };
    if let Some(body) = secret.strip_prefix("whsec_") {
        let bytes = decode(body).ok_or(invalid("`whsec_` is not followed by base64"))?;
        if !(HMAC_SECRET_MIN..=HMAC_SECRET_MAX).contains(&bytes.len()) {
            return Err(invalid("a `whsec_` secret must be 24 to 64 bytes"));
        }
        Ok(Parsed::Hmac(Secret::new(bytes)))
    } else if let Some(body) = secret.strip_prefix("whsk_") {
        let bytes = decode(body).ok_or(invalid("`whsk_` is not followed by base64"))?;
        let (seed, public) = match bytes.len() {
            32 => (bytes.get(..32), None),
            64 => (bytes.get(..32), bytes.get(32..)),
            _ => (None, None),
        };
        let seed: [u8; 32] = seed
            .and_then(|s| s.try_into().ok())
            .ok_or(invalid("a `whsk_` key must be 32 or 64 bytes"))?;
        let seed = Zeroizing::new(seed);
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        if public.is_some_and(|p| p != key.verifying_key().as_bytes()) {
            return Err(invalid(
                "the public half of the `whsk_` key does not match its seed",
            ));
        }
        Ok(Parsed::Ed25519Secret(Secret::new(key)))
    } else if let Some(body) = secret.strip_prefix("whpk_") {
        let bytes = decode(body).ok_or(invalid("`whpk_` is not followed by base64"))?;
        let bytes: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| invalid("a `whpk_` key must be 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&bytes)
            .ok()
            .filter(|k| !k.is_weak())
            .ok_or(invalid("`whpk_` is not a valid ed25519 public key"))?;
        Ok(Parsed::Ed25519Public(key))
    } else {
        Err(invalid("expected a `whsec_`, `whsk_` or `whpk_` prefix"))
    }
}

fn decode(body: &str) -> Option<Zeroizing<Vec<u8>>> {
    LENIENT_STANDARD.decode(body).ok().map(Zeroizing::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn b64(bytes: &[u8]) -> String {
        LENIENT_STANDARD.encode(bytes)
    }

    #[test]
    fn the_spec_secret_and_a_rotation_list_parse() {
        let list = format!(
            "{SPEC_SECRET}  whsec_{}\nwhsk_{}",
            b64(&[1; 64]),
            b64(&[2; 32])
        );
        let secrets = SigningSecrets::parse(&list).unwrap();
        assert_eq!(secrets.0.len(), 3);
        assert_eq!(secrets.public_keys().len(), 1);
        let public = secrets.public_keys().remove(0);
        let verifying = VerifyingSecrets::parse(&public).unwrap();
        assert_eq!(verifying.0.len(), 1);
    }

    #[test]
    fn bad_secrets_are_refused_with_codes() {
        let cases = [
            (String::new(), "hook.no_secrets"),
            ("  \n".to_string(), "hook.no_secrets"),
            ("secret".to_string(), "hook.secret_invalid"),
            ("whsec_!!!!".to_string(), "hook.secret_invalid"),
            (format!("whsec_{}", b64(&[1; 23])), "hook.secret_invalid"),
            (format!("whsec_{}", b64(&[1; 65])), "hook.secret_invalid"),
            (format!("whsk_{}", b64(&[1; 31])), "hook.secret_invalid"),
            (format!("whsk_{}", b64(&[1; 64])), "hook.secret_invalid"),
            (format!("whpk_{}", b64(&[1; 32])), "hook.secret_cannot_sign"),
            (
                [SPEC_SECRET; MAX_SECRETS + 1].join(" "),
                "hook.too_many_secrets",
            ),
        ];
        for (list, code) in cases {
            let err = SigningSecrets::parse(&list).unwrap_err();
            assert_eq!(err.code(), code, "{list}");
        }
        // 24 and 64 bytes are the inclusive bounds.
        assert!(SigningSecrets::parse(&format!("whsec_{}", b64(&[1; 24]))).is_ok());
        assert!(SigningSecrets::parse(&format!("whsec_{}", b64(&[1; 64]))).is_ok());
    }

    #[test]
    fn a_64_byte_whsk_key_must_carry_its_own_public_half() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
        let mut pair = [3u8; 64];
        pair[32..].copy_from_slice(key.verifying_key().as_bytes());
        assert!(SigningSecrets::parse(&format!("whsk_{}", b64(&pair))).is_ok());
    }

    #[test]
    fn printing_secrets_never_shows_them() {
        let secrets = SigningSecrets::parse(SPEC_SECRET).unwrap();
        let printed = format!("{secrets:?} {:?}", secrets.verifying());
        assert!(!printed.contains("MfKQ"), "{printed}");
        let err = SigningSecrets::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZI").unwrap_err();
        assert!(!err.to_string().contains("MfKQ"));
    }
}
