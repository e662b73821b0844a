//! The guard Durable Object (class `Guard`, binding `GUARD`) and the Worker's client.
//!
//! The decisions are [`crate::guard`]'s. The object loads its state from its SQLite
//! storage, calls [`crate::guard::decide`], stores the result and answers, all in one
//! synchronous stretch: SQLite-backed storage (`ctx.storage.sql`) runs without awaiting,
//! and an object runs one event at a time, so no other request can interleave between
//! the read and the write. That is the compare-and-set KV lacks.
//!
//! Each object forgets its state with an alarm once the state says it is no longer
//! needed (the flow expired, the velocity counter went quiet), so storage does not grow
//! with the number of flows.
//!
//! Without the `GUARD` binding (a misconfigured deployment) every guarded operation
//! fails closed with `server_error`: no code is sent (SMS or email) or evaluated, no
//! sign-in password judged, and no code, refresh token or finished flow redeemed.

use super::native::Fail;
use crate::flow::user::Lockout;
use crate::flow::{Channel, CodeKey, Effect, FlowInput, FlowSettings, FlowState, PendingCode};
use crate::guard::attempts::CodeVerdict;
use crate::guard::email_velocity::email_checks;
use crate::guard::password::{LockoutCopy, busy_error, merge, password_object_name};
use crate::guard::record::{Record, RecordCopy, freshest};
use crate::guard::refund::should_refund;
use crate::guard::spend::AccountClosed;
pub use crate::guard::spend::SpendIn;
use crate::guard::spend::spend_object_name;
use crate::guard::velocity::{SendCheck, SendVerdict, sms_checks};
use crate::guard::vouch::{Vouched, code_verified, pair_for};
use crate::guard::{
    GuardAnswer, GuardCall, GuardOp, GuardState, closed_account_error, code_refusal_error,
    counter_object_name, flow_object_name, send_refusal_error, unavailable_error,
};
use crate::native::delivery::Undelivered;
use crate::time::Timestamp;
use crate::worker::route::Ctx;
use futures_util::future::join;
use serde::Deserialize;
use std::cell::RefCell;
use wasm_bindgen::JsValue;
use worker::durable::ScheduledTime;
use worker::{
    DurableObject, Env, Method, ObjectNamespace, Request, RequestInit, Response, Result, State,
    durable_object,
};

/// The binding name in `wrangler.toml`.
const BINDING: &str = "GUARD";
/// The one row an object keeps.
const STATE_KEY: &str = "state";

/// One guard object: a flow's code attempts, or one SMS or email velocity counter.
#[durable_object(alarm)]
pub struct Guard {
    state: State,
    /// Whether this instance made sure of its table: once per instance, not once per
    /// call (a SQLite statement each call cost the object's CPU for nothing). Storage
    /// outlives the instance, and `delete_all` drops the table, so an instance that
    /// forgot everything makes sure again.
    table_ready: std::cell::Cell<bool>,
}

#[derive(Deserialize)]
struct Row {
    v: String,
}

impl Guard {
    fn load(&self) -> Result<GuardState> {
        let sql = self.state.storage().sql();
        if !self.table_ready.get() {
            sql.exec(
                "CREATE TABLE IF NOT EXISTS guard (k TEXT PRIMARY KEY, v TEXT NOT NULL)",
                None,
            )?;
            self.table_ready.set(true);
        }
        let rows: Vec<Row> = sql
            .exec("SELECT v FROM guard WHERE k = ?", vec![STATE_KEY.into()])?
            .to_array()?;
        match rows.first() {
            // Only this code writes here, so an unreadable row is a bug or a format
            // change. Starting over would hand out fresh attempts: refuse instead (fail
            // closed); the alarm deletes the row when the state was due to be forgotten.
            Some(row) => Ok(serde_json::from_str(&row.v)?),
            None => Ok(GuardState::default()),
        }
    }

    fn store(&self, state: &GuardState) -> Result<()> {
        let json = serde_json::to_string(state)?;
        self.state.storage().sql().exec(
            "INSERT OR REPLACE INTO guard (k, v) VALUES (?, ?)",
            vec![STATE_KEY.into(), json.into()],
        )?;
        Ok(())
    }

