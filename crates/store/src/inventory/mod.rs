//! The inventory in the store: hosts of our networks, their services and
//! the history of every change (the `inv_*` tables), folded from the
//! committed stream by the inventory stage in one transaction with its
//! progress ([`fold`]); searches and host pages ([`hosts`]); analysts'
//! edits; and the scans table ([`scans`]).

mod fold;
mod hosts;
mod scans;

use std::net::IpAddr;

pub use fold::InventoryChange;
pub use hosts::{
    HistoryEntry, HostCursor, HostFilter, HostRecord, HostUpdate, MAX_HOST_PAGE, ServiceRecord,
};
pub use scans::{ScanRecord, ScanStatus};

/// An address as the inventory keys it: 16 bytes, IPv4 mapped into IPv6, so a
/// prefix is a range and IPv4 sorts before IPv6.
pub fn addr_key(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
        IpAddr::V6(a) => a.octets(),
    }
}

/// The first and last keys of a prefix.
pub fn prefix_range(network: IpAddr, prefix_len: u8) -> ([u8; 16], [u8; 16]) {
    let (key, bits) = match network {
        IpAddr::V4(_) => (addr_key(network), 96 + u32::from(prefix_len.min(32))),
        IpAddr::V6(_) => (addr_key(network), u32::from(prefix_len.min(128))),
    };
    let n = u128::from_be_bytes(key);
    let host_mask = if bits >= 128 { 0 } else { u128::MAX >> bits };
    (
        (n & !host_mask).to_be_bytes(),
        (n | host_mask).to_be_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_ranges() {
        let (lo, hi) = prefix_range("192.0.2.0".parse().unwrap(), 24);
        assert_eq!(lo, addr_key("192.0.2.0".parse().unwrap()));
        assert_eq!(hi, addr_key("192.0.2.255".parse().unwrap()));
        let (lo, hi) = prefix_range("2001:db8::".parse().unwrap(), 32);
        assert_eq!(lo, addr_key("2001:db8::".parse().unwrap()));
        assert_eq!(
            hi,
            addr_key("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap())
        );
        let (lo, hi) = prefix_range("198.51.100.7".parse().unwrap(), 32);
        assert_eq!(lo, hi);
    }
}
