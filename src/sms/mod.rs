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

use captcha::{CaptchaDecision, CaptchaSettings, IpCountry, SmsRequest};
use regions::RegionVerdict;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// SMS settings (`settings.sms` of the flow configuration). Absent: the default region
/// list applies to every app and a CAPTCHA is asked for when fraud is suspected.
///
/// ```json
/// {"phoneMethodListeners": [ /* Graph onPhoneMethodLoadStartListener objects */ ],
///  "captcha": {"mode": "whenSuspected", "alwaysForRegions": [234]}}
/// ```
///
/// Read by hand from a JSON value (unknown fields refused, like the other settings):
/// the derived readers of these three types cost the Worker's wasm 1.3 KB gzip.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SmsSettings {
    /// Graph `onPhoneMethodLoadStartListener` objects, as JSON. The Worker fills this
    /// from the admin API's `authenticationEventListeners`; a JSON configuration may
    /// list them too. Checked by [`SmsSettings::validate`].
    pub phone_method_listeners: Vec<serde_json::Value>,
    /// When to ask for a CAPTCHA.
    pub captcha: CaptchaSettings,
}

impl<'de> Deserialize<'de> for SmsSettings {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        SmsSettings::from_json(&v).map_err(serde::de::Error::custom)
    }
}

/// The keys of `o`, refusing any other.
fn known_keys(o: &serde_json::Map<String, Value>, allowed: &[&str]) -> Result<(), String> {
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!(
            "unknown field `{k}`, expected one of `{}`",
            allowed.join("`, `")
        )),
        None => Ok(()),
    }
}

