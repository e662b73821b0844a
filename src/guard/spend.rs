//! Authorization codes and refresh tokens are used once (RFC 6749 §4.1.2 and §10.4,
//! RFC 9700 §4.14.2), but their records live in KV, which has no compare-and-set and
//! takes up to about a minute to carry a write to other locations. Two redemptions of one
//! code or one refresh token at two locations would both read the unspent record and both
//! get tokens, and the reuse detection would never fire (peers-and-standards §3: the
//! refresh race of workers-oauth-provider#214). So the KV record still says what a handle
//! grants, but whether it was already used is asked of a Durable Object named after the
//! handle, which answers one request at a time: only the first asker may go on.

use crate::flow::CodeKey;
use crate::time::{Seconds, Timestamp};

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

#[cfg(test)]
mod tests {
    use super::*;

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
