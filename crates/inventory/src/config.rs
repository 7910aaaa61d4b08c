//! `[inventory]` of the configuration file: which networks are ours, which may
//! be scanned, when a silent host counts as gone, the subnets people describe,
//! and the scan profiles besides the built-in ones.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;
use nectar_event::config::ConfigError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::nmap::profile::{BUILTIN_PROFILES, check_args};

/// `[inventory]`: hosts and subnets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct InventorySection {
    /// The prefixes that are ours (IPv4 and IPv6, any length, e.g. "192.0.2.0/24"):
    /// hosts of these networks seen sending are added to the inventory. Empty:
    /// passive discovery is off.
    pub networks: Vec<String>,
    /// The prefixes scans may target. A scan with any target outside them is
    /// refused and nmap is not started. Empty: no scans.
    pub scan_scope: Vec<String>,
    /// A host not seen for this long is reported gone (`host.gone`), e.g. "30m",
    /// "24h", "7d".
    pub gone_after: String,
    /// Most hosts passive discovery tracks at once (a fixed table; hosts beyond
    /// it are counted, not tracked).
    pub max_hosts: usize,
    /// The command that runs nmap, as a list (e.g. ["sudo", "-n", "nmap"]).
    pub nmap: Vec<String>,
    /// Longest a scan may run, in seconds; nmap is killed then.
    pub scan_timeout_secs: u64,
    /// Finer subnets (and descriptions of the networks), each with a name,
    /// owner, location and notes.
    pub subnets: Vec<SubnetConfig>,
    /// Scan profiles besides the built-in ones (fast, version, aggressive,
    /// noping), by name.
    pub profiles: BTreeMap<String, ProfileConfig>,
}

impl Default for InventorySection {
    fn default() -> Self {
        InventorySection {
            networks: Vec::new(),
            scan_scope: Vec::new(),
            gone_after: "24h".into(),
            max_hosts: 16_384,
            nmap: vec!["nmap".into()],
            scan_timeout_secs: 3600,
            subnets: Vec::new(),
            profiles: BTreeMap::new(),
        }
    }
}

/// `[[inventory.subnets]]`: one prefix people describe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubnetConfig {
    /// The prefix, e.g. "192.0.2.0/26".
    pub cidr: String,
    /// A short name ("office LAN").
    #[serde(default)]
    pub name: String,
    /// Who answers for it.
    #[serde(default)]
    pub owner: String,
    /// Where it is.
    #[serde(default)]
    pub location: String,
    /// Anything else.
    #[serde(default)]
    pub notes: String,
}

/// `[inventory.profiles.NAME]`: a scan profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileConfig {
    /// nmap options (e.g. ["-sV", "--version-light"]); output, input-list and
    /// script options are refused.
    #[serde(default)]
    pub args: Vec<String>,
    /// Ports to scan, as nmap's `-p` takes them ("22,80,443", "1-1024").
    #[serde(default)]
    pub ports: String,
}

/// The section, checked and parsed.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// `networks`.
    pub networks: Networks,
    /// `scan_scope`.
    pub scan_scope: Networks,
    /// `gone_after`.
    pub gone_after: Duration,
    /// `max_hosts`.
    pub max_hosts: usize,
    /// `nmap`.
    pub nmap: Vec<String>,
    /// `scan_timeout_secs`.
    pub scan_timeout: Duration,
    /// `subnets`, parsed, with the networks not described added bare.
    pub subnets: Vec<Subnet>,
    /// Every profile (built-in and configured) with its nmap arguments.
    pub profiles: BTreeMap<String, Vec<String>>,
}

/// A subnet with its prefix parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subnet {
    /// The prefix.
    pub cidr: IpNet,
    /// Its name.
    pub name: String,
    /// Its owner.
    pub owner: String,
    /// Its location.
    pub location: String,
    /// Notes.
    pub notes: String,
}

