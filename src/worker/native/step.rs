//! One start or step request: look up the flow and the user, run the flow engine,
//! apply its effects in order, rotate the continuation token, answer.

use super::Fail;
use super::delivery::Delivery;
use super::kv::Store;
use super::setup::Setup;
use crate::flow::{AccessPolicy, Effect, Entropy, NoPolicies, StepContext, UserLookup};
use crate::native::tokens::{RefreshSession, TokenSettings};
use crate::native::{
    Disposition, FlowRecord, Meta, NativeError, NativeRequest, NativeResponse, check_step,
    disposition, flow_error, reply_response,
};
use crate::token::{HandleKind, LookupKey, lookup_key, new_handle};
use crate::worker::request;
use serde_json::Value;
use worker::kv::KvStore;

/// The context of one request.
pub struct Call<'a> {
    /// KV.
    pub kv: &'a KvStore,
    /// The tenant.
    pub tenant: &'a str,
    /// Its configuration and keys.
    pub setup: &'a Setup,
    /// How codes are delivered.
    pub delivery: Delivery,
    /// Token issuer and lifetimes.
    pub tokens: &'a TokenSettings,
    /// Time and ids.
    pub meta: &'a Meta,
    /// The Durable Object guard (code attempts, SMS velocity).
    pub guard: crate::worker::guard::Client,
}

/// Runs a start or step request.
pub async fn run(call: &Call<'_>, req: NativeRequest) -> Result<NativeResponse, Fail> {
    let store = Store::new(call.kv, call.tenant);
    let now = call.meta.now;
    let scope = match &req {
        NativeRequest::Step { scope, .. } => scope.clone(),
        _ => crate::native::params::DEFAULT_SCOPE.to_string(),
    };
    let (state, old_key, user) = match &req {
        NativeRequest::Start { .. } => {
            let email = req.start_username().map(|e| e.expose().clone());
            let user = match email {
                Some(e) => store.user_by_email(&e).await?,
                None => None,
            };
            (None, None, user)
        }
        NativeRequest::Step {
            continuation_token, ..
        } => {
            let invalid = || Fail::from(NativeError::invalid_token("continuation token"));
            let key = lookup_key(HandleKind::ContinuationToken, continuation_token.expose())
                .map_err(|_| invalid())?;
            let record = store.flow(&key).await?.ok_or_else(invalid)?;
            if let Err(e) = record.check(now) {
                store.delete_flow(&key).await?;
                return Err(e.into());
            }
            check_step(&req, &record.state)?;
            let user = match record.state.user_lookup() {
                UserLookup::Id(id) => store.user(&id).await?,
                UserLookup::Email(e) => store.user_by_email(e.expose()).await?,
            };
            (Some(record.state), Some(key), user)
        }
        NativeRequest::Refresh { .. } => {
            return Err(NativeError::invalid_request("not a flow request").into());
        }
    };
    let Some(input) = req.into_input() else {
        return Err(NativeError::invalid_request("not a flow request").into());
    };
    let policy: &dyn AccessPolicy = match &call.setup.policies {
        Some(set) => set.as_ref(),
        None => &NoPolicies,
    };
    let ctx = StepContext {
        config: &call.setup.config,
        code_key: call.setup.code_key(),
        access_policy: policy,
        now,
        entropy: Entropy::new(request::random::<{ Entropy::RECOMMENDED_LEN }>()?.to_vec()),
        user,
    };
    // The guard (src/worker/guard.rs): a slot before a code is evaluated; after the step,
    // the accepted code is consumed once and SMS sends are counted, before anything is
    // applied or stored.
    let (guard, key) = (&call.guard, call.setup.code_key());
    let settings = &call.setup.config.settings;
    let slot = (guard.before_step(key, call.tenant, state.as_ref(), &input, settings, now)).await?;
    let step = crate::flow::step(state, input, ctx).map_err(|e| Fail::from(flow_error(&e)))?;
    let next = step.state.as_ref();
    (guard.after_step(key, call.tenant, slot, next, &step.effects, settings, now)).await?;
    let tokens = apply(call, &store, step.effects, &scope).await?;
    let token = match disposition(step.state.as_ref(), &step.reply) {
        Disposition::Rotate => match step.state.clone() {
            Some(state) => Some(rotate(&store, old_key.as_ref(), state, call.meta).await?),
            None => None,
        },
        Disposition::Keep => {
            if let (Some(state), Some(key)) = (step.state.clone(), old_key.as_ref()) {
                store.put_flow(key, &FlowRecord::new(state), now).await?;
            }
            None
        }
        Disposition::End => {
            if let Some(key) = &old_key {
                store.delete_flow(key).await?;
            }
            None
        }
    };
    Ok(reply_response(
        &step.reply,
        token.as_deref(),
        tokens.as_ref(),
        call.meta,
    ))
}

/// Stores the next state under a fresh continuation token and forgets the old one.
async fn rotate(
    store: &Store<'_>,
    old: Option<&LookupKey>,
    state: crate::flow::FlowState,
    meta: &Meta,
) -> Result<String, Fail> {
    let handle = new_handle(HandleKind::ContinuationToken, &request::random::<32>()?);
    store
        .put_flow(&handle.lookup_key, &FlowRecord::new(state), meta.now)
        .await?;
    if let Some(old) = old {
        store.delete_flow(old).await?;
    }
    Ok(handle.token.into_inner())
}

/// Applies the effects in order; returns the token response if tokens were issued.
async fn apply(
    call: &Call<'_>,
    store: &Store<'_>,
    effects: Vec<Effect>,
    scope: &str,
) -> Result<Option<Value>, Fail> {
    let now = call.meta.now;
    let mut tokens = None;
    for effect in effects {
        match effect {
            Effect::CreateUser(user) => store.put_user(&user, true).await?,
            Effect::UpdateUser(user) => store.put_user(&user, false).await?,
            Effect::SendCode(code) => {
                call.delivery
                    .deliver(call.kv, call.tenant, &code, now)
                    .await?
            }
            Effect::IssueTokens(grant) => {
                let session = RefreshSession::new(&grant, scope, call.tokens, now);
                let body =
                    super::tokens::mint(store, call.setup, call.tokens, &grant, &session, now)
                        .await?;
                tokens = Some(body);
            }
            Effect::Audit(event) => audit(call.tenant, &event),
        }
    }
    Ok(tokens)
}

/// Writes an audit event to the log. [`crate::flow::AuditEvent`] holds ids and codes
/// only (user id, app id, event, channel, reason): no email, number, code or token.
fn audit(tenant: &str, event: &crate::flow::AuditEvent) {
    let line = serde_json::to_string(event).unwrap_or_default();
    console_info(&format!("audit tenant={tenant} {line}"));
}

/// `console.info`: audit is information, not a `console.log` debug line, and
/// `wrangler dev --log-level info` shows it (the end-to-end log check reads it there).
fn console_info(line: &str) {
    use wasm_bindgen::JsCast as _;
    let global = js_sys::global();
    let Ok(console) = js_sys::Reflect::get(&global, &"console".into()) else {
        return;
    };
    let Ok(info) = js_sys::Reflect::get(&console, &"info".into()) else {
        return;
    };
    if let Some(f) = info.dyn_ref::<js_sys::Function>() {
        // Logging must never fail a request.
        let _ = f.call1(&console, &line.into());
    }
}
