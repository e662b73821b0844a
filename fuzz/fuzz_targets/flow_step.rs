//! Fuzz the flow engine through its JSON entry point: no input may panic.
//!
//! Run (nightly): `cargo fuzz run flow_step` from `fuzz/`.
//!
//! Bytes before the first 0xFF are tried as the `state`, bytes after it as the `input`,
//! inside an otherwise valid call (config, key, entropy, a user with a password and an SMS
//! method), so the fuzzer reaches the state machine rather than stopping at the JSON
//! parser. Input that is not JSON is also fed to `step_json` as a whole document.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fn call(state: Value, input: Value) -> String {
    json!({
        "config": {
            "authenticationMethodsPolicy": {"authenticationMethodConfigurations": [
                {"id": "Email", "state": "enabled", "includeTargets": [{"targetType": "group", "id": "all_users"}]},
                {"id": "Sms", "state": "enabled", "includeTargets": [{"targetType": "group", "id": "all_users"}]}
            ]},
            "userFlow": {"onAuthenticationMethodLoadStart": {"identityProviders": [{"id": "EmailPassword-OAUTH"}]}},
            "settings": {"mfaEnforcement": "always",
                         "passwords": {"hashing": {"memoryKib": 8, "iterations": 1, "parallelism": 1}}}
        },
        "codeKey": "07".repeat(32),
        "state": state,
        "input": input,
        "now": 1_800_000_000u64,
        "entropy": "01".repeat(64),
        "user": {
            "id": "user-1", "email": "ada@example.com", "createdAt": 0,
            "passwordHash": "$argon2id$v=19$m=8,t=1,p=1$AwMDAwMDAwMDAwMDAwMDAw$8mFSyD4Tl8DHQ1b7w6Vb1dqCbNkmUDmMCQXe9XuAe5E",
            "strongMethods": [{"id": "m1", "channel": "sms", "target": "+15551234567", "registeredAt": 0}]
        }
    })
    .to_string()
}

fuzz_target!(|data: &[u8]| {
    let (head, tail) = match data.iter().position(|b| *b == 0xff) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let text = String::from_utf8_lossy(data);
    let out = vestibule::flow::step_json(&text);
    assert!(out.starts_with('{'));
    let state = serde_json::from_slice::<Value>(head).unwrap_or(Value::Null);
    let Ok(input) = serde_json::from_slice::<Value>(tail) else {
        return;
    };
    let out = vestibule::flow::step_json(&call(state, input));
    assert!(out.starts_with('{'));
});
