//! What a caller sends to the engine: one start input to open a flow, then step inputs.
//! Each input names the native-auth call it stands for, so the Worker maps requests
//! one to one.

use super::channel::Channel;
use crate::pii::{Pii, Secret};
use crate::policy::SatisfiedMethod;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One request to the flow engine.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(
    remote = "Self",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum FlowInput {
    /// `/oauth2/v2.0/initiate`.
    StartSignIn(StartSignIn),
    /// `/signup/v1.0/start`.
    StartSignUp(StartSignUp),
    /// `/resetpassword/v1.0/start`.
    StartPasswordReset(StartPasswordReset),
    /// A signed-in user asks for an authentication context, or a session is past a
    /// sign-in frequency (RFC 9470 step-up).
    StartStepUp(StartStepUp),
    /// A signed-in user adds, replaces or removes a strong method.
    StartMethodChange(StartMethodChange),
    /// `/…/challenge` (first factor, sign-up or reset): ask for the challenge, or resend.
    Challenge {
        /// The client's `challenge_type` list, if it sent one again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        challenge_types: Option<ChallengeTypes>,
    },
    /// `/oauth2/v2.0/token` `grant_type=password`, `/signup/v1.0/continue`
    /// `grant_type=password`, `/resetpassword/v1.0/submit` `new_password`.
    SubmitPassword {
        /// The password.
        password: Secret<String>,
    },
    /// `grant_type=oob` / `mfa_oob` on any endpoint: a one-time code.
    SubmitCode {
        /// The code as typed.
        code: Secret<String>,
    },
    /// `/signup/v1.0/continue` `grant_type=attributes`.
    SubmitAttributes {
        /// Attribute values by id.
        attributes: Map<String, Value>,
    },
    /// `/oauth2/v2.0/introspect` or `/register/v1.0/introspect`.
    ListMethods,
    /// `/oauth2/v2.0/challenge` with `id`: send (or resend) a code to a registered method.
    SelectMethod {
        /// The method id from the method list.
        id: String,
    },
    /// `/register/v1.0/challenge`: register a phone number or email and send it a code.
    RegisterMethod {
        /// `email` or `sms`.
        channel: Channel,
        /// The E.164 number or email address (`challenge_target`).
        target: Pii<String>,
    },
    /// `/register/v1.0/continue` `grant_type=continuation_token` after `preverified`.
    Continue,
    /// `/resetpassword/v1.0/poll_completion`.
    PollCompletion,
    /// `/oauth2/v2.0/token` `grant_type=continuation_token`.
    RedeemContinuation,
    /// The user gives up (e.g. closes the registration screen).
    Cancel,
}
crate::tagged_enum!(FlowInput, "type");

impl FlowInput {
    /// The input with every password in it passed through `normalize`.
    ///
    /// One password can be typed as different code points: `é` as one character on one
    /// keyboard, `e` + a combining accent on another (or pasted from some macOS apps),
    /// full-width digits on a Japanese one. Hashed as typed, the second spelling was a
    /// wrong password, so a person who signed up on one device could not sign in on the
    /// other. NIST SP 800-63B asks verifiers to normalize (NFKC or NFKD) before hashing.
    /// The core carries no Unicode tables (the `unicode-normalization` crate added 64 KB
    /// gzip to the Worker): each adapter passes its platform's normalizer
    /// (`String.prototype.normalize("NFKC")` in the Worker and the JS package) before the
    /// step, so the strength rules, the hash and the check all see the normalized text.
    pub fn with_normalized_passwords(self, normalize: impl Fn(&str) -> String) -> FlowInput {
        let apply = |p: Secret<String>| Secret::new(normalize(p.expose()));
        match self {
            FlowInput::SubmitPassword { password } => FlowInput::SubmitPassword {
                password: apply(password),
            },
            FlowInput::StartSignUp(mut start) => {
                start.password = start.password.map(apply);
                FlowInput::StartSignUp(start)
            }
            other => other,
        }
    }

    /// A short name for errors and audit.
    pub fn name(&self) -> &'static str {
        match self {
            FlowInput::StartSignIn(_) => "startSignIn",
            FlowInput::StartSignUp(_) => "startSignUp",
            FlowInput::StartPasswordReset(_) => "startPasswordReset",
            FlowInput::StartStepUp(_) => "startStepUp",
            FlowInput::StartMethodChange(_) => "startMethodChange",
            FlowInput::Challenge { .. } => "challenge",
            FlowInput::SubmitPassword { .. } => "submitPassword",
            FlowInput::SubmitCode { .. } => "submitCode",
            FlowInput::SubmitAttributes { .. } => "submitAttributes",
            FlowInput::ListMethods => "listMethods",
            FlowInput::SelectMethod { .. } => "selectMethod",
            FlowInput::RegisterMethod { .. } => "registerMethod",
            FlowInput::Continue => "continue",
            FlowInput::PollCompletion => "pollCompletion",
            FlowInput::RedeemContinuation => "redeemContinuation",
            FlowInput::Cancel => "cancel",
        }
    }
}