/// A list of prefixes with a membership test that allocates nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Networks(Vec<IpNet>);

impl Networks {
    /// The prefixes.
    pub fn new(nets: Vec<IpNet>) -> Networks {
        Networks(nets)
    }

    /// Whether `ip` is in one of them.
    #[inline]
    pub fn contains(&self, ip: &IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// Whether every address of `net` is in one of them.
    pub fn covers(&self, net: &IpNet) -> bool {
        self.0.iter().any(|n| n.contains(net))
    }

    /// None at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The prefixes.
    pub fn iter(&self) -> impl Iterator<Item = &IpNet> {
        self.0.iter()
    }
}

/// A prefix or a bare address (a /32 or /128).
pub fn parse_prefix(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    text.parse::<IpAddr>().map(IpNet::from).map_err(|_| {
        format!(
            "{:?} is not an address or a prefix like 192.0.2.0/24",
            text.chars().take(64).collect::<String>()
        )
    })
}

/// A duration like "90s", "30m", "24h", "7d".
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a number and a unit, e.g. \"24h\""))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: the unit must be s, m, h or d")),
    };
    if n == 0 {
        return Err("must be more than 0".into());
    }
    n.checked_mul(secs)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{text:?} is too long"))
}

fn nets(key: &'static str, list: &[String]) -> Result<Networks, ConfigError> {
    list.iter()
        .enumerate()
        .map(|(i, t)| parse_prefix(t).map_err(|e| ConfigError::new(format!("{key}[{i}]"), e)))
        .collect::<Result<Vec<_>, _>>()
        .map(Networks)
}

