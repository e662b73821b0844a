//! Authorization codes and refresh tokens are used once (RFC 6749 §4.1.2 and §10.4,
//! RFC 9700 §4.14.2), but their records live in KV, which has no compare-and-set and
//! takes up to about a minute to carry a write to other locations. Two redemptions of one
//! code or one refresh token at two locations would both read the unspent record and both
//! get tokens, and the reuse detection would never fire (peers-and-standards §3: the
//! refresh race of workers-oauth-provider#214). So the KV record still says what a handle
//! grants, but whether it was already used is asked of a Durable Object named after the
//! handle, which answers one request at a time: only the first asker may go on.
//!
//! Handles that follow one another share an object: a flow's continuation tokens are
//! spent in the flow's object (the one that counts its code attempts), and a session's
//! refresh tokens in their family's object. A Durable Object is created on its first
//! request, which costs more than any later one (locally ~2 ms of the isolate's CPU,
//! against ~0.04 ms, measured with a bare object under `wrangler dev`), so an object per
//! token made every step of a flow pay for a new one.

use crate::flow::{CodeKey, FlowCommon};
use crate::time::{Seconds, Timestamp};
use serde::{Deserialize, Serialize};

/// The handles spent through a shared object: each handle's name and when it expires
/// anyway, after which it is forgotten (a presented expired handle is refused before any
/// spend). A list, not a map: a flow spends a handful and serde's map code cost the
/// Worker 3.6 KB gzip more.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Spent(Vec<(String, Timestamp)>);

impl Spent {
    /// Nothing kept (the state then leaves the field out).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Marks `handle` spent; the answer is whether this call was the first. Handles
    /// past their expiry are dropped first, so a long-lived family keeps only its live
    /// tokens.
    pub fn spend_in(&mut self, handle: String, until: Timestamp, now: Timestamp) -> bool {
        self.0.retain(|(_, expires)| *expires > now);
        if self.0.iter().any(|(name, _)| *name == handle) {
            return false;
        }
        self.0.push((handle, until));
        true
    }

    /// Takes a spend back ([`unspend`]).
    pub fn unspend_in(&mut self, handle: &str) {
        self.0.retain(|(name, _)| name != handle);
    }
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
    /// An object of its own (an authorization code, a hosted page's handle).
    Own,
    /// Its flow's object (a continuation token), the one that counts its code attempts.
    Flow(&'a FlowCommon),
    /// Its session family's object (a refresh token).
    Family(&'a str),
}

impl<'a> SpendIn<'a> {
    /// A refresh token's place: its family's object; a record from before families
    /// existed has none, and its token gets an object of its own.
    pub fn refresh(family: &'a str) -> Self {
        match family {
            "" => SpendIn::Own,
            family => SpendIn::Family(family),
        }
    }

    /// The object, and the handle's name in it when it shares the object.
    pub fn place(self, key: &CodeKey, tenant: &str, lookup: &str) -> (String, Option<String>) {
        match self {
            SpendIn::Own => (spend_object_name(key, tenant, lookup), None),
            SpendIn::Flow(common) => (
                super::flow_object_name(key, tenant, common),
                Some(handle_name(key, tenant, lookup)),
            ),
            SpendIn::Family(family) => (
                family_object_name(key, tenant, family),
                Some(handle_name(key, tenant, lookup)),
            ),
        }
    }
}

/// A handle's name in the object it shares: a keyed hash of its lookup key, short and
/// meaningless outside this tenant.
pub fn handle_name(key: &CodeKey, tenant: &str, lookup: &str) -> String {
    let hash = key.keyed_hash(&format!("vestibule.guard.v1/{tenant}/handle"), lookup);
    super::hex16(&hash)
}

/// The object of a refresh-token session family: every rotation of the session is
/// spent there.
pub fn family_object_name(key: &CodeKey, tenant: &str, family: &str) -> String {
    let hash = key.keyed_hash(&format!("vestibule.guard.v1/{tenant}/family"), family);
    format!("family/{tenant}/{}", super::hex16(&hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every token of a flow is spent in the flow's object and every rotation of a
    /// session in its family's, each under its own name there; a code gets its own
    /// object, and so does a refresh token from before families.
    #[test]
    fn handles_that_follow_one_another_share_an_object_under_names_of_their_own() {
        let key = CodeKey::new(vec![3u8; 32]).unwrap();
        let flow = FlowCommon::new(
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
        let (f1, g1) = SpendIn::refresh("fam-1").place(&key, "t", "lookup-1");
        let (f2, _) = SpendIn::refresh("fam-1").place(&key, "t", "lookup-2");
        let (f3, _) = SpendIn::refresh("fam-2").place(&key, "t", "lookup-1");
        assert!(f1.starts_with("family/t/") && !f1.contains("fam-1"), "{f1}");
        assert_eq!((f1.as_str(), g1.as_ref()), (f2.as_str(), h1.as_ref()));
        assert_ne!(f1, f3, "one object per family");
        let (own, none) = SpendIn::refresh("").place(&key, "t", "lookup-1");
        assert_eq!(
            (own.as_str(), none),
            (spend_object_name(&key, "t", "lookup-1").as_str(), None)
        );
        assert_ne!(
            SpendIn::Own.place(&key, "t", "lookup-1").0,
            SpendIn::Own.place(&key, "t", "lookup-2").0
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
