//! What the flow engine knows about one sign-in attempt, handed to the sign-in log
//! builder ([`super::sign_in::build`]) with the attempt's [`crate::flow::AuditEvent`].
//!
//! The flow attaches a [`SignInEvidence`] to the audit event of every attempt that ends
//! one way or another (tokens issued, wrong password, wrong or expired code, locked out,
//! blocked, unknown user or app). It holds the account email (personal data, for the
//! admin-only `userPrincipalName`), the request facts, the methods tried and each
//! Conditional Access policy's result; never a code, password, token or phone number.

use crate::flow::reply::{BlockReason, Rejection};
use crate::pii::Pii;
use crate::policy::decision::{Decision, PolicyOutcome};
use crate::policy::model::GraphEnum as _;
use crate::policy::{AuthMethod, PolicySet, SatisfiedMethod, SignIn};
use crate::time::Timestamp;

/// One sign-in attempt as the flow saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInEvidence {
    /// The account email the attempt named (normalized), shown only to admins.
    pub user_principal_name: Pii<String>,
    /// The client IP, when the adapter knew it.
    pub ip_address: Option<Pii<String>>,
    /// ISO 3166-1 alpha-2 country of the client, when known.
    pub country: Option<String>,
    /// How the attempt ended.
    pub outcome: SignInOutcome,
    /// The authentication steps, in order: methods from the session, methods proven in
    /// this flow, then the step that failed (if one did).
    pub steps: Vec<AuthStep>,
    /// Each Conditional Access policy's result for this attempt; `None` when Conditional
    /// Access was not evaluated (it runs only after the first factor).
    pub conditional_access: Option<Vec<AppliedPolicy>>,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInOutcome {
    /// Tokens were issued.
    Success,
    /// An input was refused: wrong password, wrong or expired code, locked account,
    /// unknown user or app. `second_factor` says whether the refused input was the
    /// second factor (a failed MFA, Entra's 500121) rather than the first.
    Rejected {
        /// What was refused.
        rejection: Rejection,
        /// Whether it happened at the second factor.
        second_factor: bool,
    },
    /// The sign-in was blocked (Conditional Access, or a requirement it cannot meet).
    Blocked(BlockReason),
    /// The sign-in was handed to the browser (the redirect fallback) after its first
    /// factor: a second factor this client cannot run here, or a fraud check that needs
    /// a page. Entra logs such an interruption too, with no tokens issued here.
    Interrupted,
}

/// One authentication step for `authenticationDetails`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthStep {
    /// The method.
    pub method: AuthMethod,
    /// When it was performed.
    pub at: Timestamp,
    /// Whether it succeeded.
    pub succeeded: bool,
    /// The first factor (primary authentication) or a later one.
    pub primary: bool,
    /// Satisfied earlier, in the signed-in session (step-up), not in this flow.
    pub previously_satisfied: bool,
}

impl AuthStep {
    /// A method proven earlier (from the session) or in this flow.
    pub fn satisfied(m: &SatisfiedMethod, primary: bool, previously_satisfied: bool) -> Self {
        AuthStep {
            method: m.method,
            at: m.at,
            succeeded: true,
            primary,
            previously_satisfied,
        }
    }
}

/// One policy's entry in `appliedConditionalAccessPolicies`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedPolicy {
    /// The policy id.
    pub id: String,
    /// Its display name.
    pub display_name: String,
    /// Graph's result vocabulary, report-only results included.
    pub result: PolicyOutcome,
    /// The grant controls of a policy that applied (Graph names, `authenticationStrength`
    /// for a strength); empty for one that did not apply or is off.
    pub enforced_grant_controls: Vec<String>,
}

/// Every policy of `set` judged against the sign-in, with its grant controls, in policy
/// order. The same judgement as the decision the flow acted on (the engine's
/// [`crate::policy::enforce_each`]), so the log and the enforcement cannot disagree.
pub fn applied_policies(
    set: &PolicySet,
    sign_in: &SignIn,
    satisfied: &[SatisfiedMethod],
    now: Timestamp,
) -> (Decision, Vec<AppliedPolicy>) {
    let mut out = Vec::with_capacity(set.policies().len());
    let decision = crate::policy::enforce_each(set, sign_in, satisfied, now, |i, result, _, _| {
        let Some(p) = set.policies().get(i) else {
            return;
        };
        let applied = !matches!(
            result,
            PolicyOutcome::NotApplied
                | PolicyOutcome::NotEnabled
                | PolicyOutcome::ReportOnlyNotApplied
        );
        let enforced_grant_controls = if applied {
            p.grant
                .built_in
                .iter()
                .map(|c| c.as_str().to_string())
                .chain(
                    p.grant
                        .strength
                        .as_ref()
                        .map(|_| "authenticationStrength".to_string()),
                )
                .collect()
        } else {
            Vec::new()
        };
        out.push(AppliedPolicy {
            id: p.id.clone().unwrap_or_default(),
            display_name: p.display_name.clone(),
            result,
            enforced_grant_controls,
        });
    });
    (decision, out)
}
