//! Password guesses for one account are judged one at a time, against a failure count
//! the account's guard object holds.
//!
//! The lockout's failure count lives in the user record in KV, which is read, then
//! written: thirty wrong passwords sent at once all read "no failures yet" and were all
//! judged, so a burst escaped the lockout (NIST SP 800-63B §5.2.2 limits *consecutive
//! failed attempts*). Each password step therefore holds its account's guard object,
//! then reads the user record, judges and writes it back; a guess that arrives meanwhile
//! is refused unjudged. The hold lapses by itself, so a request that dies holding it
//! blocks the account for seconds, not for good, and a release frees only the hold it
//! took (its ticket), never a later one.
//!
//! KV is also eventually consistent across locations (up to a minute), so a guess at
//! another location could be judged on an older, lower count: guesses spread one by one
//! over many locations would escape the lockout. So the object keeps a copy of the
//! account's [`Lockout`] next to the hold. [`hold`] answers it with the ticket, the
//! Worker judges the user record with the stricter of the two ([`merge`]), and the
//! release stores the lockout the step ended with, only under the ticket that read the
//! copy ([`release`]). The object is the one place every location asks, so every guess
//! counts, wherever it comes from.
//!
//! What lowers the count (a complete sign-in, an administrator's re-enable) must reach
//! the object too, or the stricter-of-two merge would bring the old count back: the
//! Worker sends [`crate::guard::GuardOp::ClearLockout`] after writing such a record
//! ([`cleared_now`] says when). That call can fail after the KV write. It is then
//! still safe, because a clear is also stamped in the record (`clearedAt`): a copy
//! written before the record's last clear is outdated and [`merge`] ignores it, so a
//! missed clear holds at most until KV shows the cleared record where the next password
//! is judged, as for any KV write, and never locks anyone for good. A stale record (one
//! written before the copy) never shows a newer clear, so it cannot lower the count.
//!
//! Wrong one-time codes also count failures, in KV only: each code already has its own
//! attempt limit in its flow's object ([`super::attempts`]) and a flow its send limits,
//! and bringing them here would cost every code step a hold. Only passwords, the factor
//! that can be guessed without limit otherwise, take the account's object.
use crate::flow::user::Lockout;
use crate::flow::{CodeKey, Effect, FlowInput, FlowState};
use crate::time::{Seconds, Timestamp};
use serde::{Deserialize, Serialize};

/// The account's lockout as the object last stored it, and when (the caller's clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LockoutCopy {
    /// The lockout a password step ended with, or a clear.
    pub lockout: Lockout,
    /// When it was stored.
    pub at: Timestamp,
}

/// How long the object keeps a copy that counts something after its last write: far
/// longer than KV takes to show a write everywhere (about a minute), so by then the
/// record says what the copy says, and bounded so an account nobody guesses at any
/// more costs no storage.
pub const KEEP: Seconds = Seconds(86_400);

/// Whether this input is a password judged against the account's lockout: a sign-in
/// password. Setting a password (sign-up, a reset, a required change) judges nothing and
/// needs no hold.
pub fn needs_hold(input: &FlowInput, state: Option<&FlowState>) -> bool {
    matches!(input, FlowInput::SubmitPassword { .. })
        && matches!(state, Some(FlowState::SignInExpectPassword(_)))
}

/// How long a hold lasts if it is never released: longer than a password step takes
/// (argon2id at ~50 ms, a few KV calls), short enough to be a brief wait for the owner.
pub const HOLD: Seconds = Seconds(10);

/// Takes the hold if it is free or has lapsed; the answer is the ticket (when this hold
/// lapses) that releases it, or `None` while another step holds the account.
pub fn hold(
    held_until: Option<Timestamp>,
    now: Timestamp,
) -> (Option<Timestamp>, Option<Timestamp>) {
    match held_until {
        Some(until) if until > now => (Some(until), None),
        _ => {
            let until = now.plus(HOLD);
            (Some(until), Some(until))
        }
    }
}

