//! The JSON entry point the JS `Flow` class and the demo use: a whole journey through
//! `step_json`, errors as `{"error": {...}}`, and no panic on any input (a stable
//! stand-in for the cargo-fuzz target).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] fns: a panic here is a failed test"
)]

mod common;

use common::*;
use proptest::prelude::*;
use serde_json::{Value, json};
use vestibule::flow::{LocalAccount, MfaEnforcement, step_json};

fn call(config: &Value, state: &Value, input: Value, now: u64, user: &Value, seed: u8) -> Value {
    let doc = json!({
        "config": config,
        "codeKey": "5a".repeat(32),
        "state": state,
        "input": input,
        "now": now,
        "entropy": format!("{:02x}", seed).repeat(64),
        "user": user,
    });
    serde_json::from_str(&step_json(&doc.to_string())).unwrap()
}

fn otp_config() -> Value {
    serde_json::to_value(config(LocalAccount::EmailOtp, MfaEnforcement::Off)).unwrap()
}

fn sent_code(answer: &Value) -> String {
    answer["effects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "sendCode")
        .map(|e| e["code"].as_str().unwrap().to_string())
        .expect("a code was sent")
}

/// Sign-up then sign-in of an email-OTP account, state and user threaded through JSON.
#[test]
fn a_journey_through_step_json() {
    let config = otp_config();
    let now = 1_800_000_000u64;
    let a = call(
        &config,
        &Value::Null,
        json!({"type": "startSignUp", "appId": APP, "email": "zoe@example.com",
               "attributes": {"displayName": "Zoe"}}),
        now,
        &Value::Null,
        1,
    );
    assert_eq!(a["reply"], json!({"type": "started"}));
    let a = call(
        &config,
        &a["state"],
        json!({"type": "challenge"}),
        now,
        &Value::Null,
        2,
    );
    assert_eq!(a["reply"]["type"], "codeSent");
    assert_eq!(a["reply"]["codeLength"], 8);
    let code = sent_code(&a);
    assert!(
        !a["state"].to_string().contains(&code),
        "the state holds a digest, not the code"
    );
    let a = call(
        &config,
        &a["state"],
        json!({"type": "submitCode", "code": code}),
        now + 5,
        &Value::Null,
        3,
    );
    assert_eq!(a["reply"], json!({"type": "verified"}));
    let user = a["effects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "createUser")
        .unwrap()
        .clone();
    let mut user = user.as_object().unwrap().clone();
    user.remove("type");
    let user = Value::Object(user);
    let a = call(
        &config,
        &a["state"],
        json!({"type": "redeemContinuation"}),
        now + 6,
        &user,
        4,
    );
    assert_eq!(a["reply"]["type"], "signedIn");
    assert_eq!(a["reply"]["amr"], json!(["otp"]));
    assert!(a["state"].is_null());
    let tokens = a["effects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "issueTokens")
        .unwrap();
    assert_eq!(tokens["acr"], "1");
    assert_eq!(tokens["userId"], user["id"]);

    // The next sign-in.
    let a = call(
        &config,
        &Value::Null,
        json!({"type": "startSignIn", "appId": APP, "email": "ZOE@example.com"}),
        now + 60,
        &user,
        5,
    );
    let a = call(
        &config,
        &a["state"],
        json!({"type": "challenge", "challengeTypes": {"password": false, "oob": true}}),
        now + 61,
        &user,
        6,
    );
    let code = sent_code(&a);
    let a = call(
        &config,
        &a["state"],
        json!({"type": "submitCode", "code": code}),
        now + 62,
        &user,
        7,
    );
    assert_eq!(a["reply"]["type"], "signedIn");
}

#[test]
fn errors_come_back_as_an_error_envelope_with_a_code() {
    let parse: Value = serde_json::from_str(&step_json("{not json")).unwrap();
    assert_eq!(parse["error"]["code"], "flow.invalid_json");
    let config = otp_config();
    let a = call(
        &config,
        &Value::Null,
        json!({"type": "challenge"}),
        1,
        &Value::Null,
        1,
    );
    assert_eq!(a["error"]["code"], "flow.no_flow");
    let a = call(
        &config,
        &Value::Null,
        json!({"type": "startSignIn", "appId": APP, "email": "not-an-email"}),
        1,
        &Value::Null,
        1,
    );
    assert_eq!(a["error"]["code"], "flow.invalid_input");
    assert_eq!(a["error"]["target"], "input.email");
    // Another spelling of `ada@example.com` would be another account and send budget.
    for spelling in [
        "\"ada\"@example.com",
        "ada(x)@example.com",
        "ada@[192.0.2.1]",
    ] {
        let a = call(
            &config,
            &Value::Null,
            json!({"type": "startSignUp", "appId": APP, "email": spelling}),
            1,
            &Value::Null,
            1,
        );
        assert_eq!(a["error"]["code"], "flow.invalid_input", "{spelling}");
        assert_eq!(a["error"]["target"], "input.email", "{spelling}");
    }
    let mut bad = config.clone();
    bad["settings"]["codes"]["length"] = json!(4);
    let a = call(
        &bad,
        &Value::Null,
        json!({"type": "startSignIn", "appId": APP, "email": "a@example.com"}),
        1,
        &Value::Null,
        1,
    );
    assert_eq!(a["error"]["code"], "flow.invalid_config");
    assert_eq!(a["error"]["target"], "settings.codes.length");
    let short_key = json!({"config": config, "codeKey": "00", "state": null,
        "input": {"type": "startSignIn", "appId": APP, "email": "a@example.com"}, "now": 1, "entropy": "00"});
    let a: Value = serde_json::from_str(&step_json(&short_key.to_string())).unwrap();
    assert_eq!(a["error"]["code"], "flow.key_too_short");
}

/// Entropy and keys may be base64 as well as hex; too little entropy is an error.
#[test]
fn entropy_may_be_base64_and_must_be_enough() {
    let config = otp_config();
    let user = json!({"id": "u1", "email": "amy@example.com", "createdAt": 0});
    let start = json!({"config": config, "codeKey": "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo=", "state": null,
        "input": {"type": "startSignIn", "appId": APP, "email": "amy@example.com"}, "now": 1,
        "entropy": "AAA/", "user": user});
    let a: Value = serde_json::from_str(&step_json(&start.to_string())).unwrap();
    assert_eq!(a["reply"]["type"], "started", "{a}");
    let mut next = start.clone();
    next["state"] = a["state"].clone();
    next["input"] = json!({"type": "challenge"});
    let a: Value = serde_json::from_str(&step_json(&next.to_string())).unwrap();
    assert_eq!(a["error"]["code"], "flow.entropy_exhausted");
}

/// Conditional Access policies can ride along in the call.
#[test]
fn conditional_access_policies_in_the_call_decide() {
    let mut config = otp_config();
    config["settings"]["mfaEnforcement"] = json!("conditional");
    let user = json!({"id": "u1", "email": "amy@example.com", "createdAt": 0,
        "strongMethods": [{"id": "m1", "channel": "sms", "target": "+15550001234", "registeredAt": 0}]});
    let doc = |state: &Value, input: Value, policies: &Value| {
        json!({
        "config": config, "codeKey": "5a".repeat(32), "state": state, "input": input, "now": 100,
        "entropy": "07".repeat(64), "user": user, "conditionalAccess": {"policies": policies}})
    };
    let policies = json!([{"id": "p1", "displayName": "MFA", "state": "enabled",
        "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}, "clientAppTypes": ["all"]},
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}]);
    let run = |d: Value| -> Value { serde_json::from_str(&step_json(&d.to_string())).unwrap() };
    let a = run(doc(
        &Value::Null,
        json!({"type": "startSignIn", "appId": APP, "email": "amy@example.com"}),
        &policies,
    ));
    let a = run(doc(&a["state"], json!({"type": "challenge"}), &policies));
    let code = sent_code(&a);
    let a = run(doc(
        &a["state"],
        json!({"type": "submitCode", "code": code}),
        &policies,
    ));
    assert_eq!(a["reply"]["type"], "mfaRequired", "{a}");
    assert_eq!(a["reply"]["methods"][0]["channel"], "sms");
    let broken = json!([{"id": "p1"}]);
    let a = run(doc(
        &Value::Null,
        json!({"type": "startSignIn", "appId": APP, "email": "amy@example.com"}),
        &broken,
    ));
    assert_eq!(a["error"]["code"], "flow.invalid_config");
}

fn valid_call() -> String {
    let config =
        serde_json::to_value(config(LocalAccount::EmailPassword, MfaEnforcement::Always)).unwrap();
    json!({"config": config, "codeKey": "5a".repeat(32), "state": null,
        "input": {"type": "startSignUp", "appId": APP, "email": "amy@example.com", "password": "Correct-Horse-42",
                  "attributes": {"displayName": "Amy"}},
        "now": 1_800_000_000u64, "entropy": "07".repeat(64), "user": null}).to_string()
}

fn answer_is_json(out: &str) -> bool {
    serde_json::from_str::<Value>(out)
        .is_ok_and(|v| v.get("error").is_some() || v.get("reply").is_some())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    /// Any text gets a JSON answer, never a panic.
    #[test]
    fn step_json_never_panics_on_any_text(text in ".{0,300}") {
        prop_assert!(answer_is_json(&step_json(&text)));
    }

    /// Mutations of a valid call (bytes replaced, cut, inserted) still get an answer.
    #[test]
    fn step_json_never_panics_on_mutated_calls(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6)
    ) {
        let mut bytes = valid_call().into_bytes();
        for (at, byte, kind) in edits {
            if bytes.is_empty() { break; }
            let i = at.index(bytes.len());
            match kind {
                0 => bytes[i] = byte,
                1 => { bytes.remove(i); }
                _ => bytes.insert(i, byte),
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        prop_assert!(answer_is_json(&step_json(&text)));
    }
}
