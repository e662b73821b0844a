//! Networks where an address's or number's owner has proven themselves.
//!
//! Why: the cross-network ceilings (`addressAllIps`, `numberAllIps`) stop a flood of codes
//! spread over many networks, but while such a flood goes on they refuse the owner too,
//! and the refusal's `retry_after` tells the attacker when to take the next slot: a
//! lock-out for as long as the attack lasts. Auth0 lets a successful login reset the
//! brute-force count of that IP; the same idea here. Once a code sent to a destination
//! was verified from a client network, that (destination, network) pair is *vouched* for
//! [`VOUCH_LIFETIME`]: sends from it skip the ceilings (they are still counted per pair
//! and per network, so the pair's own cap still bounds them). Only someone who read the code can vouch, so an attacker cannot vouch their own
//! network for a victim's inbox. Someone behind the same public address as the owner
//! (CGNAT, an office) shares the vouch and stays bounded by the pair's cap.

use super::velocity::{Dimension, SendCheck, VelocityState};
use super::velocity_key::{email_address_key, network_key};
use crate::flow::{Channel, Effect, FlowSettings, PendingCode};
use crate::time::{Seconds, Timestamp};

/// How long a verified code vouches for its pair: about as long as peers remember a
/// device ("don't ask again for 30 days"), so a regular user's home and office stay
/// served through an attack without being vouched for ever.
pub const VOUCH_LIFETIME: Seconds = Seconds(30 * 86_400);

/// What a (destination, network) pair is counted under: `destination` is the address
/// key ([`email_address_key`]) or the E.164 number. A newline is in neither.
pub fn pair_value(destination: &str, network: Option<&str>) -> String {
    format!("{destination}\n{}", network.unwrap_or_default())
}

/// The pair counter a code would vouch for once verified: its destination from the
/// caller's network, with that counter's limits. `None` without a client IP (nothing to
/// tell this network from others).
pub fn pair_for(
    code: &PendingCode,
    ip: Option<&str>,
    settings: &FlowSettings,
) -> Option<SendCheck> {
    let network = network_key(ip?);
    let destination = code.destination().expose();
    Some(match code.channel() {
        Channel::Email => SendCheck {
            dimension: Dimension::EmailAddressFromIp,
            value: pair_value(&email_address_key(destination), Some(&network)),
            limits: settings.email_velocity.address.clone(),
        },
        Channel::Sms => SendCheck {
            dimension: Dimension::NumberFromIp,
            value: pair_value(destination, Some(&network)),
            limits: settings.sms_velocity.number.clone(),
        },
    })
}

/// Whether a step verified a code (the flow audits `code.verified` only for a code that
/// matched, in time, within its tries). A code that merely left the flow (the flow ended)
/// proves nothing.
pub fn code_verified(effects: &[Effect]) -> bool {
    effects
        .iter()
        .any(|e| matches!(e, Effect::Audit(a) if a.event == "code.verified"))
}

/// The counters a vouched pair skips: the cross-network ceilings.
pub fn yields_to_vouched_pair(dimension: Dimension) -> bool {
    matches!(
        dimension,
        Dimension::EmailAddressAllIps | Dimension::NumberAllIps
    )
}

