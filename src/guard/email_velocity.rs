//! Email velocity: how many one-time codes may go to one email address, and from one
//! client IP address, across flows, and how long to wait after that.
//!
//! An email costs nothing per message, but a sign-up or reset form that mails a code to
//! any address it is given is a way to flood someone's inbox ("email bombing"), and each
//! bounce or spam complaint wears down the sending domain's reputation. The per-flow caps
//! (`maxSendsPerStep`, `maxCodesPerFlow`, the resend wait) do not stop it, because an
//! attacker starts a new flow for every message. The counters here span flows, with the
//! same model as SMS ([`super::velocity::decide`]: a free burst, then growing
//! cool-downs, reset by silence), one Durable Object per counter. Peers cap the same two
//! things: Supabase 30 OTP or magic-link requests per 5 minutes per IP and a project-wide
//! email budget, Auth0 `/passwordless/start` 50 an hour per IP (peers-and-standards.md).
//!
//! Every email code counts, whatever it is for (sign-up, sign-in, reset, MFA,
//! registration, resend): the inbox fills up the same way.

use super::velocity::{Dimension, SendCheck, VelocityLimits};
use crate::flow::{Channel, Effect};
use serde::{Deserialize, Serialize};

/// Email velocity settings of a user flow (`settings.emailVelocity`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct EmailVelocity {
    /// Per destination address (compared without case). 5 codes per 10 minutes covers a
    /// sign-up, a resend, a mistyped code and a sign-in; then 1 min → 5 min → 15 min →
    /// 1 h between codes, ended by 24 h of silence. A person waits at most a minute for
    /// the next code; a flood gets about 24 messages a day instead of thousands.
    pub address: VelocityLimits,
    /// Per client IP address: 30 per 10 minutes (an office or a carrier's CGNAT puts
    /// many people behind one address); then 30 s → 2 min → 10 min, ended by 1 h of
    /// silence. It catches one source spraying many addresses, which the address counter
    /// alone would let through.
    pub ip: VelocityLimits,
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
        }
    }
}

impl EmailVelocity {
    /// The first unusable field, as `(target, reason)`.
    pub fn problem(&self) -> Option<(&'static str, &'static str)> {
        [
            ("settings.emailVelocity.address", &self.address),
            ("settings.emailVelocity.ip", &self.ip),
        ]
        .into_iter()
        .find_map(|(target, limits)| limits.problem().map(|p| (target, p)))
    }
}

/// The checks for the email codes among `effects`: the address first, then the IP (the
/// narrower counter first, as for SMS). SMS codes are [`super::velocity::sms_checks`]'.
pub fn email_checks(
    effects: &[Effect],
    settings: &EmailVelocity,
    ip: Option<&str>,
) -> Vec<SendCheck> {
    let mut checks = Vec::new();
    for effect in effects {
        let Effect::SendCode(code) = effect else {
            continue;
        };
        if code.channel != Channel::Email {
            continue;
        }
        checks.push(SendCheck {
            dimension: Dimension::EmailAddress,
            value: code.to.expose().trim().to_lowercase(),
            limits: settings.address.clone(),
        });
        if let Some(ip) = ip {
            checks.push(SendCheck {
                dimension: Dimension::EmailIp,
                value: ip.to_string(),
                limits: settings.ip.clone(),
            });
        }
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{CodeDelivery, CodePurpose};
    use crate::guard::velocity::{SendVerdict, decide};
    use crate::pii::{Pii, Secret};
    use crate::time::Timestamp;

    fn send(channel: Channel, to: &str) -> Effect {
        Effect::SendCode(CodeDelivery {
            channel,
            to: Pii::new(to.to_string()),
            code: Secret::new("12345678".to_string()),
            purpose: CodePurpose::SignUp,
            expires_at: Timestamp(600),
        })
    }

    #[test]
    fn only_email_codes_are_checked_address_first_without_case() {
        let s = EmailVelocity::default();
        let effects = vec![
            send(Channel::Sms, "+447700900123"),
            send(Channel::Email, " Victim@Example.COM"),
        ];
        let checks = email_checks(&effects, &s, Some("203.0.113.9"));
        let dims: Vec<(Dimension, &str)> = checks
            .iter()
            .map(|c| (c.dimension, c.value.as_str()))
            .collect();
        assert_eq!(
            dims,
            vec![
                (Dimension::EmailAddress, "victim@example.com"),
                (Dimension::EmailIp, "203.0.113.9"),
            ]
        );
        assert_eq!(checks[0].limits, s.address);
        assert_eq!(checks[1].limits, s.ip);
        // Without an IP only the address counts; SMS alone checks nothing here.
        assert_eq!(email_checks(&effects, &s, None).len(), 1);
        assert!(email_checks(&effects[..1], &s, Some("ip")).is_empty());
    }

    #[test]
    fn the_sixth_code_to_one_address_waits_a_minute_then_the_waits_grow() {
        let l = EmailVelocity::default().address;
        let mut state = Default::default();
        let mut verdicts = Vec::new();
        for t in [0, 1, 2, 3, 4, 5, 65, 66, 365] {
            let (next, v) = decide(state, &l, Timestamp(t));
            state = next;
            verdicts.push(v);
        }
        assert_eq!(&verdicts[..5], &[SendVerdict::Allowed; 5]);
        assert_eq!(verdicts[5], SendVerdict::Refused { retry_after: 59 });
        assert_eq!(verdicts[6], SendVerdict::Allowed, "after the first minute");
        assert_eq!(verdicts[7], SendVerdict::Refused { retry_after: 299 });
        assert_eq!(verdicts[8], SendVerdict::Allowed, "after five more minutes");
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
        let parsed: EmailVelocity =
            serde_json::from_str(r#"{"address":{"burst":2,"windowSeconds":60,"cooldownsSeconds":[5],"quietSeconds":600}}"#)
                .unwrap();
        assert_eq!(parsed.address.burst, 2);
        assert_eq!(parsed.ip, EmailVelocity::default().ip);
        assert!(serde_json::from_str::<EmailVelocity>(r#"{"adress":{}}"#).is_err());
    }
}
