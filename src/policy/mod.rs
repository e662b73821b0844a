//! Conditional Access: policies in the JSON shape of Microsoft Graph
//! `conditionalAccessPolicy`, What If, and enforcement decisions with reasons.

pub mod decision;
pub mod signin;

pub use decision::{Decision, Enforcement, PolicyOutcome, PolicyResult, Requirements};
pub use signin::{AuthMethod, SatisfiedMethod, SignIn};
