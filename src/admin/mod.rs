//! The admin API's decisions, kept pure: how a Graph-shaped collection (policies, named
//! locations, apps, …) is created, patched and deleted, given the validator the core owns;
//! how the tenant's flow configuration is edited as Graph resources (methods policy, user
//! flow, Vestibule's settings); and how users are shown and changed.
//!
//! The Worker only loads and stores the documents; everything that decides what a write
//! means (ids, timestamps, merge rules, validation) lives here and is tested natively.

pub mod applications;
pub mod collection;
pub mod cors;
pub mod credential;
pub mod flow_document;
pub mod flow_settings;
pub mod methods;
pub mod query;
pub mod references;
pub mod rfc3339;
pub mod user_filter;
pub mod user_flows;
pub mod users;

pub use collection::{Collection, Validator};
