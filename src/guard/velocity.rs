//! Velocity: how many codes may go to one destination (or from one source), and how
//! long to wait after that. The model and the counters' names; the SMS settings and
//! checks are [`super::sms_velocity`]'s, the email ones [`super::email_velocity`]'s.
//!
//! Every SMS costs money, and SMS pumping (toll fraud) turns a sign-in form into a way
//! to send many expensive messages to numbers the attacker is paid for. The per-flow
//! caps (`maxSendsPerStep`, `maxCodesPerFlow`) do not help, because an attacker just
//! starts more flows; the caps here span flows. Peers converge on the same shape
//! (`peers-and-standards.md` §3–5): per-destination and per-prefix/country caps
//! (kratos#1835, supabase/auth#605), growing waits instead of a hard block (Auth0's SMS
//! fraud protection grows from 1 to 32 minutes), per-IP limits that alone are not
//! enough. NIST SP 800-63B asks for throttling with "increasing waits" from "30 seconds
//! up to an hour" for failed authentications; the same ladder fits sends.
//!
//! The model of one counter ([`decide`]): up to `burst` codes within `windowSeconds`
//! go out freely. Once a key has had `burst` codes inside the window it is *escalated*:
//! every further code must wait the next cool-down after the previous code (the last
//! cool-down repeats). The escalation ends when the key received nothing for
//! `quietSeconds`, which is longer than the longest cool-down so that waiting out one
//! cool-down never resets the ladder. A refused request changes nothing, so a person
//! tapping "resend" does not make their own wait longer; it sent nothing.
//!
//! Each dimension is its own Durable Object (keyed by a keyed hash, never the raw
//! value), so one hot number never slows another. They are asked in order, narrowest
//! first (number from this network, user, IP, number from all networks, country); a
//! send refused by a wider dimension has already been counted by the narrower ones,
//! which errs on the side of fewer messages.

use crate::time::{Seconds, Timestamp};
use serde::{Deserialize, Serialize};

// Their old home: `crate::guard::velocity::SmsVelocity` keeps working.
pub use super::sms_velocity::{SmsVelocity, country_calling_code, sms_checks};

/// The limits of one counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VelocityLimits {
    /// Codes allowed freely within the window (at least 1).
    pub burst: u8,
    /// The window of the burst, in seconds.
    pub window_seconds: u64,
    /// Waits after the burst, each from the previous code; the last one repeats.
    pub cooldowns_seconds: Vec<u64>,
    /// Silence that ends the escalation (longer than the longest cool-down).
    pub quiet_seconds: u64,
}

impl VelocityLimits {
    pub(crate) fn new(burst: u8, window: u64, cooldowns: &[u64], quiet: u64) -> Self {
        VelocityLimits {
            burst,
            window_seconds: window,
            cooldowns_seconds: cooldowns.to_vec(),
            quiet_seconds: quiet,
        }
    }

    /// Why these limits are unusable, if they are.
    pub fn problem(&self) -> Option<&'static str> {
        let longest = self.cooldowns_seconds.iter().copied().max().unwrap_or(0);
        if self.burst == 0 {
            Some("`burst` must be at least 1")
        } else if self.window_seconds == 0 {
            Some("`windowSeconds` must be at least 1")
        } else if self.cooldowns_seconds.is_empty() || self.cooldowns_seconds.len() > 16 {
            Some("`cooldownsSeconds` must list 1 to 16 waits")
        } else if self.quiet_seconds <= longest {
            Some("`quietSeconds` must be longer than the longest cool-down")
        } else {
            None
        }
    }
}

/// The first of `fields` whose limits are unusable, as `(JSON path, reason)`: the
/// validation of every velocity settings block.
pub(crate) fn first_problem<'a>(
    fields: impl IntoIterator<Item = (&'static str, &'a VelocityLimits)>,
) -> Option<(&'static str, &'static str)> {
    fields
        .into_iter()
        .find_map(|(target, limits)| limits.problem().map(|p| (target, p)))
}

