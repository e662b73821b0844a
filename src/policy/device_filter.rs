//! `devices.deviceFilter.rule`: a small parser and evaluator for the documented subset of
//! the dynamic-membership rule syntax, written by hand so the wasm needs no regex engine.
//!
//! Grammar (operators and `device.` attribute names ignore ASCII case):
//!
//! ```text
//! rule  := and ("-or" and)*
//! and   := unary ("-and" unary)*
//! unary := "-not" unary | "(" rule ")" | device.<attribute> <op> <value>
//! op    := -eq -ne -startsWith -notStartsWith -endsWith -notEndsWith
//!          -contains -notContains -in -notIn
//! value := "text" | ["text", ...] (for -in/-notIn) | True | False (for isCompliant)
//! ```
//!
//! Semantics: string comparisons ignore ASCII case, as dynamic rules do. An unregistered
//! device has every property null (documented): a positive operator is then false and a
//! negative one true. A multi-valued property (`physicalIds`, `systemLabels`) matches a
//! positive operator when any element does. `-match`/`-notMatch`, `-any`/`-all` are
//! rejected: they are not in the documented device filter operator list.

use serde_json::{Map, Value};

/// Longest rule Graph accepts, in characters.
pub const MAX_RULE_LEN: usize = 3072;

/// Whether `rule` has more than [`MAX_RULE_LEN`] characters. The documented limit counts
/// characters, not UTF-8 bytes: a device name with accented letters must not halve it.
/// Stops counting at the limit, so a huge input costs no more than a short one.
pub fn too_long(rule: &str) -> bool {
    rule.len() > MAX_RULE_LEN && rule.chars().nth(MAX_RULE_LEN).is_some()
}
const MAX_DEPTH: usize = 32;

/// The device properties the rule syntax may name; the sign-in's device facts use the same
/// names (`parse::request`), so the two can never disagree.
pub(crate) const ATTRIBUTES: &[&str] = &[
    "deviceId",
    "displayName",
    "deviceOwnership",
    "enrollmentProfileName",
    "isCompliant",
    "manufacturer",
    "mdmAppId",
    "model",
    "operatingSystem",
    "operatingSystemVersion",
    "physicalIds",
    "profileType",
    "systemLabels",
    "trustType",
    "extensionAttribute1",
    "extensionAttribute2",
    "extensionAttribute3",
    "extensionAttribute4",
    "extensionAttribute5",
    "extensionAttribute6",
    "extensionAttribute7",
    "extensionAttribute8",
    "extensionAttribute9",
    "extensionAttribute10",
    "extensionAttribute11",
    "extensionAttribute12",
    "extensionAttribute13",
    "extensionAttribute14",
    "extensionAttribute15",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    StartsWith,
    EndsWith,
    Contains,
    In,
}

const OPERATORS: &[(&str, Op, bool)] = &[
    ("-eq", Op::Eq, false),
    ("-ne", Op::Eq, true),
    ("-startsWith", Op::StartsWith, false),
    ("-notStartsWith", Op::StartsWith, true),
    ("-endsWith", Op::EndsWith, false),
    ("-notEndsWith", Op::EndsWith, true),
    ("-contains", Op::Contains, false),
    ("-notContains", Op::Contains, true),
    ("-in", Op::In, false),
    ("-notIn", Op::In, true),
];

/// A parsed device filter rule.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRule(Node);

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Or(Vec<Node>),
    And(Vec<Node>),
    Not(Box<Node>),
    Cmp {
        attribute: &'static str,
        op: Op,
        negated: bool,
        values: Vec<String>,
    },
}

impl DeviceRule {
    /// Parses a rule; the error is a lowercase reason for the caller's message.
    pub fn parse(text: &str) -> Result<DeviceRule, String> {
        if too_long(text) {
            return Err(format!("the rule is longer than {MAX_RULE_LEN} characters"));
        }
        let tokens = tokenize(text)?;
        let mut p = Parser { tokens, pos: 0 };
        let node = p.or(0)?;
        match p.tokens.get(p.pos) {
            None => Ok(DeviceRule(node)),
            Some(t) => Err(format!(
                "unexpected {} after the end of the rule",
                t.describe()
            )),
        }
    }

