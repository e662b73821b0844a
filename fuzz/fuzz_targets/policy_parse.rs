//! Fuzzes the policy parser and the JSON entry points with arbitrary bytes: they must
//! never panic, and must always answer with JSON (an answer or an error envelope).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vestibule::policy::{evaluate_json, validate_policies_json, what_if_json};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for answer in [validate_policies_json(text), what_if_json(text), evaluate_json(text)] {
        assert!(serde_json::from_str::<serde_json::Value>(&answer).is_ok(), "not json: {answer}");
    }
    // Also as the payload of each entry point, so the fuzzer reaches policy parsing.
    let wrapped = format!(r#"{{"policies": [{text}], "namedLocations": [], "signIn": {{"userId": "u", "appId": "a"}}, "now": 1}}"#);
    let _ = validate_policies_json(&wrapped);
    let _ = evaluate_json(&wrapped);
});
