//! A CAPTCHA before an SMS when fraud is suspected, as External ID does: "Our SMS MFA
//! includes automatic fraud checks. If we suspect fraud, we'll ask the user to complete
//! a CAPTCHA to confirm they're not a robot before sending the SMS code" (S-EXT-MFA).
//!
//! The core decides ([`decide`]); it never calls out. Two kinds of clients:
//!
//! - **Native auth** cannot show a CAPTCHA, and its wire protocol has no field for a
//!   widget token. When a CAPTCHA is needed the flow ends with the web fallback
//!   (`{"challenge_type":"redirect","redirect_reason":…}`), as Entra's native auth does
//!   when "fraud protection blocks the request if it deems it as high risk".
//! - **Hosted pages** show a Turnstile-compatible widget, verify its token with
//!   [`SiteverifyRequest`] (the Worker's `worker::sms_captcha::verify` does the POST) and
//!   read the answer with [`read_siteverify`]. A success is passed into the flow as
//!   [`crate::flow::ClientFacts::captcha_verified_at`] (set by the adapter only, never
//!   from client input); [`decide`] then lets the SMS go. A page can call [`decide`]
//!   up front to know whether to show the widget at all.
//!
//! What counts as suspected (mode `whenSuspected`, the default), and why:
//! - the number's country differs from the request's IP country: SMS pumping sends codes
//!   to premium numbers abroad, and a person registering their own phone is mostly where
//!   the phone is. Countries, not calling codes: the Caribbean `+1` countries (Jamaica
//!   among them, off by default for telephony fraud) share `+1` with the US and Canada,
//!   so a calling code comparison let every one of them pass from a US IP. Where the
//!   numbering plan cannot tell two countries apart (a `+1` number of the US or Canada),
//!   either counts as the number's ([`super::phone::same_country`]);
//! - the request comes through Tor (Cloudflare's `cf-ipcountry: T1`), or from an IP
//!   whose country is unknown (`XX`, or any code that is no country): the one signal
//!   above cannot be checked, and hiding where a request comes from is what a pumping
//!   script does. Failing open here would turn the check off for whoever hides. A
//!   request with no country at all (not behind Cloudflare: local runs, tests) is not
//!   suspected;
//! - the number falls under a region the admin lists in `alwaysForRegions`, e.g. the
//!   regions they opted in from the default-off list (telephony fraud is why those are
//!   off). An opt-in alone does not ask for a CAPTCHA: for native clients that would
//!   make the opt-in a redirect every time.
//!
//! Sign-in risk is deliberately not a signal: Conditional Access answers risk by
//! requiring MFA, and a CAPTCHA on top would turn every risk-based SMS MFA of a native
//! client into a redirect.
//!
//! `always` asks every time (e.g. for hosted pages only), `never` turns the check off.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// When a CAPTCHA is asked for before an SMS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CaptchaMode {
    /// Never.
    Never,
    /// When one of the fraud signals is present.
    #[default]
    WhenSuspected,
    /// Before every SMS.
    Always,
}

/// CAPTCHA settings (`settings.sms.captcha`), read by [`super::SmsSettings`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptchaSettings {
    /// Never, when suspected (default), or always.
    pub mode: CaptchaMode,
    /// Region codes (as in [`super::regions`]) whose numbers always need a CAPTCHA in
    /// `whenSuspected` mode.
    pub always_for_regions: Vec<u16>,
}

/// Cloudflare's `cf-ipcountry` for a Tor exit node.
pub const TOR_COUNTRY: &str = "T1";

/// Where the request comes from, next to the number's country.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpCountry {
    /// No country given (the Worker is not behind Cloudflare's geolocation: a local run).
    NotGiven,
    /// The number's country.
    Same,
    /// Another country than the number's.
    Other,
    /// A Tor exit node (`T1`): the country is hidden.
    Tor,
    /// Cloudflare does not know the country (`XX`), or the code is no country.
    Unknown,
}

/// What the decision looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsRequest<'a> {
    /// The number's region codes, most specific first ([`super::regions::region_codes`]).
    pub regions: &'a [u16],
    /// The request's IP country, next to the number's ([`super::check`] compares them).
    pub ip_country: IpCountry,
    /// When a CAPTCHA was verified for this flow, if one was.
    pub captcha_verified_at: Option<Timestamp>,
}

/// Why a CAPTCHA is asked for (stable codes for audit and `redirect_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FraudSignal {
    /// Mode `always`.
    Always,
    /// The number's country differs from the IP's.
    CountryMismatch,
    /// A region listed in `alwaysForRegions`.
    WatchedRegion,
    /// The request comes through Tor (`cf-ipcountry: T1`).
    TorNetwork,
    /// The request's IP country is unknown (`cf-ipcountry: XX`).
    UnknownIpCountry,
}

