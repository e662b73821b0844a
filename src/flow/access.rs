//! The question the flow asks after every factor: given this sign-in and what the
//! session has proven, allow, block, or what is still missing?
//!
//! [`AccessPolicy`] is the seam to Conditional Access. The flow picks the policy from
//! `settings.mfaEnforcement`, as B2C user flows do: `off` → [`MfaOff`], `always` →
//! [`MfaAlways`], `conditional` → the policy the caller passes (the Conditional Access
//! engine's [`crate::policy::PolicySet`], or [`NoPolicies`] when the tenant has none).

use super::config::MfaEnforcement;
use crate::policy::{AuthMethod, Decision, Requirements, SatisfiedMethod, SignIn};
use crate::time::Timestamp;
use std::collections::BTreeSet;

/// Decides what a sign-in still needs. Implementations must be pure.
pub trait AccessPolicy {
    /// The decision for `sign_in`, given the methods already satisfied (with times).
    fn decide(&self, sign_in: &SignIn, satisfied: &[SatisfiedMethod], now: Timestamp) -> Decision;
}

impl<F> AccessPolicy for F
where
    F: Fn(&SignIn, &[SatisfiedMethod], Timestamp) -> Decision,
{
    fn decide(&self, sign_in: &SignIn, satisfied: &[SatisfiedMethod], now: Timestamp) -> Decision {
        self(sign_in, satisfied, now)
    }
}

/// B2C "Off": never a second factor.
#[derive(Debug, Clone, Copy, Default)]
pub struct MfaOff;

impl AccessPolicy for MfaOff {
    fn decide(&self, _: &SignIn, _: &[SatisfiedMethod], _: Timestamp) -> Decision {
        Decision::Allow
    }
}

/// B2C "Always on": two distinct methods, whatever Conditional Access says.
#[derive(Debug, Clone, Copy, Default)]
pub struct MfaAlways;

impl AccessPolicy for MfaAlways {
    fn decide(&self, _: &SignIn, satisfied: &[SatisfiedMethod], _: Timestamp) -> Decision {
        if distinct_methods(satisfied) >= 2 {
            Decision::Allow
        } else {
            Decision::Require(Requirements {
                mfa: true,
                policy_ids: vec!["mfaEnforcement:always".to_string()],
                ..Requirements::default()
            })
        }
    }
}

/// Conditional Access with no policies: nothing is required.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPolicies;

impl AccessPolicy for NoPolicies {
    fn decide(&self, _: &SignIn, _: &[SatisfiedMethod], _: Timestamp) -> Decision {
        Decision::Allow
    }
}

/// The Conditional Access engine: the tenant's compiled policies decide.
impl AccessPolicy for crate::policy::PolicySet {
    fn decide(&self, sign_in: &SignIn, satisfied: &[SatisfiedMethod], now: Timestamp) -> Decision {
        crate::policy::decide(self, sign_in, satisfied, now)
    }
}

/// How many different methods were satisfied (email twice is one method).
pub fn distinct_methods(satisfied: &[SatisfiedMethod]) -> usize {
    satisfied
        .iter()
        .map(|s| s.method)
        .collect::<BTreeSet<AuthMethod>>()
        .len()
}

/// The policy a flow consults under `enforcement`.
pub(crate) fn effective(
    enforcement: MfaEnforcement,
    conditional: &dyn AccessPolicy,
) -> &dyn AccessPolicy {
    static OFF: MfaOff = MfaOff;
    static ALWAYS: MfaAlways = MfaAlways;
    match enforcement {
        MfaEnforcement::Off => &OFF,
        MfaEnforcement::Always => &ALWAYS,
        MfaEnforcement::Conditional => conditional,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(method: AuthMethod) -> SatisfiedMethod {
        SatisfiedMethod {
            method,
            at: Timestamp(1),
        }
    }

    #[test]
    fn always_needs_two_distinct_methods() {
        let s = SignIn::default();
        let now = Timestamp(2);
        assert!(
            matches!(MfaAlways.decide(&s, &[at(AuthMethod::Password)], now), Decision::Require(r) if r.mfa)
        );
        assert!(
            matches!(
                MfaAlways.decide(&s, &[at(AuthMethod::Email), at(AuthMethod::Email)], now),
                Decision::Require(_)
            ),
            "email twice is one method"
        );
        assert_eq!(
            MfaAlways.decide(&s, &[at(AuthMethod::Email), at(AuthMethod::Sms)], now),
            Decision::Allow
        );
        assert_eq!(MfaOff.decide(&s, &[], now), Decision::Allow);
    }
}
