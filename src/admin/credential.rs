//! The admin credential check. The secret is compared in constant time so response timing
//! reveals nothing about how much of a guess was right.

use crate::pii::Secret;
use subtle::ConstantTimeEq;

/// Shortest admin secret accepted: 128 bits of base64 or hex is at least 22 characters.
pub const MIN_SECRET_LEN: usize = 22;

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
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or(Refusal::BadCredential)?;
    if bool::from(presented.as_bytes().ct_eq(expected.expose().as_bytes())) {
        Ok(())
    } else {
        Err(Refusal::BadCredential)
    }
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