impl FraudSignal {
    /// The stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            FraudSignal::Always => "always",
            FraudSignal::CountryMismatch => "country_mismatch",
            FraudSignal::WatchedRegion => "watched_region",
            FraudSignal::TorNetwork => "tor_network",
            FraudSignal::UnknownIpCountry => "unknown_ip_country",
        }
    }
}

/// The decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptchaDecision {
    /// Send the SMS.
    NotNeeded,
    /// A CAPTCHA was needed and was verified in this flow: send the SMS.
    Passed,
    /// Ask for a CAPTCHA first (native clients: redirect).
    Required(Vec<FraudSignal>),
}

/// Whether an SMS to this number needs a CAPTCHA first.
pub fn decide(settings: &CaptchaSettings, req: &SmsRequest<'_>) -> CaptchaDecision {
    let signals = signals(settings, req);
    if signals.is_empty() {
        CaptchaDecision::NotNeeded
    } else if req.captcha_verified_at.is_some() {
        CaptchaDecision::Passed
    } else {
        CaptchaDecision::Required(signals)
    }
}

fn signals(settings: &CaptchaSettings, req: &SmsRequest<'_>) -> Vec<FraudSignal> {
    match settings.mode {
        CaptchaMode::Never => Vec::new(),
        CaptchaMode::Always => vec![FraudSignal::Always],
        CaptchaMode::WhenSuspected => {
            let mut out = Vec::new();
            match req.ip_country {
                IpCountry::NotGiven | IpCountry::Same => {}
                IpCountry::Other => out.push(FraudSignal::CountryMismatch),
                IpCountry::Tor => out.push(FraudSignal::TorNetwork),
                IpCountry::Unknown => out.push(FraudSignal::UnknownIpCountry),
            }
            if req
                .regions
                .iter()
                .any(|r| settings.always_for_regions.contains(r))
            {
                out.push(FraudSignal::WatchedRegion);
            }
            out
        }
    }
}

/// The `redirect_reason` a native client gets when a CAPTCHA is needed.
pub fn redirect_reason(signals: &[FraudSignal]) -> String {
    let codes: Vec<&str> = signals.iter().map(|s| s.as_str()).collect();
    format!(
        "sms fraud protection requires a captcha in the browser ({})",
        codes.join(" ")
    )
}

/// Whether a flow `redirect_reason` is the one [`redirect_reason`] builds, i.e. the
/// hosted pages can answer it with the widget rather than give up.
pub fn is_captcha_reason(reason: &str) -> bool {
    reason.starts_with("sms fraud protection requires a captcha")
}

/// A Turnstile-compatible `siteverify` call: `POST` to the configured URL with a form
/// body of `secret`, `response` and, when known, `remoteip`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteverifyRequest {
    /// The form body (`application/x-www-form-urlencoded`). It holds the secret: never log it.
    pub body: String,
}

impl SiteverifyRequest {
    /// The request for one widget token. `None` for an empty or oversized token (Turnstile
    /// tokens are at most 2048 characters), so nothing is sent for input that cannot pass.
    pub fn new(secret: &str, token: &str, remote_ip: Option<&str>) -> Option<Self> {
        if token.is_empty() || token.len() > 2048 || secret.is_empty() {
            return None;
        }
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("secret", secret);
        form.append_pair("response", token);
        if let Some(ip) = remote_ip {
            form.append_pair("remoteip", ip);
        }
        Some(SiteverifyRequest {
            body: form.finish(),
        })
    }

    /// The content type to send.
    pub const CONTENT_TYPE: &'static str = "application/x-www-form-urlencoded";
}

/// How long the Worker waits for `siteverify` before it gives up (and sends nothing).
/// Turnstile answers in well under a second; the person is waiting on a form post, and
/// the code delivery after a pass has its own budget of about 5 s.
pub const SITEVERIFY_BUDGET_MS: u64 = 3_000;

/// The reason code the adapter reports when `siteverify` did not answer within
/// [`SITEVERIFY_BUDGET_MS`].
pub const TIMED_OUT: &str = "siteverify-timeout";

/// The reason code the adapter reports when `siteverify` could not be reached (or the
/// configured URL cannot be requested).
pub const UNREACHABLE: &str = "siteverify-unreachable";

/// The parts of the `siteverify` answer the decision reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct SiteverifyAnswer {
    /// Whether the token is good.
    #[serde(default)]
    pub success: bool,
    /// Why not (`invalid-input-response`, `timeout-or-duplicate`, …).
    #[serde(default, rename = "error-codes")]
    pub error_codes: Vec<String>,
}

