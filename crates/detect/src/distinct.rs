//! Distinct counts with bounded memory: how many different addresses or ports
//! a window saw.
//!
//! A window can see millions of spoofed sources, so an exact set is not an
//! option; but most windows see few, and ratios of small counts (1 source, 3
//! destinations) must be exact to be useful. [`DistinctAddrs`] therefore keeps
//! an exact open-addressing set up to [`EXACT_LIMIT`] keys and a HyperLogLog
//! (p = 12, 4 KiB, ~1.6 % standard error) always, and answers from the set
//! while it has not overflowed. Ports have only 65,536 values: [`DistinctPorts`]
//! is an exact 8 KiB bitmap. Both reset in place for the next window (no
//! reallocation) and only touch memory that was dirtied.
#![forbid(unsafe_code)]

/// Keys counted exactly before switching to the HyperLogLog estimate.
pub const EXACT_LIMIT: usize = 1024;
const EXACT_SLOTS: usize = EXACT_LIMIT * 2;
const HLL_P: u32 = 12;
const HLL_M: usize = 1 << HLL_P;
/// Marks an empty slot of the exact set, which stores 64-bit hashes with the
/// low bit forced to 1 (so never 0): two of 1,024 keys share a hash with
/// probability ~2^-44, and halving the table keeps it in L1 cache.
const EMPTY: u64 = 0;
/// Marks "no previous key" for the repeat check.
const NO_KEY: u128 = u128::MAX;

/// Mixes a 128-bit key into 64 well-distributed bits (murmur3's finaliser on
/// a fold of both halves). Fixed, so estimates are reproducible run to run; an
/// attacker choosing addresses could bias them, which is acceptable for a
/// statistic that already moves when an attacker floods addresses.
#[inline]
pub fn hash_key(key: u128) -> u64 {
    let lo = key as u64;
    let hi = (key >> 64) as u64;
    let mut h = lo ^ hi.rotate_left(29).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Distinct count of 128-bit keys (IP addresses as v4-mapped IPv6).
#[derive(Clone)]
pub struct DistinctAddrs {
    slots: Box<[u64]>,
    exact_len: usize,
    overflowed: bool,
    registers: Box<[u8]>,
    dirty: bool,
    last: u128,
}

impl std::fmt::Debug for DistinctAddrs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DistinctAddrs")
            .field("estimate", &self.estimate())
            .finish()
    }
}

impl Default for DistinctAddrs {
    fn default() -> Self {
        DistinctAddrs {
            slots: vec![EMPTY; EXACT_SLOTS].into_boxed_slice(),
            exact_len: 0,
            overflowed: false,
            registers: vec![0u8; HLL_M].into_boxed_slice(),
            dirty: false,
            last: NO_KEY,
        }
    }
}

impl DistinctAddrs {
    /// Counts one key.
    #[inline]
    pub fn insert(&mut self, key: u128) {
        // Consecutive packets of a flow repeat their addresses: skip the work.
        if key == self.last {
            return;
        }
        self.last = key;
        self.dirty = true;
        let h = hash_key(key);
        let idx = (h >> (64 - HLL_P)) as usize;
        // Rank of the first set bit in the remaining bits, capped by a
        // sentinel bit so the all-zero case is bounded.
        let rank = ((h << HLL_P) | (1 << (HLL_P - 1))).leading_zeros() as u8 + 1;
        let r = &mut self.registers[idx];
        if rank > *r {
            *r = rank;
        }
        if !self.overflowed {
            self.insert_exact(h | 1);
        }
    }

    #[inline]
    fn insert_exact(&mut self, key: u64) {
        let mask = EXACT_SLOTS - 1;
        // The top bits picked the HLL register; probe from the middle ones.
        let mut i = (key >> 20) as usize & mask;
        // The table is never more than half full, so an empty slot is found
        // within EXACT_SLOTS probes.
        for _ in 0..EXACT_SLOTS {
            let s = self.slots[i];
            if s == key {
                return;
            }
            if s == EMPTY {
                if self.exact_len >= EXACT_LIMIT {
                    self.overflowed = true;
                    return;
                }
                self.slots[i] = key;
                self.exact_len += 1;
                return;
            }
            i = (i + 1) & mask;
        }
        self.overflowed = true;
    }

    /// The number of distinct keys seen since the last reset: exact up to
    /// [`EXACT_LIMIT`], estimated beyond.
    pub fn estimate(&self) -> u64 {
        if !self.overflowed {
            return self.exact_len as u64;
        }
        let m = HLL_M as f64;
        let mut sum = 0.0f64;
        let mut zeros = 0usize;
        for &r in self.registers.iter() {
            sum += 1.0 / (1u64 << r) as f64;
            if r == 0 {
                zeros += 1;
            }
        }
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let raw = alpha * m * m / sum;
        let est = if raw <= 2.5 * m && zeros > 0 {
            // Linear counting is more accurate for small cardinalities.
            m * (m / zeros as f64).ln()
        } else {
            raw
        };
        // Never report fewer than the exact part already proved.
        (est.round() as u64).max(self.exact_len as u64)
    }

    /// Forgets everything, keeping the allocations.
    pub fn reset(&mut self) {
        if self.dirty {
            self.slots.fill(EMPTY);
            self.registers.fill(0);
        }
        self.exact_len = 0;
        self.overflowed = false;
        self.dirty = false;
        self.last = NO_KEY;
    }
}

/// Exact distinct count of 16-bit ports: a 65,536-bit map.
#[derive(Clone)]
pub struct DistinctPorts {
    bits: Box<[u64]>,
    count: u64,
}

impl std::fmt::Debug for DistinctPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DistinctPorts")
            .field("count", &self.count)
            .finish()
    }
}

impl Default for DistinctPorts {
    fn default() -> Self {
        DistinctPorts {
            bits: vec![0u64; 1024].into_boxed_slice(),
            count: 0,
        }
    }
}

impl DistinctPorts {
    /// Counts one port.
    #[inline]
    pub fn insert(&mut self, port: u16) {
        let w = &mut self.bits[usize::from(port >> 6)];
        let bit = 1u64 << (port & 63);
        if *w & bit == 0 {
            *w |= bit;
            self.count += 1;
        }
    }
    /// Distinct ports since the last reset.
    pub fn count(&self) -> u64 {
        self.count
    }
    /// Forgets everything, keeping the allocation.
    pub fn reset(&mut self) {
        if self.count > 0 {
            self.bits.fill(0);
            self.count = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_below_limit() {
        let mut d = DistinctAddrs::default();
        for i in 0..1000u128 {
            d.insert(i % 700);
        }
        assert_eq!(d.estimate(), 700);
        d.reset();
        assert_eq!(d.estimate(), 0);
        d.insert(5);
        d.insert(5);
        assert_eq!(d.estimate(), 1);
    }

    #[test]
    fn estimate_within_a_few_percent() {
        let mut d = DistinctAddrs::default();
        for n in [2_000u128, 20_000, 300_000] {
            d.reset();
            for i in 0..n {
                d.insert(0xffff_0a00_0000 + i * 7919);
            }
            let e = d.estimate() as f64;
            let err = (e - n as f64).abs() / n as f64;
            assert!(err < 0.05, "n={n} estimate={e} err={err}");
        }
    }

    #[test]
    fn ports_exact() {
        let mut p = DistinctPorts::default();
        for i in 0..=65535u16 {
            p.insert(i);
            p.insert(i);
        }
        assert_eq!(p.count(), 65536);
        p.reset();
        assert_eq!(p.count(), 0);
    }
}
