//! Model-based property test: random event sequences drive many flows through the
//! engine (as an adapter would: look up, step, apply effects), while an independent
//! model of what really happened checks, after every step:
//!
//! 1. no tokens unless every required factor was verified in this flow (a correct
//!    password submitted, or a code that was delivered in this flow submitted in time),
//!    or came from a real earlier session (step-up);
//! 2. a code works at most once, and only the latest code sent in the flow works;
//! 3. expired codes fail, and a code fails after 5 wrong tries;
//! 4. an email-OTP first factor never satisfies MFA (no email MFA code is even sent);
//! 5. a disabled account never gets tokens.
//!
//! At least 100k flows per run (asserted). Argon2 uses a cheap parameter set here
//! (m = 8 KiB, t = 1), set through the config, to keep the run short.
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
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use vestibule::flow::effect::Effect;
use vestibule::flow::{
    Channel, CodePurpose, FlowInput, LocalAccount, MethodChange, MfaEnforcement, Reply, Session,
    StartSignUp,
};
use vestibule::pii::{Pii, Secret};

#[derive(Debug, Clone, Copy)]
enum Ev {
    StartSignIn(u8),
    StartSignUp(u8, bool),
    StartReset(u8),
    StartStepUp(u8),
    StartMethodChange(u8),
    Challenge,
    PasswordRight,
    PasswordWrong,
    NewPassword(bool),
    CodeLatest,
    CodePrevious,
    CodeWrong,
    CodeFromEarlierFlow,
    /// Five wrong codes, then the right one (which must fail: the cap is 5 tries).
    CodeBurst,
    Attributes(bool),
    ListMethods,
    Select(u8),
    Register(bool, u8),
    Continue,
    Poll,
    Redeem,
    Cancel,
    Advance(u16),
}

/// Decodes a random number into an event, with weights (events that move flows forward
/// are more frequent). Generating plain numbers keeps proptest fast, and shrinking a
/// number toward zero shrinks toward the first, simplest events.
fn event(n: u32) -> Ev {
    const TABLE: &[(u32, u8)] = &[
        (3, 0),
        (2, 1),
        (1, 2),
        (1, 3),
        (1, 4),
        (4, 5),
        (3, 6),
        (1, 7),
        (1, 8),
        (6, 9),
        (1, 10),
        (2, 11),
        (1, 12),
        (2, 13),
        (1, 14),
        (3, 15),
        (2, 16),
        (1, 17),
        (1, 18),
        (3, 19),
        (1, 20),
        (2, 21),
    ];
    let total: u32 = TABLE.iter().map(|(w, _)| w).sum();
    let mut pick = n % total;
    let arg = n / total;
    let small = |k: u32| u8::try_from(arg % k).unwrap_or(0);
    let kind = TABLE
        .iter()
        .find(|(w, _)| {
            if pick < *w {
                true
            } else {
                pick -= w;
                false
            }
        })
        .map_or(0, |(_, k)| *k);
    match kind {
        0 => Ev::StartSignIn(small(4)),
        1 => Ev::StartSignUp(small(3), arg % 7 > 2),
        2 => Ev::StartReset(small(4)),
        3 => Ev::StartStepUp(small(4)),
        4 => Ev::StartMethodChange(small(4)),
        5 => Ev::Challenge,
        6 => Ev::PasswordRight,
        7 => Ev::PasswordWrong,
        8 => Ev::NewPassword(arg % 4 != 0),
        9 => Ev::CodeLatest,
        10 => Ev::CodePrevious,
        11 => Ev::CodeWrong,
        12 => Ev::CodeFromEarlierFlow,
        13 => Ev::Attributes(arg % 4 != 0),
        14 => Ev::ListMethods,
        15 => Ev::Select(small(3)),
        16 => Ev::Register(arg % 2 == 0, small(3)),
        17 => Ev::Continue,
        18 => Ev::Poll,
        19 => Ev::Redeem,
        20 => Ev::Cancel,
        _ => Ev::Advance(
            [1, 59, 61, 300, 599, 601, 3600]
                .get(usize::from(small(7)))
                .copied()
                .unwrap_or(1),
        ),
    }
}