impl SmsSettings {
    /// Reads `settings.sms`.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let Some(o) = v.as_object() else {
            return Err("`sms` must be an object".into());
        };
        known_keys(o, &["phoneMethodListeners", "captcha"])?;
        let phone_method_listeners = match o.get("phoneMethodListeners") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => list.clone(),
            Some(_) => return Err("`phoneMethodListeners` must be a list of listeners".into()),
        };
        let mut captcha = CaptchaSettings::default();
        match o.get("captcha") {
            None | Some(Value::Null) => {}
            Some(Value::Object(c)) => {
                known_keys(c, &["mode", "alwaysForRegions"])?;
                captcha.mode = match c.get("mode").map(|m| m.as_str()) {
                    None => captcha.mode,
                    Some(Some("never")) => captcha::CaptchaMode::Never,
                    Some(Some("whenSuspected")) => captcha::CaptchaMode::WhenSuspected,
                    Some(Some("always")) => captcha::CaptchaMode::Always,
                    Some(_) => {
                        return Err(
                            "`captcha.mode` must be `never`, `whenSuspected` or `always`".into(),
                        );
                    }
                };
                if let Some(list) = c.get("alwaysForRegions") {
                    let codes: Option<Vec<u16>> = list.as_array().and_then(|l| {
                        l.iter()
                            .map(|c| c.as_u64().and_then(|c| u16::try_from(c).ok()))
                            .collect()
                    });
                    captcha.always_for_regions = codes
                        .filter(|c| c.iter().all(|c| (1..=9999).contains(c)))
                        .ok_or(
                            "`captcha.alwaysForRegions` must list calling codes of 1 to 4 digits",
                        )?;
                }
            }
            Some(_) => return Err("`captcha` must be an object".into()),
        }
        Ok(SmsSettings {
            phone_method_listeners,
            captcha,
        })
    }

    /// Checks every listener as the admin API does ([`listener::validate`]). `Err`
    /// holds the path under `settings.sms` and why (the first problem).
    pub fn validate(&self) -> Result<(), (String, String)> {
        for (i, l) in self.phone_method_listeners.iter().enumerate() {
            if let Err(problems) = listener::validate(l) {
                let first = problems.into_iter().next();
                let (target, message) = first
                    .map(|p| (p.target.unwrap_or_default(), p.message))
                    .unwrap_or_default();
                return Err((format!("phoneMethodListeners[{i}].{target}"), message));
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

/// What the region check learnt about a number that may receive SMS.
struct Allowed {
    /// Its region codes, most specific first.
    codes: Vec<u16>,
    /// Its country calling code.
    calling_code: u16,
    /// The number as its numbering plan reads it; `None` for a stored number that no
    /// longer passes [`phone::parse`] (registered before validation was this strict).
    parsed: Option<phone::E164>,
}

fn region_verdict(number: &str, app_id: &str, settings: &SmsSettings) -> Result<Allowed, Blocked> {
    let (calling_code, national) = phone::calling_code(number).ok_or(Blocked::NotANumber)?;
    let parsed = phone::parse(number).ok();
    let mut rules = listener::rules_for(&settings.phone_method_listeners, app_id);
    let codes = match nanp_country(calling_code, national, parsed.as_ref()) {
        Some(belongs) => {
            let codes = regions::nanp_region_codes(national, &rules, belongs);
            let group: Vec<u16> = codes.iter().copied().filter(|c| *c > 999).collect();
            rules = rules.with_aliases(&group);
            codes
        }
        None => regions::region_codes(calling_code, national),
    };
    match rules.verdict(&codes) {
        RegionVerdict::Blocked(code) => Err(Blocked::Region { code }),
        RegionVerdict::Allowed | RegionVerdict::OptedIn(_) => Ok(Allowed {
            codes,
            calling_code,
            parsed,
        }),
    }
}

/// For a North American number outside the US and Canada, which area codes belong to
/// its country: the region libphonenumber gives the parsed number, or, when the number
/// does not fit that region's pattern (and so parses as the US), the region whose
/// leading digits claim its area code. Both come from the same metadata.
fn nanp_country(
    calling_code: u16,
    national: &str,
    parsed: Option<&phone::E164>,
) -> Option<impl Fn(u16) -> bool> {
    if calling_code != 1 {
        return None;
    }
    parsed
        .and_then(|p| phone::nanp_area_test(p.region))
        .or_else(|| phone::nanp_region_by_area(national).and_then(phone::nanp_area_test))
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
    let allowed = match region_verdict(number, app_id, settings) {
        Ok(v) => v,
        Err(b) => return SmsVerdict::Blocked(b),
    };
    let req = SmsRequest {
        regions: &allowed.codes,
        ip_country: ip_country(facts.ip_country, &allowed),
        captcha_verified_at: facts.captcha_verified_at,
    };
    match captcha::decide(&settings.captcha, &req) {
        CaptchaDecision::NotNeeded | CaptchaDecision::Passed => SmsVerdict::Send,
        CaptchaDecision::Required(signals) => SmsVerdict::CaptchaRequired(signals),
    }
}

/// Where the request comes from, next to the number: its *country*, not its calling
/// code, so a Jamaican `+1` number asked for from a US IP is abroad. Cloudflare's `T1`
/// (Tor) and `XX` (unknown), and any code that names no country, are kept apart:
/// [`captcha`] suspects them rather than failing open. A stored number that no longer
/// parses is compared by calling code, as before the plans were checked.
fn ip_country(country: Option<&str>, number: &Allowed) -> IpCountry {
    let Some(country) = country else {
        return IpCountry::NotGiven;
    };
    if country.eq_ignore_ascii_case(captcha::TOR_COUNTRY) {
        return IpCountry::Tor;
    }
    let Some(ip_calling_code) = phone::calling_code_for_region(country) else {
        return IpCountry::Unknown;
    };
    let same = match &number.parsed {
        Some(parsed) => phone::same_country(parsed, country),
        None => ip_calling_code == number.calling_code,
    };
    if same {
        IpCountry::Same
    } else {
        IpCountry::Other
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
            phone_method_listeners: vec![l],
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
    fn settings_read_from_json_and_refuse_unknown_fields() {
        let s: SmsSettings = serde_json::from_value(json!({
            "captcha": {"mode": "always", "alwaysForRegions": [1876]},
            "phoneMethodListeners": []
        }))
        .unwrap();
        assert_eq!(s.captcha.mode, captcha::CaptchaMode::Always);
        assert_eq!(s.captcha.always_for_regions, vec![1876]);
        assert_eq!(
            serde_json::from_value::<SmsSettings>(json!({})).unwrap(),
            SmsSettings::default()
        );
        for bad in [
            json!({"captcha": {"mode": "sometimes"}}),
            json!({"captcha": {"moda": "always"}}),
            json!({"captcha": {"alwaysForRegions": [0]}}),
            json!({"captcha": {"alwaysForRegions": ["234"]}}),
            json!({"listeners": []}),
            json!({"phoneMethodListeners": {}}),
            json!([]),
        ] {
            assert!(
                serde_json::from_value::<SmsSettings>(bad.clone()).is_err(),
                "{bad}"
            );
        }
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
