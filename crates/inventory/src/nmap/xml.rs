//! nmap's XML output (`-oX`) as typed values: the hosts, their addresses,
//! names, OS guess and ports. Pure: bytes in, a [`NmapRun`] or an error out.
//!
//! The file may come from anyone (an import), so every bound is explicit: the
//! input size, the number of hosts and ports, the nesting depth and the length
//! of every string kept. A document type declaration is refused outright (no
//! DTD, so no entity expansion), and a document that stops before
//! `</nmaprun>` is refused as truncated rather than half-imported.

use std::net::IpAddr;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde::Serialize;

/// Largest XML accepted.
pub const MAX_XML_BYTES: usize = 64 * 1024 * 1024;
/// Most hosts in one run.
pub const MAX_HOSTS: usize = 65_536;
/// Most ports of one host.
pub const MAX_PORTS_PER_HOST: usize = 2 * 65_536;
/// Most ports in one run, all hosts together.
pub const MAX_PORTS: usize = 1_000_000;
/// Deepest element nesting.
const MAX_DEPTH: usize = 32;
/// Longest string kept (names, products, versions); longer ones are cut.
const MAX_TEXT: usize = 256;
/// Most names kept per host.
const MAX_NAMES: usize = 16;

/// Why an nmap XML document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NmapXmlError {
    /// Larger than [`MAX_XML_BYTES`].
    #[error("the XML is larger than {MAX_XML_BYTES} bytes")]
    TooLarge,
    /// A `<!DOCTYPE ...>` with declarations: nmap writes a bare one; entity
    /// definitions could expand.
    #[error("the XML declares a document type with declarations (a DTD); nmap output has none")]
    DocType,
    /// The root element is not `<nmaprun>`.
    #[error("not nmap XML output: the root element is <{0}>, not <nmaprun>")]
    NotNmap(String),
    /// The document ended before `</nmaprun>` (nmap was killed, or the file was cut).
    #[error("the XML ends before </nmaprun> (a truncated file or a killed scan)")]
    Truncated,
    /// More hosts, ports or nesting than the bounds allow.
    #[error("the XML holds too many {0}")]
    TooMany(&'static str),
    /// Malformed XML.
    #[error("malformed XML at byte {position}: {message}")]
    Syntax {
        /// Where.
        position: u64,
        /// What.
        message: String,
    },
}

/// One nmap run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NmapRun {
    /// The command line nmap recorded (`args`).
    pub args: String,
    /// The hosts reported (up or down).
    pub hosts: Vec<NmapHost>,
    /// The ports scanned, per protocol (`<scaninfo protocol services>`), as
    /// inclusive ranges.
    pub scanned: Vec<(String, Vec<(u16, u16)>)>,
}

impl NmapRun {
    /// Whether the run scanned `port` over `proto`.
    pub fn scanned(&self, proto: &str, port: u16) -> bool {
        self.scanned
            .iter()
            .filter(|(p, _)| p == proto)
            .any(|(_, ranges)| ranges.iter().any(|(a, b)| (*a..=*b).contains(&port)))
    }
}

/// Most port ranges kept per `<scaninfo>`.
const MAX_RANGES: usize = 4096;

/// nmap's `services` list: "22,80,1000-2000".
fn port_ranges(list: &str) -> Vec<(u16, u16)> {
    list.split(',')
        .take(MAX_RANGES)
        .filter_map(|part| {
            let (a, b) = part.split_once('-').unwrap_or((part, part));
            Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
        })
        .collect()
}

/// One host of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NmapHost {
    /// Its address.
    pub address: IpAddr,
    /// Whether nmap found it up.
    pub up: bool,
    /// Its MAC address (local link only), lower case.
    pub mac: Option<String>,
    /// The MAC's vendor as nmap named it.
    pub vendor: Option<String>,
    /// Its names (user-given and PTR).
    pub names: Vec<String>,
    /// The best OS match, when `-O`/`-A` ran.
    pub os: Option<String>,
    /// Its ports, every state nmap reported.
    pub ports: Vec<NmapPort>,
}

/// One port of a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NmapPort {
    /// The port number.
    pub port: u16,
    /// `tcp`, `udp` or `sctp`.
    pub proto: String,
    /// `open`, `closed`, `filtered`, `open|filtered`, ...
    pub state: String,
    /// The service name (`ssh`, `http`, `domain`).
    pub service: Option<String>,
    /// Product and version, when version detection ran.
    pub version: Option<String>,
}

impl NmapPort {
    /// Whether the port answered (`open`).
    pub fn is_open(&self) -> bool {
        self.state == "open"
    }
}

#[derive(Default)]
struct HostBuilder {
    address: Option<IpAddr>,
    up: bool,
    mac: Option<String>,
    vendor: Option<String>,
    names: Vec<String>,
    os: Option<String>,
    ports: Vec<NmapPort>,
}

