//! Reputation lists: the parsers for the formats people download (plain IP/CIDR
//! lines, FireHOL netsets, Spamhaus DROP text and JSON, abuse.ch Feodo, ThreatFox
//! and URLhaus CSV) and the one table all lists are looked up in at once.
//!
//! Parsing is pure (text in, ranges out). The table is built once per change
//! (in the refresher, off the request path): every list's prefixes are merged
//! into disjoint address segments, each with the bit set of the lists that cover
//! it, so one lookup answers "on which lists" with a binary search in a bucket of
//! a 65,536-entry index — no allocation, no lock. An address inside a /16 of a
//! list lies in a segment that carries that list's bit, whatever longer prefixes
//! other lists add inside it (longest-prefix and any-prefix agree for membership).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Most lists one table holds (the bits of a segment's mask).
pub const MAX_LISTS: usize = 64;

/// Longest line read; longer lines are skipped (counted).
const MAX_LINE: usize = 4096;

/// A list's format (`format` in `[[enrich.lists]]`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Recognised from the content (JSON lines, a CSV header, or plain lines).
    #[default]
    Auto,
    /// One IP or CIDR per line; `#`, `;` and `//` start comments (plain lists,
    /// FireHOL `.netset`/`.ipset`, Spamhaus DROP text, ET, blocklist.de, Tor).
    Plain,
    /// Spamhaus DROP JSON lines (`drop_v4.json`, `drop_v6.json`): `{"cidr": ...}`
    /// per line and a final metadata line, which must be there.
    SpamhausJson,
    /// abuse.ch Feodo Tracker `ipblocklist.csv` (the `dst_ip` column).
    FeodoCsv,
    /// abuse.ch ThreatFox CSV export (`ioc_value` of `ip:port` rows).
    ThreatfoxCsv,
    /// abuse.ch URLhaus CSV (the host of each `url` when it is an address).
    UrlhausCsv,
}

/// A list's prefixes as merged, disjoint, sorted inclusive address ranges.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Prefixes {
    /// IPv4 ranges.
    pub v4: Vec<(u32, u32)>,
    /// IPv6 ranges.
    pub v6: Vec<(u128, u128)>,
}

impl Prefixes {
    /// Ranges as read: sorts and merges them.
    pub fn from_ranges(mut v4: Vec<(u32, u32)>, mut v6: Vec<(u128, u128)>) -> Prefixes {
        Prefixes {
            v4: merge(&mut v4),
            v6: merge(&mut v6),
        }
    }

    /// Whether `ip` is inside one of the ranges (binary search).
    pub fn contains(&self, ip: IpAddr) -> bool {
        fn find<T: Ord + Copy>(ranges: &[(T, T)], a: T) -> bool {
            let i = ranges.partition_point(|r| r.0 <= a);
            i > 0 && ranges[i - 1].1 >= a
        }
        match canonical(ip) {
            IpAddr::V4(a) => find(&self.v4, u32::from(a)),
            IpAddr::V6(a) => find(&self.v6, u128::from(a)),
        }
    }
}

fn merge<T: Ord + Copy + Step>(ranges: &mut [(T, T)]) -> Vec<(T, T)> {
    ranges.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(ranges.len());
    for &(s, e) in ranges.iter() {
        if let Some(last) = out.last_mut() {
            // Overlapping or adjacent: extend.
            if last.1.next().is_none_or(|n| s <= n) {
                if e > last.1 {
                    last.1 = e;
                }
                continue;
            }
        }
        out.push((s, e));
    }
    out
}

/// What parsing a list gave.
#[derive(Debug, Default, Clone)]
pub struct Parsed {
    /// The prefixes.
    pub prefixes: Prefixes,
    /// Entries read (addresses and prefixes, before merging).
    pub entries: usize,
    /// Lines that held no address (malformed; comments and blanks not counted).
    pub skipped: usize,
}

