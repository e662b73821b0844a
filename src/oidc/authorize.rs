//! The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636), read and
//! checked in the order RFC 6749 §4.1.2.1 requires:
//!
//! 1. the client and the redirect URI. If `client_id` is missing or unknown, or
//!    `redirect_uri` is missing, malformed or not registered for that client, the user
//!    sees an error page and is **never** redirected: a redirect would send an attacker's
//!    victim wherever the attacker wrote.
//! 2. everything else. Those errors go back to the client's (now trusted) redirect URI
//!    as `error`, `error_description`, `state` and `iss` (RFC 9207).
//!
//! Only the code flow with PKCE `S256` is served (OAuth 2.1): `response_type=code`, a
//! `code_challenge` is required and `plain` is refused; `scope` must include `openid`.
//! `prompt` and `max_age` are kept for the adapter, which decides with
//! [`super::sso::may_resume`] whether the browser's single sign-on session may be used
//! (`prompt=none` without one answers `login_required`).

use super::acr::{self, AcrRequest};
use super::apps::{Client, client_id_ok};
use crate::token::challenge_is_valid;
use crate::urlencoded::PairsError;
use serde::{Deserialize, Serialize};

/// Longest `state` and `nonce` kept (they are echoed into URLs and tokens).
pub const MAX_ECHO_LEN: usize = 1024;
/// Longest query string read.
pub const MAX_QUERY_LEN: usize = 8 * 1024;

/// Where the response parameters go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ResponseMode {
    /// `?code=…` (the default for `code`).
    Query,
    /// `#code=…` (MSAL browser apps).
    Fragment,
}

/// A checked authorization request, kept with the sign-in until the code is issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthorizeRequest {
    /// `client_id`.
    pub client_id: String,
    /// The client's display name, for the pages.
    pub client_name: String,
    /// `redirect_uri`, exactly as sent (the token request must repeat it).
    pub redirect_uri: String,
    /// `query` or `fragment`.
    pub response_mode: ResponseMode,
    /// `scope`, as sent.
    pub scope: String,
    /// `state`, echoed back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `nonce`, put in the ID token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The `S256` `code_challenge`.
    pub code_challenge: String,
    /// `acr_values`, as sent (see [`super::acr`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr_values: Option<String>,
    /// `max_age` in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
    /// `prompt=login` was asked for.
    #[serde(default)]
    pub prompt_login: bool,
    /// `prompt=none`: no page may be shown (`login_required` / `interaction_required`).
    #[serde(default)]
    pub prompt_none: bool,
    /// `prompt=create`: open on the sign-up page.
    #[serde(default)]
    pub prompt_create: bool,
    /// `login_hint`, prefilled into the email field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_hint: Option<String>,
}

impl AuthorizeRequest {
    /// What `acr_values` asks of the sign-in.
    pub fn acr(&self) -> AcrRequest {
        acr::parse(self.acr_values.as_deref())
    }
}

/// Why an authorization request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// Show this on an error page; do not redirect (unknown client or redirect URI).
    Page {
        /// A stable code for tests and logs, e.g. `oidc.redirect_uri_not_registered`.
        code: &'static str,
        /// What the person should know.
        message: String,
    },
    /// Redirect to the client with this error.
    Redirect(ErrorRedirect),
}

/// An error response to send to the client's redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorRedirect {
    /// The registered redirect URI the request named.
    pub redirect_uri: String,
    /// Query or fragment.
    pub response_mode: ResponseMode,
    /// `error` (RFC 6749 §4.1.2.1 / OIDC Core §3.1.2.6).
    pub error: &'static str,
    /// `error_description`.
    pub description: String,
    /// `state`, if the request had one.
    pub state: Option<String>,
}

/// The query parameters, each name at most once (RFC 6749 §3.1), all UTF-8.
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Reads a query string (without `?`) with the rules of [`crate::urlencoded::pairs`].
    pub fn parse(query: &str) -> Result<Params, PairsError> {
        crate::urlencoded::pairs(query.as_bytes()).map(Params)
    }

    /// A parameter's value; empty counts as absent (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// The error page for a query that cannot be read.
fn unreadable(e: &PairsError) -> AuthorizeError {
    let code = match e {
        PairsError::Repeated(_) => "oidc.parameter_repeated",
        PairsError::NameNotUtf8 | PairsError::ValueNotUtf8(_) => "oidc.parameter_not_utf8",
    };
    page(code, e.message())
}

