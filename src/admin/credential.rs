//! The admin credential check. The secret is compared in constant time so response timing
//! reveals nothing about how much of a guess was right.

use crate::pii::Secret;
use subtle::ConstantTimeEq;

/// Shortest admin secret accepted: 128 bits of base64 or hex is at least 22 characters.
pub const MIN_SECRET_LEN: usize = 22;

/// The `WWW-Authenticate` challenge of a refused admin request: a 401 must name the
/// scheme it wants (RFC 9110 §11.6.1, RFC 6750 §3), and clients that authenticate on
/// demand read it. Which of [`Refusal`]'s cases applied is deliberately not said.
pub const CHALLENGE: &str = "Bearer realm=\"vestibule-admin\"";

/// Why an admin request was refused; the Worker maps both to 401 without telling which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The deployment has no usable admin secret, so the admin API stays closed.
    NotConfigured,
    /// The request carried no credential or the wrong one.
    BadCredential,
}

/// Checks an `Authorization` header value (`Bearer <secret>`) against the configured secret.
pub fn check(
    configured: Option<&Secret<String>>,
    authorization: Option<&str>,
) -> Result<(), Refusal> {
    let Some(expected) = configured.filter(|s| s.expose().len() >= MIN_SECRET_LEN) else {
        return Err(Refusal::NotConfigured);
    };
    let presented = authorization
        .and_then(bearer_token)
        .ok_or(Refusal::BadCredential)?;
    if bool::from(presented.as_bytes().ct_eq(expected.expose().as_bytes())) {
        Ok(())
    } else {
        Err(Refusal::BadCredential)
    }
}

/// The token of a `Bearer` credential. The scheme is matched without regard to case
/// (RFC 9110 §11.1: `bearer` is the same scheme), the token exactly; whitespace around
/// the token is not part of it.
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim_start().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("Bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> Secret<String> {
        Secret::new(s.to_string())
    }

    #[test]
    fn only_the_exact_bearer_secret_passes() {
        let s = secret("0123456789abcdef0123456789abcdef");
        assert_eq!(
            check(Some(&s), Some("Bearer 0123456789abcdef0123456789abcdef")),
            Ok(())
        );
        assert_eq!(
            check(Some(&s), Some("Bearer 0123456789abcdef0123456789abcdeX")),
            Err(Refusal::BadCredential)
        );
        assert_eq!(
            check(Some(&s), Some("Bearer 0123456789abcdef")),
            Err(Refusal::BadCredential)
        );
        assert_eq!(
            check(Some(&s), Some("0123456789abcdef0123456789abcdef")),
            Err(Refusal::BadCredential)
        );
        assert_eq!(check(Some(&s), None), Err(Refusal::BadCredential));
    }

    #[test]
    fn the_scheme_is_matched_without_regard_to_case_and_the_secret_exactly() {
        let s = secret("0123456789abcdef0123456789abcdef");
        for ok in [
            "bearer 0123456789abcdef0123456789abcdef",
            "BEARER 0123456789abcdef0123456789abcdef",
            "Bearer  0123456789abcdef0123456789abcdef ",
        ] {
            assert_eq!(check(Some(&s), Some(ok)), Ok(()), "{ok}");
        }
        for bad in [
            "Bearer 0123456789ABCDEF0123456789ABCDEF",
            "Basic 0123456789abcdef0123456789abcdef",
            "Bearer0123456789abcdef0123456789abcdef",
            "Bearer",
            "Bearer ",
            "",
        ] {
            assert_eq!(
                check(Some(&s), Some(bad)),
                Err(Refusal::BadCredential),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_missing_or_short_secret_keeps_the_api_closed() {
        assert_eq!(
            check(None, Some("Bearer anything")),
            Err(Refusal::NotConfigured)
        );
        let short = secret("short");
        assert_eq!(
            check(Some(&short), Some("Bearer short")),
            Err(Refusal::NotConfigured)
        );
    }
}
