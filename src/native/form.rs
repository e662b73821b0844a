//! `application/x-www-form-urlencoded` request bodies.
//!
//! Every native-auth call is a form POST. Unknown parameters are kept and ignored (MSAL
//! adds telemetry, `client_info`, `claims`, `X-AnchorMailbox` to the body), but a
//! parameter given twice is refused: two `client_id`s or two `oob`s would leave it to
//! chance which one is checked.

use super::error::NativeError;

/// Largest body accepted. A native-auth body is a few hundred bytes; a sign-up with
/// attributes a few KiB.
pub const MAX_FORM_BODY: usize = 32 * 1024;

/// A parsed form: name/value pairs in order, each name at most once.
#[derive(Debug, Clone, Default)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// Parses a body. Invalid percent-escapes and non-UTF-8 bytes decode lossily (as
    /// browsers do); the values are then checked where they are used.
    pub fn parse(body: &[u8]) -> Result<Form, NativeError> {
        if body.len() > MAX_FORM_BODY {
            return Err(NativeError::invalid_request(format!(
                "the request body is larger than {MAX_FORM_BODY} bytes"
            )));
        }
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in form_urlencoded::parse(body) {
            if pairs.iter().any(|(n, _)| n == name.as_ref()) {
                return Err(NativeError::invalid_request(format!(
                    "the parameter `{}` appears more than once",
                    name.chars().take(40).collect::<String>()
                )));
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        Ok(Form { pairs })
    }

    /// The value of `name`, if present and not empty (an empty value counts as absent,
    /// so `username=` is a missing username).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// The value of `name`, or the `invalid_request` 900144 error naming it.
    pub fn require(&self, name: &str) -> Result<&str, NativeError> {
        self.get(name).ok_or_else(|| NativeError::missing(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_percent_escapes() {
        let f = Form::parse(b"challenge_type=password+oob%20redirect&username=a%40b.c").unwrap();
        assert_eq!(f.get("challenge_type"), Some("password oob redirect"));
        assert_eq!(f.get("username"), Some("a@b.c"));
        assert_eq!(f.get("missing"), None);
    }

    #[test]
    fn empty_values_count_as_missing() {
        let f = Form::parse(b"username=&client_id=x").unwrap();
        assert_eq!(f.get("username"), None);
        let err = f.require("username").unwrap_err();
        assert_eq!(
            (err.error, err.error_codes.as_slice()),
            ("invalid_request", &[900_144][..])
        );
    }

    #[test]
    fn duplicates_and_oversized_bodies_are_refused() {
        assert!(Form::parse(b"oob=1&oob=2").is_err());
        assert!(Form::parse(&vec![b'a'; MAX_FORM_BODY + 1]).is_err());
        assert!(Form::parse(b"").is_ok());
        // Lossy decoding, never a panic.
        let f = Form::parse(b"x=%ff%fe&y=%zz").unwrap();
        assert!(f.get("x").is_some());
        assert_eq!(f.get("y"), Some("%zz"));
    }
}
