//! Conditional Access: policies in the JSON shape of Microsoft Graph
//! `conditionalAccessPolicy`, What If, and enforcement decisions with reasons.
//!
//! The pipeline is parse → compile → evaluate:
//!
//! 1. [`parse`] turns Graph JSON into the typed [`model`], rejecting unknown fields,
//!    duplicate keys and anything the engine does not evaluate, each error with its JSON
//!    path ([`err`] lists the codes).
//! 2. [`PolicySet`] checks policies and named locations against each other and compiles an
//!    index (bit sets per fact value, id maps, parsed CIDRs).
//! 3. [`enforce`] judges a sign-in (after its first factor) and returns the [`Decision`]
//!    with a per-policy record in the sign-in log vocabulary; [`PolicySet::what_if`]
//!    answers the Graph `evaluate` action.
//!
//! [`json_api`] is the text-in/text-out surface for the JS package and the Worker. The
//! semantics chosen where Microsoft's documentation is silent are written down in
//! `docs/policy-semantics.md`.

pub mod cidr;
pub mod compiled_api;
pub mod decision;
pub mod device_filter;
pub mod engine;
pub mod err;
pub mod facts;
pub mod index;
pub mod json;
pub mod json_api;
pub mod model;
pub mod parse;
pub mod set;
pub mod signin;
pub mod strength;
pub mod whatif;

mod bits;
mod grant;

pub use decision::{Decision, Enforcement, PolicyOutcome, PolicyResult, Requirements};
pub use engine::{decide, enforce, enforce_each, enforce_into};
pub use json_api::{evaluate_json, validate_policies_json, what_if_json};
pub use model::{NamedLocation, Policy};
pub use parse::{parse_named_location, parse_policy};
pub use set::PolicySet;
pub use signin::{AuthMethod, SatisfiedMethod, SignIn};
pub use whatif::{WhatIfRequest, WhatIfResult};
