//! `application/x-www-form-urlencoded` name/value pairs: the one reader for form bodies
//! (native auth, the token endpoint, the hosted pages) and query strings (authorize,
//! logout, userinfo), so both refuse the same things the same way.
//!
//! Two rules the `form_urlencoded` crate does not give: a name or value whose bytes are not
//! UTF-8 (raw, or escaped like `%ff`) is refused instead of decoded lossily, because a
//! `state`, `login_hint` or code with replacement characters would be checked or echoed as
//! something the client never sent; and a name given twice is refused, because two
//! `client_id`s or `redirect_uri`s would leave it to chance which one is checked
//! (RFC 6749 §3.1).

/// Why the pairs could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairsError {
    /// This parameter appears more than once (its name, at most 40 characters).
    Repeated(String),
    /// A parameter's name is not UTF-8.
    NameNotUtf8,
    /// This parameter's value is not UTF-8 (its name, at most 40 characters).
    ValueNotUtf8(String),
}

impl PairsError {
    /// A message a person can act on.
    pub fn message(&self) -> String {
        match self {
            PairsError::Repeated(name) if name.is_empty() => {
                "a parameter with an empty name appears more than once".to_string()
            }
            PairsError::Repeated(name) => {
                format!("the parameter `{name}` appears more than once")
            }
            PairsError::NameNotUtf8 => "a parameter name is not valid utf-8".to_string(),
            PairsError::ValueNotUtf8(name) => format!(
                "the value of `{name}` is not valid utf-8; send it as utf-8, percent-encoded"
            ),
        }
    }
}

/// Reads the pairs in order. `+` is a space and `%XX` a byte; an invalid escape (`%zz`)
/// stays as written, as browsers do. Empty pieces (`a=1&&b=2`) are skipped.
pub fn pairs(raw: &[u8]) -> Result<Vec<(String, String)>, PairsError> {
    let mut out: Vec<(String, String)> = Vec::new();
    // A set, not a scan of `out`: a 32 KiB body of thousands of short names would
    // otherwise cost millions of comparisons of the isolate's CPU.
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    for pair in raw.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match pair.iter().position(|b| *b == b'=') {
            Some(at) => (
                pair.get(..at).unwrap_or_default(),
                pair.get(at + 1..).unwrap_or_default(),
            ),
            None => (pair, &[][..]),
        };
        let name = decode(name).ok_or(PairsError::NameNotUtf8)?;
        let value = decode(value).ok_or_else(|| PairsError::ValueNotUtf8(shown(&name)))?;
        if !seen.insert(name.clone()) {
            return Err(PairsError::Repeated(shown(&name)));
        }
        out.push((name, value));
    }
    Ok(out)
}

/// A name as quoted in a message: long names are cut, so a message stays readable.
fn shown(name: &str) -> String {
    name.chars().take(40).collect()
}

/// One name or value: `+` as a space, then percent-decoded, then UTF-8 or nothing.
fn decode(raw: &[u8]) -> Option<String> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    let bytes: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(raw: &str) -> Vec<(String, String)> {
        pairs(raw.as_bytes()).unwrap()
    }

    #[test]
    fn decodes_plus_escapes_and_keeps_invalid_escapes() {
        assert_eq!(
            read("a=x+y%20z&b=%40&c&d=x=y&e=%zz&&f="),
            [
                ("a", "x y z"),
                ("b", "@"),
                ("c", ""),
                ("d", "x=y"),
                ("e", "%zz"),
                ("f", "")
            ]
            .map(|(n, v)| (n.to_string(), v.to_string()))
        );
        assert_eq!(read(""), []);
        assert_eq!(
            read("a=j%C3%BCrgen&b=jürgen"),
            [
                ("a".to_string(), "jürgen".to_string()),
                ("b".to_string(), "jürgen".to_string())
            ]
        );
    }

    #[test]
    fn refuses_repeats_and_bytes_that_are_not_utf8_by_name() {
        assert_eq!(pairs(b"x=1&y=2&x=3"), Err(PairsError::Repeated("x".into())));
        assert_eq!(
            pairs(b"state=%FF"),
            Err(PairsError::ValueNotUtf8("state".into()))
        );
        assert_eq!(
            pairs(b"state=j\xfcrgen"),
            Err(PairsError::ValueNotUtf8("state".into()))
        );
        assert_eq!(pairs(b"%ff=1"), Err(PairsError::NameNotUtf8));
        let long = "n".repeat(100);
        let Err(PairsError::Repeated(shown)) = pairs(format!("{long}&{long}").as_bytes()) else {
            panic!("a repeated long name is refused");
        };
        assert_eq!(shown.len(), 40);
        assert_eq!(
            pairs(b"=a&=b").map_err(|e| e.message()),
            Err("a parameter with an empty name appears more than once".to_string())
        );
        assert!(
            PairsError::ValueNotUtf8("state".into())
                .message()
                .contains("`state` is not valid utf-8")
        );
    }
}
