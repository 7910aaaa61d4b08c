//! The closed list of event kinds: the one place to read every kind Nectar emits,
//! with what each one is about ([`Protocol`]) and what it means ([`Category`]).
//!
//! Kinds are dotted names whose first segment is the family (`ssh`, `http`, `net`,
//! ...), so `ssh.*` selects a family. A kind not in this list is rejected at ingest:
//! a typo in a sensor must not create a family nobody filters on. Adding a kind is
//! one line in the table below: its name, protocol and category, so rollups,
//! queries and sinks that ask "is this a failed login?" learn about it without
//! another list to update.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! kinds {
    ($( $(#[doc = $doc:literal])* $variant:ident => $name:literal ($protocol:ident, $category:ident), )*) => {
        /// What happened. Serialized as its dotted name, e.g. `"ssh.login.failed"`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Kind {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Kind {
            /// Every kind, in the order of the table.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant,)*];

            /// The dotted name used in JSON, the store and filters.
            pub fn as_str(self) -> &'static str {
                match self { $(Kind::$variant => $name,)* }
            }

            /// One line saying what the kind means (its documentation).
            pub fn description(self) -> &'static str {
                match self { $(Kind::$variant => concat!($($doc),*).trim_ascii(),)* }
            }

            /// What the kind is about: the protocol or subsystem of its family.
            pub const fn protocol(self) -> Protocol {
                match self { $(Kind::$variant => Protocol::$protocol,)* }
            }

            /// What the kind means, whatever its protocol (a failed login, a command, ...).
            pub const fn category(self) -> Category {
                match self { $(Kind::$variant => Category::$category,)* }
            }
        }
    };
}

/// What a kind is about: the family of its dotted name, as a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Protocol {
    /// A honeypot connection of any protocol (`session.*`).
    Session,
    /// The SSH honeypot (`ssh.*`).
    Ssh,
    /// The Telnet honeypot (`telnet.*`).
    Telnet,
    /// The HTTP honeypot (`http.*`).
    Http,
    /// Credentials seen again (`credential.*`).
    Credential,
    /// Network traffic statistics (`net.*`).
    Net,
    /// Per-device behaviour (`device.*`).
    Device,
    /// Host inventory (`host.*`).
    Host,
    /// Services of the hosts in the inventory (`service.*`).
    Service,
    /// Scans of hosts (`scan.*`).
    Scan,
    /// The sensor itself (`sensor.*`).
    Sensor,
    /// Nectar's own logins: the web UI and the API (`auth.*`).
    Auth,
    /// The sample fetcher (`sample.*`).
    Sample,
}

impl Protocol {
    /// Every protocol.
    pub const ALL: &'static [Protocol] = &[
        Protocol::Session,
        Protocol::Ssh,
        Protocol::Telnet,
        Protocol::Http,
        Protocol::Credential,
        Protocol::Net,
        Protocol::Device,
        Protocol::Host,
        Protocol::Service,
        Protocol::Scan,
        Protocol::Sensor,
        Protocol::Auth,
        Protocol::Sample,
    ];

    /// The family name: the first segment of its kinds' names (`ssh`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::Session => "session",
            Protocol::Ssh => "ssh",
            Protocol::Telnet => "telnet",
            Protocol::Http => "http",
            Protocol::Credential => "credential",
            Protocol::Net => "net",
            Protocol::Device => "device",
            Protocol::Host => "host",
            Protocol::Service => "service",
            Protocol::Scan => "scan",
            Protocol::Sensor => "sensor",
            Protocol::Auth => "auth",
            Protocol::Sample => "sample",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a kind means, whatever the protocol that produced it: what rollups,
/// queries, rules and exports ask ("every failed login", "every command").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Category {
    /// A client connected.
    Connect,
    /// A connection ended.
    Close,
    /// A honeypot accepted a login.
    LoginSuccess,
    /// A honeypot refused a login.
    LoginFailure,
    /// Credentials were posted to a login form (the honeypot decides nothing).
    LoginPosted,
    /// A command was run (typed in a shell or sent with `exec`).
    Command,
    /// A file was fetched from the network by the attacker.
    Download,
    /// A file was sent to the honeypot by the attacker.
    Upload,
    /// A port forwarding was asked for.
    Forward,
    /// A client fingerprint (key exchange, TLS).
    Fingerprint,
    /// A request to a service (HTTP).
    Request,
    /// A detection: a threshold crossed, an anomaly, a honeytoken reused.
    Alarm,
    /// Something found on the network (a host, a service).
    Discovery,
    /// The sensor's own state: started, stopped, a limit hit.
    Status,
    /// Bytes of another protocol sent to a service (a scanner's fingerprinting
    /// probe: an HTTP request or TLS hello at a Telnet login prompt).
    Probe,
    /// The sample fetcher fetched (or could not fetch) what an attacker downloaded.
    Sample,
}

