//! The query a sign-in log list accepts: an OData `$filter` subset and `$top`.
//!
//! ```text
//! filter   := clause ( "and" clause )*
//! clause   := userId            (eq | ne) 'text'
//!           | userPrincipalName (eq | ne) 'text'          (case-insensitive)
//!           | appId             (eq | ne) 'text'
//!           | createdDateTime   (eq | ne | gt | ge | lt | le) <RFC 3339, unquoted>
//!           | status/errorCode  (eq | ne) <integer>
//!           | conditionalAccessStatus (eq | ne) 'success' | 'failure' | 'notApplied'
//! ```
//!
//! Keywords and property names are matched without regard to ASCII case (Graph does the
//! same); a quote inside text is doubled (`'o''brien@example.com'`). Anything else (`or`,
//! `not`, parentheses, functions, other properties) is refused with an error that names
//! it, never silently ignored: a filter that matched more than asked would show an admin
//! the wrong sign-ins. Written by hand rather than with an OData crate: the accepted
//! grammar is this small, the crates found parse all of OData (then everything beyond the
//! subset must be refused again) and pull date and decimal libraries into the Worker.

use super::SignInSummary;
use crate::error::ErrorBody;

/// The longest `$filter` accepted.
pub const MAX_FILTER_LEN: usize = 2048;
/// At most this many clauses joined with `and`.
pub const MAX_CLAUSES: usize = 16;
/// `$top` when the request has none.
pub const DEFAULT_TOP: usize = 100;
/// The largest `$top` (Graph's own limit for sign-ins).
pub const MAX_TOP: usize = 1000;

/// A parsed list query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Which records.
    pub filter: Filter,
    /// At most this many, newest first.
    pub top: usize,
    /// Where the previous page stopped (`$skiptoken`).
    pub skip: Option<super::paging::Position>,
}

/// Clauses that must all hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    clauses: Vec<Clause>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Clause {
    UserId(bool, String),
    UserPrincipalName(bool, String),
    AppId(bool, String),
    Created(Order, u64),
    ErrorCode(bool, u32),
    ConditionalAccessStatus(bool, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Query {
    /// The query of a list request from its query-string pairs. `$filter` and `$top` are
    /// read; `$orderby=createdDateTime desc` (the only order) is accepted; any other `$`
    /// option is refused, other parameters are ignored.
    pub fn from_params<'a>(
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Query, ErrorBody> {
        let mut query = Query {
            filter: Filter::default(),
            top: DEFAULT_TOP,
            skip: None,
        };
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in params {
            // A second `$filter` would silently replace the first and list records the
            // caller meant to exclude; which of two `$top`s counts is as unclear.
            if name.starts_with('$') {
                if seen.contains(&name) {
                    return Err(unsupported(
                        name,
                        format!(
                            "`{name}` appears more than once; join comparisons with `and` in one `$filter`"
                        ),
                    ));
                }
                seen.push(name);
            }
            match name {
                "$filter" => query.filter = Filter::parse(value)?,
                "$top" => query.top = parse_top(value)?,
                "$skiptoken" => query.skip = Some(super::paging::Position::from_token(value)?),
                "$orderby" => {
                    let words: Vec<&str> = value.split_whitespace().collect();
                    let newest_first = matches!(words.as_slice(), [p, d]
                        if p.eq_ignore_ascii_case("createdDateTime") && d.eq_ignore_ascii_case("desc"));
                    if !newest_first {
                        return Err(unsupported(
                            "$orderby",
                            "sign-ins are listed newest first only: use `createdDateTime desc` or leave `$orderby` out",
                        ));
                    }
                }
                other if other.starts_with('$') => {
                    return Err(unsupported(
                        other,
                        format!(
                            "the query option `{other}` is not supported here; use `$filter`, `$top` and `$skiptoken`"
                        ),
                    ));
                }
                _ => {}
            }
        }
        Ok(query)
    }
}

fn parse_top(value: &str) -> Result<usize, ErrorBody> {
    match value.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_TOP).contains(&n) => Ok(n),
        _ => Err(ErrorBody::new(
            "signIns.top_invalid",
            format!("`$top` must be a whole number from 1 to {MAX_TOP}, not `{value}`"),
        )
        .at("$top")),
    }
}

