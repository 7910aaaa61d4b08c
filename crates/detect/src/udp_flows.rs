//! Which UDP packets answer a request seen just before: UDP has no
//! handshake, so a service on a high port (mDNS on 5353, a game or media
//! server, a DNS forwarder on 5353) answering many clients would otherwise
//! look, to the per-source view, like a source probing many ports — each
//! reply goes to another ephemeral port. A packet counts as a reply when the
//! packet of the reverse direction (addresses and ports swapped) was seen in
//! this window or the one before.
//!
//! Two generations of a 2^20-bit map (128 KiB each) indexed by a hash of
//! the direction-sensitive 4-tuple: one hash and one bit test (and at most
//! one bit set) per UDP packet, nothing allocated; the older generation is
//! cleared and reused at every window close. A collision can make a request
//! look like a reply: with 50,000 UDP requests in a window about 5 % of
//! them; a scan sends many, so it still shows.
#![forbid(unsafe_code)]

use crate::distinct::hash_key;

/// Bits per generation (a power of two).
const BITS: usize = 1 << 20;

/// The recent UDP directions. See the module documentation.
#[derive(Clone)]
pub struct UdpFlows {
    current: Box<[u64]>,
    previous: Box<[u64]>,
}

impl std::fmt::Debug for UdpFlows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UdpFlows").finish_non_exhaustive()
    }
}

impl Default for UdpFlows {
    fn default() -> Self {
        UdpFlows {
            current: vec![0u64; BITS / 64].into_boxed_slice(),
            previous: vec![0u64; BITS / 64].into_boxed_slice(),
        }
    }
}

/// The bit of the direction `a:pa -> b:pb` (keys from [`crate::counters::addr_key`]).
#[inline]
fn bit(a: u128, b: u128, pa: u16, pb: u16) -> usize {
    let ports = (u128::from(pa) << 16) | u128::from(pb);
    let h = hash_key(a).rotate_left(23) ^ hash_key(b ^ (ports << 64) ^ ports);
    (h as usize) & (BITS - 1)
}

impl UdpFlows {
    /// Whether the UDP packet `s:sp -> d:dp` answers one seen recently;
    /// when it does not, it is remembered as a request.
    #[inline]
    pub fn is_reply(&mut self, s: u128, d: u128, sp: u16, dp: u16) -> bool {
        let back = bit(d, s, dp, sp);
        let (w, m) = (back / 64, 1u64 << (back % 64));
        if (self.current[w] | self.previous[w]) & m != 0 {
            return true;
        }
        let own = bit(s, d, sp, dp);
        self.current[own / 64] |= 1u64 << (own % 64);
        false
    }

    /// A window closed: the older generation is forgotten.
    pub fn rotate(&mut self) {
        std::mem::swap(&mut self.current, &mut self.previous);
        self.current.fill(0);
    }

    /// Forgets everything (a gap in the capture).
    pub fn clear(&mut self) {
        self.current.fill(0);
        self.previous.fill(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_told_from_requests_for_a_window_or_two() {
        let mut f = UdpFlows::default();
        let (client, server) = (1u128, 2u128);
        assert!(!f.is_reply(client, server, 40000, 5353), "a request");
        assert!(f.is_reply(server, client, 5353, 40000), "its answer");
        // Another client port: a request of its own, not an answer.
        assert!(!f.is_reply(server, client, 5353, 40001));
        f.rotate();
        assert!(f.is_reply(server, client, 5353, 40000), "a window later");
        f.rotate();
        assert!(
            !f.is_reply(server, client, 5353, 40000),
            "two windows later"
        );
        f.clear();
        assert!(!f.is_reply(server, client, 5353, 40001));
    }
}
