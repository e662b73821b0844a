//! The two channels a one-time code travels on, and how they map to the method names
//! Conditional Access and RFC 8176 `amr` use.

use crate::policy::AuthMethod;
use serde::{Deserialize, Serialize};

/// Where a code is delivered: an email address or a phone (SMS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Channel {
    /// A one-time code by email.
    Email,
    /// A one-time code by SMS.
    Sms,
}

impl Channel {
    /// The Conditional Access method a verified code on this channel proves.
    pub fn method(self) -> AuthMethod {
        match self {
            Channel::Email => AuthMethod::Email,
            Channel::Sms => AuthMethod::Sms,
        }
    }

    /// The channel that proves `method`, if a code can prove it.
    pub fn for_method(method: AuthMethod) -> Option<Channel> {
        match method {
            AuthMethod::Email => Some(Channel::Email),
            AuthMethod::Sms => Some(Channel::Sms),
            AuthMethod::Password => None,
        }
    }

    /// The wire name (`challenge_channel`, registration method `id`).
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }
}

/// The RFC 8176 `amr` value for a method: `pwd`, `otp` (email code; RFC 8176 has no
/// `email` value) or `sms`.
pub fn amr_value(method: AuthMethod) -> &'static str {
    match method {
        AuthMethod::Password => "pwd",
        AuthMethod::Email => "otp",
        AuthMethod::Sms => "sms",
    }
}
