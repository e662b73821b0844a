//! Configuration of one user flow: the Graph `authenticationMethodsPolicy`, the Graph
//! `externalUsersSelfServiceSignUpEventsFlow` (first factor, apps, sign-up attributes)
//! and Vestibule's own settings that Graph has no shape for (MFA enforcement as in B2C,
//! code length, lifetimes and limits, lockout, password hashing).
//!
//! Graph-shaped objects accept fields the engine does not read (so a Graph response
//! can be pasted as is); `settings` is ours and refuses unknown fields. Call
//! [`FlowConfig::validate`] once after loading.

use super::attributes::{AttributeSpec, AttributeType};
use super::err::FlowError;
use super::methods::AuthenticationMethodsPolicy;
use super::password::HashParams;
use serde::{Deserialize, Serialize};

/// Everything a flow needs to know about the tenant and the user flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlowConfig {
    /// Which second factors are enabled, and for whom.
    pub authentication_methods_policy: AuthenticationMethodsPolicy,
    /// The user flow (Graph `externalUsersSelfServiceSignUpEventsFlow`).
    pub user_flow: UserFlow,
    /// Settings without a Graph shape.
    #[serde(default)]
    pub settings: FlowSettings,
}

/// Graph `externalUsersSelfServiceSignUpEventsFlow`, the parts the engine reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserFlow {
    /// The flow id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The flow name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The apps the flow serves; absent means every app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<AuthenticationConditions>,
    /// Whether sign-up is allowed (`isSignUpAllowed`, default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_interactive_auth_flow_start: Option<InteractiveAuthFlowStart>,
    /// The first factor: `EmailPassword-OAUTH` or `EmailOtpSignup-OAUTH`.
    pub on_authentication_method_load_start: AuthenticationMethodLoadStart,
    /// Attributes collected at sign-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_attribute_collection: Option<AttributeCollection>,
}

/// Graph `authenticationConditions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationConditions {
    /// Graph `authenticationConditionsApplications`.
    #[serde(default)]
    pub applications: Option<ConditionApplications>,
}

/// Graph `authenticationConditionsApplications`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionApplications {
    /// Serve every app.
    #[serde(default)]
    pub include_all_applications: bool,
    /// The apps served, by app (client) id.
    #[serde(default)]
    pub include_applications: Vec<ApplicationRef>,
}

/// Graph `authenticationConditionApplication`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationRef {
    /// The app (client) id.
    pub app_id: String,
}

/// Graph `onInteractiveAuthFlowStartExternalUsersSelfServiceSignUp`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InteractiveAuthFlowStart {
    /// Whether new users may sign up.
    #[serde(default = "yes")]
    pub is_sign_up_allowed: bool,
}

fn yes() -> bool {
    true
}

/// Graph `onAuthenticationMethodLoadStartExternalUsersSelfServiceSignUp`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationMethodLoadStart {
    /// Identity providers by id; exactly one local-account provider is required.
    #[serde(default)]
    pub identity_providers: Vec<IdentityProviderRef>,
}

/// A Graph `identityProviderBase` reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityProviderRef {
    /// E.g. `EmailPassword-OAUTH`, `EmailOtpSignup-OAUTH`, `Google-OAUTH`.
    pub id: String,
}

/// Graph `onAttributeCollectionExternalUsersSelfServiceSignUp`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeCollection {
    /// Graph `identityUserFlowAttribute` entries: which attributes, and their types.
    #[serde(default)]
    pub attributes: Vec<UserFlowAttribute>,
    /// How each is collected: required, regex, options.
    #[serde(default)]
    pub attribute_collection_page: Option<AttributeCollectionPage>,
}

/// Graph `identityUserFlowAttribute`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserFlowAttribute {
    /// `displayName`, or a custom `extension_<appid>_<name>`.
    pub id: String,
    /// `string`, `boolean`, `int64` or `stringCollection` (others are read as string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
    /// The label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// Graph `authenticationAttributeCollectionPage`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeCollectionPage {
    /// Views; their inputs are read in order.
    #[serde(default)]
    pub views: Vec<AttributeCollectionView>,
}