    async fn arm(&self, at: Timestamp) -> Result<()> {
        let ms = (at.0 as f64) * 1000.0;
        let date = js_sys::Date::new(&JsValue::from_f64(ms));
        self.state
            .storage()
            .set_alarm(ScheduledTime::new(date))
            .await
    }
}

impl DurableObject for Guard {
    fn new(state: State, _env: Env) -> Self {
        Guard {
            state,
            table_ready: std::cell::Cell::new(false),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let Ok(call) = crate::worker::kv_json::body::<GuardCall>(&mut req).await else {
            return Response::error("not a guard call", 400);
        };
        // From here to the store nothing awaits: the decision is atomic.
        let before = self.load()?;
        let forget_before = before.forget_at;
        let (after, answer) = crate::guard::decide(before, call);
        self.store(&after)?;
        let response = Response::from_json(&answer)?;
        if after.forget_at != forget_before
            && let Some(at) = after.forget_at
            && self.arm(at).await.is_err()
        {
            // The decision is stored; a missing alarm only delays the cleanup.
            worker::console_error!("guard: could not schedule the cleanup alarm");
        }
        Ok(response)
    }

    async fn alarm(&self) -> Result<Response> {
        let now = super::request::now();
        match self.load().ok().and_then(|s| s.forget_at) {
            // A later request pushed the date back: wait for that.
            Some(at) if at > now => self.arm(at).await?,
            // Due, or unreadable (see `load`): forget everything, the table too.
            _ => {
                self.table_ready.set(false);
                self.state.storage().delete_all().await?
            }
        }
        Response::ok("")
    }
}

/// A response body as text through the runtime's own `Response.text()`: one call. The
/// `worker` crate's `Response::text` reads a streamed body chunk by chunk through wasm (a
/// `read()` promise per chunk, then `releaseLock()`), which cost ~0.25 ms of the Worker's
/// isolate per guard answer in `scripts/bench-cpu.sh`.
async fn body_text(response: Response) -> Result<String> {
    let js: worker::web_sys::Response = response.into();
    let text = worker::wasm_bindgen_futures::JsFuture::from(js.text()?).await?;
    text.as_string()
        .ok_or_else(|| worker::Error::RustError("a guard answer was not text".into()))
}

/// A granted evaluation: which object granted it, for which code, and the pair counter
/// the code vouches for if it is verified ([`crate::guard::vouch`]).
pub struct Slot {
    object: String,
    code: String,
    vouch: Option<SendCheck>,
}

/// An account held for one password step: its object, the ticket that releases it,
/// and the object's copy of the account's lockout.
pub struct Hold {
    object: String,
    ticket: Timestamp,
    copy: Option<LockoutCopy>,
    record: Option<RecordCopy>,
}

/// The Worker's side: asks guard objects before a code is evaluated or an SMS is sent.
pub struct Client {
    namespace: Option<ObjectNamespace>,
    ip: Option<String>,
    /// The sends the latest step counted, and when: what [`Client::refund_sends`] gives
    /// back when its code does not go out.
    counted: RefCell<Vec<(SendCheck, Timestamp)>>,
}

impl Client {
    /// The client for one request: the `GUARD` binding (if bound) and the caller's IP.
    pub fn for_request(ctx: &Ctx, req: &Request) -> Self {
        Client {
            namespace: ctx.durable_object(BINDING).ok(),
            ip: req.headers().get("cf-connecting-ip").ok().flatten(),
            counted: RefCell::default(),
        }
    }

    /// The client for a request that sends no codes (the admin API): no IP needed.
    pub fn without_ip(ctx: &Ctx) -> Self {
        Client {
            namespace: ctx.durable_object(BINDING).ok(),
            ip: None,
            counted: RefCell::default(),
        }
    }

    /// The caller's IP address (`cf-connecting-ip`), if known.
    pub fn ip(&self) -> Option<&str> {
        self.ip.as_deref()
    }