/// Why a list's text was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    /// More lines were unreadable than read: probably not a list at all (an
    /// HTML error page, a login wall).
    #[error(
        "not a list: {skipped} of {lines} lines hold no address (first bad line {line}: {sample:?})"
    )]
    NotAList {
        /// Lines without an address.
        skipped: usize,
        /// Lines with content.
        lines: usize,
        /// The first bad line's number.
        line: usize,
        /// Its start.
        sample: String,
    },
    /// A Spamhaus JSON file without its closing metadata line: cut short.
    #[error("Spamhaus JSON without its metadata line: the file is incomplete")]
    Truncated,
    /// More entries than `max_entries`.
    #[error("more than {0} entries (max_entries)")]
    TooMany(usize),
}

/// Parses a list's text in `format`, keeping at most `max_entries` entries.
pub fn parse(text: &str, format: Format, max_entries: usize) -> Result<Parsed, ParseError> {
    let format = match format {
        Format::Auto => detect(text),
        f => f,
    };
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    let (mut entries, mut skipped, mut lines) = (0usize, 0usize, 0usize);
    let mut first_bad: Option<(usize, String)> = None;
    let mut metadata = false;
    for (number, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let found = if line.len() > MAX_LINE {
            Line::Bad
        } else {
            match format {
                Format::Auto | Format::Plain => plain_line(line),
                Format::SpamhausJson => {
                    if line.contains("\"metadata\"") {
                        metadata = true;
                        Line::Comment
                    } else {
                        json_cidr(line)
                    }
                }
                Format::FeodoCsv => csv_line(line, 1, net),
                Format::ThreatfoxCsv => csv_line(line, 2, threatfox_value),
                Format::UrlhausCsv => csv_line(line, 2, url_host),
            }
        };
        match found {
            Line::Comment => {}
            Line::Skip => lines += 1,
            Line::Bad => {
                lines += 1;
                skipped += 1;
                if first_bad.is_none() {
                    first_bad = Some((number + 1, line.chars().take(60).collect()));
                }
            }
            Line::Net(range) => {
                lines += 1;
                entries += 1;
                if entries > max_entries {
                    return Err(ParseError::TooMany(max_entries));
                }
                match range {
                    Range::V4(s, e) => v4.push((s, e)),
                    Range::V6(s, e) => v6.push((s, e)),
                }
            }
        }
    }
    if skipped > 0 && skipped * 2 > lines {
        let (line, sample) = first_bad.unwrap_or_default();
        return Err(ParseError::NotAList {
            skipped,
            lines,
            line,
            sample,
        });
    }
    if format == Format::SpamhausJson && !metadata {
        return Err(ParseError::Truncated);
    }
    Ok(Parsed {
        prefixes: Prefixes::from_ranges(v4, v6),
        entries,
        skipped,
    })
}

/// The format a text is in, from its first lines.
fn detect(text: &str) -> Format {
    for line in text.lines().take(64) {
        let l = line.trim();
        if l.starts_with('{') {
            return Format::SpamhausJson;
        }
        let lower = l.to_ascii_lowercase();
        if lower.contains("dst_ip") && lower.contains("first_seen") {
            return Format::FeodoCsv;
        }
        if lower.contains("ioc_value") {
            return Format::ThreatfoxCsv;
        }
        if lower.contains("urlhaus_link") || lower.contains("dateadded") {
            return Format::UrlhausCsv;
        }
    }
    Format::Plain
}

enum Range {
    V4(u32, u32),
    V6(u128, u128),
}

enum Line {
    /// A comment or header: not counted.
    Comment,
    /// A row that is valid but holds no address for us (a ThreatFox domain).
    Skip,
    Bad,
    Net(Range),
}

fn plain_line(line: &str) -> Line {
    if line.starts_with('#') || line.starts_with(';') || line.starts_with("//") {
        return Line::Comment;
    }
    // The first token: "1.4.0.0/17 ; SBL256893", "203.0.113.9\t# note".
    let token = line
        .split(|c: char| c.is_whitespace() || c == ';' || c == ',' || c == '#')
        .next()
        .unwrap_or("");
    net(token).map_or(Line::Bad, Line::Net)
}

