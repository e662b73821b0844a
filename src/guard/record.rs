//! A user record written at one location must not undo what another location wrote a
//! moment before.
//!
//! User records live in KV and are written whole: a step reads the record, changes what
//! it is about (a failure count, a new phone, a new password) and writes the whole record
//! back. KV shows a write everywhere only after up to a minute, so a record read at
//! another location meanwhile is older, and writing it back there undid the write: a
//! password reset after a leak brought the leaked password back, a phone an
//! administrator removed came back, a deleted account came back.
//!
//! So every record write goes through the account's guard object (the one that judges
//! its passwords, [`super::password`]), which keeps the last record written for
//! [`KEEP`]. A write carries the record its step read (`base`) and the record it made of
//! it (`ours`); [`write`] keeps what the step changed and takes every field it left alone
//! from the object's copy, which is at least as new as anything KV shows. The two agree
//! whenever KV was current, so the merge changes nothing then. When two locations change
//! the same field, the later write wins, as it would with one KV.
//!
//! The object also answers the copy with a password step's hold, so a password is judged
//! against the newest hash, not the one a stale KV still shows ([`freshest`]). A deletion
//! leaves a tombstone for [`KEEP`], and a write to a deleted account is refused.
//!
//! KV puts travel apart from the object's answers, so a writer asks again after its put
//! whether a later write or a deletion was answered meanwhile, and stores that over its
//! own ([`after_put`]); a step writing one account twice merges the second record
//! against the first as it made it ([`StepWrites`]).
use crate::flow::user::{StrongMethod, UserRecord};
use crate::time::{Seconds, Timestamp};
use serde::{Deserialize, Serialize};

/// How long the object keeps the last record written: far longer than KV takes to show a
/// write everywhere (about a minute), after which every location reads what the copy
/// says, and bounded so accounts nobody touches cost no storage.
pub const KEEP: Seconds = Seconds(3_600);

/// A user record on the wire and in the object's storage.
///
/// `UserRecord` has no `==` (its password hash is a [`crate::pii::Secret`]); the guard's
/// wire types compare by value in tests and in change checks, so this compares the
/// serialized form. No secret is checked this way.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Record(pub UserRecord);

impl PartialEq for Record {
    fn eq(&self, other: &Self) -> bool {
        serde_json::to_string(&self.0).ok() == serde_json::to_string(&other.0).ok()
    }
}

impl Eq for Record {}

/// The last record written for the account, or its deletion, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordCopy {
    /// The record as written; `None` once the account was deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<Record>,
    /// When it was written (the writer's clock).
    pub at: Timestamp,
    /// How many writes and deletions the object has taken, this one included: a writer
    /// tells by it, after its KV put, whether a later one came in meanwhile
    /// ([`after_put`]). Absent (0) in copies stored before it was kept.
    #[serde(default)]
    pub version: u64,
}

impl RecordCopy {
    /// Whether the copy still counts: KV may not show it everywhere yet.
    pub fn current(&self, now: Timestamp) -> bool {
        now < self.at.plus(KEEP)
    }

    /// Until when the object keeps it.
    pub fn keep_until(&self) -> Timestamp {
        self.at.plus(KEEP)
    }
}

/// Merges a step's record into the object's copy: the new copy, and the record to store
/// in KV (`None`: the account was deleted since the step read it; store nothing).
///
/// `base` is the record the step read; without it (a writer that read nothing) the
/// step's record is taken whole.
pub fn write(
    copy: Option<RecordCopy>,
    base: Option<&UserRecord>,
    ours: UserRecord,
    now: Timestamp,
) -> (Option<RecordCopy>, Option<Record>) {
    let theirs = match copy.as_ref().filter(|c| c.current(now)) {
        Some(RecordCopy { record: None, .. }) => return (copy, None),
        Some(RecordCopy {
            record: Some(Record(theirs)),
            ..
        }) => Some(theirs),
        None => None,
    };
    let merged = match (theirs, base) {
        (Some(theirs), Some(base)) => merge(base, ours, theirs),
        _ => ours,
    };
    let record = Record(merged);
    let copy = RecordCopy {
        record: Some(record.clone()),
        at: now,
        version: next_version(copy.as_ref()),
    };
    (Some(copy), Some(record))
}

