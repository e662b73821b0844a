//! The hosted sign-up, sign-in and MFA pages as decisions: which page to show after a
//! flow step, which flow input a submitted form stands for, and what a person reads when
//! something is refused. The pages drive the same flow engine as native auth
//! ([`crate::flow::step`]); this module only translates between forms and flow inputs,
//! the way [`crate::native`] translates the native-auth protocol.
//!
//! Some replies need no person: `Started` is followed by `Challenge`, a finished sign-up
//! or registration (`Verified` in `ExpectTokenRequest`) by `RedeemContinuation`, a single
//! offered second factor is selected at once. [`after_step`] says so with
//! [`Next::Auto`], and the adapter steps again (at most [`MAX_AUTO_STEPS`] times).

use crate::flow::attributes::{AttributeSpec, AttributeType};
use crate::flow::reply::{BlockReason, MfaMethod, RegistrationMethod, Rejection, Reply};
use crate::flow::{Channel, FlowInput, FlowKind, FlowState};
use crate::pii::{Pii, Secret};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Most automatic steps after one submitted form; more would be a loop.
pub const MAX_AUTO_STEPS: usize = 6;

/// What a page asks for. Kept with the interaction so a refused input shows the same
/// page again with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    remote = "Self",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Page {
    /// The email address, to sign in or (with `sign_up`) to create an account.
    Email {
        /// Sign-up rather than sign-in.
        sign_up: bool,
        /// Prefill (`login_hint`, or what was typed before an error).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        email: Option<Pii<String>>,
    },
    /// The account's password.
    Password,
    /// A new password: for a new account, or because a policy requires a change.
    NewPassword {
        /// The account is being created.
        sign_up: bool,
    },
    /// A one-time code that was just sent.
    Code {
        /// Email or SMS.
        channel: Channel,
        /// The masked destination.
        target_label: String,
        /// Digits expected.
        code_length: u8,
        /// Whether the page offers "send a new code".
        resend: bool,
    },
    /// Choose where the second-factor code goes.
    ChooseMethod {
        /// The methods offered.
        methods: Vec<MfaMethod>,
    },
    /// Register a second factor.
    Register {
        /// The methods that may be registered.
        methods: Vec<RegistrationMethod>,
    },
    /// Sign-up attributes.
    Attributes {
        /// The attributes to collect.
        attributes: Vec<AttributeSpec>,
    },
    /// A CAPTCHA before a text message is sent ([`super::captcha`]): fraud is
    /// suspected. The only page that needs JavaScript (the widget); every other page
    /// works without it.
    Captcha {
        /// The flow input that asked for the SMS, run again once the check passes.
        retry: super::captcha::Retry,
        /// The widget's public site key (`CAPTCHA_SITE_KEY`).
        site_key: String,
        /// The page offering the account's other methods (no text message), when it has
        /// any: the way on for a person without JavaScript.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        other: Option<Box<Page>>,
    },
}
crate::tagged_enum!(Page, "page");

/// What the adapter does after a flow step.
#[derive(Debug, Clone)]
pub enum Next {
    /// Step again with this input, without asking the person.
    Auto(Box<FlowInput>),
    /// Show this page.
    Show(Page),
    /// The input was refused and the flow stays where it was: show the same page again
    /// with this message.
    Again(String),
    /// The flow ended without tokens before it really began (e.g. no such account):
    /// show the first page again with this message.
    Restart(String),
    /// Tokens were issued: send the code to the client.
    SignedIn,
    /// The sign-in cannot succeed: send this error to the client (RFC 6749 §4.1.2.1).
    Deny {
        /// `error`.
        error: &'static str,
        /// `error_description`.
        description: String,
    },
}

