//! SMS velocity: how many codes may go to one number, one country calling code, one IP
//! address and one user, and how long to wait after that.
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
//! first (number, user, IP, country); a send refused by a wider dimension has already
//! been counted by the narrower ones, which errs on the side of fewer messages.

use crate::flow::{Channel, Effect};
use crate::time::{Seconds, Timestamp};
use serde::{Deserialize, Serialize};

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
    fn new(burst: u8, window: u64, cooldowns: &[u64], quiet: u64) -> Self {
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

/// SMS velocity settings of a user flow (`settings.smsVelocity`).
///
/// The defaults are for a small to medium tenant; a tenant with heavy SMS traffic in one
/// country raises `countryCode`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct SmsVelocity {
    /// Per destination number. 3 codes per 10 minutes covers a resend and a retry; then
    /// 1 min → 5 min → 1 h between codes, ended by 24 h of silence. A person waiting for
    /// a code never needs a fourth one within a minute; a pumping run against one number
    /// is cut to one message an hour.
    pub number: VelocityLimits,
    /// Per user (a user may register a new number, then do MFA with it): 5 per 10
    /// minutes, then 1 min → 5 min → 15 min → 1 h (Auth0 allows 10 MFA SMS an hour per
    /// user), ended by 24 h of silence.
    pub user: VelocityLimits,
    /// Per client IP address: 20 per 10 minutes, because mobile carriers put many users
    /// behind one address (CGNAT); then 30 s → 2 min → 10 min, ended by 1 h of silence.
    /// Supabase allows 30 SMS an hour per IP; an IP cap alone does not stop pumping,
    /// which rotates addresses, so it is one dimension of four.
    pub ip: VelocityLimits,
    /// Per country calling code, tenant-wide: the dimension that catches pumping spread
    /// over many numbers of one premium range. Every user of that country shares it, so
    /// it throttles instead of blocking: 100 per 10 minutes, then 10 s → 30 s → 60 s
    /// between codes, ended by 1 h of silence.
    pub country_code: VelocityLimits,
}

impl Default for SmsVelocity {
    fn default() -> Self {
        SmsVelocity {
            number: VelocityLimits::new(3, 600, &[60, 300, 3600], 86_400),
            user: VelocityLimits::new(5, 600, &[60, 300, 900, 3600], 86_400),
            ip: VelocityLimits::new(20, 600, &[30, 120, 600], 3600),
            country_code: VelocityLimits::new(100, 600, &[10, 30, 60], 3600),
        }
    }
}

impl SmsVelocity {
    /// The first unusable field, as `(target, reason)`.
    pub fn problem(&self) -> Option<(&'static str, &'static str)> {
        [
            ("settings.smsVelocity.number", &self.number),
            ("settings.smsVelocity.user", &self.user),
            ("settings.smsVelocity.ip", &self.ip),
            ("settings.smsVelocity.countryCode", &self.country_code),
        ]
        .into_iter()
        .find_map(|(target, limits)| limits.problem().map(|p| (target, p)))
    }
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
}

