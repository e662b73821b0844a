//! PKCE (RFC 7636) with the `S256` method only.
//!
//! `plain` is not supported: it protects nothing against an attacker who can read the
//! authorization request, and OAuth 2.1 drops it. The discovery document advertises
//! `code_challenge_methods_supported: ["S256"]` accordingly.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// Shortest `code_verifier` allowed (RFC 7636 §4.1).
pub const VERIFIER_MIN_LEN: usize = 43;
/// Longest `code_verifier` allowed (RFC 7636 §4.1).
pub const VERIFIER_MAX_LEN: usize = 128;
/// Length of an `S256` `code_challenge`: base64url of 32 bytes, no padding.
pub const CHALLENGE_LEN: usize = 43;

/// Whether `verifier` is a well-formed `code_verifier`: 43 to 128 characters from the
/// unreserved set `[A-Za-z0-9-._~]`.
pub fn verifier_is_valid(verifier: &str) -> bool {
    (VERIFIER_MIN_LEN..=VERIFIER_MAX_LEN).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether `challenge` can be an `S256` `code_challenge` (43 base64url characters that
/// decode to 32 bytes). Check it at the authorization endpoint, before storing it.
pub fn challenge_is_valid(challenge: &str) -> bool {
    challenge.len() == CHALLENGE_LEN
        && URL_SAFE_NO_PAD
            .decode(challenge)
            .is_ok_and(|bytes| bytes.len() == 32)
}

/// The `S256` challenge of a verifier: `BASE64URL(SHA256(ASCII(verifier)))`, or `None` if
/// the verifier is malformed. Useful to clients and tests.
pub fn challenge_s256(verifier: &str) -> Option<String> {
    verifier_is_valid(verifier).then(|| URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())))
}

/// The token endpoint's check: does `verifier` match the `challenge` stored with the
/// authorization code? Malformed input is simply `false`. The comparison is constant-time
/// in the challenge's content.
pub fn verify_pkce_s256(verifier: &str, challenge: &str) -> bool {
    match challenge_s256(verifier) {
        Some(expected) => expected.as_bytes().ct_eq(challenge.as_bytes()).into(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_rfc_7636_appendix_b_example_verifies() {
        assert_eq!(challenge_s256(VERIFIER).as_deref(), Some(CHALLENGE));
        assert!(verify_pkce_s256(VERIFIER, CHALLENGE));
        assert!(challenge_is_valid(CHALLENGE));
    }

    #[test]
    fn a_wrong_or_malformed_verifier_fails() {
        assert!(!verify_pkce_s256(&VERIFIER.replace('d', "e"), CHALLENGE));
        // `plain` (verifier == challenge) is not accepted.
        assert!(!verify_pkce_s256(CHALLENGE, CHALLENGE));
        // Too short, too long, bad characters.
        assert!(!verifier_is_valid(&"a".repeat(42)));
        assert!(verifier_is_valid(&"a".repeat(43)));
        assert!(verifier_is_valid(&"a".repeat(128)));
        assert!(!verifier_is_valid(&"a".repeat(129)));
        assert!(!verifier_is_valid(&format!("{}+", "a".repeat(43))));
        assert!(!verifier_is_valid(&format!("{} ", "a".repeat(43))));
        assert!(verifier_is_valid(&format!("{}-._~", "a".repeat(43))));
        assert!(!verify_pkce_s256(VERIFIER, &format!("{CHALLENGE}=")));
        assert!(!verify_pkce_s256(VERIFIER, ""));
    }

    #[test]
    fn malformed_challenges_are_refused_at_authorization() {
        assert!(!challenge_is_valid(""));
        assert!(!challenge_is_valid(&format!("{CHALLENGE}=")));
        assert!(!challenge_is_valid(&CHALLENGE.replace('E', "+")));
    }
}
