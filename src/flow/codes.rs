//! One-time codes (NIST SP 800-63B out-of-band secrets, OWASP MFA cheat sheet).
//!
//! - 6 to 8 digits drawn from caller-supplied CSPRNG bytes by rejection sampling;
//! - kept in state only as an HMAC-SHA256 digest keyed with a server secret
//!   ([`CodeKey`]) and bound to purpose, channel, destination and issue time, so a leaked
//!   state reveals nothing and a digest cannot be replayed for another purpose;
//! - compared in constant time (`subtle`);
//! - valid until `expires_at` (default 10 minutes), for at most `maxAttempts` (≤ 5)
//!   tries, once: the state that holds it is replaced on success, and a resend replaces
//!   the digest, which voids the previous code.

use super::channel::Channel;
use super::config::CodeSettings;
use super::entropy::Entropy;
use super::err::FlowError;
use super::hex;
use crate::pii::{Pii, Secret};
use crate::time::{Seconds, Timestamp};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The server secret that keys code digests (a Worker secret). At least 32 bytes.
#[derive(Debug, Clone)]
pub struct CodeKey(Secret<Vec<u8>>);

impl CodeKey {
    /// The shortest key accepted.
    pub const MIN_LEN: usize = 32;

    /// Wraps the key bytes, refusing keys too short to be secret.
    pub fn new(bytes: Vec<u8>) -> Result<Self, FlowError> {
        if bytes.len() < Self::MIN_LEN {
            return Err(FlowError::KeyTooShort);
        }
        Ok(Self(Secret::new(bytes)))
    }

    /// HMAC-SHA256 of `value` under this key, separated by `domain`. The guard names its
    /// velocity counters with it: a plain hash of a phone number is reversed by trying
    /// the ~10^10 numbers of a country, a keyed one is not.
    pub fn keyed_hash(&self, domain: &str, value: &str) -> [u8; 32] {
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(self.0.expose()) else {
            return [0u8; 32];
        };
        for part in [domain.as_bytes(), value.as_bytes()] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

/// What a code is for; part of the digest so a code for one step cannot pass another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CodePurpose {
    /// Proving the email address at sign-up.
    SignUp,
    /// Email one-time passcode as the first factor.
    SignIn,
    /// Proving the email address before a password reset.
    PasswordReset,
    /// A second factor.
    Mfa,
    /// Proving a new strong method while registering it.
    Registration,
}

impl CodePurpose {
    fn as_str(self) -> &'static str {
        match self {
            CodePurpose::SignUp => "signUp",
            CodePurpose::SignIn => "signIn",
            CodePurpose::PasswordReset => "passwordReset",
            CodePurpose::Mfa => "mfa",
            CodePurpose::Registration => "registration",
        }
    }
}

/// A code that was sent and not yet used: its digest, never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PendingCode {
    channel: Channel,
    destination: Pii<String>,
    purpose: CodePurpose,
    digest: String,
    issued_at: Timestamp,
    expires_at: Timestamp,
    attempts: u8,
    sends: u8,
    /// The send of this code timed out: the delivery service may have passed it on. The
    /// next resend answers with this code instead of sending another, so no second code
    /// goes out and the one that may have arrived keeps working. Absent in states stored
    /// before it existed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    unconfirmed: bool,
}

/// The result of checking a submitted code.
#[derive(Debug)]
pub(crate) enum CodeCheck {
    /// The code matches, in time, within the attempt cap.
    Valid(VerifiedCode),
    /// The code does not match; the attempt was counted.
    Wrong {
        /// Tries left for this code.
        attempts_left: u8,
    },
    /// The code is past its lifetime.
    Expired,
    /// The attempt cap was reached earlier; the code is void.
    Exhausted,
}

/// Proof that a code sent to `destination` was entered correctly. Only
/// [`PendingCode::check`] can make one, which is what lets the state machine record a
/// verified method only after a real verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCode {
    channel: Channel,
    destination: Pii<String>,
    at: Timestamp,
}

impl VerifiedCode {
    /// The channel the code went out on.
    pub fn channel(&self) -> Channel {
        self.channel
    }

    /// The address or number the code was sent to.
    pub fn destination(&self) -> &Pii<String> {
        &self.destination
    }

    /// When it was verified.
    pub fn at(&self) -> Timestamp {
        self.at
    }
}

/// A freshly issued code: the pending record for the state, and the plaintext for the
/// `SendCode` effect (it exists nowhere else).
pub(crate) struct IssuedCode {
    pub(crate) pending: PendingCode,
    pub(crate) plaintext: Secret<String>,
}

