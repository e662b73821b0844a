//! E.164 phone numbers that must be valid for their country, not just digits.
//!
//! The check uses libphonenumber's numbering plans, compacted into
//! `numbering_data.rs` (per region: calling code, leading digits, the general
//! national-number pattern and its lengths) and matched with `regex-lite`, which the
//! engine already ships. Why not the `phonenumber` crate at run time: it took the
//! Worker's wasm from 485 KB to 986 KB gzip (its full `regex` and the whole metadata),
//! twice the 500 KB budget. It stays as a dev-dependency that generates the table and
//! checks this validator against `phonenumber::is_valid` (`tests/sms_numbering.rs`).
//!
//! What is not checked: the number type. `phonenumber::is_valid` also matches each
//! type's pattern (fixed line, mobile, toll free, …); those patterns are most of the
//! metadata's size, so this check is the general pattern: the right length and leading
//! digits for the country (e.g. `+44 0700 900123` and `+1 123 456 7890` fail), but a
//! number in an unassigned range of a valid shape (the fictional `+1 555 …`) passes.
//! Nor is it checked that a number is in service.

use super::numbering_data::REGIONS;

/// One region's numbering plan, read from [`REGIONS`].
struct Row {
    code: u16,
    region: &'static str,
    lead: &'static str,
    pattern: &'static str,
    lengths: &'static str,
}

impl Row {
    fn has_length(&self, n: usize) -> bool {
        self.lengths == "-" || self.lengths.split(',').any(|l| l.parse() == Ok(n))
    }
}

fn rows() -> impl Iterator<Item = Row> {
    REGIONS.lines().filter_map(|line| {
        let mut f = line.split(' ');
        let row = Row {
            code: f.next()?.parse().ok()?,
            region: f.next()?,
            lead: f.next()?,
            pattern: f.next()?,
            lengths: f.next()?,
        };
        Some(row)
    })
}

/// A valid E.164 number, split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct E164 {
    /// The country calling code (`44`).
    pub calling_code: u16,
    /// The national significant number (`7700900123`).
    pub national: String,
    /// The ISO 3166-1 region of the numbering plan it matched (`GB`).
    pub region: &'static str,
}

impl E164 {
    /// `+447700900123`.
    pub fn to_e164(&self) -> String {
        format!("+{}{}", self.calling_code, self.national)
    }
}

/// Why a string is not a valid phone number (stable codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneProblem {
    /// Not in international form: it must start with `+` and the country calling code.
    MissingPlus,
    /// Characters other than digits and the usual separators.
    NotDigits,
    /// Fewer than 7 or more than 15 digits (E.164 allows at most 15).
    BadLength,
    /// No country has this calling code.
    UnknownCountryCode,
    /// The country's numbers never have this many digits.
    WrongLengthForCountry,
    /// The digits do not form a number of the country's numbering plan.
    InvalidForCountry,
}

impl PhoneProblem {
    /// The stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            PhoneProblem::MissingPlus => "missing_plus",
            PhoneProblem::NotDigits => "not_digits",
            PhoneProblem::BadLength => "bad_length",
            PhoneProblem::UnknownCountryCode => "unknown_country_code",
            PhoneProblem::WrongLengthForCountry => "wrong_length_for_country",
            PhoneProblem::InvalidForCountry => "invalid_for_country",
        }
    }
}

/// Parses a number as a person types it (`+44 7700 900123`, `+1 (202) 555-0143`):
/// spaces, dashes, dots and parentheses are removed; the rest must be `+` and digits.
pub fn parse(raw: &str) -> Result<E164, PhoneProblem> {
    let compact: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = compact.strip_prefix('+').ok_or(PhoneProblem::MissingPlus)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PhoneProblem::NotDigits);
    }
    if !(7..=15).contains(&digits.len()) {
        return Err(PhoneProblem::BadLength);
    }
    let (calling_code, national) = split(digits).ok_or(PhoneProblem::UnknownCountryCode)?;
    let plans: Vec<Row> = rows()
        .filter(|r| r.code == calling_code && r.has_length(national.len()))
        .collect();
    if plans.is_empty() {
        return Err(PhoneProblem::WrongLengthForCountry);
    }
    // Regions whose leading digits match first (Jamaica before the US for +1 876…).
    let lead = |r: &&Row| r.lead != "-" && full_match(&format!("(?:{})\\d*", r.lead), national);
    let ordered = plans
        .iter()
        .filter(lead)
        .chain(plans.iter().filter(|r| !lead(r)));
    for r in ordered {
        if full_match(r.pattern, national) {
            return Ok(E164 {
                calling_code,
                national: national.to_string(),
                region: r.region,
            });
        }
    }
    Err(PhoneProblem::InvalidForCountry)
}

