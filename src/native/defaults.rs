//! The built-in user flow: what every tenant gets until it stores its own configuration
//! (the Worker reads `tenant/{tenant}/flowConfig` from KV first).
//!
//! - one public client, [`DEMO_CLIENT_ID`] (`vestibule-demo-app`);
//! - local accounts with email and password (`EmailPassword-OAUTH`), sign-up allowed,
//!   an optional `displayName` attribute;
//! - email and SMS one-time codes enabled as second factors for all users;
//! - MFA `conditional`: the tenant's Conditional Access policies decide, so with no
//!   policy nobody is asked for a second factor, and a policy requiring `mfa` turns the
//!   MFA and registration loops on;
//! - the engine's defaults otherwise (8-digit codes valid 10 minutes, 5 tries,
//!   60-second resend wait, 30-minute flows).

use crate::flow::FlowConfig;
use serde_json::json;

/// The client id the built-in flow serves.
pub const DEMO_CLIENT_ID: &str = "vestibule-demo-app";

/// The built-in configuration as Graph-shaped JSON (the same shape a tenant stores).
pub fn builtin_flow_config_json() -> serde_json::Value {
    let everyone = json!([{"targetType": "group", "id": "all_users"}]);
    json!({
        "authenticationMethodsPolicy": {
            "authenticationMethodConfigurations": [
                {"@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration",
                 "id": "Email", "state": "enabled", "includeTargets": everyone},
                {"@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration",
                 "id": "Sms", "state": "enabled", "includeTargets": everyone}
            ]
        },
        "userFlow": {
            "displayName": "Vestibule built-in user flow",
            "conditions": {"applications": {"includeApplications": [{"appId": DEMO_CLIENT_ID}]}},
            "onInteractiveAuthFlowStart": {"isSignUpAllowed": true},
            "onAuthenticationMethodLoadStart": {"identityProviders": [{"id": "EmailPassword-OAUTH"}]},
            "onAttributeCollection": {
                "attributes": [{"id": "displayName", "dataType": "string", "displayName": "Display name"}],
                "attributeCollectionPage": {"views": [{"inputs": [
                    {"attribute": "displayName", "label": "Display name", "inputType": "text", "required": false}
                ]}]}
            }
        },
        "settings": {"mfaEnforcement": "conditional"}
    })
}

/// The built-in configuration, validated. `None` only if the engine's rules changed
/// under it, which the unit test below catches first.
pub fn builtin_flow_config() -> Option<FlowConfig> {
    let config = FlowConfig::from_json_text(&builtin_flow_config_json().to_string()).ok()?;
    config.validate().ok()?;
    Some(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{LocalAccount, MfaEnforcement};

    #[test]
    fn the_builtin_flow_is_valid_and_serves_only_the_demo_app() {
        let c = builtin_flow_config().expect("valid");
        assert!(c.user_flow.serves(DEMO_CLIENT_ID));
        assert!(!c.user_flow.serves("someone-else"));
        assert_eq!(c.user_flow.local_account(), Ok(LocalAccount::EmailPassword));
        assert_eq!(c.settings.mfa_enforcement, MfaEnforcement::Conditional);
        assert!(c.user_flow.sign_up_allowed());
        let specs = c.user_flow.attribute_specs();
        assert_eq!(specs.len(), 1);
        assert!(!specs[0].required);
    }
}
