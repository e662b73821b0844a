//! `GET /users?$filter=…`: finding a customer's account by the address they sign in with.
//!
//! Support staff start from an email address, and paging through every account to find
//! one does not scale. Graph finds a local account two ways, and both are served here,
//! from the email index (current, unlike the eventually consistent listing):
//! - `identities/any(c:c/issuerAssignedId eq 'zoe@example.com' and c/issuer eq
//!   'contoso')`, the form Graph documents for External ID and B2C local accounts;
//! - `mail eq 'zoe@example.com'`.
//!
//! Any other filter is refused with a 400 naming these forms: answering it with every
//! user would be wrong data.

use super::flow_document::Refusal;

/// The one account a filter asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailFilter {
    /// The address, as written in the filter (the lookup normalizes it).
    pub email: String,
    /// The identity's issuer the filter requires, if any: only accounts of that issuer
    /// (this tenant) match.
    pub issuer: Option<String>,
}

/// Reads a `$filter` value.
pub fn parse(filter: &str) -> Result<EmailFilter, Refusal> {
    mail_eq(filter.trim())
        .or_else(|| identities_any(filter.trim()))
        .ok_or_else(|| {
            Refusal::invalid(
                "admin.invalid_query",
                "`$filter` on users supports `mail eq '…'` and \
                 `identities/any(c:c/issuerAssignedId eq '…' and c/issuer eq '…')`; page \
                 through the list for anything else",
                "$filter",
            )
        })
}

fn mail_eq(f: &str) -> Option<EmailFilter> {
    let rest = f.strip_prefix("mail")?.trim_start().strip_prefix("eq ")?;
    let (email, rest) = quoted(rest.trim_start())?;
    rest.trim().is_empty().then_some(EmailFilter {
        email,
        issuer: None,
    })
}

/// `identities/any(v:v/issuerAssignedId eq '…' and v/issuer eq '…')`, clauses in either
/// order.
fn identities_any(f: &str) -> Option<EmailFilter> {
    let body = f.strip_prefix("identities/any(")?.strip_suffix(')')?;
    let (var, body) = body.split_once(':')?;
    let var = var.trim();
    if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let (first, value_1, rest) = clause(body.trim_start(), var)?;
    let rest = rest.trim_start().strip_prefix("and ")?;
    let (second, value_2, rest) = clause(rest.trim_start(), var)?;
    if !rest.trim().is_empty() {
        return None;
    }
    match (first, second) {
        ("issuerAssignedId", "issuer") => Some(EmailFilter {
            email: value_1,
            issuer: Some(value_2),
        }),
        ("issuer", "issuerAssignedId") => Some(EmailFilter {
            email: value_2,
            issuer: Some(value_1),
        }),
        _ => None,
    }
}

/// `var/name eq 'value'` at the start of `s`: the name, the value, and what follows.
fn clause<'a>(s: &'a str, var: &str) -> Option<(&'a str, String, &'a str)> {
    let s = s.strip_prefix(var)?.strip_prefix('/')?;
    let (name, rest) = s.split_once(' ')?;
    let rest = rest.trim_start().strip_prefix("eq ")?;
    let (value, rest) = quoted(rest.trim_start())?;
    Some((name, value, rest))
}

/// An OData string literal at the start of `s` (`''` is a quote): its value and the rest.
fn quoted(s: &str) -> Option<(String, &str)> {
    let mut chars = s.strip_prefix('\'')?.char_indices().peekable();
    let body = s.get(1..)?;
    let mut value = String::new();
    while let Some((i, c)) = chars.next() {
        if c != '\'' {
            value.push(c);
            continue;
        }
        if chars.peek().map(|&(_, next)| next) == Some('\'') {
            chars.next();
            value.push('\'');
            continue;
        }
        return Some((value, body.get(i + 1..)?));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(f: &str) -> (String, Option<String>) {
        let p = parse(f).unwrap();
        (p.email, p.issuer)
    }

    #[test]
    fn both_graph_forms_name_one_address() {
        assert_eq!(
            email("mail eq 'zoe@example.com'"),
            ("zoe@example.com".into(), None)
        );
        let want = ("zoe@example.com".to_string(), Some("contoso".to_string()));
        assert_eq!(
            email(
                "identities/any(c:c/issuerAssignedId eq 'zoe@example.com' and c/issuer eq 'contoso')"
            ),
            want
        );
        assert_eq!(
            email(
                "identities/any(x:x/issuer eq 'contoso' and x/issuerAssignedId eq 'zoe@example.com')"
            ),
            want
        );
        // A quote in the address is doubled, as OData writes it.
        assert_eq!(
            email("mail eq 'o''brien@example.com'").0,
            "o'brien@example.com"
        );
    }

    #[test]
    fn any_other_filter_is_refused_with_the_forms_it_supports() {
        for f in [
            "",
            "displayName eq 'Zoe'",
            "startswith(mail,'zoe')",
            "mail eq 'zoe@example.com' or mail eq 'x@example.com'",
            "mail eq zoe@example.com",
            "mail eq 'unterminated",
            "identities/any(c:c/issuerAssignedId eq 'a@example.com')",
            "identities/any(c:d/issuerAssignedId eq 'a@example.com' and d/issuer eq 't')",
            "identities/any(c:c/issuer eq 't' and c/issuer eq 'u')",
            "identities/any(c:c/issuerAssignedId eq 'a@example.com' and c/issuer eq 't') extra",
        ] {
            let Err(Refusal::Invalid(problems)) = parse(f) else {
                panic!("accepted: {f}");
            };
            assert!(
                problems.iter().any(
                    |p| p.target.as_deref() == Some("$filter") && p.message.contains("mail eq")
                ),
                "{f}: {problems:?}"
            );
        }
    }
}
