//! The guard: the guarantees KV cannot give, decided here and enforced by a Durable
//! Object (issue #5, "State and its guarantees").
//!
//! KV is eventually consistent and has no compare-and-set, so two requests racing on one
//! continuation token both read the same flow state. What must hold anyway goes through
//! a Durable Object, which runs one request at a time per name:
//!
//! 1. a one-time code is accepted at most once, and evaluated at most `maxAttempts`
//!    times however many requests race ([`attempts`], one object per flow);
//! 2. SMS codes respect velocity caps per number from one client network, user, IP,
//!    number across networks and country calling code, with growing cool-downs
//!    ([`velocity`], one object per counter);
//! 3. email codes likewise, per address from one client network, per network and per
//!    address across networks, with aliases of one inbox counted as one
//!    ([`email_velocity`], [`velocity_key`]);
//! 4. a continuation token, an authorization code or a refresh token is redeemed at most
//!    once ([`spend`]: a continuation token, an authorization code or a refresh token in
//!    its account's object, or a continuation token in its flow's before the account is
//!    known; a hosted page's handle in an object of its own),
//!    and an account's object spends none of its handles once the account is disabled or
//!    deleted;
//! 5. one account's passwords are judged one at a time, against the failure count the
//!    object keeps, so neither a burst nor guesses spread over locations outrun the
//!    lockout ([`password`], one object per account);
//! 6. a user record written back from an older copy of KV does not undo a write made
//!    elsewhere: the same account object keeps the last record written and merges every
//!    write with it ([`record`]).
//!
//! A send counted for a code whose delivery then failed without anything going out is
//! given back to the same counters ([`refund`]).
//!
//! This module is pure: state structs, `decide` functions, the wire format between the
//! Worker and the object ([`GuardCall`], [`GuardAnswer`]), the object names and the
//! protocol errors of a refusal. The object (`src/worker/guard.rs`) only loads the state,
//! calls [`decide`], stores the result and answers.

pub mod app_sends;
pub mod attempts;
pub mod email_velocity;
pub mod password;
pub mod record;
pub mod refund;
pub mod sms_velocity;
pub mod spend;
pub mod velocity;
pub mod velocity_key;
pub mod vouch;

use crate::flow::{CodeKey, FlowCommon, FlowState};
use crate::native::NativeError;
use crate::time::Timestamp;
use attempts::{AttemptsState, CodeRefusal, CodeVerdict};
use serde::{Deserialize, Serialize};
use velocity::{Dimension, SendVerdict, VelocityLimits, VelocityState};

/// What one Durable Object keeps. An object serves either a flow (attempts) or one
/// velocity counter; both parts are small and default to empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuardState {
    /// Code attempts (flow objects).
    #[serde(default)]
    pub attempts: AttemptsState,
    /// Send history (velocity objects).
    #[serde(default)]
    pub velocity: VelocityState,
    /// When the handle was redeemed (spend objects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spent_at: Option<Timestamp>,
    /// The handles redeemed through an object they share (flow and account objects), by
    /// name ([`spend::spend_in`]).
    #[serde(default, skip_serializing_if = "spend::Spent::is_empty")]
    pub spent: spend::Spent,
    /// What the request that spent the handle answered, for a second post of the same
    /// form (spend objects of hosted-page handles; opaque here, see
    /// [`crate::oidc::replay`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<String>,
    /// The digest of the form that spent a hosted page's handle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<String>,
    /// Until when a password step holds the account (password objects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_until: Option<Timestamp>,
    /// The account's lockout as the last password step or clear left it (password
    /// objects; absent in objects stored before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lockout: Option<password::LockoutCopy>,
    /// The account's record as last written, or its deletion (password objects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<record::RecordCopy>,
    /// When everything here may be deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forget_at: Option<Timestamp>,
}

/// One request to a guard object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    remote = "Self",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum GuardOp {
    /// May this code be evaluated once more?
    Acquire {
        /// The code's fingerprint.
        code: String,
        /// The flow's `maxAttempts`.
        max_attempts: u8,
        /// The flow's expiry (the state is kept until then).
        flow_expires_at: Timestamp,
    },
    /// The code matched: may it be accepted?
    Commit {
        /// The code's fingerprint.
        code: String,
    },
    /// May one more SMS go out under this counter?
    Send {
        /// The counter's limits.
        limits: VelocityLimits,
    },
    /// The send counted at `sentAt` did not go out: give it back ([`refund`]).
    Refund {
        /// When it was counted (the `now` of its [`GuardOp::Send`]).
        sent_at: Timestamp,
        /// The counter's limits (to know when its state may be forgotten).
        limits: VelocityLimits,
    },
    /// A code sent to this pair's destination was verified from its network
    /// ([`vouch`]); the answer is a send answer with `vouched`.
    Vouch {
        /// The pair counter's limits (to know when its state may be forgotten).
        limits: VelocityLimits,
    },
    /// May this handle be redeemed ([`spend`])?
    Spend {
        /// When the handle expires anyway (the object may forget it then).
        until: Timestamp,
        /// The handle's name in an object it shares with others ([`spend::handle_name`]);
        /// absent for an object of its own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        handle: Option<String>,
        /// For a hosted page's handle: a digest of the posted form. Only a later post of
        /// the same form gets the first one's answer ([`spend::replay`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        form: Option<String>,
    },
    /// The spender could not deliver the code its step sent: the handle may be spent
    /// again by the client's retry ([`spend::unspend`]).
    Unspend {
        /// As in [`GuardOp::Spend`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        handle: Option<String>,
    },
    /// The spender's answer, for later spends of the same handle (a form posted twice).
    Settle {
        /// The answer, as the adapter writes it ([`crate::oidc::replay`]).
        replay: String,
    },
    /// May a password for this account be judged now ([`password`])?
    Hold,
    /// The password step is done (its user record written): free the hold it took and
    /// keep the lockout it ended with.
    Release {
        /// The ticket [`GuardAnswer::Held`] gave.
        ticket: Timestamp,
        /// The lockout the step ended with; absent when it judged nothing (the copy
        /// stays as it was).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lockout: Option<crate::flow::user::Lockout>,
    },
    /// The account's record was written with its lockout cleared (a complete sign-in,
    /// an administrator's re-enable): forget the count and end any hold.
    ClearLockout {
        /// An administrator's re-enable, which also lifts a disable
        /// ([`password::clear`]); false for a sign-in's clear.
        #[serde(default)]
        enable: bool,
    },
    /// An administrator disabled the account ([`password::disable`]).
    Disable,
    /// A user record is about to be written to KV: merge it with the last one written
    /// ([`record::write`]); the answer says what to store, with the object's copy of the
    /// lockout to merge in ([`password::merge`]).
    Write {
        /// The record the step read, when it read one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base: Option<Box<record::Record>>,
        /// The record the step made.
        record: Box<record::Record>,
    },
    /// An administrator deleted the account: refuse writes of it for a while
    /// ([`record::delete`]).
    Delete,
    /// The writer stored the record answered as `version` in KV: was another written
    /// since ([`record::after_put`])? The answer is [`GuardAnswer::Stored`].
    Stored {
        /// The version [`GuardAnswer::Written`] carried.
        version: u64,
    },
}
crate::tagged_enum!(GuardOp, "op");

/// A request with the caller's clock (the core reads none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuardCall {
    /// Now.
    pub now: Timestamp,
    /// What to decide.
    pub op: GuardOp,
}