/// The page or action after a step's `reply`, given the flow's `state` after it.
pub fn after_step(state: Option<&FlowState>, reply: &Reply) -> Next {
    match reply {
        Reply::Started | Reply::ReauthenticationRequired => {
            Next::Auto(Box::new(FlowInput::Challenge {
                challenge_types: None,
            }))
        }
        Reply::PasswordRequired => match state {
            Some(FlowState::SignUpExpectPassword(_)) => {
                Next::Show(Page::NewPassword { sign_up: true })
            }
            _ => Next::Show(Page::Password),
        },
        Reply::CredentialRequired => Next::Show(Page::NewPassword { sign_up: true }),
        Reply::PasswordChangeRequired => Next::Show(Page::NewPassword { sign_up: false }),
        Reply::CodeSent {
            channel,
            target_label,
            code_length,
            ..
        } => Next::Show(Page::Code {
            channel: *channel,
            target_label: target_label.clone(),
            code_length: *code_length,
            resend: !matches!(state, Some(FlowState::ExpectRegistrationCode(_))),
        }),
        Reply::Preverified => Next::Auto(Box::new(FlowInput::Continue)),
        Reply::Verified { .. } if matches!(state, Some(FlowState::ResetExpectNewPassword(_))) => {
            Next::Show(Page::NewPassword { sign_up: false })
        }
        Reply::ResetSubmitted { .. } => Next::Auto(Box::new(FlowInput::PollCompletion)),
        Reply::ResetCompleted if matches!(state, Some(FlowState::ExpectTokenRequest(_))) => {
            Next::Auto(Box::new(FlowInput::RedeemContinuation))
        }
        Reply::Verified { .. } => match state {
            Some(FlowState::ExpectTokenRequest(_)) => {
                Next::Auto(Box::new(FlowInput::RedeemContinuation))
            }
            _ => Next::Restart("this step is not available on these pages; start again".into()),
        },
        Reply::AttributesRequired { attributes } => Next::Show(Page::Attributes {
            attributes: attributes.clone(),
        }),
        Reply::MfaRequired { methods } | Reply::MfaMethods { methods } => {
            match methods.as_slice() {
                [only] => Next::Auto(Box::new(FlowInput::SelectMethod {
                    id: only.id.clone(),
                })),
                _ => Next::Show(Page::ChooseMethod {
                    methods: methods.clone(),
                }),
            }
        }
        Reply::RegistrationRequired { methods } | Reply::RegistrationMethods { methods } => {
            Next::Show(Page::Register {
                methods: methods.clone(),
            })
        }
        Reply::SignedIn { .. } => Next::SignedIn,
        Reply::Blocked { reason, .. } => Next::Deny {
            error: "access_denied",
            description: blocked_message(*reason).to_string(),
        },
        Reply::Redirect { .. } => Next::Deny {
            error: "access_denied",
            description: "this sign-in needs a step these pages cannot offer".into(),
        },
        Reply::Cancelled => Next::Deny {
            error: "access_denied",
            description: "the user cancelled the sign-in".into(),
        },
        Reply::Rejected { rejection } => match state {
            Some(_) => Next::Again(rejection_message(rejection)),
            None => Next::Restart(rejection_message(rejection)),
        },
        Reply::ResetCompleted | Reply::MethodChanged { .. } => {
            Next::Restart("this step is not available on these pages; start again".into())
        }
    }
}

/// Why a sign-in was blocked, for the client's `error_description`.
fn blocked_message(reason: BlockReason) -> &'static str {
    match reason {
        BlockReason::Policy => "an access policy blocks this sign-in",
        BlockReason::NoUsableSecondFactor => {
            "a second factor is required and the account has none it may use"
        }
        BlockReason::RiskWithoutRegisteredMethod => {
            "this sign-in looks risky and the account has no registered second factor"
        }
        BlockReason::Unsatisfiable => {
            "an access policy requires something this sign-in cannot provide"
        }
        BlockReason::PasswordChangeImpossible => {
            "a password change is required of an account without a password"
        }
        BlockReason::SmsRegionBlocked => {
            "the account's only second factor is a phone in a region this app does not text"
        }
    }
}