fn json_cidr(line: &str) -> Line {
    // {"cidr":"1.10.16.0/20","sblid":"SBL256894","rir":"apnic"}: the value of
    // "cidr", read without a JSON library (the only field wanted).
    let Some(at) = line.find("\"cidr\"") else {
        return Line::Bad;
    };
    let rest = line[at + 6..].trim_start();
    let Some(rest) = rest.strip_prefix(':') else {
        return Line::Bad;
    };
    let rest = rest.trim_start();
    let Some(rest) = rest.strip_prefix('"') else {
        return Line::Bad;
    };
    let value = rest.split('"').next().unwrap_or("");
    net(value).map_or(Line::Bad, Line::Net)
}

/// A CSV row's `column` (0-based) through `pick`; `#` lines and the header
/// are comments.
fn csv_line(line: &str, column: usize, pick: fn(&str) -> Option<Range>) -> Line {
    if line.starts_with('#') {
        return Line::Comment;
    }
    let Some(cell) = line.split(',').nth(column) else {
        return Line::Bad;
    };
    let cell = cell.trim().trim_matches('"').trim();
    if cell.eq_ignore_ascii_case("dst_ip")
        || cell.eq_ignore_ascii_case("ioc_value")
        || cell.eq_ignore_ascii_case("url")
    {
        return Line::Comment;
    }
    match pick(cell) {
        Some(r) => Line::Net(r),
        None if column == 1 => Line::Bad,
        // ThreatFox and URLhaus rows are mostly domains and URLs: not ours.
        None => Line::Skip,
    }
}

fn threatfox_value(value: &str) -> Option<Range> {
    // "ip:port": an IPv4 address and a port ("[v6]:port" for IPv6).
    let host = value.rsplit_once(':').map_or(value, |(h, _)| h);
    net(host.trim_start_matches('[').trim_end_matches(']'))
}

fn url_host(url: &str) -> Option<Range> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = authority.strip_prefix('[') {
        return net(v6.split(']').next().unwrap_or(""));
    }
    net(authority.split(':').next().unwrap_or(""))
}

/// An address or CIDR prefix as an inclusive range; host bits are cleared.
fn net(text: &str) -> Option<Range> {
    let text = text.trim();
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l.parse::<u8>().ok()?)),
        None => (text, None),
    };
    match canonical(addr.parse::<IpAddr>().ok()?) {
        IpAddr::V4(a) => {
            let len = len.unwrap_or(32);
            if len > 32 {
                return None;
            }
            let host = u32::MAX.checked_shr(u32::from(len)).unwrap_or(0);
            let start = u32::from(a) & !host;
            Some(Range::V4(start, start | host))
        }
        IpAddr::V6(a) => {
            let len = len.unwrap_or(128);
            if len > 128 {
                return None;
            }
            let host = u128::MAX.checked_shr(u32::from(len)).unwrap_or(0);
            let start = u128::from(a) & !host;
            Some(Range::V6(start, start | host))
        }
    }
}

/// IPv4-mapped IPv6 addresses as IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// An address type the table is built over.
pub trait Step: Copy + Ord + Default {
    /// The next address, or `None` after the last.
    fn next(self) -> Option<Self>;
    /// The previous address (saturating at the first).
    fn prev(self) -> Self;
    /// The top 16 bits (the index bucket).
    fn bucket(self) -> usize;
}

impl Step for u32 {
    fn next(self) -> Option<u32> {
        self.checked_add(1)
    }
    fn prev(self) -> u32 {
        self.saturating_sub(1)
    }
    fn bucket(self) -> usize {
        (self >> 16) as usize
    }
}

impl Step for u128 {
    fn next(self) -> Option<u128> {
        self.checked_add(1)
    }
    fn prev(self) -> u128 {
        self.saturating_sub(1)
    }
    fn bucket(self) -> usize {
        (self >> 112) as usize
    }
}

