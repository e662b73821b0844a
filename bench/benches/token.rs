//! Criterion benchmarks of token signing and verification: the CPU a token response
//! adds on top of the flow step (an ID token and an access token, both EdDSA JWTs).
//!
//! Run: `cargo bench -p vestibule-bench --bench token -- --warm-up-time 1 --measurement-time 2`
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark setup")]

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use vestibule::pii::Pii;
use vestibule::time::Timestamp;
use vestibule::token::{Amr, Claims, Keyring, Validation, issue, verify};

const NOW: u64 = 1_800_000_000;
const ISS: &str = "https://auth.example.com/contoso/v2.0";
const APP: &str = "vestibule-demo-app";

/// An ID token's claims as the native-auth token endpoint fills them.
fn claims() -> Claims {
    let mut c = Claims::new(
        ISS,
        "0f6c3b2a-5d4e-4f10-9a8b-7c6d5e4f3a2b",
        APP,
        Timestamp(NOW),
        Timestamp(NOW + 3600),
    );
    c.amr = vec![Amr::Pwd, Amr::Otp, Amr::Mfa];
    c.tid = Some("contoso".into());
    c.oid = Some("0f6c3b2a-5d4e-4f10-9a8b-7c6d5e4f3a2b".into());
    c.preferred_username = Some(Pii::new("ada@example.com".into()));
    c.email = Some(Pii::new("ada@example.com".into()));
    c.ver = Some("2.0".into());
    c
}

fn tokens(c: &mut Criterion) {
    let keyring = Keyring::parse(
        r#"[{"kid":"bench-1","seed":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}]"#,
    )
    .unwrap();
    let claims = claims();
    let token = issue(&keyring, &claims).unwrap();
    let validation = Validation::new(ISS, APP);
    let mut g = c.benchmark_group("token");
    g.bench_function("sign_id_token_eddsa", |x| {
        x.iter(|| issue(black_box(&keyring), black_box(&claims)).unwrap())
    });
    g.bench_function("verify_id_token_eddsa", |x| {
        x.iter(|| {
            verify(
                &keyring,
                black_box(token.expose()),
                &validation,
                Timestamp(NOW + 10),
            )
            .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, tokens);
criterion_main!(benches);
