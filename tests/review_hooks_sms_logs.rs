//! Review (session 6, hookreview): defects found in the SMS protections, delivery hooks
//! and sign-in logs of issue #5, each shown by a test; fixed in session 6 (smsfix), the
//! tests stay as regressions.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] fns: a panic here is a failed test"
)]

use vestibule::sms::{self, Blocked, SmsSettings};

/// Jamaica is on the default opt-in list (`1876 Jamaica`), but Jamaica has two area
/// codes: 876 and the 658 overlay (in service since 2018; libphonenumber's JM plan, which
/// this crate's own validator uses, lists `658|876`). A `+1 658` number is recognised as
/// Jamaican by `sms::phone::parse`, yet region opt-in checks only `1658` and `1`, neither
/// of which is listed, so SMS goes to Jamaica without the app's opt-in.
#[test]
fn a_jamaican_658_number_is_off_by_default_like_876() {
    let parsed = sms::phone::parse("+16582001234").expect("a valid JM number");
    assert_eq!(parsed.region, "JM", "the validator itself says Jamaica");
    let none = SmsSettings::default();
    // 876 is blocked (the existing behaviour) ...
    assert_eq!(
        sms::sms_allowed("+18765550123", "app", &none),
        Err(Blocked::Region { code: 1876 })
    );
    // ... and the other Jamaican area code must be too.
    assert!(
        sms::sms_allowed("+16582001234", "app", &none).is_err(),
        "a Jamaican number went through without the app's opt-in"
    );
}

/// The CAPTCHA's "country mismatch" signal compares country *calling codes*, so every
/// North American Numbering Plan number counts as the same country as a US or Canadian
/// IP. Caribbean `+1` ranges (Jamaica's 876 among them, on the default-off list because of
/// telephony fraud) are the classic SMS-pumping destination: with Jamaica opted in, a
/// request from a US IP texting a Jamaican number gets no CAPTCHA, while the same request
/// texting a UK number from a US IP does. The validator already knows the number's region
/// (`JM`), which is what should be compared with the IP country.
#[test]
fn a_jamaican_number_from_a_us_ip_is_a_country_mismatch() {
    let listener = serde_json::json!({
      "@odata.type": sms::listener::LISTENER_TYPE,
      "conditions": {"applications": {"includeApplications": ["app"]}},
      "handler": {"@odata.type": sms::listener::HANDLER_TYPE,
                  "smsOptions": {"includeAdditionalRegions": [1876], "excludeRegions": []}}
    });
    let settings = SmsSettings {
        phone_method_listeners: vec![listener],
        ..SmsSettings::default()
    };
    let from_us = sms::RequestFacts {
        ip_country: Some("US"),
        captcha_verified_at: None,
    };
    // The control: a UK number from a US IP is suspected.
    assert!(matches!(
        sms::check("+447700900123", "app", &settings, &from_us),
        sms::SmsVerdict::CaptchaRequired(_)
    ));
    // A Jamaican number from a US IP is as foreign.
    let verdict = sms::check("+18765550123", "app", &settings, &from_us);
    assert!(
        matches!(verdict, sms::SmsVerdict::CaptchaRequired(_)),
        "no CAPTCHA: {verdict:?}"
    );
}

fn listener(include: &[u16], exclude: &[u16]) -> SmsSettings {
    SmsSettings {
        phone_method_listeners: vec![serde_json::json!({
          "@odata.type": sms::listener::LISTENER_TYPE,
          "conditions": {"applications": {"includeApplications": ["app"]}},
          "handler": {"@odata.type": sms::listener::HANDLER_TYPE,
                      "smsOptions": {"includeAdditionalRegions": include, "excludeRegions": exclude}}
        })],
        ..SmsSettings::default()
    }
}

/// The `+1` regions of libphonenumber's metadata (through the `phonenumber` crate, not
/// this crate's compact table) with their leading digits, and every three-digit area
/// code those leading digits give each.
fn nanp_regions() -> Vec<(String, Vec<u16>)> {
    let db = &*phonenumber::metadata::DATABASE;
    db.iter()
        .filter(|m| m.country_code() == 1)
        .filter_map(|m| {
            let lead = m.leading_digits()?.as_str().to_string();
            let re = regex_lite::Regex::new(&format!("^(?:{lead})\\d*$")).unwrap();
            let areas: Vec<u16> = (200..=999u16)
                .filter(|a| re.is_match(&a.to_string()))
                .collect();
            Some((m.id().to_string(), areas))
        })
        .collect()
}

/// A number of `area` that libphonenumber itself calls valid and places in `region`:
/// the region's example numbers moved to `area`, or a few common subscriber numbers.
fn valid_number(region: &str, area: u16) -> String {
    let db = &*phonenumber::metadata::DATABASE;
    let m = db.by_id(region).unwrap();
    let d = m.descriptors();
    let mut tails: Vec<String> = [d.fixed_line(), d.mobile()]
        .into_iter()
        .flatten()
        .filter_map(|x| x.example())
        .filter_map(|e| e.get(3..).map(str::to_string))
        .collect();
    tails.extend(["2001234", "5550123", "2345678", "5201234"].map(String::from));
    tails
        .iter()
        .map(|tail| format!("+1{area}{tail}"))
        .find(|n| {
            phonenumber::parse(None, n).is_ok_and(|p| {
                phonenumber::is_valid(&p)
                    && p.country().id().map(|i| format!("{i:?}")).as_deref() == Some(region)
            })
        })
        .unwrap_or_else(|| panic!("no valid {region} number in area {area}"))
}

