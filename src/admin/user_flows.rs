//! Graph `externalUsersSelfServiceSignUpEventsFlow` items under
//! `/identity/authenticationEventsFlows`, over the tenant's flow document.
//!
//! The engine reads one user flow per tenant (`userFlow` of the flow document), so a
//! tenant has exactly one here, honestly shown as a one-item collection:
//!
//! - Until the tenant creates its own, the flow in effect is the built-in one (or one
//!   stored through the dev route); it has no id of its own and is listed as
//!   [`DEFAULT_ID`]. It can be read and PATCHed, not deleted.
//! - `POST` replaces that default flow with the tenant's own, under a new id. A second
//!   `POST` is refused (409): PATCH or DELETE the existing flow first.
//! - `DELETE` of the tenant's own flow brings the built-in user flow back; the methods
//!   policy and the settings stay as they are.
//!
//! Which apps the flow serves is its `conditions.applications` (no conditions: every app),
//! also editable as Graph's `…/{id}/conditions/applications/includeApplications`.

use super::flow_document::{self, Refusal, body_object};
use crate::error::ErrorBody;
use serde_json::{Map, Value, json};

/// The id under which a tenant's default (not yet its own) user flow is listed.
pub const DEFAULT_ID: &str = "default";
const ROOT: &str = "userFlow";
const ODATA_TYPE: &str = "#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow";
const APP_TYPE: &str = "#microsoft.graph.authenticationConditionApplication";

fn flow(doc: &Value) -> Option<&Map<String, Value>> {
    doc.get(ROOT).and_then(Value::as_object)
}

/// The flow's own id, if the tenant created it.
fn own_id(doc: &Value) -> Option<&str> {
    flow(doc).and_then(|f| f.get("id")).and_then(Value::as_str)
}

/// The id the flow is listed under.
pub fn flow_id(doc: &Value) -> &str {
    own_id(doc).unwrap_or(DEFAULT_ID)
}