fn page(code: &'static str, message: impl Into<String>) -> AuthorizeError {
    AuthorizeError::Page {
        code,
        message: message.into(),
    }
}

/// Step 1: the `client_id` to look up, or the error page.
pub fn client_id(query: &str) -> Result<String, AuthorizeError> {
    if query.len() > MAX_QUERY_LEN {
        return Err(page(
            "oidc.request_too_large",
            "the authorization request is too large",
        ));
    }
    let params = Params::parse(query).map_err(|e| unreadable(&e))?;
    let id = params.get("client_id").ok_or_else(|| {
        page(
            "oidc.client_id_missing",
            "the request names no application (`client_id` is missing)",
        )
    })?;
    if !client_id_ok(id) {
        return Err(page(
            "oidc.client_unknown",
            "the application is not registered here",
        ));
    }
    Ok(id.to_string())
}

/// Step 2: the whole request, for the `client` the id named (`None`: not registered).
pub fn validate(query: &str, client: Option<&Client>) -> Result<AuthorizeRequest, AuthorizeError> {
    client_id(query)?;
    let params = Params::parse(query).map_err(|e| unreadable(&e))?;
    let client = client.ok_or_else(|| {
        page(
            "oidc.client_unknown",
            "the application is not registered here",
        )
    })?;
    let redirect_uri = params.get("redirect_uri").ok_or_else(|| {
        page(
            "oidc.redirect_uri_missing",
            "the request has no `redirect_uri`, so there is nowhere safe to send you back",
        )
    })?;
    if !client.allows_redirect(redirect_uri) {
        return Err(page(
            "oidc.redirect_uri_not_registered",
            "the address this request would send you back to is not registered for the application, so you were not sent there",
        ));
    }
    let state = params.get("state").map(str::to_string);
    let response_mode = match params.get("response_mode") {
        None | Some("query") => Ok(ResponseMode::Query),
        Some("fragment") => Ok(ResponseMode::Fragment),
        Some(_) => Err("`response_mode` must be `query` or `fragment`"),
    };
    let fail = |mode: ResponseMode, error: &'static str, description: &str| {
        AuthorizeError::Redirect(ErrorRedirect {
            redirect_uri: redirect_uri.to_string(),
            response_mode: mode,
            error,
            description: description.to_string(),
            state: state.clone().filter(|s| s.len() <= MAX_ECHO_LEN),
        })
    };
    let response_mode =
        response_mode.map_err(|d| fail(ResponseMode::Query, "invalid_request", d))?;
    let fail = |error, description: &str| fail(response_mode, error, description);
    if state.as_ref().is_some_and(|s| s.len() > MAX_ECHO_LEN) {
        return Err(fail("invalid_request", "`state` is too long"));
    }
    if params.get("request").is_some() {
        return Err(fail(
            "request_not_supported",
            "request objects are not supported",
        ));
    }
    if params.get("request_uri").is_some() {
        return Err(fail(
            "request_uri_not_supported",
            "`request_uri` is not supported",
        ));
    }
    match params.get("response_type") {
        Some("code") => {}
        None => return Err(fail("invalid_request", "`response_type` is missing")),
        Some(_) => {
            return Err(fail(
                "unsupported_response_type",
                "only `response_type=code` is supported",
            ));
        }
    }
    let scope = params.get("scope").unwrap_or_default();
    if !scope.split(' ').any(|s| s == "openid") {
        return Err(fail("invalid_scope", "`scope` must include `openid`"));
    }
    let code_challenge = params.get("code_challenge").ok_or_else(|| {
        fail(
            "invalid_request",
            "pkce is required: send a `code_challenge`",
        )
    })?;
    match params.get("code_challenge_method") {
        Some("S256") => {}
        None | Some("plain") => {
            return Err(fail(
                "invalid_request",
                "`code_challenge_method` must be `S256`; `plain` is not supported",
            ));
        }
        Some(_) => {
            return Err(fail(
                "invalid_request",
                "`code_challenge_method` must be `S256`",
            ));
        }
    }
    if !challenge_is_valid(code_challenge) {
        return Err(fail(
            "invalid_request",
            "`code_challenge` must be 43 base64url characters (a sha-256 digest)",
        ));
    }
    let nonce = params.get("nonce").map(str::to_string);
    if nonce.as_ref().is_some_and(|n| n.len() > MAX_ECHO_LEN) {
        return Err(fail("invalid_request", "`nonce` is too long"));
    }
    let max_age = match params.get("max_age") {
        None => None,
        Some(text) => Some(text.parse::<u64>().map_err(|_| {
            fail(
                "invalid_request",
                "`max_age` must be a non-negative number of seconds",
            )
        })?),
    };
    let mut prompt_login = false;
    let mut prompt_create = false;
    let mut prompt_none = false;
    let prompts: Vec<&str> = params
        .get("prompt")
        .unwrap_or_default()
        .split(' ')
        .filter(|p| !p.is_empty())
        .collect();
    for p in &prompts {
        match *p {
            "consent" | "select_account" => {}
            "login" => prompt_login = true,
            "create" => prompt_create = true,
            "none" => prompt_none = true,
            _ => return Err(fail("invalid_request", "`prompt` has an unknown value")),
        }
    }
    if prompt_none && prompts.len() > 1 {
        return Err(fail(
            "invalid_request",
            "`prompt=none` cannot be combined with other values",
        ));
    }
    let acr_values = params.get("acr_values").map(str::to_string);
    if acr_values.as_ref().is_some_and(|a| a.len() > 512) {
        return Err(fail("invalid_request", "`acr_values` is too long"));
    }
    let login_hint = params
        .get("login_hint")
        .filter(|h| h.len() <= 256)
        .map(str::to_string);
    Ok(AuthorizeRequest {
        client_id: client.app_id.clone(),
        client_name: client.display_name.clone(),
        redirect_uri: redirect_uri.to_string(),
        response_mode,
        scope: scope.to_string(),
        state,
        nonce,
        code_challenge: code_challenge.to_string(),
        acr_values,
        max_age,
        prompt_login,
        prompt_none,
        prompt_create,
        login_hint,
    })
}

