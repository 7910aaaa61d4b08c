//! `[enrich]`: where GeoIP/ASN databases and reputation lists come from.
//!
//! Everything works from files the user installs; a list may instead name a
//! URL, fetched only then (nothing is fetched unless a list says `url`).

use std::path::PathBuf;
use std::time::Duration;

use nectar_event::config::{ConfigError, Sensitive};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::lists::{Format, MAX_LISTS};

/// `[enrich]`: GeoIP, ASN and reputation lists for source addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EnrichSection {
    /// How often the files below are checked for changes (a changed file is
    /// reloaded without a restart), e.g. "30s", "5m".
    pub check_every: String,
    /// GeoIP and ASN databases (MMDB files: MaxMind GeoLite2, DB-IP Lite or
    /// IPinfo Lite; or an iptoasn.com TSV for ASN).
    pub geoip: GeoipConfig,
    /// Reputation lists (`[[enrich.lists]]`), at most 64.
    pub lists: Vec<ListConfig>,
    /// Reverse DNS of source addresses (off by default).
    pub dns: DnsConfig,
}

/// `[enrich.dns]`: reverse DNS of source addresses, looked up when an
/// address's page is opened (never on the ingest path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DnsConfig {
    /// Look names up. Off by default: the DNS server of an attacker's
    /// reverse zone (often the attacker's own) sees every lookup.
    pub reverse: bool,
    /// Servers to ask ("192.0.2.53" or "192.0.2.53:5353"); empty: the
    /// system's (/etc/resolv.conf).
    pub servers: Vec<String>,
    /// Longest wait for one lookup, e.g. "2s".
    pub timeout: String,
    /// Lookups in flight at once (1 to 256).
    pub concurrency: usize,
    /// Answers kept in the cache (within each record's TTL).
    pub cache_entries: u64,
    /// Shortest time a "no name" answer is kept, e.g. "1h".
    pub negative_ttl: String,
    /// Check that the name resolves back to the address (forward-confirmed).
    pub verify: bool,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            reverse: false,
            servers: Vec::new(),
            timeout: "2s".into(),
            concurrency: 16,
            cache_entries: 10_000,
            negative_ttl: "1h".into(),
            verify: true,
        }
    }
}

impl DnsConfig {
    /// The checked settings, or `None` when off; keys relative to `[enrich.dns]`.
    fn build(&self) -> Result<Option<crate::names::DnsSettings>, ConfigError> {
        let timeout = parse_duration(&self.timeout).map_err(|e| ConfigError::new("timeout", e))?;
        let negative_ttl =
            parse_duration(&self.negative_ttl).map_err(|e| ConfigError::new("negative_ttl", e))?;
        if !(1..=256).contains(&self.concurrency) {
            return Err(ConfigError::new("concurrency", "from 1 to 256"));
        }
        if !(1..=10_000_000).contains(&self.cache_entries) {
            return Err(ConfigError::new("cache_entries", "from 1 to 10000000"));
        }
        let mut servers = Vec::new();
        for (i, text) in self.servers.iter().enumerate() {
            let text = text.trim();
            let addr = text
                .parse::<std::net::SocketAddr>()
                .or_else(|_| {
                    text.parse::<std::net::IpAddr>()
                        .map(|ip| std::net::SocketAddr::new(ip, 53))
                })
                .map_err(|_| {
                    ConfigError::new(
                        format!("servers[{i}]"),
                        format!(
                            "{text:?}: an address, e.g. \"192.0.2.53\" or \"[2001:db8::53]:5353\""
                        ),
                    )
                })?;
            servers.push(addr);
        }
        Ok(self.reverse.then_some(crate::names::DnsSettings {
            servers,
            timeout,
            concurrency: self.concurrency,
            cache_entries: self.cache_entries,
            negative_ttl,
            verify: self.verify,
        }))
    }
}

impl Default for EnrichSection {
    fn default() -> Self {
        EnrichSection {
            check_every: "30s".into(),
            geoip: GeoipConfig::default(),
            lists: Vec::new(),
            dns: DnsConfig::default(),
        }
    }
}