/// The country calling code of a stored E.164 string, without checking the rest (for
/// numbers registered before validation was this strict).
pub fn calling_code(e164: &str) -> Option<(u16, &str)> {
    let digits = e164.trim().strip_prefix('+')?;
    digits
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| split(digits))
        .flatten()
}

/// The calling code of an ISO 3166-1 alpha-2 region (`GB` → 44).
pub fn calling_code_for_region(region: &str) -> Option<u16> {
    rows()
        .find(|r| r.region.eq_ignore_ascii_case(region))
        .map(|r| r.code)
}

/// Whether a request from `country` (ISO 3166-1 alpha-2) is in the country of `number`.
/// The region [`parse`] names is the first plan that fits. Where plans share a calling
/// code and list no leading digits to tell them apart (the US and Canada under `+1`;
/// the UK, Guernsey and Jersey under `+44`), the number may belong to any of them, so
/// any of those whose pattern fits it counts too: a Canadian number parses as `US`
/// and must not look foreign in Canada. A country with its own leading digits
/// (Jamaica's 876 and 658) is never confused with the US.
pub fn same_country(number: &E164, country: &str) -> bool {
    if number.region.eq_ignore_ascii_case(country) {
        return true;
    }
    let lead_less = |r: &Row| r.code == number.calling_code && r.lead == "-";
    let by_pattern = rows().any(|r| r.region == number.region && lead_less(&r));
    by_pattern
        && rows().any(|r| {
            lead_less(&r)
                && r.region.eq_ignore_ascii_case(country)
                && r.has_length(number.national.len())
                && full_match(r.pattern, &number.national)
        })
}

/// The region of a North American (`+1`) national number by its area code, as
/// libphonenumber's leading digits assign it (`8765550123` → `JM`, `6582001234` → `JM`);
/// `None` for area codes of the US and Canada, whose plans list no leading digits.
/// [`parse`] tries these regions first too, but falls back to the US plan when the
/// number does not fit the claiming region's pattern: this says whose area code it is.
pub fn nanp_region_by_area(national: &str) -> Option<&'static str> {
    rows()
        .filter(|r| r.code == 1 && r.lead != "-")
        .find(|r| full_match(&format!("(?:{})\\d*", r.lead), national))
        .map(|r| r.region)
}

/// Whether a three-digit North American area code belongs to `region` by its plan's
/// leading digits, as a test built once per region (`JM`: 658 and 876). `None` when the
/// region has no `+1` plan with leading digits (the US, Canada, any other country).
pub fn nanp_area_test(region: &str) -> Option<impl Fn(u16) -> bool> {
    let row = rows().find(|r| r.code == 1 && r.lead != "-" && r.region == region)?;
    let re = regex_lite::Regex::new(&format!("^(?:{})\\d*$", row.lead)).ok()?;
    Some(move |area: u16| (200..=999).contains(&area) && re.is_match(&area.to_string()))
}

/// Every area code of a North American `region` (`DO`: 809, 829, 849); empty for the
/// US, Canada and regions outside `+1`.
pub fn nanp_area_codes(region: &str) -> Vec<u16> {
    match nanp_area_test(region) {
        Some(test) => (200..=999).filter(|a| test(*a)).collect(),
        None => Vec::new(),
    }
}

/// Splits the calling code off (calling codes are prefix-free: at most one of the
/// first 1, 2 or 3 digits is one).
fn split(digits: &str) -> Option<(u16, &str)> {
    if digits.starts_with('0') {
        return None;
    }
    (1..=3).find_map(|n| {
        let code: u16 = digits.get(..n)?.parse().ok()?;
        let rest = digits.get(n..)?;
        rows().any(|r| r.code == code).then_some((code, rest))
    })
}

