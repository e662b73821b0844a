//! Send caps for apps that run the flow engine themselves: the JS package's `Flow`.
//!
//! The Worker asks guard objects before a code goes out ([`super::email_velocity`],
//! [`super::sms_velocity`]); the `Flow` of the JS package had no such counters, so an app
//! built on it let anyone start flow after flow for one address or number: an inbox
//! flooded, or an SMS pumping run billed to the app. The `Flow` now counts the same
//! counters with the same limits (`settings.emailVelocity`, `settings.smsVelocity`) in
//! the app's own storage, and the decisions are made here:
//! - [`counters`] names the counters a step's sends go through, keyed by a hash under the
//!   app's code key (the storage never holds an address or number in clear);
//! - [`count`] decides one send against a counter's stored state.
//!
//! Differences from the Worker, because the storage is the app's: counts are not atomic
//! across processes (two processes may each let one more through); the network counters
//! need the caller's IP (`context.ip`), without which only the destination and account
//! counters apply; a verified code vouches for nothing ([`super::vouch`]), so a flood
//! spread over three or more networks holds the owner back too. A send that fails is not
//! counted (the `Flow` stores the counted state only once the code went out, or may have).
use super::velocity::{Dimension, SendVerdict, VelocityLimits, VelocityState, decide};
use crate::error::ErrorBody;
use crate::flow::{CodeKey, Effect, FlowSettings};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// One counter a send goes through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendCounter {
    /// The storage key: `send/{channel}/{dimension}/{keyed hash}`.
    pub key: String,
    /// Which counter.
    pub dimension: Dimension,
    /// Its limits.
    pub limits: VelocityLimits,
}

/// The counters the step's sends go through, in the order they are asked (as the
/// Worker asks them).
pub fn counters(
    effects: &[Effect],
    settings: &FlowSettings,
    key: &CodeKey,
    user_id: Option<&str>,
    ip: Option<&str>,
) -> Vec<SendCounter> {
    let mut checks = super::sms_velocity::sms_checks(effects, &settings.sms_velocity, user_id, ip);
    checks.extend(super::email_velocity::email_checks(
        effects,
        &settings.email_velocity,
        ip,
    ));
    checks
        .into_iter()
        .map(|check| SendCounter {
            key: format!(
                "send/{}",
                super::counter_object_name(key, "app", check.dimension, &check.value)
            ),
            dimension: check.dimension,
            limits: check.limits,
        })
        .collect()
}

/// One send decided against `state` (none: never counted, or forgotten): the state to
/// store and until when it matters, or the refusal with its `retry_after`.
pub fn count(
    state: Option<VelocityState>,
    counter: &SendCounter,
    now: Timestamp,
) -> Result<(VelocityState, Option<Timestamp>), (ErrorBody, u64)> {
    let (state, verdict) = decide(state.unwrap_or_default(), &counter.limits, now);
    match verdict {
        SendVerdict::Allowed => {
            let until = state.forget_at(&counter.limits);
            Ok((state, until))
        }
        SendVerdict::Refused { retry_after } => Err((
            ErrorBody::new(
                "delivery.too_many",
                super::refusal_message(counter.dimension, retry_after),
            )
            .at("deliver"),
            retry_after,
        )),
    }
}

