//! Local accounts as Graph `user` objects, and their registered second factors as Graph
//! `phoneAuthenticationMethod` / `emailAuthenticationMethod`: the projection, the PATCH
//! rules, and the paging parameters of `GET /users`.
//!
//! `accountEnabled` is the record's `lockout.disabled`, negated: the lockout hard limit and
//! an administrator's disable are one flag, so re-enabling an account also clears its
//! failure count and any wait. The user's personal data (email, phone, name) appears only in
//! these admin responses; nothing here logs.

use super::flow_document::{Refusal, body_object};
use crate::error::ErrorBody;
use crate::flow::user::{Lockout, StrongMethod};
use crate::flow::{Channel, UserRecord};
use crate::pii::Pii;
use crate::time::Timestamp;
use serde_json::{Value, json};

/// Users per page: each one is a KV read, and a Worker invocation has a budget of
/// subrequests, so pages stay well below Graph's 999.
pub const MAX_PAGE: usize = 100;
/// Largest `$top` accepted, Graph's: scripts ask for `$top=999` to get "as many as you
/// can". A page still holds at most [`MAX_PAGE`]; the rest follow through
/// `@odata.nextLink`, as Graph's server-driven paging allows.
pub const MAX_TOP: usize = 999;
/// Longest `displayName` accepted (Graph's limit).
pub const MAX_DISPLAY_NAME: usize = 256;

/// Whether `id` can be a user id (the engine's ids are UUIDs); anything else is a 404
/// without a KV read, and cannot reach into another key.
pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A user as Graph returns it. `issuer` is the tenant's name, Graph's issuer of local
/// (email) identities.
pub fn to_graph(user: &UserRecord, issuer: &str) -> Value {
    json!({
        "id": user.id,
        "displayName": user.display_name.as_ref().map(|n| n.expose().clone()),
        "mail": user.email.expose(),
        "identities": [{
            "signInType": "emailAddress",
            "issuer": issuer,
            "issuerAssignedId": user.email.expose(),
        }],
        "creationType": "LocalAccount",
        "createdDateTime": super::rfc3339::format(user.created_at),
        "accountEnabled": !user.lockout.disabled,
    })
}

/// Graph properties of a user that exist but cannot be changed here.
const NOT_SETTABLE: &[&str] = &[
    "mail",
    "identities",
    "createdDateTime",
    "creationType",
    "passwordProfile",
    "userPrincipalName",
    "otherMails",
    "mobilePhone",
    "givenName",
    "surname",
];

/// `PATCH /users/{id}`: `accountEnabled` and `displayName`. Re-enabling stamps the clear
/// with `now`, which outdates the copy of the lockout in the account's guard object
/// (the Worker also tells the object, see [`crate::guard::password`]).
pub fn patch(user: &UserRecord, body: Value, now: Timestamp) -> Result<UserRecord, Refusal> {
    let changes = body_object(body, &["id"])?;
    let mut next = user.clone();
    let mut problems = Vec::new();
    for (key, value) in changes {
        match (key.as_str(), value) {
            ("accountEnabled", Value::Bool(enabled)) => {
                if enabled {
                    // Back in service, with a clean slate of failures.
                    next.lockout = Lockout {
                        cleared_at: Some(now),
                        enabled_at: Some(now),
                        ..Lockout::default()
                    };
                } else {
                    next.lockout.disabled = true;
                }
            }
            ("accountEnabled", _) => problems.push(
                ErrorBody::new("admin.invalid_value", "must be `true` or `false`")
                    .at("accountEnabled"),
            ),
            ("displayName", Value::Null) => next.display_name = None,
            ("displayName", Value::String(name)) => {
                let name = name.trim();
                if name.is_empty() || name.chars().count() > MAX_DISPLAY_NAME {
                    problems.push(
                        ErrorBody::new(
                            "admin.invalid_value",
                            format!("must be 1 to {MAX_DISPLAY_NAME} characters, or null"),
                        )
                        .at("displayName"),
                    );
                } else {
                    next.display_name = Some(Pii::new(name.to_string()));
                }
            }
            ("displayName", _) => problems.push(
                ErrorBody::new("admin.invalid_value", "must be a string or null").at("displayName"),
            ),
            (other, _) => {
                let message = if NOT_SETTABLE.contains(&other) {
                    format!(
                        "`{other}` cannot be changed here; only `accountEnabled` and `displayName` can"
                    )
                } else {
                    format!("`{other}` is not a user property this service stores")
                };
                problems.push(ErrorBody::new("admin.unsupported_property", message).at(other));
            }
        }
    }
    if problems.is_empty() {
        Ok(next)
    } else {
        Err(Refusal::Invalid(problems))
    }
}

