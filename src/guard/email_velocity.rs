//! Email velocity: how many one-time codes may go to one email address, and from one
//! client IP address, across flows, and how long to wait after that.
//!
//! An email costs nothing per message, but a sign-up or reset form that mails a code to
//! any address it is given is a way to flood someone's inbox ("email bombing"), and each
//! bounce or spam complaint wears down the sending domain's reputation. The per-flow
//! caps (`maxSendsPerStep`, `maxCodesPerFlow`, the resend wait) do not stop it, because an
//! attacker starts a new flow for every message. The counters here span flows, with the
//! same model as SMS ([`super::velocity::decide`]: a free burst, then growing
//! cool-downs, reset by silence), one Durable Object per counter. Peers cap the same two
//! things: Supabase 30 OTP or magic-link requests per 5 minutes per IP and a project-wide
//! email budget, Auth0 `/passwordless/start` 50 an hour per IP (peers-and-standards.md).
//!
//! A cap on an address is also a lever against its owner: whoever asks for codes for
//! someone's address would put it in cool-down, and the owner could no longer get a
//! code to sign in. So, as Auth0's brute-force protection blocks an (identifier, IP)
//! pair rather than the account (peers-and-standards.md: "default 10 per
//! identifier+IP"), the per-address cool-down counts per (address, client network):
//! an attacker's requests hold back only their own network. Three counters decide a
//! code, asked in this order, the first refusal answering:
//!
//! 1. the address from this network (`address`): the everyday cap and cool-down;
//! 2. this network (`ip`): one source spraying many addresses;
//! 3. the address from all networks (`addressAllIps`): a much higher ceiling that stops
//!    a flood spread over many networks.
//!
//! The order is what protects the owner: a request refused by the first counter never
//! reaches the ceiling, so a single source adds at most what its own ladder lets through
//! (8 codes an hour by default) to the ceiling, and it takes at least three networks to
//! exhaust it. Past the ceiling the owner, too, waits; that is the price of bounding the
//! flood, and the attacker must pay for many networks to impose it.
//!
//! Addresses are keyed by the inbox they reach, networks by IPv4 address or IPv6 /64
//! ([`super::velocity_key`]): `victim+1@…`, `v.ictim@gmail.com` and one subscriber's
//! 2^64 IPv6 addresses each count as one.
//!
//! Every email code counts, whatever it is for (sign-up, sign-in, reset, MFA,
//! registration, resend): the inbox fills up the same way.

use super::velocity::{Dimension, SendCheck, VelocityLimits};
use super::velocity_key::{email_address_key, network_key};
use super::vouch::pair_value;
use crate::flow::{Channel, Effect};
use serde::{Deserialize, Serialize};

/// Email velocity settings of a user flow (`settings.emailVelocity`). Each field may be
/// left out and takes its default, so configurations stored before `addressAllIps`
/// existed still load (and get the default ceiling).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct EmailVelocity {
    /// Per destination address (its inbox: case, `+tag` and Gmail dots ignored) from one
    /// client network (IPv4 address or IPv6 /64). 5 codes per 10 minutes covers a
    /// sign-up, a resend, a mistyped code and a sign-in; then 1 min → 5 min → 15 min →
    /// 1 h between codes, ended by 24 h of silence. A person waits at most a minute for
    /// the next code; a flood from one network gets about 30 messages a day instead of
    /// thousands, and does not delay a code the owner asks for from their own network.
    /// (Before `addressAllIps` existed this counted the address across networks; the
    /// limits keep their meaning for the person asking.)
    pub address: VelocityLimits,
    /// Per client network: 30 per 10 minutes (an office or a carrier's CGNAT puts
    /// many people behind one address); then 30 s → 2 min → 10 min, ended by 1 h of
    /// silence. It catches one source spraying many addresses, which the address counter
    /// alone would let through.
    pub ip: VelocityLimits,
    /// Per destination address across all networks: 20 per hour, then 5 min → 15 min →
    /// 1 h, ended by 24 h of silence. It is what stops a flood spread over many
    /// networks, which the per-network `address` counter lets through by design. 20 is
    /// far above a person's need (one sign-in trouble from home, phone and office is a
    /// handful of codes) and 2.5 times what one network's `address` ladder lets through
    /// in an hour (5, then after 1, 5 and 15 minutes: 8), so it takes at least three
    /// attacking networks before the owner waits too. A sustained distributed flood is
    /// cut to about 45 messages a day. Keep its `burst` well above `address.burst`, or
    /// one attacker can lock the owner out again.
    pub address_all_ips: VelocityLimits,
}