/// [`count`] for the JS package: the counter's stored state (none: never counted) and
/// the counter as [`counters`] gave it, as JSON, and now; `{"state", "forgetAt"}` or
/// `{"error": {...}, "retryAfter"}` out. Three arguments rather than one document: a
/// wrapper type would compile one more struct reader into the package.
pub fn count_json(state: Option<&str>, counter: &str, now: Timestamp) -> String {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Counted {
        state: VelocityState,
        #[serde(skip_serializing_if = "Option::is_none")]
        forget_at: Option<Timestamp>,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Refused {
        error: ErrorBody,
        retry_after: u64,
    }
    let state = match state.map(serde_json::from_str::<VelocityState>) {
        None => None,
        Some(Ok(state)) => Some(state),
        Some(Err(_)) => {
            return r#"{"error":{"code":"flow.state_invalid","message":"a stored send counter is not valid"}}"#
                .to_string();
        }
    };
    let Ok(counter) = serde_json::from_str::<SendCounter>(counter) else {
        return r#"{"error":{"code":"flow.invalid_input","message":"not a send counter the engine named"}}"#
            .to_string();
    };
    let text = match count(state, &counter, now) {
        Ok((state, forget_at)) => serde_json::to_string(&Counted { state, forget_at }),
        Err((error, retry_after)) => serde_json::to_string(&Refused { error, retry_after }),
    };
    text.unwrap_or_default()
}

/// [`super::refund::refund`] for the JS package: the counter's stored state and the
/// counter as [`counters`] gave it, as JSON, and when the failed send was counted;
/// `{"state", "forgetAt"}` when a send was given back, `{}` when there was none to give
/// back (or the state is unreadable: then the count stays, which errs on fewer messages).
/// The `Flow` counts before it delivers, as the Worker does, so parallel requests cannot
/// all pass one reading of a counter; a delivery that failed is given back through this.
pub fn refund_json(state: &str, counter: &str, sent_at: Timestamp) -> String {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Refunded {
        state: VelocityState,
        #[serde(skip_serializing_if = "Option::is_none")]
        forget_at: Option<Timestamp>,
    }
    let (Ok(state), Ok(counter)) = (
        serde_json::from_str::<VelocityState>(state),
        serde_json::from_str::<SendCounter>(counter),
    ) else {
        return "{}".to_string();
    };
    match super::refund::refund(state, sent_at) {
        (state, true) => {
            let forget_at = state.forget_at(&counter.limits);
            serde_json::to_string(&Refunded { state, forget_at })
                .unwrap_or_else(|_| "{}".to_string())
        }
        (_, false) => "{}".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Channel;

    use crate::guard::velocity::send_effect as send;

    fn key() -> CodeKey {
        CodeKey::new(vec![7; 32]).unwrap()
    }

    /// The first counter an email code to `to` goes through, as the JS `Flow` hands it in.
    fn first_email_counter_json(to: &str) -> String {
        let cs = counters(
            &[send(Channel::Email, to)],
            &FlowSettings::default(),
            &key(),
            None,
            None,
        );
        serde_json::to_string(&cs[0]).unwrap()
    }

    #[test]
    fn an_address_gets_its_burst_then_waits_and_the_keys_name_no_address() {
        let settings = FlowSettings::default();
        let cs = counters(
            &[send(Channel::Email, "Zoe@Example.com")],
            &settings,
            &key(),
            None,
            None,
        );
        let dims: Vec<Dimension> = cs.iter().map(|c| c.dimension).collect();
        assert_eq!(
            dims,
            [Dimension::EmailAddressFromIp, Dimension::EmailAddressAllIps]
        );
        assert!(
            cs.iter()
                .all(|c| c.key.starts_with("send/email/") && !c.key.contains("zoe"))
        );
        // The same inbox however it is spelled.
        let again = counters(
            &[send(Channel::Email, "zoe@example.com")],
            &settings,
            &key(),
            None,
            None,
        );
        assert_eq!(again, cs);
        let counter = &cs[0];
        let mut state = None;
        for t in 0..u64::from(counter.limits.burst) {
            let (next, until) = count(state, counter, Timestamp(100 + t)).unwrap();
            assert!(until.is_some());
            state = Some(next);
        }
        let (error, retry_after) = count(state, counter, Timestamp(110)).unwrap_err();
        assert_eq!(error.code, "delivery.too_many");
        assert_eq!(error.target.as_deref(), Some("deliver"));
        assert!(
            error.message.contains("this email address") && retry_after > 0,
            "{error:?}"
        );
    }

    #[test]
    fn an_sms_goes_through_number_user_network_and_country_counters() {
        let cs = counters(
            &[send(Channel::Sms, "+18765550123")],
            &FlowSettings::default(),
            &key(),
            Some("u-1"),
            Some("198.51.100.7"),
        );
        let dims: Vec<Dimension> = cs.iter().map(|c| c.dimension).collect();
        assert_eq!(
            dims,
            [
                Dimension::NumberFromIp,
                Dimension::User,
                Dimension::Ip,
                Dimension::NumberAllIps,
                Dimension::CountryCode
            ]
        );
        assert!(cs.iter().all(|c| c.key.starts_with("send/sms/")));
    }

    #[test]
    fn the_json_entry_counts_refuses_and_rejects_a_foreign_state() {
        let counter = first_email_counter_json("a@example.com");
        let mut state: Option<String> = None;
        for t in 0..5 {
            let out = count_json(state.as_deref(), &counter, Timestamp(100 + t));
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert!(v.get("error").is_none(), "{out}");
            assert!(v["forgetAt"].is_u64());
            state = Some(v["state"].to_string());
        }
        let out = count_json(state.as_deref(), &counter, Timestamp(106));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["error"]["code"], "delivery.too_many");
        assert!(v["retryAfter"].as_u64().unwrap() > 0);
        let bad = count_json(Some(r#"{"recent":"x"}"#), &counter, Timestamp(1));
        assert!(bad.contains("flow.state_invalid"), "{bad}");
        let foreign = count_json(None, "{}", Timestamp(1));
        assert!(foreign.contains("flow.invalid_input"), "{foreign}");
    }

    #[test]
    fn the_json_refund_gives_back_the_send_counted_then_and_nothing_else() {
        let counter = first_email_counter_json("a@example.com");
        let mut state = String::new();
        for t in [100, 101] {
            let prior = (!state.is_empty()).then_some(state.as_str());
            let v: serde_json::Value =
                serde_json::from_str(&count_json(prior, &counter, Timestamp(t))).unwrap();
            state = v["state"].to_string();
        }
        let v: serde_json::Value =
            serde_json::from_str(&refund_json(&state, &counter, Timestamp(100))).unwrap();
        assert_eq!(v["state"]["recent"], serde_json::json!([101]), "{v}");
        assert!(v["forgetAt"].is_u64());
        let again = refund_json(&v["state"].to_string(), &counter, Timestamp(100));
        assert_eq!(again, "{}", "a send is given back once");
        assert_eq!(refund_json("damaged", &counter, Timestamp(100)), "{}");
    }
}
