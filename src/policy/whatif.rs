//! What If: the Graph `evaluate` action over a policy set.
//!
//! Each policy is reported as the policy object itself plus `policyApplies` and
//! `analysisReasons` (`notSet` when it applies, otherwise the first condition that did not
//! match, or `policyNotEnabled`). Enabled and report-only policies are evaluated alike, as
//! the Graph examples show; `appliedPoliciesOnly` keeps only the applying ones.

use super::facts::Facts;
use super::model::PolicyState;
use super::set::PolicySet;
use super::signin::SignIn;
use serde_json::{Map, Value};

/// A parsed Graph `evaluate` request: the sign-in it describes (with the user's group and
/// role ids from the caller's directory) and `appliedPoliciesOnly`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WhatIfRequest {
    /// The simulated sign-in.
    pub sign_in: SignIn,
    /// List only the policies that apply.
    pub applied_policies_only: bool,
}

/// One policy's What If answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WhatIfResult {
    /// The position of the policy in the set.
    pub index: usize,
    /// Whether the policy applies.
    pub policy_applies: bool,
    /// `notSet`, or why it does not apply (a Graph `whatIfAnalysisReasons` value).
    pub analysis_reasons: &'static str,
}

impl PolicySet {
    /// The What If answer for every policy, in input order (all policies, whatever
    /// `appliedPoliciesOnly` says; [`PolicySet::what_if`] applies that filter).
    pub fn what_if_results(&self, request: &WhatIfRequest) -> Vec<WhatIfResult> {
        let facts = Facts::of(&request.sign_in);
        let applicable = self
            .index
            .applicability(&self.policies, &self.locations, &facts);
        self.policies
            .iter()
            .enumerate()
            .map(|(index, policy)| {
                let reason = if policy.state == PolicyState::Disabled {
                    Some("policyNotEnabled")
                } else {
                    applicable.reason(index).map(|r| r.as_str())
                };
                WhatIfResult {
                    index,
                    policy_applies: reason.is_none(),
                    analysis_reasons: reason.unwrap_or("notSet"),
                }
            })
            .collect()
    }

    /// The Graph response body: `{"value": [policy + policyApplies + analysisReasons]}`.
    pub fn what_if(&self, request: &WhatIfRequest) -> Value {
        let value = self
            .what_if_results(request)
            .into_iter()
            .filter(|r| r.policy_applies || !request.applied_policies_only)
            .filter_map(|r| {
                let mut object: Map<String, Value> = self.policies.get(r.index)?.source.clone();
                object.insert("policyApplies".into(), Value::Bool(r.policy_applies));
                object.insert("analysisReasons".into(), Value::from(r.analysis_reasons));
                Some(Value::Object(object))
            })
            .collect();
        let mut body = Map::new();
        body.insert("value".into(), Value::Array(value));
        Value::Object(body)
    }
}
