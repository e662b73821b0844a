//! The native authentication API (Entra External ID, V1) as pure protocol translation.
//!
//! Apps written against Microsoft's native auth, including the real
//! `@azure/msal-browser/custom-auth` client, talk to Vestibule unchanged. This module is
//! the wire half of that promise, kept apart from the Worker so every rule is tested
//! natively: it reads an `application/x-www-form-urlencoded` body for one of the fifteen
//! endpoints into a [`crate::flow::FlowInput`] (or a protocol error), and turns the flow's
//! [`crate::flow::Reply`] plus the next continuation token into the HTTP status and JSON
//! body the reference (`native-auth.md`) prescribes. It reads no clock and no RNG: the
//! caller passes the time, the trace and correlation ids and the tokens it minted.
//!
//! - [`Endpoint`]: the fifteen paths and which flow steps each may continue.
//! - [`Form`] / [`parse`]: body → [`NativeRequest`] (start, step or refresh).
//! - [`NativeError`]: the error envelope (`error`, `suberror`, `error_codes`, …); all
//!   protocol errors are `400`, as the reference advises, server faults `500`.
//! - [`reply_response`] / [`error_response`]: reply → [`NativeResponse`].
//! - [`tokens`]: the claims of ID and access tokens, the token response body, and the
//!   session a refresh token stands for.
//! - [`defaults`]: the built-in user flow every tenant gets until it stores its own.
//! - [`delivery`]: what happens when a code cannot be sent (delivery hooks).
//!
//! Two rules the Worker relies on:
//!
//! - A continuation token is rotated at every step that moves the flow. A refused input
//!   that leaves the flow where it was (wrong code, wrong password, resend too soon) keeps
//!   the token the client holds, because MSAL retries with the token of its current state
//!   object; the error body then carries no new token.
//! - Every error body is JSON with a `correlation_id`: MSAL reuses it as the next
//!   `client-request-id`.

pub mod continuation;
pub mod cors;
pub mod defaults;
pub mod delivery;
pub mod endpoint;
pub mod error;
pub mod form;
pub mod params;
pub mod request;
pub mod response;
pub mod tokens;

#[cfg(test)]
mod tests;

pub use continuation::{Disposition, FlowRecord, disposition};
pub use endpoint::Endpoint;
pub use error::NativeError;
pub use form::Form;
pub use request::{Grant, NativeRequest, check_step, parse};
pub use response::{Meta, NativeResponse, error_response, flow_error, reply_response};
