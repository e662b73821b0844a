//! SMS velocity settings and checks: how many codes may go to one number, one country
//! calling code, one IP address and one user, on the model of [`super::velocity`].
//!
//! The number's cool-down counts per (number, client network), as for email
//! ([`super::email_velocity`]): anyone can register someone else's number as their own
//! MFA phone and ask for codes to it, which would otherwise hold back the owner's own
//! MFA codes. `numberAllIps`, asked after the per-network counters, is the ceiling per
//! number across networks; a request refused per network never reaches it.

use super::velocity::{Dimension, SendCheck, VelocityLimits};
use crate::flow::{Channel, Effect};
use serde::{Deserialize, Serialize};

/// SMS velocity settings of a user flow (`settings.smsVelocity`).
///
/// The defaults are for a small to medium tenant; a tenant with heavy SMS traffic in one
/// country raises `countryCode`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct SmsVelocity {
    /// Per destination number from one client network (IPv4 address or IPv6 /64). 3
    /// codes per 10 minutes covers a resend and a retry; then 1 min → 5 min → 1 h
    /// between codes, ended by 24 h of silence. A person waiting for a code never needs
    /// a fourth one within a minute; a run against one number from one network is cut
    /// to one message an hour, and does not delay the owner asking from elsewhere.
    /// (Before `numberAllIps` existed this counted the number across networks.)
    pub number: VelocityLimits,
    /// Per user (a user may register a new number, then do MFA with it): 5 per 10
    /// minutes, then 1 min → 5 min → 15 min → 1 h (Auth0 allows 10 MFA SMS an hour per
    /// user), ended by 24 h of silence.
    pub user: VelocityLimits,
    /// Per client network (IPv4 address or IPv6 /64): 20 per 10 minutes, because mobile carriers put many users
    /// behind one address (CGNAT); then 30 s → 2 min → 10 min, ended by 1 h of silence.
    /// Supabase allows 30 SMS an hour per IP; an IP cap alone does not stop pumping,
    /// which rotates addresses, so it is one dimension of five.
    pub ip: VelocityLimits,
    /// Per country calling code, tenant-wide: the dimension that catches pumping spread
    /// over many numbers of one premium range. Every user of that country shares it, so
    /// it throttles instead of blocking: 100 per 10 minutes, then 10 s → 30 s → 60 s
    /// between codes, ended by 1 h of silence.
    pub country_code: VelocityLimits,
    /// Per destination number across all networks: 12 per hour, then 5 min → 15 min →
    /// 1 h, ended by 24 h of silence. One network's `number` ladder lets through 5 an
    /// hour (3, then after 1 and 5 minutes), so two attacking networks (10) stay under
    /// the ceiling and it takes three before the owner waits too; a number's daily cost
    /// stays near what the single per-number cap allowed. Keep its `burst` above twice
    /// what one network gets, or two attackers can lock the owner out again.
    pub number_all_ips: VelocityLimits,
}

impl Default for SmsVelocity {
    fn default() -> Self {
        SmsVelocity {
            number: VelocityLimits::new(3, 600, &[60, 300, 3600], 86_400),
            user: VelocityLimits::new(5, 600, &[60, 300, 900, 3600], 86_400),
            ip: VelocityLimits::new(20, 600, &[30, 120, 600], 3600),
            country_code: VelocityLimits::new(100, 600, &[10, 30, 60], 3600),
            number_all_ips: VelocityLimits::new(12, 3600, &[300, 900, 3600], 86_400),
        }
    }
}

impl SmsVelocity {
    /// The first unusable field, as `(target, reason)`.
    pub fn problem(&self) -> Option<(&'static str, &'static str)> {
        super::velocity::first_problem([
            ("settings.smsVelocity.number", &self.number),
            ("settings.smsVelocity.user", &self.user),
            ("settings.smsVelocity.ip", &self.ip),
            ("settings.smsVelocity.countryCode", &self.country_code),
            ("settings.smsVelocity.numberAllIps", &self.number_all_ips),
        ])
    }
}

/// The checks for the SMS codes among `effects`, narrowest dimension first (see the
/// module). Without a client IP (never on Cloudflare) the number counts from an unknown
/// network and the IP counter is skipped. Email codes
/// have their own counters ([`super::email_velocity::email_checks`]).
pub fn sms_checks(
    effects: &[Effect],
    settings: &SmsVelocity,
    user_id: Option<&str>,
    ip: Option<&str>,
) -> Vec<SendCheck> {
    let network = ip.map(super::velocity_key::network_key);
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
        let from = super::vouch::pair_value(number, network.as_deref());
        push(Dimension::NumberFromIp, &from, &settings.number);
        if let Some(user) = user_id {
            push(Dimension::User, user, &settings.user);
        }
        if let Some(network) = &network {
            push(Dimension::Ip, network, &settings.ip);
        }
        push(Dimension::NumberAllIps, number, &settings.number_all_ips);
        if let Some(country) = country_key(number) {
            push(Dimension::CountryCode, &country, &settings.country_code);
        }
    }
    checks
}

