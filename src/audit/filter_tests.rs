//! Unit tests of the `$filter` and `$top` parser: good and bad inputs.

use super::*;

fn summary() -> SignInSummary {
    SignInSummary {
        at: 1_795_000_000,
        user_id: Some("u-1".into()),
        user_principal_name: "ada@example.com".into(),
        app_id: "shop".into(),
        error_code: 50126,
        conditional_access_status: "notApplied".into(),
    }
}

fn matches(filter: &str) -> bool {
    Filter::parse(filter)
        .unwrap_or_else(|e| panic!("{filter}: {e:?}"))
        .matches(&summary())
}

fn code_of(filter: &str) -> String {
    Filter::parse(filter).unwrap_err().code
}

#[test]
fn each_supported_property_filters() {
    // 1_795_000_000 is 2026-11-18T11:06:40Z.
    assert!(matches("userId eq 'u-1'"));
    assert!(!matches("userId eq 'u-2'"));
    assert!(matches("userId ne 'u-2'"));
    assert!(matches("userPrincipalName eq 'ADA@example.com'"));
    assert!(!matches("userPrincipalName eq 'bob@example.com'"));
    assert!(matches("appId eq 'shop'"));
    assert!(!matches("appId eq 'bank'"));
    assert!(matches("status/errorCode ne 0"));
    assert!(!matches("status/errorCode eq 0"));
    assert!(matches("status/errorCode eq 50126"));
    assert!(matches("conditionalAccessStatus eq 'notapplied'"));
    assert!(!matches("conditionalAccessStatus eq 'success'"));
    assert!(matches("createdDateTime ge 2026-11-18T11:06:40Z"));
    assert!(!matches("createdDateTime gt 2026-11-18T11:06:40Z"));
    assert!(matches("createdDateTime le 2026-11-18T11:06:40Z"));
    assert!(!matches("createdDateTime lt 2026-11-18T11:06:40Z"));
    assert!(matches("createdDateTime eq 2026-11-18T12:06:40+01:00"));
    assert!(matches("createdDateTime ge 2026-11-18T11:06:39.5Z"));
    assert!(!matches("createdDateTime ge 2026-11-18T11:06:40.5Z"));
}

#[test]
fn and_joins_clauses_and_keywords_ignore_case() {
    assert!(matches(
        "appId eq 'shop' AND userId eq 'u-1' and createdDateTime GE 2026-01-01T00:00:00Z"
    ));
    assert!(!matches("appId eq 'shop' and userId eq 'u-2'"));
    assert!(matches("  appId   Eq 'shop'  "));
}

#[test]
fn doubled_quotes_are_one_quote() {
    let f = Filter::parse("userPrincipalName eq 'o''brien@example.com'").unwrap();
    let mut s = summary();
    s.user_principal_name = "o'brien@example.com".into();
    assert!(f.matches(&s));
}

#[test]
fn refuses_what_it_does_not_support_by_name() {
    for (filter, code) in [
        ("appId eq 'a' or appId eq 'b'", "signIns.query_unsupported"),
        ("not appId eq 'a'", "signIns.query_unsupported"),
        ("(appId eq 'a')", "signIns.query_unsupported"),
        ("startswith(appId, 'a')", "signIns.query_unsupported"),
        ("ipAddress eq '1.2.3.4'", "signIns.query_unsupported"),
        ("appId gt 'a'", "signIns.query_unsupported"),
        ("status/errorCode ge 1", "signIns.query_unsupported"),
        ("", "signIns.filter_invalid"),
        ("appId", "signIns.filter_invalid"),
        ("appId eq", "signIns.filter_invalid"),
        ("appId eq shop", "signIns.filter_invalid"),
        ("appId eq 'shop", "signIns.filter_invalid"),
        ("appId has 'shop'", "signIns.filter_invalid"),
        ("appId eq 'a' appId eq 'b'", "signIns.filter_invalid"),
        ("appId eq 'a' and", "signIns.filter_invalid"),
        ("status/errorCode eq '0'", "signIns.filter_invalid"),
        ("status/errorCode eq -1", "signIns.filter_invalid"),
        (
            "createdDateTime ge '2026-01-01T00:00:00Z'",
            "signIns.filter_invalid",
        ),
        ("createdDateTime ge 2026-01-01", "signIns.filter_invalid"),
        (
            "conditionalAccessStatus eq 'maybe'",
            "signIns.filter_invalid",
        ),
    ] {
        assert_eq!(code_of(filter), code, "{filter}");
    }
    let e = Filter::parse("ipAddress eq '1.2.3.4'").unwrap_err();
    assert!(e.message.contains("`ipAddress`"), "{}", e.message);
    assert_eq!(e.target.as_deref(), Some("$filter"));
}

