//! A host: one address of the watched network as the inventory knows it, with
//! its names and the services seen on it.
//!
//! Data only; the inventory that maintains hosts (from `host.discovered` and
//! `scan.service` events, passive observation and scans) and its table come with
//! their own issue.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// One address of the watched network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// Its address (the inventory's key).
    pub address: IpAddr,
    /// Names it is known by (reverse DNS, DHCP, NetBIOS, TLS certificates),
    /// without duplicates.
    #[serde(default)]
    pub names: Vec<String>,
    /// Its hardware address when seen on the local link (`00:11:22:33:44:55`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// When it was first seen.
    pub first_seen: Timestamp,
    /// When it was last seen.
    pub last_seen: Timestamp,
    /// The services seen on it, by port.
    #[serde(default)]
    pub services: Vec<Service>,
}

/// A port that answered on a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// The port.
    pub port: u16,
    /// Over what.
    pub transport: Transport,
    /// What runs there (`ssh`, `http`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What it announced (an SSH version line, a server header), as received:
    /// escape it for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub banner: Option<String>,
    /// When it was last seen answering.
    pub last_seen: Timestamp,
}

/// The transport of a [`Service`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json() {
        let seen = Timestamp::from_micros(1_700_000_000_000_000).unwrap();
        let host = Host {
            address: "192.0.2.10".parse().unwrap(),
            names: vec!["cam-lobby.example.org".into()],
            mac: Some("00:11:22:33:44:55".into()),
            first_seen: seen,
            last_seen: seen,
            services: vec![Service {
                port: 22,
                transport: Transport::Tcp,
                name: Some("ssh".into()),
                banner: Some("SSH-2.0-OpenSSH_9.2p1".into()),
                last_seen: seen,
            }],
        };
        let json = serde_json::to_value(&host).unwrap();
        assert_eq!(json["address"], "192.0.2.10");
        assert_eq!(json["services"][0]["transport"], "tcp");
        assert_eq!(serde_json::from_value::<Host>(json).unwrap(), host);

        let bare: Host = serde_json::from_str(
            r#"{"address":"2001:db8::1","first_seen":"2023-11-14T22:13:20Z","last_seen":"2023-11-14T22:13:20Z"}"#,
        )
        .unwrap();
        assert!(bare.names.is_empty() && bare.services.is_empty() && bare.mac.is_none());
        assert!(serde_json::from_str::<Host>(r#"{"address":"x"}"#).is_err());
    }
}