/// The URL to send the browser to: `redirect_uri` plus the response parameters, in the
/// query (added after any query the URI has) or the fragment.
pub fn response_url(redirect_uri: &str, mode: ResponseMode, params: &[(&str, &str)]) -> String {
    let mut encoded = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        encoded.append_pair(k, v);
    }
    let encoded = encoded.finish();
    let sep = match mode {
        ResponseMode::Fragment => '#',
        ResponseMode::Query if redirect_uri.contains('?') => '&',
        ResponseMode::Query => '?',
    };
    format!("{redirect_uri}{sep}{encoded}")
}

impl ErrorRedirect {
    /// The redirect URL for this error, with `iss` (RFC 9207).
    pub fn url(&self, issuer: &str) -> String {
        let mut params = vec![
            ("error", self.error),
            ("error_description", self.description.as_str()),
        ];
        if let Some(state) = &self.state {
            params.push(("state", state.as_str()));
        }
        params.push(("iss", issuer));
        response_url(&self.redirect_uri, self.response_mode, &params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn q(extra: &str) -> String {
        format!(
            "client_id=vestibule-demo-app&redirect_uri=http%3A%2F%2F127.0.0.1%3A9000%2Fcb&response_type=code&scope=openid%20profile&state=s1&nonce=n1&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}"
        )
    }

    fn run(query: &str) -> Result<AuthorizeRequest, AuthorizeError> {
        let client = Client::demo();
        validate(query, Some(&client))
    }

    fn redirect_error(query: &str) -> (&'static str, Option<String>) {
        match run(query) {
            Err(AuthorizeError::Redirect(r)) => (r.error, r.state),
            other => panic!("expected a redirect error, got {other:?}"),
        }
    }

    #[test]
    fn a_good_request_is_kept_whole() {
        let r = run(&q(
            "&acr_values=2%20c1&max_age=300&prompt=login&login_hint=a%40b.c",
        ))
        .unwrap();
        assert_eq!(r.client_id, "vestibule-demo-app");
        assert_eq!(r.redirect_uri, "http://127.0.0.1:9000/cb");
        assert_eq!(r.response_mode, ResponseMode::Query);
        assert_eq!(r.state.as_deref(), Some("s1"));
        assert_eq!(r.nonce.as_deref(), Some("n1"));
        assert_eq!(r.max_age, Some(300));
        assert!(r.prompt_login && !r.prompt_create);
        assert!(r.acr().mfa);
        assert_eq!(r.acr().auth_contexts, ["c1"]);
        assert_eq!(r.login_hint.as_deref(), Some("a@b.c"));
    }

    #[test]
    fn client_and_redirect_problems_show_a_page_and_never_redirect() {
        let page_code = |r: Result<AuthorizeRequest, AuthorizeError>| match r {
            Err(AuthorizeError::Page { code, .. }) => code,
            other => panic!("expected a page, got {other:?}"),
        };
        assert_eq!(page_code(validate(&q(""), None)), "oidc.client_unknown");
        assert_eq!(
            page_code(run(&q("").replace(
                "http%3A%2F%2F127.0.0.1%3A9000%2Fcb",
                "https%3A%2F%2Fevil.example.com%2Fcb"
            ))),
            "oidc.redirect_uri_not_registered"
        );
        assert_eq!(
            page_code(run(&q("").replace("redirect_uri=", "x="))),
            "oidc.redirect_uri_missing"
        );
        assert_eq!(
            page_code(run(&format!("{}&client_id=x", q("")))),
            "oidc.parameter_repeated"
        );
        assert_eq!(
            page_code(client_id("redirect_uri=x").map(|_| run(&q("")).unwrap())),
            "oidc.client_id_missing"
        );
        // Even a bad response_type is not redirected when the redirect URI is unknown.
        assert_eq!(
            page_code(run(&q("")
                .replace("response_type=code", "response_type=token")
                .replace("127.0.0.1", "evil.example.com"))),
            "oidc.redirect_uri_not_registered"
        );
    }

    #[test]
    fn other_problems_go_back_to_the_client_with_state() {
        let no_pkce = q("").replace(&format!("&code_challenge={CHALLENGE}"), "");
        assert_eq!(redirect_error(&no_pkce).0, "invalid_request");
        let plain = q("").replace("S256", "plain");
        assert_eq!(
            redirect_error(&plain),
            ("invalid_request", Some("s1".into()))
        );
        let no_method = q("").replace("&code_challenge_method=S256", "");
        assert_eq!(redirect_error(&no_method).0, "invalid_request");
        let bad_challenge = q("").replace(CHALLENGE, "short");
        assert_eq!(redirect_error(&bad_challenge).0, "invalid_request");
        let token = q("").replace("response_type=code", "response_type=token");
        assert_eq!(redirect_error(&token).0, "unsupported_response_type");
        let no_openid = q("").replace("scope=openid%20profile", "scope=profile");
        assert_eq!(redirect_error(&no_openid).0, "invalid_scope");
        assert!(run(&q("&prompt=none")).unwrap().prompt_none);
        assert_eq!(
            redirect_error(&q("&prompt=none%20login")).0,
            "invalid_request"
        );
        assert_eq!(redirect_error(&q("&prompt=bogus")).0, "invalid_request");
        assert_eq!(redirect_error(&q("&max_age=-1")).0, "invalid_request");
        assert_eq!(redirect_error(&q("&request=x")).0, "request_not_supported");
        assert_eq!(
            redirect_error(&q("&response_mode=form_post")).0,
            "invalid_request"
        );
    }

    #[test]
    fn response_urls_put_parameters_where_the_mode_says() {
        assert_eq!(
            response_url(
                "https://a.example/cb",
                ResponseMode::Query,
                &[("code", "x y"), ("state", "s&t")]
            ),
            "https://a.example/cb?code=x+y&state=s%26t"
        );
        assert_eq!(
            response_url(
                "https://a.example/cb?k=1",
                ResponseMode::Query,
                &[("code", "c")]
            ),
            "https://a.example/cb?k=1&code=c"
        );
        assert_eq!(
            response_url(
                "https://a.example/cb",
                ResponseMode::Fragment,
                &[("code", "c")]
            ),
            "https://a.example/cb#code=c"
        );
        let e = ErrorRedirect {
            redirect_uri: "https://a.example/cb".into(),
            response_mode: ResponseMode::Query,
            error: "access_denied",
            description: "no".into(),
            state: Some("s".into()),
        };
        assert_eq!(
            e.url("https://id.example/t/v2.0"),
            "https://a.example/cb?error=access_denied&error_description=no&state=s&iss=https%3A%2F%2Fid.example%2Ft%2Fv2.0"
        );
    }
}
