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
    /// Parses a body with the rules of [`crate::urlencoded::pairs`]: a repeated name, or
    /// bytes that are not UTF-8, are `invalid_request` naming the parameter.
    pub fn parse(body: &[u8]) -> Result<Form, NativeError> {
        if body.len() > MAX_FORM_BODY {
            return Err(NativeError::invalid_request(format!(
                "the request body is larger than {MAX_FORM_BODY} bytes"
            )));
        }
        let pairs = crate::urlencoded::pairs(body)
            .map_err(|e| NativeError::invalid_request(e.message()))?;
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

/// Checks a request's `Content-Type` for a form body: the media type must be exactly
/// `application/x-www-form-urlencoded` (any case, RFC 9110 §8.3.1), parameters such as
/// `; charset=utf-8` allowed (MSAL's refresh sends one). A prefix match would take
/// `application/x-www-form-urlencodedXYZ` for a form.
pub fn check_content_type(value: Option<&str>) -> Result<(), NativeError> {
    let media_type = value
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim_matches([' ', '\t']);
    if media_type.eq_ignore_ascii_case(CONTENT_TYPE) {
        Ok(())
    } else {
        Err(NativeError::invalid_request(format!(
            "send the body as `{CONTENT_TYPE}`"
        )))
    }
}

/// The one media type a form body is accepted as.
pub const CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

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
        // An invalid escape stays as written.
        assert_eq!(Form::parse(b"y=%zz").unwrap().get("y"), Some("%zz"));
    }

    #[test]
    fn bytes_that_are_not_utf8_are_refused_by_name() {
        for body in [
            &b"username=j%FCrgen"[..],
            b"username=j\xfcrgen",
            b"x=%ff%fe",
        ] {
            let err = Form::parse(body).unwrap_err();
            assert_eq!(err.error, "invalid_request");
            assert!(
                err.description.contains("is not valid utf-8"),
                "{}",
                err.description
            );
        }
        let err = Form::parse(b"username=j%FCrgen").unwrap_err();
        assert!(
            err.description.contains("`username`"),
            "{}",
            err.description
        );
        let err = Form::parse(b"a%ff=1").unwrap_err();
        assert!(
            err.description.contains("parameter name"),
            "{}",
            err.description
        );
        // UTF-8, raw or escaped, is read as such.
        let f = Form::parse("a=j%C3%BCrgen&b=jürgen&c&d=x=y".as_bytes()).unwrap();
        assert_eq!(f.get("a"), Some("jürgen"));
        assert_eq!(f.get("b"), Some("jürgen"));
        assert_eq!(f.get("c"), None);
        assert_eq!(f.get("d"), Some("x=y"));
    }

    #[test]
    fn content_type_is_the_form_media_type_exactly() {
        for ok in [
            "application/x-www-form-urlencoded",
            "APPLICATION/X-WWW-FORM-URLENCODED; CHARSET=UTF-8",
            "application/x-www-form-urlencoded;charset=utf-8",
            " application/x-www-form-urlencoded ; charset=utf-8",
        ] {
            assert!(check_content_type(Some(ok)).is_ok(), "{ok}");
        }
        for bad in [
            None,
            Some(""),
            Some("application/x-www-form-urlencodedXYZ"),
            Some("application/x-www-form-urlencoded-x; charset=utf-8"),
            Some("application/json"),
            Some("text/plain; application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
        ] {
            let err = check_content_type(bad).unwrap_err();
            assert_eq!((err.status, err.error), (400, "invalid_request"), "{bad:?}");
            assert!(err.description.contains(CONTENT_TYPE));
        }
    }
}