/// The send history of one key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VelocityState {
    /// Sends within the current window (at most `burst` kept).
    #[serde(default)]
    pub recent: Vec<Timestamp>,
    /// 0: free; n ≥ 1: the next send waits cool-down n (the last one repeats).
    #[serde(default)]
    pub level: u8,
    /// The last send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_send: Option<Timestamp>,
    /// A pair counter only: until when a verified code vouches for this (destination,
    /// network) pair ([`super::vouch`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vouched_until: Option<Timestamp>,
    /// The counter as it was before its latest counted send (the one at `last_send`),
    /// so a send whose delivery failed can be given back exactly ([`super::refund`]).
    /// Absent in states stored before refunds existed, and after a refund. The same
    /// type, not one of its own: its reader is already in the Worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undo: Option<Box<VelocityState>>,
}

impl VelocityState {
    /// When the state may be forgotten (nothing to remember after the quiet period, or
    /// after a vouch ends).
    pub fn forget_at(&self, limits: &VelocityLimits) -> Option<Timestamp> {
        let sends = self
            .last_send
            .map(|t| t.plus(Seconds(limits.quiet_seconds.max(limits.window_seconds))));
        match (sends, self.vouched_until) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether a verified code vouches for this pair at `now`.
    pub fn vouched(&self, now: Timestamp) -> bool {
        self.vouched_until.is_some_and(|until| now < until)
    }
}

/// The answer for one send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "snake_case")]
pub enum SendVerdict {
    /// Send it; it was counted.
    Allowed,
    /// Do not send.
    Refused {
        /// Seconds until a send may be allowed.
        retry_after: u64,
    },
}
crate::tagged_enum!(SendVerdict, "verdict");

/// Decides one send at `now` and records it when allowed.
pub fn decide(
    mut state: VelocityState,
    limits: &VelocityLimits,
    now: Timestamp,
) -> (VelocityState, SendVerdict) {
    let before = VelocityState {
        recent: state.recent.clone(),
        level: state.level,
        last_send: state.last_send,
        ..VelocityState::default()
    };
    let (mut state, verdict) = count(std::mem::take(&mut state), limits, now);
    if verdict == SendVerdict::Allowed {
        state.undo = Some(Box::new(before));
    }
    (state, verdict)
}

/// [`decide`] without keeping what it undoes.
fn count(
    mut state: VelocityState,
    limits: &VelocityLimits,
    now: Timestamp,
) -> (VelocityState, SendVerdict) {
    if let Some(last) = state.last_send
        && now.since(last).0 >= limits.quiet_seconds
    {
        state.level = 0;
        state.recent.clear();
    }
    state
        .recent
        .retain(|t| now.since(*t).0 < limits.window_seconds);
    let burst = usize::from(limits.burst.max(1));
    if state.level == 0 && state.recent.len() < burst {
        state.recent.push(now);
        state.last_send = Some(now);
        if state.recent.len() >= burst {
            state.level = 1;
        }
        return (state, SendVerdict::Allowed);
    }
    // Escalated: the wait of this level, counted from the previous send.
    let index = usize::from(state.level.max(1)).saturating_sub(1);
    let wait = limits
        .cooldowns_seconds
        .get(index)
        .or(limits.cooldowns_seconds.last())
        .copied()
        .unwrap_or(limits.window_seconds);
    let ready = state.last_send.unwrap_or(now).plus(Seconds(wait));
    if now < ready {
        return (
            state,
            SendVerdict::Refused {
                retry_after: ready.since(now).0,
            },
        );
    }
    state.recent.push(now);
    if state.recent.len() > burst {
        state.recent.remove(0);
    }
    state.last_send = Some(now);
    let top = u8::try_from(limits.cooldowns_seconds.len()).unwrap_or(u8::MAX);
    state.level = state.level.max(1).saturating_add(1).min(top.max(1));
    (state, SendVerdict::Allowed)
}

/// Which counter a check is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Dimension {
    /// The destination number as requested from one client network.
    NumberFromIp,
    /// The destination number across all networks.
    NumberAllIps,
    /// The user the code is for.
    User,
    /// The client IP address.
    Ip,
    /// The number's country calling code.
    CountryCode,
    /// The destination email address as requested from one client network: the
    /// per-address cool-down ([`super::email_velocity`]), so an attacker's requests do
    /// not hold back the victim's own.
    EmailAddressFromIp,
    /// The destination email address across all networks: the ceiling that stops a
    /// flood spread over many networks.
    EmailAddressAllIps,
    /// The client network, counting email codes (apart from SMS: other limits).
    EmailIp,
}