/// Starts a sign-in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartSignIn {
    /// The app (`client_id`).
    pub app_id: String,
    /// The `username` (email).
    pub email: Pii<String>,
    /// What the client can handle (`capabilities`).
    #[serde(default)]
    pub capabilities: Capabilities,
    /// The client's `challenge_type` list.
    #[serde(default)]
    pub challenge_types: ChallengeTypes,
    /// Facts about the request for Conditional Access.
    #[serde(default)]
    pub facts: ClientFacts,
    /// Authentication contexts the app asks for (`acr_values`), if any.
    #[serde(default)]
    pub auth_contexts: Vec<String>,
}

/// Starts a sign-up.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartSignUp {
    /// The app (`client_id`).
    pub app_id: String,
    /// The `username` (email).
    pub email: Pii<String>,
    /// A password given up front (`/signup/v1.0/start` `password`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret<String>>,
    /// Attributes given up front.
    #[serde(default)]
    pub attributes: Map<String, Value>,
    /// What the client can handle.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// The client's `challenge_type` list.
    #[serde(default)]
    pub challenge_types: ChallengeTypes,
    /// Facts about the request for Conditional Access.
    #[serde(default)]
    pub facts: ClientFacts,
}

/// Starts a self-service password reset.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartPasswordReset {
    /// The app (`client_id`).
    pub app_id: String,
    /// The `username` (email).
    pub email: Pii<String>,
    /// What the client can handle.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// Facts about the request for Conditional Access.
    #[serde(default)]
    pub facts: ClientFacts,
}

/// Starts a step-up for a signed-in user.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartStepUp {
    /// The app asking.
    pub app_id: String,
    /// The session, as the adapter verified it.
    pub session: Session,
    /// Authentication contexts asked for (e.g. `c1` for a wire transfer).
    #[serde(default)]
    pub auth_contexts: Vec<String>,
    /// What the client can handle.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// The client's `challenge_type` list (used if a first factor is needed again).
    #[serde(default)]
    pub challenge_types: ChallengeTypes,
    /// Facts about the request for Conditional Access.
    #[serde(default)]
    pub facts: ClientFacts,
}

/// Starts a change of strong methods for a signed-in user.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartMethodChange {
    /// The app asking.
    pub app_id: String,
    /// The session, as the adapter verified it.
    pub session: Session,
    /// What to change.
    pub change: MethodChange,
    /// Facts about the request for Conditional Access.
    #[serde(default)]
    pub facts: ClientFacts,
}

/// A change to the user's strong methods. Any change needs a second factor proven in
/// this flow when the user has a usable method already.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    remote = "Self",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum MethodChange {
    /// Add a method on this channel.
    Add {
        /// Email or SMS.
        channel: Channel,
    },
    /// Replace a method with a new target on the same channel.
    Replace {
        /// The method id.
        method_id: String,
    },
    /// Remove a method.
    Remove {
        /// The method id.
        method_id: String,
    },
}
crate::tagged_enum!(MethodChange, "action");

