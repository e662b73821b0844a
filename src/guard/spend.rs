//! Authorization codes and refresh tokens are used once (RFC 6749 §4.1.2 and §10.4,
//! RFC 9700 §4.14.2), but their records live in KV, which has no compare-and-set and
//! takes up to about a minute to carry a write to other locations. Two redemptions of one
//! code or one refresh token at two locations would both read the unspent record and both
//! get tokens, and the reuse detection would never fire (peers-and-standards §3: the
//! refresh race of workers-oauth-provider#214). So the KV record still says what a handle
//! grants, but whether it was already used is asked of a Durable Object named after the
//! handle, which answers one request at a time: only the first asker may go on.

use crate::flow::CodeKey;
use crate::time::Timestamp;

/// Whether a step's continuation token must be spent through its object before the
/// step's effects apply: it grants tokens. Other steps only move the flow along.
pub fn grants_tokens(effects: &[crate::flow::Effect]) -> bool {
    effects
        .iter()
        .any(|e| matches!(e, crate::flow::Effect::IssueTokens(_)))
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