/// Graph `authenticationAttributeCollectionPageViewConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeCollectionView {
    /// The inputs.
    #[serde(default)]
    pub inputs: Vec<AttributeInput>,
}

/// Graph `authenticationAttributeCollectionInputConfiguration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeInput {
    /// The attribute id.
    pub attribute: String,
    /// The label shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `text`, `radioSingleSelect`, `checkboxMultiSelect`, `boolean`, `checkboxSingleSelect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_type: Option<String>,
    /// Not shown to the user, so not asked for.
    #[serde(default)]
    pub hidden: bool,
    /// Must be given.
    #[serde(default)]
    pub required: bool,
    /// A regex every value must match.
    #[serde(
        default,
        rename = "validationRegEx",
        skip_serializing_if = "Option::is_none"
    )]
    pub validation_reg_ex: Option<String>,
    /// Allowed values for select inputs.
    #[serde(default)]
    pub options: Vec<AttributeOption>,
}

/// Graph `authenticationAttributeCollectionOptionConfiguration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeOption {
    /// The label shown.
    #[serde(default)]
    pub label: String,
    /// The value stored.
    pub value: String,
}

/// The local-account first factor of a user flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LocalAccount {
    /// `EmailPassword-OAUTH`: email and password (email verified by a code at sign-up).
    EmailPassword,
    /// `EmailOtpSignup-OAUTH`: email and a one-time code at every sign-in.
    EmailOtp,
}

/// MFA enforcement, as Azure AD B2C user flows offer it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MfaEnforcement {
    /// Never ask for a second factor (Conditional Access is not consulted).
    Off,
    /// Always ask for a second factor, regardless of Conditional Access.
    Always,
    /// Ask when Conditional Access requires it (External ID's model).
    #[default]
    Conditional,
}

/// Settings Graph has no shape for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct FlowSettings {
    /// Off, always, or conditional.
    pub mfa_enforcement: MfaEnforcement,
    /// One-time codes.
    pub codes: CodeSettings,
    /// Per-account failure throttling.
    pub lockout: LockoutSettings,
    /// Password rules and hashing cost.
    pub passwords: PasswordSettings,
    /// A flow (continuation) expires this long after it started (default 30 minutes).
    pub flow_lifetime_seconds: u64,
    /// After the reset code is verified, the new password must come within this time
    /// (native auth returns it as `expires_in`, at most 600).
    pub reset_window_seconds: u64,
    /// SMS caps across flows: per number from one network, user, IP, number across
    /// networks and country calling code, enforced by the Worker's guard (see
    /// [`crate::guard::sms_velocity`]).
    pub sms_velocity: crate::guard::velocity::SmsVelocity,
    /// Email code caps across flows: per address from one network, per network and per
    /// address across networks, enforced by the Worker's guard (see
    /// [`crate::guard::email_velocity`]).
    pub email_velocity: crate::guard::email_velocity::EmailVelocity,
    /// SMS protections: region opt-in per app and the CAPTCHA before an SMS.
    pub sms: crate::sms::SmsSettings,
}

impl Default for FlowSettings {
    fn default() -> Self {
        Self {
            mfa_enforcement: MfaEnforcement::default(),
            codes: CodeSettings::default(),
            lockout: LockoutSettings::default(),
            passwords: PasswordSettings::default(),
            flow_lifetime_seconds: 1800,
            reset_window_seconds: 600,
            sms_velocity: crate::guard::velocity::SmsVelocity::default(),
            email_velocity: crate::guard::email_velocity::EmailVelocity::default(),
            sms: crate::sms::SmsSettings::default(),
        }
    }
}

