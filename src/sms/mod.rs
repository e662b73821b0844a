//! SMS protections: which regions may receive SMS (Entra's default opt-in list with a
//! per-app `onPhoneMethodLoadStartListener`), E.164 numbers valid for their country, and
//! a CAPTCHA before an SMS when fraud is suspected. All pure: the flow engine calls
//! [`check`] before it sends any SMS, the Worker only stores listeners and fetches
//! `siteverify`.

pub mod captcha;
pub mod listener;
mod numbering_data;
pub mod phone;
pub mod regions;

use captcha::{CaptchaDecision, CaptchaSettings, SmsRequest};
use listener::PhoneMethodListener;
use regions::RegionVerdict;
use serde::{Deserialize, Serialize};

/// SMS settings (`settings.sms` of the flow configuration). Absent: the default region
/// list applies to every app and a CAPTCHA is asked for when fraud is suspected.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct SmsSettings {
    /// Graph `onPhoneMethodLoadStartListener` objects. The Worker fills this from the
    /// admin API's `authenticationEventListeners`; a JSON configuration may list them.
    pub phone_method_listeners: Vec<PhoneMethodListener>,
    /// When to ask for a CAPTCHA.
    pub captcha: CaptchaSettings,
}

impl SmsSettings {
    /// The rules a stored configuration must keep (the admin API checks more, with
    /// every problem listed): region codes of 1 to 4 digits, none both included and
    /// excluded, priorities up to 1000. `Err` holds the path under `settings.sms` and why.
    pub fn validate(&self) -> Result<(), (String, String)> {
        for (i, l) in self.phone_method_listeners.iter().enumerate() {
            let at = |what: &str| format!("phoneMethodListeners[{i}].{what}");
            if l.priority.is_some_and(|p| p > 1000) {
                return Err((at("priority"), "must be 0 to 1000".into()));
            }
            let o = &l.handler.sms_options;
            let all = o
                .include_additional_regions
                .iter()
                .chain(&o.exclude_regions);
            if let Some(c) = all.copied().find(|c| !(1..=9999).contains(c)) {
                return Err((
                    at("handler.smsOptions"),
                    format!("`{c}` is not a country calling code of 1 to 4 digits"),
                ));
            }
            if let Some(c) = o
                .include_additional_regions
                .iter()
                .find(|c| o.exclude_regions.contains(c))
            {
                return Err((
                    at("handler.smsOptions"),
                    format!("region `{c}` is both included and excluded"),
                ));
            }
        }
        Ok(())
    }
}

/// Why an SMS may not be sent to a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocked {
    /// The region is off for this app (`provider_blocked_by_admin`).
    Region {
        /// The region code that blocked it (`234`, `1876`).
        code: u16,
    },
    /// Not an E.164 number with a known country calling code.
    NotANumber,
}

/// Whether an SMS may go to `number` (E.164) for `app_id`: the number's region must be
/// on by default or opted in by the app's listener, and not excluded.
pub fn sms_allowed(number: &str, app_id: &str, settings: &SmsSettings) -> Result<(), Blocked> {
    region_verdict(number, app_id, settings).map(|_| ())
}

fn region_verdict(
    number: &str,
    app_id: &str,
    settings: &SmsSettings,
) -> Result<(Vec<u16>, u16), Blocked> {
    let (code, national) = phone::calling_code(number).ok_or(Blocked::NotANumber)?;
    let codes = regions::region_codes(code, national);
    let rules = listener::rules_for(&settings.phone_method_listeners, app_id);
    match rules.verdict(&codes) {
        RegionVerdict::Blocked(code) => Err(Blocked::Region { code }),
        RegionVerdict::Allowed | RegionVerdict::OptedIn(_) => Ok((codes, code)),
    }
}

/// The facts about the request [`check`] needs besides the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestFacts<'a> {
    /// The request's IP country (ISO 3166-1 alpha-2), if known.
    pub ip_country: Option<&'a str>,
    /// When a CAPTCHA was verified for this flow.
    pub captcha_verified_at: Option<crate::time::Timestamp>,
}