    async fn call(&self, name: &str, call: &GuardCall) -> std::result::Result<GuardAnswer, Fail> {
        let Some(namespace) = &self.namespace else {
            worker::console_error!("guard: the {BINDING} binding is missing; failing closed");
            return Err(unavailable_error().into());
        };
        let stub = namespace.get_by_name(name)?;
        let body = serde_json::to_string(call).map_err(worker::Error::from)?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_body(Some(JsValue::from_str(&body)));
        let request = Request::new_with_init("https://guard.internal/", &init)?;
        let response = stub.fetch_with_request(request).await?;
        if response.status_code() != 200 {
            return Err(unavailable_error().into());
        }
        let text = body_text(response).await?;
        Ok(serde_json::from_str::<GuardAnswer>(&text).map_err(worker::Error::from)?)
    }

    /// Asks `object` for one evaluation of `code`; refused → the protocol error, and the
    /// code is not evaluated.
    async fn acquire(
        &self,
        object: String,
        code: &PendingCode,
        max_attempts: u8,
        flow_expires_at: Timestamp,
        now: Timestamp,
    ) -> std::result::Result<Slot, Fail> {
        let fingerprint = code.fingerprint();
        let call = GuardCall {
            now,
            op: GuardOp::Acquire {
                code: fingerprint.clone(),
                max_attempts,
                flow_expires_at,
            },
        };
        match self.call(&object, &call).await? {
            GuardAnswer::Code {
                verdict: CodeVerdict::Granted { .. },
            } => Ok(Slot {
                object,
                code: fingerprint,
                vouch: None,
            }),
            GuardAnswer::Code {
                verdict: CodeVerdict::Refused { reason },
            } => Err(code_refusal_error(reason).into()),
            _ => Err(unavailable_error().into()),
        }
    }

    /// Consumes an accepted code; only the first request to do so may go on.
    async fn commit(&self, slot: &Slot, now: Timestamp) -> std::result::Result<(), Fail> {
        let call = GuardCall {
            now,
            op: GuardOp::Commit {
                code: slot.code.clone(),
            },
        };
        match self.call(&slot.object, &call).await? {
            GuardAnswer::Code {
                verdict: CodeVerdict::Granted { .. },
            } => Ok(()),
            GuardAnswer::Code {
                verdict: CodeVerdict::Refused { reason },
            } => Err(code_refusal_error(reason).into()),
            _ => Err(unavailable_error().into()),
        }
    }

    /// Runs one flow step under the guard, for native auth and the hosted pages alike:
    /// a slot before a code is evaluated; after the step, the accepted code is consumed
    /// once and SMS and email sends are counted, before anything is applied or stored. The outer
    /// error is the guard's refusal (or its failure); the inner one is the flow's.
    pub async fn step(
        &self,
        tenant: &str,
        state: Option<FlowState>,
        input: FlowInput,
        ctx: crate::flow::StepContext<'_>,
    ) -> std::result::Result<std::result::Result<crate::flow::Step, crate::flow::FlowError>, Fail>
    {
        let stepped = self.step_spending(tenant, state, input, ctx, None).await?;
        Ok(stepped.map(|(step, _)| step))
    }

