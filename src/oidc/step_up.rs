//! RFC 9470 step-up: does an access token's authentication meet what a resource requires,
//! and if not, the `WWW-Authenticate` challenge that tells the client how to get one that
//! does.
//!
//! The resource server checks both claims the RFC names:
//! - `acr` must be one of the required `acr_values` (exact string match; the RFC defines
//!   no ordering between values, so none is assumed). A required Entra authentication
//!   context (`c1` …) is also met when the token's `acrs` lists it, since that is where
//!   Entra's tokens carry the contexts a sign-in satisfied;
//! - `auth_time` must be no older than `max_age` seconds. A token without `auth_time`
//!   fails any `max_age` requirement: recency that cannot be shown is not assumed.
//!
//! The challenge repeats every requirement, not only the unmet one, so the new token
//! satisfies both at once.

use crate::time::{Seconds, Timestamp};
use crate::token::Claims;

/// The RFC 9470 error code.
pub const INSUFFICIENT_USER_AUTHENTICATION: &str = "insufficient_user_authentication";

/// What the resource requires and which part the token failed. Build the response header
/// with [`www_authenticate`] and answer `401`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsufficientAuth {
    /// Required `acr` values, in preference order (empty if none are required).
    pub acr_values: Vec<String>,
    /// Required recency of authentication, if any.
    pub max_age: Option<Seconds>,
    /// The token's `acr` is not among `acr_values`.
    pub acr_unmet: bool,
    /// The token's `auth_time` is older than `max_age`, or missing.
    pub max_age_unmet: bool,
}

impl InsufficientAuth {
    /// A short explanation for `error_description`, lowercase like every message here.
    pub fn description(&self) -> &'static str {
        if self.acr_unmet {
            "a different authentication level is required"
        } else {
            "more recent authentication is required"
        }
    }
}

/// Checks a verified token's claims against a resource's requirements: `None` if they are
/// met, otherwise what to challenge with.
pub fn step_up_needed(
    claims: &Claims,
    acr_values: &[String],
    max_age: Option<Seconds>,
    now: Timestamp,
) -> Option<InsufficientAuth> {
    let acr_unmet = !acr_values.is_empty()
        && !acr_values
            .iter()
            .any(|v| claims.acr.as_ref() == Some(v) || claims.acrs.contains(v));
    let max_age_unmet = max_age.is_some_and(|max| match claims.auth_time {
        Some(at) => now.since(at) > max,
        None => true,
    });
    (acr_unmet || max_age_unmet).then(|| InsufficientAuth {
        acr_values: acr_values.to_vec(),
        max_age,
        acr_unmet,
        max_age_unmet,
    })
}

/// The `WWW-Authenticate` value, e.g.
/// `Bearer error="insufficient_user_authentication", error_description="…",
/// acr_values="c1 c2", max_age="300"`. Values are quoted strings with `"` and `\`
/// escaped and control characters dropped, so a configured value cannot split the header.
pub fn www_authenticate(insufficient: &InsufficientAuth) -> String {
    let mut header = format!(
        "Bearer error=\"{INSUFFICIENT_USER_AUTHENTICATION}\", error_description=\"{}\"",
        quote(insufficient.description())
    );
    if !insufficient.acr_values.is_empty() {
        header.push_str(", acr_values=\"");
        header.push_str(&quote(&insufficient.acr_values.join(" ")));
        header.push('"');
    }
    if let Some(max_age) = insufficient.max_age {
        header.push_str(&format!(", max_age=\"{}\"", max_age.0));
    }
    header
}

/// The inside of an HTTP quoted-string (RFC 9110 §5.6.4).
fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars().filter(|c| !c.is_control()) {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(acr: Option<&str>, auth_time: Option<u64>) -> Claims {
        let mut c = Claims::new("i", "s", "a", Timestamp(1000), Timestamp(5000));
        c.acr = acr.map(str::to_string);
        c.auth_time = auth_time.map(Timestamp);
        c
    }

    fn values(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn met_requirements_need_no_step_up() {
        let c = claims(Some("c2"), Some(900));
        assert_eq!(step_up_needed(&c, &[], None, Timestamp(2000)), None);
        assert_eq!(
            step_up_needed(&c, &values(&["c1", "c2"]), None, Timestamp(2000)),
            None
        );
        assert_eq!(
            step_up_needed(&c, &[], Some(Seconds(100)), Timestamp(950)),
            None
        );
        // Exactly max_age old is still fresh enough.
        assert_eq!(
            step_up_needed(&c, &[], Some(Seconds(100)), Timestamp(1000)),
            None
        );
    }

    #[test]
    fn a_wrong_or_missing_acr_needs_step_up() {
        for c in [claims(Some("c0"), Some(900)), claims(None, Some(900))] {
            let need = step_up_needed(&c, &values(&["c1", "c2"]), None, Timestamp(1000)).unwrap();
            assert!(need.acr_unmet && !need.max_age_unmet);
            assert_eq!(
                www_authenticate(&need),
                "Bearer error=\"insufficient_user_authentication\", \
                 error_description=\"a different authentication level is required\", \
                 acr_values=\"c1 c2\""
            );
        }
    }

    #[test]
    fn an_authentication_context_is_met_by_the_acrs_claim() {
        let mut c = claims(Some("2"), Some(900));
        let need = step_up_needed(&c, &values(&["c1"]), None, Timestamp(1000)).unwrap();
        assert!(need.acr_unmet, "two factors alone do not meet context c1");
        c.acrs = values(&["c1"]);
        assert_eq!(
            step_up_needed(&c, &values(&["c1"]), None, Timestamp(1000)),
            None
        );
        assert!(step_up_needed(&c, &values(&["c2"]), None, Timestamp(1000)).is_some());
    }

    #[test]
    fn stale_or_unknown_auth_time_needs_step_up() {
        for c in [claims(Some("c1"), Some(899)), claims(Some("c1"), None)] {
            let need =
                step_up_needed(&c, &values(&["c1"]), Some(Seconds(100)), Timestamp(1000)).unwrap();
            assert!(!need.acr_unmet && need.max_age_unmet);
            assert_eq!(
                www_authenticate(&need),
                "Bearer error=\"insufficient_user_authentication\", \
                 error_description=\"more recent authentication is required\", \
                 acr_values=\"c1\", max_age=\"100\""
            );
        }
    }

    #[test]
    fn configured_values_cannot_break_out_of_the_header() {
        let need = InsufficientAuth {
            acr_values: values(&["a\"b", "c\\d", "e\r\nSet-Cookie: x"]),
            max_age: None,
            acr_unmet: true,
            max_age_unmet: false,
        };
        let header = www_authenticate(&need);
        assert!(
            header.ends_with(r#"acr_values="a\"b c\\d eSet-Cookie: x""#),
            "{header}"
        );
        assert!(!header.contains('\n') && !header.contains('\r'));
    }
}