/// `GET /users/{id}/authentication/phoneMethods` or `…/emailMethods`.
pub fn methods_view(user: &UserRecord, channel: Channel) -> Value {
    let value: Vec<Value> = user
        .strong_methods
        .iter()
        .filter(|m| m.channel == channel)
        .map(method_json)
        .collect();
    json!({ "value": value })
}

/// One registered method in Graph's shape for its channel.
fn method_json(m: &StrongMethod) -> Value {
    match m.channel {
        Channel::Sms => json!({
            "id": m.id,
            "phoneNumber": m.target.expose(),
            "phoneType": "mobile",
            // SMS is never a first factor in this engine.
            "smsSignInState": "notSupported",
        }),
        Channel::Email => json!({"id": m.id, "emailAddress": m.target.expose()}),
    }
}

/// `GET /users/{id}/authentication/methods`: every method, typed as Graph types them
/// (the password first, for accounts that have one; Graph's fixed id for it).
pub fn all_methods_view(user: &UserRecord) -> Value {
    let mut value = Vec::new();
    if user.password_hash.is_some() {
        value.push(json!({
            "@odata.type": "#microsoft.graph.passwordAuthenticationMethod",
            "id": PASSWORD_METHOD_ID,
            "createdDateTime": user.password_changed_at.map(super::rfc3339::format),
        }));
    }
    for channel in [Channel::Email, Channel::Sms] {
        let odata_type = match channel {
            Channel::Email => "#microsoft.graph.emailAuthenticationMethod",
            Channel::Sms => "#microsoft.graph.phoneAuthenticationMethod",
        };
        for m in user.strong_methods.iter().filter(|m| m.channel == channel) {
            let mut item = method_json(m);
            if let Some(map) = item.as_object_mut() {
                map.insert("@odata.type".into(), json!(odata_type));
            }
            value.push(item);
        }
    }
    json!({ "value": value })
}

/// The id Graph gives every user's password method.
pub const PASSWORD_METHOD_ID: &str = "28c10230-6103-485e-b985-444c60001490";

/// One method of `methods_view`.
pub fn method_view(user: &UserRecord, channel: Channel, id: &str) -> Option<Value> {
    methods_view(user, channel)
        .get("value")
        .and_then(Value::as_array)
        .and_then(|list| list.iter().find(|m| m["id"] == id).cloned())
}

/// `DELETE …/phoneMethods/{id}`: the user registers a second factor again when one is
/// next required.
pub fn remove_method(user: &UserRecord, channel: Channel, id: &str) -> Result<UserRecord, Refusal> {
    let mut next = user.clone();
    let before = next.strong_methods.len();
    next.strong_methods
        .retain(|m| !(m.id == id && m.channel == channel));
    if next.strong_methods.len() == before {
        return Err(Refusal::NotFound);
    }
    Ok(next)
}

/// The page of `GET /users`: how many, and where to continue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Users on this page.
    pub top: usize,
    /// The KV list cursor of the previous page's `@odata.nextLink`.
    pub skip_token: Option<String>,
    /// `$filter`: the one account asked for, by its address ([`super::user_filter`]).
    pub filter: Option<super::user_filter::EmailFilter>,
}

/// Longest `$skiptoken` read (a KV list cursor is far shorter).
const MAX_SKIP_TOKEN: usize = 1024;

/// Reads `$top`, `$skiptoken` and `$filter` (an account by its address). Other filters,
/// `$search`, `$orderby` and `$skip` are refused rather than ignored: answering them with
/// every user would be wrong data. Graph reads the options without their `$` and in any
/// case, so this does too ([`super::query`]).
pub fn page(query: &[(String, String)]) -> Result<Page, Refusal> {
    let mut page = Page {
        top: MAX_PAGE,
        skip_token: None,
        filter: None,
    };
    for (k, v) in query {
        let option = k.strip_prefix('$').unwrap_or(k).to_ascii_lowercase();
        match option.as_str() {
            "top" => {
                page.top = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_TOP).contains(n))
                    .map(|n| n.min(MAX_PAGE))
                    .ok_or_else(|| {
                        Refusal::invalid(
                            "admin.invalid_query",
                            format!("`$top` must be 1 to {MAX_TOP}"),
                            "$top",
                        )
                    })?;
            }
            "skiptoken" if !v.is_empty() => {
                // Our tokens are KV list cursors: short printable ASCII. Anything else
                // was not issued here, and would otherwise read as an empty last page.
                let issued = v.len() <= MAX_SKIP_TOKEN && v.bytes().all(|b| b.is_ascii_graphic());
                if !issued {
                    return Err(Refusal::invalid(
                        "admin.invalid_query",
                        "`$skiptoken` is not one this service issued; follow `@odata.nextLink` or start from the first page",
                        "$skiptoken",
                    ));
                }
                page.skip_token = Some(v.clone());
            }
            "filter" => page.filter = Some(super::user_filter::parse(v)?),
            "search" | "orderby" | "skip" => {
                return Err(Refusal::invalid(
                    "admin.invalid_query",
                    format!("`{k}` is not supported on users; page through the list instead"),
                    k,
                ));
            }
            _ => {}
        }
    }
    Ok(page)
}

