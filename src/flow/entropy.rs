//! Random bytes as a value: the caller draws them from a CSPRNG (`getrandom` in the
//! adapters, a seeded ChaCha in tests) and the core only consumes them. Codes are drawn
//! by rejection sampling, so every code is equally likely (no modulo bias).

use super::err::FlowError;
use std::fmt;

/// Caller-supplied random bytes for one step, consumed front to back.
///
/// 64 bytes ([`Entropy::RECOMMENDED_LEN`]) are enough for every step: a code (4 bytes,
/// more only after a rare rejection), a salt (16) and an id (16). Running out is an
/// error ([`FlowError::EntropyExhausted`]), never a panic and never a weaker value.
#[derive(Clone)]
pub struct Entropy {
    bytes: Vec<u8>,
    used: usize,
}

impl fmt::Debug for Entropy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Entropy(<{} bytes redacted>)", self.bytes.len())
    }
}

impl Entropy {
    /// How many bytes a caller should pass to every step.
    pub const RECOMMENDED_LEN: usize = 64;

    /// Wraps bytes drawn from a CSPRNG by the caller.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            bytes: bytes.into(),
            used: 0,
        }
    }

    /// Bytes not consumed yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.used)
    }

    /// The next `N` bytes.
    pub(crate) fn take<const N: usize>(&mut self) -> Result<[u8; N], FlowError> {
        let end = self
            .used
            .checked_add(N)
            .ok_or(FlowError::EntropyExhausted)?;
        let slice = self
            .bytes
            .get(self.used..end)
            .ok_or(FlowError::EntropyExhausted)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        self.used = end;
        Ok(out)
    }

    /// A uniformly distributed number in `0..bound`, by rejection sampling on 32-bit draws.
    pub(crate) fn below(&mut self, bound: u32) -> Result<u32, FlowError> {
        if bound == 0 {
            return Err(FlowError::EntropyExhausted);
        }
        // Largest multiple of `bound` that fits in 2^32: draws at or above it are rejected.
        let zone = (1u64 << 32) / u64::from(bound) * u64::from(bound);
        loop {
            let draw = u64::from(u32::from_be_bytes(self.take::<4>()?));
            if draw < zone {
                return u32::try_from(draw % u64::from(bound))
                    .map_err(|_| FlowError::EntropyExhausted);
            }
        }
    }

    /// A random identifier in UUID v4 text form (for users and registered methods).
    pub(crate) fn uuid(&mut self) -> Result<String, FlowError> {
        let mut b = self.take::<16>()?;
        if let Some(x) = b.get_mut(6) {
            *x = (*x & 0x0f) | 0x40;
        }
        if let Some(x) = b.get_mut(8) {
            *x = (*x & 0x3f) | 0x80;
        }
        let hex = super::hex::encode(&b);
        let part = |r: std::ops::Range<usize>| hex.get(r).unwrap_or_default().to_string();
        Ok(format!(
            "{}-{}-{}-{}-{}",
            part(0..8),
            part(8..12),
            part(12..16),
            part(16..20),
            part(20..32)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_out_is_an_error_not_a_panic() {
        let mut e = Entropy::new(vec![1, 2, 3]);
        assert_eq!(e.take::<4>(), Err(FlowError::EntropyExhausted));
        assert_eq!(e.take::<3>(), Ok([1, 2, 3]));
        assert_eq!(e.remaining(), 0);
    }

    #[test]
    fn rejection_sampling_skips_draws_in_the_biased_zone() {
        // 0xFFFFFFFF is above the zone for bound 10, so the second draw (7) is used.
        let mut e = Entropy::new(vec![0xff, 0xff, 0xff, 0xff, 0, 0, 0, 7]);
        assert_eq!(e.below(10), Ok(7));
        let mut e = Entropy::new(vec![0xff, 0xff, 0xff, 0xff]);
        assert_eq!(e.below(10), Err(FlowError::EntropyExhausted));
    }

    #[test]
    fn uuids_have_version_and_variant_bits() {
        let mut e = Entropy::new(vec![0xffu8; 16]);
        let id = e.uuid().unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'4');
        assert!(matches!(id.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
    }
}