    /// [`Client::step`] for a request that presented a continuation token (`token`: its
    /// lookup key, and when its flow ends anyway). When the step moves the flow to a new
    /// token or grants tokens ([`crate::guard::spend::must_spend`]), the token is spent
    /// through its object first, before a code is consumed or a send counted: of
    /// concurrent replays of one token (at one location or several) one goes on, and the
    /// others get `invalid_grant` having counted nothing against anyone's limits. The
    /// answer says whether the token was spent, for [`Client::unspend`] should the step's
    /// code not go out.
    pub async fn step_spending(
        &self,
        tenant: &str,
        state: Option<FlowState>,
        input: FlowInput,
        ctx: crate::flow::StepContext<'_>,
        token: Option<(&str, Timestamp)>,
    ) -> std::result::Result<
        std::result::Result<(crate::flow::Step, bool), crate::flow::FlowError>,
        Fail,
    > {
        // The same password typed on two keyboards is one secret (NFKC by the runtime's
        // own Unicode data: [`FlowInput::with_normalized_passwords`]).
        let input = input.with_normalized_passwords(|text| {
            js_sys::JsString::from(text).normalize("NFKC").into()
        });
        let (key, settings, now) = (ctx.code_key, &ctx.config.settings, ctx.now);
        let slot = self
            .before_step(key, tenant, state.as_ref(), &input, settings, now)
            .await?;
        // A token is spent in its flow's object, named from the state before the step
        // moves it on.
        let common = token.and(state.as_ref()).map(|s| s.common().clone());
        let step = match crate::flow::step(state, input, ctx) {
            Ok(step) => step,
            Err(e) => return Ok(Err(e)),
        };
        let mut spent = false;
        let token = token.zip(common.as_ref());
        if let Some(((lookup, until), common)) = token {
            let rotates = matches!(
                crate::native::disposition(step.state.as_ref(), &step.reply),
                crate::native::Disposition::Rotate
            );
            if crate::guard::spend::must_spend(&step.effects, rotates) {
                let within = SpendIn::Flow(common);
                match self.spend(key, tenant, lookup, within, until, now).await? {
                    Ok(true) => {}
                    Ok(false) => {
                        return Err(crate::native::NativeError::invalid_token(
                            "continuation token",
                        )
                        .into());
                    }
                    Err(closed) => return Err(closed_account_error(closed).into()),
                }
                spent = true;
                // Tokens leave only while the account's object says the account is open
                // (a disable or deletion at another location reaches it at once). Whether
                // the name was new there does not matter: the flow's object decided that.
                if let Some(user_id) = crate::guard::spend::granted_to(&step.effects) {
                    let within = SpendIn::Account(user_id);
                    match self.spend(key, tenant, lookup, within, until, now).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(closed)) => return Err(closed_account_error(closed).into()),
                        // Not answered (the object unavailable or full): nothing was
                        // granted, so the client may retry with its token.
                        Err(fail) => {
                            self.unspend(key, tenant, lookup, SpendIn::Flow(common), now)
                                .await;
                            return Err(fail);
                        }
                    }
                }
            }
        }
        let next = step.state.as_ref();
        if let Err(e) = self
            .after_step(key, tenant, slot, next, &step.effects, settings, now)
            .await
        {
            // Nothing of the step was applied: the client may retry with its token.
            if let (true, Some(((lookup, _), common))) = (spent, token) {
                self.unspend(key, tenant, lookup, SpendIn::Flow(common), now)
                    .await;
            }
            return Err(e);
        }
        Ok(Ok((step, spent)))
    }

    /// Before a step runs: when the input submits a code to a step that waits for one,
    /// a slot for it, or the refusal. Other steps need no slot.
    pub async fn before_step(
        &self,
        key: &CodeKey,
        tenant: &str,
        state: Option<&FlowState>,
        input: &FlowInput,
        settings: &FlowSettings,
        now: Timestamp,
    ) -> std::result::Result<Option<Slot>, Fail> {
        let (FlowInput::SubmitCode { .. }, Some(state)) = (input, state) else {
            return Ok(None);
        };
        let Some(code) = state.pending_code() else {
            return Ok(None);
        };
        let common = state.common();
        let object = flow_object_name(key, tenant, common);
        let max = settings.codes.max_attempts;
        let mut slot = self
            .acquire(object, code, max, common.expires_at, now)
            .await?;
        slot.vouch = pair_for(code, self.ip(), settings);
        Ok(Some(slot))
    }

    /// After a step ran and before anything is applied or stored: consume an accepted
    /// code (only one request gets past this), then count the SMS and email codes it
    /// would send.
    #[allow(
        clippy::too_many_arguments,
        reason = "the pieces of one step, passed apart so step.rs needs no guard types"
    )]
    pub async fn after_step(
        &self,
        key: &CodeKey,
        tenant: &str,
        slot: Option<Slot>,
        next: Option<&FlowState>,
        effects: &[Effect],
        settings: &FlowSettings,
        now: Timestamp,
    ) -> std::result::Result<(), Fail> {
        let mut vouch = None;
        if let Some(slot) = slot
            && crate::guard::code_left_flow(&slot.code, next)
        {
            self.commit(&slot, now).await?;
            vouch = slot.vouch.filter(|_| code_verified(effects));
        }
        self.counted.borrow_mut().clear();
        let user = next.and_then(|s| s.common().user_id.as_deref());
        let mut checks = sms_checks(effects, &settings.sms_velocity, user, self.ip());
        checks.extend(email_checks(effects, &settings.email_velocity, self.ip()));
        // The vouch runs alongside the send checks, not before them: one Durable Object round
        // trip less on every code-verifying step. Should this step also send a code to the
        // same destination from the same network, the order of the two only decides whether
        // that send skips the destination's cross-network ceiling: at worst it is counted as
        // an unvouched send, stricter, never looser.
        let sends = self.check_sends(key, tenant, checks, now);
        match vouch {
            Some(pair) => join(self.vouch(key, tenant, pair, now), sends).await.1,
            None => sends.await,
        }
    }

    /// Counts the sends in `checks` in order; the first refusal stops and answers.
    pub async fn check_sends(
        &self,
        key: &CodeKey,
        tenant: &str,
        checks: Vec<SendCheck>,
        now: Timestamp,
    ) -> std::result::Result<(), Fail> {
        let mut vouched = Vouched::default();
        for check in checks {
            if vouched.skips(&check) {
                continue;
            }
            let name = counter_object_name(key, tenant, check.dimension, &check.value);
            let call = GuardCall {
                now,
                op: GuardOp::Send {
                    limits: check.limits.clone(),
                },
            };
            match self.call(&name, &call).await? {
                GuardAnswer::Send {
                    verdict: SendVerdict::Allowed,
                    vouched: pair_vouched,
                } => {
                    vouched.record(&check, pair_vouched);
                    self.counted.borrow_mut().push((check, now));
                }
                GuardAnswer::Send {
                    verdict: SendVerdict::Refused { retry_after },
                    ..
                } => return Err(send_refusal_error(check.dimension, retry_after).into()),
                _ => return Err(unavailable_error().into()),
            }
        }
        Ok(())
    }

    /// Gives back what the latest step counted on `channel` when its code did not go
    /// out for a reason [`crate::guard::refund::should_refund`] accepts (refused,
    /// unreachable, no sender; not a timeout). Best effort, after the failure: a refund
    /// that does not arrive leaves the send counted, as before refunds existed.
    pub async fn refund_sends(
        &self,
        key: &CodeKey,
        tenant: &str,
        channel: Channel,
        why: Undelivered,
    ) {
        if !should_refund(why) {
            return;
        }
        let counted: Vec<(SendCheck, Timestamp)> = {
            let mut all = self.counted.borrow_mut();
            let (ours, rest) = all
                .drain(..)
                .partition(|(c, _)| c.dimension.channel() == channel.as_str());
            *all = rest;
            ours
        };
        for (check, sent_at) in counted {
            let name = counter_object_name(key, tenant, check.dimension, &check.value);
            let call = GuardCall {
                now: sent_at,
                op: GuardOp::Refund {
                    sent_at,
                    limits: check.limits,
                },
            };
            if !matches!(
                self.call(&name, &call).await,
                Ok(GuardAnswer::Refunded { .. })
            ) {
                worker::console_warn!(
                    "guard: a failed send could not be given back; it stays counted"
                );
            }
        }
    }

    /// Redeems a one-time handle (an authorization code, a refresh token, a continuation
    /// token) with its object: true only for the first request, however many race at
    /// however many locations ([`crate::guard::spend`]); in an account's object, the
    /// refusal when the account is closed. `lookup` is the handle's KV lookup key;
    /// `until` when it expires anyway.
    pub async fn spend(
        &self,
        key: &CodeKey,
        tenant: &str,
        lookup: &str,
        within: SpendIn<'_>,
        until: Timestamp,
        now: Timestamp,
    ) -> std::result::Result<std::result::Result<bool, AccountClosed>, Fail> {
        let (name, handle) = within.place(key, tenant, lookup);
        let shared = handle.is_some();
        let call = GuardCall {
            now,
            op: GuardOp::Spend {
                until,
                form: None,
                handle,
            },
        };
        match self.call(&name, &call).await? {
            GuardAnswer::Spent {
                closed: Some(closed),
                ..
            } => Ok(Err(closed)),
            // A shared object full of recent names spent nothing: neither a reuse nor a
            // closed account, so the client is told to retry, not to start again.
            GuardAnswer::Spent { wait: true, .. } if shared => {
                worker::console_warn!("guard: a shared spend object is full; spend refused");
                Err(unavailable_error().into())
            }
            GuardAnswer::Spent { first, .. } => Ok(Ok(first)),
            _ => Err(unavailable_error().into()),
        }
    }

    /// Spends a hosted page's handle ([`crate::oidc::replay`]) with the digest of the
    /// posted `form`: `None` for the first post, which goes on; for a later post of the
    /// same form, `Some` of what the first answered, once it has (`Some(Later::Wait)`
    /// until then); `Some(Later::Refused)` when no answer will come for it.
    pub async fn spend_form(
        &self,
        key: &CodeKey,
        tenant: &str,
        lookup: &str,
        form: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> std::result::Result<Option<crate::oidc::replay::Later>, Fail> {
        use crate::oidc::replay::Later;
        let name = spend_object_name(key, tenant, &crate::oidc::replay::spend_name(lookup));
        let call = GuardCall {
            now,
            op: GuardOp::Spend {
                until,
                form: Some(form.to_string()),
                handle: None,
            },
        };
        match self.call(&name, &call).await? {
            GuardAnswer::Spent { first: true, .. } => Ok(None),
            GuardAnswer::Spent {
                replay: Some(kept), ..
            } => Ok(Some(Later::Kept(kept))),
            GuardAnswer::Spent { wait: true, .. } => Ok(Some(Later::Wait)),
            GuardAnswer::Spent { .. } => Ok(Some(Later::Refused)),
            _ => Err(unavailable_error().into()),
        }
    }

    /// Leaves the first post's answer with its handle's object, for a second post of the
    /// same form. Best effort: without it, that post waits, then says the page was used.
    pub async fn settle_form(
        &self,
        key: &CodeKey,
        tenant: &str,
        lookup: &str,
        replay: String,
        now: Timestamp,
    ) {
        let name = spend_object_name(key, tenant, &crate::oidc::replay::spend_name(lookup));
        let call = GuardCall {
            now,
            op: GuardOp::Settle { replay },
        };
        if self.call(&name, &call).await.is_err() {
            worker::console_warn!(
                "guard: a hosted page's answer could not be kept for a repeated post"
            );
        }
    }

    /// Takes back [`Client::spend`] of a continuation token whose step could not deliver
    /// its code, so the client's retry with that token is judged again. Best effort: if
    /// it fails, the retry is refused as a used token and the person starts again.
    pub async fn unspend(
        &self,
        key: &CodeKey,
        tenant: &str,
        lookup: &str,
        within: SpendIn<'_>,
        now: Timestamp,
    ) {
        let (name, handle) = within.place(key, tenant, lookup);
        let call = GuardCall {
            now,
            op: GuardOp::Unspend { handle },
        };
        if self.call(&name, &call).await.is_err() {
            worker::console_warn!("guard: a spent continuation token could not be taken back");
        }
    }

    /// Holds `user_id`'s account for one password step ([`crate::guard::password`]); a
    /// guess that arrives while another is judged gets the busy error, unjudged. The
    /// answer is what [`Client::release`] needs once the user record is written.
    pub async fn hold_account(
        &self,
        key: &CodeKey,
        tenant: &str,
        user_id: &str,
        now: Timestamp,
    ) -> std::result::Result<Hold, Fail> {
        let object = password_object_name(key, tenant, user_id);
        let call = GuardCall {
            now,
            op: GuardOp::Hold,
        };
        match self.call(&object, &call).await? {
            GuardAnswer::Held {
                ticket: Some(ticket),
                lockout: copy,
                record,
            } => Ok(Hold {
                object,
                ticket,
                copy,
                record,
            }),
            GuardAnswer::Held { ticket: None, .. } => Err(busy_error().into()),
            _ => Err(unavailable_error().into()),
        }
    }

    /// Holds `user_id`'s account, then reads its record again under the hold (a step
    /// that ended meanwhile wrote a newer failure count) and judges it by the stricter of
    /// its lockout and the object's copy ([`crate::guard::password::merge`]): the record
    /// at this location may not show guesses judged elsewhere yet. A failed read frees
    /// the hold.
    pub async fn hold_and_read(
        &self,
        store: &super::native::kv::Store<'_>,
        key: &CodeKey,
        user_id: &str,
        now: Timestamp,
    ) -> std::result::Result<(Hold, Option<crate::flow::UserRecord>), Fail> {
        let hold = self.hold_account(key, store.tenant(), user_id, now).await?;
        match store.user(user_id).await {
            Ok(fresh) => {
                let fresh = freshest(fresh, hold.record.as_ref(), now).map(|mut user| {
                    user.lockout = merge(&user.lockout, hold.copy.as_ref());
                    user
                });
                Ok((hold, fresh))
            }
            Err(e) => {
                self.release(hold, None, now).await;
                Err(e.into())
            }
        }
    }

    /// Frees the hold [`Client::hold_account`] took (not one taken since it lapsed) and
    /// leaves `ended`, the lockout the step ended with ([`crate::guard::password::ended_with`];
    /// `None` when the step judged nothing), with the object. Best effort: a hold that is
    /// not released lapses by itself within seconds, and a count that is not stored is
    /// still in the record written to KV.
    pub async fn release(&self, hold: Hold, ended: Option<Lockout>, now: Timestamp) {
        let call = GuardCall {
            now,
            op: GuardOp::Release {
                ticket: hold.ticket,
                lockout: ended,
            },
        };
        if self.call(&hold.object, &call).await.is_err() {
            worker::console_warn!("guard: a password hold could not be released; it lapses");
        }
    }

    /// Tells `user_id`'s object that the record just written to KV cleared its lockout
    /// (a complete sign-in, an administrator's re-enable), so it forgets its count.
    ///
    /// Best effort, after the KV write: should this call fail, the record's `clearedAt`
    /// (stamped now) is newer than the object's copy, and
    /// [`crate::guard::password::merge`] then ignores the copy wherever KV shows that
    /// record. A missed clear costs at most KV's propagation delay, as the write itself
    /// does, and cannot keep the account locked. Failing the request instead would not
    /// undo the write, and would tell a user who has signed in that they have not.
    pub async fn clear_lockout(
        &self,
        key: &CodeKey,
        tenant: &str,
        user_id: &str,
        now: Timestamp,
        enable: bool,
    ) {
        let object = password_object_name(key, tenant, user_id);
        let call = GuardCall {
            now,
            op: GuardOp::ClearLockout { enable },
        };
        match self.call(&object, &call).await {
            Ok(GuardAnswer::Cleared) => {}
            _ => worker::console_warn!(
                "guard: an account's cleared lockout did not reach its object; the record's clear stamp stands in"
            ),
        }
    }

    /// Tells the account's object of an administrator's [`GuardOp::Disable`] or
    /// [`GuardOp::Delete`] before the record in KV says so: every location then judges
    /// passwords and writes records with it ([`crate::guard::password::disable`],
    /// [`crate::guard::record::delete`]), whatever its KV still shows. Not best effort:
    /// without it a record written back from an older copy of KV could enable or bring
    /// back the account, so the administrator is told to retry instead.
    pub async fn tell_account(
        &self,
        key: &CodeKey,
        tenant: &str,
        user_id: &str,
        op: GuardOp,
        now: Timestamp,
    ) -> std::result::Result<(), Fail> {
        let object = password_object_name(key, tenant, user_id);
        let call = GuardCall { now, op };
        match self.call(&object, &call).await? {
            GuardAnswer::Cleared => Ok(()),
            _ => Err(unavailable_error().into()),
        }
    }

    /// Writes a user record through its account's object ([`crate::guard::record`]) and
    /// stores it in KV: the record stored has what other locations wrote since `base` was
    /// read and the object's copy of the lockout merged in ([`merge`]); `None` when the
    /// account was deleted meanwhile (nothing is stored). A record read from an older
    /// copy of KV must not write back an old password, a removed phone, a lower count or
    /// an enabled account. Failing closed: a write that could undo one is not made.
    ///
    /// After the put, the object is asked whether another write (or a deletion) was
    /// answered since this one; its put may have landed first, so that record is stored
    /// again over this one ([`crate::guard::record::after_put`]).
    pub async fn write_record(
        &self,
        store: &super::native::kv::Store<'_>,
        key: &CodeKey,
        base: Option<&crate::flow::UserRecord>,
        user: crate::flow::UserRecord,
        now: Timestamp,
    ) -> std::result::Result<Option<crate::flow::UserRecord>, Fail> {
        let object = password_object_name(key, store.tenant(), &user.id);
        let call = GuardCall {
            now,
            op: GuardOp::Write {
                base: base.map(|b| Box::new(Record(b.clone()))),
                record: Box::new(Record(user)),
            },
        };
        let (user, version) = match self.call(&object, &call).await? {
            GuardAnswer::Written { record: None, .. } => return Ok(None),
            GuardAnswer::Written {
                record: Some(Record(mut user)),
                lockout,
                version,
            } => {
                user.lockout = merge(&user.lockout, lockout.as_ref());
                (user, version)
            }
            _ => return Err(unavailable_error().into()),
        };
        store.put_user(&user, false).await?;
        self.after_put(store, &object, &user, version, now).await;
        Ok(Some(user))
    }

    /// Asks the account's object whether a write or deletion was answered after the one
    /// stored as `version`, and stores that over it (a few times at most, should writes
    /// keep coming). Best effort: the write itself succeeded, and until the copy is no
    /// longer kept every write and password step reads the object's copy anyway.
    async fn after_put(
        &self,
        store: &super::native::kv::Store<'_>,
        object: &str,
        ours: &crate::flow::UserRecord,
        mut version: u64,
        now: Timestamp,
    ) {
        for _ in 0..3 {
            let call = GuardCall {
                now,
                op: GuardOp::Stored { version },
            };
            let (newer, lockout) = match self.call(object, &call).await {
                Ok(GuardAnswer::Stored { newer: None, .. }) => return,
                Ok(GuardAnswer::Stored {
                    newer: Some(newer),
                    lockout,
                }) => (newer, lockout),
                _ => {
                    worker::console_warn!(
                        "guard: could not confirm a user record write; the account object keeps the last one"
                    );
                    return;
                }
            };
            version = newer.version;
            let put = match newer.record {
                Some(Record(mut later)) => {
                    later.lockout = merge(&later.lockout, lockout.as_ref());
                    store.put_user(&later, false).await
                }
                // Deleted since this write was answered: the put must not bring it back.
                None => store.delete_user(ours).await,
            };
            if put.is_err() {
                worker::console_warn!(
                    "guard: a later user record could not be stored over an earlier one"
                );
                return;
            }
        }
    }

    /// Records that a code sent to `pair`'s destination was verified from its network.
    /// Best effort: the step already succeeded, and a missed vouch only means the owner
    /// is treated like anyone else by the ceilings.
    async fn vouch(&self, key: &CodeKey, tenant: &str, pair: SendCheck, now: Timestamp) {
        let name = counter_object_name(key, tenant, pair.dimension, &pair.value);
        let call = GuardCall {
            now,
            op: GuardOp::Vouch {
                limits: pair.limits,
            },
        };
        if self.call(&name, &call).await.is_err() {
            worker::console_warn!("guard: a verified code could not vouch for its network");
        }
    }
}