/// Draws a new code and its pending record. `sends` is how many codes this step has sent
/// before (a resend keeps counting).
#[allow(
    clippy::too_many_arguments,
    reason = "each value is a distinct input of a code"
)]
pub(crate) fn issue(
    key: &CodeKey,
    entropy: &mut Entropy,
    settings: &CodeSettings,
    channel: Channel,
    destination: Pii<String>,
    purpose: CodePurpose,
    now: Timestamp,
    sends: u8,
) -> Result<IssuedCode, FlowError> {
    let length = settings.length.clamp(6, 8);
    let bound = 10u32.pow(u32::from(length));
    let value = entropy.below(bound)?;
    let plaintext = format!("{value:0width$}", width = usize::from(length));
    let digest = digest(key, purpose, channel, destination.expose(), now, &plaintext);
    Ok(IssuedCode {
        pending: PendingCode {
            channel,
            destination,
            purpose,
            digest: hex::encode(&digest),
            issued_at: now,
            expires_at: now.plus(Seconds(settings.lifetime_seconds)),
            attempts: 0,
            sends: sends.saturating_add(1),
            unconfirmed: false,
        },
        plaintext: Secret::new(plaintext),
    })
}

fn digest(
    key: &CodeKey,
    purpose: CodePurpose,
    channel: Channel,
    destination: &str,
    issued_at: Timestamp,
    code: &str,
) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail; fall back to an all-zero
    // digest that no code maps to only to keep the function total.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key.0.expose()) else {
        return [0u8; 32];
    };
    for part in [
        b"vestibule.otp.v1".as_slice(),
        purpose.as_str().as_bytes(),
        channel.as_str().as_bytes(),
        destination.as_bytes(),
        &issued_at.0.to_be_bytes(),
        code.as_bytes(),
    ] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

impl PendingCode {
    /// The channel the code went out on.
    pub fn channel(&self) -> Channel {
        self.channel
    }

    /// Where it was sent.
    pub fn destination(&self) -> &Pii<String> {
        &self.destination
    }

    /// What it is for.
    pub fn purpose(&self) -> CodePurpose {
        self.purpose
    }

    /// When it stops working.
    pub fn expires_at(&self) -> Timestamp {
        self.expires_at
    }

    /// Failed tries so far.
    pub fn attempts(&self) -> u8 {
        self.attempts
    }

    /// Codes sent by this step so far, this one included.
    pub fn sends(&self) -> u8 {
        self.sends
    }

    /// Marks the code as possibly delivered: its send timed out.
    pub fn mark_unconfirmed(&mut self) {
        self.unconfirmed = true;
    }

    /// The same code, offered again after its send timed out.
    pub(crate) fn reoffered(&self) -> PendingCode {
        PendingCode {
            unconfirmed: false,
            ..self.clone()
        }
    }

    /// Whether the code's send timed out and no resend or code check has happened since.
    pub fn is_unconfirmed(&self) -> bool {
        self.unconfirmed
    }

    /// Whether re-offering this code is worth anything: its send timed out, it has not
    /// expired and no try has been spent on it.
    pub(crate) fn may_reoffer(&self, now: Timestamp) -> bool {
        self.unconfirmed && now < self.expires_at && self.attempts == 0
    }

    /// When this code was sent.
    pub fn issued_at(&self) -> Timestamp {
        self.issued_at
    }

    /// A stable name for this code (SHA-256 of its digest, 128 bits in hex): the attempt
    /// guard counts tries per code under it. It reveals nothing the digest does not, and
    /// a resend, which draws a new digest, gets a new name.
    pub fn fingerprint(&self) -> String {
        use sha2::Digest as _;
        let hash = Sha256::digest(self.digest.as_bytes());
        hex::encode(hash.get(..16).unwrap_or_default())
    }

    /// Checks a submitted code: cap first (unconditionally), then expiry, then a
    /// constant-time digest comparison. A wrong code counts an attempt.
    pub(crate) fn check(
        &mut self,
        key: &CodeKey,
        submitted: &Secret<String>,
        now: Timestamp,
        max_attempts: u8,
    ) -> CodeCheck {
        // Someone typed a code: whatever the send did, a resend from here sends a new one.
        self.unconfirmed = false;
        let cap = max_attempts.clamp(1, 5);
        if self.attempts >= cap {
            return CodeCheck::Exhausted;
        }
        if now >= self.expires_at {
            return CodeCheck::Expired;
        }
        let expected = hex::decode(&self.digest).unwrap_or_default();
        let actual = digest(
            key,
            self.purpose,
            self.channel,
            self.destination.expose(),
            self.issued_at,
            submitted.expose().trim(),
        );
        if expected.len() == actual.len() && bool::from(actual.as_slice().ct_eq(&expected)) {
            CodeCheck::Valid(VerifiedCode {
                channel: self.channel,
                destination: self.destination.clone(),
                at: now,
            })
        } else {
            self.attempts = self.attempts.saturating_add(1);
            CodeCheck::Wrong {
                attempts_left: cap.saturating_sub(self.attempts),
            }
        }
    }

