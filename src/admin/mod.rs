//! The admin API's decisions, kept pure: how a Graph-shaped collection (policies, named
//! locations, apps, …) is created, patched and deleted, given the validator the core owns.
//!
//! The Worker only loads and stores the documents; everything that decides what a write
//! means (ids, timestamps, merge rules, validation) lives here and is tested natively.

pub mod collection;
pub mod credential;
pub mod rfc3339;

pub use collection::{Collection, Validator};
