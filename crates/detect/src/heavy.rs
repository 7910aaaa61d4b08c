//! Top contributors with bounded memory: which sources, destinations and
//! ports carried most packets of a window.
//!
//! An alarm must say whom to look at. Exact per-key counts would grow with
//! the number of keys (an attacker's choice), so [`HeavyHitters`] runs the
//! Misra–Gries summary: `K` counters in a fixed open-addressing table; a new
//! key when all are taken decrements every counter instead of being stored.
//! Any key with more than `total / (K + 1)` packets is guaranteed to be kept,
//! and a kept count is at most `total / (K + 1)` below the truth. The
//! decrement sweep is O(K) but happens at most once per `K` packets on
//! average, so the amortised cost per packet is O(1), with no allocation.
#![forbid(unsafe_code)]

/// Keys tracked per summary.
pub const CAPACITY: usize = 32;
const SLOTS: usize = CAPACITY * 2;
const EMPTY: u128 = u128::MAX;

/// A Misra–Gries heavy-hitter summary over 128-bit keys.
#[derive(Clone)]
pub struct HeavyHitters {
    keys: [u128; SLOTS],
    counts: [u32; SLOTS],
    len: usize,
    total: u64,
    /// Slot of the previous key, to skip hashing for runs of the same key.
    last: usize,
}

impl std::fmt::Debug for HeavyHitters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeavyHitters")
            .field("len", &self.len)
            .field("total", &self.total)
            .finish()
    }
}

impl Default for HeavyHitters {
    fn default() -> Self {
        HeavyHitters {
            keys: [EMPTY; SLOTS],
            counts: [0; SLOTS],
            len: 0,
            total: 0,
            last: usize::MAX,
        }
    }
}

#[inline]
fn slot_of(key: u128) -> usize {
    (crate::distinct::hash_key(key) >> 58) as usize & (SLOTS - 1)
}

impl HeavyHitters {
    /// Counts one occurrence of `key`.
    #[inline]
    pub fn add(&mut self, key: u128) {
        self.total += 1;
        if let Some(k) = self.keys.get(self.last)
            && *k == key
        {
            self.counts[self.last] = self.counts[self.last].saturating_add(1);
            return;
        }
        let mut i = slot_of(key);
        // At most half the slots are used, so an empty one is within reach.
        for _ in 0..SLOTS {
            let k = self.keys[i];
            if k == key {
                self.counts[i] = self.counts[i].saturating_add(1);
                self.last = i;
                return;
            }
            if k == EMPTY {
                if self.len < CAPACITY {
                    self.keys[i] = key;
                    self.counts[i] = 1;
                    self.len += 1;
                    self.last = i;
                } else {
                    self.decrement_all();
                }
                return;
            }
            i = (i + 1) & (SLOTS - 1);
        }
    }

    /// The Misra–Gries step for a key that finds no free counter: every
    /// counter loses one, those at zero are freed, and the table is rebuilt
    /// so probing stays correct.
    #[cold]
    fn decrement_all(&mut self) {
        let mut keep_keys = [EMPTY; CAPACITY];
        let mut keep_counts = [0u32; CAPACITY];
        let mut n = 0;
        for i in 0..SLOTS {
            if self.keys[i] != EMPTY && self.counts[i] > 1 && n < CAPACITY {
                keep_keys[n] = self.keys[i];
                keep_counts[n] = self.counts[i] - 1;
                n += 1;
            }
        }
        self.keys = [EMPTY; SLOTS];
        self.counts = [0; SLOTS];
        self.len = 0;
        self.last = usize::MAX;
        for j in 0..n {
            let mut i = slot_of(keep_keys[j]);
            while self.keys[i] != EMPTY {
                i = (i + 1) & (SLOTS - 1);
            }
            self.keys[i] = keep_keys[j];
            self.counts[i] = keep_counts[j];
            self.len += 1;
        }
    }

    /// Occurrences counted since the last reset (kept or not).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Writes the `n` largest `(key, count)` pairs into `out` (cleared first),
    /// largest first, ties broken by key so the order is reproducible.
    pub fn top(&self, n: usize, out: &mut Vec<(u128, u64)>) {
        out.clear();
        for i in 0..SLOTS {
            if self.keys[i] != EMPTY && self.counts[i] > 0 {
                out.push((self.keys[i], u64::from(self.counts[i])));
            }
        }
        out.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out.truncate(n);
    }

    /// Forgets everything, in place.
    pub fn reset(&mut self) {
        if self.total > 0 {
            self.keys = [EMPTY; SLOTS];
            self.counts = [0; SLOTS];
        }
        self.len = 0;
        self.total = 0;
        self.last = usize::MAX;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_heavy_keys_among_noise() {
        let mut h = HeavyHitters::default();
        let mut out = Vec::new();
        // 30 % key 1, 10 % key 2, the rest spread over 100,000 keys.
        for i in 0..100_000u128 {
            let k = match i % 10 {
                0..=2 => 1,
                3 => 2,
                _ => 1000 + i,
            };
            h.add(k);
        }
        h.top(3, &mut out);
        assert_eq!(out[0].0, 1);
        assert_eq!(out[1].0, 2);
        let bound = 100_000 / (CAPACITY as u64 + 1);
        assert!(out[0].1 + bound >= 30_000 && out[0].1 <= 30_000);
        assert!(out[1].1 + bound >= 10_000 && out[1].1 <= 10_000);
        assert_eq!(h.total(), 100_000);
    }

    #[test]
    fn exact_when_few_keys() {
        let mut h = HeavyHitters::default();
        let mut out = Vec::new();
        for i in 0..1000u128 {
            h.add(i % 5);
        }
        h.top(10, &mut out);
        assert_eq!(out.len(), 5);
        assert!(out.iter().all(|&(_, c)| c == 200));
        h.reset();
        h.top(10, &mut out);
        assert!(out.is_empty());
    }
}
