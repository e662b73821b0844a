//! Enforcement: every policy judged against one sign-in, then combined into one decision.
//!
//! Combining, as documented: every applicable enabled policy must be satisfied; a policy
//! that blocks (or needs a control that can never be met here) blocks the sign-in, and
//! block wins over everything; otherwise the unmet controls of all applicable enabled
//! policies are required together. Report-only policies are judged and reported with
//! their own outcomes but never reach the decision. Disabled policies are `notEnabled`.

use super::decision::{Decision, Enforcement, PolicyOutcome, PolicyResult, Requirements};
use super::facts::Facts;
use super::grant::{Need, Outcome, Session};
use super::index::Reason;
use super::model::PolicyState;
use super::set::PolicySet;
use super::signin::{SatisfiedMethod, SignIn};
use super::strength::methods_of;
use crate::time::Timestamp;

/// Judges every policy of `set` against a sign-in whose session has satisfied `satisfied`
/// (the first factor included: Conditional Access runs after it), at time `now`.
pub fn enforce(
    set: &PolicySet,
    signin: &SignIn,
    satisfied: &[SatisfiedMethod],
    now: Timestamp,
) -> Enforcement {
    let mut out = Enforcement {
        decision: Decision::Allow,
        policies: Vec::with_capacity(set.policies.len()),
    };
    enforce_into(set, signin, satisfied, now, &mut out);
    out
}

/// [`enforce`] writing into `out`, reusing its strings and vectors: a caller that keeps one
/// [`Enforcement`] per worker thread evaluates without allocating per policy.
pub fn enforce_into(
    set: &PolicySet,
    signin: &SignIn,
    satisfied: &[SatisfiedMethod],
    now: Timestamp,
    out: &mut Enforcement,
) {
    let results = &mut out.policies;
    let mut written = 0usize;
    out.decision = judge(set, signin, satisfied, now, |i, result, reason, unmet| {
        let Some(p) = set.policies.get(i) else { return };
        if results.len() <= written {
            results.push(PolicyResult {
                id: String::new(),
                display_name: String::new(),
                result,
                reasons: Vec::new(),
                unmet_controls: Vec::new(),
            });
        }
        if let Some(r) = results.get_mut(written) {
            replace(&mut r.id, p.id.as_deref().unwrap_or_default());
            replace(&mut r.display_name, &p.display_name);
            r.result = result;
            replace_all(&mut r.reasons, reason.map(Reason::as_str).as_slice());
            replace_all(&mut r.unmet_controls, unmet);
        }
        written = written.saturating_add(1);
    });
    results.truncate(written);
}

fn replace(dst: &mut String, src: &str) {
    dst.clear();
    dst.push_str(src);
}

fn replace_all(dst: &mut Vec<String>, src: &[&str]) {
    dst.truncate(src.len());
    for (i, s) in src.iter().enumerate() {
        match dst.get_mut(i) {
            Some(d) => replace(d, s),
            None => dst.push((*s).to_string()),
        }
    }
}

/// The decision alone, without the per-policy record: the same judgement as [`enforce`]
/// with no allocation per policy, for callers that do not log.
pub fn decide(
    set: &PolicySet,
    signin: &SignIn,
    satisfied: &[SatisfiedMethod],
    now: Timestamp,
) -> Decision {
    judge(set, signin, satisfied, now, |_, _, _, _| {})
}

/// The judgement behind [`enforce`], without building records: each policy is reported to
/// `record(index, result, reason, unmet controls)` in input order. For callers that write
/// the record straight into their own format (the JS package's compact boundary), so no
/// string is copied per policy.
pub fn enforce_each(
    set: &PolicySet,
    signin: &SignIn,
    satisfied: &[SatisfiedMethod],
    now: Timestamp,
    record: impl FnMut(usize, PolicyOutcome, Option<Reason>, &[&'static str]),
) -> Decision {
    judge(set, signin, satisfied, now, record)
}

/// Judges each policy, reports it to `record(index, result, reason, unmet controls)` in
/// input order, and combines the enabled ones into the decision.
fn judge(
    set: &PolicySet,
    signin: &SignIn,
    satisfied: &[SatisfiedMethod],
    now: Timestamp,
    mut record: impl FnMut(usize, PolicyOutcome, Option<Reason>, &[&'static str]),
) -> Decision {
    let facts = Facts::of(signin);
    let session = Session::new(satisfied, now);
    let applicable = set
        .index
        .applicability(&set.policies, &set.locations, &facts);
    let mut blocked: Vec<String> = Vec::new();
    let mut required = Requirements::default();
    let mut names: Vec<&'static str> = Vec::new();
    for (i, policy) in set.policies.iter().enumerate() {
        let enabled = policy.state == PolicyState::Enabled;
        if policy.state == PolicyState::Disabled {
            record(
                i,
                PolicyOutcome::NotEnabled,
                Some(Reason::PolicyNotEnabled),
                &[],
            );
            continue;
        }
        if let Some(reason) = applicable.reason(i) {
            let result = if enabled {
                PolicyOutcome::NotApplied
            } else {
                PolicyOutcome::ReportOnlyNotApplied
            };
            record(i, result, Some(reason), &[]);
            continue;
        }
        let Some(grant) = set.index.grants.get(i) else {
            continue;
        };
        let outcome = grant.evaluate(&facts, &session);
        names.clear();
        let result = match (&outcome, enabled) {
            (Outcome::Satisfied, true) => PolicyOutcome::Success,
            (Outcome::Satisfied, false) => PolicyOutcome::ReportOnlySuccess,
            (Outcome::Interrupt(needs), true) => {
                names.extend(needs.iter().map(|n| n.name()));
                require(&mut required, needs.iter(), policy.id.as_deref());
                PolicyOutcome::Failure
            }
            (Outcome::Interrupt(needs), false) => {
                names.extend(needs.iter().map(|n| n.name()));
                PolicyOutcome::ReportOnlyInterrupted
            }
            (Outcome::Fail(unmet), true) => {
                names.extend(unmet.iter());
                blocked.push(policy.id.clone().unwrap_or_default());
                PolicyOutcome::Failure
            }
            (Outcome::Fail(unmet), false) => {
                names.extend(unmet.iter());
                PolicyOutcome::ReportOnlyFailure
            }
        };
        record(i, result, None, &names);
    }
    // The combining truth table: block wins, then anything still required, else allow.
    match (blocked.is_empty(), required.policy_ids.is_empty()) {
        (false, _) => Decision::Block {
            policy_ids: blocked,
        },
        (true, false) => Decision::Require(required),
        (true, true) => Decision::Allow,
    }
}

fn require<'a>(r: &mut Requirements, needs: impl Iterator<Item = Need<'a>>, id: Option<&str>) {
    for need in needs {
        match need {
            Need::Mfa => r.mfa = true,
            Need::PasswordChange => r.password_change = true,
            Need::Reauthenticate => r.reauthentication = true,
            Need::Strength(combos) => {
                let strength: Vec<_> = combos.iter().map(|c| methods_of(*c)).collect();
                if !r.authentication_strengths.contains(&strength) {
                    r.authentication_strengths.push(strength);
                }
            }
        }
    }
    r.policy_ids.push(id.unwrap_or_default().to_string());
}