/// What a person reads when an input is refused.
pub fn rejection_message(r: &Rejection) -> String {
    match r {
        Rejection::UnauthorizedClient => "this application may not use this sign-in".into(),
        Rejection::SignUpDisabled => "new accounts cannot be created here".into(),
        Rejection::UserNotFound => {
            "we could not find an account with that email; check it, or create an account".into()
        }
        Rejection::UserAlreadyExists => {
            "an account with that email exists already; sign in instead".into()
        }
        Rejection::PasswordResetUnavailable => "this account has no password to reset".into(),
        Rejection::InvalidPassword => "that password is not correct".into(),
        Rejection::PasswordRefused { problem } => format!(
            "choose another password: {}",
            problem.suberror().replace('_', " ")
        ),
        Rejection::InvalidCode { attempts_left } => {
            format!("that code is not correct; {attempts_left} tries left")
        }
        Rejection::CodeExpired => "that code has expired; ask for a new one".into(),
        Rejection::CodeAttemptsExhausted => "too many wrong tries; ask for a new code".into(),
        Rejection::ResendTooSoon { retry_after } => {
            format!("wait {retry_after} seconds before asking for a new code")
        }
        Rejection::TooManyCodes => "too many codes were sent; start again later".into(),
        Rejection::AccountLocked { .. } => {
            "the account is locked for now after too many failed attempts; try again later".into()
        }
        Rejection::AttributeValidationFailed { attributes } => {
            format!("check these fields: {}", attributes.join(", "))
        }
        Rejection::InvalidTarget => {
            "enter a valid email address or phone number (with country code, e.g. +15551234567)"
                .into()
        }
        Rejection::ChannelNotAllowed => "that method cannot be used here".into(),
        Rejection::SmsRegionBlocked { region } => {
            format!(
                "this app does not send text messages to +{region} numbers; use another number or method"
            )
        }
        Rejection::MethodNotFound => "that method is not available".into(),
        Rejection::FlowExpired => "this sign-in took too long; start again".into(),
    }
}

/// The flow the email page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartKind {
    /// Sign in.
    SignIn,
    /// Create an account.
    SignUp,
    /// Reset a forgotten password (then sign in).
    ResetPassword,
}

/// What a submitted form asks for.
#[derive(Debug, Clone)]
pub enum Action {
    /// Step the flow with this input.
    Flow(Box<FlowInput>),
    /// Start a sign-in, sign-up or password reset for this email.
    Start {
        /// Which flow.
        kind: StartKind,
        /// The address as typed.
        email: Pii<String>,
    },
    /// Show the email page for the other mode (sign-in ↔ sign-up); no flow yet.
    Switch {
        /// Show sign-up.
        sign_up: bool,
    },
    /// The person gives up: `access_denied` to the client.
    Cancel,
}

