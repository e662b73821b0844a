//! Vestibule: a policy and flow engine for sign-in at the edge.
//!
//! The crate is split so the architecture is visible in the module tree:
//!
//! - the **core** ([`policy`], [`flow`], [`about`], [`error`]) is pure and sans-I/O: time and
//!   random bytes come in as values, decisions and effects go out as data. It builds and is
//!   tested natively with no features.
//! - the **adapters** are the only code that touches JavaScript or the Workers runtime:
//!   `ffi` (feature `js`, the wasm-bindgen API of the npm package) and `worker` (feature
//!   `worker`, the Cloudflare Worker). An adapter translates; it does not decide.

pub mod about;
pub mod admin;
pub mod audit;
pub mod error;
pub mod flow;
pub mod guard;
pub mod hook;
pub mod json_path;
pub mod native;
pub mod oidc;
pub mod pii;
pub mod policy;
pub mod routes;
pub mod sms;
pub mod tagged;
pub mod time;
pub mod token;
pub mod urlencoded;

#[cfg(feature = "js")]
mod ffi;
#[cfg(feature = "worker")]
mod worker;