/// The `@odata.nextLink` for the page after `cursor`; `base` is the request URL without
/// its query.
pub fn next_link(base: &str, top: usize, cursor: &str) -> String {
    let token: String = form_urlencoded::byte_serialize(cursor.as_bytes()).collect();
    format!("{base}?$top={top}&$skiptoken={token}")
}

/// `GET /users` response.
pub fn list_view(users: Vec<Value>, next: Option<String>) -> Value {
    let mut out = json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
        "value": users,
    });
    if let (Some(link), Some(map)) = (next, out.as_object_mut()) {
        map.insert("@odata.nextLink".into(), Value::String(link));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;

    fn user() -> UserRecord {
        UserRecord {
            id: "0b7e5e0e-1111-4222-8333-444455556666".into(),
            email: Pii::new("ada@example.com".into()),
            password_hash: None,
            display_name: Some(Pii::new("Ada".into())),
            attributes: Default::default(),
            groups: vec![],
            strong_methods: vec![
                StrongMethod {
                    id: "m-sms".into(),
                    channel: Channel::Sms,
                    target: Pii::new("+15550001111".into()),
                    registered_at: Timestamp(5),
                },
                StrongMethod {
                    id: "m-mail".into(),
                    channel: Channel::Email,
                    target: Pii::new("ada@example.com".into()),
                    registered_at: Timestamp(6),
                },
            ],
            lockout: Lockout {
                consecutive_failures: 3,
                locked_until: Some(Timestamp(99)),
                disabled: false,
                cleared_at: None,
                enabled_at: None,
            },
            created_at: Timestamp(1_795_448_400),
            password_changed_at: None,
        }
    }

    #[test]
    fn the_graph_shape() {
        let g = to_graph(&user(), "contoso");
        assert_eq!(g["mail"], "ada@example.com");
        assert_eq!(g["displayName"], "Ada");
        assert_eq!(g["identities"][0]["signInType"], "emailAddress");
        assert_eq!(g["identities"][0]["issuer"], "contoso");
        assert_eq!(g["identities"][0]["issuerAssignedId"], "ada@example.com");
        assert_eq!(g["createdDateTime"], "2026-11-23T15:40:00Z");
        assert_eq!(g["accountEnabled"], true);
        let text = format!("{:?}", user());
        assert!(!text.contains("ada@"), "debug output redacts");
    }

    #[test]
    fn disabling_and_enabling() {
        let off = patch(
            &user(),
            json!({"accountEnabled": false, "displayName": "  Ada L  "}),
            Timestamp(500),
        )
        .unwrap();
        assert!(off.lockout.disabled);
        assert_eq!(
            off.lockout.consecutive_failures, 3,
            "disabling keeps the count"
        );
        assert_eq!(to_graph(&off, "t")["accountEnabled"], false);
        assert_eq!(to_graph(&off, "t")["displayName"], "Ada L");
        assert_eq!(off.lockout.cleared_at, None, "disabling clears nothing");
        let on = patch(
            &off,
            json!({"accountEnabled": true, "displayName": null}),
            Timestamp(600),
        )
        .unwrap();
        assert!(on.lockout.is_clear());
        assert_eq!(on.lockout.cleared_at, Some(Timestamp(600)));
        assert_eq!(to_graph(&on, "t")["displayName"], Value::Null);
    }

    #[test]
    fn other_properties_are_refused_each_with_its_path() {
        let Err(Refusal::Invalid(p)) = patch(
            &user(),
            json!({"accountEnabled": "no", "mail": "x@example.com", "favouriteColour": "red", "displayName": ""}),
            Timestamp(1),
        ) else {
            panic!("refused")
        };
        let got: Vec<(&str, &str)> = p
            .iter()
            .map(|e| (e.code.as_str(), e.target.as_deref().unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                ("admin.invalid_value", "accountEnabled"),
                ("admin.unsupported_property", "mail"),
                ("admin.unsupported_property", "favouriteColour"),
                ("admin.invalid_value", "displayName"),
            ]
        );
        assert!(matches!(
            patch(&user(), json!({"id": "other"}), Timestamp(1)),
            Err(Refusal::Invalid(ref p)) if p[0].code == "admin.read_only_field"
        ));
    }

    #[test]
    fn phone_methods_are_listed_and_removed() {
        let u = user();
        let phones = methods_view(&u, Channel::Sms);
        assert_eq!(phones["value"].as_array().unwrap().len(), 1);
        assert_eq!(phones["value"][0]["phoneNumber"], "+15550001111");
        assert_eq!(methods_view(&u, Channel::Email)["value"][0]["id"], "m-mail");
        assert!(method_view(&u, Channel::Sms, "m-mail").is_none());
        let all = all_methods_view(&u);
        let types: Vec<&str> = all["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["@odata.type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "#microsoft.graph.emailAuthenticationMethod",
                "#microsoft.graph.phoneAuthenticationMethod"
            ],
            "no password method for an account without a password"
        );
        assert_eq!(
            remove_method(&u, Channel::Sms, "m-mail").unwrap_err(),
            Refusal::NotFound
        );
        let left = remove_method(&u, Channel::Sms, "m-sms").unwrap();
        assert!(
            methods_view(&left, Channel::Sms)["value"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        assert_eq!(left.strong_methods.len(), 1);
    }

    #[test]
    fn paging_parameters() {
        let q = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(page(&q(&[])).unwrap().top, MAX_PAGE);
        // Graph's whole range is accepted; a page holds at most MAX_PAGE.
        for (top, served) in [("1", 1), ("100", 100), ("101", MAX_PAGE), ("999", MAX_PAGE)] {
            assert_eq!(page(&q(&[("$top", top)])).unwrap().top, served, "{top}");
        }
        let p = page(&q(&[
            ("$top", "2"),
            ("$skiptoken", "abc"),
            ("$select", "id"),
        ]))
        .unwrap();
        assert_eq!(
            p,
            Page {
                top: 2,
                skip_token: Some("abc".into()),
                filter: None,
            }
        );
        let by_mail = page(&q(&[("$filter", "mail eq 'ada@example.com'")])).unwrap();
        assert_eq!(
            by_mail.filter.map(|f| f.email).as_deref(),
            Some("ada@example.com")
        );
        for bad in [
            ("$top", "0"),
            ("$top", "1000"),
            ("$top", "x"),
            ("$filter", "a eq 'b'"),
            ("$skiptoken", "a\u{0}b"),
            ("$skiptoken", "caf\u{e9}"),
            ("$skiptoken", "with space"),
        ] {
            assert!(
                matches!(page(&q(&[bad])), Err(Refusal::Invalid(_))),
                "{bad:?}"
            );
        }
        let long = "z".repeat(MAX_SKIP_TOKEN + 1);
        assert!(page(&q(&[("$skiptoken", long.as_str())])).is_err());
        assert_eq!(
            next_link("https://id.example/v1.0/users", 2, "a+b/c="),
            "https://id.example/v1.0/users?$top=2&$skiptoken=a%2Bb%2Fc%3D"
        );
        assert!(list_view(vec![], None).get("@odata.nextLink").is_none());
    }

    /// Graph reads query options without their `$` and in any case: a filter written so
    /// must not be ignored (every user answered, and a script acting on `value[0]` acts
    /// on the wrong account), nor may `$skip`, `$search` or `$orderby`.
    #[test]
    fn options_without_their_dollar_or_in_another_case_are_read_or_refused() {
        let q = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        for key in ["filter", "$FILTER", "$Filter"] {
            let p = page(&q(&[(key, "mail eq 'ada@example.com'")])).unwrap();
            assert_eq!(
                p.filter.map(|f| f.email).as_deref(),
                Some("ada@example.com"),
                "{key}"
            );
            assert!(page(&q(&[(key, "displayName eq 'Ada'")])).is_err(), "{key}");
        }
        for key in ["$skip", "skip", "search", "$ORDERBY", "orderby"] {
            assert!(
                matches!(page(&q(&[(key, "1")])), Err(Refusal::Invalid(_))),
                "{key}"
            );
        }
        assert_eq!(page(&q(&[("top", "2")])).unwrap().top, 2);
        assert_eq!(
            page(&q(&[("SkipToken", "abc")]))
                .unwrap()
                .skip_token
                .as_deref(),
            Some("abc")
        );
    }

    #[test]
    fn ids_that_cannot_be_user_ids() {
        assert!(valid_id("0b7e5e0e-1111-4222-8333-444455556666"));
        for bad in ["", "a/b", "..", "a b", &"x".repeat(65)] {
            assert!(!valid_id(bad), "{bad}");
        }
    }
}
