//! The CAPTCHA on the hosted pages: what a page does when the flow says a CAPTCHA must
//! come before a text message ([`crate::sms::captcha`]), and what the answer of the
//! `siteverify` check means for the flow.
//!
//! Native clients get that answer as the web fallback (`challenge_type=redirect`); a
//! hosted page can show the widget instead, so the sign-in goes on in the same flow:
//!
//! 1. [`page`]: the step that would have sent the SMS ended with the CAPTCHA redirect.
//!    The page keeps the flow state from *before* that step and the input that asked for
//!    the SMS, and shows the widget. Nothing was sent.
//! 2. [`post`]: the person submits the widget's token (or picks another method, or
//!    submits without a token). The adapter verifies a token with the configured
//!    Turnstile-compatible `siteverify` endpoint within [`SITEVERIFY_BUDGET_MS`].
//! 3. [`after_siteverify`]: a pass sets `facts.captcha_verified_at` on the kept flow state
//!    and runs the kept input again, so the SMS goes out, and the later steps of this
//!    flow (a resend) are not asked again. A refusal, an unreachable service or a slow
//!    one keeps the page and the state as they were, says so, and sends nothing: the
//!    check fails closed.
//!
//! The widget is only offered when it is configured ([`widget`]: a site key and a
//! secret); otherwise the CAPTCHA redirect ends the sign-in with `access_denied`, as
//! before, because nothing could verify a token.

use super::hosted::Page;
use crate::flow::register::options;
use crate::flow::reply::Reply;
use crate::flow::{Channel, FlowInput, FlowState};
use crate::pii::{Pii, Secret};
use crate::sms::captcha::{TIMED_OUT, is_captcha_reason};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

pub use crate::sms::captcha::SITEVERIFY_BUDGET_MS;

/// The step that asked for the SMS, kept with the CAPTCHA page and run again once the
/// check passes: one of the two inputs that text a number. A type of its own rather than
/// the whole [`FlowInput`] as JSON, so nothing else can be replayed through the page
/// (and the Worker does not carry a deserializer for every flow input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    remote = "Self",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Retry {
    /// Send the code to this registered method (MFA, or a resend).
    SelectMethod {
        /// The method id.
        id: String,
    },
    /// Register this phone number and text it a code.
    RegisterPhone {
        /// The number as the person typed it.
        phone: Pii<String>,
    },
}
crate::tagged_enum!(Retry, "input");

impl Retry {
    /// The retry for `input`, if it is one that can text a number.
    pub fn of(input: &FlowInput) -> Option<Retry> {
        match input {
            FlowInput::SelectMethod { id } => Some(Retry::SelectMethod { id: id.clone() }),
            FlowInput::RegisterMethod {
                channel: Channel::Sms,
                target,
            } => Some(Retry::RegisterPhone {
                phone: target.clone(),
            }),
            _ => None,
        }
    }

    /// The flow input to run again.
    pub fn input(&self) -> FlowInput {
        match self {
            Retry::SelectMethod { id } => FlowInput::SelectMethod { id: id.clone() },
            Retry::RegisterPhone { phone } => FlowInput::RegisterMethod {
                channel: Channel::Sms,
                target: phone.clone(),
            },
        }
    }
}

/// The widget's site key when the hosted pages can run the check: a site key to show and
/// a secret to verify with. Without either the pages keep the old behaviour (the
/// CAPTCHA redirect ends the sign-in), rather than show a widget whose token always fails.
pub fn widget(site_key: Option<&str>, has_secret: bool) -> Option<String> {
    let key = site_key.map(str::trim).filter(|k| !k.is_empty())?;
    has_secret.then(|| key.to_string())
}

/// The CAPTCHA page when `reply` is the flow's "a CAPTCHA must come before this SMS"
/// answer to the input `retry` stands for ([`Retry::of`]), run on `before`; `None` for
/// any other reply, and when there is no flow to go on with. The adapter asks this before
/// [`super::hosted::after_step`], keeps `before` as the interaction's flow, and shows
/// the page.
pub fn page(
    reply: &Reply,
    before: Option<&FlowState>,
    retry: &Retry,
    site_key: &str,
) -> Option<Page> {
    let Reply::Redirect { reason } = reply else {
        return None;
    };
    let before = before.filter(|_| is_captcha_reason(reason))?;
    Some(Page::Captcha {
        retry: retry.clone(),
        site_key: site_key.to_string(),
        other: other_methods(before).map(Box::new),
    })
}