    /// Whether the device (its properties by attribute name; `None` for an unregistered
    /// device) matches the rule.
    pub fn matches(&self, device: Option<&Map<String, Value>>) -> bool {
        self.0.eval(device)
    }
}

impl Node {
    fn eval(&self, device: Option<&Map<String, Value>>) -> bool {
        match self {
            Node::Or(items) => items.iter().any(|n| n.eval(device)),
            Node::And(items) => items.iter().all(|n| n.eval(device)),
            Node::Not(inner) => !inner.eval(device),
            Node::Cmp {
                attribute,
                op,
                negated,
                values,
            } => {
                let value = device.and_then(|d| lookup(d, attribute));
                let positive = value.is_some_and(|v| any_text(v, |t| test(*op, t, values)));
                positive != *negated
            }
        }
    }
}

/// The property, also under Graph `deviceInfo`'s name `ownership` for `deviceOwnership`.
fn lookup<'a>(device: &'a Map<String, Value>, attribute: &str) -> Option<&'a Value> {
    let found = device.get(attribute).or_else(|| match attribute {
        "deviceOwnership" => device.get("ownership"),
        _ => None,
    });
    found.filter(|v| !v.is_null())
}

/// Applies `f` to the textual form of a scalar, or of each element of an array.
fn any_text(value: &Value, f: impl Fn(&str) -> bool) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|i| scalar_text(i, &f)),
        scalar => scalar_text(scalar, &f),
    }
}

fn scalar_text(value: &Value, f: &impl Fn(&str) -> bool) -> bool {
    match value {
        Value::String(s) => f(s),
        Value::Bool(true) => f("True"),
        Value::Bool(false) => f("False"),
        Value::Number(n) => f(&n.to_string()),
        Value::Null | Value::Object(_) | Value::Array(_) => false,
    }
}