/// Every `1xxx` entry of the default-off list, and every area code libphonenumber gives
/// its country: each number is off by default under the listed code, on when the app
/// opts in the listed code (or any area code of the country), and off again when the
/// app excludes any of the country's area codes. The validator agrees on the region.
#[test]
fn every_area_code_of_every_default_off_north_american_country_is_off_by_default() {
    let regions = nanp_regions();
    let listed: Vec<u16> = sms::regions::DEFAULT_OFF
        .iter()
        .copied()
        .filter(|c| (1000..2000).contains(c))
        .collect();
    assert_eq!(
        listed,
        vec![1876, 1784, 1721],
        "the list's North American entries"
    );
    let mut walked = 0;
    for code in listed {
        let area = code - 1000;
        let (region, areas) = regions
            .iter()
            .find(|(_, areas)| areas.contains(&area))
            .unwrap_or_else(|| panic!("no region has area code {area}"));
        assert_eq!(
            &sms::phone::nanp_area_codes(region),
            areas,
            "the compact table gives {region} other area codes"
        );
        for a in areas {
            let number = valid_number(region, *a);
            assert_eq!(sms::phone::parse(&number).unwrap().region, region.as_str());
            let none = SmsSettings::default();
            assert_eq!(
                sms::sms_allowed(&number, "app", &none),
                Err(Blocked::Region { code }),
                "{region} {number} went through without the app's opt-in"
            );
            for include in [code, 1000 + a] {
                assert_eq!(
                    sms::sms_allowed(&number, "app", &listener(&[include], &[])),
                    Ok(()),
                    "{region} {number} with {include} opted in"
                );
            }
            for other in areas {
                assert!(
                    sms::sms_allowed(&number, "app", &listener(&[], &[1000 + other])).is_err(),
                    "{region} {number} with {} excluded",
                    1000 + other
                );
            }
            walked += 1;
        }
    }
    // Jamaica has two area codes, Saint Vincent and Sint Maarten one each.
    assert_eq!(walked, 4);
}

/// Countries not on the list keep their area codes together too: an app that excludes
/// one area code of a country with several (the Dominican Republic, Puerto Rico, …)
/// excludes all of them, and the US stays on.
#[test]
fn excluding_one_area_code_of_a_north_american_country_excludes_all_of_them() {
    let mut several = 0;
    for (region, areas) in nanp_regions().iter().filter(|(_, a)| a.len() > 1) {
        // Jamaica is off by default: opt it in, so the exclusion is what blocks.
        let opted: Vec<u16> = areas
            .iter()
            .map(|a| 1000 + a)
            .filter(|c| sms::regions::off_by_default(*c))
            .collect();
        for a in areas {
            let number = valid_number(region, *a);
            assert_eq!(
                sms::sms_allowed(&number, "app", &listener(&opted, &[])),
                Ok(()),
                "{region} {number} is on (by default or opted in)"
            );
            for other in areas.iter().filter(|o| !opted.contains(&(1000 + *o))) {
                assert!(
                    sms::sms_allowed(&number, "app", &listener(&opted, &[1000 + other])).is_err(),
                    "{region} {number} with {} excluded",
                    1000 + other
                );
            }
        }
        several += 1;
    }
    assert!(several >= 3, "JM, DO, PR at least: {several}");
    let us = listener(&[], &[1809]);
    assert_eq!(sms::sms_allowed("+12025550143", "app", &us), Ok(()));
}

/// Tor and an unknown IP country do not switch the country check off, and a `+1`
/// country other than the US is foreign to a US IP while Canada is not told apart from
/// the US (one numbering plan, no leading digits).
#[test]
fn hidden_and_unknown_ip_countries_are_suspected_and_nanp_countries_are_compared() {
    let settings = listener(&[1876], &[]);
    let from = |c: &'static str| sms::RequestFacts {
        ip_country: Some(c),
        captcha_verified_at: None,
    };
    for (number, ip, suspected) in [
        ("+12025550161", "US", false),
        ("+12025550161", "CA", false),
        ("+14165550161", "CA", false),
        ("+12025550161", "GB", true),
        ("+12025550162", "T1", true),
        ("+12025550163", "XX", true),
        ("+16582001234", "US", true),
        ("+16582001234", "JM", false),
        ("+18765550123", "JM", false),
        ("+447700900123", "GB", false),
    ] {
        let verdict = sms::check(number, "app", &settings, &from(ip));
        assert_eq!(
            matches!(verdict, sms::SmsVerdict::CaptchaRequired(_)),
            suspected,
            "{number} from {ip}: {verdict:?}"
        );
    }
    let none = sms::RequestFacts {
        ip_country: None,
        captcha_verified_at: None,
    };
    assert_eq!(
        sms::check("+12025550161", "app", &settings, &none),
        sms::SmsVerdict::Send
    );
}