/// Disjoint segments `[starts[i], starts[i+1])`, each with its lists' bits.
#[derive(Debug, Clone)]
struct Segments<T> {
    starts: Vec<T>,
    masks: Vec<u64>,
    /// `index[b]`: the first segment whose start is in bucket `b` or later
    /// (65,537 entries).
    index: Vec<u32>,
}

impl<T: Step> Segments<T> {
    fn build(lists: &[&[(T, T)]]) -> Segments<T> {
        let n = lists.len().min(MAX_LISTS);
        let mut cursor = vec![0usize; n];
        let mut inside = vec![false; n];
        let mut mask = 0u64;
        let mut starts = vec![T::default()];
        let mut masks = vec![0u64];
        loop {
            // The next boundary of any list: a start when outside, the address
            // after the end when inside (none when the range ends at the last).
            let mut next: Option<T> = None;
            for i in 0..n {
                let Some(&(s, e)) = lists[i].get(cursor[i]) else {
                    continue;
                };
                let b = if inside[i] { e.next() } else { Some(s) };
                if let Some(b) = b
                    && next.is_none_or(|x| b < x)
                {
                    next = Some(b);
                }
            }
            let Some(at) = next else { break };
            for i in 0..n {
                let Some(&(s, e)) = lists[i].get(cursor[i]) else {
                    continue;
                };
                if inside[i] {
                    if e.next() == Some(at) {
                        inside[i] = false;
                        mask &= !(1u64 << i);
                        cursor[i] += 1;
                        // An adjacent next range cannot start here (merged).
                    }
                } else if s == at {
                    inside[i] = true;
                    mask |= 1u64 << i;
                }
            }
            let last = starts.len() - 1;
            if starts[last] == at {
                masks[last] = mask;
            } else if masks[last] != mask {
                starts.push(at);
                masks.push(mask);
            }
        }
        let mut index = vec![0u32; 65_537];
        let mut seg = 0usize;
        for (b, slot) in index.iter_mut().enumerate() {
            while seg < starts.len() && starts[seg].bucket() < b {
                seg += 1;
            }
            *slot = u32::try_from(seg).unwrap_or(u32::MAX);
        }
        Segments {
            starts,
            masks,
            index,
        }
    }

    #[inline]
    fn get(&self, a: T) -> u64 {
        let b = a.bucket();
        let lo = self.index[b] as usize;
        let hi = self.index[b + 1] as usize;
        let i = lo + self.starts[lo..hi].partition_point(|s| *s <= a);
        // starts[0] is the lowest address, so i >= 1.
        self.masks[i.saturating_sub(1)]
    }
}

/// All lists, looked up at once.
#[derive(Debug, Clone)]
pub struct ListTable {
    v4: Segments<u32>,
    v6: Segments<u128>,
}

impl Default for ListTable {
    fn default() -> Self {
        ListTable::build(&[])
    }
}

impl ListTable {
    /// The table of these lists (at most [`MAX_LISTS`]; bit `i` is list `i`).
    pub fn build(lists: &[&Prefixes]) -> ListTable {
        let v4: Vec<&[(u32, u32)]> = lists.iter().map(|p| p.v4.as_slice()).collect();
        let v6: Vec<&[(u128, u128)]> = lists.iter().map(|p| p.v6.as_slice()).collect();
        ListTable {
            v4: Segments::build(&v4),
            v6: Segments::build(&v6),
        }
    }

    /// The bits of the lists `ip` is on.
    #[inline]
    pub fn lookup(&self, ip: IpAddr) -> u64 {
        match ip {
            IpAddr::V4(a) => self.v4.get(u32::from(a)),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => self.v4.get(u32::from(v4)),
                None => self.v6.get(u128::from(a)),
            },
        }
    }

    /// Segments in the table (for the status page and the benchmark).
    pub fn segments(&self) -> usize {
        self.v4.starts.len() + self.v6.starts.len()
    }
}

