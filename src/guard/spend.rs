//! Authorization codes and refresh tokens are used once (RFC 6749 §4.1.2 and §10.4,
//! RFC 9700 §4.14.2), but their records live in KV, which has no compare-and-set and
//! takes up to about a minute to carry a write to other locations. Two redemptions of one
//! code or one refresh token at two locations would both read the unspent record and both
//! get tokens, and the reuse detection would never fire (peers-and-standards §3: the
//! refresh race of workers-oauth-provider#214). So the KV record still says what a handle
//! grants, but whether it was already used is asked of a Durable Object named after the
//! handle, which answers one request at a time: only the first asker may go on.
//!
//! Handles that follow one another share an object. A continuation token or a refresh
//! token is spent in its account's object (the one that judges its passwords and merges
//! its record writes), or, before a flow knows its account, in the flow's object (the one
//! that counts its code attempts). A Durable Object is created on its first request,
//! which costs more than any later one (locally ~2 ms of the isolate's CPU, against ~0.04
//! ms, measured with a bare object under `wrangler dev`), so an object per token made
//! every step pay for a new one. And the account's object knows an administrator's
//! disable or deletion at once, where KV may show it only a minute later: it spends none
//! of a closed account's handles, so no location moves such a flow on or refreshes such
//! a session, at no extra object call. An authorization code is spent there too: the
//! hosted pages that issued it spent no token in the account's object, so without it a
//! code issued just before a disable still got tokens where KV showed the account
//! enabled.

use crate::flow::{CodeKey, FlowCommon};
use crate::guard::password::LockoutCopy;
use crate::guard::record::RecordCopy;
use crate::time::{Seconds, Timestamp};
use serde::{Deserialize, Serialize};

/// How long a shared object keeps a handle's name at most: far longer than KV takes to
/// show everywhere what the spender stored (the flow record deleted, the refresh record
/// marked used), after which KV refuses the handle by itself. Without a bound, a long
/// session's rotations would pile up in its account's object until the session ended.
pub const SHARED_KEEP: Seconds = Seconds(3_600);

/// How many names a shared object keeps at most. An account's object takes a name for
/// every step of every flow of the account, and starting a sign-in needs nothing but the
/// account's email: without a cap, anyone could grow the object (one row, read and
/// written whole by every call, a password step's and an administrator's included) by
/// ~50 bytes a request for an hour, past what an object's row may hold (2 MB). 2,048
/// names are ~100 KB.
pub const SHARED_MAX: usize = 2_048;

/// How long a name is kept even when the object is full: five times what KV takes to show
/// the spender's write everywhere (about a minute). An older name may make room for a new
/// one; a full object with none that old spends nothing ([`Spent::spend_in`]).
pub const SHARED_MIN_KEEP: Seconds = Seconds(300);

/// One name kept in a shared object: the handle's name, when it was spent, and until
/// when it is kept (its expiry, at most [`SHARED_KEEP`] after the spend).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpentName(String, Timestamp, Timestamp);

/// The handles spent through a shared object, oldest first. A list, not a map: a flow
/// spends a handful, and serde's map code cost the Worker 3.6 KB gzip more.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Spent(Vec<SpentName>);

impl Spent {
    /// Nothing kept (the state then leaves the field out).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Marks `handle` spent; the answer is whether this call was the first, or `None`
    /// when the object is full ([`SHARED_MAX`]) of names spent less than
    /// [`SHARED_MIN_KEEP`] ago: the handle is not spent (fail closed), and the caller may
    /// try again shortly. Names past their time are dropped first, so the list holds
    /// only recent spends; when it is full, the oldest name makes room if it is old
    /// enough.
    pub fn spend_in(&mut self, handle: String, until: Timestamp, now: Timestamp) -> Option<bool> {
        self.0.retain(|SpentName(_, _, kept)| *kept > now);
        if self.0.iter().any(|SpentName(name, _, _)| *name == handle) {
            return Some(false);
        }
        if self.0.len() >= SHARED_MAX {
            let oldest = self
                .0
                .iter()
                .enumerate()
                .min_by_key(|(_, SpentName(_, at, _))| *at)
                .filter(|(_, SpentName(_, at, _))| at.plus(SHARED_MIN_KEEP) <= now)
                .map(|(index, _)| index)?;
            self.0.remove(oldest);
        }
        let kept = until.min(now.plus(SHARED_KEEP));
        self.0.push(SpentName(handle, now, kept));
        Some(true)
    }