impl Category {
    /// Whether the kind is a login attempt of any outcome (credentials were tried).
    pub const fn is_login(self) -> bool {
        matches!(
            self,
            Category::LoginSuccess | Category::LoginFailure | Category::LoginPosted
        )
    }
}

impl Kind {
    /// The kinds of `category`, in the order of the table.
    pub fn of_category(category: Category) -> impl Iterator<Item = Kind> {
        Kind::ALL
            .iter()
            .copied()
            .filter(move |kind| kind.category() == category)
    }
}

kinds! {
    /// A client opened a connection to a honeypot (SSH, Telnet).
    SessionConnect => "session.connect" (Session, Connect),
    /// A honeypot connection ended; `data.duration` holds its length in seconds.
    SessionClose => "session.close" (Session, Close),
    /// An SSH login attempt a honeypot accepted (weak credentials).
    SshLoginSuccess => "ssh.login.success" (Ssh, LoginSuccess),
    /// An SSH login attempt a honeypot refused.
    SshLoginFailed => "ssh.login.failed" (Ssh, LoginFailure),
    /// A command typed in an interactive SSH shell.
    SshCommand => "ssh.command" (Ssh, Command),
    /// A command sent with SSH `exec` (no shell).
    SshExec => "ssh.exec" (Ssh, Command),
    /// A file an attacker fetched from the network inside the fake shell (wget, curl, tftp).
    SshDownload => "ssh.download" (Ssh, Download),
    /// A file an attacker uploaded (SCP, SFTP, or written through the shell).
    SshUpload => "ssh.upload" (Ssh, Upload),
    /// A port-forwarding request (direct-tcpip or tcpip-forward).
    SshForward => "ssh.forward" (Ssh, Forward),
    /// The client's SSH key-exchange fingerprint (HASSH) and algorithm lists, once per distinct HASSH.
    SshClientKex => "ssh.client.kex" (Ssh, Fingerprint),
    /// A Telnet login attempt a honeypot accepted.
    TelnetLoginSuccess => "telnet.login.success" (Telnet, LoginSuccess),
    /// A Telnet login attempt a honeypot refused.
    TelnetLoginFailed => "telnet.login.failed" (Telnet, LoginFailure),
    /// A command typed in a Telnet shell.
    TelnetCommand => "telnet.command" (Telnet, Command),
    /// A file an attacker fetched from the network inside the Telnet fake shell (wget, curl, tftp).
    TelnetDownload => "telnet.download" (Telnet, Download),
    /// A file written through the Telnet fake shell (`echo > f`, `cat > f`, here-documents), stored by SHA-256.
    TelnetUpload => "telnet.upload" (Telnet, Upload),
    /// What a scanner sent at the Telnet login prompt in another protocol (an HTTP
    /// or SIP request, TLS or other binary bytes; `data.probe` names it,
    /// `data.line` its first line, escaped): not a login attempt, so its lines are
    /// never user names or passwords.
    TelnetProbe => "telnet.probe" (Telnet, Probe),
    /// A request to the HTTP honeypot.
    HttpRequest => "http.request" (Http, Request),
    /// Credentials posted to a login form of the HTTP honeypot.
    HttpLogin => "http.login" (Http, LoginPosted),
    /// A honeytoken or captured credential used again elsewhere.
    CredentialReuse => "credential.reuse" (Credential, Alarm),
    /// A statistic of network traffic crossed its SPOT threshold.
    NetAlarm => "net.alarm" (Net, Alarm),
    /// A device of our networks behaved unlike its learned profile in one window
    /// (`data.mac`, `vendor`, `window_start`, `window_end`, `features`: name,
    /// value, threshold, expected range, probability; `new_destinations`,
    /// `new_ports`, `deviation`).
    DeviceAnomaly => "device.anomaly" (Device, Alarm),
    /// A device that sends regularly has sent nothing for a multiple of its usual
    /// interval (`data.mac`, `silent_windows`, `usual_gap_windows`).
    DeviceSilent => "device.silent" (Device, Alarm),
    /// A host of our networks seen for the first time (`data.address`, `mac`,
    /// `vendor`, `os`, `name`, `source`: `passive` or `nmap`).
    HostDiscovered => "host.discovered" (Host, Discovery),
    /// Hosts of our networks still seen (`data.hosts`: address, last_seen and the
    /// services that answered), at most once a minute per host: what keeps the
    /// inventory's last-seen times current through the committed stream.
    HostSeen => "host.seen" (Host, Discovery),
    /// A host of our networks not seen for `[inventory] gone_after`.
    HostGone => "host.gone" (Host, Discovery),
    /// A host's MAC address, OS family or name changed (`data.field`, `old`, `new`).
    HostChanged => "host.changed" (Host, Discovery),
    /// A prefix of our networks (`[inventory] networks`) is on a reputation list
    /// (`data.list`, `category`, `network`, `range`: the first listed range,
    /// `ranges`); private and special-purpose ranges never count.
    HostListed => "host.listed" (Host, Alarm),
    /// A port of a host of our networks answered for the first time (a TCP SYN-ACK,
    /// a UDP answer, or a scan): `data.address`, `port`, `proto`.
    ServiceOpened => "service.opened" (Service, Discovery),
    /// A port that answered before refused a connection (a TCP reset), or a rescan
    /// no longer found it open.
    ServiceClosed => "service.closed" (Service, Discovery),
    /// A service found by a scan of a host.
    ScanService => "scan.service" (Scan, Discovery),
    /// A sensor started, stopped or hit a limit (dropped packets, full queue).
    SensorStatus => "sensor.status" (Sensor, Status),
    /// The optional sample fetcher's attempt at the URL of an `ssh.download` or
    /// `telnet.download` (`data.download`: that event's id; the same `session`):
    /// `data.fetched`, and `sha256`, `size`, `file` (the sample, kept by SHA-256
    /// like uploads) or `reason` (`not_allowed`, `unsupported_scheme`,
    /// `too_large`, `timeout`, `http_status`, `error`, `quota_bytes`, ...).
    SampleFetch => "sample.fetch" (Sample, Sample),
    /// Wrong passwords for one of Nectar's own users made a client address wait
    /// (`data.username`, `data.failures`, `data.scope`: `name` or `address`).
    AuthLockout => "auth.lockout" (Auth, Alarm),
}

