//! One start or step request: look up the flow and the user, run the flow engine,
//! apply its effects in order, rotate the continuation token, answer.
//!
//! A code that cannot be sent stops the effects there: the step's new state is dropped,
//! the state behind the client's token is kept (counting the failed send), and the
//! client gets the error [`crate::native::delivery`] chooses.

use super::Fail;
use super::delivery::Delivery;
use super::effects::{self, Target};
use super::kv::Store;
use super::setup::Setup;
use crate::flow::{AccessPolicy, Channel, Entropy, NoPolicies, StepContext, UserLookup};
use crate::native::delivery::{self as delivery_rules, Undelivered};
use crate::native::tokens::{RefreshSession, TokenSettings};
use crate::native::{
    Disposition, FlowRecord, Meta, NativeError, NativeRequest, NativeResponse, check_step,
    disposition, flow_error, reply_response,
};
use crate::token::{HandleKind, LookupKey, lookup_key, new_handle};
use crate::worker::guard::SpendIn;
use crate::worker::request;
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
    pub delivery: &'a Delivery,
    /// Token issuer and lifetimes.
    pub tokens: &'a TokenSettings,
    /// Time and ids.
    pub meta: &'a Meta,
    /// Where sign-in attempts are recorded.
    pub sign_in_log: crate::worker::sign_in_log::SignInLog,
    /// The Durable Object guard (code attempts, SMS velocity).
    pub guard: crate::worker::guard::Client,
    /// The record the request reads first, read with the tenant's setup.
    pub prefetched: std::cell::Cell<Option<super::kv::Prefetched>>,
}

