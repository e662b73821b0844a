//! Criterion benchmarks of the flow engine: one transition at a time, with password
//! hashing measured separately (argon2id dominates any password step).
//!
//! Run: `cargo bench -p vestibule-bench --bench flow -- --warm-up-time 1 --measurement-time 3`
//!
//! - `step/*`: one call of `vestibule::flow::step` from a prepared state, including the
//!   clone of that state (an adapter deserializes it anyway); cheap argon2 parameters so
//!   no password hashing is in these numbers (target: ≤ 20 µs per step);
//! - `state/json_roundtrip`: serializing and parsing a mid-flow state (the KV cost);
//! - `step_json/start_sign_in`: the JSON entry point, config parsing and validation included;
//! - `password/*`: one argon2id verification with the default parameters (m = 19 MiB,
//!   t = 2, p = 1), and a whole password step with them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "benchmark setup"
)]

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use std::hint::black_box;
use vestibule::flow::password::{self, HashParams};
use vestibule::flow::{
    AccessPolicy, Channel, CodeKey, Effect, Entropy, FlowConfig, FlowInput, FlowState,
    MfaEnforcement, NoPolicies, Reply, StartSignIn, Step, StepContext, StrongMethod, UserRecord,
    step, step_json,
};
use vestibule::pii::{Pii, Secret};
use vestibule::policy::PolicySet;
use vestibule::time::Timestamp;

const NOW: u64 = 1_800_000_000;
const PASSWORD: &str = "Correct-Horse-42";

fn config(otp: bool, mfa: MfaEnforcement, hashing: HashParams) -> FlowConfig {
    serde_json::from_value(json!({
        "authenticationMethodsPolicy": {"authenticationMethodConfigurations": [
            {"id": "Email", "state": "enabled", "includeTargets": [{"targetType": "group", "id": "all_users"}]},
            {"id": "Sms", "state": "enabled", "includeTargets": [{"targetType": "group", "id": "all_users"}]}
        ]},
        "userFlow": {
            "conditions": {"applications": {"includeApplications": [{"appId": "app"}]}},
            "onAuthenticationMethodLoadStart": {"identityProviders": [
                {"id": if otp { "EmailOtpSignup-OAUTH" } else { "EmailPassword-OAUTH" }}]}
        },
        "settings": {"mfaEnforcement": mfa, "passwords": {"hashing": hashing}}
    }))
    .unwrap()
}

fn user(hashing: &HashParams, with_password: bool) -> UserRecord {
    UserRecord {
        id: "user-1".into(),
        email: Pii::new("ada@example.com".into()),
        password_hash: with_password
            .then(|| password::hash(PASSWORD, &[3u8; 16], hashing).unwrap()),
        display_name: None,
        attributes: Default::default(),
        groups: vec!["g-1".into()],
        strong_methods: vec![StrongMethod {
            id: "m-sms".into(),
            channel: Channel::Sms,
            target: Pii::new("+15551234567".into()),
            registered_at: Timestamp(0),
        }],
        lockout: Default::default(),
        created_at: Timestamp(0),
        password_changed_at: None,
    }
}

struct Bench {
    config: FlowConfig,
    key: CodeKey,
    policy: Box<dyn AccessPolicy>,
    user: UserRecord,
}

impl Bench {
    fn run(&self, state: Option<FlowState>, input: FlowInput, seed: u8) -> Step {
        step(
            state,
            input,
            StepContext {
                config: &self.config,
                code_key: &self.key,
                access_policy: self.policy.as_ref(),
                now: Timestamp(NOW),
                entropy: Entropy::new([seed; 64]),
                user: Some(self.user.clone()),
            },
        )
        .unwrap()
    }

    fn start(&self) -> FlowInput {
        FlowInput::StartSignIn(StartSignIn {
            app_id: "app".into(),
            email: Pii::new("ada@example.com".into()),
            capabilities: Default::default(),
            challenge_types: Default::default(),
            facts: Default::default(),
            auth_contexts: vec![],
        })
    }
}

fn code_of(step: &Step) -> String {
    step.effects
        .iter()
        .find_map(|e| match e {
            Effect::SendCode(d) => Some(d.code.expose().clone()),
            _ => None,
        })
        .unwrap()
}

fn submit(code: &str) -> FlowInput {
    FlowInput::SubmitCode {
        code: Secret::new(code.to_string()),
    }
}