/// `[enrich.geoip]`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct GeoipConfig {
    /// City or country MMDB file (GeoLite2-City/Country, DB-IP City/Country
    /// Lite, IPinfo Lite). Empty: no geography.
    pub city: String,
    /// ASN MMDB file (GeoLite2-ASN, DB-IP ASN Lite, IPinfo Lite). Empty: the
    /// `city` file's ASN fields if it has them (IPinfo Lite), else `asn_tsv`.
    pub asn: String,
    /// ASN table in iptoasn.com's TSV format (`ip2asn-combined.tsv`, unpacked),
    /// used when `asn` is empty.
    pub asn_tsv: String,
}

/// `[[enrich.lists]]`: one reputation list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListConfig {
    /// Short name shown beside hits ("spamhaus-drop"): letters, digits, `-`,
    /// `_`, `.`; unique.
    pub name: String,
    /// What being on it means: scanner, tor-exit, botnet-c2, spam,
    /// known-attacker, malware, anonymizer, ... (free text, ≤ 64 bytes).
    pub category: String,
    /// A local file (re-read when it changes). Give `path` or `url`.
    #[serde(default)]
    pub path: String,
    /// An http(s) URL fetched every `refresh`; the last good copy is kept in
    /// the data directory and used until a download succeeds.
    #[serde(default)]
    pub url: String,
    /// How often `url` is fetched, e.g. "1h", "1d".
    #[serde(default = "default_refresh")]
    pub refresh: String,
    /// auto, plain, spamhaus-json, feodo-csv, threatfox-csv, urlhaus-csv.
    #[serde(default)]
    pub format: Format,
    /// Most entries read (a list with more is refused, the previous kept).
    #[serde(default = "default_max_entries")]
    pub max_entries: usize,
    /// Sent as the `Auth-Key` header with `url` (abuse.ch), if set.
    #[serde(default)]
    pub auth_key: Sensitive,
}

fn default_refresh() -> String {
    "6h".into()
}

fn default_max_entries() -> usize {
    2_000_000
}

/// [`EnrichSection`] checked.
#[derive(Debug, Clone, Default)]
pub struct EnrichConfig {
    /// `check_every`.
    pub check_every: Duration,
    /// `geoip.city`.
    pub city: Option<PathBuf>,
    /// `geoip.asn`.
    pub asn: Option<PathBuf>,
    /// `geoip.asn_tsv`.
    pub asn_tsv: Option<PathBuf>,
    /// The lists.
    pub lists: Vec<List>,
    /// Where downloaded lists are kept (`DATA_DIR/enrich`); none: not kept.
    pub cache_dir: Option<PathBuf>,
    /// Reverse DNS, when on.
    pub dns: Option<crate::names::DnsSettings>,
}

/// One list, checked.
#[derive(Debug, Clone)]
pub struct List {
    /// Its name.
    pub name: String,
    /// Its category.
    pub category: String,
    /// Where it comes from.
    pub source: Source,
    /// Its format.
    pub format: Format,
    /// Most entries.
    pub max_entries: usize,
}

/// Where a list comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A local file.
    Path(PathBuf),
    /// A URL, its refresh interval and optional `Auth-Key`.
    Url {
        /// The URL.
        url: String,
        /// How often.
        refresh: Duration,
        /// The header value, if any.
        auth_key: Option<Sensitive>,
    },
}

impl Source {
    /// The path or URL, for people.
    pub fn describe(&self) -> String {
        match self {
            Source::Path(p) => p.display().to_string(),
            Source::Url { url, .. } => url.clone(),
        }
    }
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
        .map_err(|_| format!("{text:?}: expected a number and a unit, e.g. \"6h\""))?;
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

fn path(value: &str) -> Option<PathBuf> {
    let v = value.trim();
    (!v.is_empty()).then(|| PathBuf::from(v))
}

impl EnrichSection {
    /// Checks the section; keys are relative to `[enrich]`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.build(None).map(drop)
    }