/// An event that moves the current step forward (most of the time the right input,
/// sometimes a wrong one), so that random sequences reach deep states often.
fn guided(n: u32, step: Option<&str>) -> Ev {
    let often = n % 5 != 0;
    match step {
        None => match n % 8 {
            0..=3 => Ev::StartSignIn(u8::try_from(n / 8 % 4).unwrap_or(0)),
            4 | 5 => Ev::StartSignUp(u8::try_from(n / 8 % 3).unwrap_or(0), n / 32 % 2 == 0),
            6 => Ev::StartReset(u8::try_from(n / 8 % 4).unwrap_or(0)),
            _ => Ev::StartStepUp(u8::try_from(n / 8 % 4).unwrap_or(0)),
        },
        Some("signInExpectChallenge" | "signUpExpectChallenge" | "resetExpectChallenge") => {
            Ev::Challenge
        }
        Some("signInExpectPassword") => {
            if often {
                Ev::PasswordRight
            } else {
                Ev::PasswordWrong
            }
        }
        Some(
            "signInExpectCode"
            | "signUpExpectCode"
            | "resetExpectCode"
            | "expectMfaCode"
            | "expectRegistrationCode",
        ) => match n % 20 {
            0 | 1 => Ev::CodeWrong,
            2 | 3 => Ev::Advance(601),
            4 | 5 => Ev::Challenge,
            6 => Ev::CodeBurst,
            _ => Ev::CodeLatest,
        },
        Some("signUpExpectPassword" | "resetExpectNewPassword" | "expectPasswordChange") => {
            Ev::NewPassword(often)
        }
        Some("signUpExpectAttributes") => Ev::Attributes(often),
        Some("expectMfaMethod") => Ev::Select(u8::try_from(n % 3).unwrap_or(0)),
        Some("expectRegistrationMethod") => {
            Ev::Register(n % 3 != 0, u8::try_from(n / 3 % 3).unwrap_or(0))
        }
        Some(_) => match n % 6 {
            0 => Ev::Continue,
            1 => Ev::Poll,
            _ => Ev::Redeem,
        },
    }
}

#[derive(Debug, Clone, Copy)]
struct World {
    local: LocalAccount,
    mfa: MfaEnforcement,
    sms_on: bool,
    email_on: bool,
}

fn world() -> impl Strategy<Value = World> {
    (
        prop_oneof![
            Just(LocalAccount::EmailPassword),
            Just(LocalAccount::EmailOtp)
        ],
        prop_oneof![
            Just(MfaEnforcement::Off),
            Just(MfaEnforcement::Always),
            Just(MfaEnforcement::Conditional)
        ],
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(local, mfa, sms_on, email_on)| World {
            local,
            mfa,
            sms_on,
            email_on,
        })
}

/// A code as the model saw it go out.
#[derive(Debug, Clone)]
struct Sent {
    code: String,
    channel: Channel,
    expires_at: u64,
    used: bool,
    wrong_tries: u32,
}

/// What the model knows about the flow in progress.
#[derive(Debug, Default)]
struct FlowModel {
    kind: &'static str,
    email: String,
    sent: Vec<Sent>,
    /// Methods genuinely proven in this flow, by the model's own account.
    proven: BTreeSet<&'static str>,
    /// Methods of the session a step-up started from.
    session: BTreeSet<&'static str>,
    /// The first factor is an email code (OTP account sign-in, or a reset).
    email_first: bool,
    signup_password: Option<String>,
    reset_password: Option<String>,
    mfa_ids: Vec<String>,
}

const USERS: [&str; 4] = [
    "u0@example.com",
    "u1@example.com",
    "u2@example.com",
    "new0@example.com",
];
const PHONES: [&str; 3] = ["+15550100001", "+15550100002", "+447700900003"];
const START_PASSWORD: &str = "Correct-Horse-42";

fn at<'a>(items: &[&'a str], i: u8) -> &'a str {
    items
        .get(usize::from(i) % items.len().max(1))
        .copied()
        .unwrap_or("")
}

fn amr_name(m: vestibule::policy::AuthMethod) -> &'static str {
    match m {
        vestibule::policy::AuthMethod::Password => "pwd",
        vestibule::policy::AuthMethod::Email => "otp",
        vestibule::policy::AuthMethod::Sms => "sms",
    }
}

struct Run {
    h: Harness,
    world: World,
    flow: Option<FlowModel>,
    passwords: BTreeMap<String, String>,
    sessions: BTreeMap<String, Session>,
    earlier_codes: Vec<String>,
    flows: u64,
    signed_in: u64,
    new_password_counter: u32,
}

