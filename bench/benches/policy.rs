//! Criterion benchmarks: one enforcement decision for tenants of 1, 20, 100 and 1000
//! policies, and the same 20 policies in Cedar (cedar-policy), in the same run.
//!
//! Run: `cargo bench -p vestibule-bench --bench policy -- --warm-up-time 1 --measurement-time 3`
//!
//! - `enforce/N`: the full answer (decision + per-policy record), what the flow engine logs;
//! - `enforce_into/N`: the same into a reused `Enforcement` (no allocation per policy);
//! - `decide/N`: the decision only (no per-policy record);
//! - `compile/N`: parsing and indexing the tenant (done once per configuration change);
//! - `cedar/20`: `Authorizer::is_authorized` over the same 20 policies, request and
//!   entities prebuilt (so Cedar is timed on evaluation only, like Vestibule).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "benchmark setup"
)]

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use vestibule::policy::{
    Decision, Enforcement, PolicySet, SatisfiedMethod, SignIn, decide, enforce, enforce_into,
    parse::parse_sign_in,
};
use vestibule::time::Timestamp;
use vestibule_bench::{cedar, cedar_request_json, sign_in_json, specs, tenant};

const NOW: u64 = 1_000_000;

fn setup(n: usize) -> (PolicySet, SignIn, Vec<SatisfiedMethod>) {
    let set = PolicySet::from_json(&tenant(n)).unwrap();
    let signin = parse_sign_in(&sign_in_json(), "signIn").unwrap();
    let satisfied = vec![
        serde_json::from_value(serde_json::json!({"method": "password", "at": NOW - 30})).unwrap(),
    ];
    (set, signin, satisfied)
}

fn vestibule(c: &mut Criterion) {
    let mut group = c.benchmark_group("enforce");
    for n in [1usize, 20, 100, 1000] {
        let (set, signin, satisfied) = setup(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                enforce(
                    black_box(&set),
                    black_box(&signin),
                    black_box(&satisfied),
                    Timestamp(NOW),
                )
            })
        });
    }
    group.finish();
    let mut group = c.benchmark_group("enforce_into");
    for n in [1usize, 20, 100, 1000] {
        let (set, signin, satisfied) = setup(n);
        let mut out: Enforcement = enforce(&set, &signin, &satisfied, Timestamp(NOW));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                enforce_into(
                    black_box(&set),
                    black_box(&signin),
                    black_box(&satisfied),
                    Timestamp(NOW),
                    &mut out,
                )
            })
        });
    }
    group.finish();
    let mut group = c.benchmark_group("decide");
    for n in [1usize, 20, 100, 1000] {
        let (set, signin, satisfied) = setup(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                decide(
                    black_box(&set),
                    black_box(&signin),
                    black_box(&satisfied),
                    Timestamp(NOW),
                )
            })
        });
    }
    group.finish();
    let mut group = c.benchmark_group("compile");
    for n in [20usize, 1000] {
        let t = tenant(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| PolicySet::from_json(black_box(&t)).unwrap())
        });
    }
    group.finish();
}

fn cedar_20(c: &mut Criterion) {
    let specs = specs(20);
    let policies: cedar_policy::PolicySet = cedar(&specs).parse().unwrap();
    let (entities, context) = cedar_request_json();
    let entities = cedar_policy::Entities::from_json_value(entities, None).unwrap();
    let context = cedar_policy::Context::from_json_value(context, None).unwrap();
    let request = cedar_policy::Request::new(
        r#"User::"user-7""#.parse().unwrap(),
        r#"Action::"signIn""#.parse().unwrap(),
        r#"App::"app-3""#.parse().unwrap(),
        context,
        None,
    )
    .unwrap();
    let authorizer = cedar_policy::Authorizer::new();

    // Both engines must answer the same question before their speed is compared.
    let response = authorizer.is_authorized(&request, &policies, &entities);
    assert!(
        response.diagnostics().errors().next().is_none(),
        "cedar evaluation errors"
    );
    let (set, signin, satisfied) = setup(20);
    let ours = decide(&set, &signin, &satisfied, Timestamp(NOW));
    let cedar_denies = response.decision() == cedar_policy::Decision::Deny;
    assert_eq!(
        cedar_denies,
        ours != Decision::Allow,
        "cedar {response:?} vs vestibule {ours:?}"
    );
    let mut denying: Vec<String> = response
        .diagnostics()
        .reason()
        .filter_map(|id| policies.policy(id)?.annotation("id").map(str::to_string))
        .collect();
    denying.sort();
    let mut ours_ids = match &ours {
        Decision::Block { policy_ids } => policy_ids.clone(),
        Decision::Require(r) => r.policy_ids.clone(),
        Decision::Allow => vec![],
    };
    ours_ids.sort();
    assert_eq!(denying, ours_ids, "the same policies must decide");
    eprintln!(
        "20-policy tenant: vestibule {ours:?}; cedar {:?} via {denying:?}",
        response.decision()
    );

    c.bench_function("cedar/20", |b| {
        b.iter(|| {
            authorizer.is_authorized(
                black_box(&request),
                black_box(&policies),
                black_box(&entities),
            )
        })
    });
}

criterion_group!(benches, vestibule, cedar_20);
criterion_main!(benches);
