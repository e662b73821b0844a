//! Which country calling codes may receive SMS: the regions Entra External ID turns off
//! by default for telephony fraud, and a per-app opt-in / opt-out on top.
//!
//! Source: "Regions requiring opt-in for SMS verification" (Entra External ID,
//! `how-to-region-code-opt-in`, ms.date 2026-04-17): "Starting January 2025, certain
//! country codes will be deactivated by default for SMS verification" and may be turned
//! back on per app with an `onPhoneMethodLoadStartListener` (see [`super::listener`]).
//! The list is copied as published, 114 rows; `672` is listed as "Timor-Leste" a
//! second time in the doc (Timor-Leste is `670`), and is kept as listed.
//!
//! North American numbers share `+1`; Jamaica, Saint Vincent and Sint Maarten are
//! listed by their four-digit `1xxx` area prefix, so a `+1` number is checked both as
//! `1` and as `1` plus its area code. A country may have several area codes (Jamaica
//! 876 and, since 2018, 658; the Dominican Republic 809, 829 and 849), and the list
//! names one: a `+1` number is also checked under every listed `1xxx` code of its
//! country ([`nanp_region_codes`], the country from libphonenumber's leading digits),
//! and a rule naming any area code of a country names all of them
//! ([`RegionRules::with_aliases`]).

/// The country calling codes that are off by default, in the doc's order (names as
/// comments: as strings they would ship in the wasm for nothing).
pub const DEFAULT_OFF: [u16; 114] = [
    93,   // Afghanistan
    213,  // Algeria
    244,  // Angola
    374,  // Armenia
    994,  // Azerbaijan
    880,  // Bangladesh
    375,  // Belarus
    501,  // Belize
    229,  // Benin
    975,  // Bhutan
    591,  // Bolivia
    387,  // Bosnia and Herzegovina
    359,  // Bulgaria
    226,  // Burkina Faso
    257,  // Burundi
    238,  // Cabo Verde
    855,  // Cambodia
    237,  // Cameroon
    235,  // Central African Republic
    269,  // Comoros
    243,  // Congo (DRC)
    242,  // Congo (Republic)
    225,  // Côte d'Ivoire
    385,  // Croatia
    53,   // Cuba
    253,  // Djibouti
    593,  // Ecuador
    20,   // Egypt
    503,  // El Salvador
    291,  // Eritrea
    251,  // Ethiopia
    679,  // Fiji
    689,  // French Polynesia
    241,  // Gabon
    220,  // Gambia
    995,  // Georgia
    233,  // Ghana
    590,  // Guadeloupe
    502,  // Guatemala
    224,  // Guinea
    245,  // Guinea-Bissau
    592,  // Guyana
    509,  // Haiti
    62,   // Indonesia
    98,   // Iran
    964,  // Iraq
    1876, // Jamaica
    962,  // Jordan
    254,  // Kenya
    686,  // Kiribati
    383,  // Kosovo
    965,  // Kuwait
    996,  // Kyrgyzstan
    961,  // Lebanon
    266,  // Lesotho
    231,  // Liberia
    218,  // Libya
    261,  // Madagascar
    265,  // Malawi
    223,  // Mali
    222,  // Mauritania
    230,  // Mauritius
    262,  // Mayotte
    691,  // Micronesia
    373,  // Moldova
    976,  // Mongolia
    212,  // Morocco
    258,  // Mozambique
    95,   // Myanmar
    977,  // Nepal
    687,  // New Caledonia
    505,  // Nicaragua
    227,  // Niger
    234,  // Nigeria
    968,  // Oman
    92,   // Pakistan
    970,  // Palestinian Authority
    675,  // Papua New Guinea
    63,   // Philippines
    974,  // Qatar
    7,    // Russia/Kazakhstan
    250,  // Rwanda
    290,  // Saint Helena
    508,  // Saint Pierre and Miquelon
    1784, // Saint Vincent and the Grenadines
    685,  // Samoa
    377,  // San Marino
    966,  // Saudi Arabia
    221,  // Senegal
    232,  // Sierra Leone
    1721, // Sint Maarten
    386,  // Slovenia
    252,  // Somalia
    211,  // South Sudan
    94,   // Sri Lanka
    249,  // Sudan
    963,  // Syria
    992,  // Tajikistan
    255,  // Tanzania
    670,  // Timor-Leste
    672,  // Timor-Leste
    228,  // Togo
    690,  // Tonga
    216,  // Tunisia
    993,  // Turkmenistan
    256,  // Uganda
    380,  // Ukraine
    971,  // United Arab Emirates
    998,  // Uzbekistan
    678,  // Vanuatu
    84,   // Vietnam
    967,  // Yemen
    260,  // Zambia
    263,  // Zimbabwe
];

