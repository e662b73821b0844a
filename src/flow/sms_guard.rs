//! The SMS protections at the one place the flow decides to text a number: before
//! [`super::cx::Cx::send_code`] on the SMS channel, when a phone is registered
//! (`/register/v1.0/challenge`) and when a registered phone is chosen as second factor
//! (`/oauth2/v2.0/challenge` with `id`). See [`crate::sms`].

use super::cx::Cx;
#[cfg(doc)]
use super::gate;
use super::state::FlowCommon;
use crate::sms::{self, Blocked, RequestFacts, SmsVerdict};

/// Why the SMS does not go out.
pub(crate) enum Stop {
    /// Refuse this number, keep the flow (`provider_blocked_by_admin`).
    Blocked(u16),
    /// End the flow with the web fallback, where a CAPTCHA can be shown (the
    /// `redirect_reason`; the caller ends the flow with [`gate::redirect`]).
    Redirect(String),
}

/// `Ok` to send an SMS to `number` (E.164) in this flow.
pub(crate) fn check(common: &FlowCommon, number: &str, cx: &mut Cx) -> Result<(), Stop> {
    let facts = RequestFacts {
        ip_country: common.facts.country.as_deref(),
        captcha_verified_at: common.facts.captcha_verified_at,
    };
    match sms::check(number, &common.app_id, &cx.config.settings.sms, &facts) {
        SmsVerdict::Send => Ok(()),
        SmsVerdict::Blocked(blocked) => {
            let region = match blocked {
                Blocked::Region { code } => code,
                Blocked::NotANumber => 0,
            };
            cx.audit(
                common,
                "sms.blocked",
                Some(super::channel::Channel::Sms),
                Some(format!("region {region}")),
            );
            Err(Stop::Blocked(region))
        }
        SmsVerdict::CaptchaRequired(signals) => {
            Err(Stop::Redirect(sms::captcha::redirect_reason(&signals)))
        }
    }
}

/// Whether a registered number may still receive SMS for this app (regions only: the
/// CAPTCHA is asked when the code is sent, not when methods are listed).
pub(crate) fn region_allowed(common: &FlowCommon, number: &str, cx: &Cx) -> bool {
    sms::sms_allowed(number, &common.app_id, &cx.config.settings.sms).is_ok()
}