fn syntax(message: impl Into<String>) -> ErrorBody {
    ErrorBody::new("signIns.filter_invalid", message).at("$filter")
}

fn unsupported(target: &str, message: impl Into<String>) -> ErrorBody {
    ErrorBody::new("signIns.query_unsupported", message).at(target)
}

const PROPERTIES: &str = "`userId`, `userPrincipalName`, `appId`, `createdDateTime`, `status/errorCode`, `conditionalAccessStatus`";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Text(String),
    Paren,
}

fn tokens(input: &str) -> Result<Vec<Token>, ErrorBody> {
    let mut out = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '(' || c == ')' {
            chars.next();
            out.push(Token::Paren);
        } else if c == '\'' {
            chars.next();
            let mut text = String::new();
            loop {
                match chars.next() {
                    Some('\'') if chars.peek() == Some(&'\'') => {
                        chars.next();
                        text.push('\'');
                    }
                    Some('\'') => break,
                    Some(ch) => text.push(ch),
                    None => return Err(syntax("a quoted value is not closed with `'`")),
                }
            }
            out.push(Token::Text(text));
        } else {
            let mut word = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() || ch == '(' || ch == ')' || ch == '\'' {
                    break;
                }
                word.push(ch);
                chars.next();
            }
            out.push(Token::Word(word));
        }
    }
    Ok(out)
}

impl Filter {
    /// Parses a `$filter` value.
    pub fn parse(input: &str) -> Result<Filter, ErrorBody> {
        if input.len() > MAX_FILTER_LEN {
            return Err(syntax(format!(
                "the filter is longer than {MAX_FILTER_LEN} characters"
            )));
        }
        let tokens = tokens(input)?;
        if tokens.contains(&Token::Paren) {
            return Err(unsupported(
                "$filter",
                "parentheses and functions are not supported: join simple comparisons with `and`",
            ));
        }
        let mut clauses = Vec::new();
        let mut rest = tokens.as_slice();
        loop {
            let (clause, after) = clause(rest)?;
            clauses.push(clause);
            match after {
                [] => break,
                [Token::Word(w), more @ ..] if w.eq_ignore_ascii_case("and") => rest = more,
                [Token::Word(w), ..] if w.eq_ignore_ascii_case("or") => {
                    return Err(unsupported(
                        "$filter",
                        "`or` is not supported: only `and` joins comparisons",
                    ));
                }
                [other, ..] => {
                    return Err(syntax(format!(
                        "expected `and` between comparisons, found {}",
                        describe(other)
                    )));
                }
            }
        }
        if clauses.len() > MAX_CLAUSES {
            return Err(syntax(format!(
                "at most {MAX_CLAUSES} comparisons may be joined with `and`"
            )));
        }
        Ok(Filter { clauses })
    }

    /// Whether a record with this summary is wanted.
    pub fn matches(&self, s: &SignInSummary) -> bool {
        self.clauses.iter().all(|c| match c {
            Clause::UserId(eq, v) => (s.user_id.as_deref() == Some(v.as_str())) == *eq,
            Clause::UserPrincipalName(eq, v) => {
                s.user_principal_name.eq_ignore_ascii_case(v) == *eq
            }
            Clause::AppId(eq, v) => (&s.app_id == v) == *eq,
            Clause::ErrorCode(eq, v) => (s.error_code == *v) == *eq,
            Clause::ConditionalAccessStatus(eq, v) => (s.conditional_access_status == *v) == *eq,
            Clause::Created(order, bound) => {
                let at = s.at.saturating_mul(1000);
                match order {
                    Order::Eq => at == *bound,
                    Order::Ne => at != *bound,
                    Order::Gt => at > *bound,
                    Order::Ge => at >= *bound,
                    Order::Lt => at < *bound,
                    Order::Le => at <= *bound,
                }
            }
        })
    }

