//! Tokens: EdDSA-signed JWTs, their keys and JWKS, opaque handles, PKCE and `client_info`.
//!
//! Pure like the rest of the core: keys come from a secret the Worker passes in, time comes
//! in as [`crate::time::Timestamp`], randomness as caller-supplied bytes. Ed25519 comes from
//! `ed25519-dalek` (pure Rust, builds for `wasm32-unknown-unknown` without `getrandom`).
//!
//! - [`Keyring`] / [`jwks`]: signing keys from a secret, rotation, the published key set.
//! - [`issue`] / [`verify`]: ID and access tokens; see [`jwt`] for the order of checks.
//! - [`amr_for`] / [`auth_time_of`]: RFC 8176 `amr` and OIDC `auth_time` from the methods
//!   a session satisfied.
//! - [`new_handle`] / [`lookup_key`]: refresh tokens, continuation tokens and codes,
//!   stored only as a hash.
//! - [`verify_pkce_s256`]: the token endpoint's PKCE check.
//! - [`client_info()`]: the token-response field MSAL requires.

pub mod claims;
pub mod client_info;
pub mod err;
pub mod handle;
pub mod jwt;
pub mod keyring;
pub mod pkce;

pub use claims::{Amr, Claims, ID_TOKEN_VERSION, amr_for, auth_time_of};
pub use client_info::client_info;
pub use err::{KeyringError, TokenError};
pub use handle::{
    HANDLE_RANDOM_BYTES, Handle, HandleKind, LookupKey, lookup_key, new_handle,
    refresh_token_handle,
};
pub use jwt::{MAX_TOKEN_LEN, TokenType, Validation, issue, issue_typed, verify};
pub use keyring::{Keyring, PublicKey, SigningKey, jwks};
pub use pkce::{challenge_is_valid, challenge_s256, verifier_is_valid, verify_pkce_s256};
