//! Personal data and secrets as types whose `Debug` and `Display` always redact.
//!
//! Emails, phone numbers, IPs, codes, passwords and tokens are wrapped at the edge of the
//! core, so a stray `{:?}` in a log line can never leak them. The raw value is reachable only
//! through [`Pii::expose`] / [`Secret::expose`], which makes every use greppable.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Personal data (email address, phone number, IP address): redacted when printed.
///
/// Serializes as the raw value, because state kept in KV and effects handed to the
/// adapter must carry it; printing is what must never show it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Pii<T>(T);

/// A secret (code, password, token, key): redacted when printed and never compared
/// with `==` by accident, since it has no `PartialEq`.
#[derive(Clone, Default)]
pub struct Secret<T>(T);

impl<T> Pii<T> {
    /// Wraps personal data.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The raw value. Use only where the value must leave the process (delivery, storage).
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the raw value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Secret<T> {
    /// Wraps a secret.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The raw value. Use only where the secret must be checked or delivered.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the raw value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Pii<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pii(<redacted>)")
    }
}

impl<T> fmt::Display for Pii<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T: Serialize> Serialize for Pii<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Pii<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Pii)
    }
}

impl<T: Serialize> Serialize for Secret<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printing_never_shows_the_value() {
        let email = Pii::new("alice@example.com".to_string());
        let code = Secret::new("123456".to_string());
        let printed = format!("{email} {email:?} {code} {code:?} {:#?}", (&email, &code));
        assert!(!printed.contains("alice"), "{printed}");
        assert!(!printed.contains("123456"), "{printed}");
    }

    #[test]
    fn serialization_keeps_the_value_for_storage() {
        let email = Pii::new("alice@example.com".to_string());
        let json = serde_json::to_string(&email).unwrap();
        assert_eq!(json, "\"alice@example.com\"");
        let back: Pii<String> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, email);
    }
}