    /// Whether every record at or before `at` (seconds) is too old for the filter, so a
    /// newest-first scan that reached it can stop.
    pub fn too_old(&self, at: u64) -> bool {
        let at = at.saturating_mul(1000);
        self.clauses.iter().any(|c| match c {
            Clause::Created(Order::Eq | Order::Ge, bound) => at < *bound,
            Clause::Created(Order::Gt, bound) => at <= *bound,
            _ => false,
        })
    }
}

fn describe(t: &Token) -> String {
    match t {
        Token::Word(w) => format!("`{w}`"),
        Token::Text(t) => format!("`'{t}'`"),
        Token::Paren => "a parenthesis".to_string(),
    }
}

/// One comparison at the start of `tokens`, and the tokens after it.
fn clause(tokens: &[Token]) -> Result<(Clause, &[Token]), ErrorBody> {
    let (property, op, value, rest) = match tokens {
        [Token::Word(w), ..] if w.eq_ignore_ascii_case("not") => {
            return Err(unsupported("$filter", "`not` is not supported"));
        }
        [Token::Word(p), Token::Word(op), value, rest @ ..] => (p, op, value, rest),
        [] => return Err(syntax("expected a comparison such as `appId eq 'my-app'`")),
        [first, ..] => {
            return Err(syntax(format!(
                "expected a comparison such as `appId eq 'my-app'`, found {}",
                describe(first)
            )));
        }
    };
    let order = match op.to_ascii_lowercase().as_str() {
        "eq" => Order::Eq,
        "ne" => Order::Ne,
        "gt" => Order::Gt,
        "ge" => Order::Ge,
        "lt" => Order::Lt,
        "le" => Order::Le,
        _ => {
            return Err(syntax(format!(
                "`{op}` is not a comparison operator: use `eq`, `ne`, `gt`, `ge`, `lt` or `le`"
            )));
        }
    };
    let name = property.to_ascii_lowercase();
    let equality = || match order {
        Order::Eq => Ok(true),
        Order::Ne => Ok(false),
        _ => Err(unsupported(
            "$filter",
            format!("`{property}` can only be compared with `eq` or `ne`"),
        )),
    };
    let text = || match value {
        Token::Text(t) => Ok(t.clone()),
        other => Err(syntax(format!(
            "`{property}` takes a quoted value such as `'abc'`, found {}",
            describe(other)
        ))),
    };
    let clause = match name.as_str() {
        "userid" => Clause::UserId(equality()?, text()?),
        "userprincipalname" => Clause::UserPrincipalName(equality()?, text()?),
        "appid" => Clause::AppId(equality()?, text()?),
        "conditionalaccessstatus" => {
            let eq = equality()?;
            let v = text()?;
            let known = ["success", "failure", "notApplied"];
            let Some(canonical) = known.iter().find(|k| k.eq_ignore_ascii_case(&v)) else {
                return Err(syntax(format!(
                    "`conditionalAccessStatus` is `'success'`, `'failure'` or `'notApplied'`, not `'{v}'`"
                )));
            };
            Clause::ConditionalAccessStatus(eq, (*canonical).to_string())
        }
        "status/errorcode" => {
            let eq = equality()?;
            let code = match value {
                Token::Word(w) => w.parse::<u32>().ok(),
                Token::Text(_) | Token::Paren => None,
            };
            let Some(code) = code else {
                return Err(syntax(format!(
                    "`status/errorCode` takes a whole number such as `0` or `50126`, found {}",
                    describe(value)
                )));
            };
            Clause::ErrorCode(eq, code)
        }
        "createddatetime" => {
            let ms = match value {
                Token::Word(w) => super::datetime::parse_millis(w),
                Token::Text(_) | Token::Paren => None,
            };
            let Some(ms) = ms else {
                return Err(syntax(format!(
                    "`createdDateTime` takes an unquoted RFC 3339 date-time such as `2026-11-23T18:00:00Z`, found {}",
                    describe(value)
                )));
            };
            Clause::Created(order, ms)
        }
        _ => {
            return Err(unsupported(
                "$filter",
                format!("`{property}` cannot be filtered on; use {PROPERTIES}"),
            ));
        }
    };
    Ok((clause, rest))
}

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;
