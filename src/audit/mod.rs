//! Sign-in logs: one record per sign-in attempt, in the shape of Microsoft Graph
//! [`signIn`](https://learn.microsoft.com/graph/api/resources/signin), so an admin can roll
//! a Conditional Access policy out in report-only mode, read what it would have done, and
//! then switch it on.
//!
//! The pieces, all pure:
//!
//! - [`evidence`]: what the flow engine attaches to the audit event of an attempt that
//!   ended ([`SignInEvidence`]): the outcome, the methods tried, each policy's result.
//! - [`sign_in`]: builds the Graph-shaped [`SignInRecord`] from that evidence, and the
//!   small [`SignInSummary`] a list query filters on.
//! - [`filter`]: the OData `$filter` subset the list endpoint accepts, and `$top`.
//! - [`log`]: where records live in KV (keys that list newest first), how long they are
//!   kept, and the page a list query returns.
//!
//! The Worker (`src/worker/sign_in_log.rs`) only stores and serves what these decide.

pub mod datetime;
pub mod evidence;
pub mod filter;
pub mod log;
pub mod paging;
pub mod sign_in;

pub use evidence::{AppliedPolicy, AuthStep, SignInEvidence, SignInOutcome, applied_policies};
pub use filter::{Filter, Query};
pub use sign_in::{SignInRecord, SignInSummary};