#[test]
fn limits_length_and_clause_count() {
    let long = format!("appId eq '{}'", "a".repeat(MAX_FILTER_LEN));
    assert_eq!(code_of(&long), "signIns.filter_invalid");
    let many = vec!["appId eq 'a'"; MAX_CLAUSES + 1].join(" and ");
    assert_eq!(code_of(&many), "signIns.filter_invalid");
    let enough = vec!["appId eq 'shop'"; MAX_CLAUSES].join(" and ");
    assert!(matches(&enough));
}

#[test]
fn a_scan_may_stop_once_records_are_older_than_the_lower_bound() {
    let f = Filter::parse("createdDateTime ge 2026-11-18T11:06:40Z").unwrap();
    assert!(!f.too_old(1_795_000_000));
    assert!(f.too_old(1_794_999_999));
    let f = Filter::parse("createdDateTime le 2026-11-18T11:06:40Z").unwrap();
    assert!(!f.too_old(0), "an upper bound never stops the scan");
    assert!(!Filter::default().too_old(0));
}

#[test]
fn query_reads_top_and_refuses_other_options() {
    let q = Query::from_params([("$top", "5"), ("$filter", "appId eq 'shop'")]).unwrap();
    assert_eq!(q.top, 5);
    assert!(q.filter.matches(&summary()));
    assert_eq!(Query::from_params([]).unwrap().top, DEFAULT_TOP);
    for bad in ["0", "1001", "x", "-1"] {
        assert_eq!(
            Query::from_params([("$top", bad)]).unwrap_err().code,
            "signIns.top_invalid"
        );
    }
    assert!(Query::from_params([("$orderby", "createdDateTime desc")]).is_ok());
    for (k, v) in [
        ("$orderby", "createdDateTime asc"),
        ("$skip", "10"),
        ("$select", "id"),
    ] {
        assert_eq!(
            Query::from_params([(k, v)]).unwrap_err().code,
            "signIns.query_unsupported",
            "{k}"
        );
    }
    assert!(Query::from_params([("api-version", "1")]).is_ok());
    // A repeated option is refused, not resolved by taking the last one.
    for k in ["$filter", "$top"] {
        let v = if k == "$top" { "5" } else { "appId eq 'shop'" };
        assert_eq!(
            Query::from_params([(k, v), (k, v)]).unwrap_err().code,
            "signIns.query_unsupported",
            "{k}"
        );
    }
}

#[test]
fn skiptoken_is_read_into_the_query_or_refused() {
    let position = crate::audit::paging::Position {
        cursor: Some("kv-cursor".into()),
        after: "8204999999876-018f0000-0000-7000-8000-000000000000".into(),
    };
    let token = position.token();
    let q = Query::from_params([("$top", "2"), ("$skiptoken", token.as_str())]).unwrap();
    assert_eq!((q.top, q.skip), (2, Some(position)));
    assert_eq!(Query::from_params([]).unwrap().skip, None);
    assert_eq!(
        Query::from_params([("$skiptoken", "forged")])
            .unwrap_err()
            .code,
        "signIns.skiptoken_invalid"
    );
    assert_eq!(
        Query::from_params([
            ("$skiptoken", token.as_str()),
            ("$skiptoken", token.as_str())
        ])
        .unwrap_err()
        .code,
        "signIns.query_unsupported"
    );
}