/// The account was deleted: remember it, so a stale record is not written back.
pub fn delete(copy: Option<&RecordCopy>, now: Timestamp) -> RecordCopy {
    RecordCopy {
        record: None,
        at: now,
        version: next_version(copy),
    }
}

fn next_version(copy: Option<&RecordCopy>) -> u64 {
    copy.map_or(0, |c| c.version).saturating_add(1)
}

/// A writer stored the record the object answered as `version` in KV: `None` when that
/// is still the last one written, else the copy written since (its record, or the
/// deletion), which the writer stores over its own.
///
/// The object answers writes one at a time, but their KV puts (and an administrator's
/// KV delete) travel separately and may land in another order: a put answered first and
/// landing last would leave KV with the older record, or bring a deleted account back,
/// and once the copy is no longer kept nothing would correct it.
pub fn after_put(copy: Option<&RecordCopy>, version: u64, now: Timestamp) -> Option<RecordCopy> {
    copy.filter(|c| c.current(now) && c.version != version)
        .cloned()
}

/// The record a step should judge: the object's copy when it still counts and KV has
/// the account at all, else what KV shows; none when the copy says it was deleted. Every
/// update of an existing account goes through the object, so a current copy is at least
/// as new as the record KV shows.
pub fn freshest(
    kv: Option<UserRecord>,
    copy: Option<&RecordCopy>,
    now: Timestamp,
) -> Option<UserRecord> {
    let kv = kv?;
    match copy.filter(|c| c.current(now)) {
        Some(RecordCopy { record: None, .. }) => None,
        Some(RecordCopy {
            record: Some(Record(copy)),
            ..
        }) if copy.id == kv.id => Some(UserRecord {
            // The lockout has its own authority ([`super::password::merge`]).
            lockout: kv.lockout,
            ..copy.clone()
        }),
        _ => Some(kv),
    }
}

/// The records one step writes, each with the base it is merged against ([`write`]).
///
/// A step may write one account twice (a required password change, then the sign-in's
/// clear of the lockout), and it made its second record from its first. So the second
/// write's base is the first record as the step made it, not as the object answered it:
/// the answer also holds what other locations wrote, and against it the step's older
/// values of those fields read as changes of its own and were written back over them (a
/// phone removed elsewhere came back, a rename was undone).
pub struct StepWrites {
    last: Option<UserRecord>,
}

impl StepWrites {
    /// A step that read `read` (none: it read no account).
    pub fn new(read: Option<&UserRecord>) -> Self {
        StepWrites {
            last: read.cloned(),
        }
    }

    /// The base to write `ours` with: this step's last record of that account.
    pub fn base_for(&self, ours: &UserRecord) -> Option<&UserRecord> {
        self.last.as_ref().filter(|b| b.id == ours.id)
    }

    /// `sent` (the step's record, before the object merged it) was written.
    pub fn written(&mut self, sent: UserRecord) {
        self.last = Some(sent);
    }
}

/// Three-way merge: what `ours` changed from `base` wins; the rest comes from `theirs`.
/// The lockout is left as `ours` has it: it is merged with its own rules
/// ([`super::password::merge`]).
fn merge(base: &UserRecord, ours: UserRecord, theirs: &UserRecord) -> UserRecord {
    let password_changed = ours.password_hash.as_ref().map(|h| h.expose())
        != base.password_hash.as_ref().map(|h| h.expose())
        || ours.password_changed_at != base.password_changed_at;
    let (password_hash, password_changed_at) = if password_changed {
        (ours.password_hash, ours.password_changed_at)
    } else {
        (theirs.password_hash.clone(), theirs.password_changed_at)
    };
    let strong_methods = merge_methods(&base.strong_methods, &ours.strong_methods, theirs);
    UserRecord {
        email: pick(&base.email, ours.email, &theirs.email),
        display_name: pick(&base.display_name, ours.display_name, &theirs.display_name),
        attributes: pick(&base.attributes, ours.attributes, &theirs.attributes),
        groups: pick(&base.groups, ours.groups, &theirs.groups),
        password_hash,
        password_changed_at,
        strong_methods,
        id: ours.id,
        lockout: ours.lockout,
        created_at: ours.created_at,
    }
}

