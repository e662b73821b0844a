//! Fixed-width bit sets over policy positions: the compiled index answers "which policies
//! does this fact satisfy" with one set per fact, and evaluation ANDs a handful of them, so
//! the cost grows with the number of 64-policy words rather than with policies × conditions.

/// A set of policy positions `0..len`, stored as 64-bit words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bits(Vec<u64>);

impl Bits {
    /// The empty set for `words` words.
    pub(crate) fn empty(words: usize) -> Bits {
        Bits(vec![0; words])
    }

    /// Adds position `i` (positions beyond the width are ignored).
    pub(crate) fn insert(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i / 64) {
            *w |= 1u64 << (i % 64);
        }
    }

    /// Whether position `i` is in the set.
    #[cfg(test)]
    pub(crate) fn contains(&self, i: usize) -> bool {
        words_contain(&self.0, i)
    }

    /// The words, for combining with scratch sets.
    pub(crate) fn words(&self) -> &[u64] {
        &self.0
    }
}

/// Whether position `i` is set in `words`.
pub(crate) fn words_contain(words: &[u64], i: usize) -> bool {
    words
        .get(i / 64)
        .is_some_and(|w| w & (1u64 << (i % 64)) != 0)
}

/// Sets position `i` in `words`.
pub(crate) fn set(words: &mut [u64], i: usize) {
    if let Some(w) = words.get_mut(i / 64) {
        *w |= 1u64 << (i % 64);
    }
}

/// `dst |= src`.
pub(crate) fn or(dst: &mut [u64], src: &[u64]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d |= s;
    }
}

/// `dst &= src`.
pub(crate) fn and(dst: &mut [u64], src: &[u64]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d &= s;
    }
}

/// `dst &= !src`.
pub(crate) fn and_not(dst: &mut [u64], src: &[u64]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d &= !s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations_span_words() {
        let mut a = Bits::empty(2);
        a.insert(3);
        a.insert(70);
        a.insert(500);
        assert!(a.contains(3) && a.contains(70) && !a.contains(4) && !a.contains(500));
        let mut w = vec![0u64; 2];
        or(&mut w, a.words());
        set(&mut w, 64);
        and_not(&mut w, &[1 << 3, 0]);
        assert!(!words_contain(&w, 3) && words_contain(&w, 64) && words_contain(&w, 70));
        and(&mut w, &[0, 1 << 6]);
        assert!(words_contain(&w, 70) && !words_contain(&w, 64));
    }
}