impl VelocityState {
    /// When the state may be forgotten (nothing to remember after the quiet period).
    pub fn forget_at(&self, limits: &VelocityLimits) -> Option<Timestamp> {
        self.last_send
            .map(|t| t.plus(Seconds(limits.quiet_seconds.max(limits.window_seconds))))
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
    /// The destination number.
    Number,
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
            Dimension::Number => "number",
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
            Dimension::Number | Dimension::User | Dimension::Ip | Dimension::CountryCode => "sms",
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

/// The checks for the SMS codes among `effects`, narrowest dimension first. Email codes
/// have their own counters ([`super::email_velocity::email_checks`]).
pub fn sms_checks(
    effects: &[Effect],
    settings: &SmsVelocity,
    user_id: Option<&str>,
    ip: Option<&str>,
) -> Vec<SendCheck> {
    let mut checks = Vec::new();
    for effect in effects {
        let Effect::SendCode(code) = effect else {
            continue;
        };
        if code.channel != Channel::Sms {
            continue;
        }
        let number = code.to.expose();
        let mut push = |dimension, value: &str, limits: &VelocityLimits| {
            checks.push(SendCheck {
                dimension,
                value: value.to_string(),
                limits: limits.clone(),
            });
        };
        push(Dimension::Number, number, &settings.number);
        if let Some(user) = user_id {
            push(Dimension::User, user, &settings.user);
        }
        if let Some(ip) = ip {
            push(Dimension::Ip, ip, &settings.ip);
        }
        if let Some(cc) = country_calling_code(number) {
            push(Dimension::CountryCode, cc, &settings.country_code);
        }
    }
    checks
}

/// The ITU-T E.164 country calling code of a `+`-prefixed number, by the zone rules:
/// codes are prefix-free, 1 to 3 digits; zones 1 and 7 are one digit, and each other
/// zone has a fixed set of two-digit codes, every other code being three digits. A
/// table of 200+ codes (or the `phonenumber` crate's metadata) would say the same at a
/// far larger wasm cost.
pub fn country_calling_code(number: &str) -> Option<&str> {
    let digits = number.strip_prefix('+')?;
    let bytes = digits.as_bytes();
    if bytes.len() < 4 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let two_digit: &[&str] = &[
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
        "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
        "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
    ];
    let len = match bytes.first() {
        Some(b'1' | b'7') => 1,
        Some(b'0') => return None,
        _ if two_digit.contains(&digits.get(..2)?) => 2,
        _ => 3,
    };
    digits.get(..len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{CodeDelivery, CodePurpose};
    use crate::pii::{Pii, Secret};

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

    #[test]
    fn defaults_are_valid_and_bad_limits_are_named() {
        assert_eq!(SmsVelocity::default().problem(), None);
        let mut s = SmsVelocity::default();
        s.ip.quiet_seconds = 60;
        assert_eq!(
            s.problem(),
            Some((
                "settings.smsVelocity.ip",
                "`quietSeconds` must be longer than the longest cool-down"
            ))
        );
        s = SmsVelocity::default();
        s.number.burst = 0;
        assert_eq!(
            s.problem().map(|p| p.0),
            Some("settings.smsVelocity.number")
        );
        s = SmsVelocity::default();
        s.user.cooldowns_seconds.clear();
        assert_eq!(s.problem().map(|p| p.0), Some("settings.smsVelocity.user"));
    }

    #[test]
    fn settings_parse_from_camel_case_json_and_refuse_unknown_fields() {
        let s: SmsVelocity = serde_json::from_str(
            r#"{"number":{"burst":2,"windowSeconds":60,"cooldownsSeconds":[5],"quietSeconds":600}}"#,
        )
        .unwrap();
        assert_eq!(s.number.burst, 2);
        assert_eq!(s.user, SmsVelocity::default().user);
        assert!(serde_json::from_str::<SmsVelocity>(r#"{"numbr":{}}"#).is_err());
    }

    #[test]
    fn calling_codes_follow_the_zone_rules() {
        for (n, cc) in [
            ("+15551234567", Some("1")),
            ("+74951234567", Some("7")),
            ("+447700900123", Some("44")),
            ("+33612345678", Some("33")),
            ("+4915112345678", Some("49")),
            ("+35312345678", Some("353")),
            ("+8801712345678", Some("880")),
            ("+97312345678", Some("973")),
            ("+2348012345678", Some("234")),
            ("+201001234567", Some("20")),
            ("+0123456", None),
            ("15551234567", None),
            ("+1555x", None),
            ("+12", None),
        ] {
            assert_eq!(country_calling_code(n), cc, "{n}");
        }
    }

    fn send(channel: Channel, to: &str) -> Effect {
        Effect::SendCode(CodeDelivery {
            channel,
            to: Pii::new(to.to_string()),
            code: Secret::new("12345678".to_string()),
            purpose: CodePurpose::Mfa,
            expires_at: Timestamp(600),
        })
    }

    #[test]
    fn only_sms_codes_are_checked_narrowest_first() {
        let s = SmsVelocity::default();
        let effects = vec![
            send(Channel::Email, "a@example.com"),
            send(Channel::Sms, "+447700900123"),
        ];
        let checks = sms_checks(&effects, &s, Some("u1"), Some("203.0.113.9"));
        let dims: Vec<(Dimension, &str)> = checks
            .iter()
            .map(|c| (c.dimension, c.value.as_str()))
            .collect();
        assert_eq!(
            dims,
            vec![
                (Dimension::Number, "+447700900123"),
                (Dimension::User, "u1"),
                (Dimension::Ip, "203.0.113.9"),
                (Dimension::CountryCode, "44"),
            ]
        );
        assert_eq!(checks[3].limits, s.country_code);
        // Without a user or an IP those dimensions are skipped; email alone checks nothing.
        assert_eq!(sms_checks(&effects, &s, None, None).len(), 2);
        assert!(sms_checks(&effects[..1], &s, Some("u1"), Some("ip")).is_empty());
    }
}