/// The object's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub enum GuardAnswer {
    /// For acquire and commit.
    Code {
        /// The verdict.
        verdict: CodeVerdict,
    },
    /// For send.
    Send {
        /// The verdict.
        verdict: SendVerdict,
        /// Whether this counter is a pair a verified code vouches for: the sends after it
        /// skip the cross-network ceilings ([`vouch::yields_to_vouched_pair`]).
        #[serde(default)]
        vouched: bool,
    },
    /// For spend.
    Spent {
        /// Whether this call redeemed the handle (false: it was redeemed before, or the
        /// account is closed).
        first: bool,
        /// In an account's object: the account is disabled or deleted, and its handles
        /// lead nowhere ([`spend::closed`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        closed: Option<spend::AccountClosed>,
        /// For a later spend: what the first spender answered, once it said.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replay: Option<String>,
        /// For a later spend without `replay`: the first spender may still answer, so
        /// ask again ([`spend::replay`]); false once no answer will come. For a handle
        /// in a shared object: the object is full of recent names and spent nothing
        /// ([`spend::Spent::spend_in`]); try again shortly.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        wait: bool,
    },
    /// For hold and release.
    Held {
        /// The caller's ticket when it holds the account now, else `None`.
        ticket: Option<Timestamp>,
        /// With a ticket: the object's copy of the account's lockout, to merge into the
        /// user record before judging ([`password::merge`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lockout: Option<password::LockoutCopy>,
        /// With a ticket: the last record written, to judge by ([`record::freshest`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        record: Option<record::RecordCopy>,
    },
    /// For a write: the record to store (none: the account was deleted), and the
    /// object's copy of its lockout.
    Written {
        /// What to store in KV.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        record: Option<record::Record>,
        /// The object's copy of the lockout, to merge into it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lockout: Option<password::LockoutCopy>,
        /// The write's version, to tell the object once it is stored.
        #[serde(default)]
        version: u64,
    },
    /// For a stored write: the copy written since, which the writer stores over its
    /// own (its record, or the deletion); none when its own is still the last.
    Stored {
        /// The later copy.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        newer: Option<record::RecordCopy>,
        /// The object's copy of the lockout, to merge into a later record.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lockout: Option<password::LockoutCopy>,
    },
    /// For a clear.
    Cleared,
    /// For a refund.
    Refunded {
        /// Whether there was such a send to give back.
        refunded: bool,
    },
}
crate::tagged_enum!(GuardAnswer, "kind");

/// Decides one call against the stored state; returns the state to store and the answer.
pub fn decide(mut state: GuardState, call: GuardCall) -> (GuardState, GuardAnswer) {
    use std::mem::take;
    let now = call.now;
    let answer = match call.op {
        GuardOp::Acquire {
            code,
            max_attempts,
            flow_expires_at,
        } => {
            let (attempts, verdict) = attempts::acquire(
                take(&mut state.attempts),
                &code,
                max_attempts,
                flow_expires_at,
            );
            state.forget_at = later(state.forget_at, attempts.forget_at);
            state.attempts = attempts;
            GuardAnswer::Code { verdict }
        }
        GuardOp::Commit { code } => {
            let (attempts, verdict) = attempts::commit(take(&mut state.attempts), &code);
            state.attempts = attempts;
            GuardAnswer::Code { verdict }
        }
        GuardOp::Send { limits } => {
            let vouched = state.velocity.vouched(now);
            let (velocity, verdict) = velocity::decide(take(&mut state.velocity), &limits, now);
            state.forget_at = later(state.forget_at, velocity.forget_at(&limits));
            state.velocity = velocity;
            GuardAnswer::Send { verdict, vouched }
        }
        GuardOp::Refund { sent_at, limits } => {
            let refunded;
            (state.velocity, refunded) = refund::refund(take(&mut state.velocity), sent_at);
            state.forget_at = later(state.forget_at, state.velocity.forget_at(&limits));
            GuardAnswer::Refunded { refunded }
        }
        GuardOp::Vouch { limits } => {
            state.velocity = vouch::vouch(take(&mut state.velocity), now);
            state.forget_at = later(state.forget_at, state.velocity.forget_at(&limits));
            GuardAnswer::Send {
                verdict: SendVerdict::Allowed,
                vouched: true,
            }
        }
        GuardOp::Spend {
            until,
            handle: Some(handle),
            ..
        } => {
            let closed = spend::closed(state.lockout.as_ref(), state.record.as_ref(), now);
            // Full of recent names: nothing is spent, and the caller is told to wait.
            let spent = match closed {
                Some(_) => Some(false),
                None => state.spent.spend_in(handle, until, now),
            };
            state.forget_at = later(state.forget_at, state.spent.forget_at());
            GuardAnswer::Spent {
                first: spent == Some(true),
                closed,
                replay: None,
                wait: spent.is_none(),
            }
        }
        GuardOp::Spend {
            until,
            form,
            handle: None,
        } => {
            let first;
            (state.spent_at, first) = spend::spend(state.spent_at, now);
            state.forget_at = later(state.forget_at, Some(until));
            let (replay, wait) = match first {
                true => {
                    state.form = form;
                    (None, false)
                }
                // Another form posted with a spent handle (back, then a different
                // address) is not the double click the answer is kept for.
                false if state.form != form => (None, false),
                false => spend::replay(state.spent_at, state.replay.as_ref(), now),
            };
            GuardAnswer::Spent {
                first,
                closed: None,
                replay,
                wait,
            }
        }
        GuardOp::Unspend { handle } => {
            match handle {
                Some(handle) => state.spent.unspend_in(&handle),
                None => state.spent_at = spend::unspend(),
            }
            GuardAnswer::Spent {
                first: false,
                closed: None,
                replay: None,
                wait: false,
            }
        }
        GuardOp::Settle { replay } => {
            // Only a spent handle has an answer to repeat.
            if state.spent_at.is_some() {
                state.replay = Some(replay);
            }
            GuardAnswer::Cleared
        }
        GuardOp::Hold => {
            let ticket;
            (state.held_until, ticket) = password::hold(state.held_until, now);
            state.forget_at = later(state.forget_at, state.held_until);
            // Only the holder judges, so only the holder needs the count and the record.
            let lockout = ticket.and(state.lockout);
            let record = ticket.and(state.record.clone());
            GuardAnswer::Held {
                ticket,
                lockout,
                record,
            }
        }
        GuardOp::Release { ticket, lockout } => {
            (state.held_until, state.lockout) =
                password::release(state.held_until, state.lockout, ticket, lockout, now);
            // A release that arrives after the alarm forgot everything must not leave a
            // row behind with no forget time (and so no alarm).
            state.forget_at = later(state.forget_at, Some(now));
            state.forget_at = later(
                state.forget_at,
                state.lockout.map(|c| password::keep_until(&c)),
            );
            GuardAnswer::Held {
                ticket: None,
                lockout: None,
                record: None,
            }
        }
        GuardOp::ClearLockout { enable } => {
            state.held_until = None;
            let copy = password::clear(state.lockout, enable, now);
            state.forget_at = later(state.forget_at, Some(password::keep_until(&copy)));
            state.lockout = Some(copy);
            GuardAnswer::Cleared
        }
        GuardOp::Disable => {
            state.held_until = None;
            let copy = password::disable(state.lockout, now);
            state.forget_at = later(state.forget_at, Some(password::keep_until(&copy)));
            state.lockout = Some(copy);
            GuardAnswer::Cleared
        }
        GuardOp::Write { base, record } => {
            let written;
            (state.record, written) = record::write(
                take(&mut state.record),
                base.as_deref().map(|b| &b.0),
                record.0,
                now,
            );
            state.forget_at = later(
                state.forget_at,
                state.record.as_ref().map(record::RecordCopy::keep_until),
            );
            GuardAnswer::Written {
                record: written,
                lockout: state.lockout,
                version: state.record.as_ref().map_or(0, |c| c.version),
            }
        }
        GuardOp::Delete => {
            let gone = record::delete(state.record.as_ref(), now);
            state.forget_at = later(state.forget_at, Some(gone.keep_until()));
            state.record = Some(gone);
            GuardAnswer::Cleared
        }
        GuardOp::Stored { version } => {
            let newer = record::after_put(state.record.as_ref(), version, now);
            let lockout = newer.as_ref().and(state.lockout);
            GuardAnswer::Stored { newer, lockout }
        }
    };
    (state, answer)
}