/// Ranges no reputation answer about our own hosts counts: private, loopback,
/// link-local, documentation-free bogons (RFC 6890 special-purpose blocks).
/// Documentation ranges are not here, so tests can use them as "public".
pub fn special_purpose() -> Prefixes {
    let v4 = [
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "224.0.0.0/4",
        "240.0.0.0/4",
    ];
    let v6 = ["::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8"];
    let mut a = Vec::new();
    let mut b = Vec::new();
    for t in v4.iter().chain(v6.iter()) {
        match net(t) {
            Some(Range::V4(s, e)) => a.push((s, e)),
            Some(Range::V6(s, e)) => b.push((s, e)),
            None => {}
        }
    }
    Prefixes::from_ranges(a, b)
}

/// The parts of `ranges` outside `except` (both merged and sorted).
pub fn subtract<T: Step>(ranges: &[(T, T)], except: &[(T, T)]) -> Vec<(T, T)> {
    let mut out = Vec::new();
    for &(s, e) in ranges {
        let mut start = Some(s);
        for &(xs, xe) in except {
            let Some(cur) = start else { break };
            if xe < cur || xs > e {
                continue;
            }
            if xs > cur {
                out.push((cur, prev(xs)));
            }
            start = xe.next();
        }
        if let Some(cur) = start
            && cur <= e
        {
            out.push((cur, e));
        }
    }
    out
}

fn prev<T: Step>(x: T) -> T {
    x.prev()
}

/// `a` as an address of its family (for messages).
pub fn v4_addr(a: u32) -> Ipv4Addr {
    Ipv4Addr::from(a)
}

