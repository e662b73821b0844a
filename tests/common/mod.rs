//! Flow test harness: a fake clock, a seeded ChaCha RNG for entropy, an in-memory user
//! store and an outbox, and an effect runner that applies every effect the engine
//! returns before the next input (the adapter's contract). Journeys read as a list
//! of inputs; helpers keep each test to one screen.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test harness: each test file uses part of it, and failures should panic"
)]

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use vestibule::flow::{
    AccessPolicy, AuditEvent, Channel, CodeDelivery, CodeKey, Effect, Entropy, FlowConfig,
    FlowError, FlowInput, FlowState, LocalAccount, MethodChange, MfaEnforcement, NoPolicies, Reply,
    Session, StartMethodChange, StartPasswordReset, StartSignIn, StartSignUp, StartStepUp, Step,
    StepContext, StrongMethod, TokenGrant, UserLookup, UserRecord, step,
};
use vestibule::pii::{Pii, Secret};
use vestibule::policy::PolicySet;
use vestibule::time::Timestamp;

/// The app every test flow serves.
pub const APP: &str = "app-bank";

/// A config in the Graph shapes, with a cheap argon2 (m = 8 KiB, t = 1) so property
/// tests can run many flows; production uses the default 19 MiB, t = 2.
pub fn config(local: LocalAccount, mfa: MfaEnforcement) -> FlowConfig {
    let provider = match local {
        LocalAccount::EmailPassword => "EmailPassword-OAUTH",
        LocalAccount::EmailOtp => "EmailOtpSignup-OAUTH",
    };
    let mfa = serde_json::to_value(mfa).unwrap();
    let config: FlowConfig = serde_json::from_value(json!({
        "authenticationMethodsPolicy": {
            "id": "authenticationMethodsPolicy",
            "authenticationMethodConfigurations": [
                {"@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration",
                 "id": "Email", "state": "enabled", "allowExternalIdToUseEmailOtp": "default",
                 "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": false}]},
                {"@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration",
                 "id": "Sms", "state": "enabled",
                 "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": false, "isUsableForSignIn": false}]}
            ]
        },
        "userFlow": {
            "@odata.type": "#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow",
            "displayName": "Woodgrove Bank",
            "conditions": {"applications": {"includeApplications": [{"appId": APP}]}},
            "onInteractiveAuthFlowStart": {"isSignUpAllowed": true},
            "onAuthenticationMethodLoadStart": {"identityProviders": [{"id": provider}]},
            "onAttributeCollection": {
                "attributes": [
                    {"id": "email", "dataType": "string"},
                    {"id": "displayName", "dataType": "string"},
                    {"id": "extension_b2c_Newsletter", "dataType": "boolean"}
                ],
                "attributeCollectionPage": {"views": [{"inputs": [
                    {"attribute": "email", "hidden": true, "required": true},
                    {"attribute": "displayName", "label": "Display Name", "inputType": "text", "required": true,
                     "validationRegEx": "^[a-zA-Z_][0-9a-zA-Z_ ]*[0-9a-zA-Z_]+$"},
                    {"attribute": "extension_b2c_Newsletter", "inputType": "boolean", "required": false}
                ]}]}
            }
        },
        "settings": {
            "mfaEnforcement": mfa,
            "passwords": {"hashing": {"memoryKib": 8, "iterations": 1, "parallelism": 1}}
        }
    }))
    .unwrap();
    config.validate().unwrap();
    config
}

/// Turns a method off in the authentication methods policy.
pub fn disable(config: &mut FlowConfig, id: &str) {
    for c in &mut config
        .authentication_methods_policy
        .authentication_method_configurations
    {
        if c.id == id {
            c.state = vestibule::flow::methods::MethodState::Disabled;
        }
    }
}

/// Compiles Conditional Access policies in Graph JSON.
pub fn policies(policies: Value) -> PolicySet {
    PolicySet::from_json(&json!({ "policies": policies })).unwrap()
}

