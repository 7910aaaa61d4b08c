//! MAC vendors: the IEEE's OUI registry as Debian's `ieee-data` package ships
//! it (`/usr/share/ieee-data/oui.csv`), read once, with a small built-in table
//! when the package is absent, and a plain answer for randomised addresses.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Where Debian's `ieee-data` keeps the MA-L registry.
pub const OUI_CSV: &str = "/usr/share/ieee-data/oui.csv";

/// The vendor of an address whose locally-administered bit is set
/// (randomised phone MACs, virtual machines, containers).
pub const LOCAL: &str = "(locally administered)";

/// Largest registry file read.
const MAX_CSV_BYTES: u64 = 32 * 1024 * 1024;

/// A few common vendors, so a host without `ieee-data` still names them.
const BUILTIN: &[(u32, &str)] = &[
    (0x00163e, "Xensource, Inc."),
    (0x005056, "VMware, Inc."),
    (0x000c29, "VMware, Inc."),
    (0x080027, "PCS Systemtechnik GmbH"),
    (0x001b21, "Intel Corporate"),
    (0x3cfdfe, "Intel Corporate"),
    (0xb827eb, "Raspberry Pi Foundation"),
    (0xdca632, "Raspberry Pi Trading Ltd"),
    (0x001a11, "Google, Inc."),
    (0xf09fc2, "Ubiquiti Inc"),
    (0x00000c, "Cisco Systems, Inc"),
    (0x001b63, "Apple, Inc."),
    (0x001788, "Philips Lighting BV"),
    (0x18b430, "Nest Labs Inc."),
    (0x0004f2, "Polycom"),
    (0x000e58, "Sonos, Inc."),
    (0x44650d, "Amazon Technologies Inc."),
];

fn table() -> &'static HashMap<u32, String> {
    static TABLE: OnceLock<HashMap<u32, String>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut map: HashMap<u32, String> =
            BUILTIN.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        if let Ok(meta) = std::fs::metadata(OUI_CSV)
            && meta.len() <= MAX_CSV_BYTES
            && let Ok(text) = std::fs::read_to_string(OUI_CSV)
        {
            parse_csv(&text, &mut map);
        }
        map
    })
}

/// Adds the rows of an IEEE `oui.csv` (`MA-L,ABCDEF,Name,Address`).
pub fn parse_csv(text: &str, map: &mut HashMap<u32, String>) {
    for line in text.lines().skip(1) {
        let mut fields = line.splitn(3, ',');
        let (Some(_), Some(hex), Some(rest)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        let Ok(key) = u32::from_str_radix(hex.trim(), 16) else {
            continue;
        };
        // The name is quoted when it holds a comma.
        let name = match rest.strip_prefix('"') {
            Some(q) => q.split('"').next().unwrap_or(""),
            None => rest.split(',').next().unwrap_or(""),
        };
        let name = name.trim();
        if !name.is_empty() && key <= 0xff_ffff {
            map.insert(key, name.chars().take(128).collect());
        }
    }
}

/// The vendor of `mac`, `LOCAL` for a locally administered address, or
/// `None` when unknown.
pub fn vendor(mac: [u8; 6]) -> Option<&'static str> {
    if mac[0] & 0x02 != 0 {
        return Some(LOCAL);
    }
    let key = u32::from_be_bytes([0, mac[0], mac[1], mac[2]]);
    table().get(&key).map(String::as_str)
}

/// `aa:bb:cc:dd:ee:ff`.
pub fn format_mac(mac: [u8; 6]) -> String {
    let [a, b, c, d, e, f] = mac;
    format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}")
}

/// Parses `aa:bb:cc:dd:ee:ff` (or with `-`).
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut parts = text.split([':', '-']);
    for b in &mut out {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_vendors_and_local_addresses() {
        assert_eq!(vendor([0x00, 0x16, 0x3e, 1, 2, 3]), Some("Xensource, Inc."));
        assert_eq!(vendor([0x8a, 0x01, 0xa7, 1, 2, 3]), Some(LOCAL));
        assert_eq!(
            parse_mac("00:16:3E:00:00:01"),
            Some([0, 0x16, 0x3e, 0, 0, 1])
        );
        assert_eq!(format_mac([0, 0x16, 0x3e, 0, 0, 1]), "00:16:3e:00:00:01");
        assert_eq!(parse_mac("00:16:3e:00:00"), None);
    }

    #[test]
    fn reads_the_ieee_csv() {
        let mut map = HashMap::new();
        parse_csv(
            "Registry,Assignment,Organization Name,Organization Address\n\
             MA-L,002272,American Micro-Fuel Device Corp.,2181 Buchanan Loop Ferndale WA US 98248\n\
             MA-L,00D0EF,\"IGT, Inc\",9295 Prototype Drive Reno NV US 89511\n\
             garbage\n",
            &mut map,
        );
        assert_eq!(map[&0x002272], "American Micro-Fuel Device Corp.");
        assert_eq!(map[&0x00d0ef], "IGT, Inc");
        assert_eq!(map.len(), 2);
    }
}