/// Frees the hold `ticket` took and stores `ended`, the lockout its step ended with.
/// A ticket that no longer matches (its hold lapsed and another step took the object,
/// or a clear ended it) changes nothing: that step judged on a copy that has been
/// replaced since, and storing its result would overwrite the newer one. A lapsed hold
/// nobody took since still matches, and its result is then the newest there is.
pub fn release(
    held_until: Option<Timestamp>,
    copy: Option<LockoutCopy>,
    ticket: Timestamp,
    ended: Option<Lockout>,
    now: Timestamp,
) -> (Option<Timestamp>, Option<LockoutCopy>) {
    if held_until != Some(ticket) {
        return (held_until, copy);
    }
    let copy = match ended {
        Some(lockout) => Some(LockoutCopy { lockout, at: now }),
        None => copy,
    };
    (None, copy)
}

/// A clear (a complete sign-in, an administrator's re-enable): the copy says nothing is
/// counted as of `now`, and any hold ends, so the step under it, which read the count
/// before the clear, cannot store that count again with its release. A sign-in's clear
/// (`enable` false) leaves a disabled copy as it is: the sign-in was judged on a record
/// that had not seen the disable ([`merge`]); only an administrator's re-enable lifts it.
pub fn clear(copy: Option<LockoutCopy>, enable: bool, now: Timestamp) -> LockoutCopy {
    match copy {
        Some(copy) if copy.lockout.disabled && !enable => copy,
        _ => LockoutCopy {
            lockout: Lockout {
                cleared_at: Some(now),
                enabled_at: if enable {
                    Some(now)
                } else {
                    copy.and_then(|c| c.lockout.enabled_at)
                },
                ..Lockout::default()
            },
            at: now,
        },
    }
}

/// An administrator's disable: the copy says disabled as of `now` (the counts kept), so
/// every password step merges it in and every record write keeps it, wherever KV still
/// shows the account enabled; any hold ends, so the step under it cannot store the
/// lockout it read before the disable.
pub fn disable(copy: Option<LockoutCopy>, now: Timestamp) -> LockoutCopy {
    let lockout = copy.map(|c| c.lockout).unwrap_or_default();
    LockoutCopy {
        lockout: Lockout {
            disabled: true,
            ..lockout
        },
        at: now,
    }
}

/// Until when the object must keep `copy`: a clear copy says nothing the record does
/// not, so it may go at once; one that counts stays [`KEEP`] after its write, or until
/// its wait ends if that is later.
pub fn keep_until(copy: &LockoutCopy) -> Timestamp {
    // A re-enable is kept as long as a disable: a record read before it is still
    // disabled, and written back it would disable the account again ([`merge`]).
    if copy.lockout.is_clear() && copy.lockout.enabled_at.is_none() {
        return copy.at;
    }
    let kept = copy.at.plus(KEEP);
    copy.lockout
        .locked_until
        .map_or(kept, |until| kept.max(until))
}

/// The lockout a password is judged by: the record's, made stricter by the object's
/// copy (more failures, the later wait, disabled if either is), unless the record was
/// cleared at or after the copy was written. Then the copy is outdated (the object
/// missed the clear) and the record alone counts; the step's release replaces it.
///
/// A disable is the exception: only an administrator's re-enable (`enabledAt`) lifts
/// the copy's, never a sign-in's clear. A record written from an older copy of KV (at a
/// location that had not seen the disable yet) carries such a clear, and merged with it
/// the account would be enabled again. Every user-record write merges the same way, so
/// that record cannot bring the account back either. The other way round, a record read
/// before a re-enable the object knows of (its `enabledAt` is older) is disabled only if
/// the copy is: every later disable, by an administrator or by the failure limit, went
/// through the object.
pub fn merge(record: &Lockout, copy: Option<&LockoutCopy>) -> Lockout {
    let Some(copy) = copy else {
        return *record;
    };
    let theirs = &copy.lockout;
    let disabled = if theirs.enabled_at > record.enabled_at {
        theirs.disabled
    } else {
        record.disabled
            || (theirs.disabled && record.enabled_at.is_none_or(|enabled| enabled < copy.at))
    };
    if record.cleared_at.is_some_and(|cleared| cleared >= copy.at) {
        return Lockout {
            disabled,
            ..*record
        };
    }
    Lockout {
        consecutive_failures: record.consecutive_failures.max(theirs.consecutive_failures),
        locked_until: record.locked_until.max(theirs.locked_until),
        disabled,
        cleared_at: record.cleared_at.max(theirs.cleared_at),
        enabled_at: record.enabled_at.max(theirs.enabled_at),
    }
}