/// Whether `code` is off unless an app opts in.
pub fn off_by_default(code: u16) -> bool {
    DEFAULT_OFF.contains(&code)
}

/// The region codes a number falls under, most specific first: its country calling
/// code and, for North American (`+1`) numbers, `1` plus the area code (`1876`).
pub fn region_codes(calling_code: u16, national: &str) -> Vec<u16> {
    let mut out = Vec::with_capacity(2);
    if calling_code == 1 {
        let area = national
            .get(..3)
            .filter(|a| a.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|a| a.parse::<u16>().ok());
        if let Some(area) = area {
            out.push(1000 + area);
        }
    }
    out.push(calling_code);
    out
}

/// The region codes of a North American number whose country owns the area codes
/// `belongs` accepts: the codes of [`region_codes`] (`1` plus its own area code, then
/// `1`), with every other `1xxx` code the default list or `rules` name whose area code
/// belongs to the same country inserted before the final `1`. So `+1 658 …` (Jamaica)
/// falls under `1876` as `+1 876 …` does.
pub fn nanp_region_codes(
    national: &str,
    rules: &RegionRules,
    belongs: impl Fn(u16) -> bool,
) -> Vec<u16> {
    let mut out = region_codes(1, national);
    let named = DEFAULT_OFF
        .iter()
        .chain(&rules.include)
        .chain(&rules.exclude)
        .copied()
        .filter(|c| (1200..=1999).contains(c));
    for code in named {
        if !out.contains(&code) && belongs(code - 1000) {
            let at = out.len().saturating_sub(1);
            out.insert(at, code);
        }
    }
    out
}

/// An app's SMS opt-in and opt-out on top of the default list (Graph `phoneOptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionRules {
    /// Off-by-default codes turned on (`includeAdditionalRegions`).
    pub include: Vec<u16>,
    /// Codes turned off, whether on by default or not (`excludeRegions`).
    pub exclude: Vec<u16>,
}

/// How a set of region codes fares under the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionVerdict {
    /// Allowed by default.
    Allowed,
    /// Off by default and turned on for this app: allowed, and worth a fraud check.
    OptedIn(u16),
    /// Blocked: excluded, or off by default and not turned on.
    Blocked(u16),
}

impl RegionRules {
    /// These rules for a number whose `group` of codes (the `1xxx` codes of one
    /// North American country, from [`nanp_region_codes`]) are one country: a code of
    /// the group that is included or excluded includes or excludes all of them, so an
    /// app that opts in `1876` also opts in Jamaica's 658, and one that excludes `1809`
    /// excludes the Dominican Republic's 829 and 849 too.
    pub fn with_aliases(&self, group: &[u16]) -> RegionRules {
        let widen = |list: &[u16]| {
            let mut out = list.to_vec();
            if group.iter().any(|c| list.contains(c)) {
                out.extend(group.iter().filter(|c| !list.contains(c)));
            }
            out
        };
        RegionRules {
            include: widen(&self.include),
            exclude: widen(&self.exclude),
        }
    }