/// The destinations whose pair answered "vouched" while a step's sends are counted: a
/// ceiling is skipped only for the same channel and destination as a vouched pair, so a
/// step that sends to two destinations cannot lift the second one's ceiling with the
/// first one's vouch.
#[derive(Debug, Default)]
pub struct Vouched(Vec<(&'static str, String)>);

impl Vouched {
    /// Notes the answer of `check`: a pair counter that is vouched.
    pub fn record(&mut self, check: &SendCheck, vouched: bool) {
        if vouched && let Some((destination, _)) = check.value.split_once('\n') {
            self.0
                .push((check.dimension.channel(), destination.to_string()));
        }
    }

    /// Whether `check` is a ceiling of a destination whose pair was vouched.
    pub fn skips(&self, check: &SendCheck) -> bool {
        yields_to_vouched_pair(check.dimension)
            && self
                .0
                .iter()
                .any(|(channel, d)| *channel == check.dimension.channel() && *d == check.value)
    }
}

/// The pair's state once vouched at `now`: vouched until `now` + [`VOUCH_LIFETIME`]. Its
/// own ladder goes on as it was: a vouch lifts the ceilings, not the pair's cap, which
/// is what still bounds anyone else behind the owner's address.
pub fn vouch(mut state: VelocityState, now: Timestamp) -> VelocityState {
    state.vouched_until = Some(now.plus(VOUCH_LIFETIME));
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{AuditEvent, FlowKind};

    fn audit(event: &str) -> Effect {
        Effect::Audit(AuditEvent {
            at: Timestamp(1),
            flow: FlowKind::SignIn,
            event: event.into(),
            user_id: None,
            app_id: "app".into(),
            channel: Some(Channel::Email),
            reason: None,
            sign_in: None,
        })
    }

    fn pending(channel: &str, to: &str) -> PendingCode {
        serde_json::from_value(serde_json::json!({
            "channel": channel, "destination": to, "purpose": "signIn", "digest": "d",
            "issuedAt": 1, "expiresAt": 2, "attempts": 0, "sends": 1
        }))
        .unwrap()
    }

    use crate::guard::velocity::send_effect as send;

    #[test]
    fn a_code_vouches_for_exactly_the_pair_counter_its_sends_were_counted_under() {
        let settings = FlowSettings::default();
        let ip = "2001:db8:1:2::77";
        for (channel, wire, to) in [
            (Channel::Email, "email", "Victim+news@Example.COM"),
            (Channel::Sms, "sms", "+447700900123"),
        ] {
            let pair = pair_for(&pending(wire, to), Some(ip), &settings).unwrap();
            let effects = [send(channel, to)];
            let counted = match channel {
                Channel::Email => super::super::email_velocity::email_checks(
                    &effects,
                    &settings.email_velocity,
                    Some(ip),
                ),
                Channel::Sms => super::super::sms_velocity::sms_checks(
                    &effects,
                    &settings.sms_velocity,
                    None,
                    Some(ip),
                ),
            };
            assert_eq!(counted.first(), Some(&pair), "{wire}");
        }
        assert_eq!(pair_for(&pending("email", "a@b.c"), None, &settings), None);
    }

    #[test]
    fn only_a_verified_code_vouches() {
        assert!(code_verified(&[audit("code.sent"), audit("code.verified")]));
        assert!(!code_verified(&[audit("code.rejected")]));
        assert!(!code_verified(&[]));
    }

    #[test]
    fn vouching_lasts_thirty_days_and_keeps_the_pairs_own_ladder() {
        let state = VelocityState {
            recent: vec![Timestamp(10), Timestamp(20)],
            level: 3,
            last_send: Some(Timestamp(20)),
            vouched_until: None,
            undo: None,
        };
        let v = vouch(state, Timestamp(100));
        assert_eq!(v.vouched_until, Some(Timestamp(100 + 30 * 86_400)));
        assert!(v.vouched(Timestamp(100 + 30 * 86_400 - 1)));
        assert!(!v.vouched(Timestamp(100 + 30 * 86_400)));
        assert_eq!((v.level, v.recent.len()), (3, 2));
        assert!(!VelocityState::default().vouched(Timestamp(0)));
    }

    #[test]
    fn a_vouch_lifts_only_its_own_destinations_ceiling() {
        let settings = FlowSettings::default();
        let effects = [
            send(Channel::Email, "a@example.com"),
            send(Channel::Email, "b@example.com"),
        ];
        let checks = super::super::email_velocity::email_checks(
            &effects,
            &settings.email_velocity,
            Some("203.0.113.9"),
        );
        let mut vouched = Vouched::default();
        // `a`'s pair is vouched; `b`'s is not.
        vouched.record(&checks[0], true);
        vouched.record(&checks[3], false);
        let skipped: Vec<(Dimension, &str)> = checks
            .iter()
            .filter(|c| vouched.skips(c))
            .map(|c| (c.dimension, c.value.as_str()))
            .collect();
        assert_eq!(skipped, [(Dimension::EmailAddressAllIps, "a@example.com")]);
        // An SMS ceiling for the same text is another counter.
        let sms = SendCheck {
            dimension: Dimension::NumberAllIps,
            value: "a@example.com".into(),
            limits: settings.sms_velocity.number_all_ips.clone(),
        };
        assert!(!vouched.skips(&sms));
    }

    #[test]
    fn only_the_ceilings_yield() {
        assert!(yields_to_vouched_pair(Dimension::EmailAddressAllIps));
        assert!(yields_to_vouched_pair(Dimension::NumberAllIps));
        for d in [
            Dimension::EmailAddressFromIp,
            Dimension::EmailIp,
            Dimension::NumberFromIp,
            Dimension::User,
            Dimension::Ip,
            Dimension::CountryCode,
        ] {
            assert!(!yields_to_vouched_pair(d), "{d:?}");
        }
    }
}