/// Runs a start or step request.
pub async fn run(call: &Call<'_>, req: NativeRequest) -> Result<NativeResponse, Fail> {
    let store = Store::new(call.kv, call.tenant).with_prefetched(call.prefetched.take());
    let now = call.meta.now;
    let scope = match &req {
        NativeRequest::Step { scope, .. } => scope.clone(),
        _ => crate::native::params::DEFAULT_SCOPE.to_string(),
    };
    let (state, old_key, user): (Option<crate::flow::FlowState>, _, _) = match &req {
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
    // A password is judged against the account's lockout: one password step per account
    // at a time, the record read again under the hold (a step that ended meanwhile wrote
    // a newer count) and made as strict as the object's copy (guesses judged at other
    // locations), released with the lockout the step ended with once it is written back.
    let (held, user) = match user {
        Some(u) if crate::guard::password::needs_hold(&input, state.as_ref()) => {
            let (hold, fresh) = call
                .guard
                .hold_and_read(&store, call.setup.code_key(), &u.id, now)
                .await?;
            (Some(hold), fresh)
        }
        user => (None, user),
    };
    let mut ended = None;
    let answer = judge(
        call, &store, state, old_key, input, user, &scope, &mut ended,
    )
    .await;
    if let Some(hold) = held {
        call.guard.release(hold, ended, now).await;
    }
    answer
}

/// Runs the flow engine on one step input, applies its effects, stores or rotates the
/// state and answers. `ended` gets the user's lockout as the step left it, once the flow
/// has judged the input.
#[allow(
    clippy::too_many_arguments,
    reason = "one step's pieces; `ended` is the one output besides the answer"
)]
async fn judge(
    call: &Call<'_>,
    store: &Store<'_>,
    state: Option<crate::flow::FlowState>,
    old_key: Option<LookupKey>,
    input: crate::flow::FlowInput,
    user: Option<crate::flow::UserRecord>,
    scope: &str,
    ended: &mut Option<crate::flow::user::Lockout>,
) -> Result<NativeResponse, Fail> {
    let now = call.meta.now;
    let judged = user.as_ref().map(|u| (u.id.clone(), u.lockout));
    let base = user.clone();
    let policy: &dyn AccessPolicy = match &call.setup.policies {
        Some(set) => set.as_ref(),
        None => &NoPolicies,
    };
    // A channel that cannot deliver is not offered (the core's decision).
    let deliverable = crate::native::delivery::only_deliverable(&call.setup.config, |c| {
        call.delivery.can_send(c)
    });
    let ctx = StepContext {
        config: deliverable.as_ref().unwrap_or(&call.setup.config),
        code_key: call.setup.code_key(),
        access_policy: policy,
        now,
        entropy: Entropy::new(request::random::<{ Entropy::RECOMMENDED_LEN }>()?.to_vec()),
        user,
    };
    let kept = state.clone();
    // The token is spent (when the step moves the flow on) before anything is counted or
    // applied: concurrent replays of one token get one step between them.
    let token = old_key
        .as_ref()
        .zip(kept.as_ref())
        .map(|(key, state)| (key.as_str(), state.common().expires_at));
    let (step, spent) = call
        .guard
        .step_spending(call.tenant, state, input, ctx, token)
        .await?
        .map_err(|e| Fail::from(flow_error(&e)))?;
    if let Some((id, lockout)) = &judged {
        *ended = Some(crate::guard::password::ended_with(
            lockout,
            id,
            &step.effects,
        ));
    }
    let disposition = disposition(step.state.as_ref(), &step.reply);
    let app_id = step
        .state
        .as_ref()
        .or(kept.as_ref())
        .map(|s| s.common().app_id.clone())
        .unwrap_or_default();
    let target = Target {
        kv: call.kv,
        tenant: call.tenant,
        delivery: call.delivery,
        app_id: &app_id,
        correlation_id: Some(&call.meta.correlation_id),
        sign_in_log: call.sign_in_log,
        now,
        guard: &call.guard,
        code_key: call.setup.code_key(),
        base: base.as_ref(),
    };
    let applied = effects::apply(&target, step.effects).await?;
    if let Some(id) = &applied.cleared {
        let key = call.setup.code_key();
        call.guard
            .clear_lockout(key, call.tenant, id, now, false)
            .await;
    }
    if let Some((channel, why)) = applied.undelivered {
        let next = step.state;
        let common = kept.as_ref().map(|s| s.common().clone());
        let fail = undelivered(call, store, kept, next, old_key.as_ref(), channel, why).await;
        // The state behind the client's token is stored for a retry first, then the token
        // is made spendable again: a retry in between is refused, never run on the state
        // from before.
        if let (true, Some(key), Some(common)) = (spent, old_key.as_ref(), common.as_ref()) {
            let (code_key, within) = (call.setup.code_key(), SpendIn::Flow(common));
            call.guard
                .unspend(code_key, call.tenant, key.as_str(), within, now)
                .await;
        }
        return Err(fail);
    }
    let tokens = match applied.grant {
        Some(grant) => {
            let session = RefreshSession::new(&grant, scope, call.tokens, now);
            let body =
                super::tokens::mint(store, call.setup, call.tokens, &grant, &session, now, None)
                    .await?;
            Some(body)
        }
        None => None,
    };
    let token = match disposition {
        Disposition::Rotate => match step.state.clone() {
            Some(state) => Some(rotate(store, old_key.as_ref(), state, call.meta).await?),
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

/// Keeps the state the client's token points at ([`delivery_rules::kept_after_failed_send`]:
/// the state before the step, or after a timeout the step's own with its code marked),
/// gives back the velocity counts of a send that cannot have gone out, logs the failure,
/// and returns the client's error.
#[allow(
    clippy::too_many_arguments,
    reason = "the failed step's pieces: both states, its token, what failed and why"
)]
async fn undelivered(
    call: &Call<'_>,
    store: &Store<'_>,
    kept: Option<crate::flow::FlowState>,
    next: Option<crate::flow::FlowState>,
    old_key: Option<&LookupKey>,
    channel: Channel,
    why: Undelivered,
) -> Fail {
    let key = call.setup.code_key();
    call.guard
        .refund_sends(key, call.tenant, channel, why)
        .await;
    let others = kept
        .as_ref()
        .map(|s| delivery_rules::other_channels(s, channel))
        .unwrap_or_default();
    if let Some(state) = &kept {
        let common = state.common();
        effects::audit(
            call.tenant,
            &crate::flow::AuditEvent {
                at: call.meta.now,
                flow: common.kind,
                event: "code.delivery_failed".to_string(),
                user_id: common.user_id.clone(),
                app_id: common.app_id.clone(),
                channel: Some(channel),
                reason: Some(why.reason()),
                sign_in: None,
            },
        );
    }
    if let (Some(state), Some(key)) = (
        delivery_rules::kept_after_failed_send(why, kept, next),
        old_key,
    ) {
        let record = FlowRecord::new(state);
        if let Err(e) = store.put_flow(key, &record, call.meta.now).await {
            return e.into();
        }
    }
    delivery_rules::failure_error(channel, why, &others).into()
}