impl InventorySection {
    /// Checks and parses the section; errors name the key relative to `[inventory]`.
    pub fn build(&self) -> Result<Inventory, ConfigError> {
        let networks = nets("networks", &self.networks)?;
        let scan_scope = nets("scan_scope", &self.scan_scope)?;
        let gone_after =
            parse_duration(&self.gone_after).map_err(|e| ConfigError::new("gone_after", e))?;
        if !(1..=16_777_216).contains(&self.max_hosts) {
            return Err(ConfigError::new("max_hosts", "must be 1 to 16777216"));
        }
        if self.nmap.first().is_none_or(|c| c.trim().is_empty()) {
            return Err(ConfigError::new(
                "nmap",
                "must name the nmap command, e.g. [\"nmap\"]",
            ));
        }
        if self.scan_timeout_secs == 0 {
            return Err(ConfigError::new(
                "scan_timeout_secs",
                "must be greater than 0",
            ));
        }
        let mut subnets = Vec::new();
        for (i, s) in self.subnets.iter().enumerate() {
            let cidr = parse_prefix(&s.cidr)
                .map_err(|e| ConfigError::new(format!("subnets[{i}].cidr"), e))?;
            for (field, value) in [
                ("name", &s.name),
                ("owner", &s.owner),
                ("location", &s.location),
                ("notes", &s.notes),
            ] {
                if value.len() > 1024 {
                    return Err(ConfigError::new(
                        format!("subnets[{i}].{field}"),
                        "must be at most 1024 bytes",
                    ));
                }
            }
            subnets.push(Subnet {
                cidr,
                name: s.name.clone(),
                owner: s.owner.clone(),
                location: s.location.clone(),
                notes: s.notes.clone(),
            });
        }
        for net in networks.iter() {
            if !subnets.iter().any(|s| s.cidr == *net) {
                subnets.push(Subnet {
                    cidr: *net,
                    name: String::new(),
                    owner: String::new(),
                    location: String::new(),
                    notes: String::new(),
                });
            }
        }
        subnets.sort_by(|a, b| {
            (a.cidr.network(), a.cidr.prefix_len()).cmp(&(b.cidr.network(), b.cidr.prefix_len()))
        });
        let mut profiles: BTreeMap<String, Vec<String>> = BUILTIN_PROFILES
            .iter()
            .map(|(name, args)| {
                (
                    name.to_string(),
                    args.iter().map(|a| a.to_string()).collect(),
                )
            })
            .collect();
        for (name, p) in &self.profiles {
            let key = format!("profiles.{name}");
            if name.is_empty()
                || name.len() > 64
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(ConfigError::new(
                    key,
                    "a profile name is 1 to 64 letters, digits, '-' or '_'",
                ));
            }
            check_args(&p.args).map_err(|e| ConfigError::new(format!("{key}.args"), e))?;
            let mut args = p.args.clone();
            let ports = p.ports.trim();
            if !ports.is_empty() {
                if !ports
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, ',' | '-' | 'T' | 'U' | ':'))
                {
                    return Err(ConfigError::new(
                        format!("{key}.ports"),
                        "expected ports as nmap's -p takes them, e.g. \"22,80,1000-2000\"",
                    ));
                }
                args.push("-p".into());
                args.push(ports.to_owned());
            }
            profiles.insert(name.clone(), args);
        }
        Ok(Inventory {
            networks,
            scan_scope,
            gone_after,
            max_hosts: self.max_hosts,
            nmap: self.nmap.clone(),
            scan_timeout: Duration::from_secs(self.scan_timeout_secs),
            subnets,
            profiles,
        })
    }

    /// Checks values that parse but cannot work; keys are relative to `[inventory]`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.build().map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(toml_text: &str) -> InventorySection {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn parses_networks_scope_and_profiles() {
        let s = section(
            r#"
networks = ["192.0.2.0/24", "2001:db8::/48", "198.51.100.7"]
scan_scope = ["192.0.2.0/25"]
gone_after = "7d"
[[subnets]]
cidr = "192.0.2.0/26"
name = "lab"
owner = "ops"
[profiles.web]
args = ["-sV"]
ports = "80,443"
"#,
        );
        let inv = s.build().unwrap();
        assert!(inv.networks.contains(&"192.0.2.9".parse().unwrap()));
        assert!(inv.networks.contains(&"198.51.100.7".parse().unwrap()));
        assert!(!inv.networks.contains(&"198.51.100.8".parse().unwrap()));
        assert!(inv.networks.contains(&"2001:db8::1".parse().unwrap()));
        assert!(inv.scan_scope.covers(&"192.0.2.0/26".parse().unwrap()));
        assert!(!inv.scan_scope.covers(&"192.0.2.0/24".parse().unwrap()));
        assert_eq!(inv.gone_after, Duration::from_secs(7 * 86_400));
        assert_eq!(inv.profiles["web"], ["-sV", "-p", "80,443"]);
        assert_eq!(inv.profiles["fast"], ["-F"]);
        assert_eq!(inv.subnets.len(), 4);
        let lab = inv
            .subnets
            .iter()
            .find(|s| s.cidr.prefix_len() == 26)
            .unwrap();
        assert_eq!((lab.name.as_str(), lab.owner.as_str()), ("lab", "ops"));
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            ("networks = [\"192.0.2.0/33\"]", "networks[0]"),
            ("scan_scope = [\"x\"]", "scan_scope[0]"),
            ("gone_after = \"soon\"", "gone_after"),
            ("gone_after = \"0h\"", "gone_after"),
            ("max_hosts = 0", "max_hosts"),
            ("nmap = []", "nmap"),
            ("[[subnets]]\ncidr = \"nope\"", "subnets[0].cidr"),
            (
                "[profiles.x]\nargs = [\"-oN\", \"/tmp/f\"]",
                "profiles.x.args",
            ),
            ("[profiles.x]\nports = \"22;rm\"", "profiles.x.ports"),
            ("[profiles.\"a b\"]\nargs = []", "profiles.a b"),
        ];
        for (text, key) in cases {
            let err = section(text).build().unwrap_err().to_string();
            assert!(err.contains(key), "{text}: {err}");
        }
    }
}
