//! Applying a flow step's effects: one place for native auth and the hosted OIDC pages,
//! so both store users, send codes, write audit lines and record sign-in attempts the
//! same way.
//!
//! A code that cannot be sent stops the effects there and is reported back: the caller
//! drops the step's new state and keeps the one the client holds (see
//! [`crate::native::delivery`]). Tokens are not minted here: native auth mints them at
//! once, the authorization endpoint keeps the grant for the code exchange.

use super::Fail;
use super::delivery::Delivery;
use super::kv::Store;
use crate::flow::{Channel, Effect, TokenGrant};
use crate::native::delivery::Undelivered;
use crate::time::Timestamp;
use crate::worker::sign_in_log::SignInLog;
use worker::kv::KvStore;

/// Who the effects are applied for.
pub struct Target<'a> {
    /// KV.
    pub kv: &'a KvStore,
    /// The tenant.
    pub tenant: &'a str,
    /// How codes are delivered.
    pub delivery: &'a Delivery,
    /// The app the flow serves (named in hook payloads).
    pub app_id: &'a str,
    /// The client's request id, if any (named in hook payloads).
    pub correlation_id: Option<&'a str>,
    /// Where ended sign-in attempts are recorded.
    pub sign_in_log: SignInLog,
    /// Now.
    pub now: Timestamp,
    /// The guard objects, and the key that names them: every user record is written
    /// through its account's object, which merges in what other locations wrote.
    pub guard: &'a crate::worker::guard::Client,
    /// The user record the step was given (what its `UpdateUser` changed).
    pub base: Option<&'a crate::flow::UserRecord>,
    /// The key that names the account objects.
    pub code_key: &'a crate::flow::CodeKey,
}

/// What applying a step's effects gave.
#[derive(Default)]
pub struct Applied {
    /// The step granted tokens.
    pub grant: Option<TokenGrant>,
    /// A code that did not go out; the effects after it were not applied.
    pub undelivered: Option<(Channel, Undelivered)>,
    /// The user whose record was written with its lockout cleared just now: the caller
    /// tells the account's guard object ([`crate::worker::guard::Client::clear_lockout`]).
    pub cleared: Option<String>,
}

/// Applies the effects in order, stopping at a code that could not be sent.
pub async fn apply(at: &Target<'_>, effects: Vec<Effect>) -> Result<Applied, Fail> {
    let store = Store::new(at.kv, at.tenant);
    let mut applied = Applied::default();
    let mut writes = crate::guard::record::StepWrites::new(at.base);
    for effect in effects {
        match effect {
            Effect::CreateUser(user) => {
                store.put_user(&user, true).await?;
                writes.written(user);
            }
            Effect::UpdateUser(user) => {
                // Read at this location, the record may predate writes made elsewhere
                // (a password reset, an administrator's disable or removal of a phone):
                // the account's object knows of them and merges them in. A password step
                // read its copy when it took its hold, but a write since then ended that
                // hold, so the object is asked again here.
                let base = writes.base_for(&user);
                let sent = user.clone();
                let Some(user) = at
                    .guard
                    .write_record(&store, at.code_key, base, user, at.now)
                    .await?
                else {
                    // Deleted by an administrator since the step read it: not brought
                    // back, and the step does not go on as if it had been written (a
                    // reset said done, tokens issued): the account no longer exists.
                    let gone =
                        crate::native::response::flow_error(&crate::flow::FlowError::UserRequired);
                    return Err(gone.into());
                };
                if crate::guard::password::cleared_now(&user.lockout, at.now) {
                    applied.cleared = Some(user.id.clone());
                }
                // A second write of this account in the step is merged against this
                // one as the step made it ([`crate::guard::record::StepWrites`]).
                writes.written(sent);
            }
            Effect::SendCode(code) => {
                let cx = crate::hook::request::Context {
                    tenant: at.tenant,
                    app_id: at.app_id,
                    correlation_id: at.correlation_id,
                };
                if let Err(why) = at.delivery.deliver(at.kv, cx, &code, at.now).await? {
                    applied.undelivered = Some((code.channel, why));
                    return Ok(applied);
                }
            }
            Effect::IssueTokens(grant) => applied.grant = Some(grant),
            Effect::Audit(event) => {
                audit(at.tenant, &event);
                at.sign_in_log.record(at.kv, at.tenant, &event).await;
            }
        }
    }
    Ok(applied)
}

/// Writes an audit event to the log. [`crate::flow::AuditEvent`] holds ids and codes
/// only (user id, app id, event, channel, reason): no email, number, code or token.
pub fn audit(tenant: &str, event: &crate::flow::AuditEvent) {
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