    /// Seconds until another code may be sent for this step, or zero if now.
    pub(crate) fn cooldown_left(&self, now: Timestamp, settings: &CodeSettings) -> u64 {
        let ready = self
            .issued_at
            .plus(Seconds(settings.resend_cooldown_seconds));
        ready.since(now).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CodeKey {
        CodeKey::new(vec![7u8; 32]).unwrap()
    }

    fn send(entropy: &[u8]) -> IssuedCode {
        issue(
            &key(),
            &mut Entropy::new(entropy.to_vec()),
            &CodeSettings::default(),
            Channel::Email,
            Pii::new("a@example.com".into()),
            CodePurpose::SignIn,
            Timestamp(1000),
            0,
        )
        .unwrap()
    }

    #[test]
    fn fingerprints_are_stable_per_code_and_differ_between_codes() {
        let a = send(&[0, 0, 0, 42]).pending;
        let b = send(&[0, 0, 0, 43]).pending;
        assert_eq!(a.fingerprint(), a.clone().fingerprint());
        assert_eq!(a.fingerprint().len(), 32);
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert!(!a.fingerprint().contains(&a.digest));
        assert_ne!(
            key().keyed_hash("n", "+1555"),
            key().keyed_hash("u", "+1555")
        );
    }

    #[test]
    fn short_keys_are_refused() {
        assert_eq!(
            CodeKey::new(vec![0u8; 31]).err(),
            Some(FlowError::KeyTooShort)
        );
    }

    #[test]
    fn the_digest_is_stored_never_the_code() {
        let issued = send(&[0, 0, 0, 42]);
        assert_eq!(issued.plaintext.expose(), "00000042");
        let json = serde_json::to_string(&issued.pending).unwrap();
        assert!(!json.contains("00000042"), "{json}");
    }

    #[test]
    fn right_code_passes_wrong_code_counts_and_cap_holds() {
        let issued = send(&[0, 0, 0, 42]);
        let mut p = issued.pending;
        let wrong = Secret::new("00000043".to_string());
        for left in (0..5).rev() {
            assert!(
                matches!(p.check(&key(), &wrong, Timestamp(1001), 5), CodeCheck::Wrong { attempts_left } if attempts_left == left)
            );
        }
        // Even the right code fails once the cap is reached.
        assert!(matches!(
            p.check(&key(), &issued.plaintext, Timestamp(1001), 5),
            CodeCheck::Exhausted
        ));
    }

    #[test]
    fn expiry_is_exclusive_and_other_keys_do_not_match() {
        let issued = send(&[0, 0, 0, 42]);
        let mut p = issued.pending.clone();
        assert!(matches!(
            p.check(&key(), &issued.plaintext, Timestamp(1600), 5),
            CodeCheck::Expired
        ));
        let mut p = issued.pending.clone();
        assert!(matches!(
            p.check(&key(), &issued.plaintext, Timestamp(1599), 5),
            CodeCheck::Valid(_)
        ));
        let other = CodeKey::new(vec![8u8; 32]).unwrap();
        let mut p = issued.pending;
        assert!(matches!(
            p.check(&other, &issued.plaintext, Timestamp(1001), 5),
            CodeCheck::Wrong { .. }
        ));
    }

    #[test]
    fn digits_are_uniform_over_many_draws() {
        // A chi-square-free sanity check: every first digit of 6-digit codes appears.
        let mut seen = [0u32; 10];
        let mut bytes = Vec::new();
        for i in 0u32..4000 {
            bytes.extend_from_slice(&i.wrapping_mul(2654435761).to_be_bytes());
        }
        let mut e = Entropy::new(bytes);
        let settings = CodeSettings {
            length: 6,
            ..CodeSettings::default()
        };
        for _ in 0..1000 {
            let c = issue(
                &key(),
                &mut e,
                &settings,
                Channel::Sms,
                Pii::new("+15551234567".into()),
                CodePurpose::Mfa,
                Timestamp(0),
                0,
            )
            .unwrap();
            assert_eq!(c.plaintext.expose().len(), 6);
            let d = c.plaintext.expose().as_bytes()[0] - b'0';
            seen[usize::from(d)] += 1;
        }
        assert!(seen.iter().all(|&n| n > 50), "{seen:?}");
    }
}
