//! Passwords: strength rules with reasons the native-auth API can return, and argon2id
//! hashing in the PHC string format.
//!
//! Rules (Entra's, plus NIST SP 800-63B's blocklist advice): 8 to 256 characters, at
//! least 3 classes of lowercase, uppercase, digit, other, and (as Windows counts them)
//! letters of scripts without case, no control characters,
//! and no banned term (a small built-in list, the tenant's own list, the local part
//! of the user's email and the whole address) after folding case and common look-alike
//! substitutions.
//!
//! Hashing: argon2id, version 0x13, 16-byte salt from the caller's entropy, 32-byte
//! output, parameters from [`HashParams`] (default m = 19 MiB, t = 2, p = 1, OWASP's
//! minimum). Stored as `$argon2id$v=19$m=..,t=..,p=..$salt$hash`, so parameters can be
//! raised later and old hashes still verify with the parameters they were made with.
//!
//! # Cost, and what it means on a Worker
//!
//! Measured on this project's 2-core build machine (`bench/benches/flow.rs`, and the
//! same `hash_password_into` built for `wasm32-unknown-unknown` and timed in Node 20):
//!
//! | m, t, p            | native (criterion) | wasm, opt-level 3 | wasm, opt-level z |
//! |--------------------|--------------------|-------------------|-------------------|
//! | 19456 KiB, 2, 1    | ~20–24 ms          | ~31–33 ms         | ~34–36 ms         |
//! | 4096 KiB, 1, 1     |                    | ~2.6 ms           | ~2.8 ms           |
//!
//! A Workers Free plan request has 10 ms of CPU, so OWASP's minimum (or any of its
//! equal-cost alternatives, e.g. m = 12 MiB, t = 3) does not fit: password steps
//! (sign-in, sign-up, reset; a reset verifies the old password too, so two runs) need
//! the Paid plan, whose CPU limit is far above this. On the Free plan, use
//! email-one-time-passcode accounts (no argon2 at all), or lower the cost through
//! `settings.passwords.hashing` knowingly: m = 4 MiB, t = 1 fits in ~3 ms but is about
//! 10× cheaper to attack than OWASP's minimum. Every other step costs microseconds.

use super::config::PasswordSettings;
use super::err::FlowError;
use crate::pii::Secret;
use crate::time::Timestamp;
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// Why a new password is refused, named as the native-auth `suberror` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordProblem {
    /// Fewer than the minimum number of characters.
    PasswordTooShort,
    /// More than 256 characters.
    PasswordTooLong,
    /// Fewer than 3 character classes.
    PasswordTooWeak,
    /// Contains a banned term, the user's email name or the whole address.
    PasswordBanned,
    /// Equal to the current password.
    PasswordRecentlyUsed,
    /// Contains characters a password may not have (control characters).
    PasswordIsInvalid,
}

impl PasswordProblem {
    /// The native-auth `suberror` string.
    pub fn suberror(self) -> &'static str {
        match self {
            PasswordProblem::PasswordTooShort => "password_too_short",
            PasswordProblem::PasswordTooLong => "password_too_long",
            PasswordProblem::PasswordTooWeak => "password_too_weak",
            PasswordProblem::PasswordBanned => "password_banned",
            PasswordProblem::PasswordRecentlyUsed => "password_recently_used",
            PasswordProblem::PasswordIsInvalid => "password_is_invalid",
        }
    }
}

/// The shortest password accepted.
pub const MIN_LENGTH: usize = 8;
/// The longest password accepted (also bounds the hashing input).
pub const MAX_LENGTH: usize = 256;

/// Terms no password may contain (after folding), kept short on purpose: the tenant adds
/// its own with `passwords.bannedPasswords`.
const BANNED: &[&str] = &[
    "password",
    "qwerty",
    "letmein",
    "welcome",
    "iloveyou",
    "monkey",
    "dragon",
    "football",
    "baseball",
    "sunshine",
    "princess",
    "trustno1",
    "abc123",
    "123456",
    "111111",
    "000000",
    "changeme",
    "secret",
    "master",
    "vestibule",
];

/// Folds case and look-alike characters so `P@ssw0rd` matches `password`.
fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            '0' => 'o',
            '1' | '!' => 'i',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            other => other,
        })
        .collect()
}