impl Default for EmailVelocity {
    fn default() -> Self {
        EmailVelocity {
            address: VelocityLimits {
                burst: 5,
                window_seconds: 600,
                cooldowns_seconds: vec![60, 300, 900, 3600],
                quiet_seconds: 86_400,
            },
            ip: VelocityLimits {
                burst: 30,
                window_seconds: 600,
                cooldowns_seconds: vec![30, 120, 600],
                quiet_seconds: 3600,
            },
            address_all_ips: VelocityLimits {
                burst: 20,
                window_seconds: 3600,
                cooldowns_seconds: vec![300, 900, 3600],
                quiet_seconds: 86_400,
            },
        }
    }
}

impl EmailVelocity {
    /// The first unusable field, as `(target, reason)`.
    ///
    /// There is deliberately no rule tying `addressAllIps` to `address`: a stored
    /// configuration that raised `address` (a test tenant) and predates `addressAllIps`
    /// would stop loading. The field's documentation says how to set it.
    pub fn problem(&self) -> Option<(&'static str, &'static str)> {
        super::velocity::first_problem([
            ("settings.emailVelocity.address", &self.address),
            ("settings.emailVelocity.ip", &self.ip),
            (
                "settings.emailVelocity.addressAllIps",
                &self.address_all_ips,
            ),
        ])
    }
}

