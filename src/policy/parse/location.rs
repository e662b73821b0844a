//! `namedLocation`: IP ranges (with `isTrusted`) or countries.

use super::{
    Problems, boolean, field, id, known_fields, object, odata_type, required_string, string,
    strings,
};
use crate::error::ErrorBody;
use crate::policy::cidr::Cidr;
use crate::policy::err;
use crate::policy::model::{LocationKind, NamedLocation};
use serde_json::Value;

/// At most this many IP ranges per named location (documented limit).
pub const MAX_IP_RANGES: usize = 2000;

const IP_TYPE: &str = "#microsoft.graph.ipNamedLocation";
const COUNTRY_TYPE: &str = "#microsoft.graph.countryNamedLocation";

/// Parses one named location at `path` (empty on its own). The id may be absent (a
/// location about to be created); a policy set requires it.
pub fn parse_named_location(value: &Value, path: &str) -> Result<NamedLocation, Vec<ErrorBody>> {
    let mut p = Problems::default();
    match named_location(value, path, &mut p) {
        Some(loc) if p.0.is_empty() => Ok(loc),
        _ => Err(p.0),
    }
}

pub(crate) fn named_location(value: &Value, path: &str, p: &mut Problems) -> Option<NamedLocation> {
    let map = object(value, path, p)?;
    let before = p.len();
    let type_path = err::key(path, "@odata.type");
    let kind = match string(map, "@odata.type", path, p) {
        None => {
            p.push(
                err::MISSING_FIELD,
                &type_path,
                format!("`@odata.type` is required: `{IP_TYPE}` or `{COUNTRY_TYPE}`"),
            );
            return None;
        }
        Some(t) => odata_type(map, path, &[IP_TYPE, COUNTRY_TYPE], p).map(|i| (i, t))?,
    };
    let common = [
        "@odata.type",
        super::ODATA_CONTEXT,
        "id",
        "displayName",
        "createdDateTime",
        "modifiedDateTime",
    ];
    let loc_id = string(map, "id", path, p).and_then(|s| id(s, &err::key(path, "id"), p));
    let display_name = required_string(map, "displayName", path, p).unwrap_or_default();
    for name in [super::ODATA_CONTEXT, "createdDateTime", "modifiedDateTime"] {
        string(map, name, path, p);
    }
    let kind = if kind.0 == 0 {
        let mut known = common.to_vec();
        known.extend(["ipRanges", "isTrusted"]);
        known_fields(map, path, &known, p);
        ip_location(map, path, p)
    } else {
        let mut known = common.to_vec();
        known.extend([
            "countriesAndRegions",
            "includeUnknownCountriesAndRegions",
            "countryLookupMethod",
        ]);
        known_fields(map, path, &known, p);
        country_location(map, path, p)
    };
    if p.len() > before {
        return None;
    }
    Some(NamedLocation {
        id: loc_id,
        display_name: display_name.to_string(),
        kind: kind?,
    })
}

fn ip_location(
    map: &serde_json::Map<String, Value>,
    path: &str,
    p: &mut Problems,
) -> Option<LocationKind> {
    let trusted = boolean(map, "isTrusted", path, p).unwrap_or(false);
    let ranges_path = err::key(path, "ipRanges");
    let items = match field(map, "ipRanges") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(Value::Array(_)) | None => {
            p.push(
                err::MISSING_FIELD,
                &ranges_path,
                "`ipRanges` needs at least one range",
            );
            return None;
        }
        Some(other) => {
            p.push(
                err::INVALID_TYPE,
                &ranges_path,
                format!("expected an array, found {}", super::kind(other)),
            );
            return None;
        }
    };
    if items.len() > MAX_IP_RANGES {
        p.push(
            err::LIMIT_EXCEEDED,
            &ranges_path,
            format!("at most {MAX_IP_RANGES} ip ranges are allowed"),
        );
        return None;
    }
    let mut ranges = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = err::index(&ranges_path, i);
        let Some(range) = object(item, &at, p) else {
            continue;
        };
        known_fields(range, &at, &["@odata.type", "cidrAddress"], p);
        let family = odata_type(
            range,
            &at,
            &[
                "#microsoft.graph.iPv4CidrRange",
                "#microsoft.graph.iPv6CidrRange",
            ],
            p,
        );
        let cidr_path = err::key(&at, "cidrAddress");
        let Some(text) = required_string(range, "cidrAddress", &at, p) else {
            continue;
        };
        match Cidr::parse(text) {
            Err(why) => p.push(
                err::INVALID_CIDR,
                &cidr_path,
                format!("invalid cidr range: {why}"),
            ),
            Ok(cidr) if family.is_some_and(|f| (f == 0) != cidr.is_v4()) => {
                p.push(
                    err::INVALID_CIDR,
                    &cidr_path,
                    format!("`{text}` does not match the declared `@odata.type`"),
                );
            }
            Ok(cidr) if cidr.prefix() <= 8 => {
                p.push(
                    err::INVALID_CIDR,
                    &cidr_path,
                    format!("`{text}` is too wide: the mask must be longer than /8"),
                );
            }
            // Checked as written (family, /8 limit), matched as normalised.
            Ok(cidr) => ranges.push(cidr.normalized()),
        }
    }
    Some(LocationKind::Ip { ranges, trusted })
}