/// The lockout a password step ended with: the last record it writes for `user_id`, or
/// the one it was judged by (`judged`) when it writes none.
pub fn ended_with(judged: &Lockout, user_id: &str, effects: &[Effect]) -> Lockout {
    effects
        .iter()
        .rev()
        .find_map(|e| match e {
            Effect::UpdateUser(u) | Effect::CreateUser(u) if u.id == user_id => Some(u.lockout),
            _ => None,
        })
        .unwrap_or(*judged)
}

/// Whether a record being written cleared its lockout in this request (its clear is
/// stamped `now`): then the account's object must hear of it.
pub fn cleared_now(lockout: &Lockout, now: Timestamp) -> bool {
    lockout.cleared_at == Some(now)
}

/// The object of one account's password guesses, named by a keyed hash of its id.
pub fn password_object_name(key: &CodeKey, tenant: &str, user_id: &str) -> String {
    let hash = key.keyed_hash(&format!("vestibule.guard.v1/{tenant}/password"), user_id);
    format!("password/{tenant}/{}", super::hex16(&hash))
}

/// The protocol error for a guess refused while another is judged: `invalid_grant`
/// 50053 (too many attempts), as for a locked account, since it is one of a burst.
pub fn busy_error() -> crate::native::NativeError {
    crate::native::NativeError::new(
        "invalid_grant",
        "AADSTS50053: another password for this account is being checked; try again in a moment",
    )
    .code(50_053)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(failures: u32, locked_until: Option<u64>) -> Lockout {
        Lockout {
            consecutive_failures: failures,
            locked_until: locked_until.map(Timestamp),
            ..Lockout::default()
        }
    }

    #[test]
    fn one_hold_at_a_time_until_released_or_lapsed() {
        let (state, first) = hold(None, Timestamp(100));
        let ticket = first.unwrap();
        let (state, second) = hold(state, Timestamp(101));
        assert_eq!(second, None, "held");
        let (freed, _) = release(state, None, ticket, None, Timestamp(101));
        let (_, after_release) = hold(freed, Timestamp(101));
        assert!(after_release.is_some());
        // A hold that lapsed and was taken by another step is not freed by the old ticket.
        let (lapsed, next) = hold(state, Timestamp(100 + HOLD.0));
        let next = next.unwrap();
        assert_eq!(
            release(lapsed, None, ticket, None, Timestamp(111)).0,
            Some(next)
        );
        assert_eq!(release(lapsed, None, next, None, Timestamp(111)).0, None);
    }

    #[test]
    fn a_release_stores_the_count_only_under_its_own_ticket() {
        let older = LockoutCopy {
            lockout: counted(2, None),
            at: Timestamp(90),
        };
        // The holder's result replaces the copy, whatever it says (it judged on it).
        let (held, ticket) = hold(None, Timestamp(100));
        let ticket = ticket.unwrap();
        let (freed, copy) = release(
            held,
            Some(older),
            ticket,
            Some(counted(3, None)),
            Timestamp(101),
        );
        assert_eq!(freed, None);
        assert_eq!(
            copy,
            Some(LockoutCopy {
                lockout: counted(3, None),
                at: Timestamp(101)
            })
        );
        // A step that judged nothing leaves the copy as it was.
        let (_, kept) = release(held, Some(older), ticket, None, Timestamp(101));
        assert_eq!(kept, Some(older));
        // Step A's hold lapses, step B takes the object, judges and stores 5 failures;
        // A's late release (it read 2, ended with 3) must not bring the count down.
        let (lapsed_by_b, b) = hold(held, Timestamp(100 + HOLD.0));
        let b = b.unwrap();
        let (after_b, copy_b) = release(
            lapsed_by_b,
            Some(older),
            b,
            Some(counted(5, Some(300))),
            Timestamp(112),
        );
        let (after_a, copy_a) = release(
            after_b,
            copy_b,
            ticket,
            Some(counted(3, None)),
            Timestamp(113),
        );
        assert_eq!((after_a, copy_a), (after_b, copy_b));
        assert_eq!(copy_a.unwrap().lockout.consecutive_failures, 5);
        // Nor while B still holds it.
        let (still_b, copy) = release(
            lapsed_by_b,
            Some(older),
            ticket,
            Some(counted(3, None)),
            Timestamp(113),
        );
        assert_eq!((still_b, copy), (Some(b), Some(older)));
        // A hold that lapsed with nobody taking the object since still matches: its
        // result is the newest there is.
        let (_, late) = release(
            held,
            Some(older),
            ticket,
            Some(counted(3, None)),
            Timestamp(130),
        );
        assert_eq!(late.unwrap().lockout.consecutive_failures, 3);
    }

    #[test]
    fn the_stricter_of_record_and_copy_is_judged() {
        let copy = LockoutCopy {
            lockout: counted(7, Some(500)),
            at: Timestamp(200),
        };
        // A stale record (another location has not seen the last writes) counts less.
        assert_eq!(merge(&Lockout::default(), Some(&copy)), copy.lockout);
        // Each part on its own: more failures, the later wait, disabled if either is.
        let record = Lockout {
            consecutive_failures: 9,
            locked_until: Some(Timestamp(400)),
            disabled: true,
            cleared_at: Some(Timestamp(50)),
            enabled_at: None,
        };
        assert_eq!(
            merge(&record, Some(&copy)),
            Lockout {
                consecutive_failures: 9,
                locked_until: Some(Timestamp(500)),
                disabled: true,
                cleared_at: Some(Timestamp(50)),
                enabled_at: None,
            }
        );
        assert_eq!(merge(&record, None), record);
        // A record cleared before the copy was written does not lower it…
        let cleared_before = Lockout {
            cleared_at: Some(Timestamp(199)),
            ..Lockout::default()
        };
        assert_eq!(merge(&cleared_before, Some(&copy)).consecutive_failures, 7);
        // …one cleared at or after it does: the object missed that clear.
        let cleared_after = Lockout {
            cleared_at: Some(Timestamp(200)),
            ..Lockout::default()
        };
        assert_eq!(merge(&cleared_after, Some(&copy)), cleared_after);
        assert!(
            merge(&cleared_after, Some(&copy))
                .check(Timestamp(201))
                .is_ok()
        );
    }

    #[test]
    fn a_clear_is_kept_briefly_and_a_count_for_a_day_or_its_wait() {
        let cleared = clear(None, false, Timestamp(300));
        assert!(cleared.lockout.is_clear());
        assert_eq!(cleared.lockout.cleared_at, Some(Timestamp(300)));
        assert_eq!(keep_until(&cleared), Timestamp(300));
        // A record cleared by the same request is not made stricter by the clear copy.
        let record = Lockout {
            cleared_at: Some(Timestamp(300)),
            ..Lockout::default()
        };
        assert_eq!(merge(&record, Some(&cleared)), record);
        let count = LockoutCopy {
            lockout: counted(4, Some(400)),
            at: Timestamp(300),
        };
        assert_eq!(keep_until(&count), Timestamp(300 + KEEP.0));
        let long = LockoutCopy {
            lockout: counted(9, Some(300 + KEEP.0 + 5)),
            at: Timestamp(300),
        };
        assert_eq!(keep_until(&long), Timestamp(300 + KEEP.0 + 5));
    }

    #[test]
    fn a_step_ends_with_the_record_it_writes_or_the_one_it_judged() {
        let judged = counted(2, None);
        assert_eq!(ended_with(&judged, "u1", &[]), judged);
        let mut user: crate::flow::UserRecord = serde_json::from_value(serde_json::json!({
            "id": "u1", "email": "a@example.com", "createdAt": 1
        }))
        .unwrap();
        user.lockout = counted(3, Some(60));
        let mut other = user.clone();
        other.id = "u2".into();
        other.lockout = counted(40, None);
        let effects = [
            Effect::UpdateUser(user.clone()),
            Effect::UpdateUser(other.clone()),
        ];
        assert_eq!(ended_with(&judged, "u1", &effects), user.lockout);
        assert!(!cleared_now(&user.lockout, Timestamp(5)));
        user.lockout.record_success(Timestamp(5));
        assert!(cleared_now(&user.lockout, Timestamp(5)));
        assert!(!cleared_now(&user.lockout, Timestamp(6)));
    }

    #[test]
    fn only_a_sign_in_password_is_held() {
        let password = FlowInput::SubmitPassword {
            password: crate::pii::Secret::new("p".into()),
        };
        let common = crate::flow::FlowCommon::new(
            crate::flow::FlowKind::SignIn,
            "a".into(),
            crate::pii::Pii::new("a@example.com".into()),
            Timestamp(1),
            600,
        );
        let state =
            FlowState::SignInExpectPassword(crate::flow::signin::SignInExpectPassword { common });
        assert!(needs_hold(&password, Some(&state)));
        assert!(!needs_hold(&password, None));
        let challenge = FlowInput::Challenge {
            challenge_types: None,
        };
        assert!(!needs_hold(&challenge, Some(&state)));
    }

    #[test]
    fn names_are_per_account_and_hide_the_id() {
        let key = CodeKey::new(vec![3; 32]).unwrap();
        let a = password_object_name(&key, "t", "user-a");
        assert!(a.starts_with("password/t/") && !a.contains("user-a"));
        assert_ne!(a, password_object_name(&key, "t", "user-b"));
        assert_eq!(busy_error().error_codes, vec![50_053]);
    }

    #[test]
    fn a_disable_survives_a_sign_ins_clear_but_not_a_re_enable() {
        let copy = LockoutCopy {
            lockout: Lockout {
                consecutive_failures: 2,
                disabled: true,
                ..Lockout::default()
            },
            at: Timestamp(100),
        };
        // Written after the disable by a location whose KV had not seen it: a sign-in's
        // clear, newer than the copy.
        let signed_in = Lockout {
            cleared_at: Some(Timestamp(150)),
            ..Lockout::default()
        };
        let merged = merge(&signed_in, Some(&copy));
        assert!(merged.disabled, "{merged:?}");
        assert_eq!(
            merged.consecutive_failures, 0,
            "the counts are the record's"
        );
        // A record written before the disable shows no newer clear: counts merge too.
        let older = merge(&counted(1, None), Some(&copy));
        assert!(older.disabled);
        assert_eq!(older.consecutive_failures, 2);
        // An administrator's re-enable at or after the disable lifts it; one before it
        // does not.
        let re_enabled = |at: u64| Lockout {
            cleared_at: Some(Timestamp(at)),
            enabled_at: Some(Timestamp(at)),
            ..Lockout::default()
        };
        assert!(!merge(&re_enabled(100), Some(&copy)).disabled);
        assert!(merge(&re_enabled(99), Some(&copy)).disabled);
        // The clears the object is told of.
        assert_eq!(clear(Some(copy), false, Timestamp(160)), copy);
        let lifted = clear(Some(copy), true, Timestamp(160));
        assert!(lifted.lockout.is_clear());
        assert_eq!(lifted.lockout.enabled_at, Some(Timestamp(160)));
        // A record read before a re-enable the object knows of is stale in its disable;
        // a sign-in's clear keeps that re-enable, and the object keeps it as long as a
        // disable.
        let stale_disabled = Lockout {
            disabled: true,
            ..Lockout::default()
        };
        assert!(!merge(&stale_disabled, Some(&lifted)).disabled);
        let signed_in_since = clear(Some(lifted), false, Timestamp(165));
        assert_eq!(signed_in_since.lockout.enabled_at, Some(Timestamp(160)));
        assert!(!merge(&stale_disabled, Some(&signed_in_since)).disabled);
        assert_eq!(keep_until(&lifted), Timestamp(160).plus(KEEP));
        // Disabled again since (through the object): the copy says so.
        let again = disable(Some(lifted), Timestamp(168));
        assert!(merge(&stale_disabled, Some(&again)).disabled);
        assert!(merge(&Lockout::default(), Some(&again)).disabled);
        let counted_copy = disable(None, Timestamp(170));
        assert!(counted_copy.lockout.disabled);
        assert_eq!(keep_until(&counted_copy), Timestamp(170).plus(KEEP));
    }
}