/// The action a form stands for on `page`, reading fields with `field`. `Err` is the
/// message to show on the same page (a missing field, an action the page does not offer).
pub fn action(
    page: &Page,
    state: Option<&FlowState>,
    field: &dyn Fn(&str) -> Option<String>,
) -> Result<Action, String> {
    let name = field("action").unwrap_or_default();
    let required = |f: &str, what: &str| field(f).ok_or_else(|| format!("enter {what}"));
    match (name.as_str(), page) {
        ("cancel", _) => Ok(Action::Cancel),
        ("switch", Page::Email { sign_up, .. }) => Ok(Action::Switch { sign_up: !sign_up }),
        ("email" | "reset", Page::Email { sign_up, .. }) => {
            let email = required("email", "your email address")?;
            if crate::flow::contact::normalize_email(&email).is_none() {
                return Err("enter a valid email address, like name@example.com".into());
            }
            let kind = match (name.as_str(), sign_up) {
                ("reset", false) => StartKind::ResetPassword,
                ("reset", true) => {
                    return Err("this page does not offer that; use the form below".into());
                }
                (_, true) => StartKind::SignUp,
                (_, false) => StartKind::SignIn,
            };
            Ok(Action::Start {
                kind,
                email: Pii::new(email),
            })
        }
        ("password", Page::Password | Page::NewPassword { .. }) => {
            let password = required("password", "a password")?;
            Ok(Action::Flow(Box::new(FlowInput::SubmitPassword {
                password: Secret::new(password),
            })))
        }
        ("code", Page::Code { .. }) => {
            let code = required("code", "the code")?;
            Ok(Action::Flow(Box::new(FlowInput::SubmitCode {
                code: Secret::new(code.trim().to_string()),
            })))
        }
        ("resend", Page::Code { resend: true, .. }) => match state {
            Some(FlowState::ExpectMfaCode(s)) => {
                Ok(Action::Flow(Box::new(FlowInput::SelectMethod {
                    id: s.method_id.clone(),
                })))
            }
            _ => Ok(Action::Flow(Box::new(FlowInput::Challenge {
                challenge_types: None,
            }))),
        },
        ("method", Page::ChooseMethod { methods }) => {
            let id = required("method", "where to send the code")?;
            if !methods.iter().any(|m| m.id == id) {
                return Err("choose one of the methods listed".into());
            }
            Ok(Action::Flow(Box::new(FlowInput::SelectMethod { id })))
        }
        ("register", Page::Register { methods }) => {
            let channel = match field("channel").as_deref() {
                Some("sms") => Channel::Sms,
                Some("email") => Channel::Email,
                _ => return Err("choose a method".into()),
            };
            if !methods.iter().any(|m| m.channel == channel) {
                return Err("choose one of the methods listed".into());
            }
            let target_field = match channel {
                Channel::Sms => "phone",
                Channel::Email => "email",
            };
            let target = required(target_field, "where to send the code")?;
            Ok(Action::Flow(Box::new(FlowInput::RegisterMethod {
                channel,
                target: Pii::new(target.trim().to_string()),
            })))
        }
        ("attributes", Page::Attributes { attributes }) => {
            let mut values = Map::new();
            for spec in attributes {
                let raw = field(&format!("attr.{}", spec.name));
                let value = match (spec.data_type, raw) {
                    (AttributeType::Boolean, raw) => Some(Value::Bool(raw.is_some())),
                    (_, None) => None,
                    (AttributeType::Int64, Some(text)) => Some(
                        text.trim()
                            .parse::<i64>()
                            .map(Value::from)
                            .map_err(|_| format!("`{}` must be a whole number", label(spec)))?,
                    ),
                    (AttributeType::StringCollection, Some(text)) => Some(Value::Array(
                        text.split(',')
                            .map(|s| Value::String(s.trim().to_string()))
                            .collect(),
                    )),
                    (AttributeType::String, Some(text)) => Some(Value::String(text)),
                };
                if let Some(v) = value {
                    values.insert(spec.name.clone(), v);
                }
            }
            Ok(Action::Flow(Box::new(FlowInput::SubmitAttributes {
                attributes: values,
            })))
        }
        _ => Err("this page does not offer that; use the form below".into()),
    }
}

/// The label of an attribute field.
pub fn label(spec: &AttributeSpec) -> &str {
    spec.label.as_deref().unwrap_or(&spec.name)
}

