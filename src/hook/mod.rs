//! Delivery hooks signed with Standard Webhooks (<https://www.standardwebhooks.com>).
//!
//! The Worker hands one-time codes to a tenant's own sender (email or SMS provider) by
//! POSTing a signed JSON body. This module is the pure part: secrets, signing and checking
//! the `webhook-*` headers, the payload type, and the retry decision. The HTTP call itself
//! is the Worker's.
//!
//! - [`SigningSecrets`] / [`VerifyingSecrets`]: `whsec_` (HMAC, `v1`) and `whsk_` / `whpk_`
//!   (Ed25519, `v1a`) secrets, several at once for rotation.
//! - [`sign`] / [`verify`]: the headers over `msg_id.timestamp.payload`.
//! - [`CodeDelivery`] / [`seal`]: the payload, serialized once to the bytes that are signed.
//! - [`should_retry`] / [`is_success`]: what to do with the answer; [`Attempts`]: the
//!   attempts of one delivery within its 5 s budget.
//! - [`config`]: which URL and secrets each channel uses (Worker variables and secrets,
//!   or a tenant's document), checked; [`request`]: the HTTP request for one attempt.

pub mod budget;
pub mod config;
pub mod err;
pub mod payload;
pub mod request;
pub mod retry;
pub mod retry_after;
pub mod secrets;
pub mod signature;

pub use budget::{Attempts, Failure, Next};
pub use config::{ConfigError, HookEndpoint, Route, TenantHooks};
pub use err::HookError;
pub use payload::{CodeDelivery, CodeDeliveryType, Delivery, DeliveryPurpose, seal};
pub use request::HookRequest;
pub use retry::{MAX_ATTEMPTS, Outcome, is_retryable, is_success, should_retry};
pub use secrets::{SigningSecrets, VerifyingSecrets};
pub use signature::{DEFAULT_TOLERANCE, MessageId, WebhookHeaders, sign, verify};