fn transitions(c: &mut Criterion) {
    let cheap = HashParams {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    };
    let mfa_policy: PolicySet = PolicySet::from_json(&json!({"policies": [{
        "id": "mfa", "displayName": "MFA", "state": "enabled",
        "conditions": {"users": {"includeGroups": ["g-1"]}, "applications": {"includeApplications": ["All"]},
                       "clientAppTypes": ["all"]},
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}]}))
    .unwrap();
    let b = Bench {
        config: config(true, MfaEnforcement::Conditional, cheap),
        key: CodeKey::new(vec![7u8; 32]).unwrap(),
        policy: Box::new(mfa_policy),
        user: user(&cheap, false),
    };
    // Walk one OTP sign-in with SMS MFA, keeping each state to replay it.
    let started = b.run(None, b.start(), 1);
    let s_challenge = started.state.clone().unwrap();
    let sent = b.run(
        Some(s_challenge.clone()),
        FlowInput::Challenge {
            challenge_types: None,
        },
        2,
    );
    let email_code = code_of(&sent);
    let s_code = sent.state.clone().unwrap();
    let mfa = b.run(Some(s_code.clone()), submit(&email_code), 3);
    assert!(matches!(mfa.reply, Reply::MfaRequired { .. }));
    let s_method = mfa.state.clone().unwrap();
    let sms = b.run(
        Some(s_method.clone()),
        FlowInput::SelectMethod { id: "m-sms".into() },
        4,
    );
    let sms_code = code_of(&sms);
    let s_mfa_code = sms.state.clone().unwrap();
    assert!(matches!(
        b.run(Some(s_mfa_code.clone()), submit(&sms_code), 5).reply,
        Reply::SignedIn { .. }
    ));

    let mut g = c.benchmark_group("step");
    g.bench_function("start_sign_in", |x| {
        x.iter(|| b.run(None, black_box(b.start()), 1))
    });
    g.bench_function("challenge_sends_email_code", |x| {
        x.iter(|| {
            b.run(
                Some(s_challenge.clone()),
                FlowInput::Challenge {
                    challenge_types: None,
                },
                2,
            )
        })
    });
    g.bench_function("email_code_then_ca_requires_mfa", |x| {
        x.iter(|| b.run(Some(s_code.clone()), submit(black_box(&email_code)), 3))
    });
    g.bench_function("wrong_code_rejected", |x| {
        x.iter(|| b.run(Some(s_code.clone()), submit(black_box("00000000")), 3))
    });
    g.bench_function("select_method_sends_sms", |x| {
        x.iter(|| {
            b.run(
                Some(s_method.clone()),
                FlowInput::SelectMethod { id: "m-sms".into() },
                4,
            )
        })
    });
    g.bench_function("sms_code_then_tokens", |x| {
        x.iter(|| b.run(Some(s_mfa_code.clone()), submit(black_box(&sms_code)), 5))
    });
    g.bench_function("list_methods", |x| {
        x.iter(|| b.run(Some(s_method.clone()), FlowInput::ListMethods, 6))
    });
    g.finish();

    let mut g = c.benchmark_group("state");
    g.bench_function("json_roundtrip", |x| {
        x.iter(|| {
            let text = serde_json::to_string(black_box(&s_mfa_code)).unwrap();
            serde_json::from_str::<FlowState>(&text).unwrap()
        })
    });
    g.finish();

    let call = json!({
        "config": b.config, "codeKey": "07".repeat(32), "state": null,
        "input": {"type": "startSignIn", "appId": "app", "email": "ada@example.com"},
        "now": NOW, "entropy": "01".repeat(64), "user": b.user,
    })
    .to_string();
    let mut g = c.benchmark_group("step_json");
    g.bench_function("start_sign_in", |x| x.iter(|| step_json(black_box(&call))));
    g.finish();
}

fn passwords(c: &mut Criterion) {
    let default = HashParams::default();
    let phc = password::hash(PASSWORD, &[3u8; 16], &default).unwrap();
    let b = Bench {
        config: config(false, MfaEnforcement::Off, default),
        key: CodeKey::new(vec![7u8; 32]).unwrap(),
        policy: Box::new(NoPolicies),
        user: user(&default, true),
    };
    let started = b.run(None, b.start(), 1);
    let at_password = b
        .run(
            started.state,
            FlowInput::Challenge {
                challenge_types: None,
            },
            2,
        )
        .state
        .unwrap();
    let mut g = c.benchmark_group("password");
    g.sample_size(20);
    g.bench_function("argon2id_verify_m19456_t2_p1", |x| {
        x.iter(|| password::verify(black_box(PASSWORD), phc.expose()).unwrap())
    });
    g.bench_function("sign_in_password_step_m19456_t2_p1", |x| {
        x.iter(|| {
            b.run(
                Some(at_password.clone()),
                FlowInput::SubmitPassword {
                    password: Secret::new(PASSWORD.into()),
                },
                3,
            )
        })
    });
    g.finish();
}

criterion_group!(benches, transitions, passwords);
criterion_main!(benches);