fn clip(s: &str) -> String {
    let mut end = s.len().min(MAX_TEXT);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// The attributes of `e` asked for, in order; unknown entities or bad
/// escapes are syntax errors.
fn attrs<const N: usize>(
    e: &BytesStart<'_>,
    names: [&str; N],
    position: u64,
) -> Result<[Option<String>; N], NmapXmlError> {
    let mut out: [Option<String>; N] = std::array::from_fn(|_| None);
    for a in e.attributes().with_checks(true) {
        let a = a.map_err(|err| NmapXmlError::Syntax {
            position,
            message: err.to_string(),
        })?;
        let key = a.key.as_ref();
        if let Some(i) = names.iter().position(|n| n.as_bytes() == key) {
            let v = a.unescape_value().map_err(|err| NmapXmlError::Syntax {
                position,
                message: err.to_string(),
            })?;
            out[i] = Some(clip(&v));
        }
    }
    Ok(out)
}

/// Parses nmap's XML output.
pub fn parse(xml: &[u8]) -> Result<NmapRun, NmapXmlError> {
    if xml.len() > MAX_XML_BYTES {
        return Err(NmapXmlError::TooLarge);
    }
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().trim_text(true);
    let mut buf = Vec::new();
    let mut run = NmapRun::default();
    let mut depth = 0usize;
    let mut seen_root = false;
    let mut finished = false;
    let mut host: Option<HostBuilder> = None;
    let mut port: Option<NmapPort> = None;
    let mut total_ports = 0usize;
    loop {
        let position = reader.buffer_position();
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|err| NmapXmlError::Syntax {
                position,
                message: err.to_string(),
            })?;
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            if finished {
                return Err(NmapXmlError::Syntax {
                    position,
                    message: "content after </nmaprun>".into(),
                });
            }
            let name = e.name();
            let name = name.as_ref();
            if !seen_root {
                if name != b"nmaprun" {
                    return Err(NmapXmlError::NotNmap(clip(&String::from_utf8_lossy(name))));
                }
                seen_root = true;
                let [args] = attrs(e, ["args"], position)?;
                run.args = args.unwrap_or_default();
            }
            match name {
                b"host" => host = Some(HostBuilder::default()),
                b"scaninfo" if run.scanned.len() < 8 => {
                    // `services` may be long: read unclipped, bounded by MAX_RANGES.
                    let mut proto = None;
                    let mut services = Vec::new();
                    for a in e.attributes().with_checks(true) {
                        let a = a.map_err(|err| NmapXmlError::Syntax {
                            position,
                            message: err.to_string(),
                        })?;
                        match a.key.as_ref() {
                            b"protocol" => proto = Some(clip(&String::from_utf8_lossy(&a.value))),
                            b"services" => {
                                services = port_ranges(&String::from_utf8_lossy(&a.value))
                            }
                            _ => {}
                        }
                    }
                    if let Some(p) = proto {
                        run.scanned.push((p, services));
                    }
                }
                b"status" => {
                    if let Some(h) = &mut host {
                        let [state] = attrs(e, ["state"], position)?;
                        h.up = state.as_deref() == Some("up");
                    }
                }
                b"address" => {
                    if let Some(h) = &mut host {
                        let [addr, kind, vendor] =
                            attrs(e, ["addr", "addrtype", "vendor"], position)?;
                        match (kind.as_deref(), addr) {
                            (Some("ipv4" | "ipv6"), Some(a)) => {
                                h.address = h.address.or(a.parse().ok());
                            }
                            (Some("mac"), Some(a)) => {
                                h.mac = Some(a.to_ascii_lowercase());
                                h.vendor = vendor;
                            }
                            _ => {}
                        }
                    }
                }
                b"hostname" => {
                    if let Some(h) = &mut host {
                        let [n] = attrs(e, ["name"], position)?;
                        if let Some(n) = n
                            && h.names.len() < MAX_NAMES
                            && !h.names.contains(&n)
                        {
                            h.names.push(n);
                        }
                    }
                }
                b"osmatch" => {
                    if let Some(h) = &mut host
                        && h.os.is_none()
                    {
                        let [n] = attrs(e, ["name"], position)?;
                        h.os = n;
                    }
                }
                b"port" if host.is_some() => {
                    let [proto, id] = attrs(e, ["protocol", "portid"], position)?;
                    port = id.and_then(|id| id.parse().ok()).map(|p| NmapPort {
                        port: p,
                        proto: proto.unwrap_or_default(),
                        state: String::new(),
                        service: None,
                        version: None,
                    });
                }
                b"state" => {
                    if let Some(p) = &mut port {
                        let [s] = attrs(e, ["state"], position)?;
                        p.state = s.unwrap_or_default();
                    }
                }
                b"service" => {
                    if let Some(p) = &mut port {
                        let [n, product, version, extra] =
                            attrs(e, ["name", "product", "version", "extrainfo"], position)?;
                        p.service = n;
                        let v: Vec<String> =
                            [product, version, extra].into_iter().flatten().collect();
                        if !v.is_empty() {
                            p.version = Some(clip(&v.join(" ")));
                        }
                    }
                }
                _ => {}
            }
            if !empty {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(NmapXmlError::TooMany("nested elements"));
                }
            } else {
                finish_element(name, &mut run, &mut host, &mut port, &mut total_ports)?;
            }
            buf.clear();
            continue;
        }
        match event {
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                let name = e.name();
                if name.as_ref() == b"nmaprun" {
                    finished = true;
                }
                finish_element(
                    name.as_ref(),
                    &mut run,
                    &mut host,
                    &mut port,
                    &mut total_ports,
                )?;
            }
            // nmap writes a bare `<!DOCTYPE nmaprun>`; an internal subset
            // (`[...]`) could declare entities.
            Event::DocType(d) if d.contains(&b'[') || d.len() > 64 => {
                return Err(NmapXmlError::DocType);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !seen_root {
        return Err(NmapXmlError::NotNmap(String::new()));
    }
    if !finished {
        return Err(NmapXmlError::Truncated);
    }
    Ok(run)
}

