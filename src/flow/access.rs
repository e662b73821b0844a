//! The question the flow asks after every factor: given this sign-in and what the
//! session has proven, allow, block, or what is still missing?
//!
//! [`AccessPolicy`] is the seam to Conditional Access. `settings.mfaEnforcement` picks how
//! MFA is decided, as B2C user flows do: `off` → never, `always` → [`MfaAlways`],
//! `conditional` → the policy the caller passes (the Conditional Access engine's
//! [`crate::policy::PolicySet`], or [`NoPolicies`] when the tenant has none).
//!
//! One rule holds under every setting: a Conditional Access **block** always blocks. An
//! admin who writes "block sign-ins from these countries" expects it to hold whatever the
//! user flow's MFA switch says, so `off` and `always` only replace the MFA part of the
//! decision, never a block.

use super::config::MfaEnforcement;
use crate::audit::AppliedPolicy;
use crate::policy::decision::PolicyOutcome;
use crate::policy::{AuthMethod, Decision, Requirements, SatisfiedMethod, SignIn};
use crate::time::Timestamp;
use std::collections::BTreeSet;

/// Decides what a sign-in still needs. Implementations must be pure.
pub trait AccessPolicy {
    /// The decision for `sign_in`, given the methods already satisfied (with times).
    fn decide(&self, sign_in: &SignIn, satisfied: &[SatisfiedMethod], now: Timestamp) -> Decision;

    /// Each Conditional Access policy's result, for the sign-in log. Only a real policy
    /// set has policies to report; every other policy reports none.
    fn applied_policies(
        &self,
        _sign_in: &SignIn,
        _satisfied: &[SatisfiedMethod],
        _now: Timestamp,
    ) -> Vec<AppliedPolicy> {
        Vec::new()
    }
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

    fn applied_policies(
        &self,
        sign_in: &SignIn,
        satisfied: &[SatisfiedMethod],
        now: Timestamp,
    ) -> Vec<AppliedPolicy> {
        crate::audit::applied_policies(self, sign_in, satisfied, now).1
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

/// The policy a flow consults: the user flow's MFA setting over Conditional Access,
/// where a Conditional Access block always wins.
pub(crate) struct Effective<'a> {
    enforcement: MfaEnforcement,
    conditional: &'a dyn AccessPolicy,
}

/// The policy a flow consults under `enforcement`.
pub(crate) fn effective(
    enforcement: MfaEnforcement,
    conditional: &dyn AccessPolicy,
) -> Effective<'_> {
    Effective {
        enforcement,
        conditional,
    }
}