/// The harness.
pub struct Harness {
    pub now: u64,
    pub rng: ChaCha20Rng,
    pub config: FlowConfig,
    pub key: CodeKey,
    pub policy: Box<dyn AccessPolicy>,
    pub users: BTreeMap<String, UserRecord>,
    pub outbox: Vec<CodeDelivery>,
    pub tokens: Vec<TokenGrant>,
    pub audit: Vec<AuditEvent>,
    pub state: Option<FlowState>,
    pub steps: Vec<Step>,
    pub keep_steps: bool,
}

impl Harness {
    pub fn new(config: FlowConfig) -> Self {
        Self::seeded(config, 7)
    }

    pub fn seeded(config: FlowConfig, seed: u64) -> Self {
        Harness {
            now: 1_800_000_000,
            rng: ChaCha20Rng::seed_from_u64(seed),
            config,
            key: CodeKey::new(vec![0x5a; 32]).unwrap(),
            policy: Box::new(NoPolicies),
            users: BTreeMap::new(),
            outbox: Vec::new(),
            tokens: Vec::new(),
            audit: Vec::new(),
            state: None,
            steps: Vec::new(),
            keep_steps: false,
        }
    }

    pub fn with_policy(mut self, policy: impl AccessPolicy + 'static) -> Self {
        self.policy = Box::new(policy);
        self
    }

    /// The fake clock moves only here.
    pub fn advance(&mut self, seconds: u64) {
        self.now += seconds;
    }

    fn lookup(&self, input: &FlowInput) -> Option<UserRecord> {
        let by_email = |e: &str| {
            let e = e.trim().to_lowercase();
            self.users
                .values()
                .find(|u| u.email.expose() == &e)
                .cloned()
        };
        match &self.state {
            Some(state) => match state.user_lookup() {
                UserLookup::Id(id) => self.users.get(&id).cloned(),
                UserLookup::Email(e) => by_email(e.expose()),
            },
            None => match input {
                FlowInput::StartSignIn(s) => by_email(s.email.expose()),
                FlowInput::StartSignUp(s) => by_email(s.email.expose()),
                FlowInput::StartPasswordReset(s) => by_email(s.email.expose()),
                FlowInput::StartStepUp(s) => self.users.get(&s.session.user_id).cloned(),
                FlowInput::StartMethodChange(s) => self.users.get(&s.session.user_id).cloned(),
                _ => None,
            },
        }
    }

    /// Runs one step like an adapter: look up, step, apply every effect, keep the state.
    /// On error nothing changes.
    pub fn try_send(&mut self, input: FlowInput) -> Result<Reply, FlowError> {
        let mut bytes = [0u8; 64];
        self.rng.fill_bytes(&mut bytes);
        let user = self.lookup(&input);
        let ctx = StepContext {
            config: &self.config,
            code_key: &self.key,
            access_policy: self.policy.as_ref(),
            now: Timestamp(self.now),
            entropy: Entropy::new(bytes),
            user,
        };
        let out = step(self.state.clone(), input, ctx)?;
        for effect in &out.effects {
            match effect {
                Effect::SendCode(d) => self.outbox.push(d.clone()),
                Effect::CreateUser(u) => {
                    assert!(!self.users.contains_key(&u.id), "user created twice");
                    self.users.insert(u.id.clone(), u.clone());
                }
                Effect::UpdateUser(u) => {
                    assert!(self.users.contains_key(&u.id), "update of an unknown user");
                    self.users.insert(u.id.clone(), u.clone());
                }
                Effect::IssueTokens(t) => self.tokens.push(t.clone()),
                Effect::Audit(a) => self.audit.push(a.clone()),
            }
        }
        self.state = out.state.clone();
        let reply = out.reply.clone();
        if self.keep_steps {
            self.steps.push(out);
        }
        Ok(reply)
    }

    pub fn send(&mut self, input: FlowInput) -> Reply {
        self.try_send(input).expect("the step failed")
    }

