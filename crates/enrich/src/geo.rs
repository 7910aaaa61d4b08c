//! GeoIP and ASN: MMDB files of three vendors' schemas (MaxMind GeoLite2/GeoIP2,
//! DB-IP Lite, IPinfo Lite) read through one reader, and the iptoasn.com TSV as
//! an ASN table of our own.
//!
//! Each field is read from the first of its candidate paths that holds a value
//! (nested `country.iso_code` or flat `country_code`; `autonomous_system_number`
//! or IPinfo's `"AS64500"` string), as strings borrowed from the file's bytes:
//! a lookup allocates nothing. A file is read whole into memory (no `mmap`: it
//! may be replaced while we run) and checked with `verify()` before use, so a
//! corrupt file is an error at load, never a panic at lookup.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use maxminddb::{PathElement, Reader};
use serde::Serialize;

/// Largest MMDB file read (a full GeoLite2-City is ~60 MB).
pub const MAX_MMDB_BYTES: u64 = 1 << 30;
/// Largest ASN TSV read (iptoasn's combined file is ~30 MB unpacked).
pub const MAX_TSV_BYTES: u64 = 512 << 20;

/// Why a database could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Bigger than we read.
    #[error("{path} is {size} bytes, more than the {max} read")]
    TooBig {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The bound.
        max: u64,
    },
    /// Not an MMDB file, or a damaged one (truncated download, wrong file).
    #[error("{path} is not a valid MaxMind DB (MMDB) file: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What the reader found.
        reason: String,
    },
    /// A TSV line that is not `start end asn country description`.
    #[error("{path} line {line}: not an iptoasn line ({reason})")]
    Tsv {
        /// The file.
        path: PathBuf,
        /// The line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// Who made a database: decides the attribution shown beside its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    /// MaxMind GeoLite2 / GeoIP2.
    Maxmind,
    /// DB-IP (Lite).
    Dbip,
    /// IPinfo (Lite).
    Ipinfo,
    /// iptoasn.com (public domain, PDDL).
    Iptoasn,
    /// Anything else.
    Other,
}

impl Vendor {
    fn of(database_type: &str) -> Vendor {
        let t = database_type.to_ascii_lowercase();
        if t.contains("geolite") || t.contains("geoip") {
            Vendor::Maxmind
        } else if t.contains("dbip") || t.contains("db-ip") {
            Vendor::Dbip
        } else if t.contains("ipinfo") {
            Vendor::Ipinfo
        } else {
            Vendor::Other
        }
    }

    /// The attribution the data's licence asks for (shown wherever it is).
    pub fn attribution(self) -> &'static str {
        match self {
            Vendor::Maxmind => {
                "This product includes GeoLite2 data created by MaxMind, available from https://www.maxmind.com."
            }
            Vendor::Dbip => "IP geolocation by DB-IP (https://db-ip.com), licensed CC BY 4.0.",
            Vendor::Ipinfo => {
                "IP address data powered by IPinfo (https://ipinfo.io), CC BY-SA 4.0."
            }
            Vendor::Iptoasn => "ASN data from iptoasn.com (PDDL).",
            Vendor::Other => "",
        }
    }
}

/// What is known of a loaded database (the status page, attribution).
#[derive(Debug, Clone, Serialize)]
pub struct DbInfo {
    /// The file.
    pub path: PathBuf,
    /// The database's own type (`GeoLite2-City`, `DBIP-City-Lite`, ...).
    pub database_type: String,
    /// When the vendor built it (Unix seconds; 0 when not said).
    pub build_epoch: u64,
    /// Who made it.
    pub vendor: Vendor,
    /// The attribution to show.
    pub attribution: String,
    /// Records (MMDB nodes or TSV ranges).
    pub records: u64,
}

/// Where an address is, as far as the database knows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Geo<'a> {
    /// ISO 3166-1 alpha-2 (`NL`).
    pub country_code: Option<&'a str>,
    /// English country name.
    pub country: Option<&'a str>,
    /// English city name.
    pub city: Option<&'a str>,
}

impl Geo<'_> {
    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.country_code.is_none() && self.country.is_none() && self.city.is_none()
    }
}

/// The network an address belongs to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Asn<'a> {
    /// The AS number.
    pub number: Option<u32>,
    /// Who runs it.
    pub organization: Option<&'a str>,
}

impl Asn<'_> {
    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.number.is_none() && self.organization.is_none()
    }
}

/// One MMDB file in memory.
pub struct MmdbFile {
    reader: Reader<Vec<u8>>,
    /// What it is.
    pub info: DbInfo,
}