fn later(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// The object that guards the codes of one flow, named by what never changes in a flow
/// (kind, app, account email, start time) under a keyed hash. The continuation token
/// rotates at every step, so it cannot name the flow; a name derived from the state
/// needs no extra field that every writer of a flow record would have to carry along.
/// Two flows of one account, app and kind started in the same second share an object,
/// which is harmless: counts are kept per code, and their codes differ.
pub fn flow_object_name(key: &CodeKey, tenant: &str, common: &FlowCommon) -> String {
    let kind = serde_json::to_string(&common.kind).unwrap_or_default();
    let identity = format!(
        "{kind}\n{}\n{}\n{}",
        common.app_id,
        common.email.expose(),
        common.started_at.0
    );
    let hash = key.keyed_hash(&format!("vestibule.guard.v1/{tenant}/flow"), &identity);
    format!("flow/{tenant}/{}", hex16(&hash))
}

fn hex16(hash: &[u8; 32]) -> String {
    hash.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// The object of one velocity counter: a keyed hash of the counted value, never the
/// value itself (object names show up in dashboards and logs).
pub fn counter_object_name(
    key: &CodeKey,
    tenant: &str,
    dimension: Dimension,
    value: &str,
) -> String {
    // SMS counters keep the names they had before email was counted (their state
    // lives on); email counters get a domain of their own.
    let domain = match dimension.channel() {
        "sms" => format!("vestibule.guard.v1/{tenant}/{}", dimension.as_str()),
        channel => format!(
            "vestibule.guard.v1/{tenant}/{channel}/{}",
            dimension.as_str()
        ),
    };
    let hash = key.keyed_hash(&domain, value);
    format!(
        "{}/{tenant}/{}/{}",
        dimension.channel(),
        dimension.as_str(),
        hex16(&hash)
    )
}

/// Whether the code behind a granted slot left the flow, i.e. was accepted: the next
/// state no longer waits for it. A wrong or expired code keeps the step (and the code);
/// an accepted one moves on. Then the Worker commits before it answers or applies
/// anything, so only one request can profit from it.
pub fn code_left_flow(code: &str, next: Option<&FlowState>) -> bool {
    next.and_then(FlowState::pending_code)
        .map(crate::flow::PendingCode::fingerprint)
        .as_deref()
        != Some(code)
}

/// The protocol error for a refused code. A refused code is never evaluated.
///
/// - no tries left: `invalid_grant` / `invalid_oob_value` 50181, as the flow answers a
///   code tried too often, so MSAL shows "wrong code" and offers a resend (a new code
///   has its own tries);
/// - already accepted (by this request's twin, or a replay through a stale KV read):
///   `invalid_grant` 55200, as for a used continuation token: the flow moved on and this
///   request must not.
pub fn code_refusal_error(reason: CodeRefusal) -> NativeError {
    match reason {
        CodeRefusal::Exhausted => NativeError::new(
            "invalid_grant",
            "AADSTS50181: this code has no tries left; ask for a new one",
        )
        .with_suberror("invalid_oob_value")
        .code(50_181),
        CodeRefusal::Consumed => NativeError::new(
            "invalid_grant",
            "AADSTS55200: this code was already used; continue with the newest continuation token or start again",
        )
        .code(55_200),
        CodeRefusal::LostRace | CodeRefusal::NoSlot => NativeError::new(
            "invalid_grant",
            "AADSTS55200: this code was accepted for a concurrent request; continue with that request's continuation token",
        )
        .code(55_200),
    }
}

/// The protocol error for a step or refresh whose account's object says the account is
/// closed: the errors the flow gives when KV already shows it (a disabled account's
/// `invalid_grant` 50053; a deleted account's "no longer exists"), so a client sees the
/// same answer at every location.
pub fn closed_account_error(closed: spend::AccountClosed) -> NativeError {
    match closed {
        spend::AccountClosed::Disabled => {
            crate::native::response::reply_error(&crate::flow::Reply::Rejected {
                rejection: crate::flow::Rejection::AccountLocked { until: None },
            })
        }
        spend::AccountClosed::Deleted => {
            crate::native::response::flow_error(&crate::flow::FlowError::UserRequired)
        }
    }
}

/// The protocol error for a code refused by a velocity cap: `access_denied` with
/// suberror `provider_blocked_by_rep`, the error Entra sends when it will not text a
/// number for reputation (fraud) reasons (reference §7, §12). MSAL checks exactly this
/// pair (`isVerificationContactBlocked()`), so apps already tell the user this contact
/// cannot get a code now. `invalid_request` 901001 would say the number is malformed,
/// and `slow_down` is not a native-auth error. `retry_after` says when to try again.
///
/// Email refusals get the same pair: the reference documents it for phones only, but it
/// is the one answer MSAL has for "this contact is blocked from getting codes", which is
/// what an inbox being flooded is, and one shape lets apps handle both channels alike.
pub fn send_refusal_error(dimension: Dimension, retry_after: u64) -> NativeError {
    NativeError::new("access_denied", refusal_message(dimension, retry_after))
        .with_suberror("provider_blocked_by_rep")
        .with("retry_after", serde_json::Value::from(retry_after))
}

/// What a refused send says, in the Worker and in the JS `Flow` alike.
pub fn refusal_message(dimension: Dimension, retry_after: u64) -> String {
    let what = match dimension {
        Dimension::NumberFromIp => "this phone number from this network address",
        Dimension::NumberAllIps => "this phone number",
        Dimension::User => "this account",
        Dimension::Ip | Dimension::EmailIp => "this network address",
        Dimension::CountryCode => "this country calling code",
        Dimension::EmailAddressFromIp => "this email address from this network address",
        Dimension::EmailAddressAllIps => "this email address",
    };
    format!("too many codes were sent to {what} recently; try again in {retry_after} seconds")
}

/// The error when the guard cannot be reached or is not bound: fail closed. Nothing was
/// evaluated or sent; the client may retry.
pub fn unavailable_error() -> NativeError {
    NativeError::server_error(
        "the attempt guard is not available, so codes cannot be checked or sent; try again shortly",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::CodeKey;

    fn call(op: GuardOp) -> GuardCall {
        GuardCall {
            now: Timestamp(100),
            op,
        }
    }

    #[test]
    fn the_wire_format_round_trips() {
        let c = call(GuardOp::Acquire {
            code: "abc".into(),
            max_attempts: 5,
            flow_expires_at: Timestamp(1900),
        });
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["op"]["op"], "acquire");
        assert_eq!(json["op"]["maxAttempts"], 5);
        assert_eq!(serde_json::from_value::<GuardCall>(json).unwrap(), c);
        let a = GuardAnswer::Send {
            verdict: SendVerdict::Refused { retry_after: 7 },
            vouched: false,
        };
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<GuardAnswer>(&json).unwrap(), a);
        // An object deployed before `vouched` existed answers without it.
        let old = r#"{"kind":"send","verdict":{"verdict":"allowed"}}"#;
        assert_eq!(
            serde_json::from_str::<GuardAnswer>(old).unwrap(),
            GuardAnswer::Send {
                verdict: SendVerdict::Allowed,
                vouched: false
            }
        );
    }

    #[test]
    fn a_handle_is_spent_once_over_the_wire_and_forgotten_when_it_expires() {
        let spend = |state| {
            let call: GuardCall =
                serde_json::from_str(r#"{"now":50,"op":{"op":"spend","until":170}}"#).unwrap();
            let (state, answer) = decide(state, call);
            let wire = serde_json::to_string(&answer).unwrap();
            (state, serde_json::from_str::<GuardAnswer>(&wire).unwrap())
        };
        let (state, first) = spend(GuardState::default());
        assert_eq!(
            first,
            GuardAnswer::Spent {
                first: true,
                closed: None,
                replay: None,
                wait: false
            }
        );
        assert_eq!(state.forget_at, Some(Timestamp(170)));
        let stored = serde_json::to_string(&state).unwrap();
        let (state, again) = spend(serde_json::from_str(&stored).unwrap());
        assert_eq!(
            again,
            GuardAnswer::Spent {
                first: false,
                closed: None,
                replay: None,
                wait: true
            }
        );
        // The first spender's answer, once settled, is what later spends get.
        let settle: GuardCall =
            serde_json::from_str(r#"{"now":51,"op":{"op":"settle","replay":"page"}}"#).unwrap();
        let (state, _) = decide(state, settle.clone());
        let (state, later) = spend(state);
        assert_eq!(
            later,
            GuardAnswer::Spent {
                first: false,
                closed: None,
                replay: Some("page".into()),
                wait: false
            }
        );
        // Not after the window: an old form sent again is refused as before.
        let late: GuardCall = serde_json::from_str(&format!(
            r#"{{"now":{},"op":{{"op":"spend","until":170}}}}"#,
            50 + spend::REPLAY_WINDOW.0
        ))
        .unwrap();
        let (_, again) = decide(state, late);
        assert_eq!(
            again,
            GuardAnswer::Spent {
                first: false,
                closed: None,
                replay: None,
                wait: false
            }
        );
        // A handle nobody spent keeps no answer.
        let (unspent, _) = decide(GuardState::default(), settle);
        assert_eq!(unspent.replay, None);
    }

    /// One call as the object takes it: the op as JSON in, the state stored and read back
    /// and the answer as the Worker reads it.
    fn over_the_wire(state: GuardState, now: u64, op: &str) -> (GuardState, GuardAnswer) {
        let text = format!(r#"{{"now":{now},"op":{op}}}"#);
        let (state, answer) = decide(state, serde_json::from_str::<GuardCall>(&text).unwrap());
        let stored = serde_json::to_string(&state).unwrap();
        let answer = serde_json::to_string(&answer).unwrap();
        (
            serde_json::from_str(&stored).unwrap(),
            serde_json::from_str(&answer).unwrap(),
        )
    }

    /// A spend of `handle` in a shared object, as the Worker sends it.
    fn spend_op(handle: &str, until: u64) -> String {
        format!(r#"{{"op":"spend","until":{until},"handle":"{handle}"}}"#)
    }

    /// What a spend answered about the handle: whether it was spent now, and whether the
    /// account is closed (`None` for another answer).
    fn spent(answer: &GuardAnswer) -> Option<(bool, Option<spend::AccountClosed>)> {
        match answer {
            GuardAnswer::Spent { first, closed, .. } => Some((*first, *closed)),
            _ => None,
        }
    }

    /// A flow's continuation tokens share the flow's object: each is spent once, one
    /// token's spend leaves the others (and the object's code attempts) alone, a spend
    /// taken back can be made again, and a token past its expiry is forgotten.
    #[test]
    fn handles_sharing_an_object_are_each_spent_once_over_the_wire() {
        let send = over_the_wire;
        let first =
            |answer: &GuardAnswer| matches!(answer, GuardAnswer::Spent { first, .. } if *first);
        let spend = spend_op;
        let (state, _) = send(
            GuardState::default(),
            10,
            r#"{"op":"acquire","code":"c1","maxAttempts":3,"flowExpiresAt":600}"#,
        );
        let attempts = state.attempts.clone();
        let (state, a) = send(state, 20, &spend("t1", 600));
        assert!(first(&a), "{a:?}");
        assert_eq!(
            state.spent_at, None,
            "a shared object's own handle is untouched"
        );
        assert_eq!(state.attempts, attempts, "the code attempts are kept");
        assert_eq!(state.forget_at, Some(Timestamp(600)));
        let (state, again) = send(state, 21, &spend("t1", 600));
        assert!(!first(&again), "a token is spent once: {again:?}");
        let (state, other) = send(state, 22, &spend("t2", 600));
        assert!(first(&other), "the next token of the flow: {other:?}");
        let (state, _) = send(state, 23, r#"{"op":"unspend","handle":"t2"}"#);
        let (state, retried) = send(state, 24, &spend("t2", 600));
        assert!(first(&retried), "a spend taken back: {retried:?}");
        let (state, still) = send(state, 25, &spend("t1", 600));
        assert!(
            !first(&still),
            "unspending one token leaves the others spent"
        );
        // A family's tokens expire one after another; a spent one past its expiry is
        // dropped at the next spend, so the object does not grow with the family.
        let (state, _) = send(state, 30, &spend("short", 40));
        let (state, _) = send(state, 41, &spend("t3", 900));
        let kept = serde_json::to_string(&state.spent).unwrap();
        assert_eq!(kept, r#"[["t1",20,600],["t2",24,600],["t3",41,900]]"#);
    }

    /// Anyone who knows an account's email can start its sign-ins, and each step of each
    /// moves its token into the account's object: the names it keeps are capped, so
    /// that one row (read and written whole by every password step, record write and
    /// administrator's disable of the account) cannot grow past what an object may
    /// store. A full object spends nothing and says so (`wait`); it forgets no recent
    /// name, which would let that token be spent again.
    #[test]
    fn an_account_object_full_of_recent_names_spends_nothing_more_over_the_wire() {
        const MAX: usize = spend::SHARED_MAX;
        let send = |state, now: u64, op: &str| {
            let text = format!(r#"{{"now":{now},"op":{op}}}"#);
            decide(state, serde_json::from_str::<GuardCall>(&text).unwrap())
        };
        let spend = |handle: &str| spend_op(handle, 9000);
        let mut state = GuardState::default();
        for i in 0..MAX {
            let answer;
            (state, answer) = send(state, 100, &spend(&format!("{i:032x}")));
            assert!(
                matches!(answer, GuardAnswer::Spent { first: true, .. }),
                "{answer:?}"
            );
        }
        let size = serde_json::to_string(&state).unwrap().len();
        let (state, full) = send(state, 101, &spend("one-more"));
        let wire = serde_json::to_string(&full).unwrap();
        assert_eq!(wire, r#"{"kind":"spent","first":false,"wait":true}"#);
        assert_eq!(serde_json::to_string(&state).unwrap().len(), size);
        assert!(size < 200_000, "{size} bytes");
        let (_, again) = send(state, 102, &spend(&format!("{:032x}", 7)));
        assert!(
            matches!(
                again,
                GuardAnswer::Spent {
                    first: false,
                    wait: false,
                    ..
                }
            ),
            "a token spent before is still refused as used: {again:?}"
        );
    }

    /// An administrator's re-enable is written through the account's object (its record
    /// carries `enabledAt`), then the object is told to clear its lockout copy, best
    /// effort. Should that clear not arrive, KV shows the account enabled and every
    /// password step judges it so ([`password::merge`]): its tokens are spent too, not
    /// refused as a disabled account's for the day the disabled copy is kept.
    #[test]
    fn a_re_enable_written_through_the_object_opens_the_account_without_its_clear() {
        let send = over_the_wire;
        let rec = |lockout: &str| {
            format!(r#"{{"id":"u-1","email":"a@example.com","createdAt":1,"lockout":{lockout}}}"#)
        };
        let spend = |handle: &str| spend_op(handle, 900);
        let (state, _) = send(GuardState::default(), 10, r#"{"op":"disable"}"#);
        let disabled = rec(r#"{"disabled":true}"#);
        let enabled = rec(r#"{"enabledAt":12,"clearedAt":12}"#);
        let write = format!(r#"{{"op":"write","base":{disabled},"record":{enabled}}}"#);
        let (state, written) = send(state, 12, &write);
        match &written {
            GuardAnswer::Written {
                record: Some(r),
                lockout,
                ..
            } => assert!(
                !password::merge(&r.0.lockout, lockout.as_ref()).disabled,
                "KV gets the account enabled"
            ),
            other => panic!("{other:?}"),
        }
        let (state, opened) = send(state, 13, &spend("t1"));
        assert_eq!(spent(&opened), Some((true, None)), "{opened:?}");
        // A record written from a copy of KV older than the disable does not open it.
        let (state, _) = send(state, 14, r#"{"op":"disable"}"#);
        let stale = format!(r#"{{"op":"write","base":{enabled},"record":{enabled}}}"#);
        let (state, _) = send(state, 15, &stale);
        let (_, refused) = send(state, 16, &spend("t2"));
        assert_eq!(
            spent(&refused),
            Some((false, Some(spend::AccountClosed::Disabled))),
            "{refused:?}"
        );
    }

    /// An administrator's disable or deletion reaches the account's object at once
    /// (`tell_account`), where KV may show it a minute later: from then on no token of
    /// the account is spent (no flow moves on, no session refreshes), until a re-enable.
    #[test]
    fn a_closed_account_spends_none_of_its_tokens_over_the_wire() {
        let send = over_the_wire;
        let spend = |handle: &str| spend_op(handle, 900);
        let (state, a) = send(GuardState::default(), 10, &spend("t1"));
        assert_eq!(spent(&a), Some((true, None)), "{a:?}");
        let (state, _) = send(state, 11, r#"{"op":"disable"}"#);
        let (state, refused) = send(state, 12, &spend("t2"));
        assert_eq!(
            refused,
            GuardAnswer::Spent {
                first: false,
                closed: Some(spend::AccountClosed::Disabled),
                replay: None,
                wait: false
            }
        );
        let (state, _) = send(state, 13, r#"{"op":"clearLockout","enable":true}"#);
        let (state, reopened) = send(state, 14, &spend("t2"));
        assert_eq!(spent(&reopened), Some((true, None)), "{reopened:?}");
        let (deleted, _) = send(state, 15, r#"{"op":"delete"}"#);
        let (_, gone) = send(deleted, 16, &spend("t3"));
        assert_eq!(
            spent(&gone),
            Some((false, Some(spend::AccountClosed::Deleted))),
            "{gone:?}"
        );
    }

    /// A hosted page's form posted again waits for the first post's answer only while
    /// one may come: an old form sent again after the window is refused at once, not
    /// after seconds of asking the object (every later post of a spent handle did that,
    /// up to 40 object calls each).
    #[test]
    fn only_a_second_post_of_the_same_form_gets_the_first_answer() {
        let spend = |state, now: u64, form: &str| {
            let text =
                format!(r#"{{"now":{now},"op":{{"op":"spend","until":500,"form":"{form}"}}}}"#);
            decide(state, serde_json::from_str::<GuardCall>(&text).unwrap())
        };
        let (state, _) = spend(GuardState::default(), 100, "f1");
        let settle: GuardCall =
            serde_json::from_str(r#"{"now":101,"op":{"op":"settle","replay":"page"}}"#).unwrap();
        let (state, _) = decide(state, settle);
        let (state, same) = spend(state, 102, "f1");
        assert!(
            matches!(
                same,
                GuardAnswer::Spent {
                    replay: Some(_),
                    ..
                }
            ),
            "{same:?}"
        );
        let (_, other) = spend(state, 102, "f2");
        assert_eq!(
            other,
            GuardAnswer::Spent {
                first: false,
                closed: None,
                replay: None,
                wait: false
            },
            "another form with a used handle is refused at once"
        );
    }

    #[test]
    fn a_later_post_is_told_to_wait_only_while_the_first_may_still_answer() {
        let at = |now: u64| {
            let text = format!(r#"{{"now":{now},"op":{{"op":"spend","until":500}}}}"#);
            serde_json::from_str::<GuardCall>(&text).unwrap()
        };
        let (state, _) = decide(GuardState::default(), at(100));
        let (state, soon) = decide(state, at(101));
        assert_eq!(
            soon,
            GuardAnswer::Spent {
                first: false,
                closed: None,
                replay: None,
                wait: true
            }
        );
        let (state, late) = decide(state, at(100 + spend::REPLAY_WINDOW.0));
        assert_eq!(
            late,
            GuardAnswer::Spent {
                first: false,
                closed: None,
                replay: None,
                wait: false
            }
        );
        // A first spend, and a settled answer, need no wait.
        let settle: GuardCall =
            serde_json::from_str(r#"{"now":102,"op":{"op":"settle","replay":"page"}}"#).unwrap();
        let (state, _) = decide(state, settle);
        let (_, kept) = decide(state, at(103));
        assert!(matches!(
            kept,
            GuardAnswer::Spent {
                wait: false,
                replay: Some(_),
                ..
            }
        ));
        let (_, first) = decide(GuardState::default(), at(100));
        assert!(matches!(
            first,
            GuardAnswer::Spent {
                first: true,
                closed: None,
                wait: false,
                ..
            }
        ));
    }

    #[test]
    fn an_account_is_held_by_one_password_step_at_a_time_over_the_wire() {
        let send = |state, op: &str, now: u64| {
            let text = format!(r#"{{"now":{now},"op":{op}}}"#);
            let (state, answer) = decide(state, serde_json::from_str(&text).unwrap());
            let wire = serde_json::to_string(&answer).unwrap();
            (state, serde_json::from_str::<GuardAnswer>(&wire).unwrap())
        };
        let (s, a) = send(GuardState::default(), r#"{"op":"hold"}"#, 100);
        let GuardAnswer::Held {
            ticket: Some(ticket),
            lockout: None,
            record: None,
        } = a
        else {
            panic!("held: {a:?}")
        };
        let (s, b) = send(s, r#"{"op":"hold"}"#, 101);
        assert_eq!(
            b,
            GuardAnswer::Held {
                ticket: None,
                lockout: None,
                record: None,
            }
        );
        let release = format!(r#"{{"op":"release","ticket":{}}}"#, ticket.0);
        let (s, _) = send(s, &release, 101);
        assert_eq!(s.forget_at, Some(Timestamp(ticket.0)));
        let (_, c) = send(s, r#"{"op":"hold"}"#, 102);
        assert!(matches!(
            c,
            GuardAnswer::Held {
                ticket: Some(_),
                ..
            }
        ));
        // A release after the alarm forgot everything leaves a row that is forgotten too.
        let (late, _) = send(GuardState::default(), &release, 120);
        assert_eq!(late.forget_at, Some(Timestamp(120)));
    }

    #[test]
    fn the_object_keeps_the_count_its_holders_leave_and_forgets_it_on_a_clear() {
        let send = |state, op: &str, now: u64| {
            let text = format!(r#"{{"now":{now},"op":{op}}}"#);
            let (state, answer) = decide(state, serde_json::from_str(&text).unwrap());
            let wire = serde_json::to_string(&answer).unwrap();
            (state, serde_json::from_str::<GuardAnswer>(&wire).unwrap())
        };
        let ticket_of = |a: &GuardAnswer| match a {
            GuardAnswer::Held {
                ticket: Some(t), ..
            } => *t,
            other => panic!("not held: {other:?}"),
        };
        let (s, a) = send(GuardState::default(), r#"{"op":"hold"}"#, 100);
        let t = ticket_of(&a);
        let release = |t: Timestamp, failures: u32| {
            format!(
                r#"{{"op":"release","ticket":{},"lockout":{{"consecutiveFailures":{failures},"lockedUntil":400}}}}"#,
                t.0
            )
        };
        let (s, _) = send(s, &release(t, 6), 101);
        // The next holder gets the count with its ticket; a refused one gets nothing.
        let (s, a) = send(s, r#"{"op":"hold"}"#, 102);
        let GuardAnswer::Held {
            lockout: Some(copy),
            ..
        } = a.clone()
        else {
            panic!("{a:?}")
        };
        assert_eq!(copy.lockout.consecutive_failures, 6);
        assert_eq!(copy.at, Timestamp(101));
        assert_eq!(s.forget_at, Some(Timestamp(101).plus(password::KEEP)));
        let (s, busy) = send(s, r#"{"op":"hold"}"#, 103);
        assert_eq!(
            busy,
            GuardAnswer::Held {
                ticket: None,
                lockout: None,
                record: None,
            }
        );
        // A clear forgets the count and ends the hold: that holder read 6 failures, and
        // its release must not store them again.
        let t2 = ticket_of(&a);
        let (s, cleared) = send(s, r#"{"op":"clearLockout"}"#, 104);
        assert_eq!(cleared, GuardAnswer::Cleared);
        let (s, _) = send(s, &release(t2, 7), 105);
        let (s, a) = send(s, r#"{"op":"hold"}"#, 106);
        let GuardAnswer::Held {
            ticket: Some(_),
            lockout: Some(copy),
            ..
        } = a
        else {
            panic!("{a:?}")
        };
        assert!(copy.lockout.is_clear(), "{copy:?}");
        assert_eq!(copy.lockout.cleared_at, Some(Timestamp(104)));
        // The state round-trips through storage, and one stored before the copy was
        // kept still loads.
        let stored = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<GuardState>(&stored).unwrap(), s);
        let old: GuardState = serde_json::from_str(r#"{"heldUntil":110,"forgetAt":110}"#).unwrap();
        assert_eq!(old.lockout, None);
        let (_, a) = send(old, r#"{"op":"hold"}"#, 111);
        assert!(matches!(
            a,
            GuardAnswer::Held {
                ticket: Some(_),
                lockout: None,
                ..
            }
        ));
        // A release without a lockout (an older Worker, or a step that judged nothing)
        // frees the hold and keeps the copy.
        let (s, a) = send(GuardState::default(), r#"{"op":"hold"}"#, 200);
        let (s, _) = send(s, &release(ticket_of(&a), 3), 201);
        let (s, a) = send(s, r#"{"op":"hold"}"#, 202);
        let bare = format!(r#"{{"op":"release","ticket":{}}}"#, ticket_of(&a).0);
        let (s, _) = send(s, &bare, 203);
        assert_eq!(s.held_until, None);
        assert_eq!(s.lockout.unwrap().lockout.consecutive_failures, 3);
    }

    #[test]
    fn the_account_object_merges_record_writes_answers_the_record_to_its_holder_and_keeps_a_deletion()
     {
        let send = |state, op: &str, now: u64| {
            let text = format!(r#"{{"now":{now},"op":{op}}}"#);
            let (state, answer) = decide(state, serde_json::from_str(&text).unwrap());
            let wire = serde_json::to_string(&answer).unwrap();
            (state, serde_json::from_str::<GuardAnswer>(&wire).unwrap())
        };
        let rec = |hash: &str, failures: u32| {
            format!(
                r#"{{"id":"u-1","email":"a@example.com","createdAt":1,"passwordHash":"{hash}","lockout":{{"consecutiveFailures":{failures}}}}}"#
            )
        };
        let stored_hash = |a: &GuardAnswer| match a {
            GuardAnswer::Written {
                record: Some(r), ..
            } => r.0.password_hash.as_ref().map(|h| h.expose().clone()),
            other => panic!("{other:?}"),
        };
        // A reset at one location, then a failure written from the record before it.
        let reset = format!(
            r#"{{"op":"write","base":{},"record":{}}}"#,
            rec("H1", 0),
            rec("H2", 0)
        );
        let (s, a) = send(GuardState::default(), &reset, 100);
        assert_eq!(stored_hash(&a).as_deref(), Some("H2"));
        assert_eq!(s.forget_at, Some(Timestamp(100).plus(record::KEEP)));
        let stale = format!(
            r#"{{"op":"write","base":{},"record":{}}}"#,
            rec("H1", 0),
            rec("H1", 1)
        );
        let (s, a) = send(s, &stale, 110);
        assert_eq!(stored_hash(&a).as_deref(), Some("H2"));
        // The next password step judges by that record.
        let (s, held) = send(s, r#"{"op":"hold"}"#, 111);
        let GuardAnswer::Held {
            record: Some(copy), ..
        } = held
        else {
            panic!("{held:?}")
        };
        assert_eq!(copy.at, Timestamp(110));
        // Deleted: a write of the account stores nothing while the tombstone counts.
        let (s, a) = send(s, r#"{"op":"delete"}"#, 120);
        assert_eq!(a, GuardAnswer::Cleared);
        let (s, a) = send(s, &stale, 121);
        assert!(
            matches!(a, GuardAnswer::Written { record: None, .. }),
            "{a:?}"
        );
        let stored = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<GuardState>(&stored).unwrap(), s);
    }

    #[test]
    fn a_writer_is_told_after_its_put_of_a_write_or_deletion_answered_since() {
        let send = |state, op: &str, now: u64| {
            let text = format!(r#"{{"now":{now},"op":{op}}}"#);
            let (state, answer) = decide(state, serde_json::from_str(&text).unwrap());
            let wire = serde_json::to_string(&answer).unwrap();
            (state, serde_json::from_str::<GuardAnswer>(&wire).unwrap())
        };
        let write = r#"{"op":"write","record":{"id":"u-1","email":"a@example.com","createdAt":1}}"#;
        let version = |a: &GuardAnswer| match a {
            GuardAnswer::Written { version, .. } => *version,
            other => panic!("{other:?}"),
        };
        let (s, a) = send(GuardState::default(), write, 100);
        let first = version(&a);
        let (s, a) = send(s, write, 100);
        let second = version(&a);
        let (s, told) = send(s, &format!(r#"{{"op":"stored","version":{second}}}"#), 101);
        assert_eq!(
            told,
            GuardAnswer::Stored {
                newer: None,
                lockout: None
            }
        );
        let (s, told) = send(s, &format!(r#"{{"op":"stored","version":{first}}}"#), 101);
        let GuardAnswer::Stored {
            newer: Some(copy), ..
        } = told
        else {
            panic!("{told:?}")
        };
        assert_eq!(copy.version, second);
        assert!(copy.record.is_some());
        let (s, _) = send(s, r#"{"op":"delete"}"#, 102);
        let (_, told) = send(s, &format!(r#"{{"op":"stored","version":{second}}}"#), 103);
        assert!(
            matches!(
                told,
                GuardAnswer::Stored {
                    newer: Some(record::RecordCopy { record: None, .. }),
                    ..
                }
            ),
            "{told:?}"
        );
    }

    #[test]
    fn an_administrators_disable_outlasts_a_sign_ins_clear_until_a_re_enable() {
        let send = |state, op: &str, now: u64| {
            let text = format!(r#"{{"now":{now},"op":{op}}}"#);
            decide(state, serde_json::from_str(&text).unwrap())
        };
        let copy_of = |s: &GuardState| {
            let write =
                r#"{"op":"write","record":{"id":"u-1","email":"a@example.com","createdAt":1}}"#;
            let (_, a) = send(s.clone(), write, 0);
            match a {
                GuardAnswer::Written { lockout, .. } => lockout,
                other => panic!("{other:?}"),
            }
        };
        // A password step holds the account when the administrator disables it.
        let (s, held) = send(GuardState::default(), r#"{"op":"hold"}"#, 100);
        let GuardAnswer::Held {
            ticket: Some(ticket),
            ..
        } = held
        else {
            panic!("{held:?}")
        };
        let (s, a) = send(s, r#"{"op":"disable"}"#, 101);
        assert_eq!(a, GuardAnswer::Cleared);
        assert_eq!(s.held_until, None, "the hold ends");
        assert_eq!(s.forget_at, Some(Timestamp(101).plus(password::KEEP)));
        // That step's release (it read the lockout before the disable) stores nothing.
        let release = format!(r#"{{"op":"release","ticket":{},"lockout":{{}}}}"#, ticket.0);
        let (s, _) = send(s, &release, 102);
        assert!(copy_of(&s).unwrap().lockout.disabled);
        // A sign-in completed elsewhere on a record that had not seen the disable clears
        // its lockout: the object keeps the disable.
        let (s, _) = send(s, r#"{"op":"clearLockout"}"#, 103);
        let copy = copy_of(&s).unwrap();
        assert!(copy.lockout.disabled, "{copy:?}");
        assert_eq!(copy.at, Timestamp(101));
        // An administrator's re-enable lifts it.
        let (s, _) = send(s, r#"{"op":"clearLockout","enable":true}"#, 104);
        let copy = copy_of(&s).unwrap();
        assert!(copy.lockout.is_clear(), "{copy:?}");
        assert_eq!(copy.lockout.enabled_at, Some(Timestamp(104)));
    }

    /// One account's object holds its record copy, its lockout copy and its spent
    /// names under one `forget_at`, and the alarm forgets all three at once: no call may
    /// lower it, nor leave it before what any part must be kept until, whatever the
    /// order (a spend after a write, a release or clear after a spend, a spend taken
    /// back, a spend refused as closed).
    #[test]
    fn an_account_objects_forget_at_covers_every_part_and_never_goes_down() {
        let rec = r#"{"id":"u-1","email":"a@example.com","createdAt":1,"lockout":{"consecutiveFailures":2}}"#;
        let ops = [
            (
                10,
                r#"{"op":"spend","until":100000,"handle":"r1"}"#.to_string(),
            ),
            (
                20,
                format!(r#"{{"op":"write","base":{rec},"record":{rec}}}"#),
            ),
            (30, r#"{"op":"hold"}"#.into()),
            (
                31,
                r#"{"op":"release","ticket":40,"lockout":{"consecutiveFailures":3}}"#.into(),
            ),
            (
                4_000,
                r#"{"op":"spend","until":100000,"handle":"r2"}"#.into(),
            ),
            (4_001, r#"{"op":"unspend","handle":"r2"}"#.into()),
            (4_002, r#"{"op":"clearLockout"}"#.into()),
            (4_003, r#"{"op":"stored","version":1}"#.into()),
            (4_004, r#"{"op":"disable"}"#.into()),
            (
                4_005,
                r#"{"op":"spend","until":100000,"handle":"r3"}"#.into(),
            ),
            (4_006, r#"{"op":"clearLockout","enable":true}"#.into()),
            (9_000, r#"{"op":"spend","until":9100,"handle":"c1"}"#.into()),
            (9_001, r#"{"op":"delete"}"#.into()),
        ];
        let mut state = GuardState::default();
        for (now, op) in ops {
            let before = state.forget_at;
            let text = format!(r#"{{"now":{now},"op":{op}}}"#);
            (state, _) = decide(state, serde_json::from_str::<GuardCall>(&text).unwrap());
            let at = state.forget_at;
            assert!(at >= before, "{op} lowered forget_at: {before:?} -> {at:?}");
            let parts = [
                state.record.as_ref().map(record::RecordCopy::keep_until),
                state.lockout.as_ref().map(password::keep_until),
                state.spent.forget_at(),
            ];
            for part in parts.into_iter().flatten() {
                assert!(at >= Some(part), "{op}: forget_at {at:?} before {part:?}");
            }
        }
    }

    #[test]
    fn decide_routes_and_tracks_forget_at() {
        let (s, a) = decide(
            GuardState::default(),
            call(GuardOp::Acquire {
                code: "c".into(),
                max_attempts: 5,
                flow_expires_at: Timestamp(1900),
            }),
        );
        assert_eq!(
            a,
            GuardAnswer::Code {
                verdict: CodeVerdict::Granted { left: 4 }
            }
        );
        assert_eq!(s.forget_at, Some(Timestamp(1900)));
        let (s, a) = decide(s, call(GuardOp::Commit { code: "c".into() }));
        assert_eq!(
            a,
            GuardAnswer::Code {
                verdict: CodeVerdict::Granted { left: 0 }
            }
        );
        let limits = velocity::SmsVelocity::default().number;
        let (s, a) = decide(
            s,
            call(GuardOp::Send {
                limits: limits.clone(),
            }),
        );
        assert_eq!(
            a,
            GuardAnswer::Send {
                verdict: SendVerdict::Allowed,
                vouched: false
            }
        );
        assert_eq!(s.forget_at, Some(Timestamp(100 + 86_400)));
        // A vouch is remembered as long as it lasts, and later sends say so.
        let (s, a) = decide(
            s,
            call(GuardOp::Vouch {
                limits: limits.clone(),
            }),
        );
        assert!(matches!(a, GuardAnswer::Send { vouched: true, .. }));
        assert_eq!(
            s.forget_at,
            Some(Timestamp(100).plus(vouch::VOUCH_LIFETIME))
        );
        let (_, a) = decide(s, call(GuardOp::Send { limits }));
        assert!(matches!(
            a,
            GuardAnswer::Send {
                verdict: SendVerdict::Allowed,
                vouched: true
            }
        ));
    }

    #[test]
    fn a_send_is_refunded_over_the_wire_once() {
        let send = |state, op: &str, now: u64| {
            let text = format!(r#"{{"now":{now},"op":{op}}}"#);
            let (state, answer) = decide(state, serde_json::from_str(&text).unwrap());
            let wire = serde_json::to_string(&answer).unwrap();
            (state, serde_json::from_str::<GuardAnswer>(&wire).unwrap())
        };
        let limits = r#"{"burst":1,"windowSeconds":60,"cooldownsSeconds":[30],"quietSeconds":600}"#;
        let (s, a) = send(
            GuardState::default(),
            &format!(r#"{{"op":"send","limits":{limits}}}"#),
            100,
        );
        assert!(matches!(
            a,
            GuardAnswer::Send {
                verdict: SendVerdict::Allowed,
                ..
            }
        ));
        // Burst 1: the next send would wait; the refund makes it free again.
        let (_, refused) = send(
            s.clone(),
            &format!(r#"{{"op":"send","limits":{limits}}}"#),
            101,
        );
        assert!(matches!(
            refused,
            GuardAnswer::Send {
                verdict: SendVerdict::Refused { .. },
                ..
            }
        ));
        let refund = format!(r#"{{"op":"refund","sentAt":100,"limits":{limits}}}"#);
        let (s, a) = send(s, &refund, 101);
        assert_eq!(a, GuardAnswer::Refunded { refunded: true });
        let stored = serde_json::to_string(&s).unwrap();
        let s: GuardState = serde_json::from_str(&stored).unwrap();
        let (s, again) = send(s, &refund, 102);
        assert_eq!(again, GuardAnswer::Refunded { refunded: false });
        let (_, a) = send(s, &format!(r#"{{"op":"send","limits":{limits}}}"#), 102);
        assert!(matches!(
            a,
            GuardAnswer::Send {
                verdict: SendVerdict::Allowed,
                ..
            }
        ));
    }

    #[test]
    fn counter_names_hide_the_value_and_separate_tenants_and_dimensions() {
        let key = CodeKey::new(vec![3u8; 32]).unwrap();
        let n = counter_object_name(&key, "t1", Dimension::NumberAllIps, "+15551234567");
        assert!(n.starts_with("sms/t1/number-all/"), "{n}");
        assert!(!n.contains("5551234567"));
        assert_ne!(
            n,
            counter_object_name(&key, "t2", Dimension::NumberAllIps, "+15551234567")
        );
        assert_ne!(
            n,
            counter_object_name(&key, "t1", Dimension::User, "+15551234567")
        );
        assert_eq!(
            n,
            counter_object_name(&key, "t1", Dimension::NumberAllIps, "+15551234567")
        );
        // Email counters live apart from SMS ones, even for the same IP.
        let email_ip = counter_object_name(&key, "t1", Dimension::EmailIp, "203.0.113.9");
        assert!(email_ip.starts_with("email/t1/ip/"), "{email_ip}");
        assert_ne!(
            email_ip,
            counter_object_name(&key, "t1", Dimension::Ip, "203.0.113.9")
        );
        let address = counter_object_name(&key, "t1", Dimension::EmailAddressAllIps, "a@b.example");
        assert!(
            address.starts_with("email/t1/address-all/") && !address.contains("b.example"),
            "{address}"
        );
        let pair = counter_object_name(
            &key,
            "t1",
            Dimension::EmailAddressFromIp,
            "a@b.example\n203.0.113.9",
        );
        assert!(
            pair.starts_with("email/t1/address-ip/") && !pair.contains("203.0.113"),
            "{pair}"
        );
        let other = CodeKey::new(vec![4u8; 32]).unwrap();
        assert_ne!(
            n,
            counter_object_name(&other, "t1", Dimension::NumberAllIps, "+15551234567")
        );
    }

    #[test]
    fn a_flow_keeps_its_object_across_steps_and_other_flows_get_another() {
        let key = CodeKey::new(vec![3u8; 32]).unwrap();
        let common = |started: u64, email: &str| {
            crate::flow::FlowCommon::new(
                crate::flow::FlowKind::SignIn,
                "app".into(),
                crate::pii::Pii::new(email.into()),
                Timestamp(started),
                1800,
            )
        };
        let a = common(100, "a@example.com");
        let mut a_later = a.clone();
        a_later.user_id = Some("u1".into());
        a_later.codes_sent = 3;
        let name = flow_object_name(&key, "t", &a);
        assert_eq!(
            name,
            flow_object_name(&key, "t", &a_later),
            "stable across steps"
        );
        assert!(
            name.starts_with("flow/t/") && !name.contains("example"),
            "{name}"
        );
        assert_ne!(
            name,
            flow_object_name(&key, "t", &common(101, "a@example.com"))
        );
        assert_ne!(
            name,
            flow_object_name(&key, "t", &common(100, "b@example.com"))
        );
        assert_ne!(name, flow_object_name(&key, "u", &a));
    }

    #[test]
    fn an_ended_flow_has_left_its_code() {
        // The flow ended (accepted, or over for another reason): commit, so the code can
        // never be accepted again. States that still wait for a code are covered by the
        // native journeys (tests/e2e/guard.test.mjs runs them against the object).
        assert!(code_left_flow("abc", None));
    }

    #[test]
    fn refusals_map_to_distinct_native_errors() {
        let e = code_refusal_error(CodeRefusal::Exhausted);
        assert_eq!(
            (e.status, e.error, e.suberror),
            (400, "invalid_grant", Some("invalid_oob_value"))
        );
        assert_eq!(e.error_codes, vec![50_181]);
        let used = code_refusal_error(CodeRefusal::Consumed);
        let race = code_refusal_error(CodeRefusal::LostRace);
        assert_eq!(
            (used.error, used.error_codes.clone()),
            ("invalid_grant", vec![55_200])
        );
        assert_ne!(used.description, race.description);
        let s = send_refusal_error(Dimension::NumberAllIps, 42);
        assert_eq!(
            (s.status, s.error, s.suberror),
            (400, "access_denied", Some("provider_blocked_by_rep"))
        );
        assert!(
            s.description.contains("this phone number") && s.description.contains("42 seconds")
        );
        let pair = send_refusal_error(Dimension::NumberFromIp, 42);
        assert!(
            pair.description
                .contains("to this phone number from this network address recently"),
            "{}",
            pair.description
        );
        let pair = send_refusal_error(Dimension::EmailAddressFromIp, 59);
        assert!(
            pair.description
                .contains("to this email address from this network address recently"),
            "{}",
            pair.description
        );
        let e = send_refusal_error(Dimension::EmailAddressAllIps, 59);
        assert_eq!(
            (e.error, e.suberror),
            ("access_denied", Some("provider_blocked_by_rep"))
        );
        assert!(
            e.description.contains("this email address") && e.description.contains("59 seconds"),
            "{}",
            e.description
        );
        assert_eq!(
            e.extra.as_ref().and_then(|x| x.get("retry_after")),
            Some(&serde_json::Value::from(59u64))
        );
        assert_eq!(unavailable_error().status, 500);
        assert_eq!(unavailable_error().error, "server_error");
    }
}