/// The page offering the account's methods that need no text message, when the flow
/// waits for a method to be chosen or registered and has one.
pub fn other_methods(state: &FlowState) -> Option<Page> {
    match state {
        FlowState::ExpectMfaMethod(s) => {
            let methods: Vec<_> = s
                .methods
                .iter()
                .filter(|m| m.channel != Channel::Sms)
                .cloned()
                .collect();
            (!methods.is_empty()).then_some(Page::ChooseMethod { methods })
        }
        FlowState::ExpectRegistrationMethod(s) => {
            let channels: Vec<Channel> = s
                .channels
                .iter()
                .copied()
                .filter(|c| *c != Channel::Sms)
                .collect();
            (!channels.is_empty()).then(|| Page::Register {
                methods: options(&channels, &s.common),
            })
        }
        _ => None,
    }
}

/// What a post from the CAPTCHA page asks for.
#[derive(Debug)]
pub enum Posted {
    /// Verify this widget token with `siteverify`, then call [`after_siteverify`].
    Verify(Secret<String>),
    /// Show this page (the other methods); the flow is unchanged.
    Show(Page),
    /// Show the CAPTCHA page again with this message; nothing is verified or sent.
    Again(&'static str),
}

/// A post from the CAPTCHA page. `None` when `page` is not the CAPTCHA page or the action
/// is one [`super::hosted::action`] handles (cancel).
pub fn post(page: &Page, field: &dyn Fn(&str) -> Option<String>) -> Option<Posted> {
    let Page::Captcha { other, .. } = page else {
        return None;
    };
    match field("action").as_deref() {
        Some("captcha") => Some(match field("cf-turnstile-response") {
            Some(token) if !token.trim().is_empty() => Posted::Verify(Secret::new(token)),
            _ => Posted::Again(
                "complete the check first: a text message is sent only after it passes",
            ),
        }),
        Some("other") => Some(match other {
            Some(page) => Posted::Show((**page).clone()),
            None => Posted::Again("there is no other method for this account"),
        }),
        _ => None,
    }
}

/// Why a check did not pass, from the `siteverify` reason codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckFailure {
    /// The service answered that the token is not good.
    Refused,
    /// The token expired or was used already (`timeout-or-duplicate`).
    Expired,
    /// The service did not answer within [`SITEVERIFY_BUDGET_MS`].
    TimedOut,
    /// The service could not be reached, answered something else, or refused the secret.
    Unavailable,
}

impl CheckFailure {
    /// The category of a failed check.
    pub fn from_codes(codes: &[String]) -> Self {
        let has = |c: &str| codes.iter().any(|x| x == c);
        if has(TIMED_OUT) {
            CheckFailure::TimedOut
        } else if has("timeout-or-duplicate") {
            CheckFailure::Expired
        } else if codes.iter().any(|c| {
            c.starts_with("http-")
                || c.starts_with("siteverify-")
                || c.ends_with("-secret")
                || c == "invalid-response-body"
                || c == "internal-error"
        }) {
            CheckFailure::Unavailable
        } else {
            CheckFailure::Refused
        }
    }

    /// A stable code for the log (never the token or the service's own text).
    pub fn as_str(self) -> &'static str {
        match self {
            CheckFailure::Refused => "refused",
            CheckFailure::Expired => "expired",
            CheckFailure::TimedOut => "timed_out",
            CheckFailure::Unavailable => "unavailable",
        }
    }

    /// What the person reads on the CAPTCHA page.
    pub fn message(self) -> &'static str {
        match self {
            CheckFailure::Refused => {
                "the check did not pass, so no text message was sent; complete it again"
            }
            CheckFailure::Expired => {
                "the check expired or was already used, so no text message was sent; complete it again"
            }
            CheckFailure::TimedOut => {
                "the check could not be confirmed in time, so no text message was sent; try again"
            }
            CheckFailure::Unavailable => {
                "the check cannot be confirmed right now, so no text message was sent; try again shortly"
            }
        }
    }
}

