//! The user record the adapter stores (as JSON in KV) and passes back on every step.
//!
//! The engine never looks a user up: the adapter does, using
//! [`super::FlowState::user_lookup`], and the engine returns `CreateUser` / `UpdateUser`
//! effects with the whole new record. Failure counters live here, not in the flow
//! state, so they survive across flows (a new flow must not reset them).

use super::channel::Channel;
use super::config::LockoutSettings;
use crate::pii::{Pii, Secret};
use crate::time::{Seconds, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A local account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserRecord {
    /// Stable object id (UUID), used as `oid`/`sub` and in audit events.
    pub id: String,
    /// The sign-in email address, normalized (lowercase).
    pub email: Pii<String>,
    /// Argon2id PHC string, absent for email-one-time-passcode accounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<Secret<String>>,
    /// The `displayName` collected at sign-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<Pii<String>>,
    /// Other attributes collected at sign-up, by attribute id.
    #[serde(default)]
    pub attributes: BTreeMap<String, Pii<serde_json::Value>>,
    /// Group ids, for method-policy targets and Conditional Access.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Registered strong methods (second factors), each with a stable id.
    #[serde(default)]
    pub strong_methods: Vec<StrongMethod>,
    /// Consecutive failures and the resulting waits.
    #[serde(default)]
    pub lockout: Lockout,
    /// When the account was created.
    pub created_at: Timestamp,
    /// When the password was last set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_changed_at: Option<Timestamp>,
}

/// A registered second factor: a phone number for SMS or an email address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StrongMethod {
    /// Stable id, returned by `/oauth2/v2.0/introspect` as the method `id`.
    pub id: String,
    /// Email or SMS.
    pub channel: Channel,
    /// The E.164 number or the email address.
    pub target: Pii<String>,
    /// When it was verified and added.
    pub registered_at: Timestamp,
}

/// Per-account throttling of failed passwords and codes (NIST SP 800-63B §5.2.2).
///
/// The account's guard object keeps a copy of this that password steps merge in
/// ([`crate::guard::password`]); `clearedAt` is how a record tells that copy it is
/// outdated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Lockout {
    /// Failures since the last complete sign-in.
    #[serde(default)]
    pub consecutive_failures: u32,
    /// No verification is attempted before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<Timestamp>,
    /// Set at the hard limit (at most 100 failures); only an administrator clears it.
    #[serde(default)]
    pub disabled: bool,
    /// When the counters were last cleared (a complete sign-in, an administrator's
    /// re-enable). A copy the guard object wrote before this is outdated: it was cleared,
    /// even if the object never heard of it ([`crate::guard::password::merge`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleared_at: Option<Timestamp>,
    /// When an administrator last re-enabled the account. A sign-in's clear lowers the
    /// counts but never lifts a disable: a location whose KV still showed the record
    /// from before an administrator's disable could otherwise complete a sign-in (with a
    /// one-time code, no password judged) and write that clear back, enabling the
    /// account again everywhere ([`crate::guard::password::merge`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_at: Option<Timestamp>,
}

/// The account is locked: `until` is `None` when it is disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LockedOut {
    pub(crate) until: Option<Timestamp>,
}

impl Lockout {
    /// Whether a verification may be attempted now.
    pub(crate) fn check(&self, now: Timestamp) -> Result<(), LockedOut> {
        if self.disabled {
            return Err(LockedOut { until: None });
        }
        match self.locked_until {
            Some(until) if now < until => Err(LockedOut { until: Some(until) }),
            _ => Ok(()),
        }
    }

    /// Counts a failure. After `freeFailures` failures each new one doubles the wait,
    /// from `baseWaitSeconds` up to `maxWaitSeconds`; at `maxConsecutiveFailures` the
    /// account is disabled.
    pub(crate) fn record_failure(&mut self, now: Timestamp, settings: &LockoutSettings) {
        if self.disabled {
            return;
        }
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        let n = self.consecutive_failures;
        if n >= settings.max_consecutive_failures.clamp(1, 100) {
            self.disabled = true;
            return;
        }
        if n > settings.free_failures {
            let doublings = (n - settings.free_failures - 1).min(32);
            let wait = settings
                .base_wait_seconds
                .saturating_mul(1u64 << doublings)
                .min(settings.max_wait_seconds);
            self.locked_until = Some(now.plus(Seconds(wait)));
        }
    }

    /// Clears the counters after a complete sign-in (never after a first factor alone,
    /// or knowing the password would reset the count for guessing second factors), and
    /// stamps when, so an older copy in the guard object no longer counts. True when
    /// something changed (the record must be written, and the object told).
    pub(crate) fn record_success(&mut self, now: Timestamp) -> bool {
        let changed = self.consecutive_failures != 0 || self.locked_until.is_some();
        if changed {
            self.consecutive_failures = 0;
            self.locked_until = None;
            self.cleared_at = Some(now);
        }
        changed
    }

    /// Whether nothing is counted against the account.
    pub fn is_clear(&self) -> bool {
        self.consecutive_failures == 0 && self.locked_until.is_none() && !self.disabled
    }
}

impl UserRecord {
    /// The registered method with this id.
    pub fn strong_method(&self, id: &str) -> Option<&StrongMethod> {
        self.strong_methods.iter().find(|m| m.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_then_the_account_is_disabled() {
        let settings = LockoutSettings::default();
        let mut l = Lockout::default();
        for _ in 0..settings.free_failures {
            l.record_failure(Timestamp(0), &settings);
            assert_eq!(l.check(Timestamp(0)), Ok(()));
        }
        l.record_failure(Timestamp(0), &settings);
        assert_eq!(l.locked_until, Some(Timestamp(settings.base_wait_seconds)));
        l.record_failure(Timestamp(0), &settings);
        assert_eq!(
            l.locked_until,
            Some(Timestamp(2 * settings.base_wait_seconds))
        );
        for _ in 0..200 {
            l.record_failure(Timestamp(0), &settings);
        }
        assert!(l.disabled);
        assert_eq!(l.consecutive_failures, settings.max_consecutive_failures);
        assert_eq!(l.check(Timestamp(u64::MAX)), Err(LockedOut { until: None }));
    }

    #[test]
    fn success_clears_waits_but_not_a_disabled_account() {
        let settings = LockoutSettings::default();
        let mut l = Lockout::default();
        for _ in 0..7 {
            l.record_failure(Timestamp(0), &settings);
        }
        assert!(l.record_success(Timestamp(5)));
        assert_eq!(l.check(Timestamp(0)), Ok(()));
        assert_eq!(l.cleared_at, Some(Timestamp(5)));
        assert!(!l.record_success(Timestamp(6)));
        assert_eq!(
            l.cleared_at,
            Some(Timestamp(5)),
            "nothing to clear, no new stamp"
        );
        // Records written before `clearedAt` existed still load.
        let old: Lockout = serde_json::from_str(r#"{"consecutiveFailures":2}"#).unwrap();
        assert_eq!(old.cleared_at, None);
    }
}