/// One-time code settings (NIST SP 800-63B, OWASP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct CodeSettings {
    /// Digits, 6 to 8 (default 8, as Entra sends).
    pub length: u8,
    /// Lifetime in seconds, at most 600 (default 600).
    pub lifetime_seconds: u64,
    /// Tries per code, 1 to 5 (default 5).
    pub max_attempts: u8,
    /// Wait between two codes of one step (default 60; native auth `interval`).
    pub resend_cooldown_seconds: u64,
    /// Codes one step may send, the first included (default 5).
    pub max_sends_per_step: u8,
    /// Codes one flow may send in all (default 10).
    pub max_codes_per_flow: u8,
}

impl Default for CodeSettings {
    fn default() -> Self {
        Self {
            length: 8,
            lifetime_seconds: 600,
            max_attempts: 5,
            resend_cooldown_seconds: 60,
            max_sends_per_step: 5,
            max_codes_per_flow: 10,
        }
    }
}

/// Per-account throttling (NIST SP 800-63B §5.2.2: at most 100 consecutive failures).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct LockoutSettings {
    /// Failures allowed before waits start (default 5).
    pub free_failures: u32,
    /// The first wait (default 30 s); each further failure doubles it.
    pub base_wait_seconds: u64,
    /// The longest wait (default 1 hour).
    pub max_wait_seconds: u64,
    /// Failures that disable the account, at most 100 (default 100).
    pub max_consecutive_failures: u32,
}

impl Default for LockoutSettings {
    fn default() -> Self {
        Self {
            free_failures: 5,
            base_wait_seconds: 30,
            max_wait_seconds: 3600,
            max_consecutive_failures: 100,
        }
    }
}

/// Password settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct PasswordSettings {
    /// Tenant-specific banned terms (matched after folding case and look-alikes).
    pub banned_passwords: Vec<String>,
    /// Argon2id cost.
    pub hashing: HashParams,
}

impl UserFlow {
    /// The local-account first factor.
    pub fn local_account(&self) -> Result<LocalAccount, FlowError> {
        let mut found = None;
        for (i, p) in self
            .on_authentication_method_load_start
            .identity_providers
            .iter()
            .enumerate()
        {
            let this = match p.id.as_str() {
                "EmailPassword-OAUTH" => LocalAccount::EmailPassword,
                "EmailOtpSignup-OAUTH" => LocalAccount::EmailOtp,
                _ => continue,
            };
            if found.is_some_and(|f| f != this) {
                return Err(FlowError::config(
                    format!("userFlow.onAuthenticationMethodLoadStart.identityProviders[{i}]"),
                    "a user flow has one local account: email with password or email with one-time passcode",
                ));
            }
            found = Some(this);
        }
        found.ok_or_else(|| {
            FlowError::config(
                "userFlow.onAuthenticationMethodLoadStart.identityProviders",
                "no local account provider: add `EmailPassword-OAUTH` or `EmailOtpSignup-OAUTH`",
            )
        })
    }

    /// Whether the flow serves `app_id`.
    pub fn serves(&self, app_id: &str) -> bool {
        match self
            .conditions
            .as_ref()
            .and_then(|c| c.applications.as_ref())
        {
            None => true,
            Some(apps) => {
                apps.include_all_applications
                    || apps.include_applications.iter().any(|a| a.app_id == app_id)
            }
        }
    }

    /// Whether new users may sign up.
    pub fn sign_up_allowed(&self) -> bool {
        self.on_interactive_auth_flow_start
            .as_ref()
            .is_none_or(|s| s.is_sign_up_allowed)
    }

    /// The attributes sign-up collects (the email is the username and is not listed).
    pub fn attribute_specs(&self) -> Vec<AttributeSpec> {
        let Some(collection) = &self.on_attribute_collection else {
            return Vec::new();
        };
        let inputs: Vec<&AttributeInput> = collection
            .attribute_collection_page
            .iter()
            .flat_map(|p| p.views.iter())
            .flat_map(|v| v.inputs.iter())
            .collect();
        collection
            .attributes
            .iter()
            .filter(|a| !a.id.eq_ignore_ascii_case("email"))
            .filter_map(|a| {
                let input = inputs.iter().find(|i| i.attribute == a.id);
                if input.is_some_and(|i| i.hidden) {
                    return None;
                }
                Some(AttributeSpec {
                    name: a.id.clone(),
                    data_type: AttributeType::from_graph(a.data_type.as_deref()),
                    required: input.is_some_and(|i| i.required),
                    regex: input.and_then(|i| i.validation_reg_ex.clone()),
                    options: input
                        .map(|i| i.options.iter().map(|o| o.value.clone()).collect())
                        .unwrap_or_default(),
                    label: input
                        .and_then(|i| i.label.clone())
                        .or_else(|| a.display_name.clone()),
                })
            })
            .collect()
    }
}