/// `a` as an IPv6 address (for messages).
pub fn v6_addr(a: u128) -> Ipv6Addr {
    Ipv6Addr::from(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn plain_netset_and_spamhaus_text() {
        let text = "# FireHOL header\n# Entries: 2\n1.4.0.0/17 ; SBL256893\n203.0.113.9\n\n2001:db8::/32 # v6\n10.0.0.1/8\n";
        let p = parse(text, Format::Auto, 100).unwrap();
        assert_eq!(p.entries, 4);
        assert!(p.prefixes.contains(ip("1.4.127.255")));
        assert!(!p.prefixes.contains(ip("1.4.128.0")));
        assert!(p.prefixes.contains(ip("10.200.0.0")), "host bits cleared");
        assert!(p.prefixes.contains(ip("2001:db8:ffff::1")));
        assert!(p.prefixes.contains(ip("::ffff:203.0.113.9")));
    }

    #[test]
    fn spamhaus_json_needs_its_metadata_line() {
        let body = "{\"cidr\":\"192.0.2.0/24\",\"sblid\":\"SBL1\",\"rir\":\"ripencc\"}\n";
        assert_eq!(
            parse(body, Format::Auto, 10).unwrap_err(),
            ParseError::Truncated
        );
        let full = format!("{body}{{\"type\":\"metadata\",\"timestamp\":1}}\n");
        let p = parse(&full, Format::Auto, 10).unwrap();
        assert!(p.prefixes.contains(ip("192.0.2.77")));
    }

    #[test]
    fn abuse_ch_csvs() {
        let feodo = "################\n# Feodo\n\"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"\n\"2026-01-01 00:00:00\",\"198.51.100.7\",\"443\",\"online\",\"2026-01-02\",\"QakBot\"\n";
        let p = parse(feodo, Format::Auto, 10).unwrap();
        assert_eq!(p.entries, 1);
        assert!(p.prefixes.contains(ip("198.51.100.7")));
        let tf = "# \"first_seen_utc\",\"ioc_id\",\"ioc_value\",\"ioc_type\"\n\"2026-01-01\", \"1\", \"203.0.113.5:8080\", \"ip:port\"\n\"2026-01-01\", \"2\", \"evil.example\", \"domain\"\n";
        let p = parse(tf, Format::Auto, 10).unwrap();
        assert_eq!(p.entries, 1);
        assert!(p.prefixes.contains(ip("203.0.113.5")));
        let uh = "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n\"1\",\"2026-01-01\",\"http://192.0.2.44:8080/bins/x.sh\",\"online\"\n\"2\",\"2026-01-01\",\"http://evil.example/a\",\"online\"\n";
        let p = parse(uh, Format::Auto, 10).unwrap();
        assert!(p.prefixes.contains(ip("192.0.2.44")));
    }

    #[test]
    fn an_html_page_is_not_a_list() {
        let html = "<html>\n<body>\n<h1>Rate limited</h1>\n</body>\n</html>\n";
        assert!(matches!(
            parse(html, Format::Plain, 10),
            Err(ParseError::NotAList { .. })
        ));
        assert!(matches!(
            parse("1.2.3.4\n5.6.7.8\n9.9.9.9\n", Format::Plain, 2),
            Err(ParseError::TooMany(2))
        ));
    }

    #[test]
    fn table_marks_every_address_of_a_prefix_and_names_all_lists() {
        let a = parse("198.51.0.0/16\n2001:db8::/32\n", Format::Plain, 10).unwrap();
        let b = parse("198.51.100.7\n203.0.113.0/24\n", Format::Plain, 10).unwrap();
        let c = parse("0.0.0.0/0\n", Format::Plain, 10).unwrap();
        let t = ListTable::build(&[&a.prefixes, &b.prefixes]);
        assert_eq!(t.lookup(ip("198.51.0.0")), 1);
        assert_eq!(t.lookup(ip("198.51.255.255")), 1);
        assert_eq!(t.lookup(ip("198.51.100.7")), 3);
        assert_eq!(t.lookup(ip("198.51.100.8")), 1);
        assert_eq!(t.lookup(ip("198.52.0.0")), 0);
        assert_eq!(t.lookup(ip("203.0.113.255")), 2);
        assert_eq!(t.lookup(ip("2001:db8:abcd::1")), 1);
        assert_eq!(t.lookup(ip("2001:db9::1")), 0);
        assert_eq!(t.lookup(ip("::ffff:198.51.3.3")), 1);
        let t = ListTable::build(&[&c.prefixes]);
        assert_eq!(t.lookup(ip("255.255.255.255")), 1);
        assert_eq!(t.lookup(ip("0.0.0.0")), 1);
        assert_eq!(ListTable::default().lookup(ip("1.1.1.1")), 0);
    }

    #[test]
    fn table_agrees_with_a_linear_scan() {
        // Pseudo-random prefixes of three lists against brute force.
        let mut x: u64 = 0x1234_5678;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut lists = Vec::new();
        for _ in 0..3 {
            let mut text = String::new();
            for _ in 0..200 {
                let a = (rnd() as u32) & 0x0fff_ffff;
                let len = 8 + (rnd() % 25) as u8;
                text.push_str(&format!("{}/{len}\n", Ipv4Addr::from(a)));
            }
            lists.push(parse(&text, Format::Plain, 1000).unwrap().prefixes);
        }
        let refs: Vec<&Prefixes> = lists.iter().collect();
        let t = ListTable::build(&refs);
        for _ in 0..20_000 {
            let a = IpAddr::V4(Ipv4Addr::from((rnd() as u32) & 0x0fff_ffff));
            let mut want = 0u64;
            for (i, l) in lists.iter().enumerate() {
                if l.contains(a) {
                    want |= 1 << i;
                }
            }
            assert_eq!(t.lookup(a), want, "{a}");
        }
    }

    #[test]
    fn subtract_cuts_out_special_ranges() {
        let sp = special_purpose();
        let l1 = parse(
            "0.0.0.0/8\n10.0.0.0/8\n192.0.2.0/24\n9.0.0.0/7\n",
            Format::Plain,
            10,
        )
        .unwrap()
        .prefixes;
        let left = subtract(&l1.v4, &sp.v4);
        assert_eq!(
            left,
            vec![
                (
                    u32::from(Ipv4Addr::new(8, 0, 0, 0)),
                    u32::from(Ipv4Addr::new(9, 255, 255, 255))
                ),
                (
                    u32::from(Ipv4Addr::new(192, 0, 2, 0)),
                    u32::from(Ipv4Addr::new(192, 0, 2, 255))
                ),
            ]
        );
    }
}