    /// Takes a spend back ([`unspend`]).
    pub fn unspend_in(&mut self, handle: &str) {
        self.0.retain(|SpentName(name, _, _)| name != handle);
    }

    /// When the last name kept may be forgotten.
    pub fn forget_at(&self) -> Option<Timestamp> {
        self.0.iter().map(|SpentName(_, _, kept)| *kept).max()
    }
}

/// Why an account's object spends none of its handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AccountClosed {
    /// Disabled by an administrator or at the lockout's hard limit.
    Disabled,
    /// Deleted by an administrator.
    Deleted,
}

/// What the account's object knows of its account: deleted (the record's copy is a
/// tombstone that still counts) or disabled, by the same rule that makes the record
/// stored in KV disabled: the record last written with the object's lockout copy merged
/// in ([`crate::guard::password::merge`]). So an administrator's re-enable, written with
/// its `enabledAt` through the object, opens the account even when the best-effort clear
/// that follows it ([`crate::guard::GuardOp::ClearLockout`]) never arrives; the lockout
/// copy alone would keep the account closed for a day ([`crate::guard::password::KEEP`])
/// while KV shows it enabled. Objects that are no account's keep neither and close
/// nothing.
pub fn closed(
    lockout: Option<&LockoutCopy>,
    record: Option<&RecordCopy>,
    now: Timestamp,
) -> Option<AccountClosed> {
    let record = record.filter(|copy| copy.current(now));
    if record.is_some_and(|copy| copy.record.is_none()) {
        return Some(AccountClosed::Deleted);
    }
    let disabled = match record.and_then(|copy| copy.record.as_ref()) {
        Some(written) => crate::guard::password::merge(&written.0.lockout, lockout).disabled,
        None => lockout.is_some_and(|copy| copy.lockout.disabled),
    };
    disabled.then_some(AccountClosed::Disabled)
}

/// How long after a hosted page's handle was spent a second post of it gets the first
/// one's answer ([`crate::oidc::replay`]): a double click's second post comes within a
/// second, and the first post may take a few (a code to send). Later, a resubmitted old
/// form is refused as before, so an old handle does not lead on through the flow.
pub const REPLAY_WINDOW: Seconds = Seconds(30);

/// What a later spend of the handle gets: the answer kept, if it is still within
/// [`REPLAY_WINDOW`] of the spend, and whether to ask again for one not kept yet (the
/// first post is still running). Past the window no answer will be given, so the later
/// post is refused at once instead of asking again for seconds.
pub fn replay(
    spent_at: Option<Timestamp>,
    kept: Option<&String>,
    now: Timestamp,
) -> (Option<String>, bool) {
    let Some(at) = spent_at else {
        return (None, false);
    };
    if now >= at.plus(REPLAY_WINDOW) {
        return (None, false);
    }
    match kept {
        Some(kept) => (Some(kept.clone()), false),
        None => (None, true),
    }
}

/// Whether a step's continuation token must be spent through its object before the
/// step's effects apply: it grants tokens, or it moves the flow to a new token
/// (`rotates`). KV alone let concurrent replays of one token each go on: five
/// `/challenge` calls at once sent five different codes, and a step that rotates without
/// sending (a method list, a re-offered code) let one token become several live ones,
/// each with its own resend budget. A step that keeps its token (a rejection) cannot
/// spend it: the client goes on with it.
pub fn must_spend(effects: &[crate::flow::Effect], rotates: bool) -> bool {
    rotates
        || effects
            .iter()
            .any(|e| matches!(e, crate::flow::Effect::IssueTokens(_)))
}

/// Takes a spend back: the step that spent the handle could not deliver its code, and the
/// client must be able to retry with the same token ([`crate::native::delivery`] keeps
/// the state behind it). Only the spender calls it, once, right after its own spend
/// failed to deliver, and no other request can spend the handle in between, so clearing
/// unconditionally cannot undo someone else's spend.
pub fn unspend() -> Option<Timestamp> {
    None
}