fn pick<T: PartialEq + Clone>(base: &T, ours: T, theirs: &T) -> T {
    if &ours != base { ours } else { theirs.clone() }
}

/// Methods: `theirs`, without the ones this step removed, with the ones it added (by id;
/// a method for a destination `theirs` already has is not added twice).
fn merge_methods(
    base: &[StrongMethod],
    ours: &[StrongMethod],
    theirs: &UserRecord,
) -> Vec<StrongMethod> {
    let removed =
        |m: &StrongMethod| base.iter().any(|b| b.id == m.id) && !ours.iter().any(|o| o.id == m.id);
    let mut out: Vec<StrongMethod> = theirs
        .strong_methods
        .iter()
        .filter(|m| !removed(m))
        .cloned()
        .collect();
    for added in ours.iter().filter(|o| !base.iter().any(|b| b.id == o.id)) {
        let known = out
            .iter()
            .any(|m| m.id == added.id || (m.channel == added.channel && m.target == added.target));
        if !known {
            out.push(added.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Channel;
    use crate::pii::{Pii, Secret};

    fn user() -> UserRecord {
        serde_json::from_str(
            r#"{"id":"u-1","email":"zoe@example.com","passwordHash":"H1","displayName":"Zoe",
                "createdAt":10,"passwordChangedAt":10}"#,
        )
        .unwrap()
    }

    fn phone(id: &str, number: &str) -> StrongMethod {
        StrongMethod {
            id: id.into(),
            channel: Channel::Sms,
            target: Pii::new(number.into()),
            registered_at: Timestamp(20),
        }
    }

    fn hash(u: &UserRecord) -> Option<&str> {
        u.password_hash.as_ref().map(|h| h.expose().as_str())
    }

    fn stored(w: Option<Record>) -> UserRecord {
        w.expect("stored").0
    }

    /// Location A resets the password; location B, whose KV still shows the old record,
    /// counts a failure and writes its record back.
    #[test]
    fn a_stale_write_back_keeps_a_password_reset_made_elsewhere() {
        let old = user();
        let mut reset = old.clone();
        reset.password_hash = Some(Secret::new("H2".into()));
        reset.password_changed_at = Some(Timestamp(100));
        let (copy, w) = write(None, Some(&old), reset, Timestamp(100));
        assert_eq!(hash(&stored(w)), Some("H2"));
        let mut failed = old.clone();
        failed.lockout.consecutive_failures = 1;
        let (copy, w) = write(copy, Some(&old), failed, Timestamp(130));
        let written = stored(w);
        assert_eq!(hash(&written), Some("H2"), "the reset holds");
        assert_eq!(written.password_changed_at, Some(Timestamp(100)));
        assert_eq!(
            written.lockout.consecutive_failures, 1,
            "the failure counts"
        );
        assert_eq!(copy.unwrap().at, Timestamp(130));
    }

    #[test]
    fn methods_removed_or_added_elsewhere_are_kept_and_this_steps_change_too() {
        let mut base = user();
        base.strong_methods = vec![phone("p1", "+15550001"), phone("p2", "+15550002")];
        // Elsewhere: an administrator removed p1 and the user added p3.
        let mut theirs = base.clone();
        theirs.strong_methods = vec![phone("p2", "+15550002"), phone("p3", "+15550003")];
        let (copy, _) = write(None, Some(&base), theirs, Timestamp(100));
        // Here, from the stale record: this step removes p2 and adds p4, and p3's number
        // again under a new id.
        let mut ours = base.clone();
        ours.strong_methods = vec![
            phone("p1", "+15550001"),
            phone("p4", "+15550004"),
            phone("p5", "+15550003"),
        ];
        let (_, w) = write(copy, Some(&base), ours, Timestamp(110));
        let ids: Vec<String> = stored(w).strong_methods.into_iter().map(|m| m.id).collect();
        assert_eq!(ids, ["p3", "p4"]);
    }

    #[test]
    fn what_this_step_changed_wins_and_the_rest_comes_from_the_copy() {
        let base = user();
        let mut theirs = base.clone();
        theirs.display_name = Some(Pii::new("Zoë".into()));
        theirs.groups = vec!["g-1".into()];
        let (copy, _) = write(None, Some(&base), theirs, Timestamp(100));
        let mut ours = base.clone();
        ours.groups = vec!["g-2".into()];
        let (_, w) = write(copy, Some(&base), ours, Timestamp(101));
        let written = stored(w);
        assert_eq!(
            written.display_name.as_ref().map(|n| n.expose().as_str()),
            Some("Zoë")
        );
        assert_eq!(written.groups, ["g-2"]);
    }

    #[test]
    fn a_copy_older_than_keep_or_a_write_without_base_changes_nothing() {
        let base = user();
        let mut theirs = base.clone();
        theirs.display_name = Some(Pii::new("Elsewhere".into()));
        let (copy, _) = write(None, Some(&base), theirs, Timestamp(100));
        let mut ours = base.clone();
        ours.lockout.consecutive_failures = 2;
        let late = Timestamp(100 + KEEP.0);
        let (_, w) = write(copy.clone(), Some(&base), ours.clone(), late);
        assert_eq!(stored(w).display_name, base.display_name);
        let (_, w) = write(copy, None, ours, Timestamp(101));
        assert_eq!(stored(w).display_name, base.display_name);
    }

    #[test]
    fn a_deleted_account_is_not_written_back_while_the_tombstone_counts() {
        let copy = Some(delete(None, Timestamp(100)));
        let (kept, w) = write(copy.clone(), Some(&user()), user(), Timestamp(150));
        assert_eq!(w, None);
        assert_eq!(kept, copy, "the tombstone stays as it was");
        let (_, w) = write(copy, Some(&user()), user(), Timestamp(100 + KEEP.0));
        assert!(w.is_some());
    }

    #[test]
    fn a_password_is_judged_against_the_newest_record_with_the_kv_lockout() {
        let old = user();
        let mut reset = old.clone();
        reset.password_hash = Some(Secret::new("H2".into()));
        let (copy, _) = write(None, Some(&old), reset, Timestamp(100));
        let mut kv = old.clone();
        kv.lockout.consecutive_failures = 3;
        let judged = freshest(Some(kv), copy.as_ref(), Timestamp(110)).unwrap();
        assert_eq!(hash(&judged), Some("H2"));
        assert_eq!(judged.lockout.consecutive_failures, 3);
        // KV without the account (deleted, or not there yet): nothing to judge.
        assert!(freshest(None, copy.as_ref(), Timestamp(110)).is_none());
        // An old copy is not used.
        let judged = freshest(Some(old.clone()), copy.as_ref(), Timestamp(100 + KEEP.0));
        assert_eq!(judged.as_ref().and_then(hash), Some("H1"));
        // A deleted account is not judged, whatever KV still shows.
        let gone = delete(None, Timestamp(120));
        assert!(freshest(Some(old), Some(&gone), Timestamp(130)).is_none());
    }

    /// A step at a location whose KV still shows the record from before an
    /// administrator's rename and phone removal writes the account twice (a required
    /// password change, then the sign-in's clear of its failure count): neither write
    /// brings back what the administrator changed.
    #[test]
    fn a_second_write_in_one_step_does_not_undo_what_the_first_merged_in() {
        let mut stale = user();
        stale.strong_methods = vec![phone("p1", "+15550001")];
        stale.lockout.consecutive_failures = 1;
        let mut theirs = stale.clone();
        theirs.strong_methods.clear();
        theirs.display_name = Some(Pii::new("Renamed".into()));
        let (copy, _) = write(None, Some(&stale), theirs, Timestamp(100));

        let mut writes = StepWrites::new(Some(&stale));
        let mut changed = stale.clone();
        changed.password_hash = Some(Secret::new("H3".into()));
        changed.password_changed_at = Some(Timestamp(110));
        let (copy, w) = write(
            copy,
            writes.base_for(&changed),
            changed.clone(),
            Timestamp(110),
        );
        let first = stored(w);
        writes.written(changed.clone());
        let mut cleared = changed;
        cleared.lockout.consecutive_failures = 0;
        let (_, w) = write(
            copy,
            writes.base_for(&cleared),
            cleared.clone(),
            Timestamp(110),
        );
        let second = stored(w);
        for written in [&first, &second] {
            assert_eq!(hash(written), Some("H3"), "the change holds");
            assert!(written.strong_methods.is_empty(), "the phone stays removed");
            assert_eq!(
                written.display_name.as_ref().map(|n| n.expose().as_str()),
                Some("Renamed"),
                "the rename holds"
            );
        }
        assert_eq!(second.lockout.consecutive_failures, 0, "the clear counts");
        // Another account's record is written without a base.
        let mut other = user();
        other.id = "u-2".into();
        assert!(writes.base_for(&other).is_none());
    }

    /// Two writes answered in one order whose KV puts land in the other: the writer
    /// answered first learns, after its put, of the later record and stores that.
    #[test]
    fn a_writer_whose_put_may_have_landed_last_learns_the_later_record() {
        let base = user();
        let mut reset = base.clone();
        reset.password_hash = Some(Secret::new("H2".into()));
        let (copy, _) = write(None, Some(&base), reset, Timestamp(100));
        let first = copy.as_ref().unwrap().version;
        let mut renamed = base.clone();
        renamed.display_name = Some(Pii::new("Renamed".into()));
        let (copy, _) = write(copy, Some(&base), renamed, Timestamp(100));
        let second = copy.as_ref().unwrap().version;
        assert!(second > first);
        let later = after_put(copy.as_ref(), first, Timestamp(101)).expect("a later write");
        assert_eq!(later.version, second);
        let record = later.record.expect("a record").0;
        assert_eq!(hash(&record), Some("H2"));
        assert_eq!(
            record.display_name.as_ref().map(|n| n.expose().as_str()),
            Some("Renamed")
        );
        assert_eq!(after_put(copy.as_ref(), second, Timestamp(101)), None);
        // Past KEEP every location reads KV as it is: nothing to say.
        assert_eq!(
            after_put(copy.as_ref(), first, Timestamp(100 + KEEP.0)),
            None
        );
    }

    /// A write answered just before an administrator's deletion, whose put lands after
    /// the KV delete, would bring the account back once the tombstone is gone.
    #[test]
    fn a_write_answered_before_a_deletion_learns_of_it_after_its_put() {
        let (copy, _) = write(None, Some(&user()), user(), Timestamp(100));
        let written = copy.as_ref().unwrap().version;
        let gone = delete(copy.as_ref(), Timestamp(101));
        let later = after_put(Some(&gone), written, Timestamp(102)).expect("the deletion");
        assert_eq!(later.record, None);
        assert_eq!(after_put(Some(&gone), gone.version, Timestamp(102)), None);
    }

    #[test]
    fn the_copy_round_trips_through_storage() {
        let (copy, _) = write(None, None, user(), Timestamp(100));
        let text = serde_json::to_string(&copy).unwrap();
        assert_eq!(
            serde_json::from_str::<Option<RecordCopy>>(&text).unwrap(),
            copy
        );
        let gone = serde_json::to_string(&delete(copy.as_ref(), Timestamp(5))).unwrap();
        assert_eq!(gone, r#"{"at":5,"version":2}"#);
        // A copy stored before versions were kept reads as version 0.
        let old: RecordCopy = serde_json::from_str(r#"{"at":5}"#).unwrap();
        assert_eq!(old.version, 0);
    }
}