/// Whether a state belongs to a sign-up (for the first page after a restart).
pub fn is_sign_up(state: Option<&FlowState>) -> bool {
    state.is_some_and(|s| s.common().kind == FlowKind::SignUp)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A posted form's fields by name (empty ones absent), as the adapter reads them.
    pub(crate) fn fields(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name: &str| {
            owned
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        }
    }

    #[test]
    fn replies_that_need_nobody_step_on_by_themselves() {
        assert!(matches!(
            after_step(None, &Reply::Started),
            Next::Auto(b) if matches!(*b, FlowInput::Challenge { .. })
        ));
        assert!(matches!(
            after_step(None, &Reply::Preverified),
            Next::Auto(b) if matches!(*b, FlowInput::Continue)
        ));
        let one = MfaMethod {
            id: "m1".into(),
            channel: Channel::Sms,
            login_hint: "+1******12".into(),
        };
        assert!(matches!(
            after_step(None, &Reply::MfaRequired { methods: vec![one.clone()] }),
            Next::Auto(b) if matches!(&*b, FlowInput::SelectMethod { id } if id == "m1")
        ));
        let two = vec![
            one.clone(),
            MfaMethod {
                id: "m2".into(),
                ..one
            },
        ];
        assert!(matches!(
            after_step(None, &Reply::MfaRequired { methods: two }),
            Next::Show(Page::ChooseMethod { .. })
        ));
    }

    #[test]
    fn a_password_reset_asks_for_the_new_password_then_signs_in() {
        assert!(matches!(
            after_step(None, &Reply::ResetSubmitted { poll_interval: 2 }),
            Next::Auto(b) if matches!(*b, FlowInput::PollCompletion)
        ));
        // Without the flow's state, a verified reset code cannot be told from others.
        assert!(matches!(
            after_step(
                None,
                &Reply::Verified {
                    expires_in: Some(600)
                }
            ),
            Next::Restart(_)
        ));
    }

    #[test]
    fn refusals_stay_on_the_page_or_restart_and_blocks_go_to_the_client() {
        let wrong = Reply::Rejected {
            rejection: Rejection::InvalidCode { attempts_left: 2 },
        };
        assert!(
            matches!(after_step(None, &wrong), Next::Restart(m) if m == "that code is not correct; 2 tries left")
        );
        let blocked = Reply::Blocked {
            reason: BlockReason::Policy,
            policy_ids: vec![],
        };
        assert!(matches!(
            after_step(None, &blocked),
            Next::Deny {
                error: "access_denied",
                ..
            }
        ));
        assert!(matches!(
            after_step(
                None,
                &Reply::SignedIn {
                    user_id: "u".into(),
                    amr: vec![],
                    acr: "1".into()
                }
            ),
            Next::SignedIn
        ));
    }

    #[test]
    fn forms_become_flow_inputs_only_where_the_page_offers_them() {
        let email_page = Page::Email {
            sign_up: false,
            email: None,
        };
        assert!(matches!(
            action(
                &email_page,
                None,
                &fields(&[("action", "email"), ("email", "a@example.com")])
            ),
            Ok(Action::Start {
                kind: StartKind::SignIn,
                ..
            })
        ));
        assert!(
            action(
                &email_page,
                None,
                &fields(&[("action", "email"), ("email", "nope")])
            )
            .is_err()
        );
        assert!(action(&email_page, None, &fields(&[("action", "email")])).is_err());
        assert!(matches!(
            action(
                &email_page,
                None,
                &fields(&[("action", "reset"), ("email", "a@example.com")])
            ),
            Ok(Action::Start {
                kind: StartKind::ResetPassword,
                ..
            })
        ));
        let sign_up_page = Page::Email {
            sign_up: true,
            email: None,
        };
        assert!(
            action(
                &sign_up_page,
                None,
                &fields(&[("action", "reset"), ("email", "a@example.com")])
            )
            .is_err()
        );
        assert!(matches!(
            action(&email_page, None, &fields(&[("action", "switch")])),
            Ok(Action::Switch { sign_up: true })
        ));
        // A password posted to the email page is not taken.
        assert!(
            action(
                &email_page,
                None,
                &fields(&[("action", "password"), ("password", "x")])
            )
            .is_err()
        );
        assert!(matches!(
            action(
                &Page::Password,
                None,
                &fields(&[("action", "password"), ("password", "pw")])
            ),
            Ok(Action::Flow(b)) if matches!(*b, FlowInput::SubmitPassword { .. })
        ));
        let choose = Page::ChooseMethod {
            methods: vec![MfaMethod {
                id: "m1".into(),
                channel: Channel::Sms,
                login_hint: "x".into(),
            }],
        };
        assert!(
            action(
                &choose,
                None,
                &fields(&[("action", "method"), ("method", "m9")])
            )
            .is_err()
        );
        assert!(matches!(
            action(&choose, None, &fields(&[("action", "cancel")])),
            Ok(Action::Cancel)
        ));
        let register = Page::Register {
            methods: vec![RegistrationMethod {
                id: "sms".into(),
                channel: Channel::Sms,
                login_hint: None,
            }],
        };
        assert!(matches!(
            action(
                &register,
                None,
                &fields(&[
                    ("action", "register"),
                    ("channel", "sms"),
                    ("phone", " +15551234567 ")
                ])
            ),
            Ok(Action::Flow(b)) if matches!(*b, FlowInput::RegisterMethod {
                channel: Channel::Sms,
                ..
            })
        ));
        assert!(
            action(
                &register,
                None,
                &fields(&[
                    ("action", "register"),
                    ("channel", "email"),
                    ("email", "a@b.co")
                ])
            )
            .is_err()
        );
    }
}
