//! What an authorization request's `acr_values` ask of the sign-in (OIDC Core §3.1.2.1,
//! RFC 9470), and the access policy that enforces it.
//!
//! Vestibule's tokens carry Entra's levels as `acr`: `1` (one factor) or `2` (two
//! distinct methods). A request lists acceptable values in order of preference:
//!
//! - `1` or `2`: levels. When every level listed is `2`, one factor is not acceptable, so
//!   the sign-in must pass a second factor ([`RequireMfa`]) whatever Conditional Access
//!   says; with `1` among them, one factor suffices.
//! - `c1` … `c99`: Entra authentication contexts. They are handed to Conditional Access
//!   (`authenticationContextClassReferences`), whose policies decide what they need, and
//!   the satisfied ones come back in the `acrs` claim.
//! - Anything else is ignored: `acr_values` is a voluntary claim request, so an unknown
//!   value must not fail the sign-in.

use crate::flow::AccessPolicy;
use crate::flow::access::distinct_methods;
use crate::policy::{Decision, Requirements, SatisfiedMethod, SignIn};
use crate::time::Timestamp;

/// The `acr` values this issuer can produce, for the discovery document.
pub fn supported() -> Vec<String> {
    vec!["1".to_string(), "2".to_string()]
}

/// What `acr_values` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcrRequest {
    /// Two distinct methods are required.
    pub mfa: bool,
    /// Authentication contexts for Conditional Access, in request order.
    pub auth_contexts: Vec<String>,
}

/// Reads a space-separated `acr_values`.
pub fn parse(acr_values: Option<&str>) -> AcrRequest {
    let values: Vec<&str> = acr_values.unwrap_or_default().split_whitespace().collect();
    let levels: Vec<&str> = values
        .iter()
        .copied()
        .filter(|v| *v == "1" || *v == "2")
        .collect();
    let mut auth_contexts: Vec<String> = Vec::new();
    for v in &values {
        if is_auth_context(v) && !auth_contexts.iter().any(|c| c == v) {
            auth_contexts.push((*v).to_string());
        }
    }
    AcrRequest {
        mfa: !levels.is_empty() && levels.iter().all(|l| *l == "2"),
        auth_contexts,
    }
}

/// `c1` to `c99`, as Entra names authentication contexts.
fn is_auth_context(v: &str) -> bool {
    v.strip_prefix('c')
        .and_then(|n| {
            n.parse::<u8>()
                .ok()
                .filter(|n| (1..=99).contains(n))
                .map(|_| n)
        })
        .is_some_and(|n| !n.starts_with('0'))
}

/// The tenant's access policy, plus a second factor when the request asked for `acr` 2.
/// A block or any other requirement of the inner policy stands unchanged.
pub struct RequireMfa<'a> {
    /// The tenant's policy.
    pub inner: &'a dyn AccessPolicy,
    /// Whether two distinct methods are required.
    pub mfa: bool,
}

impl AccessPolicy for RequireMfa<'_> {
    fn decide(&self, sign_in: &SignIn, satisfied: &[SatisfiedMethod], now: Timestamp) -> Decision {
        let decision = self.inner.decide(sign_in, satisfied, now);
        if !self.mfa || distinct_methods(satisfied) >= 2 {
            return decision;
        }
        match decision {
            Decision::Allow => Decision::Require(Requirements {
                mfa: true,
                policy_ids: vec!["acr_values:2".to_string()],
                ..Requirements::default()
            }),
            Decision::Require(mut r) => {
                r.mfa = true;
                r.policy_ids.push("acr_values:2".to_string());
                Decision::Require(r)
            }
            block @ Decision::Block { .. } => block,
        }
    }

    /// The tenant's policies as they are: `acr_values` is the app's request, not a
    /// Conditional Access policy, and the sign-in log must list the policies of a
    /// hosted-page sign-in as it does for native auth.
    fn applied_policies(
        &self,
        sign_in: &SignIn,
        satisfied: &[SatisfiedMethod],
        now: Timestamp,
    ) -> Vec<crate::audit::AppliedPolicy> {
        self.inner.applied_policies(sign_in, satisfied, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::NoPolicies;
    use crate::policy::AuthMethod;

    #[test]
    fn levels_and_contexts_are_read_and_unknown_values_ignored() {
        assert_eq!(parse(None), AcrRequest::default());
        assert!(parse(Some("2")).mfa);
        assert!(parse(Some("2 c1")).mfa);
        assert!(!parse(Some("2 1")).mfa, "1 is acceptable too");
        assert!(!parse(Some("urn:x:gold")).mfa);
        let r = parse(Some("c1 c99 c1 c0 c100 c07 C2 c"));
        assert_eq!(r.auth_contexts, ["c1", "c99"]);
        assert!(!r.mfa);
    }

    #[test]
    fn acr_2_requires_a_second_method_until_there_are_two() {
        let at = |method| SatisfiedMethod {
            method,
            at: Timestamp(1),
        };
        let p = RequireMfa {
            inner: &NoPolicies,
            mfa: true,
        };
        let s = SignIn::default();
        assert!(matches!(
            p.decide(&s, &[at(AuthMethod::Password)], Timestamp(2)),
            Decision::Require(r) if r.mfa && r.policy_ids == ["acr_values:2"]
        ));
        assert_eq!(
            p.decide(
                &s,
                &[at(AuthMethod::Password), at(AuthMethod::Sms)],
                Timestamp(2)
            ),
            Decision::Allow
        );
        let off = RequireMfa {
            inner: &NoPolicies,
            mfa: false,
        };
        assert_eq!(
            off.decide(&s, &[at(AuthMethod::Password)], Timestamp(2)),
            Decision::Allow
        );
        let block = |_: &SignIn, _: &[SatisfiedMethod], _: Timestamp| Decision::Block {
            policy_ids: vec!["b".into()],
        };
        let p = RequireMfa {
            inner: &block,
            mfa: true,
        };
        assert!(matches!(
            p.decide(&s, &[], Timestamp(2)),
            Decision::Block { .. }
        ));
    }
}