/// Whether `pattern` matches the whole of `text`. A pattern that does not compile (it
/// comes from the generated table, so it never should) matches nothing.
fn full_match(pattern: &str, text: &str) -> bool {
    regex_lite::Regex::new(&format!("^(?:{pattern})$")).is_ok_and(|re| re.is_match(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_numbers_are_split_by_country() {
        let gb = parse("+44 7700 900123").unwrap();
        assert_eq!(
            (gb.calling_code, gb.national.as_str(), gb.region),
            (44, "7700900123", "GB")
        );
        assert_eq!(gb.to_e164(), "+447700900123");
        let us = parse("+1 (202) 555-0143").unwrap();
        assert_eq!((us.calling_code, us.region), (1, "US"));
        let jm = parse("+18765550123").unwrap();
        assert_eq!((jm.calling_code, jm.region), (1, "JM"));
        assert_eq!(parse("+2348031234567").unwrap().region, "NG");
        assert_eq!(parse("+33612345678").unwrap().region, "FR");
        // A national number that keeps its leading zero (Italian fixed lines).
        assert_eq!(parse("+390612345678").unwrap().national, "0612345678");
    }

    #[test]
    fn bad_numbers_say_why() {
        let cases = [
            ("07700900123", PhoneProblem::MissingPlus),
            ("447700900123", PhoneProblem::MissingPlus),
            ("+44 77OO 900123", PhoneProblem::NotDigits),
            ("+1-800-FLOWERS", PhoneProblem::NotDigits),
            ("+", PhoneProblem::NotDigits),
            ("+44123", PhoneProblem::BadLength),
            ("+4477009001234567", PhoneProblem::BadLength),
            ("+0123456789", PhoneProblem::UnknownCountryCode),
            ("+8091234567", PhoneProblem::UnknownCountryCode),
            ("+4477009001", PhoneProblem::WrongLengthForCountry),
            ("+3361234567890", PhoneProblem::WrongLengthForCountry),
            ("+440700900123", PhoneProblem::InvalidForCountry),
            ("+11234567890", PhoneProblem::InvalidForCountry),
        ];
        for (raw, want) in cases {
            assert_eq!(parse(raw), Err(want), "{raw}");
        }
    }

    #[test]
    fn countries_are_compared_where_the_plan_can_tell_them_apart() {
        let us = parse("+12025550143").unwrap();
        assert!(same_country(&us, "US") && same_country(&us, "us"));
        // Canadian numbers parse as `US`: the two plans share `+1` and list no leading
        // digits.
        let ca = parse("+14165550143").unwrap();
        assert_eq!(ca.region, "US");
        assert!(same_country(&ca, "CA"));
        assert!(!same_country(&ca, "GB"));
        let jm = parse("+16582001234").unwrap();
        assert!(same_country(&jm, "JM"));
        assert!(!same_country(&jm, "US") && !same_country(&jm, "CA"));
        let gg = parse("+447781123456").unwrap();
        assert!(same_country(&gg, "GB") && same_country(&gg, "GG"));
        assert!(!same_country(&gg, "US"));
        let ng = parse("+2348031234567").unwrap();
        assert!(same_country(&ng, "NG") && !same_country(&ng, "GB"));
        assert!(!same_country(&us, "T1") && !same_country(&us, "XX"));
    }

    #[test]
    fn north_american_area_codes_belong_to_their_region() {
        assert_eq!(nanp_area_codes("JM"), vec![658, 876]);
        assert_eq!(nanp_area_codes("DO"), vec![809, 829, 849]);
        assert_eq!(nanp_area_codes("PR"), vec![787, 939]);
        assert_eq!(nanp_area_codes("SX"), vec![721]);
        assert!(nanp_area_codes("US").is_empty());
        assert!(nanp_area_codes("GB").is_empty());
        assert_eq!(nanp_region_by_area("6582001234"), Some("JM"));
        assert_eq!(nanp_region_by_area("8295550123"), Some("DO"));
        assert_eq!(nanp_region_by_area("7212001234"), Some("SX"));
        assert_eq!(nanp_region_by_area("2025550123"), None);
        // `8001` is a Dominican leading-digit prefix, not the toll-free area code 800.
        assert_eq!(nanp_region_by_area("8005550123"), None);
        let jm = nanp_area_test("JM").unwrap();
        assert!(jm(658) && jm(876) && !jm(202) && !jm(6580) && !jm(65));
    }

    #[test]
    fn stored_numbers_and_ip_countries_give_calling_codes() {
        assert_eq!(calling_code("+15551234567"), Some((1, "5551234567")));
        assert_eq!(calling_code("+2348031234567"), Some((234, "8031234567")));
        assert_eq!(calling_code("2348031234567"), None);
        assert_eq!(calling_code_for_region("gb"), Some(44));
        assert_eq!(calling_code_for_region("US"), Some(1));
        assert_eq!(calling_code_for_region("JM"), Some(1));
        assert_eq!(calling_code_for_region("XX"), None);
    }
}
