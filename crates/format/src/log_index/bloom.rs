//! The filter of a block's keys: a Bloom filter of 12 bits per key and 8 probes (about 0.3%
//! of absent keys said present, and no present key ever said absent).

/// Bits per distinct key.
const BITS_PER_KEY: usize = 12;
/// Probes per key.
const PROBES: u64 = 8;

/// The filter of `keys` (sorted and deduplicated here), as 64-bit words.
pub(super) fn build(keys: &mut Vec<u128>) -> Vec<u64> {
    keys.sort_unstable();
    keys.dedup();
    let words = (keys.len() * BITS_PER_KEY).div_ceil(64).max(1);
    let mut filter = vec![0_u64; words];
    for &key in keys.iter() {
        for bit in probes(key, words) {
            filter[bit / 64] |= 1 << (bit % 64);
        }
    }
    filter
}

/// Whether `key` may be among the keys of `filter`.
pub(super) fn may_contain(filter: &[u64], key: u128) -> bool {
    !filter.is_empty()
        && probes(key, filter.len()).all(|bit| filter[bit / 64] & (1 << (bit % 64)) != 0)
}

/// The bits of `key` in a filter of `words` words (double hashing on the key's two halves).
fn probes(key: u128, words: usize) -> impl Iterator<Item = usize> {
    let bits = words as u64 * 64;
    #[allow(clippy::cast_possible_truncation, reason = "the key's two halves")]
    let (first, step) = (key as u64, (key >> 64) as u64 | 1);
    (0..PROBES).map(move |n| {
        #[allow(clippy::cast_possible_truncation, reason = "below `bits`, a usize")]
        let bit = (first.wrapping_add(n.wrapping_mul(step)) % bits) as usize;
        bit
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_found_and_few_others() {
        let key = |n: u64| {
            use siphasher::sip128::{Hasher128, SipHasher13};
            use std::hash::Hasher;
            let mut h = SipHasher13::new();
            h.write_u64(n);
            h.finish128().as_u128()
        };
        let mut keys: Vec<u128> = (0..5_000).map(key).collect();
        let filter = build(&mut keys);
        assert!(keys.iter().all(|&k| may_contain(&filter, k)));
        let wrong = (5_000..105_000)
            .filter(|&n| may_contain(&filter, key(n)))
            .count();
        assert!(wrong < 1_000, "{wrong} of 100,000 absent keys said present");
        assert!(!may_contain(&build(&mut Vec::new()), key(1)));
    }
}