fn finish_element(
    name: &[u8],
    run: &mut NmapRun,
    host: &mut Option<HostBuilder>,
    port: &mut Option<NmapPort>,
    total_ports: &mut usize,
) -> Result<(), NmapXmlError> {
    match name {
        b"port" => {
            if let (Some(p), Some(h)) = (port.take(), host.as_mut()) {
                if h.ports.len() >= MAX_PORTS_PER_HOST || *total_ports >= MAX_PORTS {
                    return Err(NmapXmlError::TooMany("ports"));
                }
                *total_ports += 1;
                h.ports.push(p);
            }
        }
        b"host" => {
            if let Some(h) = host.take()
                && let Some(address) = h.address
            {
                if run.hosts.len() >= MAX_HOSTS {
                    return Err(NmapXmlError::TooMany("hosts"));
                }
                run.hosts.push(NmapHost {
                    address,
                    up: h.up,
                    mac: h.mac,
                    vendor: h.vendor,
                    names: h.names,
                    os: h.os,
                    ports: h.ports,
                });
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real output of `nmap -n -sV -p 22,80,443 -oX -` (nmap 7.93) against the
    /// test lab (tests/serve/data/lab.py) in a network namespace.
    pub const SAMPLE: &str = include_str!("../../tests/data/nmap-sv.xml");

    #[test]
    fn parses_real_output() {
        let run = parse(SAMPLE.as_bytes()).unwrap();
        assert!(run.args.contains("nmap"));
        let up: Vec<&NmapHost> = run.hosts.iter().filter(|h| h.up).collect();
        assert_eq!(up.len(), 1);
        let h = up[0];
        assert_eq!(h.address.to_string(), "192.0.2.2");
        let open: Vec<(u16, &str, Option<&str>)> = h
            .ports
            .iter()
            .filter(|p| p.is_open())
            .map(|p| (p.port, p.proto.as_str(), p.service.as_deref()))
            .collect();
        assert_eq!(open, [(22, "tcp", Some("ssh")), (80, "tcp", Some("http"))]);
        assert!(h.ports.iter().any(|p| p.port == 443 && p.state == "closed"));
        assert!(run.scanned("tcp", 443) && !run.scanned("tcp", 8080) && !run.scanned("udp", 53));
        assert_eq!(port_ranges("1-3,7,x,9-"), [(1, 3), (7, 7)]);
    }

    #[test]
    fn refuses_hostile_documents() {
        // Entity expansion ("billion laughs"): refused at the DTD.
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><nmaprun args="&lol2;"></nmaprun>"#;
        assert_eq!(parse(bomb.as_bytes()), Err(NmapXmlError::DocType));
        // An entity used without a DTD is an error, not an expansion.
        let undefined = r#"<nmaprun args="&lol;"></nmaprun>"#;
        assert!(matches!(
            parse(undefined.as_bytes()),
            Err(NmapXmlError::Syntax { .. })
        ));
        // Cut anywhere: refused as truncated or malformed, never a panic.
        let end = SAMPLE.find("</nmaprun>").unwrap() + "</nmaprun>".len() - 1;
        for cut in 0..end {
            if !SAMPLE.is_char_boundary(cut) {
                continue;
            }
            let r = parse(&SAMPLE.as_bytes()[..cut]);
            assert!(r.is_err(), "cut at {cut} parsed");
        }
        assert_eq!(
            parse(b"<html><body/></html>"),
            Err(NmapXmlError::NotNmap("html".into()))
        );
        let deep = format!("<nmaprun>{}", "<a>".repeat(100));
        assert_eq!(
            parse(deep.as_bytes()),
            Err(NmapXmlError::TooMany("nested elements"))
        );
        let huge = vec![b' '; MAX_XML_BYTES + 1];
        assert_eq!(parse(&huge), Err(NmapXmlError::TooLarge));
    }

    #[test]
    fn long_strings_are_clipped() {
        let long = "x".repeat(10_000);
        let xml = format!(
            r#"<nmaprun><host><status state="up"/><address addr="192.0.2.9" addrtype="ipv4"/><hostnames><hostname name="{long}"/></hostnames></host></nmaprun>"#
        );
        let run = parse(xml.as_bytes()).unwrap();
        assert_eq!(run.hosts[0].names[0].len(), MAX_TEXT);
    }
}