/// Checks a new password against the rules, returning the first reason it fails.
pub fn check_strength(
    password: &str,
    email: &str,
    extra_banned: &[String],
) -> Result<(), PasswordProblem> {
    if password.chars().any(char::is_control) {
        return Err(PasswordProblem::PasswordIsInvalid);
    }
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(PasswordProblem::PasswordTooShort);
    }
    if length > MAX_LENGTH {
        return Err(PasswordProblem::PasswordTooLong);
    }
    // A letter of a script without case (Chinese, Japanese, Arabic, Hebrew, Thai, ...) is
    // a class of its own, as in Windows' complexity rule: counted as "other", a password
    // written in such a script could reach three classes only with Latin letters added.
    let caseless = |c: char| c.is_alphabetic() && !c.is_lowercase() && !c.is_uppercase();
    let classes = [
        password.chars().any(char::is_lowercase),
        password.chars().any(char::is_uppercase),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(caseless),
        password
            .chars()
            .any(|c| !(c.is_lowercase() || c.is_uppercase() || c.is_ascii_digit() || caseless(c))),
    ];
    if classes.iter().filter(|&&present| present).count() < 3 {
        return Err(PasswordProblem::PasswordTooWeak);
    }
    let folded = fold(password);
    let email_name = email.split('@').next().unwrap_or_default();
    // The local part only from 4 characters on (a shorter one is too common a string to
    // ban inside passwords), but the whole address always: with a short local part it
    // passes the class rule once it has a capital and a digit (`Al1@example.com`), and
    // whoever knows the address would know the password (NIST SP 800-63B: the username).
    let personal = (email_name.chars().count() >= 4).then_some(email_name);
    let whole_email = email.contains('@').then_some(email);
    let banned = BANNED
        .iter()
        .copied()
        .chain(extra_banned.iter().map(String::as_str))
        .chain(personal)
        .chain(whole_email)
        .map(fold)
        .any(|term| !term.is_empty() && folded.contains(&term));
    if banned {
        return Err(PasswordProblem::PasswordBanned);
    }
    Ok(())
}

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HashParams {
    /// Memory in KiB (default 19456 = 19 MiB).
    pub memory_kib: u32,
    /// Passes over memory (default 2).
    pub iterations: u32,
    /// Lanes (default 1; a Worker has one thread).
    pub parallelism: u32,
}

impl Default for HashParams {
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl HashParams {
    /// The largest memory cost accepted, in config or in a stored hash (64 MiB): a
    /// Worker has 128 MiB, and a corrupt record must not exhaust it.
    pub const MAX_MEMORY_KIB: u32 = 64 * 1024;
    /// The largest iteration count accepted.
    pub const MAX_ITERATIONS: u32 = 8;
    /// The largest parallelism accepted.
    pub const MAX_PARALLELISM: u32 = 4;

    /// Whether the parameters are within the bounds above and argon2's own minimums.
    pub fn is_within_bounds(&self) -> bool {
        (1..=Self::MAX_PARALLELISM).contains(&self.parallelism)
            && (1..=Self::MAX_ITERATIONS).contains(&self.iterations)
            && self.memory_kib >= 8 * self.parallelism
            && self.memory_kib <= Self::MAX_MEMORY_KIB
    }

    fn argon2(&self) -> Result<Argon2<'static>, FlowError> {
        if !self.is_within_bounds() {
            return Err(FlowError::CorruptPasswordHash);
        }
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32))
            .map_err(|_| FlowError::CorruptPasswordHash)?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// Hashes a password with a caller-supplied salt; returns the PHC string.
pub fn hash(
    password: &str,
    salt: &[u8; 16],
    params: &HashParams,
) -> Result<Secret<String>, FlowError> {
    let mut out = [0u8; 32];
    params
        .argon2()?
        .hash_password_into(password.as_bytes(), salt, &mut out)
        .map_err(|_| FlowError::CorruptPasswordHash)?;
    Ok(Secret::new(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.memory_kib,
        params.iterations,
        params.parallelism,
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(out)
    )))
}