/// A signed-in session: who, and which methods it proved when. The adapter builds it
/// from a token or session record it has verified; the engine trusts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Session {
    /// The user id.
    pub user_id: String,
    /// Methods proven in the session, with times (from `IssueTokens.methods`).
    pub methods: Vec<SatisfiedMethod>,
    /// When the session began (its tokens were first issued). Given, a password change
    /// or reset after it ends the session: its methods no longer count and the first
    /// factor is asked again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_in_at: Option<Timestamp>,
}

/// Native auth `capabilities`. Without `mfa_required` / `registration_required` the
/// API answers `redirect` instead of the MFA / registration loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Capabilities {
    /// The client can run the MFA loop.
    pub mfa_required: bool,
    /// The client can run the registration loop.
    pub registration_required: bool,
}

impl Default for Capabilities {
    /// Both, for Vestibule's own clients. The Worker must pass what the request said.
    fn default() -> Self {
        Self {
            mfa_required: true,
            registration_required: true,
        }
    }
}

/// Native auth `challenge_type` (`redirect` is always implied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChallengeTypes {
    /// `password`.
    pub password: bool,
    /// `oob` (one-time code).
    pub oob: bool,
}

impl Default for ChallengeTypes {
    fn default() -> Self {
        Self {
            password: true,
            oob: true,
        }
    }
}

/// Facts about the request that Conditional Access decides on (see
/// [`crate::policy::SignIn`]); all optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientFacts {
    /// Client IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<Pii<String>>,
    /// ISO 3166-1 alpha-2 country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Graph `clientAppType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_app_type: Option<String>,
    /// Graph `devicePlatform`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_platform: Option<String>,
    /// Sign-in risk (`low`, `medium`, `high`, `none`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_risk: Option<String>,
    /// User risk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_risk: Option<String>,
    /// Device properties for device filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<Map<String, Value>>,
    /// Graph `authenticationFlow` transfer method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_flow: Option<String>,
    /// When the adapter verified a CAPTCHA for this request ([`crate::sms::captcha`]);
    /// it lets an SMS go when fraud is suspected. Set only by an adapter that checked a
    /// widget token with `siteverify`, never from client input (native auth never sets it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captcha_verified_at: Option<crate::time::Timestamp>,
}

impl ClientFacts {
    /// Whether the request is risky (medium or high), which blocks users who would have
    /// to register a method first (B2C and Entra: AADSTS53004).
    pub fn is_risky(&self) -> bool {
        [&self.sign_in_risk, &self.user_risk]
            .into_iter()
            .flatten()
            .any(|r| r.eq_ignore_ascii_case("medium") || r.eq_ignore_ascii_case("high"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_password_and_nothing_else_is_normalized() {
        let shout = |t: &str| t.to_uppercase();
        let FlowInput::SubmitPassword { password } = (FlowInput::SubmitPassword {
            password: Secret::new("caf\u{e9}".into()),
        })
        .with_normalized_passwords(shout) else {
            panic!("not a password")
        };
        assert_eq!(password.expose(), "CAF\u{c9}");
        let start: FlowInput = serde_json::from_value(serde_json::json!({
            "type": "startSignUp", "appId": "app", "email": "zoe@example.com",
            "password": "secret words"
        }))
        .unwrap();
        let FlowInput::StartSignUp(start) = start.with_normalized_passwords(shout) else {
            panic!("not a start")
        };
        assert_eq!(start.password.unwrap().expose(), "SECRET WORDS");
        assert_eq!(
            start.email.expose(),
            "zoe@example.com",
            "the address is not a password"
        );
        let code = FlowInput::SubmitCode {
            code: Secret::new("abc".into()),
        }
        .with_normalized_passwords(shout);
        assert!(matches!(code, FlowInput::SubmitCode { code } if code.expose() == "abc"));
    }
}