/// The checks for the email codes among `effects`, in the order the module explains:
/// the address from this network, the network, the address from all networks. Without
/// a client IP (never on Cloudflare) the first counter is the address from an unknown
/// network, and the network counter is skipped. SMS codes are
/// [`super::velocity::sms_checks`]'.
pub fn email_checks(
    effects: &[Effect],
    settings: &EmailVelocity,
    ip: Option<&str>,
) -> Vec<SendCheck> {
    let network = ip.map(network_key);
    let mut checks = Vec::new();
    for effect in effects {
        let Effect::SendCode(code) = effect else {
            continue;
        };
        if code.channel != Channel::Email {
            continue;
        }
        let address = email_address_key(code.to.expose());
        checks.push(SendCheck {
            dimension: Dimension::EmailAddressFromIp,
            value: pair_value(&address, network.as_deref()),
            limits: settings.address.clone(),
        });
        if let Some(network) = &network {
            checks.push(SendCheck {
                dimension: Dimension::EmailIp,
                value: network.clone(),
                limits: settings.ip.clone(),
            });
        }
        checks.push(SendCheck {
            dimension: Dimension::EmailAddressAllIps,
            value: address,
            limits: settings.address_all_ips.clone(),
        });
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::velocity::{VelocityState, ask_in_order};
    use crate::guard::vouch::pair_value;
    use crate::time::Timestamp;
    use std::collections::HashMap;

    use crate::guard::velocity::send_effect as send;

    /// The guard as the Worker runs it ([`crate::guard::velocity::ask_in_order`]).
    #[derive(Default)]
    struct Guard {
        counters: HashMap<(&'static str, String), VelocityState>,
    }

    impl Guard {
        /// One request for a code to `to` from `ip` at `t`: `Ok` if it was sent, else
        /// the refusing dimension and its `retry_after`.
        fn request(
            &mut self,
            s: &EmailVelocity,
            to: &str,
            ip: &str,
            t: u64,
        ) -> Result<(), (Dimension, u64)> {
            let checks = email_checks(&[send(Channel::Email, to)], s, Some(ip));
            ask_in_order(&mut self.counters, checks, t)
        }

        /// A code sent to `to` was verified from `ip` at `t` (what the Worker does after
        /// the step that accepted it).
        fn verified(&mut self, to: &str, ip: &str, t: u64) {
            let key = email_address_key(to);
            let pair = (
                Dimension::EmailAddressFromIp.as_str(),
                pair_value(&key, Some(&network_key(ip))),
            );
            let state = self.counters.remove(&pair).unwrap_or_default();
            self.counters
                .insert(pair, crate::guard::vouch::vouch(state, Timestamp(t)));
        }
    }

    #[test]
    fn the_owner_on_a_network_where_they_verified_a_code_is_served_through_a_flood() {
        let s = EmailVelocity::default();
        let mut g = Guard::default();
        let victim = "victim@example.com";
        let (home, travel) = ("203.0.113.9", "198.51.100.20");
        // The owner signed in from home once: one code, verified.
        assert_eq!(g.request(&s, victim, home, 0), Ok(()));
        g.verified(victim, home, 30);
        // A botnet floods the address, a fresh network a second, for a day; every hour
        // the owner asks from home, and once from a hotel where they never verified.
        let mut home_served = 0;
        for t in 100..86_400u64 {
            let _ = g.request(
                &s,
                victim,
                &format!("10.{}.{}.{}", t >> 16, (t >> 8) & 255, t & 255),
                t,
            );
            if t % 3600 == 50 {
                assert_eq!(g.request(&s, victim, home, t), Ok(()), "home at {t}");
                home_served += 1;
            }
        }
        assert_eq!(home_served, 23);
        // From the hotel the ceiling still answers: the vouch is per network.
        assert!(matches!(
            g.request(&s, victim, travel, 86_400),
            Err((Dimension::EmailAddressAllIps, _))
        ));
        // At home the pair's own cap still bounds what one network gets.
        let burst = (0..20u64)
            .filter(|i| g.request(&s, victim, home, 86_401 + i).is_ok())
            .count();
        assert_eq!(burst, usize::from(s.address.burst));
        // Thirty days later the vouch has ended and home waits like everyone else.
        let later = 30 * 86_400 + 31;
        for t in later..later + 100 {
            let _ = g.request(&s, victim, &format!("10.9.{}.{}", t >> 8 & 255, t & 255), t);
        }
        assert!(matches!(
            g.request(&s, victim, home, later + 100),
            Err((Dimension::EmailAddressAllIps, _))
        ));
    }

    #[test]
    fn only_email_codes_are_checked_pair_then_network_then_ceiling() {
        let s = EmailVelocity::default();
        let effects = vec![
            send(Channel::Sms, "+447700900123"),
            send(Channel::Email, " Victim+news@Example.COM"),
        ];
        let checks = email_checks(&effects, &s, Some("2001:db8:1:2::77"));
        let dims: Vec<(Dimension, &str)> = checks
            .iter()
            .map(|c| (c.dimension, c.value.as_str()))
            .collect();
        assert_eq!(
            dims,
            vec![
                (
                    Dimension::EmailAddressFromIp,
                    "victim@example.com\n2001:db8:1:2::/64"
                ),
                (Dimension::EmailIp, "2001:db8:1:2::/64"),
                (Dimension::EmailAddressAllIps, "victim@example.com"),
            ]
        );
        let limits: Vec<&VelocityLimits> = checks.iter().map(|c| &c.limits).collect();
        assert_eq!(limits, vec![&s.address, &s.ip, &s.address_all_ips]);
        // Without an IP: the address from an unknown network, and the ceiling.
        let no_ip = email_checks(&effects, &s, None);
        let dims: Vec<(Dimension, &str)> = no_ip
            .iter()
            .map(|c| (c.dimension, c.value.as_str()))
            .collect();
        assert_eq!(
            dims,
            vec![
                (Dimension::EmailAddressFromIp, "victim@example.com\n"),
                (Dimension::EmailAddressAllIps, "victim@example.com"),
            ]
        );
        // SMS alone checks nothing here.
        assert!(email_checks(&effects[..1], &s, Some("ip")).is_empty());
    }

    #[test]
    fn aliases_of_one_inbox_share_one_budget() {
        let s = EmailVelocity::default();
        let mut g = Guard::default();
        let ip = "203.0.113.9";
        let spellings = [
            "victim@example.com",
            "Victim+1@example.com",
            "victim+2@example.com",
            "VICTIM+3@EXAMPLE.COM",
            "victim+4@example.com",
            "victim+5@example.com",
        ];
        let answers: Vec<_> = spellings
            .iter()
            .enumerate()
            .map(|(t, to)| g.request(&s, to, ip, t as u64))
            .collect();
        assert_eq!(&answers[..5], &[Ok(()); 5]);
        assert_eq!(answers[5], Err((Dimension::EmailAddressFromIp, 59)));
        // Gmail dots and googlemail.com likewise.
        let gmail = ["a.b.c@gmail.com", "abc@googlemail.com", "a.bc+x@gmail.com"];
        let mut g = Guard::default();
        let mut small = s.clone();
        small.address.burst = 2;
        let answers: Vec<_> = gmail
            .iter()
            .map(|to| g.request(&small, to, ip, 0))
            .collect();
        assert_eq!(answers[..2], [Ok(()), Ok(())]);
        assert_eq!(answers[2], Err((Dimension::EmailAddressFromIp, 60)));
        // Another inbox from the same network is not held back.
        assert_eq!(g.request(&small, "abcd@gmail.com", ip, 0), Ok(()));
    }

    #[test]
    fn the_owner_from_another_network_is_served_while_the_attacker_waits() {
        let s = EmailVelocity::default();
        let mut g = Guard::default();
        let (victim, attacker, home) = ("victim@example.com", "198.51.100.66", "203.0.113.9");
        // The attacker asks every 10 seconds for an hour from one network.
        let mut sent_to_attacker = 0;
        for t in (0..3600).step_by(10) {
            if g.request(&s, victim, attacker, t).is_ok() {
                sent_to_attacker += 1;
            }
        }
        // 5, then after 1, 5 and 15 minutes: the ladder, not one more.
        assert_eq!(sent_to_attacker, 8);
        assert_eq!(
            g.request(&s, victim, attacker, 3600),
            // Its codes went at 0–40 s, 100 s, 400 s and 1300 s; the next waits an hour.
            Err((Dimension::EmailAddressFromIp, 1300 + 3600 - 3600))
        );
        // The owner, from home, gets a code at once, and a resend, and a retry.
        for t in [3600, 3630, 3700] {
            assert_eq!(g.request(&s, victim, home, t), Ok(()), "at {t}");
        }
        // An IPv6 attacker rotating addresses inside one /64 is one network.
        let mut g = Guard::default();
        let answers: Vec<_> = (0..6)
            .map(|i| g.request(&s, victim, &format!("2001:db8:7:7::{i:x}"), i))
            .collect();
        assert_eq!(answers[..5], [Ok(()); 5]);
        assert!(
            matches!(answers[5], Err((Dimension::EmailAddressFromIp, _))),
            "{answers:?}"
        );
    }

    #[test]
    fn the_ceiling_stops_a_flood_from_many_networks() {
        let s = EmailVelocity::default();
        let mut g = Guard::default();
        let victim = "victim@example.com";
        // A botnet: every request from a fresh network, one a second, for a day.
        let mut sent = 0;
        let mut first_refusal = None;
        for t in 0..86_400u64 {
            match g.request(
                &s,
                victim,
                &format!("10.{}.{}.{}", t >> 16, (t >> 8) & 255, t & 255),
                t,
            ) {
                Ok(()) => sent += 1,
                Err(refusal) => {
                    first_refusal.get_or_insert((t, refusal));
                }
            }
        }
        // 20 in the first seconds, then the ceiling's ladder: after 5 min, 15 min, then
        // one an hour.
        assert_eq!(
            first_refusal,
            Some((20, (Dimension::EmailAddressAllIps, 299)))
        );
        let expected = 20 + 1 + 1 + (86_400 - 19 - 300 - 900) / 3600;
        assert_eq!(sent, expected);
        assert!(sent < 50, "{sent}");
        // Without the ceiling (as before it existed, per network only) it would be one
        // per request: the per-network counter alone does not bound a botnet.
        let mut loose = s.clone();
        loose.address_all_ips.burst = u8::MAX;
        loose.address_all_ips.window_seconds = 1;
        let mut g = Guard::default();
        let through = (0..1000u64)
            .filter(|t| {
                g.request(&loose, victim, &format!("10.0.{}.{}", t >> 8, t & 255), *t)
                    .is_ok()
            })
            .count();
        assert_eq!(through, 1000);
    }

    #[test]
    fn the_cooldown_grows_per_pair_and_other_pairs_keep_their_own() {
        let s = EmailVelocity::default();
        let mut g = Guard::default();
        let (victim, a, b) = ("victim@example.com", "198.51.100.1", "198.51.100.2");
        for t in 0..5 {
            assert_eq!(g.request(&s, victim, a, t), Ok(()));
        }
        // Pair A: 1 min, then 5 min, then 15 min, each from its last code.
        assert_eq!(
            g.request(&s, victim, a, 5),
            Err((Dimension::EmailAddressFromIp, 59))
        );
        assert_eq!(g.request(&s, victim, a, 64), Ok(()));
        assert_eq!(
            g.request(&s, victim, a, 65),
            Err((Dimension::EmailAddressFromIp, 299))
        );
        assert_eq!(g.request(&s, victim, a, 364), Ok(()));
        assert_eq!(
            g.request(&s, victim, a, 365),
            Err((Dimension::EmailAddressFromIp, 899))
        );
        // Pair B starts fresh: five free codes, then its own first (1-minute) wait.
        for t in 400..405 {
            assert_eq!(g.request(&s, victim, b, t), Ok(()), "at {t}");
        }
        assert_eq!(
            g.request(&s, victim, b, 405),
            Err((Dimension::EmailAddressFromIp, 59))
        );
        // A refusal did not lengthen pair A's wait.
        assert_eq!(g.request(&s, victim, a, 1264), Ok(()));
    }

    #[test]
    fn the_network_cap_still_catches_one_source_spraying_addresses() {
        let s = EmailVelocity::default();
        let mut g = Guard::default();
        let answers: Vec<_> = (0..31u64)
            .map(|i| g.request(&s, &format!("user{i}@example.com"), "203.0.113.9", i))
            .collect();
        assert_eq!(answers[..30], [Ok(()); 30]);
        assert_eq!(answers[30], Err((Dimension::EmailIp, 29)));
    }

    #[test]
    fn defaults_are_valid_and_bad_limits_are_named() {
        assert_eq!(EmailVelocity::default().problem(), None);
        let mut s = EmailVelocity::default();
        s.ip.burst = 0;
        assert_eq!(
            s.problem(),
            Some(("settings.emailVelocity.ip", "`burst` must be at least 1"))
        );
        let mut s = EmailVelocity::default();
        s.address_all_ips.quiet_seconds = 3600;
        assert_eq!(
            s.problem(),
            Some((
                "settings.emailVelocity.addressAllIps",
                "`quietSeconds` must be longer than the longest cool-down"
            ))
        );
        let mut s = EmailVelocity::default();
        s.address_all_ips.cooldowns_seconds.clear();
        assert_eq!(
            s.problem().map(|p| p.0),
            Some("settings.emailVelocity.addressAllIps")
        );
    }

    #[test]
    fn stored_settings_without_the_ceiling_still_load_and_get_the_default() {
        // A configuration stored before `addressAllIps` existed.
        let parsed: EmailVelocity = serde_json::from_str(
            r#"{"address":{"burst":2,"windowSeconds":60,"cooldownsSeconds":[5],"quietSeconds":600}}"#,
        )
        .unwrap();
        assert_eq!(parsed.address.burst, 2);
        assert_eq!(parsed.ip, EmailVelocity::default().ip);
        assert_eq!(
            parsed.address_all_ips,
            EmailVelocity::default().address_all_ips
        );
        assert_eq!(parsed.problem(), None);
        let parsed: EmailVelocity = serde_json::from_str(
            r#"{"addressAllIps":{"burst":50,"windowSeconds":3600,"cooldownsSeconds":[60],"quietSeconds":7200}}"#,
        )
        .unwrap();
        assert_eq!(parsed.address_all_ips.burst, 50);
        let json = serde_json::to_value(EmailVelocity::default()).unwrap();
        assert_eq!(json["addressAllIps"]["burst"], 20);
        assert!(serde_json::from_str::<EmailVelocity>(r#"{"adress":{}}"#).is_err());
        assert!(serde_json::from_str::<EmailVelocity>(r#"{"address_all_ips":{}}"#).is_err());
    }
}
