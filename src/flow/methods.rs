//! The authentication methods policy, in the shape of Microsoft Graph
//! `authenticationMethodsPolicy` (only the `Email` and `Sms` configurations are read).
//!
//! It decides which second factors a user may use and register:
//! `state` must be `enabled`, the user must match an `includeTargets` entry (a user id,
//! a group id, or the group `all_users`) and no `excludeTargets` entry; for email,
//! `allowExternalIdToUseEmailOtp: "disabled"` also turns it off. SMS
//! `isUsableForSignIn` is read and kept, but SMS is never a first factor here (External
//! ID does not offer it), so it has no effect. Fields Graph returns that the engine does
//! not use are accepted and ignored, so a Graph GET response can be pasted as is.

use super::channel::Channel;
use super::user::UserRecord;
use serde::{Deserialize, Serialize};

/// Graph `authenticationMethodsPolicy` (the parts the flow engine reads).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationMethodsPolicy {
    /// One configuration per method; only `Email` and `Sms` are read.
    #[serde(default)]
    pub authentication_method_configurations: Vec<MethodConfiguration>,
}

/// Graph `emailAuthenticationMethodConfiguration` / `smsAuthenticationMethodConfiguration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodConfiguration {
    /// E.g. `#microsoft.graph.smsAuthenticationMethodConfiguration`.
    #[serde(
        rename = "@odata.type",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub odata_type: Option<String>,
    /// `Email` or `Sms` (other methods are ignored).
    pub id: String,
    /// `enabled` or `disabled`.
    pub state: MethodState,
    /// Who may use the method.
    #[serde(default)]
    pub include_targets: Vec<MethodTarget>,
    /// Who may not, even if included.
    #[serde(default)]
    pub exclude_targets: Vec<MethodTarget>,
    /// Email only: `default`, `enabled` or `disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_external_id_to_use_email_otp: Option<String>,
}

/// Graph `authenticationMethodState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MethodState {
    /// The method is on for its targets.
    Enabled,
    /// The method is off for everyone.
    Disabled,
}

/// Graph `authenticationMethodTarget` / `smsAuthenticationMethodTarget`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodTarget {
    /// `user` or `group`.
    pub target_type: TargetType,
    /// A user id, a group id, or `all_users`.
    pub id: String,
    /// Graph field, kept for round trips; registration is asked for when MFA needs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_registration_required: Option<bool>,
    /// SMS only: usable as a first factor. Kept for round trips; SMS is never a first
    /// factor in this engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_usable_for_sign_in: Option<bool>,
}

/// Graph `authenticationMethodTargetType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TargetType {
    /// A single user, by object id.
    User,
    /// A group, or `all_users`.
    Group,
}

impl MethodTarget {
    fn matches(&self, user: &UserRecord) -> bool {
        match self.target_type {
            TargetType::User => self.id == user.id,
            TargetType::Group => self.id == "all_users" || user.groups.contains(&self.id),
        }
    }
}

impl AuthenticationMethodsPolicy {
    fn configuration(&self, channel: Channel) -> Option<&MethodConfiguration> {
        let id = match channel {
            Channel::Email => "email",
            Channel::Sms => "sms",
        };
        self.authentication_method_configurations
            .iter()
            .find(|c| c.id.eq_ignore_ascii_case(id))
    }

    /// Whether `user` may use (and register) `channel` as a second factor.
    pub fn allows(&self, channel: Channel, user: &UserRecord) -> bool {
        let Some(config) = self.configuration(channel) else {
            return false;
        };
        let email_off = channel == Channel::Email
            && config
                .allow_external_id_to_use_email_otp
                .as_deref()
                .is_some_and(|v| v.eq_ignore_ascii_case("disabled"));
        config.state == MethodState::Enabled
            && !email_off
            && config.include_targets.iter().any(|t| t.matches(user))
            && !config.exclude_targets.iter().any(|t| t.matches(user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::Pii;
    use crate::time::Timestamp;

    fn user(groups: &[&str]) -> UserRecord {
        UserRecord {
            id: "u1".into(),
            email: Pii::new("a@example.com".into()),
            password_hash: None,
            display_name: None,
            attributes: Default::default(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            strong_methods: vec![],
            lockout: Default::default(),
            created_at: Timestamp(0),
            password_changed_at: None,
        }
    }

    #[test]
    fn graph_shape_with_targets_and_exclusions() {
        let policy: AuthenticationMethodsPolicy = serde_json::from_value(serde_json::json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#authenticationMethodsPolicy",
            "id": "authenticationMethodsPolicy",
            "policyVersion": "1.4",
            "authenticationMethodConfigurations": [
                {"@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration", "id": "Sms",
                 "state": "enabled",
                 "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": false, "isUsableForSignIn": true}],
                 "excludeTargets": [{"targetType": "group", "id": "no-sms"}]},
                {"@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration", "id": "Email",
                 "state": "enabled", "allowExternalIdToUseEmailOtp": "default",
                 "includeTargets": [{"targetType": "user", "id": "u1"}]},
                {"@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration", "id": "Fido2",
                 "state": "enabled", "isSelfServiceRegistrationAllowed": true}
            ]
        }))
        .unwrap();
        assert!(policy.allows(Channel::Sms, &user(&[])));
        assert!(
            !policy.allows(Channel::Sms, &user(&["no-sms"])),
            "exclusion wins"
        );
        assert!(policy.allows(Channel::Email, &user(&[])));
        let mut other = user(&[]);
        other.id = "u2".into();
        assert!(!policy.allows(Channel::Email, &other), "not targeted");
    }

    #[test]
    fn missing_or_disabled_methods_are_off() {
        let none = AuthenticationMethodsPolicy::default();
        assert!(!none.allows(Channel::Email, &user(&[])));
        let off: AuthenticationMethodsPolicy = serde_json::from_value(serde_json::json!({
            "authenticationMethodConfigurations": [
                {"id": "Email", "state": "enabled", "allowExternalIdToUseEmailOtp": "disabled",
                 "includeTargets": [{"targetType": "group", "id": "all_users"}]},
                {"id": "Sms", "state": "disabled",
                 "includeTargets": [{"targetType": "group", "id": "all_users"}]}
            ]
        }))
        .unwrap();
        assert!(!off.allows(Channel::Email, &user(&[])));
        assert!(!off.allows(Channel::Sms, &user(&[])));
    }
}