    // Inputs, named after what the user does.

    pub fn start_sign_in(&mut self, email: &str) -> Reply {
        self.start_sign_in_from(email, Default::default())
    }

    /// A sign-in whose request carries `facts` (country, risk, IP).
    pub fn start_sign_in_from(
        &mut self,
        email: &str,
        facts: vestibule::flow::ClientFacts,
    ) -> Reply {
        self.send(FlowInput::StartSignIn(StartSignIn {
            app_id: APP.into(),
            email: Pii::new(email.into()),
            capabilities: Default::default(),
            challenge_types: Default::default(),
            facts,
            auth_contexts: vec![],
        }))
    }

    pub fn start_sign_up(&mut self, email: &str, password: Option<&str>) -> Reply {
        self.send(FlowInput::StartSignUp(StartSignUp {
            app_id: APP.into(),
            email: Pii::new(email.into()),
            password: password.map(|p| Secret::new(p.to_string())),
            attributes: Default::default(),
            capabilities: Default::default(),
            challenge_types: Default::default(),
            facts: Default::default(),
        }))
    }

    pub fn start_reset(&mut self, email: &str) -> Reply {
        self.send(FlowInput::StartPasswordReset(StartPasswordReset {
            app_id: APP.into(),
            email: Pii::new(email.into()),
            capabilities: Default::default(),
            facts: Default::default(),
        }))
    }

    pub fn start_step_up(&mut self, session: Session, contexts: &[&str]) -> Reply {
        self.send(FlowInput::StartStepUp(StartStepUp {
            app_id: APP.into(),
            session,
            auth_contexts: contexts.iter().map(|c| c.to_string()).collect(),
            capabilities: Default::default(),
            challenge_types: Default::default(),
            facts: Default::default(),
        }))
    }

    pub fn start_method_change(&mut self, session: Session, change: MethodChange) -> Reply {
        self.send(FlowInput::StartMethodChange(StartMethodChange {
            app_id: APP.into(),
            session,
            change,
            facts: Default::default(),
        }))
    }

    pub fn challenge(&mut self) -> Reply {
        self.send(FlowInput::Challenge {
            challenge_types: None,
        })
    }

    pub fn password(&mut self, password: &str) -> Reply {
        self.send(FlowInput::SubmitPassword {
            password: Secret::new(password.into()),
        })
    }

    pub fn code(&mut self, code: &str) -> Reply {
        self.send(FlowInput::SubmitCode {
            code: Secret::new(code.into()),
        })
    }

    pub fn attributes(&mut self, attributes: Value) -> Reply {
        self.send(FlowInput::SubmitAttributes {
            attributes: attributes.as_object().cloned().unwrap(),
        })
    }

    pub fn list_methods(&mut self) -> Reply {
        self.send(FlowInput::ListMethods)
    }

    pub fn select(&mut self, id: &str) -> Reply {
        self.send(FlowInput::SelectMethod { id: id.into() })
    }

    pub fn register(&mut self, channel: Channel, target: &str) -> Reply {
        self.send(FlowInput::RegisterMethod {
            channel,
            target: Pii::new(target.into()),
        })
    }

    pub fn redeem(&mut self) -> Reply {
        self.send(FlowInput::RedeemContinuation)
    }

    pub fn cancel(&mut self) -> Reply {
        self.send(FlowInput::Cancel)
    }

    // Reading the world.

    /// The last code delivered to `to`.
    pub fn last_code(&self, to: &str) -> String {
        self.outbox
            .iter()
            .rev()
            .find(|d| d.to.expose() == to)
            .map(|d| d.code.expose().clone())
            .unwrap_or_else(|| panic!("no code was sent to {to}"))
    }

    pub fn codes_sent_to(&self, to: &str) -> usize {
        self.outbox.iter().filter(|d| d.to.expose() == to).count()
    }

    pub fn user(&self, email: &str) -> &UserRecord {
        self.users
            .values()
            .find(|u| u.email.expose() == email)
            .unwrap_or_else(|| panic!("no user {email}"))
    }

