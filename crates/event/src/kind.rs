//! The closed list of event kinds: the one place to read every kind Nectar emits.
//!
//! Kinds are dotted names whose first segment is the family (`ssh`, `http`, `net`,
//! ...), so `ssh.*` selects a family. A kind not in this list is rejected at ingest:
//! a typo in a sensor must not create a family nobody filters on. Adding a kind is
//! one line in the table below.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! kinds {
    ($( $(#[doc = $doc:literal])* $variant:ident => $name:literal, )*) => {
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
        }
    };
}

kinds! {
    /// A client opened a connection to a honeypot (SSH, Telnet).
    SessionConnect => "session.connect",
    /// A honeypot connection ended; `data.duration` holds its length in seconds.
    SessionClose => "session.close",
    /// An SSH login attempt a honeypot accepted (weak credentials).
    SshLoginSuccess => "ssh.login.success",
    /// An SSH login attempt a honeypot refused.
    SshLoginFailed => "ssh.login.failed",
    /// A command typed in an interactive SSH shell.
    SshCommand => "ssh.command",
    /// A command sent with SSH `exec` (no shell).
    SshExec => "ssh.exec",
    /// A file an attacker fetched from the network inside the fake shell (wget, curl, tftp).
    SshDownload => "ssh.download",
    /// A file an attacker uploaded (SCP, SFTP, or written through the shell).
    SshUpload => "ssh.upload",
    /// A port-forwarding request (direct-tcpip or tcpip-forward).
    SshForward => "ssh.forward",
    /// The client's SSH key-exchange fingerprint (HASSH) and algorithm lists, once per distinct HASSH.
    SshClientKex => "ssh.client.kex",
    /// A Telnet login attempt a honeypot accepted.
    TelnetLoginSuccess => "telnet.login.success",
    /// A Telnet login attempt a honeypot refused.
    TelnetLoginFailed => "telnet.login.failed",
    /// A command typed in a Telnet shell.
    TelnetCommand => "telnet.command",
    /// A file an attacker fetched from the network inside the Telnet fake shell (wget, curl, tftp).
    TelnetDownload => "telnet.download",
    /// A file written through the Telnet fake shell (`echo > f`, `cat > f`, here-documents), stored by SHA-256.
    TelnetUpload => "telnet.upload",
    /// A request to the HTTP honeypot.
    HttpRequest => "http.request",
    /// Credentials posted to a login form of the HTTP honeypot.
    HttpLogin => "http.login",
    /// A honeytoken or captured credential used again elsewhere.
    CredentialReuse => "credential.reuse",
    /// A statistic of network traffic crossed its SPOT threshold.
    NetAlarm => "net.alarm",
    /// A device behaved unlike its learned profile.
    DeviceAnomaly => "device.anomaly",
    /// A host seen for the first time.
    HostDiscovered => "host.discovered",
    /// A service found by a scan of a host.
    ScanService => "scan.service",
    /// A sensor started, stopped or hit a limit (dropped packets, full queue).
    SensorStatus => "sensor.status",
}

impl Kind {
    /// The family: the part before the first dot (`ssh` for `ssh.login.failed`).
    pub fn family(self) -> &'static str {
        let name = self.as_str();
        name.split_once('.').map_or(name, |(family, _)| family)
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
    fn serde_uses_dotted_name() {
        let json = serde_json::to_string(&Kind::NetAlarm).unwrap();
        assert_eq!(json, "\"net.alarm\"");
        assert_eq!(serde_json::from_str::<Kind>(&json).unwrap(), Kind::NetAlarm);
        assert!(serde_json::from_str::<Kind>("\"nope\"").is_err());
    }
}