impl Dimension {
    /// A short stable name (part of the Durable Object name).
    pub fn as_str(self) -> &'static str {
        match self {
            // Not `number`, the per-number counter these two replaced: its state was
            // counted under other limits, so it is left to expire.
            Dimension::NumberFromIp => "number-ip",
            Dimension::NumberAllIps => "number-all",
            Dimension::User => "user",
            Dimension::Ip => "ip",
            Dimension::CountryCode => "cc",
            // Not `address`, the per-address counter these two replaced: its state was
            // counted under other limits, so it is left to expire.
            Dimension::EmailAddressFromIp => "address-ip",
            Dimension::EmailAddressAllIps => "address-all",
            Dimension::EmailIp => "ip",
        }
    }

    /// The channel it counts, the first part of its object's name: `sms` or `email`.
    pub fn channel(self) -> &'static str {
        match self {
            Dimension::EmailAddressFromIp | Dimension::EmailAddressAllIps | Dimension::EmailIp => {
                "email"
            }
            Dimension::NumberFromIp
            | Dimension::NumberAllIps
            | Dimension::User
            | Dimension::Ip
            | Dimension::CountryCode => "sms",
        }
    }
}

/// One counter to ask before an SMS goes out. `value` is what it counts (a number, a
/// user id, an address, a calling code); the adapter hashes it before it names anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendCheck {
    /// Which counter.
    pub dimension: Dimension,
    /// What it counts, in clear (personal data: hash it, never log it).
    pub value: String,
    /// Its limits.
    pub limits: VelocityLimits,
}

/// A step's effect sending a code to `to`, for the tests of the counters a send goes
/// through (what is counted depends on the channel and the destination only).
#[cfg(test)]
pub(crate) fn send_effect(channel: crate::flow::Channel, to: &str) -> crate::flow::Effect {
    crate::flow::Effect::SendCode(crate::flow::CodeDelivery {
        channel,
        to: crate::pii::Pii::new(to.to_string()),
        code: crate::pii::Secret::new("12345678".to_string()),
        purpose: crate::flow::CodePurpose::SignIn,
        expires_at: Timestamp(600),
    })
}

