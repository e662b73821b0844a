//! No input makes the protocol layer panic, and every refusal is a 400.

use super::server::Server;
use crate::native::{Endpoint, Form, parse};
use proptest::prelude::*;

const NAMES: [&str; 14] = [
    "client_id",
    "username",
    "challenge_type",
    "capabilities",
    "password",
    "attributes",
    "continuation_token",
    "grant_type",
    "oob",
    "id",
    "new_password",
    "challenge_target",
    "challenge_channel",
    "refresh_token",
];

fn pairs() -> impl Strategy<Value = Vec<(usize, String)>> {
    prop::collection::vec(
        (
            0..NAMES.len(),
            "[ -~]{0,24}|vct_[A-Za-z0-9_-]{43}|oob redirect|password oob redirect",
        ),
        0..8,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..256), e in 0..15usize) {
        let endpoint = Endpoint::ALL[e];
        if let Ok(form) = Form::parse(&body) {
            if let Err(err) = parse(endpoint, &form, &Default::default()) {
                prop_assert_eq!(err.status, 400);
            }
        }
    }

    #[test]
    fn arbitrary_forms_answer_json_errors_or_progress(p in pairs(), e in 0..15usize) {
        let mut s = Server::new(None);
        let mut ser = form_urlencoded::Serializer::new(String::new());
        let mut seen = std::collections::BTreeSet::new();
        for (i, v) in &p {
            if seen.insert(*i) {
                ser.append_pair(NAMES[*i], v);
            }
        }
        let r = s.post(Endpoint::ALL[e], &ser.finish());
        prop_assert!(r.status == 200 || r.status == 400, "{} {}", r.status, r.body);
        if r.status == 400 {
            prop_assert!(r.body["error"].is_string());
            prop_assert!(r.body["correlation_id"].is_string());
        }
    }
}