/// What to do before an SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsVerdict {
    /// Send it.
    Send,
    /// Do not: the region is blocked, or the number is not one.
    Blocked(Blocked),
    /// Ask for a CAPTCHA first; native clients get the web fallback.
    CaptchaRequired(Vec<captcha::FraudSignal>),
}

/// Everything checked before an SMS goes out: the region rules, then the CAPTCHA.
pub fn check(
    number: &str,
    app_id: &str,
    settings: &SmsSettings,
    facts: &RequestFacts<'_>,
) -> SmsVerdict {
    let (codes, calling_code) = match region_verdict(number, app_id, settings) {
        Ok(v) => v,
        Err(b) => return SmsVerdict::Blocked(b),
    };
    let req = SmsRequest {
        regions: &codes,
        calling_code,
        ip_calling_code: facts.ip_country.and_then(phone::calling_code_for_region),
        captcha_verified_at: facts.captcha_verified_at,
    };
    match captcha::decide(&settings.captcha, &req) {
        CaptchaDecision::NotNeeded | CaptchaDecision::Passed => SmsVerdict::Send,
        CaptchaDecision::Required(signals) => SmsVerdict::CaptchaRequired(signals),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opt_in(app: &str, include: &[u16], exclude: &[u16]) -> SmsSettings {
        let l = json!({
          "@odata.type": listener::LISTENER_TYPE,
          "conditions": {"applications": {"includeApplications": [app]}},
          "handler": {"@odata.type": listener::HANDLER_TYPE,
                      "smsOptions": {"includeAdditionalRegions": include, "excludeRegions": exclude}}
        });
        SmsSettings {
            phone_method_listeners: vec![serde_json::from_value(l).unwrap()],
            ..SmsSettings::default()
        }
    }

    #[test]
    fn default_off_regions_need_the_apps_opt_in() {
        let none = SmsSettings::default();
        let nigeria = "+2348031234567";
        assert_eq!(
            sms_allowed(nigeria, "app", &none),
            Err(Blocked::Region { code: 234 })
        );
        assert_eq!(sms_allowed("+447700900123", "app", &none), Ok(()));
        let s = opt_in("app", &[234], &[44]);
        assert_eq!(sms_allowed(nigeria, "app", &s), Ok(()));
        assert_eq!(
            sms_allowed("+447700900123", "app", &s),
            Err(Blocked::Region { code: 44 })
        );
        assert_eq!(
            sms_allowed(nigeria, "other", &s),
            Err(Blocked::Region { code: 234 })
        );
        assert_eq!(
            sms_allowed("+18765550123", "app", &none),
            Err(Blocked::Region { code: 1876 })
        );
        assert_eq!(
            sms_allowed("nonsense", "app", &none),
            Err(Blocked::NotANumber)
        );
    }

    #[test]
    fn the_captcha_follows_the_ip_country() {
        let s = opt_in("app", &[234], &[]);
        let from = |c: &'static str| RequestFacts {
            ip_country: Some(c),
            captcha_verified_at: None,
        };
        assert_eq!(
            check("+2348031234567", "app", &s, &from("NG")),
            SmsVerdict::Send
        );
        assert_eq!(
            check("+2348031234567", "app", &s, &from("GB")),
            SmsVerdict::CaptchaRequired(vec![captcha::FraudSignal::CountryMismatch])
        );
        assert_eq!(
            check("+2348031234567", "other", &s, &from("NG")),
            SmsVerdict::Blocked(Blocked::Region { code: 234 })
        );
        let verified = RequestFacts {
            captcha_verified_at: Some(crate::time::Timestamp(5)),
            ..from("GB")
        };
        assert_eq!(
            check("+2348031234567", "app", &s, &verified),
            SmsVerdict::Send
        );
    }
}