/// What to do with the `siteverify` verdict.
#[derive(Debug)]
pub enum Verified {
    /// Step `state` (with `facts.captcha_verified_at` set) with `input`: the SMS goes out.
    Run(Box<FlowState>, Box<FlowInput>),
    /// Show the CAPTCHA page again, the flow state unchanged; nothing was sent.
    Again(CheckFailure),
    /// There is no kept flow to go on with: start again with this message.
    Restart(&'static str),
}

/// The verdict of the `siteverify` check for the CAPTCHA `page` of the flow `state`.
pub fn after_siteverify(
    page: &Page,
    state: Option<&FlowState>,
    verdict: Result<(), Vec<String>>,
    now: Timestamp,
) -> Verified {
    const EXPIRED: &str = "this check expired; start again";
    if let Err(codes) = verdict {
        return Verified::Again(CheckFailure::from_codes(&codes));
    }
    let (Page::Captcha { retry, .. }, Some(state)) = (page, state) else {
        return Verified::Restart(EXPIRED);
    };
    let input = retry.input();
    let mut state = state.clone();
    state.common_mut().facts.captcha_verified_at = Some(now);
    Verified::Run(Box::new(state), Box::new(input))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::ClientFacts;
    use crate::flow::mfa::ExpectMfaMethod;
    use crate::flow::register::ExpectRegistrationMethod;
    use crate::flow::reply::MfaMethod;
    use crate::flow::state::FlowCommon;
    use crate::oidc::hosted::tests::fields;
    use crate::sms::captcha::{FraudSignal, redirect_reason};

    fn common() -> FlowCommon {
        let mut common = FlowCommon::new(
            crate::flow::FlowKind::SignIn,
            "app".into(),
            crate::pii::Pii::new("a@example.com".into()),
            Timestamp(1),
            600,
        );
        common.facts.country = Some("GB".into());
        common
    }

    fn method(id: &str, channel: Channel) -> MfaMethod {
        MfaMethod {
            id: id.into(),
            channel,
            login_hint: "x".into(),
        }
    }

    fn choosing(methods: Vec<MfaMethod>) -> FlowState {
        FlowState::ExpectMfaMethod(ExpectMfaMethod {
            common: common(),
            methods,
        })
    }

    fn captcha_reply() -> Reply {
        Reply::Redirect {
            reason: redirect_reason(&[FraudSignal::CountryMismatch]),
        }
    }

    fn select(id: &str) -> FlowInput {
        FlowInput::SelectMethod { id: id.into() }
    }

    fn sms(id: &str) -> Retry {
        Retry::SelectMethod { id: id.into() }
    }

    #[test]
    fn the_widget_needs_a_site_key_and_a_secret() {
        assert_eq!(widget(Some(" site-1 "), true).as_deref(), Some("site-1"));
        assert_eq!(widget(Some("site-1"), false), None);
        assert_eq!(widget(Some("  "), true), None);
        assert_eq!(widget(None, true), None);
    }

    #[test]
    fn only_the_captcha_redirect_of_a_running_flow_shows_the_widget() {
        let before = choosing(vec![method("sms-1", Channel::Sms)]);
        let page = page(&captcha_reply(), Some(&before), &sms("sms-1"), "site-1");
        let Some(Page::Captcha {
            retry,
            site_key,
            other,
        }) = page
        else {
            panic!("expected the captcha page, got {page:?}");
        };
        assert_eq!(site_key, "site-1");
        assert_eq!(retry, Retry::SelectMethod { id: "sms-1".into() });
        assert_eq!(other, None, "a phone-only account has no other method");

        let other_reason = Reply::Redirect {
            reason: "something else".into(),
        };
        assert!(super::page(&other_reason, Some(&before), &sms("sms-1"), "k").is_none());
        assert!(super::page(&captcha_reply(), None, &sms("sms-1"), "k").is_none());
        assert!(super::page(&Reply::Cancelled, Some(&before), &sms("sms-1"), "k").is_none());
    }

    #[test]
    fn the_other_methods_are_those_without_a_text_message() {
        let both = choosing(vec![
            method("sms-1", Channel::Sms),
            method("email-1", Channel::Email),
        ]);
        match other_methods(&both) {
            Some(Page::ChooseMethod { methods }) => {
                assert_eq!(methods, vec![method("email-1", Channel::Email)]);
            }
            other => panic!("expected the email method, got {other:?}"),
        }
        let register = FlowState::ExpectRegistrationMethod(ExpectRegistrationMethod {
            common: common(),
            channels: vec![Channel::Sms, Channel::Email],
        });
        match other_methods(&register) {
            Some(Page::Register { methods }) => {
                assert_eq!(methods.len(), 1);
                assert_eq!(methods[0].channel, Channel::Email);
            }
            other => panic!("expected email registration, got {other:?}"),
        }
        let sms_only = FlowState::ExpectRegistrationMethod(ExpectRegistrationMethod {
            common: common(),
            channels: vec![Channel::Sms],
        });
        assert_eq!(other_methods(&sms_only), None);
        let page = page(&captcha_reply(), Some(&both), &sms("sms-1"), "k");
        assert!(matches!(page, Some(Page::Captcha { other: Some(_), .. })));
    }

    #[test]
    fn posts_verify_a_token_show_the_other_methods_or_ask_again() {
        let before = choosing(vec![
            method("sms-1", Channel::Sms),
            method("email-1", Channel::Email),
        ]);
        let page = page(&captcha_reply(), Some(&before), &sms("sms-1"), "k").unwrap();
        match post(
            &page,
            &fields(&[("action", "captcha"), ("cf-turnstile-response", "tok")]),
        ) {
            Some(Posted::Verify(token)) => assert_eq!(token.expose(), "tok"),
            other => panic!("expected a token to verify, got {other:?}"),
        }
        assert!(matches!(
            post(&page, &fields(&[("action", "captcha")])),
            Some(Posted::Again(_))
        ));
        assert!(matches!(
            post(
                &page,
                &fields(&[("action", "captcha"), ("cf-turnstile-response", "  ")])
            ),
            Some(Posted::Again(_))
        ));
        assert!(matches!(
            post(&page, &fields(&[("action", "other")])),
            Some(Posted::Show(Page::ChooseMethod { .. }))
        ));
        assert!(post(&page, &fields(&[("action", "cancel")])).is_none());
        assert!(post(&Page::Password, &fields(&[("action", "captcha")])).is_none());

        let alone = choosing(vec![method("sms-1", Channel::Sms)]);
        let page = super::page(&captcha_reply(), Some(&alone), &sms("sms-1"), "k").unwrap();
        assert!(matches!(
            post(&page, &fields(&[("action", "other")])),
            Some(Posted::Again(_))
        ));
    }

    #[test]
    fn a_pass_runs_the_kept_input_on_the_kept_state_with_the_check_recorded() {
        let before = choosing(vec![method("sms-1", Channel::Sms)]);
        let page = page(&captcha_reply(), Some(&before), &sms("sms-1"), "k").unwrap();
        match after_siteverify(&page, Some(&before), Ok(()), Timestamp(77)) {
            Verified::Run(state, input) => {
                assert_eq!(
                    state.common().facts.captcha_verified_at,
                    Some(Timestamp(77))
                );
                assert_eq!(state.common().facts.country.as_deref(), Some("GB"));
                assert!(matches!(*input, FlowInput::SelectMethod { ref id } if id == "sms-1"));
            }
            other => panic!("expected the flow to run, got {other:?}"),
        }
        assert_eq!(
            before.common().facts,
            ClientFacts {
                country: Some("GB".into()),
                ..ClientFacts::default()
            }
        );
        // No kept flow, or not the CAPTCHA page: start again.
        assert!(matches!(
            after_siteverify(&page, None, Ok(()), Timestamp(1)),
            Verified::Restart(_)
        ));
        assert!(matches!(
            after_siteverify(&Page::Password, Some(&before), Ok(()), Timestamp(1)),
            Verified::Restart(_)
        ));
    }

    #[test]
    fn only_inputs_that_text_a_number_are_kept_and_they_round_trip() {
        let phone = FlowInput::RegisterMethod {
            channel: Channel::Sms,
            target: Pii::new("+12025550143".into()),
        };
        let email = FlowInput::RegisterMethod {
            channel: Channel::Email,
            target: Pii::new("a@example.com".into()),
        };
        for input in [select("m1"), phone] {
            let retry = Retry::of(&input).expect("kept");
            let json = serde_json::to_value(&retry).unwrap();
            let back: Retry = serde_json::from_value(json).unwrap();
            assert_eq!(back, retry);
            assert_eq!(
                serde_json::to_value(back.input()).unwrap(),
                serde_json::to_value(&input).unwrap()
            );
        }
        assert_eq!(Retry::of(&email), None);
        assert_eq!(Retry::of(&FlowInput::Continue), None);
        assert!(serde_json::from_value::<Retry>(serde_json::json!({"input": "continue"})).is_err());
    }

    #[test]
    fn every_failure_keeps_the_page_and_says_why() {
        let before = choosing(vec![method("sms-1", Channel::Sms)]);
        let page = page(&captcha_reply(), Some(&before), &sms("sms-1"), "k").unwrap();
        let cases: [(&[&str], CheckFailure); 8] = [
            (&["invalid-input-response"], CheckFailure::Refused),
            (&["unsuccessful"], CheckFailure::Refused),
            (&["timeout-or-duplicate"], CheckFailure::Expired),
            (&[TIMED_OUT], CheckFailure::TimedOut),
            (&["siteverify-unreachable"], CheckFailure::Unavailable),
            (&["http-500"], CheckFailure::Unavailable),
            (&["invalid-response-body"], CheckFailure::Unavailable),
            (&["missing-input-secret"], CheckFailure::Unavailable),
        ];
        for (codes, want) in cases {
            let codes: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
            match after_siteverify(&page, Some(&before), Err(codes.clone()), Timestamp(1)) {
                Verified::Again(got) => {
                    assert_eq!(got, want, "{codes:?}");
                    assert!(got.message().contains("no text message was sent"));
                    assert!(!got.message().ends_with('.'));
                }
                other => panic!("{codes:?}: expected the page again, got {other:?}"),
            }
        }
        let all: Vec<&str> = [
            CheckFailure::Refused,
            CheckFailure::Expired,
            CheckFailure::TimedOut,
            CheckFailure::Unavailable,
        ]
        .iter()
        .map(|f| f.as_str())
        .collect();
        assert_eq!(all, ["refused", "expired", "timed_out", "unavailable"]);
    }
}
