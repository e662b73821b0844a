//! The list-valued parameters every endpoint shares: `challenge_type`, `capabilities`
//! and `scope` (reference §1).

use super::error::NativeError;
use crate::flow::{Capabilities, ChallengeTypes};

/// The scopes granted when a token request names none: what MSAL always asks for.
pub const DEFAULT_SCOPE: &str = "openid profile offline_access";

/// Splits a list parameter on spaces and commas (the 2025 docs used commas).
fn items(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
}

/// `challenge_type`: a list of `password`, `oob`, `redirect`. It must include
/// `redirect` (a missing parameter does not), else `invalid_request` 901007; a value
/// outside the three is `unsupported_challenge_type`.
pub fn challenge_types(value: Option<&str>) -> Result<ChallengeTypes, NativeError> {
    let mut types = ChallengeTypes {
        password: false,
        oob: false,
    };
    let mut redirect = false;
    for item in items(value.unwrap_or_default()) {
        match item {
            "password" => types.password = true,
            "oob" => types.oob = true,
            "redirect" => redirect = true,
            other => return Err(NativeError::unsupported_challenge_type(other)),
        }
    }
    if !redirect {
        return Err(NativeError::redirect_missing());
    }
    Ok(types)
}

/// `challenge_type` on `/register/v1.0/challenge`, where MSAL sends the method's own
/// type (`oob`) without `redirect`: absent or a list containing `oob` is fine.
pub fn register_challenge_type(value: Option<&str>) -> Result<(), NativeError> {
    let Some(value) = value else {
        return Ok(());
    };
    let mut oob = false;
    for item in items(value) {
        match item {
            "oob" => oob = true,
            "redirect" => {}
            other => return Err(NativeError::unsupported_challenge_type(other)),
        }
    }
    if oob {
        Ok(())
    } else {
        Err(NativeError::unsupported_challenge_type(value))
    }
}

/// `capabilities` (or the 2025 spelling `capability`): `mfa_required`,
/// `registration_required`, separated by spaces or commas. Unknown values are ignored;
/// absent means neither, so the API answers `redirect` where the loop would be needed.
pub fn capabilities(capabilities: Option<&str>, capability: Option<&str>) -> Capabilities {
    let mut c = Capabilities {
        mfa_required: false,
        registration_required: false,
    };
    for item in items(capabilities.or(capability).unwrap_or_default()) {
        match item {
            "mfa_required" => c.mfa_required = true,
            "registration_required" => c.registration_required = true,
            _ => {}
        }
    }
    c
}

/// `scope`, with duplicates and extra spaces removed, in request order; the default
/// when absent.
pub fn scope(value: Option<&str>) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for item in value.unwrap_or(DEFAULT_SCOPE).split_whitespace() {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    if seen.is_empty() {
        return DEFAULT_SCOPE.to_string();
    }
    seen.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_types_need_redirect() {
        let t = challenge_types(Some("password oob redirect")).unwrap();
        assert!(t.password && t.oob);
        let t = challenge_types(Some("oob,redirect")).unwrap();
        assert!(!t.password && t.oob);
        for bad in [None, Some(""), Some("password oob"), Some("oob")] {
            let e = challenge_types(bad).unwrap_err();
            assert_eq!(
                (e.error, e.error_codes.as_slice()),
                ("invalid_request", &[901_007][..])
            );
        }
        let e = challenge_types(Some("otp redirect")).unwrap_err();
        assert_eq!(e.error, "unsupported_challenge_type");
    }

    #[test]
    fn register_challenge_type_is_oob() {
        assert!(register_challenge_type(None).is_ok());
        assert!(register_challenge_type(Some("oob")).is_ok());
        assert!(register_challenge_type(Some("oob redirect")).is_ok());
        assert!(register_challenge_type(Some("password")).is_err());
        assert!(register_challenge_type(Some("redirect")).is_err());
    }

    #[test]
    fn capabilities_accept_both_spellings_and_separators() {
        let c = capabilities(Some("mfa_required registration_required"), None);
        assert!(c.mfa_required && c.registration_required);
        let c = capabilities(None, Some("registration_required,mfa_required"));
        assert!(c.mfa_required && c.registration_required);
        let c = capabilities(Some("mfa_required unknown"), Some("registration_required"));
        assert!(
            c.mfa_required && !c.registration_required,
            "capabilities wins"
        );
        let c = capabilities(None, None);
        assert!(!c.mfa_required && !c.registration_required);
    }

    #[test]
    fn scope_is_normalized() {
        assert_eq!(scope(None), DEFAULT_SCOPE);
        assert_eq!(scope(Some("  ")), DEFAULT_SCOPE);
        assert_eq!(scope(Some("openid  openid profile")), "openid profile");
    }
}