    /// The verdict for a number falling under `codes` (from [`region_codes`]). An
    /// exclusion of any of its codes blocks; otherwise every off-by-default code must be
    /// included.
    pub fn verdict(&self, codes: &[u16]) -> RegionVerdict {
        if let Some(c) = codes.iter().find(|c| self.exclude.contains(c)) {
            return RegionVerdict::Blocked(*c);
        }
        let mut opted = None;
        for c in codes.iter().filter(|c| off_by_default(**c)) {
            if !self.include.contains(c) {
                return RegionVerdict::Blocked(*c);
            }
            opted = opted.or(Some(*c));
        }
        opted.map_or(RegionVerdict::Allowed, RegionVerdict::OptedIn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The list as the reference copies it from the doc, parsed independently of
    /// [`DEFAULT_OFF`], so a code dropped or mistyped there fails here.
    const FROM_THE_DOC: &str = "93 Afghanistan, 213 Algeria, 244 Angola, 374 Armenia, 994 Azerbaijan, 880 Bangladesh, 375 Belarus, 501 Belize, 229 Benin, 975 Bhutan,
591 Bolivia, 387 Bosnia and Herzegovina, 359 Bulgaria, 226 Burkina Faso, 257 Burundi, 238 Cabo Verde, 855 Cambodia, 237 Cameroon,
235 Central African Republic, 269 Comoros, 243 Congo (DRC), 242 Congo (Republic), 225 Côte d'Ivoire, 385 Croatia, 53 Cuba, 253 Djibouti,
593 Ecuador, 20 Egypt, 503 El Salvador, 291 Eritrea, 251 Ethiopia, 679 Fiji, 689 French Polynesia, 241 Gabon, 220 Gambia, 995 Georgia,
233 Ghana, 590 Guadeloupe, 502 Guatemala, 224 Guinea, 245 Guinea-Bissau, 592 Guyana, 509 Haiti, 62 Indonesia, 98 Iran, 964 Iraq,
1876 Jamaica, 962 Jordan, 254 Kenya, 686 Kiribati, 383 Kosovo, 965 Kuwait, 996 Kyrgyzstan, 961 Lebanon, 266 Lesotho, 231 Liberia,
218 Libya, 261 Madagascar, 265 Malawi, 223 Mali, 222 Mauritania, 230 Mauritius, 262 Mayotte, 691 Micronesia, 373 Moldova, 976 Mongolia,
212 Morocco, 258 Mozambique, 95 Myanmar, 977 Nepal, 687 New Caledonia, 505 Nicaragua, 227 Niger, 234 Nigeria, 968 Oman, 92 Pakistan,
970 Palestinian Authority, 675 Papua New Guinea, 63 Philippines, 974 Qatar, 7 Russia/Kazakhstan, 250 Rwanda, 290 Saint Helena,
508 Saint Pierre and Miquelon, 1784 Saint Vincent and the Grenadines, 685 Samoa, 377 San Marino, 966 Saudi Arabia, 221 Senegal,
232 Sierra Leone, 1721 Sint Maarten, 386 Slovenia, 252 Somalia, 211 South Sudan, 94 Sri Lanka, 249 Sudan, 963 Syria, 992 Tajikistan,
255 Tanzania, 670 Timor-Leste, 672 Timor-Leste, 228 Togo, 690 Tonga, 216 Tunisia,
993 Turkmenistan, 256 Uganda, 380 Ukraine, 971 United Arab Emirates, 998 Uzbekistan, 678 Vanuatu, 84 Vietnam, 967 Yemen, 260 Zambia, 263 Zimbabwe";

    fn doc_codes() -> Vec<u16> {
        FROM_THE_DOC
            .split(',')
            .filter_map(|row| row.split_whitespace().next())
            .filter_map(|c| c.parse().ok())
            .collect()
    }

    #[test]
    fn the_list_is_the_docs_114_codes() {
        let mut doc = doc_codes();
        assert_eq!(doc.len(), 114);
        doc.sort_unstable();
        doc.dedup();
        assert_eq!(doc.len(), 114);
        let mut ours: Vec<u16> = DEFAULT_OFF.to_vec();
        ours.sort_unstable();
        assert_eq!(ours, doc);
    }

    #[test]
    fn every_listed_code_is_blocked_by_default_and_can_be_opted_in() {
        let none = RegionRules::default();
        for code in doc_codes() {
            assert_eq!(
                none.verdict(&[code]),
                RegionVerdict::Blocked(code),
                "{code}"
            );
            let on = RegionRules {
                include: vec![code],
                exclude: vec![],
            };
            assert_eq!(on.verdict(&[code]), RegionVerdict::OptedIn(code), "{code}");
        }
    }

    #[test]
    fn common_regions_are_on_by_default_and_can_be_excluded() {
        let none = RegionRules::default();
        for code in [1, 44, 33, 49, 81, 61, 91, 55] {
            assert_eq!(none.verdict(&[code]), RegionVerdict::Allowed, "{code}");
        }
        let off = RegionRules {
            include: vec![],
            exclude: vec![44],
        };
        assert_eq!(off.verdict(&[44]), RegionVerdict::Blocked(44));
        assert_eq!(off.verdict(&[33]), RegionVerdict::Allowed);
    }

    #[test]
    fn every_area_code_of_a_listed_north_american_country_is_under_its_code() {
        let jamaica = |a: u16| a == 658 || a == 876;
        let none = RegionRules::default();
        let codes = nanp_region_codes("6582001234", &none, jamaica);
        assert_eq!(codes, vec![1658, 1876, 1]);
        assert_eq!(
            none.with_aliases(&[1658, 1876]).verdict(&codes),
            RegionVerdict::Blocked(1876)
        );
        assert_eq!(
            nanp_region_codes("8765550123", &none, jamaica),
            vec![1876, 1]
        );
        // Opting either area code in opts the country in; excluding one excludes both.
        for include in [1876, 1658] {
            let on = RegionRules {
                include: vec![include],
                exclude: vec![],
            };
            let codes = nanp_region_codes("6582001234", &on, jamaica);
            let group: Vec<u16> = codes.iter().copied().filter(|c| *c > 999).collect();
            assert_eq!(
                on.with_aliases(&group).verdict(&codes),
                RegionVerdict::OptedIn(1876),
                "{include}"
            );
        }
        let dominican = |a: u16| [809, 829, 849].contains(&a);
        let off = RegionRules {
            include: vec![],
            exclude: vec![1809],
        };
        let codes = nanp_region_codes("8495550123", &off, dominican);
        assert_eq!(codes, vec![1849, 1809, 1]);
        assert_eq!(
            off.with_aliases(&[1849, 1809]).verdict(&codes),
            RegionVerdict::Blocked(1849)
        );
        // Other countries' codes are not added, and a US number stays as it was.
        assert_eq!(
            nanp_region_codes("2025550123", &off, |_| false),
            vec![1202, 1]
        );
    }

    #[test]
    fn north_american_numbers_are_checked_by_area_prefix() {
        assert_eq!(region_codes(1, "8765550123"), vec![1876, 1]);
        assert_eq!(region_codes(44, "7700900123"), vec![44]);
        let none = RegionRules::default();
        assert_eq!(
            none.verdict(&region_codes(1, "8765550123")),
            RegionVerdict::Blocked(1876)
        );
        assert_eq!(
            none.verdict(&region_codes(1, "2025550123")),
            RegionVerdict::Allowed
        );
        let jamaica = RegionRules {
            include: vec![1876],
            exclude: vec![],
        };
        assert_eq!(
            jamaica.verdict(&region_codes(1, "8765550123")),
            RegionVerdict::OptedIn(1876)
        );
        let no_nanp = RegionRules {
            include: vec![1876],
            exclude: vec![1],
        };
        assert_eq!(
            no_nanp.verdict(&region_codes(1, "8765550123")),
            RegionVerdict::Blocked(1)
        );
    }
}