    /// The checked settings; downloaded lists are kept under `cache_dir`.
    pub fn build(&self, cache_dir: Option<PathBuf>) -> Result<EnrichConfig, ConfigError> {
        let check_every =
            parse_duration(&self.check_every).map_err(|e| ConfigError::new("check_every", e))?;
        if self.lists.len() > MAX_LISTS {
            return Err(ConfigError::new(
                "lists",
                format!("at most {MAX_LISTS} lists ({} given)", self.lists.len()),
            ));
        }
        let mut lists = Vec::new();
        for (i, l) in self.lists.iter().enumerate() {
            let list = l
                .build(&lists)
                .map_err(|e| e.within(format!("lists[{i}]")))?;
            lists.push(list);
        }
        Ok(EnrichConfig {
            check_every,
            city: path(&self.geoip.city),
            asn: path(&self.geoip.asn),
            asn_tsv: path(&self.geoip.asn_tsv),
            lists,
            cache_dir,
            dns: self.dns.build().map_err(|e| e.within("dns"))?,
        })
    }
}

impl ListConfig {
    fn build(&self, before: &[List]) -> Result<List, ConfigError> {
        let name = self.name.trim();
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(ConfigError::new(
                "name",
                "1 to 64 letters, digits, '-', '_' or '.'",
            ));
        }
        if before.iter().any(|l| l.name == name) {
            return Err(ConfigError::new(
                "name",
                format!("{name:?} names two lists"),
            ));
        }
        let category = self.category.trim();
        if category.is_empty() || category.len() > 64 || category.chars().any(char::is_control) {
            return Err(ConfigError::new(
                "category",
                "1 to 64 bytes, e.g. \"scanner\", \"tor-exit\", \"botnet-c2\"",
            ));
        }
        if self.max_entries == 0 {
            return Err(ConfigError::new("max_entries", "must be more than 0"));
        }
        let source = match (path(&self.path), self.url.trim()) {
            (Some(p), "") => Source::Path(p),
            (None, url) if !url.is_empty() => {
                let lower = url.to_ascii_lowercase();
                if !(lower.starts_with("http://") || lower.starts_with("https://")) {
                    return Err(ConfigError::new(
                        "url",
                        "must start with http:// or https://",
                    ));
                }
                let refresh =
                    parse_duration(&self.refresh).map_err(|e| ConfigError::new("refresh", e))?;
                Source::Url {
                    url: url.to_owned(),
                    refresh,
                    auth_key: (!self.auth_key.expose().is_empty()).then(|| self.auth_key.clone()),
                }
            }
            (Some(_), _) => {
                return Err(ConfigError::new("url", "give `path` or `url`, not both"));
            }
            (None, _) => return Err(ConfigError::new("path", "give `path` or `url`")),
        };
        Ok(List {
            name: name.to_owned(),
            category: category.to_owned(),
            source,
            format: self.format,
            max_entries: self.max_entries,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(extra: &str) -> String {
        format!("[[lists]]\nname = \"a\"\ncategory = \"scanner\"\n{extra}")
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            (list(""), "lists[0].path"),
            (list("path = \"x\"\nurl = \"http://x\"\n"), "lists[0].url"),
            (list("url = \"ftp://x\"\n"), "lists[0].url"),
            (
                list("url = \"http://x\"\nrefresh = \"soon\"\n"),
                "lists[0].refresh",
            ),
            ("check_every = \"0s\"\n".to_owned(), "check_every"),
            (
                format!("{}{}", list("path = \"x\"\n"), list("path = \"y\"\n")),
                "lists[1].name",
            ),
        ];
        for (text, key) in cases {
            let section: EnrichSection = toml::from_str(&text).unwrap();
            let err = section.validate().unwrap_err().to_string();
            assert!(err.contains(key), "{text:?}: {err}");
        }
        let ok: EnrichSection = toml::from_str(&list("path = \"x\"\n")).unwrap();
        ok.validate().unwrap();
    }
}