impl Kind {
    /// The family: the part before the first dot (`ssh` for `ssh.login.failed`).
    pub fn family(self) -> &'static str {
        self.protocol().as_str()
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind name that is not in Nectar's list of kinds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event kind {0:?} (the known kinds are listed by `nectar-event`'s `Kind::ALL`)")]
pub struct UnknownKind(pub String);

impl FromStr for Kind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .iter()
            .copied()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| UnknownKind(s.chars().take(64).collect()))
    }
}

impl Serialize for Kind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_dotted_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for kind in Kind::ALL {
            assert!(seen.insert(kind.as_str()), "duplicate {kind}");
            assert!(kind.as_str().contains('.'), "{kind} has no family");
            assert!(!kind.description().is_empty());
            assert_eq!(kind.as_str().parse::<Kind>(), Ok(*kind));
        }
        assert!(Kind::ALL.len() >= 14);
        assert_eq!(Kind::SshLoginFailed.family(), "ssh");
        assert!("ssh.login.oops".parse::<Kind>().is_err());
    }

    #[test]
    fn the_protocol_is_the_family_of_the_name() {
        for kind in Kind::ALL {
            let (family, _) = kind.as_str().split_once('.').unwrap();
            assert_eq!(kind.protocol().as_str(), family, "{kind}");
            assert!(Protocol::ALL.contains(&kind.protocol()), "{kind}");
        }
    }

    #[test]
    fn categories_say_what_rollups_and_queries_ask() {
        let names = |category| {
            Kind::of_category(category)
                .map(Kind::as_str)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(Category::LoginFailure),
            ["ssh.login.failed", "telnet.login.failed"]
        );
        assert_eq!(
            names(Category::LoginSuccess),
            ["ssh.login.success", "telnet.login.success"]
        );
        assert_eq!(
            names(Category::Command),
            ["ssh.command", "ssh.exec", "telnet.command"]
        );
        assert_eq!(
            names(Category::Download),
            ["ssh.download", "telnet.download"]
        );
        assert_eq!(names(Category::Upload), ["ssh.upload", "telnet.upload"]);
        assert_eq!(
            names(Category::Alarm),
            [
                "credential.reuse",
                "net.alarm",
                "device.anomaly",
                "device.silent",
                "host.listed",
                "auth.lockout"
            ]
        );
        let logins: Vec<_> = Kind::ALL
            .iter()
            .filter(|k| k.category().is_login())
            .map(|k| k.as_str())
            .collect();
        assert_eq!(
            logins,
            [
                "ssh.login.success",
                "ssh.login.failed",
                "telnet.login.success",
                "telnet.login.failed",
                "http.login"
            ]
        );
    }

    #[test]
    fn serde_uses_dotted_name() {
        let json = serde_json::to_string(&Kind::NetAlarm).unwrap();
        assert_eq!(json, "\"net.alarm\"");
        assert_eq!(serde_json::from_str::<Kind>(&json).unwrap(), Kind::NetAlarm);
        assert!(serde_json::from_str::<Kind>("\"nope\"").is_err());
    }
}
