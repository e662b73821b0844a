//! An in-memory native-auth server with the Worker's semantics, for native tests.

use crate::flow::{
    AccessPolicy, CodeDelivery, CodeKey, Effect, Entropy, FlowConfig, NoPolicies, StepContext,
    TokenGrant, UserLookup, UserRecord,
};
use crate::native::tokens::{self, IssuedTokens, TokenSettings};
use crate::native::{
    Disposition, Endpoint, FlowRecord, Form, Meta, NativeError, NativeRequest, NativeResponse,
    check_step, disposition, error_response, flow_error, parse, reply_response,
};
use crate::policy::PolicySet;
use crate::time::Timestamp;
use crate::token::{HandleKind, Keyring, lookup_key, new_handle};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const APP: &str = crate::native::defaults::DEMO_CLIENT_ID;
pub const TENANT: &str = "contoso";

/// The built-in flow with a cheap argon2 so tests stay fast.
pub fn config() -> FlowConfig {
    let mut json = crate::native::defaults::builtin_flow_config_json();
    json["settings"]["passwords"] =
        json!({"hashing": {"memoryKib": 8, "iterations": 1, "parallelism": 1}});
    let c: FlowConfig = serde_json::from_value(json).unwrap();
    c.validate().unwrap();
    c
}

/// Conditional Access requiring MFA of everyone.
pub fn mfa_for_all() -> PolicySet {
    PolicySet::from_json(&json!({"policies": [{
        "id": "11111111-1111-4111-8111-111111111111", "displayName": "MFA for all", "state": "enabled",
        "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]},
                       "clientAppTypes": ["all"]},
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}]}))
    .unwrap()
}

pub struct Server {
    pub now: u64,
    rng: ChaCha20Rng,
    config: FlowConfig,
    key: CodeKey,
    keyring: Keyring,
    pub policy: Option<PolicySet>,
    pub users: BTreeMap<String, UserRecord>,
    pub flows: BTreeMap<String, FlowRecord>,
    pub outbox: Vec<CodeDelivery>,
    pub grants: Vec<TokenGrant>,
    /// Audit events, in order (sign-in log records carry `sign_in`).
    pub audits: Vec<crate::flow::AuditEvent>,
}

impl Server {
    pub fn new(policy: Option<PolicySet>) -> Self {
        Server {
            now: 1_800_000_000,
            rng: ChaCha20Rng::seed_from_u64(11),
            config: config(),
            key: CodeKey::new(vec![7u8; 32]).unwrap(),
            keyring: Keyring::parse(
                r#"[{"kid":"k1","seed":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]"#,
            )
            .unwrap(),
            policy,
            users: BTreeMap::new(),
            flows: BTreeMap::new(),
            outbox: Vec::new(),
            grants: Vec::new(),
            audits: Vec::new(),
        }
    }

    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    fn meta(&self) -> Meta {
        Meta {
            now: Timestamp(self.now),
            trace_id: "trace-1".into(),
            correlation_id: "corr-1".into(),
        }
    }

    /// POSTs a form body; always an answer, as the Worker.
    pub fn post(&mut self, endpoint: Endpoint, body: &str) -> NativeResponse {
        let meta = self.meta();
        match self.handle(endpoint, body, &meta) {
            Ok(r) => r,
            Err(e) => error_response(&e, &meta, None),
        }
    }

    /// The latest code sent to `to`.
    pub fn code_for(&self, to: &str) -> String {
        self.outbox
            .iter()
            .rev()
            .find(|d| d.to.expose() == to)
            .map(|d| d.code.expose().clone())
            .expect("a code was sent")
    }

    fn by_email(&self, email: &str) -> Option<UserRecord> {
        let email = crate::flow::contact::normalize_email(email)?;
        self.users
            .values()
            .find(|u| u.email.expose() == &email)
            .cloned()
    }

