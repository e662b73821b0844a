//! The native-auth error envelope: `error`, `error_description`, `error_codes`,
//! `suberror`, `timestamp`, `trace_id`, `correlation_id` and, where the flow goes on,
//! `continuation_token` (reference §1).
//!
//! Clients branch on `error`, `suberror` and `error_codes`; the description is for
//! people, in Entra's `AADSTS<code>: …` style because MSAL matches a few phrases in it
//! (e.g. `username parameter is empty or not valid` with 90100).

use serde_json::{Map, Value};

/// One protocol error. Build it with the constructors; the Worker never invents codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeError {
    /// HTTP status: 400 for every protocol error (MSAL Android treats anything but 200
    /// and 400 as an unknown error), 500 for a fault of the server itself.
    pub status: u16,
    /// `error`.
    pub error: &'static str,
    /// `suberror`.
    pub suberror: Option<&'static str>,
    /// `error_codes` (Entra AADSTS numbers where known).
    pub error_codes: Vec<u32>,
    /// `error_description`, without the trace and correlation suffix.
    pub description: String,
    /// Extra members (`required_attributes`, `invalid_attributes`), boxed so the error
    /// stays small on the happy path.
    pub extra: Option<Box<Map<String, Value>>>,
}

impl NativeError {
    /// The description for a page a person reads: without the `AADSTSnnnnn: ` prefix that
    /// clients and logs key on and a person cannot use.
    pub fn for_person(&self) -> String {
        let d = self.description.as_str();
        let plain = d.strip_prefix("AADSTS").and_then(|rest| {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            rest.get(digits..)
                .filter(|_| digits > 0)
                .and_then(|tail| tail.strip_prefix(": "))
        });
        plain.unwrap_or(d).to_string()
    }

    /// A `400` protocol error.
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        NativeError {
            status: 400,
            error,
            suberror: None,
            error_codes: Vec::new(),
            description: description.into(),
            extra: None,
        }
    }

    /// Adds an AADSTS error code.
    pub fn code(mut self, code: u32) -> Self {
        self.error_codes.push(code);
        self
    }

    /// Sets the suberror.
    pub fn with_suberror(mut self, suberror: &'static str) -> Self {
        self.suberror = Some(suberror);
        self
    }

    /// Adds an extra member to the body.
    pub fn with(mut self, name: &str, value: Value) -> Self {
        self.extra
            .get_or_insert_with(Default::default)
            .insert(name.to_string(), value);
        self
    }

    /// `invalid_request`: a parameter is missing or malformed.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", description)
    }

    /// `invalid_request` 900144: a required parameter is missing.
    pub fn missing(parameter: &str) -> Self {
        Self::invalid_request(format!(
            "AADSTS900144: the request body must contain the following parameter: '{parameter}'"
        ))
        .code(900_144)
    }

    /// `invalid_request` 90100: the username is missing or not an email address.
    pub fn invalid_username() -> Self {
        Self::invalid_request("AADSTS90100: username parameter is empty or not valid").code(90_100)
    }

    /// `invalid_request` 901007: `challenge_type` lacks `redirect`.
    pub fn redirect_missing() -> Self {
        Self::invalid_request(
            "AADSTS901007: The challenge_type list parameter does not include the 'redirect' type",
        )
        .code(901_007)
    }

    /// `unsupported_challenge_type`: a `challenge_type` value this server does not know.
    pub fn unsupported_challenge_type(value: &str) -> Self {
        Self::new(
            "unsupported_challenge_type",
            format!(
                "The challenge_type list parameter contains an unsupported challenge type `{}`",
                short(value)
            ),
        )
    }

    /// `invalid_request` with suberror `introspect_required`: a second-factor challenge
    /// without `id`. There is no default method to challenge; the client lists the
    /// methods at `/oauth2/v2.0/introspect` and challenges one by its `id`.
    ///
    /// The suberror is also written as `sub_error`: the MSAL Android parser of
    /// `/oauth2/v2.0/challenge` answers, the one client that handles this error, reads
    /// that spelling (reference §1); every other client reads `suberror`.
    pub fn introspect_required() -> Self {
        Self::invalid_request(
            "choose a method: list them at `oauth2/v2.0/introspect` and send its `id` to `oauth2/v2.0/challenge`",
        )
        .with_suberror(INTROSPECT_REQUIRED)
        .with("sub_error", Value::from(INTROSPECT_REQUIRED))
    }

    /// `unsupported_grant_type`.
    pub fn unsupported_grant_type(value: &str) -> Self {
        Self::new(
            "unsupported_grant_type",
            format!("the grant_type `{}` is not supported here", short(value)),
        )
    }

    /// `unauthorized_client`: the app is not served by this user flow.
    pub fn unauthorized_client() -> Self {
        Self::new(
            "unauthorized_client",
            "AADSTS700016: the application was not found or is not enabled for native authentication",
        )
        .code(700_016)
    }

    /// `invalid_grant`: the continuation or refresh token is unknown, forged, already
    /// used, or belongs to another client.
    pub fn invalid_token(what: &str) -> Self {
        Self::new(
            "invalid_grant",
            format!("AADSTS55200: the {what} is invalid or was already used"),
        )
        .code(55_200)
    }

    /// `expired_token` 552003: the flow is past its lifetime; start again.
    pub fn expired() -> Self {
        Self::new(
            "expired_token",
            "AADSTS552003: the continuation token is expired; start the flow again",
        )
        .code(552_003)
    }

    /// `server_error` with status 500: the server cannot complete the request (missing
    /// secret, unreadable configuration, storage failure). Never used for bad input.
    pub fn server_error(description: impl Into<String>) -> Self {
        NativeError {
            status: 500,
            ..Self::new("server_error", description)
        }
    }

    /// The JSON body, with the trace members and an optional continuation token.
    pub fn body(&self, meta: &super::Meta, continuation: Option<&str>) -> Value {
        let mut body = Map::new();
        body.insert("error".into(), Value::from(self.error));
        body.insert(
            "error_description".into(),
            Value::from(format!(
                "{} Trace ID: {} Correlation ID: {} Timestamp: {}",
                self.description,
                meta.trace_id,
                meta.correlation_id,
                meta.timestamp()
            )),
        );
        body.insert("error_codes".into(), Value::from(self.error_codes.clone()));
        if let Some(sub) = self.suberror {
            body.insert("suberror".into(), Value::from(sub));
        }
        body.insert("timestamp".into(), Value::from(meta.timestamp()));
        body.insert("trace_id".into(), Value::from(meta.trace_id.clone()));
        body.insert(
            "correlation_id".into(),
            Value::from(meta.correlation_id.clone()),
        );
        if let Some(token) = continuation {
            body.insert("continuation_token".into(), Value::from(token));
        }
        for (k, v) in self.extra.iter().flat_map(|m| m.iter()) {
            body.insert(k.clone(), v.clone());
        }
        Value::Object(body)
    }
}

/// The suberror that sends a client to `/oauth2/v2.0/introspect`.
const INTROSPECT_REQUIRED: &str = "introspect_required";

/// User input quoted in a description, cut so a huge value cannot bloat the answer.
fn short(value: &str) -> String {
    value.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_reads_the_description_without_the_aadsts_prefix() {
        let e = NativeError::new("invalid_grant", "AADSTS50053: try again in a moment");
        assert_eq!(e.for_person(), "try again in a moment");
        let plain = NativeError::new("invalid_grant", "the code has expired");
        assert_eq!(plain.for_person(), "the code has expired");
        let odd = NativeError::new("invalid_grant", "AADSTS: not a code");
        assert_eq!(odd.for_person(), "AADSTS: not a code");
    }
}