impl FlowConfig {
    /// Checks every rule once, so steps can trust the configuration.
    pub fn validate(&self) -> Result<(), FlowError> {
        self.user_flow.local_account()?;
        for (i, spec) in self.user_flow.attribute_specs().iter().enumerate() {
            if let Some(pattern) = &spec.regex {
                regex_lite::Regex::new(pattern).map_err(|e| {
                    FlowError::config(
                        format!("userFlow.onAttributeCollection.attributes[{i}].validationRegEx"),
                        format!("`{pattern}` is not a valid regex: {e}"),
                    )
                })?;
            }
        }
        let s = &self.settings;
        let c = &s.codes;
        let checks: [(bool, &str, &str); 10] = [
            (
                (6..=8).contains(&c.length),
                "settings.codes.length",
                "must be 6 to 8 digits",
            ),
            (
                (1..=600).contains(&c.lifetime_seconds),
                "settings.codes.lifetimeSeconds",
                "must be 1 to 600 (nist: 10 minutes at most)",
            ),
            (
                (1..=5).contains(&c.max_attempts),
                "settings.codes.maxAttempts",
                "must be 1 to 5",
            ),
            (
                c.max_sends_per_step >= 1,
                "settings.codes.maxSendsPerStep",
                "must be at least 1",
            ),
            (
                c.max_codes_per_flow >= 1,
                "settings.codes.maxCodesPerFlow",
                "must be at least 1",
            ),
            (
                (1..=100).contains(&s.lockout.max_consecutive_failures),
                "settings.lockout.maxConsecutiveFailures",
                "must be 1 to 100 (nist: 100 at most)",
            ),
            (
                s.lockout.free_failures < s.lockout.max_consecutive_failures,
                "settings.lockout.freeFailures",
                "must be below `maxConsecutiveFailures`",
            ),
            (
                s.passwords.hashing.is_within_bounds(),
                "settings.passwords.hashing",
                "memory 8×parallelism to 65536 KiB, iterations 1 to 8, parallelism 1 to 4",
            ),
            (
                s.flow_lifetime_seconds >= 60,
                "settings.flowLifetimeSeconds",
                "must be at least 60",
            ),
            (
                (1..=600).contains(&s.reset_window_seconds),
                "settings.resetWindowSeconds",
                "must be 1 to 600",
            ),
        ];
        for (ok, target, reason) in checks {
            if !ok {
                return Err(FlowError::config(target, reason));
            }
        }
        if let Some((target, reason)) = s
            .sms_velocity
            .problem()
            .or_else(|| s.email_velocity.problem())
        {
            return Err(FlowError::config(target, reason));
        }
        s.sms
            .validate()
            .map_err(|(target, reason)| FlowError::config(format!("settings.sms.{target}"), reason))
    }
}

/// A configuration document that is not JSON of the configuration's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigJsonError {
    /// The JSON path of the value at fault (`.` for the whole document).
    pub path: String,
    /// What is wrong with it, without a text position.
    pub message: String,
}

