//! Opaque handles: refresh tokens, continuation tokens and authorization codes.
//!
//! These are bearer secrets the client sends back to look up state kept server-side, so
//! they carry no claims. A handle is a kind prefix plus 256 random bits in base64url
//! (`vrt_…`, `vct_…`, `vac_…`). The prefix keeps a continuation token from ever being
//! looked up as a refresh token, and lets secret scanners recognise a leaked one.
//!
//! The store never keeps the handle itself, only its [`LookupKey`]: the lowercase hex
//! SHA-256 of the handle. A plain hash (not an HMAC) is enough because the handle has 256
//! bits of entropy: a leaked store gives nothing to replay and nothing to brute-force.
//! Rotation (a new refresh token on each use, the old key deleted) is done by the Worker.
//!
//! The random bytes come from the caller (`crypto.getRandomValues` in the Worker): the
//! core has no RNG.

use super::err::TokenError;
use crate::pii::Secret;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

/// Random bytes in every handle (256 bits; the brief's floor is 128).
pub const HANDLE_RANDOM_BYTES: usize = 32;

/// Length of the base64url body of a handle (32 bytes without padding).
const BODY_LEN: usize = 43;

/// Which state a handle points to. Each kind has its own prefix and is looked up apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandleKind {
    /// An OAuth refresh token (`vrt_`).
    RefreshToken,
    /// A native-auth `continuation_token` between flow steps (`vct_`).
    ContinuationToken,
    /// An OAuth authorization code (`vac_`).
    AuthorizationCode,
}

impl HandleKind {
    /// The prefix every handle of this kind starts with.
    pub fn prefix(self) -> &'static str {
        match self {
            HandleKind::RefreshToken => "vrt_",
            HandleKind::ContinuationToken => "vct_",
            HandleKind::AuthorizationCode => "vac_",
        }
    }

    fn name(self) -> &'static str {
        match self {
            HandleKind::RefreshToken => "refresh token",
            HandleKind::ContinuationToken => "continuation token",
            HandleKind::AuthorizationCode => "authorization code",
        }
    }
}

/// The key under which a handle's state is stored: lowercase hex SHA-256 of the handle.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LookupKey(String);

impl LookupKey {
    /// The 64 hex characters, for use as a KV or Durable Object key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A fresh handle: the secret for the client, and the key for the store.
#[derive(Debug, Clone)]
pub struct Handle {
    /// Send this to the client, once. Never store or log it.
    pub token: Secret<String>,
    /// Store the state under this key.
    pub lookup_key: LookupKey,
}

/// Makes a handle of `kind` from 32 caller-supplied random bytes.
pub fn new_handle(kind: HandleKind, random: &[u8; HANDLE_RANDOM_BYTES]) -> Handle {
    let mut token = String::with_capacity(kind.prefix().len().saturating_add(BODY_LEN));
    token.push_str(kind.prefix());
    URL_SAFE_NO_PAD.encode_string(random, &mut token);
    let lookup_key = hash(&token);
    Handle {
        token: Secret::new(token),
        lookup_key,
    }
}

/// A fresh refresh token and its lookup key (shorthand for [`new_handle`]).
pub fn refresh_token_handle(random: &[u8; HANDLE_RANDOM_BYTES]) -> Handle {
    new_handle(HandleKind::RefreshToken, random)
}

/// The lookup key of a handle a client presented, after checking that it has the shape of
/// a handle of `kind`. A handle of another kind, or anything else, is refused before it
/// reaches the store.
pub fn lookup_key(kind: HandleKind, presented: &str) -> Result<LookupKey, TokenError> {
    let invalid = TokenError::HandleInvalid { kind: kind.name() };
    let body = presented
        .strip_prefix(kind.prefix())
        .ok_or(invalid.clone())?;
    // Decoding (not just a charset check) also refuses non-canonical trailing bits, so
    // each handle has exactly one spelling and one lookup key.
    let decoded = URL_SAFE_NO_PAD.decode(body).map_err(|_| invalid.clone())?;
    if body.len() != BODY_LEN || decoded.len() != HANDLE_RANDOM_BYTES {
        return Err(invalid);
    }
    Ok(hash(presented))
}

fn hash(token: &str) -> LookupKey {
    let digest = Sha256::digest(token.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest.iter() {
        hex.push(nibble(byte >> 4));
        hex.push(nibble(byte & 0x0f));
    }
    LookupKey(hex)
}

fn nibble(n: u8) -> char {
    char::from_digit(u32::from(n), 16).unwrap_or('0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_is_prefix_plus_43_base64url_chars_and_its_key_is_sha256_hex() {
        let handle = refresh_token_handle(&[0u8; 32]);
        let token = handle.token.expose();
        assert_eq!(token, &format!("vrt_{}", "A".repeat(43)));
        // Independent check of the digest: sha256("vrt_" + 43 "A") computed with sha2 directly.
        let expected: String = Sha256::digest(token.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(handle.lookup_key.as_str(), expected);
        assert_eq!(handle.lookup_key.as_str().len(), 64);
    }

    #[test]
    fn the_presented_handle_finds_the_same_key() {
        for kind in [
            HandleKind::RefreshToken,
            HandleKind::ContinuationToken,
            HandleKind::AuthorizationCode,
        ] {
            let handle = new_handle(kind, &[7u8; 32]);
            assert_eq!(
                lookup_key(kind, handle.token.expose()).unwrap(),
                handle.lookup_key
            );
        }
    }

    #[test]
    fn handles_of_another_kind_or_shape_are_refused() {
        let rt = refresh_token_handle(&[9u8; 32]);
        let token = rt.token.expose().clone();
        let err = lookup_key(HandleKind::ContinuationToken, &token).unwrap_err();
        assert_eq!(err.code(), "token.handle_invalid");
        for bad in [
            "",
            "vrt_",
            "vrt_short",
            &format!("{token}A"),
            &format!("{token}="),
            &token.replace("vrt_", "VRT_"),
            &format!("{}!", &token[..token.len() - 1]),
        ] {
            assert!(lookup_key(HandleKind::RefreshToken, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn different_random_bytes_give_different_handles_and_keys() {
        let a = refresh_token_handle(&[1u8; 32]);
        let b = refresh_token_handle(&[2u8; 32]);
        assert_ne!(a.token.expose(), b.token.expose());
        assert_ne!(a.lookup_key, b.lookup_key);
    }
}