impl std::fmt::Debug for MmdbFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MmdbFile")
            .field("info", &self.info)
            .finish()
    }
}

fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, GeoError> {
    let io = |source| GeoError::Io {
        path: path.to_owned(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > max {
        return Err(GeoError::TooBig {
            path: path.to_owned(),
            size,
            max,
        });
    }
    std::fs::read(path).map_err(io)
}

impl MmdbFile {
    /// Reads and checks `path`.
    pub fn open(path: &Path) -> Result<MmdbFile, GeoError> {
        let bytes = read_bounded(path, MAX_MMDB_BYTES)?;
        MmdbFile::from_bytes(bytes, path)
    }

    /// Checks `bytes` (read from `path`, named in errors).
    pub fn from_bytes(bytes: Vec<u8>, path: &Path) -> Result<MmdbFile, GeoError> {
        let invalid = |e: maxminddb::MaxMindDbError| GeoError::Invalid {
            path: path.to_owned(),
            reason: e.to_string(),
        };
        let reader = Reader::from_source(bytes).map_err(invalid)?;
        reader.verify().map_err(invalid)?;
        let meta = reader.metadata();
        let vendor = Vendor::of(&meta.database_type);
        let attribution = match vendor {
            Vendor::Other => meta
                .description
                .get("en")
                .cloned()
                .unwrap_or_else(|| meta.database_type.clone()),
            v => v.attribution().to_owned(),
        };
        let info = DbInfo {
            path: path.to_owned(),
            database_type: meta.database_type.clone(),
            build_epoch: meta.build_epoch,
            vendor,
            attribution,
            records: u64::from(meta.node_count),
        };
        Ok(MmdbFile { reader, info })
    }

    /// Country and city of `ip` (empty when the file has no record for it).
    pub fn geo(&self, ip: IpAddr) -> Geo<'_> {
        let Ok(found) = self.reader.lookup(ip) else {
            return Geo::default();
        };
        if !found.has_data() {
            return Geo::default();
        }
        let text = |paths: &[&[PathElement<'_>]]| -> Option<&str> {
            paths
                .iter()
                .find_map(|p| found.decode_path::<&str>(p).ok().flatten())
        };
        Geo {
            country_code: text(&[
                &[PathElement::Key("country"), PathElement::Key("iso_code")],
                &[PathElement::Key("country_code")],
                &[
                    PathElement::Key("registered_country"),
                    PathElement::Key("iso_code"),
                ],
            ]),
            country: text(&[
                &[
                    PathElement::Key("country"),
                    PathElement::Key("names"),
                    PathElement::Key("en"),
                ],
                &[PathElement::Key("country")],
            ]),
            city: text(&[
                &[
                    PathElement::Key("city"),
                    PathElement::Key("names"),
                    PathElement::Key("en"),
                ],
                &[PathElement::Key("city")],
            ]),
        }
    }

    /// AS number and organisation of `ip`.
    pub fn asn(&self, ip: IpAddr) -> Asn<'_> {
        let Ok(found) = self.reader.lookup(ip) else {
            return Asn::default();
        };
        if !found.has_data() {
            return Asn::default();
        }
        let number = [
            &[PathElement::Key("autonomous_system_number")][..],
            &[
                PathElement::Key("traits"),
                PathElement::Key("autonomous_system_number"),
            ][..],
        ]
        .iter()
        .find_map(|p| found.decode_path::<u32>(p).ok().flatten())
        .or_else(|| {
            // IPinfo Lite: "asn": "AS64500".
            let s = found
                .decode_path::<&str>(&[PathElement::Key("asn")])
                .ok()
                .flatten()?;
            let digits = s.strip_prefix("AS").or(s.strip_prefix("as")).unwrap_or(s);
            digits.parse().ok()
        });
        let organization = [
            &[PathElement::Key("autonomous_system_organization")][..],
            &[
                PathElement::Key("traits"),
                PathElement::Key("autonomous_system_organization"),
            ][..],
            &[PathElement::Key("as_name")][..],
        ]
        .iter()
        .find_map(|p| found.decode_path::<&str>(p).ok().flatten());
        Asn {
            number,
            organization,
        }
    }
}

/// The iptoasn.com table (`ip2asn-combined.tsv`, `ip2asn-v4.tsv`, `-v6`):
/// `range_start range_end AS_number country_code AS_description`, tab-separated.
#[derive(Debug, Default)]
pub struct AsnTable {
    v4: Vec<(u32, u32, u32, u32)>,
    v6: Vec<(u128, u128, u32, u32)>,
    orgs: Vec<String>,
    /// What it is.
    pub info: Option<DbInfo>,
}

impl AsnTable {
    /// Reads `path`; a line that does not parse is an error naming it.
    pub fn open(path: &Path) -> Result<AsnTable, GeoError> {
        let bytes = read_bounded(path, MAX_TSV_BYTES)?;
        let text = String::from_utf8_lossy(&bytes);
        let mut table = AsnTable::parse(&text).map_err(|(line, reason)| GeoError::Tsv {
            path: path.to_owned(),
            line,
            reason,
        })?;
        let build_epoch = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        table.info = Some(DbInfo {
            path: path.to_owned(),
            database_type: "iptoasn TSV".into(),
            build_epoch,
            vendor: Vendor::Iptoasn,
            attribution: Vendor::Iptoasn.attribution().into(),
            records: (table.v4.len() + table.v6.len()) as u64,
        });
        Ok(table)
    }

    /// Parses the TSV text; errors are (line number, reason).
    pub fn parse(text: &str) -> Result<AsnTable, (usize, String)> {
        let mut t = AsnTable::default();
        let mut org_ids: std::collections::HashMap<String, u32> = Default::default();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let mut cols = line.split('\t');
            let (Some(s), Some(e), Some(asn), _, desc) = (
                cols.next(),
                cols.next(),
                cols.next(),
                cols.next(),
                cols.next(),
            ) else {
                return Err((n + 1, "fewer than 3 tab-separated columns".into()));
            };
            let s: IpAddr = s
                .trim()
                .parse()
                .map_err(|_| (n + 1, format!("bad start address {:?}", cut(s))))?;
            let e: IpAddr = e
                .trim()
                .parse()
                .map_err(|_| (n + 1, format!("bad end address {:?}", cut(e))))?;
            let asn: u32 = asn
                .trim()
                .parse()
                .map_err(|_| (n + 1, format!("bad AS number {:?}", cut(asn))))?;
            if asn == 0 {
                // "Not routed".
                continue;
            }
            let desc = desc.unwrap_or("").trim();
            let next = u32::try_from(t.orgs.len()).unwrap_or(u32::MAX);
            let org = *org_ids.entry(desc.to_owned()).or_insert_with(|| {
                t.orgs.push(desc.to_owned());
                next
            });
            match (s, e) {
                (IpAddr::V4(s), IpAddr::V4(e)) if s <= e => {
                    t.v4.push((s.into(), e.into(), asn, org));
                }
                (IpAddr::V6(s), IpAddr::V6(e)) if s <= e => {
                    t.v6.push((s.into(), e.into(), asn, org));
                }
                _ => {
                    return Err((
                        n + 1,
                        "start and end differ in family or are reversed".into(),
                    ));
                }
            }
        }
        t.v4.sort_unstable();
        t.v6.sort_unstable();
        Ok(t)
    }

    /// The AS of `ip`.
    pub fn asn(&self, ip: IpAddr) -> Asn<'_> {
        fn find<T: Ord + Copy>(rows: &[(T, T, u32, u32)], a: T) -> Option<(u32, u32)> {
            let i = rows.partition_point(|r| r.0 <= a);
            let r = rows.get(i.checked_sub(1)?)?;
            (r.1 >= a).then_some((r.2, r.3))
        }
        let hit = match crate::lists::canonical(ip) {
            IpAddr::V4(a) => find(&self.v4, u32::from(a)),
            IpAddr::V6(a) => find(&self.v6, u128::from(a)),
        };
        match hit {
            Some((number, org)) => Asn {
                number: Some(number),
                organization: self
                    .orgs
                    .get(org as usize)
                    .map(String::as_str)
                    .filter(|s| !s.is_empty()),
            },
            None => Asn::default(),
        }
    }
}

fn cut(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iptoasn_lines() {
        let t = AsnTable::parse(
            "1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n1.0.1.0\t1.0.3.255\t0\tNone\tNot routed\n2001:db8::\t2001:db8:ffff:ffff:ffff:ffff:ffff:ffff\t64496\tZZ\tDOC-V6\n",
        )
        .unwrap();
        let a = t.asn("1.0.0.7".parse().unwrap());
        assert_eq!(a.number, Some(13335));
        assert_eq!(a.organization, Some("CLOUDFLARENET"));
        assert!(t.asn("1.0.2.1".parse().unwrap()).is_empty());
        assert_eq!(t.asn("2001:db8::5".parse().unwrap()).number, Some(64496));
        assert_eq!(AsnTable::parse("x\ty\n").unwrap_err().0, 1);
        assert_eq!(
            AsnTable::parse("1.0.0.0\t1.0.0.255\tAS1\tUS\tX\n")
                .unwrap_err()
                .0,
            1
        );
    }
}