fn fail(msg: String) -> Result<(), TestCaseError> {
    Err(TestCaseError::fail(msg))
}

impl Run {
    fn new(world: World, seed: u64) -> Run {
        let mut config = config(world.local, world.mfa);
        if !world.sms_on {
            disable(&mut config, "Sms");
        }
        if !world.email_on {
            disable(&mut config, "Email");
        }
        let mut h = Harness::seeded(config, seed);
        if world.mfa == MfaEnforcement::Conditional {
            h = h.with_policy(policies(json!([{
                "id": "mfa-app", "displayName": "MFA", "state": "enabled",
                "conditions": {"users": {"includeUsers": ["All"], "excludeUsers": ["user-3"]},
                               "applications": {"includeApplications": [APP]}, "clientAppTypes": ["all"]},
                "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}])));
        }
        h.keep_steps = true;
        let mut passwords = BTreeMap::new();
        for (i, email) in USERS.iter().take(3).enumerate() {
            let id = match world.local {
                LocalAccount::EmailPassword => {
                    passwords.insert(email.to_string(), START_PASSWORD.to_string());
                    h.add_password_user(email, START_PASSWORD)
                }
                LocalAccount::EmailOtp => h.add_otp_user(email),
            };
            match i {
                0 => {
                    h.add_method(&id, Channel::Sms, PHONES[0]);
                }
                1 => {
                    h.add_method(&id, Channel::Email, email);
                }
                _ => {}
            }
        }
        Run {
            h,
            world,
            flow: None,
            passwords,
            sessions: BTreeMap::new(),
            earlier_codes: Vec::new(),
            flows: 0,
            signed_in: 0,
            new_password_counter: 0,
        }
    }

    /// MFA is required in this world for this user (user-3 is excluded by the policy).
    fn mfa_required(world: World, user_id: &str) -> bool {
        match world.mfa {
            MfaEnforcement::Off => false,
            MfaEnforcement::Always => true,
            MfaEnforcement::Conditional => user_id != "user-3",
        }
    }

    fn latest(&self) -> Option<&Sent> {
        self.flow.as_ref().and_then(|f| f.sent.last())
    }

    fn input(&mut self, ev: Ev) -> Option<FlowInput> {
        let start = |kind: &'static str, email: &str, run: &mut Run| {
            // A new flow replaces whatever was in progress (the adapter drops it).
            if let Some(f) = run.flow.take() {
                run.earlier_codes.extend(f.sent.into_iter().map(|s| s.code));
            }
            run.h.state = None;
            let email_first = run.world.local == LocalAccount::EmailOtp || kind == "reset";
            run.flow = Some(FlowModel {
                kind,
                email: email.to_string(),
                email_first,
                ..FlowModel::default()
            });
        };
        let code = |c: &str| FlowInput::SubmitCode {
            code: Secret::new(c.to_string()),
        };
        Some(match ev {
            Ev::StartSignIn(i) => {
                let email = at(&USERS, i);
                start("signIn", email, self);
                FlowInput::StartSignIn(vestibule::flow::StartSignIn {
                    app_id: APP.into(),
                    email: Pii::new(email.into()),
                    capabilities: Default::default(),
                    challenge_types: Default::default(),
                    facts: Default::default(),
                    auth_contexts: vec![],
                })
            }
            Ev::StartSignUp(i, with_password) => {
                let email = if i == 0 {
                    "new0@example.com"
                } else {
                    at(&USERS, i)
                };
                start("signUp", email, self);
                let password = with_password.then(|| START_PASSWORD.to_string());
                if let Some(f) = &mut self.flow {
                    if self.world.local == LocalAccount::EmailPassword {
                        f.signup_password = password.clone();
                    }
                }
                FlowInput::StartSignUp(StartSignUp {
                    app_id: APP.into(),
                    email: Pii::new(email.into()),
                    password: if self.world.local == LocalAccount::EmailPassword {
                        password.map(Secret::new)
                    } else {
                        None
                    },
                    attributes: Default::default(),
                    capabilities: Default::default(),
                    challenge_types: Default::default(),
                    facts: Default::default(),
                })
            }
            Ev::StartReset(i) => {
                let email = at(&USERS, i);
                start("reset", email, self);
                FlowInput::StartPasswordReset(vestibule::flow::StartPasswordReset {
                    app_id: APP.into(),
                    email: Pii::new(email.into()),
                    capabilities: Default::default(),
                    facts: Default::default(),
                })
            }
            Ev::StartStepUp(i) | Ev::StartMethodChange(i) => {
                let email = at(&USERS, i);
                let session = self.sessions.get(email)?.clone();
                let kind = if matches!(ev, Ev::StartStepUp(_)) {
                    "stepUp"
                } else {
                    "methodChange"
                };
                start(kind, email, self);
                if let Some(f) = &mut self.flow {
                    f.session = session.methods.iter().map(|m| amr_name(m.method)).collect();
                    f.email_first = self.world.local == LocalAccount::EmailOtp;
                }
                if kind == "stepUp" {
                    FlowInput::StartStepUp(vestibule::flow::StartStepUp {
                        app_id: APP.into(),
                        session,
                        auth_contexts: vec![],
                        capabilities: Default::default(),
                        challenge_types: Default::default(),
                        facts: Default::default(),
                    })
                } else {
                    FlowInput::StartMethodChange(vestibule::flow::StartMethodChange {
                        app_id: APP.into(),
                        session,
                        change: MethodChange::Add {
                            channel: Channel::Sms,
                        },
                        facts: Default::default(),
                    })
                }
            }
            Ev::Challenge => FlowInput::Challenge {
                challenge_types: None,
            },
            Ev::PasswordRight => {
                let email = self.flow.as_ref()?.email.clone();
                let p = self
                    .passwords
                    .get(&email)
                    .cloned()
                    .unwrap_or_else(|| START_PASSWORD.into());
                FlowInput::SubmitPassword {
                    password: Secret::new(p),
                }
            }
            Ev::PasswordWrong => FlowInput::SubmitPassword {
                password: Secret::new("Wrong-Horse-99".into()),
            },
            Ev::NewPassword(strong) => {
                self.new_password_counter += 1;
                let p = if strong {
                    format!("Fresh-Horse-{}", self.new_password_counter)
                } else {
                    "weak".into()
                };
                FlowInput::SubmitPassword {
                    password: Secret::new(p),
                }
            }
            Ev::CodeLatest => code(&self.latest().map_or("12345678".into(), |s| s.code.clone())),
            Ev::CodePrevious => {
                let f = self.flow.as_ref()?;
                let n = f.sent.len();
                code(&f.sent.get(n.checked_sub(2)?)?.code.clone())
            }
            Ev::CodeWrong => {
                let mut c = self
                    .latest()
                    .map_or("12345678".to_string(), |s| s.code.clone());
                let last = c.pop().unwrap_or('0');
                c.push(if last == '9' {
                    '0'
                } else {
                    char::from(last as u8 + 1)
                });
                code(&c)
            }
            Ev::CodeFromEarlierFlow => code(&self.earlier_codes.last()?.clone()),
            Ev::Attributes(valid) => FlowInput::SubmitAttributes {
                attributes: json!({"displayName": if valid { "Model User" } else { "!" }})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            },
            Ev::ListMethods => FlowInput::ListMethods,
            Ev::Select(i) => {
                let ids = &self.flow.as_ref()?.mfa_ids;
                let id = ids
                    .get(usize::from(i) % ids.len().max(1))
                    .cloned()
                    .unwrap_or_else(|| "bogus".into());
                FlowInput::SelectMethod { id }
            }
            Ev::Register(sms, i) => {
                let target = if sms {
                    at(&PHONES, i).to_string()
                } else if i == 0 {
                    self.flow.as_ref()?.email.clone()
                } else {
                    format!("other{i}@example.net")
                };
                FlowInput::RegisterMethod {
                    channel: if sms { Channel::Sms } else { Channel::Email },
                    target: Pii::new(target),
                }
            }
            Ev::Continue => FlowInput::Continue,
            Ev::Poll => FlowInput::PollCompletion,
            Ev::Redeem => FlowInput::RedeemContinuation,
            Ev::Cancel => FlowInput::Cancel,
            Ev::Advance(_) | Ev::CodeBurst => return None,
        })
    }

    fn apply(&mut self, ev: Ev) -> Result<(), TestCaseError> {
        if let Ev::Advance(s) = ev {
            self.h.advance(u64::from(s));
            return Ok(());
        }
        if let Ev::CodeBurst = ev {
            for _ in 0..5 {
                self.apply(Ev::CodeWrong)?;
            }
            return self.apply(Ev::CodeLatest);
        }
        let Some(input) = self.input(ev) else {
            return Ok(());
        };
        let is_start = matches!(
            input,
            FlowInput::StartSignIn(_)
                | FlowInput::StartSignUp(_)
                | FlowInput::StartPasswordReset(_)
                | FlowInput::StartStepUp(_)
                | FlowInput::StartMethodChange(_)
        );
        let submitted_code = match &input {
            FlowInput::SubmitCode { code } => Some(code.expose().clone()),
            _ => None,
        };
        let submitted_password = match &input {
            FlowInput::SubmitPassword { password } => Some(password.expose().clone()),
            _ => None,
        };
        let now = self.h.now;
        // The guard object a continuation token of this state is spent in, and its name
        // there (src/guard/spend.rs): a rejection keeps the token, so it must keep both,
        // or two requests with one token reading the two states would each spend it once.
        fn spent_in(
            state: &vestibule::flow::FlowState,
            key: &vestibule::flow::CodeKey,
        ) -> (String, Option<String>) {
            vestibule::guard::spend::SpendIn::Flow(state.common()).place(key, "t", "token")
        }
        let spent_before = self.h.state.as_ref().map(|s| spent_in(s, &self.h.key));
        let Ok(reply) = self.h.try_send(input) else {
            // Nothing happened; the model agrees.
            return Ok(());
        };
        let step = self
            .h
            .steps
            .pop()
            .ok_or_else(|| TestCaseError::fail("no step kept"))?;
        self.h.steps.clear();
        if is_start {
            self.flows += 1;
        }
        let kept = vestibule::native::disposition(step.state.as_ref(), &reply)
            == vestibule::native::Disposition::Keep;
        if let (false, true, Some(before), Some(next)) =
            (is_start, kept, &spent_before, step.state.as_ref())
            && spent_in(next, &self.h.key) != *before
        {
            return fail(format!(
                "a rejection moved its token to another spend object: {reply:?}"
            ));
        }
        let Some(flow) = self.flow.as_mut() else {
            return Ok(());
        };
        let accepted = !matches!(reply, Reply::Rejected { .. });

        // What the input proved, by the model's own account.
        if let Some(code) = &submitted_code {
            if accepted {
                // 2 and 3: only the latest code, once, in time, within 5 tries.
                let Some(latest) = flow.sent.last_mut() else {
                    return fail(format!(
                        "a code was accepted with none sent in the flow: {reply:?}"
                    ));
                };
                if &latest.code != code {
                    return fail(format!(
                        "a code other than the latest was accepted: {reply:?}"
                    ));
                }
                if latest.used {
                    return fail("a code worked twice".into());
                }
                if now >= latest.expires_at {
                    return fail("an expired code was accepted".into());
                }
                if latest.wrong_tries >= 5 {
                    return fail("a code was accepted after 5 wrong tries".into());
                }
                latest.used = true;
                flow.proven.insert(match latest.channel {
                    Channel::Email => "otp",
                    Channel::Sms => "sms",
                });
            } else if let Reply::Rejected {
                rejection: vestibule::flow::Rejection::InvalidCode { .. },
            } = &reply
            {
                if let Some(latest) = flow.sent.last_mut() {
                    latest.wrong_tries += 1;
                }
            }
        }
        if let Some(p) = &submitted_password {
            let current = self.passwords.get(&flow.email);
            if accepted && flow.kind != "signUp" && flow.kind != "reset" {
                if current != Some(p) {
                    return fail(format!("a wrong password was accepted: {reply:?}"));
                }
                flow.proven.insert("pwd");
            }
            if accepted && flow.kind == "signUp" {
                flow.signup_password = Some(p.clone());
            }
            if matches!(reply, Reply::ResetSubmitted { .. }) {
                flow.reset_password = Some(p.clone());
            }
        }
        if let Reply::MfaRequired { methods } | Reply::MfaMethods { methods } = &reply {
            flow.mfa_ids = methods.iter().map(|m| m.id.clone()).collect();
        }

        for effect in &step.effects {
            match effect {
                Effect::SendCode(d) => {
                    // 4: an email-OTP first factor is never followed by an email MFA code.
                    if flow.email_first
                        && d.purpose == CodePurpose::Mfa
                        && d.channel == Channel::Email
                    {
                        return fail("an email MFA code after an email first factor".into());
                    }
                    if d.expires_at.0 > now + 600 {
                        return fail("a code lives longer than 10 minutes".into());
                    }
                    flow.sent.push(Sent {
                        code: d.code.expose().clone(),
                        channel: d.channel,
                        expires_at: d.expires_at.0,
                        used: false,
                        wrong_tries: 0,
                    });
                }
                Effect::CreateUser(u) => {
                    if let Some(p) = &flow.signup_password {
                        self.passwords.insert(u.email.expose().clone(), p.clone());
                        flow.proven.insert("pwd");
                    }
                    let email_proven = flow
                        .sent
                        .iter()
                        .any(|s| s.used && s.channel == Channel::Email);
                    if !email_proven {
                        return fail("an account was created without its email proven".into());
                    }
                }
                Effect::UpdateUser(u) => {
                    if let Some(p) = &flow.reset_password {
                        self.passwords.insert(u.email.expose().clone(), p.clone());
                    }
                    if u.lockout.consecutive_failures > 100 {
                        return fail("more than 100 consecutive failures".into());
                    }
                }
                Effect::IssueTokens(t) => {
                    self.signed_in += 1;
                    if step.state.is_some() {
                        return fail("tokens issued with the flow still going".into());
                    }
                    let user = self.h.users.get(&t.user_id).cloned();
                    if user.as_ref().is_none_or(|u| u.lockout.disabled) {
                        return fail("tokens for a disabled or unknown account".into());
                    }
                    let amr: BTreeSet<&str> = t
                        .amr
                        .iter()
                        .map(String::as_str)
                        .filter(|a| *a != "mfa")
                        .collect();
                    // 1: every method in the tokens was proven in this flow (or by the session).
                    for m in &amr {
                        let preverified = *m == "otp"
                            && flow.kind == "signUp"
                            && flow
                                .sent
                                .iter()
                                .any(|s| s.used && s.channel == Channel::Email);
                        if !flow.proven.contains(m) && !flow.session.contains(m) && !preverified {
                            return fail(format!("`{m}` in tokens but not proven in {flow:?}"));
                        }
                    }
                    if amr.is_empty() {
                        return fail("tokens with no method".into());
                    }
                    if Run::mfa_required(self.world, &t.user_id) && amr.len() < 2 {
                        return fail(format!("MFA required but tokens have {amr:?}"));
                    }
                    // 4: an email first factor is followed by SMS, never by email alone.
                    if flow.email_first
                        && flow.kind != "signUp"
                        && amr.len() >= 2
                        && !amr.contains("sms")
                    {
                        return fail(format!("email first factor with MFA {amr:?}"));
                    }
                    self.sessions.insert(
                        flow.email.clone(),
                        Session {
                            user_id: t.user_id.clone(),
                            methods: t.methods.clone(),
                            signed_in_at: None,
                        },
                    );
                }
                Effect::Audit(_) => {}
            }
        }
        if step.state.is_none() {
            if let Some(f) = self.flow.take() {
                self.earlier_codes
                    .extend(f.sent.into_iter().map(|s| s.code));
            }
        }
        Ok(())
    }
}

#[test]
fn random_event_sequences_never_break_the_guarantees() {
    let cases: u32 = std::env::var("FLOW_MODEL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        world(),
        any::<u64>(),
        proptest::collection::vec(any::<u32>(), 200..400),
    );
    let totals = std::cell::Cell::new((0u64, 0u64));
    let result = runner.run(&strategy, |(world, seed, events)| {
        let mut run = Run::new(world, seed);
        for n in events {
            let ev = if n % 3 == 0 {
                event(n / 3)
            } else {
                guided(n / 3, run.h.step_name())
            };
            run.apply(ev)?;
        }
        let (f, s) = totals.get();
        totals.set((f + run.flows, s + run.signed_in));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (flows, signed_in) = totals.get();
    eprintln!("{flows} flows, {signed_in} ended in tokens");
    if cases >= 1500 {
        assert!(flows >= 100_000, "only {flows} flows");
    }
    assert!(
        signed_in > flows / 50,
        "too few flows reach tokens ({signed_in}) to mean much"
    );
}