/// One flow as Graph returns it.
pub fn view(doc: &Value) -> Value {
    let mut out = Map::new();
    out.insert("@odata.type".into(), json!(ODATA_TYPE));
    out.insert("id".into(), json!(flow_id(doc)));
    for (k, v) in flow(doc).into_iter().flatten() {
        if k != "id" && k != "@odata.type" {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// `GET /identity/authenticationEventsFlows`.
pub fn list_view(doc: &Value) -> Value {
    json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#identity/authenticationEventsFlows",
        "value": [view(doc)],
    })
}

/// `GET …/{id}`.
pub fn get(doc: &Value, id: &str) -> Option<Value> {
    (id == flow_id(doc)).then(|| view(doc))
}

fn checked_body(body: Value) -> Result<Map<String, Value>, Refusal> {
    let mut map = body_object(body, &["id"])?;
    match map.remove("@odata.type") {
        None => Ok(map),
        Some(Value::String(t)) if t.eq_ignore_ascii_case(ODATA_TYPE) => Ok(map),
        Some(_) => Err(Refusal::invalid(
            "admin.odata_type_mismatch",
            format!("only `{ODATA_TYPE}` user flows are served; use it or leave it out"),
            "@odata.type",
        )),
    }
}

/// `POST`: the tenant's own flow, under `new_id`, replacing the default one.
pub fn create(doc: &Value, body: Value, new_id: String) -> Result<Value, Refusal> {
    if let Some(existing) = own_id(doc) {
        return Err(Refusal::Conflict(ErrorBody::new(
            "admin.user_flow_exists",
            format!(
                "this tenant already has user flow `{existing}` and the engine serves one per tenant; PATCH it, or DELETE it first"
            ),
        )));
    }
    let body = checked_body(body)?;
    let mut item = Map::new();
    item.insert("id".into(), Value::String(new_id));
    item.extend(body);
    let mut next = doc.clone();
    if let Some(map) = next.as_object_mut() {
        map.insert(ROOT.into(), Value::Object(item));
    }
    flow_document::check(&next, ROOT)?;
    Ok(next)
}

/// `PATCH …/{id}`: top-level properties replaced.
pub fn patch(doc: &Value, id: &str, body: Value) -> Result<Value, Refusal> {
    if id != flow_id(doc) {
        return Err(Refusal::NotFound);
    }
    let changes = checked_body(body)?;
    let mut next = doc.clone();
    let flow = flow_document::object_at(&mut next, ROOT).ok_or(Refusal::NotFound)?;
    for (k, v) in changes {
        flow.insert(k, v);
    }
    flow_document::check(&next, ROOT)?;
    Ok(next)
}

/// `DELETE …/{id}`: the built-in user flow is in effect again.
pub fn delete(doc: &Value, id: &str) -> Result<Value, Refusal> {
    if id != flow_id(doc) {
        return Err(Refusal::NotFound);
    }
    if own_id(doc).is_none() {
        return Err(Refusal::Conflict(ErrorBody::new(
            "admin.default_user_flow",
            "the default user flow cannot be deleted; PATCH it, or POST a flow to replace it",
        )));
    }
    let builtin = crate::native::defaults::builtin_flow_config_json();
    let mut next = doc.clone();
    if let (Some(map), Some(flow)) = (next.as_object_mut(), builtin.get(ROOT)) {
        map.insert(ROOT.into(), flow.clone());
    }
    flow_document::check(&next, ROOT)?;
    Ok(next)
}

fn app_ids(doc: &Value) -> Vec<String> {
    flow(doc)
        .and_then(|f| f.get("conditions"))
        .and_then(|c| c.get("applications"))
        .and_then(|a| a.get("includeApplications"))
        .and_then(Value::as_array)
        .map(|apps| {
            apps.iter()
                .filter_map(|a| a.get("appId").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// `GET …/{id}/conditions/applications/includeApplications`.
pub fn apps_view(doc: &Value, id: &str) -> Option<Value> {
    (id == flow_id(doc)).then(|| {
        let value: Vec<Value> = app_ids(doc)
            .into_iter()
            .map(|app| json!({"@odata.type": APP_TYPE, "appId": app}))
            .collect();
        json!({"value": value})
    })
}

/// `POST …/includeApplications` (add, idempotent) or `DELETE …/includeApplications/{appId}`.
pub fn set_app(doc: &Value, id: &str, app: Result<Value, &str>) -> Result<Value, Refusal> {
    if id != flow_id(doc) {
        return Err(Refusal::NotFound);
    }
    let mut apps = app_ids(doc);
    match app {
        Ok(body) => {
            let map = body_object(body, &[])?;
            let app_id = match map.get("appId").and_then(Value::as_str) {
                Some(a) if !a.trim().is_empty() => a.trim().to_string(),
                _ => {
                    return Err(Refusal::invalid(
                        "admin.invalid_value",
                        "give the app (client) id as `appId`",
                        "appId",
                    ));
                }
            };
            if !apps.contains(&app_id) {
                apps.push(app_id);
            }
        }
        Err(remove) => {
            let before = apps.len();
            apps.retain(|a| a != remove);
            if apps.len() == before {
                return Err(Refusal::NotFound);
            }
        }
    }
    let mut next = doc.clone();
    let flow = flow_document::object_at(&mut next, ROOT).ok_or(Refusal::NotFound)?;
    let conditions = flow
        .entry("conditions")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or(Refusal::NotFound)?;
    let applications = conditions
        .entry("applications")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or(Refusal::NotFound)?;
    let list: Vec<Value> = apps.iter().map(|a| json!({"appId": a})).collect();
    applications.insert("includeApplications".into(), Value::Array(list));
    flow_document::check(&next, ROOT)?;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> Value {
        flow_document::effective(None).unwrap()
    }

    fn otp_flow() -> Value {
        json!({
            "@odata.type": ODATA_TYPE,
            "displayName": "Woodgrove OTP",
            "description": "kept as given",
            "conditions": {"applications": {"includeApplications": [{"appId": "woodgrove"}]}},
            "onAuthenticationMethodLoadStart": {"identityProviders": [{"id": "EmailOtpSignup-OAUTH"}]},
        })
    }

    fn config(doc: &Value) -> crate::flow::FlowConfig {
        flow_document::check(doc, "").unwrap()
    }

    #[test]
    fn the_builtin_flow_is_listed_as_default_and_cannot_be_deleted() {
        let doc = builtin();
        let list = list_view(&doc);
        assert_eq!(list["value"][0]["id"], DEFAULT_ID);
        assert_eq!(list["value"][0]["@odata.type"], ODATA_TYPE);
        assert!(get(&doc, "other").is_none());
        assert!(matches!(
            delete(&doc, DEFAULT_ID),
            Err(Refusal::Conflict(ref b)) if b.code == "admin.default_user_flow"
        ));
    }

    #[test]
    fn create_replaces_the_default_and_delete_brings_it_back() {
        let doc = builtin();
        let mine = create(&doc, otp_flow(), "f-1".into()).unwrap();
        let c = config(&mine);
        assert_eq!(
            c.user_flow.local_account(),
            Ok(crate::flow::LocalAccount::EmailOtp)
        );
        assert!(c.user_flow.serves("woodgrove"));
        assert!(!c.user_flow.serves(crate::native::defaults::DEMO_CLIENT_ID));
        assert_eq!(get(&mine, "f-1").unwrap()["description"], "kept as given");
        assert!(matches!(
            create(&mine, otp_flow(), "f-2".into()),
            Err(Refusal::Conflict(ref b)) if b.code == "admin.user_flow_exists"
        ));
        let back = delete(&mine, "f-1").unwrap();
        assert_eq!(back[ROOT], doc[ROOT]);
        assert_eq!(back["settings"], mine["settings"]);
    }

    #[test]
    fn patch_replaces_top_level_properties_and_is_validated() {
        let doc = builtin();
        let next = patch(
            &doc,
            DEFAULT_ID,
            json!({"onInteractiveAuthFlowStart": {"isSignUpAllowed": false}}),
        )
        .unwrap();
        assert!(!config(&next).user_flow.sign_up_allowed());
        let Err(Refusal::Invalid(p)) = patch(
            &doc,
            DEFAULT_ID,
            json!({"onAuthenticationMethodLoadStart": {"identityProviders": [{"id": "Google-OAUTH"}]}}),
        ) else {
            panic!("refused")
        };
        assert_eq!(p[0].code, "flow.invalid_config");
        assert_eq!(
            p[0].target.as_deref(),
            Some("onAuthenticationMethodLoadStart.identityProviders")
        );
        assert!(matches!(
            patch(&doc, DEFAULT_ID, json!({"id": "mine"})),
            Err(Refusal::Invalid(ref p)) if p[0].code == "admin.read_only_field"
        ));
        assert!(matches!(
            create(&doc, json!({"@odata.type": "#microsoft.graph.b2cIdentityUserFlow"}), "x".into()),
            Err(Refusal::Invalid(ref p)) if p[0].code == "admin.odata_type_mismatch"
        ));
        assert_eq!(patch(&doc, "nope", json!({})), Err(Refusal::NotFound));
    }

    #[test]
    fn apps_are_added_and_removed() {
        let doc = builtin();
        let next = set_app(&doc, DEFAULT_ID, Ok(json!({"appId": "app-2"}))).unwrap();
        assert!(config(&next).user_flow.serves("app-2"));
        let again = set_app(&next, DEFAULT_ID, Ok(json!({"appId": "app-2"}))).unwrap();
        assert_eq!(again, next);
        assert_eq!(
            apps_view(&next, DEFAULT_ID).unwrap()["value"][1]["appId"],
            "app-2"
        );
        let gone = set_app(&next, DEFAULT_ID, Err("app-2")).unwrap();
        assert!(!config(&gone).user_flow.serves("app-2"));
        assert_eq!(
            set_app(&gone, DEFAULT_ID, Err("app-2")),
            Err(Refusal::NotFound)
        );
    }
}
