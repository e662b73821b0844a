//! The facts about one sign-in that Conditional Access decides on, and what the session
//! has already proven. These are the types the flow engine hands to [`super::enforce`], so
//! they are kept small, owned and serde-friendly (the Worker and the JS package build them
//! from JSON).

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// One sign-in as Conditional Access sees it, after the first factor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignIn {
    /// The directory object id of the user signing in.
    pub user_id: String,
    /// Whether the user is a guest or external user (`GuestsOrExternalUsers`).
    #[serde(default)]
    pub is_guest: bool,
    /// Groups the user is a member of (transitively), resolved by the caller.
    #[serde(default)]
    pub group_ids: Vec<String>,
    /// Directory role template ids the user holds.
    #[serde(default)]
    pub role_ids: Vec<String>,
    /// The application (client id) being signed in to.
    pub app_id: String,
    /// A user action such as `urn:user:registersecurityinfo`, instead of an app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_action: Option<String>,
    /// Authentication context class references requested (step-up), e.g. `c1`.
    #[serde(default)]
    pub auth_contexts: Vec<String>,
    /// Client IP as text (v4 or v6), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// ISO 3166-1 alpha-2 country of the request, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Graph `clientAppType` value (e.g. `browser`, `mobileAppsAndDesktopClients`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_app_type: Option<String>,
    /// Graph `devicePlatform` value (e.g. `android`, `iOS`, `windows`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_platform: Option<String>,
    /// Graph risk level (`low`, `medium`, `high`, `none`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_risk: Option<String>,
    /// Graph risk level of the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_risk: Option<String>,
    /// Device properties for `devices.deviceFilter` (e.g. `{"trustType": "AzureAD"}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<serde_json::Map<String, serde_json::Value>>,
    /// Graph `authenticationFlow` transfer method (`deviceCodeFlow`, `authenticationTransfer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_flow: Option<String>,
    /// For a guest, its Graph `guestOrExternalUserType` (e.g. `b2bCollaborationGuest`), so
    /// `include/excludeGuestsOrExternalUsers` can select by type. Setting it also marks the
    /// user as a guest; a guest with no type is evaluated as `b2bCollaborationGuest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_user_type: Option<String>,
    /// For a guest, the id of its home tenant (for `externalTenants` with `enumerated` members).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_tenant_id: Option<String>,
    /// The user has changed their password in this session, which satisfies the grant
    /// control `passwordChange` (the remediation of a risky user).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub password_changed: bool,
}

/// An authentication method, by its Graph `authenticationMethodModes` name where Graph has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AuthMethod {
    /// Something the user knows.
    Password,
    /// A one-time passcode sent by email.
    Email,
    /// A one-time passcode sent by SMS.
    Sms,
}

/// A method this session has already proven, and when, so sign-in frequency can be judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SatisfiedMethod {
    /// The method.
    pub method: AuthMethod,
    /// When it was completed.
    pub at: Timestamp,
}