    pub fn step_name(&self) -> Option<&'static str> {
        self.state.as_ref().map(FlowState::step_name)
    }

    /// The session the last tokens stand for, as an adapter would keep it.
    pub fn session(&self) -> Session {
        let t = self.tokens.last().expect("no tokens were issued");
        Session {
            user_id: t.user_id.clone(),
            methods: t.methods.clone(),
            signed_in_at: Some(Timestamp(self.now)),
        }
    }

    // Seeding accounts.

    fn insert(&mut self, email: &str, password: Option<&str>) -> String {
        let id = format!("user-{}", self.users.len() + 1);
        let hash = password.map(|p| {
            vestibule::flow::password::hash(p, &[1u8; 16], &self.config.settings.passwords.hashing)
                .unwrap()
        });
        self.users.insert(
            id.clone(),
            UserRecord {
                id: id.clone(),
                email: Pii::new(email.into()),
                password_hash: hash,
                display_name: Some(Pii::new("Test User".into())),
                attributes: Default::default(),
                groups: vec![],
                strong_methods: vec![],
                lockout: Default::default(),
                created_at: Timestamp(self.now - 86_400),
                password_changed_at: None,
            },
        );
        id
    }

    pub fn add_password_user(&mut self, email: &str, password: &str) -> String {
        self.insert(email, Some(password))
    }

    pub fn add_otp_user(&mut self, email: &str) -> String {
        self.insert(email, None)
    }

    pub fn add_method(&mut self, user_id: &str, channel: Channel, target: &str) -> String {
        let user = self.users.get_mut(user_id).unwrap();
        let id = format!(
            "method-{}-{}",
            channel.as_str(),
            user.strong_methods.len() + 1
        );
        user.strong_methods.push(StrongMethod {
            id: id.clone(),
            channel,
            target: Pii::new(target.into()),
            registered_at: Timestamp(0),
        });
        id
    }

    // Small journeys used by several tests.

    /// Password first factor: start, challenge, password.
    pub fn sign_in_with_password(&mut self, email: &str, password: &str) -> Reply {
        assert_eq!(self.start_sign_in(email), Reply::Started);
        assert_eq!(self.challenge(), Reply::PasswordRequired);
        self.password(password)
    }

    /// Email code first factor: start, challenge, code.
    pub fn sign_in_with_email_code(&mut self, email: &str) -> Reply {
        assert_eq!(self.start_sign_in(email), Reply::Started);
        assert!(matches!(
            self.challenge(),
            Reply::CodeSent {
                channel: Channel::Email,
                ..
            }
        ));
        let code = self.last_code(email);
        self.code(&code)
    }

    /// Picks the only offered MFA method and enters its code.
    pub fn complete_mfa_with(&mut self, channel: Channel, to: &str) -> Reply {
        let Reply::MfaMethods { methods } = self.list_methods() else {
            panic!("not at the MFA step");
        };
        let m = methods
            .iter()
            .find(|m| m.channel == channel)
            .unwrap_or_else(|| panic!("{channel:?} not offered: {methods:?}"));
        let id = m.id.clone();
        assert!(matches!(self.select(&id), Reply::CodeSent { .. }));
        let code = self.last_code(to);
        self.code(&code)
    }
}

/// A reply is `SignedIn` with exactly these `amr` values.
pub fn assert_signed_in(reply: &Reply, amr: &[&str]) {
    match reply {
        Reply::SignedIn { amr: got, .. } => assert_eq!(got, amr, "amr"),
        other => panic!("expected SignedIn, got {other:?}"),
    }
}

/// A reply is a rejection with this stable code.
pub fn rejection_code(reply: &Reply) -> String {
    match reply {
        Reply::Rejected { rejection } => serde_json::to_value(rejection).unwrap()["code"]
            .as_str()
            .unwrap()
            .to_string(),
        other => panic!("expected a rejection, got {other:?}"),
    }
}