/// The verdict on a `siteverify` answer: `Ok` only for HTTP 200 with `"success": true`.
/// Anything else (another status, a body that is not the documented JSON) fails closed
/// with the reason codes, so an outage of the CAPTCHA service never sends an SMS.
pub fn read_siteverify(status: u16, body: &str) -> Result<(), Vec<String>> {
    if status != 200 {
        return Err(vec![format!("http-{status}")]);
    }
    match serde_json::from_str::<SiteverifyAnswer>(body) {
        Ok(a) if a.success => Ok(()),
        Ok(a) if a.error_codes.is_empty() => Err(vec!["unsuccessful".into()]),
        Ok(a) => Err(a.error_codes),
        Err(_) => Err(vec!["invalid-response-body".into()]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(ip_country: IpCountry) -> SmsRequest<'static> {
        SmsRequest {
            regions: &[],
            ip_country,
            captcha_verified_at: None,
        }
    }

    #[test]
    fn a_number_abroad_from_the_ip_needs_a_captcha() {
        let s = CaptchaSettings::default();
        assert_eq!(
            decide(&s, &req(IpCountry::Same)),
            CaptchaDecision::NotNeeded
        );
        assert_eq!(
            decide(&s, &req(IpCountry::NotGiven)),
            CaptchaDecision::NotNeeded
        );
        assert_eq!(
            decide(&s, &req(IpCountry::Other)),
            CaptchaDecision::Required(vec![FraudSignal::CountryMismatch])
        );
        let passed = SmsRequest {
            captcha_verified_at: Some(Timestamp(1)),
            ..req(IpCountry::Other)
        };
        assert_eq!(decide(&s, &passed), CaptchaDecision::Passed);
    }

    #[test]
    fn a_hidden_or_unknown_ip_country_is_suspected_not_waved_through() {
        let s = CaptchaSettings::default();
        assert_eq!(
            decide(&s, &req(IpCountry::Tor)),
            CaptchaDecision::Required(vec![FraudSignal::TorNetwork])
        );
        assert_eq!(
            decide(&s, &req(IpCountry::Unknown)),
            CaptchaDecision::Required(vec![FraudSignal::UnknownIpCountry])
        );
        let reason = redirect_reason(&[FraudSignal::TorNetwork, FraudSignal::UnknownIpCountry]);
        assert!(is_captcha_reason(&reason), "{reason}");
        assert!(
            reason.contains("tor_network unknown_ip_country"),
            "{reason}"
        );
        let never = CaptchaSettings {
            mode: CaptchaMode::Never,
            always_for_regions: vec![],
        };
        assert_eq!(
            decide(&never, &req(IpCountry::Tor)),
            CaptchaDecision::NotNeeded
        );
    }

    #[test]
    fn watched_regions_are_a_signal_and_modes_override() {
        let s = CaptchaSettings {
            mode: CaptchaMode::WhenSuspected,
            always_for_regions: vec![1876],
        };
        assert_eq!(
            decide(&s, &req(IpCountry::Same)),
            CaptchaDecision::NotNeeded
        );
        let jamaica = SmsRequest {
            regions: &[1876, 1],
            ..req(IpCountry::Same)
        };
        assert_eq!(
            decide(&s, &jamaica),
            CaptchaDecision::Required(vec![FraudSignal::WatchedRegion])
        );
        let never = CaptchaSettings {
            mode: CaptchaMode::Never,
            ..s.clone()
        };
        assert_eq!(
            decide(&never, &req(IpCountry::Other)),
            CaptchaDecision::NotNeeded
        );
        let always = CaptchaSettings {
            mode: CaptchaMode::Always,
            always_for_regions: vec![],
        };
        assert_eq!(
            decide(&always, &req(IpCountry::Same)),
            CaptchaDecision::Required(vec![FraudSignal::Always])
        );
        assert!(redirect_reason(&[FraudSignal::CountryMismatch]).contains("country_mismatch"));
    }

    #[test]
    fn siteverify_requests_are_forms_and_answers_fail_closed() {
        let r = SiteverifyRequest::new("s3cret", "tok en", Some("203.0.113.9")).unwrap();
        assert_eq!(r.body, "secret=s3cret&response=tok+en&remoteip=203.0.113.9");
        assert_eq!(SiteverifyRequest::new("s", "", None), None);
        assert_eq!(SiteverifyRequest::new("s", &"x".repeat(2049), None), None);
        assert_eq!(
            read_siteverify(200, r#"{"success":true,"error-codes":[]}"#),
            Ok(())
        );
        assert_eq!(
            read_siteverify(
                200,
                r#"{"success":false,"error-codes":["invalid-input-response"]}"#
            ),
            Err(vec!["invalid-input-response".to_string()])
        );
        assert_eq!(
            read_siteverify(500, "{}"),
            Err(vec!["http-500".to_string()])
        );
        assert_eq!(
            read_siteverify(200, "<html>"),
            Err(vec!["invalid-response-body".to_string()])
        );
        assert_eq!(
            read_siteverify(200, "{}"),
            Err(vec!["unsuccessful".to_string()])
        );
    }
}
