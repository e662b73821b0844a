//! What a PATCH of an app registration may change.
//!
//! `appId` is the OAuth `client_id`, and everything else names the app by it: the user
//! flow's `includeApplications`, Conditional Access `includeApplications`, the SMS region
//! listeners, issued refresh tokens. Graph makes it read-only for that reason. Changed by
//! a PATCH here, every one of those would silently stop naming the app: a policy requiring
//! MFA "for the shop" would no longer apply to it. So it is fixed once the registration
//! exists (chosen or assigned at creation); giving the same value again, as a body pasted
//! from a GET does, is fine.

use crate::error::ErrorBody;
use serde_json::Value;

/// Refuses a PATCH `body` that would give the registration `current` another `appId`.
pub fn app_id_unchanged(current: &Value, body: &Value) -> Result<(), ErrorBody> {
    let Some(wanted) = body.get("appId") else {
        return Ok(());
    };
    if current.get("appId") == Some(wanted) {
        return Ok(());
    }
    Err(ErrorBody::new(
        "app.app_id_read_only",
        "`appId` is the application's client id and cannot be changed: policies, the user \
         flow and issued tokens name the app by it; register a new application instead",
    )
    .at("appId"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_app_id_stays_what_it_was() {
        let app = json!({"id": "x", "appId": "shop", "displayName": "Shop"});
        assert!(app_id_unchanged(&app, &json!({"displayName": "Shop 2"})).is_ok());
        assert!(app_id_unchanged(&app, &json!({"appId": "shop", "displayName": "S"})).is_ok());
        for other in [json!("shop2"), json!(null), json!("SHOP")] {
            let e = app_id_unchanged(&app, &json!({ "appId": other })).unwrap_err();
            assert_eq!(e.code, "app.app_id_read_only");
            assert_eq!(e.target.as_deref(), Some("appId"));
        }
    }
}