/// Marks the handle spent at `now`; the answer is whether this call was the first.
pub fn spend(spent_at: Option<Timestamp>, now: Timestamp) -> (Option<Timestamp>, bool) {
    match spent_at {
        Some(at) => (Some(at), false),
        None => (Some(now), true),
    }
}

/// The object of one code or refresh token, named by a keyed hash of its lookup key
/// (itself a hash of the handle), so object names reveal nothing usable.
pub fn spend_object_name(key: &CodeKey, tenant: &str, lookup: &str) -> String {
    let hash = key.keyed_hash(&format!("vestibule.guard.v1/{tenant}/spend"), lookup);
    format!("spend/{tenant}/{}", super::hex16(&hash))
}

/// Where a handle is spent: handles that follow one another share an object, so a step
/// does not create a new one.
#[derive(Debug, Clone, Copy)]
pub enum SpendIn<'a> {
    /// An object of its own (a hosted page's handle).
    Own,
    /// Its flow's object (a continuation token before the flow knows its account), the
    /// one that counts its code attempts.
    Flow(&'a FlowCommon),
    /// Its account's object (a continuation token of a known account, a refresh token,
    /// an authorization code).
    Account(&'a str),
}

impl<'a> SpendIn<'a> {
    /// The object, and the handle's name in it when it shares the object.
    pub fn place(self, key: &CodeKey, tenant: &str, lookup: &str) -> (String, Option<String>) {
        match self {
            SpendIn::Own => (spend_object_name(key, tenant, lookup), None),
            SpendIn::Flow(common) => (
                super::flow_object_name(key, tenant, common),
                Some(handle_name(key, tenant, lookup)),
            ),
            SpendIn::Account(user_id) => (
                super::password::password_object_name(key, tenant, user_id),
                Some(handle_name(key, tenant, lookup)),
            ),
        }
    }
}

/// The account a step grants tokens to, whose object must still say it is open before
/// they leave: a continuation token is spent in its flow's object (single use), and a
/// step that grants tokens is also spent in the account's object, which refuses a
/// disabled or deleted account at once. Only granting steps go there: each needs a proven
/// factor, where any step that merely moves a flow on needs nothing but the account's
/// email, and spent there it would let anyone fill the account's object (one row, read
/// and written whole by every password step and record write of the account) until its
/// owner's steps were refused.
pub fn granted_to(effects: &[crate::flow::Effect]) -> Option<&str> {
    effects.iter().find_map(|effect| match effect {
        crate::flow::Effect::IssueTokens(grant) => Some(grant.user_id.as_str()),
        _ => None,
    })
}

/// A handle's name in the object it shares: a keyed hash of its lookup key, short and
/// meaningless outside this tenant.
pub fn handle_name(key: &CodeKey, tenant: &str, lookup: &str) -> String {
    let hash = key.keyed_hash(&format!("vestibule.guard.v1/{tenant}/handle"), lookup);
    super::hex16(&hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flow's tokens are spent in the flow's object, whether or not it knows its
    /// account yet; refresh tokens and codes in their account's; each under a name of
    /// its own. A hosted page's handle gets an object of its own.
    #[test]
    fn handles_that_follow_one_another_share_an_object_under_names_of_their_own() {
        let key = CodeKey::new(vec![3u8; 32]).unwrap();
        let mut flow = FlowCommon::new(
            crate::flow::FlowKind::SignIn,
            "app".into(),
            crate::pii::Pii::new("a@example.com".into()),
            Timestamp(100),
            1800,
        );
        let (o1, h1) = SpendIn::Flow(&flow).place(&key, "t", "lookup-1");
        let (o2, h2) = SpendIn::Flow(&flow).place(&key, "t", "lookup-2");
        assert_eq!(o1, super::super::flow_object_name(&key, "t", &flow));
        assert_eq!(o1, o2, "one object per flow");
        assert!(h1.is_some() && h2.is_some() && h1 != h2, "{h1:?} {h2:?}");
        assert!(!h1.iter().any(|h| h.contains("lookup")), "names are hashes");
        flow.user_id = Some("u1".into());
        assert_eq!(
            SpendIn::Flow(&flow).place(&key, "t", "lookup-1").0,
            o1,
            "knowing its account does not move a flow's tokens"
        );
        let account = crate::guard::password::password_object_name(&key, "t", "u1");
        let (a1, g1) = SpendIn::Account("u1").place(&key, "t", "lookup-1");
        assert_eq!((a1.as_str(), g1.as_ref()), (account.as_str(), h1.as_ref()));
        assert_ne!(
            SpendIn::Account("u2").place(&key, "t", "lookup-1").0,
            account
        );
        let (own, none) = SpendIn::Own.place(&key, "t", "lookup-1");
        assert_eq!(
            (own.as_str(), none),
            (spend_object_name(&key, "t", "lookup-1").as_str(), None)
        );
        assert_ne!(own, SpendIn::Own.place(&key, "t", "lookup-2").0);
    }

    /// Only a step that grants tokens asks the account's object: a step that moves a
    /// flow on (anyone's, with the email alone) leaves it alone.
    #[test]
    fn only_a_grant_is_spent_in_the_account_object_too() {
        use crate::flow::{Effect, TokenGrant};
        let grant: TokenGrant = serde_json::from_value(serde_json::json!({
            "userId": "u1", "appId": "app", "email": "a@example.com", "authTime": 10,
            "methods": [], "acr": "1", "amr": ["pwd"], "acrs": []
        }))
        .unwrap();
        assert_eq!(granted_to(&[Effect::IssueTokens(grant)]), Some("u1"));
        assert_eq!(granted_to(&[]), None);
    }

    /// A long session rotates its refresh token many times: each name is kept an hour at
    /// most, so the account's object holds only the last hour's.
    #[test]
    fn shared_names_are_kept_until_their_expiry_but_an_hour_at_most() {
        let mut spent = Spent::default();
        assert_eq!(
            spent.spend_in("a".into(), Timestamp(100_000), Timestamp(10)),
            Some(true)
        );
        assert_eq!(spent.forget_at(), Some(Timestamp(10 + SHARED_KEEP.0)));
        assert_eq!(
            spent.spend_in("b".into(), Timestamp(50), Timestamp(20)),
            Some(true)
        );
        assert_eq!(
            spent.spend_in("a".into(), Timestamp(100_000), Timestamp(30)),
            Some(false)
        );
        // Past b's expiry and a's hour: both are gone, and a may be spent again (by then
        // KV refuses it: its record was deleted or marked used).
        let late = Timestamp(10 + SHARED_KEEP.0);
        assert_eq!(
            spent.spend_in("c".into(), Timestamp(100_000), late),
            Some(true)
        );
        assert_eq!(
            serde_json::to_string(&spent).unwrap(),
            r#"[["c",3610,7210]]"#
        );
    }

    /// An account's object takes a name for each step of each flow of the account, and a
    /// sign-in starts with nothing but an email: the names are capped, a full object
    /// makes room only with a name spent [`SHARED_MIN_KEEP`] ago (KV refuses that handle
    /// by then), and otherwise spends nothing rather than forget a recent name, which
    /// would let its handle be spent again.
    #[test]
    fn a_full_shared_object_forgets_only_names_old_enough_and_else_spends_nothing() {
        let mut spent = Spent::default();
        let until = Timestamp(100_000);
        for i in 0..SHARED_MAX {
            let now = Timestamp(1_000 + i as u64 / 16);
            assert_eq!(spent.spend_in(format!("h{i}"), until, now), Some(true));
        }
        let soon = Timestamp(1_000 + SHARED_MIN_KEEP.0 - 1);
        assert_eq!(spent.spend_in("new".into(), until, soon), None, "full");
        assert_eq!(spent.0.len(), SHARED_MAX);
        assert_eq!(
            spent.spend_in("h5".into(), until, soon),
            Some(false),
            "a name kept is still refused when the object is full"
        );
        let later = Timestamp(1_000 + SHARED_MIN_KEEP.0);
        assert_eq!(spent.spend_in("new".into(), until, later), Some(true));
        assert_eq!(spent.0.len(), SHARED_MAX);
        assert_eq!(
            spent.spend_in("h1".into(), until, later),
            Some(false),
            "only the oldest name made room"
        );
        assert!(!spent.0.iter().any(|SpentName(name, _, _)| name == "h0"));
    }

    #[test]
    fn an_account_is_closed_by_a_tombstone_or_a_disabled_copy_and_opened_by_a_re_enable() {
        use crate::flow::user::Lockout;
        let copy = |disabled| LockoutCopy {
            lockout: Lockout {
                disabled,
                ..Lockout::default()
            },
            at: Timestamp(5),
        };
        assert_eq!(closed(None, None, Timestamp(8)), None);
        assert_eq!(closed(Some(&copy(false)), None, Timestamp(8)), None);
        assert_eq!(
            closed(Some(&copy(true)), None, Timestamp(8)),
            Some(AccountClosed::Disabled)
        );
        let gone = crate::guard::record::delete(None, Timestamp(6));
        assert_eq!(
            closed(Some(&copy(false)), Some(&gone), Timestamp(8)),
            Some(AccountClosed::Deleted)
        );
        // A tombstone counts as long as it keeps a stale record from being written back
        // (record::KEEP), not for as long as other state keeps the object alive.
        let past = Timestamp(6 + crate::guard::record::KEEP.0);
        assert_eq!(closed(Some(&copy(false)), Some(&gone), past), None);
        let enabled = crate::guard::password::clear(Some(copy(true)), true, Timestamp(7));
        assert_eq!(
            closed(Some(&enabled), None, Timestamp(8)),
            None,
            "an administrator's re-enable"
        );
    }

    #[test]
    fn only_the_first_spend_goes_on_and_the_first_time_is_kept() {
        let (state, first) = spend(None, Timestamp(10));
        assert!(first);
        let (state, again) = spend(state, Timestamp(11));
        assert!(!again);
        assert_eq!(state, Some(Timestamp(10)));
    }

    #[test]
    fn tokens_and_every_move_to_a_new_token_spend_the_old_one() {
        use crate::flow::Effect;
        let audit = Effect::Audit(crate::flow::AuditEvent {
            at: Timestamp(1),
            flow: crate::flow::FlowKind::SignIn,
            event: "e".into(),
            user_id: None,
            app_id: "a".into(),
            channel: None,
            reason: None,
            sign_in: None,
        });
        assert!(
            must_spend(std::slice::from_ref(&audit), true),
            "every rotation spends"
        );
        assert!(!must_spend(std::slice::from_ref(&audit), false));
        assert!(!must_spend(&[], false));
        let send = Effect::SendCode(crate::flow::CodeDelivery {
            channel: crate::flow::Channel::Email,
            to: crate::pii::Pii::new("a@example.com".into()),
            code: crate::pii::Secret::new("12345678".into()),
            purpose: crate::flow::CodePurpose::SignIn,
            expires_at: Timestamp(600),
        });
        assert!(must_spend(&[audit.clone(), send.clone()], true));
        assert!(!must_spend(&[send], false), "a kept token is not spent");
        let (state, _) = spend(None, Timestamp(10));
        assert_eq!(state, Some(Timestamp(10)));
        assert_eq!(spend(unspend(), Timestamp(11)), (Some(Timestamp(11)), true));
    }

    #[test]
    fn names_depend_on_key_tenant_and_handle_and_hide_the_handle() {
        let key = CodeKey::new(vec![7; 32]).unwrap();
        let other = CodeKey::new(vec![8; 32]).unwrap();
        let a = spend_object_name(&key, "t", "lookup-a");
        assert!(a.starts_with("spend/t/") && !a.contains("lookup-a"));
        assert_ne!(a, spend_object_name(&key, "t", "lookup-b"));
        assert_ne!(a, spend_object_name(&key, "u", "lookup-a"));
        assert_ne!(a, spend_object_name(&other, "t", "lookup-a"));
        assert_eq!(a, spend_object_name(&key, "t", "lookup-a"));
    }
}