/// The guard as the Worker runs it (`src/worker/guard.rs`, `check_sends`), for tests
/// of how the counters play together: one state per (dimension, value), the checks
/// asked in order, the first refusal answering; what was allowed before it stays
/// counted. `Err` carries the refusing dimension and its `retry_after`.
#[cfg(test)]
pub(crate) fn ask_in_order(
    counters: &mut std::collections::HashMap<(&'static str, String), VelocityState>,
    checks: Vec<SendCheck>,
    now: u64,
) -> Result<(), (Dimension, u64)> {
    let mut vouched = super::vouch::Vouched::default();
    for check in checks {
        if vouched.skips(&check) {
            continue;
        }
        let key = (check.dimension.as_str(), check.value.clone());
        let state = counters.remove(&key).unwrap_or_default();
        vouched.record(&check, state.vouched(Timestamp(now)));
        let (next, verdict) = decide(state, &check.limits, Timestamp(now));
        counters.insert(key, next);
        if let SendVerdict::Refused { retry_after } = verdict {
            return Err((check.dimension, retry_after));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number() -> VelocityLimits {
        SmsVelocity::default().number
    }

    /// Sends at each time; returns which were allowed and the final state.
    fn run(limits: &VelocityLimits, times: &[u64]) -> (Vec<SendVerdict>, VelocityState) {
        let mut state = VelocityState::default();
        let mut out = Vec::new();
        for t in times {
            let (next, v) = decide(state, limits, Timestamp(*t));
            state = next;
            out.push(v);
        }
        (out, state)
    }

    #[test]
    fn three_free_then_the_fourth_waits_a_minute() {
        let (v, _) = run(&number(), &[0, 1, 2, 3]);
        assert_eq!(&v[..3], &[SendVerdict::Allowed; 3]);
        assert_eq!(v[3], SendVerdict::Refused { retry_after: 59 });
    }

    #[test]
    fn cooldowns_grow_one_minute_five_minutes_one_hour_then_repeat() {
        let l = number();
        // Three free, then each send exactly when allowed.
        let (v, s) = run(&l, &[0, 1, 2, 62, 362, 3962, 7562]);
        assert!(v.iter().all(|x| *x == SendVerdict::Allowed), "{v:?}");
        assert_eq!(s.level, 3);
        // One second early at each level is refused with the exact wait left.
        for (times, wait) in [
            (vec![0, 1, 2, 61], 1),
            (vec![0, 1, 2, 62, 361], 1),
            (vec![0, 1, 2, 62, 362, 3961], 1),
            (vec![0, 1, 2, 62, 362, 3962, 7000], 562),
        ] {
            let (v, _) = run(&l, &times);
            assert_eq!(v.last(), Some(&SendVerdict::Refused { retry_after: wait }));
        }
    }

    #[test]
    fn refusals_change_nothing() {
        let l = number();
        let (_, s) = run(&l, &[0, 1, 2]);
        let (after, v) = decide(s.clone(), &l, Timestamp(30));
        assert!(matches!(v, SendVerdict::Refused { .. }));
        assert_eq!(after, s);
    }

    #[test]
    fn the_window_slides_while_not_escalated() {
        // Two sends, then two more after the first left the 10-minute window: all free.
        let (v, s) = run(&number(), &[0, 100, 601, 650]);
        assert!(v.iter().all(|x| *x == SendVerdict::Allowed), "{v:?}");
        assert_eq!(s.level, 1, "three inside one window escalates");
    }

    #[test]
    fn silence_ends_the_escalation_but_one_cooldown_does_not() {
        let l = number();
        let (_, s) = run(&l, &[0, 1, 2, 62, 362, 3962]);
        assert_eq!(s.level, 3);
        // Waiting out the one-hour cool-down sends one code, still escalated.
        let (s2, v) = decide(s.clone(), &l, Timestamp(3962 + 3600));
        assert_eq!(v, SendVerdict::Allowed);
        assert_eq!(s2.level, 3);
        // A day of silence resets to three free codes.
        let (v, _) = {
            let mut st = s;
            let mut out = Vec::new();
            for t in [3962 + 86_400, 3963 + 86_400, 3964 + 86_400] {
                let (n, x) = decide(st, &l, Timestamp(t));
                st = n;
                out.push(x);
            }
            (out, st)
        };
        assert!(v.iter().all(|x| *x == SendVerdict::Allowed), "{v:?}");
    }

    #[test]
    fn the_state_stays_small() {
        let l = SmsVelocity::default().country_code;
        let times: Vec<u64> = (0..1000).map(|i| i * 61).collect();
        let (_, s) = run(&l, &times);
        assert!(s.recent.len() <= usize::from(l.burst));
        assert_eq!(s.forget_at(&l), s.last_send.map(|t| t.plus(Seconds(3600))));
    }
}