/// The key of a number's country counter: its calling code, and for a `+1` number whose
/// area code belongs to one of the other North American countries, that country too
/// (`+18765550123` → `1-JM`). The 25 countries of the North American Numbering Plan
/// share `+1`: with one counter for all of them, a pumping run on one Caribbean
/// country's numbers spent the budget every US and Canadian user sends from, and a
/// budget sized for US traffic let that run go on. US and Canadian numbers (one plan,
/// no area-code list) stay on `1`.
pub fn country_key(number: &str) -> Option<String> {
    let cc = country_calling_code(number)?;
    let nanp_country = (cc == "1")
        .then(|| number.get(2..))
        .flatten()
        .and_then(crate::sms::phone::nanp_region_by_area);
    Some(match nanp_country {
        Some(region) => format!("1-{region}"),
        None => cc.to_string(),
    })
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
    use crate::guard::velocity::ask_in_order;

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
        s = SmsVelocity::default();
        s.number_all_ips.window_seconds = 0;
        assert_eq!(
            s.problem(),
            Some((
                "settings.smsVelocity.numberAllIps",
                "`windowSeconds` must be at least 1"
            ))
        );
    }

    #[test]
    fn settings_parse_from_camel_case_json_and_refuse_unknown_fields() {
        let s: SmsVelocity = serde_json::from_str(
            r#"{"number":{"burst":2,"windowSeconds":60,"cooldownsSeconds":[5],"quietSeconds":600}}"#,
        )
        .unwrap();
        assert_eq!(s.number.burst, 2);
        assert_eq!(s.user, SmsVelocity::default().user);
        // Stored before `numberAllIps` existed: it takes the default.
        assert_eq!(s.number_all_ips, SmsVelocity::default().number_all_ips);
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

    #[test]
    fn north_american_countries_count_apart_from_the_us_and_canada() {
        for (number, key) in [
            ("+12025550123", Some("1")),
            ("+14165550123", Some("1")),
            ("+18765550123", Some("1-JM")),
            ("+16585550123", Some("1-JM")),
            ("+18095550123", Some("1-DO")),
            ("+12465550123", Some("1-BB")),
            ("+447700900123", Some("44")),
            ("+77012345678", Some("7")),
            ("12025550123", None),
        ] {
            assert_eq!(country_key(number).as_deref(), key, "{number}");
        }
        let checks = sms_checks(
            &[send(Channel::Sms, "+18765550123")],
            &SmsVelocity::default(),
            None,
            None,
        );
        let country: Vec<_> = checks
            .iter()
            .filter(|c| c.dimension == Dimension::CountryCode)
            .map(|c| c.value.as_str())
            .collect();
        assert_eq!(country, ["1-JM"]);
    }

    use crate::guard::velocity::send_effect as send;

    #[test]
    fn only_sms_codes_are_checked_narrowest_first() {
        let s = SmsVelocity::default();
        let effects = vec![
            send(Channel::Email, "a@example.com"),
            send(Channel::Sms, "+447700900123"),
        ];
        let checks = sms_checks(&effects, &s, Some("u1"), Some("2001:db8:5:6::9"));
        let dims: Vec<(Dimension, &str)> = checks
            .iter()
            .map(|c| (c.dimension, c.value.as_str()))
            .collect();
        assert_eq!(
            dims,
            vec![
                (Dimension::NumberFromIp, "+447700900123\n2001:db8:5:6::/64"),
                (Dimension::User, "u1"),
                (Dimension::Ip, "2001:db8:5:6::/64"),
                (Dimension::NumberAllIps, "+447700900123"),
                (Dimension::CountryCode, "44"),
            ]
        );
        let limits: Vec<&VelocityLimits> = checks.iter().map(|c| &c.limits).collect();
        assert_eq!(
            limits,
            vec![
                &s.number,
                &s.user,
                &s.ip,
                &s.number_all_ips,
                &s.country_code
            ]
        );
        // Without a user or an IP those dimensions are skipped; email alone checks nothing.
        let dims: Vec<Dimension> = sms_checks(&effects, &s, None, None)
            .iter()
            .map(|c| c.dimension)
            .collect();
        assert_eq!(
            dims,
            vec![
                Dimension::NumberFromIp,
                Dimension::NumberAllIps,
                Dimension::CountryCode
            ]
        );
        assert!(sms_checks(&effects[..1], &s, Some("u1"), Some("ip")).is_empty());
    }

    #[test]
    fn a_number_asked_for_by_someone_else_still_reaches_its_owner_until_the_ceiling() {
        let s = SmsVelocity::default();
        let mut counters = std::collections::HashMap::new();
        let number = "+447700900123";
        let mut ask = |user: &str, ip: &str, t: u64| {
            let checks = sms_checks(&[send(Channel::Sms, number)], &s, Some(user), Some(ip));
            ask_in_order(&mut counters, checks, t)
        };
        // An attacker registers the owner's number on their own accounts, one request
        // every 10 seconds for 50 minutes, from one network: 3, then after 1 and 5
        // minutes (at 80 s and 380 s); the next would wait an hour.
        let through = (0..3000u64)
            .step_by(10)
            .filter(|t| ask(&format!("attacker{t}"), "198.51.100.66", *t).is_ok())
            .count();
        assert_eq!(through, 5);
        assert_eq!(
            ask("attacker", "198.51.100.66", 3000),
            Err((Dimension::NumberFromIp, 380 + 3600 - 3000))
        );
        // The owner, from their own network, gets their MFA codes.
        for t in [3000, 3030, 3100] {
            assert_eq!(ask("owner", "203.0.113.9", t), Ok(()), "at {t}");
        }
        // Two more attacking networks reach the ceiling (12 an hour): 5 + 3 + 2 + 2,
        // then even a fresh network waits the ceiling's first cool-down.
        for (t, ip) in [
            (3100, "192.0.2.2"),
            (3101, "192.0.2.2"),
            (3102, "192.0.2.3"),
            (3103, "192.0.2.3"),
        ] {
            assert_eq!(ask("a", ip, t), Ok(()), "at {t}");
        }
        assert_eq!(
            ask("a4", "192.0.2.4", 3104),
            Err((Dimension::NumberAllIps, 299))
        );
    }
}