fn test(op: Op, actual: &str, values: &[String]) -> bool {
    let first = values.first().map_or("", String::as_str);
    match op {
        Op::Eq => actual.eq_ignore_ascii_case(first),
        Op::In => values.iter().any(|v| actual.eq_ignore_ascii_case(v)),
        Op::StartsWith => actual
            .get(..first.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(first)),
        Op::EndsWith => actual
            .len()
            .checked_sub(first.len())
            .and_then(|start| actual.get(start..))
            .is_some_and(|s| s.eq_ignore_ascii_case(first)),
        Op::Contains => {
            let (hay, needle) = (actual.as_bytes(), first.as_bytes());
            needle.is_empty()
                || hay
                    .windows(needle.len())
                    .any(|w| w.eq_ignore_ascii_case(needle))
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    OpenList,
    CloseList,
    Comma,
    Text(String),
    Word(String),
    Operator(String),
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Open => "`(`".into(),
            Token::Close => "`)`".into(),
            Token::OpenList => "`[`".into(),
            Token::CloseList => "`]`".into(),
            Token::Comma => "`,`".into(),
            Token::Text(t) => format!("string `\"{t}\"`"),
            Token::Word(w) | Token::Operator(w) => format!("`{w}`"),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            '[' => tokens.push(Token::OpenList),
            ']' => tokens.push(Token::CloseList),
            ',' => tokens.push(Token::Comma),
            '"' => {
                let mut s = String::new();
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    match c {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' | '`' if chars.peek().is_some_and(|(_, n)| *n == '"') => {
                            s.push('"');
                            chars.next();
                        }
                        c => s.push(c),
                    }
                }
                if !closed {
                    return Err(format!(
                        "the string starting at character {start} is not closed"
                    ));
                }
                tokens.push(Token::Text(s));
            }
            c if c == '-' || c.is_alphanumeric() || c == '_' || c == '.' => {
                let mut end = start + c.len_utf8();
                while let Some((i, n)) = chars.peek().copied() {
                    if n.is_alphanumeric() || n == '_' || n == '.' {
                        end = i + n.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                let word = text.get(start..end).unwrap_or_default().to_string();
                tokens.push(if c == '-' {
                    Token::Operator(word)
                } else {
                    Token::Word(word)
                });
            }
            c => return Err(format!("unexpected character `{c}`")),
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos = self.pos.saturating_add(1);
        t
    }

    fn at_operator(&self, name: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Token::Operator(o)) if o.eq_ignore_ascii_case(name))
    }

    fn or(&mut self, depth: usize) -> Result<Node, String> {
        let mut items = vec![self.and(depth)?];
        while self.at_operator("-or") {
            self.pos = self.pos.saturating_add(1);
            items.push(self.and(depth)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Node::Or(items)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Node, String> {
        let mut items = vec![self.unary(depth)?];
        while self.at_operator("-and") {
            self.pos = self.pos.saturating_add(1);
            items.push(self.unary(depth)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Node::And(items)
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Node, String> {
        if depth > MAX_DEPTH {
            return Err(format!("the rule nests deeper than {MAX_DEPTH} levels"));
        }
        match self.next() {
            Some(Token::Operator(o)) if o.eq_ignore_ascii_case("-not") => {
                Ok(Node::Not(Box::new(self.unary(depth.saturating_add(1))?)))
            }
            Some(Token::Open) => {
                let inner = self.or(depth.saturating_add(1))?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    Some(t) => Err(format!("expected `)` but found {}", t.describe())),
                    None => Err("a `(` is not closed".into()),
                }
            }
            Some(Token::Word(w)) => self.comparison(&w),
            Some(t) => Err(format!(
                "expected `device.<property>` but found {}",
                t.describe()
            )),
            None => Err("the rule ends where a condition is expected".into()),
        }
    }

    fn comparison(&mut self, word: &str) -> Result<Node, String> {
        let name = word
            .get(..7)
            .filter(|p| p.eq_ignore_ascii_case("device."))
            .and_then(|_| word.get(7..))
            .ok_or_else(|| format!("`{word}` is not a `device.<property>`"))?;
        let attribute = ATTRIBUTES
            .iter()
            .find(|a| a.eq_ignore_ascii_case(name))
            .copied()
            .ok_or_else(|| format!("`{word}` is not a device property a filter can use"))?;
        let op_text = match self.next() {
            Some(Token::Operator(o)) => o,
            Some(t) => {
                return Err(format!(
                    "expected an operator after `{word}` but found {}",
                    t.describe()
                ));
            }
            None => return Err(format!("expected an operator after `{word}`")),
        };
        let (_, op, negated) = OPERATORS
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(&op_text))
            .copied()
            .ok_or_else(|| format!("operator `{op_text}` is not supported in device filters"))?;
        let values = if op == Op::In {
            self.list()?
        } else {
            vec![self.scalar(attribute)?]
        };
        if attribute == "isCompliant" && op != Op::Eq {
            return Err(format!(
                "`device.isCompliant` only supports `-eq` and `-ne`, not `{op_text}`"
            ));
        }
        Ok(Node::Cmp {
            attribute,
            op,
            negated,
            values,
        })
    }

    fn scalar(&mut self, attribute: &str) -> Result<String, String> {
        match self.next() {
            Some(Token::Text(t)) => Ok(t),
            Some(Token::Word(w))
                if attribute == "isCompliant"
                    && (w.eq_ignore_ascii_case("true") || w.eq_ignore_ascii_case("false")) =>
            {
                Ok(w)
            }
            Some(t) => Err(format!(
                "expected a quoted value but found {}",
                t.describe()
            )),
            None => Err("the rule ends where a value is expected".into()),
        }
    }

    fn list(&mut self) -> Result<Vec<String>, String> {
        if self.next() != Some(Token::OpenList) {
            return Err("`-in` and `-notIn` take a list such as `[\"a\", \"b\"]`".into());
        }
        let mut values = Vec::new();
        loop {
            match self.next() {
                Some(Token::Text(t)) => values.push(t),
                Some(Token::CloseList) if values.is_empty() => return Ok(values),
                Some(t) => {
                    return Err(format!(
                        "expected a quoted value in the list but found {}",
                        t.describe()
                    ));
                }
                None => return Err("a `[` is not closed".into()),
            }
            match self.next() {
                Some(Token::Comma) => {}
                Some(Token::CloseList) => return Ok(values),
                Some(t) => return Err(format!("expected `,` or `]` but found {}", t.describe())),
                None => return Err("a `[` is not closed".into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn device(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn eval(rule: &str, d: Option<&Map<String, Value>>) -> bool {
        DeviceRule::parse(rule).unwrap().matches(d)
    }

    #[test]
    fn documented_example_and_null_semantics() {
        let rule = r#"device.extensionAttribute1 -ne "SAW""#;
        let saw = device(json!({"extensionAttribute1": "saw"}));
        let other = device(json!({"extensionAttribute1": "desk"}));
        assert!(!eval(rule, Some(&saw)));
        assert!(eval(rule, Some(&other)));
        // Unregistered device: everything null, so -ne matches and -eq does not.
        assert!(eval(rule, None));
        assert!(!eval(r#"device.extensionAttribute1 -eq "SAW""#, None));
    }

    #[test]
    fn operators_precedence_and_lists() {
        let d = device(json!({
            "trustType": "AzureAD", "isCompliant": true, "model": "Surface Pro 9",
            "systemLabels": ["AzureResource", "M365Managed"], "ownership": "Company"
        }));
        let d = Some(&d);
        assert!(eval(
            r#"device.trustType -eq "azuread" -and device.isCompliant -eq True"#,
            d
        ));
        assert!(eval(r#"device.isCompliant -ne false"#, d));
        assert!(eval(
            r#"device.model -startsWith "surface" -and device.model -endsWith "9""#,
            d
        ));
        assert!(eval(
            r#"device.model -contains "PRO" -and device.model -notContains "go""#,
            d
        ));
        assert!(eval(r#"device.trustType -in ["ServerAD", "AzureAD"]"#, d));
        assert!(!eval(
            r#"device.trustType -notIn ["ServerAD", "AzureAD"]"#,
            d
        ));
        assert!(eval(r#"device.systemLabels -contains "M365Managed""#, d));
        assert!(eval(r#"device.deviceOwnership -eq "Company""#, d));
        // -and binds tighter than -or.
        assert!(eval(
            r#"device.model -eq "x" -and device.model -eq "y" -or device.trustType -eq "AzureAD""#,
            d
        ));
        assert!(!eval(
            r#"device.model -eq "x" -and (device.model -eq "y" -or device.trustType -eq "AzureAD")"#,
            d
        ));
        assert!(eval(r#"-not (device.model -eq "x")"#, d));
        assert!(eval(r#"DEVICE.MODEL -EQ "surface pro 9""#, d));
    }

    #[test]
    fn rejects_what_it_cannot_evaluate() {
        for bad in [
            r#"device.model -match "x.*""#,
            r#"device.colour -eq "red""#,
            r#"user.department -eq "x""#,
            r#"device.model -eq"#,
            r#"device.model -eq "x"#,
            r#"(device.model -eq "x""#,
            r#"device.model -in "x""#,
            r#"device.isCompliant -contains "T""#,
            r#"device.model -eq "x" device.model -eq "y""#,
            r#"device.model -eq "x" -and"#,
            "",
            "device.model ! \"x\"",
        ] {
            assert!(DeviceRule::parse(bad).is_err(), "{bad}");
        }
        let deep = format!("{}device.model -eq \"x\"{}", "(".repeat(40), ")".repeat(40));
        assert!(DeviceRule::parse(&deep).is_err());
        assert!(DeviceRule::parse(&"x".repeat(MAX_RULE_LEN + 1)).is_err());
    }
}