impl AccessPolicy for Effective<'_> {
    fn decide(&self, sign_in: &SignIn, satisfied: &[SatisfiedMethod], now: Timestamp) -> Decision {
        let ca = self.conditional.decide(sign_in, satisfied, now);
        match (self.enforcement, ca) {
            (_, block @ Decision::Block { .. }) => block,
            (MfaEnforcement::Conditional, decision) => decision,
            (MfaEnforcement::Off, _) => MfaOff.decide(sign_in, satisfied, now),
            (MfaEnforcement::Always, _) => MfaAlways.decide(sign_in, satisfied, now),
        }
    }

    /// From Conditional Access alone: the user flow's MFA setting is not a policy. But
    /// under `off` and `always` a requirement Conditional Access left unmet did not decide
    /// the sign-in (the setting replaced it), so unless Conditional Access blocked, its
    /// failed policies are reported `notEnabled`, without enforced controls: the record
    /// must not call a sign-in the setting let through a Conditional Access failure. A
    /// block is reported as it is, since it decided.
    fn applied_policies(
        &self,
        sign_in: &SignIn,
        satisfied: &[SatisfiedMethod],
        now: Timestamp,
    ) -> Vec<AppliedPolicy> {
        let mut applied = self.conditional.applied_policies(sign_in, satisfied, now);
        let overridden = self.enforcement != MfaEnforcement::Conditional
            && !matches!(
                self.conditional.decide(sign_in, satisfied, now),
                Decision::Block { .. }
            );
        if overridden {
            for p in applied
                .iter_mut()
                .filter(|p| p.result == PolicyOutcome::Failure)
            {
                p.result = PolicyOutcome::NotEnabled;
                p.enforced_grant_controls.clear();
            }
        }
        applied
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

    /// A policy set stand-in: decides `decision` and reports one policy with `result`.
    struct Reporting {
        decision: Decision,
        result: PolicyOutcome,
    }

    impl AccessPolicy for Reporting {
        fn decide(&self, _: &SignIn, _: &[SatisfiedMethod], _: Timestamp) -> Decision {
            self.decision.clone()
        }
        fn applied_policies(
            &self,
            _: &SignIn,
            _: &[SatisfiedMethod],
            _: Timestamp,
        ) -> Vec<AppliedPolicy> {
            vec![AppliedPolicy {
                id: "p".into(),
                display_name: "p".into(),
                result: self.result,
                enforced_grant_controls: vec!["mfa".into()],
            }]
        }
    }

    #[test]
    fn a_requirement_the_setting_overrode_is_not_reported_as_failed() {
        let s = SignIn::default();
        let one = [at(AuthMethod::Password)];
        let requires = Reporting {
            decision: Decision::Require(Requirements {
                mfa: true,
                ..Requirements::default()
            }),
            result: PolicyOutcome::Failure,
        };
        let report = |enforcement, policy: &Reporting| {
            let p = effective(enforcement, policy).applied_policies(&s, &one, Timestamp(2));
            (p[0].result, p[0].enforced_grant_controls.len())
        };
        assert_eq!(
            report(MfaEnforcement::Conditional, &requires),
            (PolicyOutcome::Failure, 1)
        );
        for overriding in [MfaEnforcement::Off, MfaEnforcement::Always] {
            assert_eq!(
                report(overriding, &requires),
                (PolicyOutcome::NotEnabled, 0),
                "{overriding:?}"
            );
        }
        // A block decided the sign-in under every setting, and is reported as such.
        let blocks = Reporting {
            decision: Decision::Block {
                policy_ids: vec!["p".into()],
            },
            result: PolicyOutcome::Failure,
        };
        assert_eq!(
            report(MfaEnforcement::Off, &blocks),
            (PolicyOutcome::Failure, 1)
        );
        // Other results are left as they are.
        let met = Reporting {
            decision: Decision::Allow,
            result: PolicyOutcome::Success,
        };
        assert_eq!(
            report(MfaEnforcement::Off, &met),
            (PolicyOutcome::Success, 1)
        );
    }

    #[test]
    fn a_conditional_access_block_holds_under_every_mfa_setting() {
        let block = |_: &SignIn, _: &[SatisfiedMethod], _: Timestamp| Decision::Block {
            policy_ids: vec!["block-countries".into()],
        };
        let allow = |_: &SignIn, _: &[SatisfiedMethod], _: Timestamp| Decision::Allow;
        let s = SignIn::default();
        let two = [at(AuthMethod::Password), at(AuthMethod::Sms)];
        for enforcement in [
            MfaEnforcement::Off,
            MfaEnforcement::Always,
            MfaEnforcement::Conditional,
        ] {
            assert!(
                matches!(
                    effective(enforcement, &block).decide(&s, &two, Timestamp(2)),
                    Decision::Block { .. }
                ),
                "{enforcement:?}"
            );
        }
        let one = [at(AuthMethod::Password)];
        assert_eq!(
            effective(MfaEnforcement::Off, &allow).decide(&s, &one, Timestamp(2)),
            Decision::Allow
        );
        assert!(matches!(
            effective(MfaEnforcement::Always, &allow).decide(&s, &one, Timestamp(2)),
            Decision::Require(_)
        ));
    }
}