/// Reading a configuration from JSON.
impl FlowConfig {
    /// The typed configuration of a JSON text, with the JSON path of the first value that
    /// does not fit. Every reader of a configuration (KV, the admin API, the dev route, the
    /// built-in flow, the npm package's step call) reads it from text with `serde_json`, so
    /// `FlowConfig`'s large `Deserialize` tree is compiled once per wasm module.
    pub fn from_json_text(text: &str) -> Result<FlowConfig, ConfigJsonError> {
        serde_json::from_str(text).map_err(|e| ConfigJsonError {
            path: crate::json_path::at(text, e.line(), e.column()),
            message: crate::json_path::message(&e),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph_flow() -> UserFlow {
        serde_json::from_value(serde_json::json!({
            "@odata.type": "#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow",
            "displayName": "Woodgrove Drive User Flow",
            "conditions": {"applications": {"includeApplications": [{"appId": "app-1"}]}},
            "onAuthenticationMethodLoadStart": {
                "@odata.type": "#microsoft.graph.onAuthenticationMethodLoadStartExternalUsersSelfServiceSignUp",
                "identityProviders": [{"id": "EmailPassword-OAUTH"}, {"id": "Google-OAUTH"}]
            },
            "onInteractiveAuthFlowStart": {
                "@odata.type": "#microsoft.graph.onInteractiveAuthFlowStartExternalUsersSelfServiceSignUp",
                "isSignUpAllowed": true
            },
            "onAttributeCollection": {
                "@odata.type": "#microsoft.graph.onAttributeCollectionExternalUsersSelfServiceSignUp",
                "attributes": [
                    {"id": "email", "dataType": "string", "userFlowAttributeType": "builtIn"},
                    {"id": "displayName", "dataType": "string", "displayName": "Display Name"},
                    {"id": "extension_abc_Age", "dataType": "int64"}
                ],
                "attributeCollectionPage": {"views": [{"inputs": [
                    {"attribute": "email", "label": "Email Address", "inputType": "Text", "hidden": true, "editable": false, "required": true,
                     "validationRegEx": "^[a-zA-Z0-9.!#$%&amp;&#8217;'*+/=?^_`{|}~-]+@[a-zA-Z0-9-]+(?:.[a-zA-Z0-9-]+)*$"},
                    {"attribute": "displayName", "label": "Display Name", "inputType": "text", "required": true,
                     "validationRegEx": "^[a-zA-Z_][0-9a-zA-Z_ ]*[0-9a-zA-Z_]+$", "options": []}
                ]}]}
            }
        }))
        .unwrap()
    }

    #[test]
    fn reads_the_graph_user_flow() {
        let flow = graph_flow();
        assert_eq!(flow.local_account(), Ok(LocalAccount::EmailPassword));
        assert!(flow.serves("app-1"));
        assert!(!flow.serves("app-2"));
        assert!(flow.sign_up_allowed());
        let specs = flow.attribute_specs();
        assert_eq!(specs.len(), 2, "email is the username, not an attribute");
        assert_eq!(specs[0].name, "displayName");
        assert!(specs[0].required);
        assert_eq!(specs[1].data_type, AttributeType::Int64);
        assert!(!specs[1].required);
    }

    #[test]
    fn validation_points_at_the_field() {
        let mut config = FlowConfig {
            authentication_methods_policy: Default::default(),
            user_flow: graph_flow(),
            settings: FlowSettings::default(),
        };
        assert_eq!(config.validate(), Ok(()));
        config.settings.codes.max_attempts = 6;
        let err = config.validate().unwrap_err();
        assert_eq!(err.code(), "flow.invalid_config");
        assert_eq!(err.target(), Some("settings.codes.maxAttempts"));
        config.settings.codes.max_attempts = 5;
        config.settings.email_velocity.address_all_ips.burst = 0;
        let err = config.validate().unwrap_err();
        assert_eq!(err.target(), Some("settings.emailVelocity.addressAllIps"));
        config.settings.email_velocity.address_all_ips.burst = 20;
        assert_eq!(config.validate(), Ok(()));
        config
            .user_flow
            .on_authentication_method_load_start
            .identity_providers = vec![IdentityProviderRef {
            id: "Google-OAUTH".into(),
        }];
        assert_eq!(config.validate().unwrap_err().code(), "flow.invalid_config");
    }

    #[test]
    fn settings_refuse_unknown_fields() {
        let err =
            serde_json::from_value::<FlowSettings>(serde_json::json!({"mfaEnforcment": "off"}));
        assert!(err.is_err());
    }
}