fn country_location(
    map: &serde_json::Map<String, Value>,
    path: &str,
    p: &mut Problems,
) -> Option<LocationKind> {
    let include_unknown =
        boolean(map, "includeUnknownCountriesAndRegions", path, p).unwrap_or(false);
    if let Some(method) = string(map, "countryLookupMethod", path, p) {
        let at = err::key(path, "countryLookupMethod");
        if method.eq_ignore_ascii_case("authenticatorAppGps") {
            p.push(
                err::UNSUPPORTED_VALUE,
                &at,
                "`authenticatorAppGps` is not supported; use `clientIpAddress`",
            );
        } else if !method.eq_ignore_ascii_case("clientIpAddress") {
            p.push(
                err::INVALID_VALUE,
                &at,
                format!("`{method}` is not valid; expected `clientIpAddress`"),
            );
        }
    }
    let list_path = err::key(path, "countriesAndRegions");
    if field(map, "countriesAndRegions").is_none() {
        p.push(
            err::MISSING_FIELD,
            &list_path,
            "`countriesAndRegions` is required",
        );
        return None;
    }
    let mut countries = Vec::new();
    for (i, code) in strings(map, "countriesAndRegions", path, p) {
        if code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic()) {
            countries.push(code.to_ascii_uppercase());
        } else {
            p.push(
                err::INVALID_VALUE,
                &err::index(&list_path, i),
                format!("`{code}` is not a two-letter iso 3166 country code"),
            );
        }
    }
    if countries.is_empty() && !include_unknown {
        p.push(
            err::INVALID_VALUE,
            &list_path,
            "a country location needs at least one country or unknown countries",
        );
    }
    Some(LocationKind::Country {
        countries,
        include_unknown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn codes(v: Value) -> Vec<(String, Option<String>)> {
        parse_named_location(&v, "")
            .unwrap_err()
            .into_iter()
            .map(|e| (e.code, e.target))
            .collect()
    }

    #[test]
    fn graph_examples_parse() {
        let ip = json!({
            "@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "Untrusted", "isTrusted": false,
            "ipRanges": [
                {"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "12.34.221.11/22"},
                {"@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "2001:0:9d38:90d6:0:0:0:0/63"}
            ]
        });
        let loc = parse_named_location(&ip, "").unwrap();
        assert!(
            matches!(loc.kind, LocationKind::Ip { ref ranges, trusted: false } if ranges.len() == 2)
        );
        let country = json!({
            "@odata.type": "#microsoft.graph.countryNamedLocation", "id": "1C4427FD-0885-4a3d-8b23-09a899ffa959",
            "displayName": "Named location with unknown countries and regions",
            "countriesAndRegions": ["US", "gb"], "includeUnknownCountriesAndRegions": true
        });
        let loc = parse_named_location(&country, "").unwrap();
        assert_eq!(
            loc.id.as_deref(),
            Some("1c4427fd-0885-4a3d-8b23-09a899ffa959")
        );
        assert!(loc.contains(None, Some("GB")) && loc.contains(None, None));
    }

    #[test]
    fn problems_name_their_paths() {
        let bad = json!({
            "@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "x", "colour": 1,
            "ipRanges": [
                {"@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "10.0.0.0/16"},
                {"cidrAddress": "10.0.0.0/8"},
                {"cidrAddress": "nope"}
            ]
        });
        assert_eq!(
            codes(bad),
            vec![
                (err::UNKNOWN_FIELD.into(), Some("colour".into())),
                (
                    err::INVALID_CIDR.into(),
                    Some("ipRanges[0].cidrAddress".into())
                ),
                (
                    err::INVALID_CIDR.into(),
                    Some("ipRanges[1].cidrAddress".into())
                ),
                (
                    err::INVALID_CIDR.into(),
                    Some("ipRanges[2].cidrAddress".into())
                ),
            ]
        );
        let gps = json!({
            "@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "x",
            "countriesAndRegions": ["USA"], "countryLookupMethod": "authenticatorAppGps"
        });
        let found = codes(gps);
        assert!(found.contains(&(
            err::UNSUPPORTED_VALUE.into(),
            Some("countryLookupMethod".into())
        )));
        assert!(found.contains(&(
            err::INVALID_VALUE.into(),
            Some("countriesAndRegions[0]".into())
        )));
        assert_eq!(
            codes(json!({"displayName": "x"})),
            vec![(err::MISSING_FIELD.into(), Some("@odata.type".into()))]
        );
    }
}