    fn handle(
        &mut self,
        endpoint: Endpoint,
        body: &str,
        meta: &Meta,
    ) -> Result<NativeResponse, NativeError> {
        let form = Form::parse(body.as_bytes())?;
        let req = parse(endpoint, &form, &Default::default())?;
        let scope = match &req {
            NativeRequest::Step { scope, .. } => scope.clone(),
            _ => crate::native::params::DEFAULT_SCOPE.to_string(),
        };
        let (state, old_key, user) = match &req {
            NativeRequest::Start { .. } => {
                let email = req.start_username().unwrap().expose().clone();
                (None, None, self.by_email(&email))
            }
            NativeRequest::Step {
                continuation_token, ..
            } => {
                let key = lookup_key(HandleKind::ContinuationToken, continuation_token.expose())
                    .map_err(|_| NativeError::invalid_token("continuation token"))?;
                let record = self
                    .flows
                    .get(key.as_str())
                    .cloned()
                    .ok_or_else(|| NativeError::invalid_token("continuation token"))?;
                if let Err(e) = record.check(Timestamp(self.now)) {
                    self.flows.remove(key.as_str());
                    return Err(e);
                }
                check_step(&req, &record.state)?;
                let user = match record.state.user_lookup() {
                    UserLookup::Id(id) => self.users.get(&id).cloned(),
                    UserLookup::Email(e) => self.by_email(e.expose()),
                };
                (Some(record.state), Some(key.as_str().to_string()), user)
            }
            NativeRequest::Refresh { .. } => {
                return Err(NativeError::unsupported_grant_type("refresh_token"));
            }
        };
        let input = req.into_input().unwrap();
        let mut bytes = [0u8; Entropy::RECOMMENDED_LEN];
        self.rng.fill_bytes(&mut bytes);
        let policy: &dyn AccessPolicy = match &self.policy {
            Some(p) => p,
            None => &NoPolicies,
        };
        let ctx = StepContext {
            config: &self.config,
            code_key: &self.key,
            access_policy: policy,
            now: Timestamp(self.now),
            entropy: Entropy::new(bytes.to_vec()),
            user,
        };
        let step = crate::flow::step(state, input, ctx).map_err(|e| flow_error(&e))?;
        let mut tokens_body: Option<Value> = None;
        for effect in step.effects {
            match effect {
                Effect::CreateUser(u) | Effect::UpdateUser(u) => {
                    self.users.insert(u.id.clone(), u);
                }
                Effect::SendCode(d) => self.outbox.push(d),
                Effect::IssueTokens(grant) => {
                    tokens_body = Some(self.mint(&grant, &scope));
                    self.grants.push(grant);
                }
                Effect::Audit(a) => self.audits.push(a),
            }
        }
        let token = match disposition(step.state.as_ref(), &step.reply) {
            Disposition::Rotate => {
                let mut random = [0u8; 32];
                self.rng.fill_bytes(&mut random);
                let handle = new_handle(HandleKind::ContinuationToken, &random);
                if let Some(old) = &old_key {
                    self.flows.remove(old);
                }
                let state = step.state.clone().unwrap();
                self.flows.insert(
                    handle.lookup_key.as_str().to_string(),
                    FlowRecord::new(state),
                );
                Some(handle.token.expose().clone())
            }
            Disposition::Keep => {
                let state = step.state.clone().unwrap();
                self.flows
                    .insert(old_key.clone().unwrap(), FlowRecord::new(state));
                None
            }
            Disposition::End => {
                if let Some(old) = &old_key {
                    self.flows.remove(old);
                }
                None
            }
        };
        Ok(reply_response(
            &step.reply,
            token.as_deref(),
            tokens_body.as_ref(),
            meta,
        ))
    }

    fn mint(&mut self, grant: &TokenGrant, scope: &str) -> Value {
        let now = Timestamp(self.now);
        let s = TokenSettings::new(tokens::issuer("https://id.example", TENANT), TENANT);
        let id =
            crate::token::issue(&self.keyring, &tokens::id_token_claims(grant, &s, now)).unwrap();
        let access = crate::token::issue(
            &self.keyring,
            &tokens::access_token_claims(grant, scope, &s, now, "jti-1"),
        )
        .unwrap();
        let mut random = [0u8; 32];
        self.rng.fill_bytes(&mut random);
        let rt = crate::token::refresh_token_handle(&random);
        let issued = IssuedTokens {
            access_token: access.expose(),
            id_token: id.expose(),
            refresh_token: rt.token.expose(),
        };
        tokens::token_response(&issued, grant, scope, &s, 86_400)
    }
}