/// Parses a PHC string made by [`hash`]: parameters, salt and expected output.
fn parse(phc: &str) -> Option<(HashParams, Vec<u8>, Vec<u8>)> {
    let mut parts = phc.split('$');
    let (Some(""), Some("argon2id"), Some("v=19"), Some(cost), Some(salt), Some(out), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let mut params = HashParams::default();
    let mut seen = 0;
    for kv in cost.split(',') {
        let (k, v) = kv.split_once('=')?;
        let v: u32 = v.parse().ok()?;
        match k {
            "m" => params.memory_kib = v,
            "t" => params.iterations = v,
            "p" => params.parallelism = v,
            _ => return None,
        }
        seen += 1;
    }
    let salt = STANDARD_NO_PAD.decode(salt).ok()?;
    let out = STANDARD_NO_PAD.decode(out).ok()?;
    let ok = seen == 3 && params.is_within_bounds() && (8..=64).contains(&salt.len());
    (ok && out.len() == 32).then_some((params, salt, out))
}

/// Whether `password` matches the stored PHC string, compared in constant time.
pub fn verify(password: &str, phc: &str) -> Result<bool, FlowError> {
    if password.chars().count() > MAX_LENGTH {
        return Ok(false);
    }
    let (params, salt, expected) = parse(phc).ok_or(FlowError::CorruptPasswordHash)?;
    let mut out = [0u8; 32];
    params
        .argon2()?
        .hash_password_into(password.as_bytes(), &salt, &mut out)
        .map_err(|_| FlowError::CorruptPasswordHash)?;
    Ok(bool::from(out.as_slice().ct_eq(expected.as_slice())))
}

/// Proof that a password was verified, or set after passing the rules, in this flow.
/// Only [`prove`] and [`new_password`] make one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordProof {
    at: Timestamp,
}

impl PasswordProof {
    /// When.
    pub fn at(&self) -> Timestamp {
        self.at
    }
}

/// A new password that passed the rules, hashed, with its proof.
#[derive(Debug, Clone)]
pub struct NewPassword {
    /// The PHC string to store.
    pub hash: Secret<String>,
    /// The proof to record in the flow.
    pub proof: PasswordProof,
}

/// Verifies a password against the stored hash; a proof if it matches.
pub(crate) fn prove(
    password: &str,
    phc: &str,
    now: Timestamp,
) -> Result<Option<PasswordProof>, FlowError> {
    Ok(verify(password, phc)?.then_some(PasswordProof { at: now }))
}

/// Checks a new password against the rules (and against `current`, if any), then
/// hashes it with `salt`.
pub(crate) fn new_password(
    password: &str,
    email: &str,
    settings: &PasswordSettings,
    current: Option<&str>,
    salt: &[u8; 16],
    now: Timestamp,
) -> Result<Result<NewPassword, PasswordProblem>, FlowError> {
    if let Err(problem) = check_strength(password, email, &settings.banned_passwords) {
        return Ok(Err(problem));
    }
    if let Some(current) = current
        && verify(password, current).unwrap_or(false)
    {
        return Ok(Err(PasswordProblem::PasswordRecentlyUsed));
    }
    Ok(Ok(NewPassword {
        hash: hash(password, salt, &settings.hashing)?,
        proof: PasswordProof { at: now },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: HashParams = HashParams {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn each_rule_has_its_own_reason() {
        let check = |p: &str| check_strength(p, "alice.smith@example.com", &["contoso".into()]);
        assert_eq!(check("Ab1!"), Err(PasswordProblem::PasswordTooShort));
        assert_eq!(
            check(&"Ab1!".repeat(65)),
            Err(PasswordProblem::PasswordTooLong)
        );
        assert_eq!(
            check("alllowercase1"),
            Err(PasswordProblem::PasswordTooWeak)
        );
        assert_eq!(check("P@ssw0rd-2024"), Err(PasswordProblem::PasswordBanned));
        assert_eq!(
            check("Contoso-Rocks9"),
            Err(PasswordProblem::PasswordBanned)
        );
        assert_eq!(
            check("Alice.Smith-77"),
            Err(PasswordProblem::PasswordBanned)
        );
        assert_eq!(
            check("Tab\there-99A"),
            Err(PasswordProblem::PasswordIsInvalid)
        );
        assert_eq!(check("Correct-Horse-42"), Ok(()));
        assert_eq!(check("çava-Très-bien"), Ok(()), "unicode letters count");
    }

    #[test]
    fn hash_verifies_and_rejects() {
        let phc = hash("Correct-Horse-42", &[9u8; 16], &CHEAP).unwrap();
        assert!(phc.expose().starts_with("$argon2id$v=19$m=8,t=1,p=1$"));
        assert_eq!(verify("Correct-Horse-42", phc.expose()), Ok(true));
        assert_eq!(verify("Correct-Horse-43", phc.expose()), Ok(false));
    }

    #[test]
    fn corrupt_or_oversized_hashes_are_refused_without_work() {
        for bad in [
            "",
            "$argon2i$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "$argon2id$v=19$m=4194304,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "$argon2id$v=19$m=8,t=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert_eq!(
                verify("x", bad),
                Err(FlowError::CorruptPasswordHash),
                "{bad}"
            );
        }
    }
}
