//! Incident templates: what a new incident of a known kind starts with (its
//! title pattern, severity, checklist and classification defaults), so the
//! same steps are done every time (TheHive's case templates).
//!
//! The four shipped templates are data in the binary; `{source}` in a title
//! pattern is replaced by the first alert's source address.

use crate::{Severity, Tlp};

/// A template a new incident can be opened from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct IncidentTemplate {
    /// Its name in URLs, forms and the API (`honeypot-account-used`).
    pub name: &'static str,
    /// The title a new incident gets; `{source}` is the first alert's source.
    pub title: &'static str,
    /// The severity it starts with (raised to its alerts' worst).
    pub severity: Severity,
    /// Its TLP.
    pub tlp: Tlp,
    /// The checklist it starts with.
    pub tasks: &'static [&'static str],
    /// Classification defaults: agent, actions, assets, discovery.
    pub agent: &'static str,
    /// Classification default actions.
    pub actions: &'static [&'static str],
    /// Classification default assets.
    pub assets: &'static [&'static str],
    /// Classification default discovery method.
    pub discovery: &'static str,
    /// Tags it starts with.
    pub tags: &'static [&'static str],
}

/// The shipped templates.
pub const TEMPLATES: &[IncidentTemplate] = &[
    IncidentTemplate {
        name: "honeypot-account-used",
        title: "Honeypot account used from {source}",
        severity: Severity::High,
        tlp: Tlp::Amber,
        tasks: &[
            "Read the session transcripts and list the commands run",
            "Collect downloaded files and their hashes",
            "Check whether the source touched production hosts",
            "Block or report the source",
        ],
        agent: "external",
        actions: &["hacking"],
        assets: &["honeypot", "credentials"],
        discovery: "honeypot",
        tags: &["honeypot"],
    },
    IncidentTemplate {
        name: "iot-device-compromised",
        title: "IoT device compromised: {source}",
        severity: Severity::Critical,
        tlp: Tlp::AmberStrict,
        tasks: &[
            "Identify the device, its owner and location",
            "Isolate the device from the network",
            "Collect its traffic around the first alert",
            "Reset or re-flash the device and change its credentials",
            "Confirm the anomaly stopped",
        ],
        agent: "external",
        actions: &["malware", "hacking"],
        assets: &["iot_device"],
        discovery: "device_behaviour",
        tags: &["iot"],
    },
    IncidentTemplate {
        name: "network-scan-from-outside",
        title: "Network scan from {source}",
        severity: Severity::Medium,
        tlp: Tlp::Green,
        tasks: &[
            "Note the ports and hosts scanned",
            "Look the source up (owner, reputation)",
            "Decide whether to block or ignore",
        ],
        agent: "external",
        actions: &["hacking"],
        assets: &["network_device"],
        discovery: "network_anomaly_detection",
        tags: &["scan"],
    },
    IncidentTemplate {
        name: "credential-reuse",
        title: "Credential reuse from {source}",
        severity: Severity::High,
        tlp: Tlp::Amber,
        tasks: &[
            "List the user names and passwords tried",
            "Check whether any is a real account's",
            "Reset the affected accounts",
            "Report the source",
        ],
        agent: "external",
        actions: &["hacking"],
        assets: &["credentials"],
        discovery: "honeypot",
        tags: &["credentials"],
    },
];

impl IncidentTemplate {
    /// The shipped template called `name`.
    pub fn find(name: &str) -> Option<&'static IncidentTemplate> {
        TEMPLATES.iter().find(|t| t.name == name)
    }

    /// The title for an incident whose first alert came from `source`.
    pub fn title_for(&self, source: Option<&str>) -> String {
        self.title
            .replace("{source}", source.unwrap_or("an unknown source"))
    }

    /// The classification it starts with.
    pub fn classification(&self) -> crate::Classification {
        crate::Classification {
            agent: Some(self.agent.to_owned()),
            actions: self.actions.iter().map(|s| (*s).to_owned()).collect(),
            assets: self.assets.iter().map(|s| (*s).to_owned()).collect(),
            discovery: Some(self.discovery.to_owned()),
            ..crate::Classification::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_templates_are_valid() {
        assert_eq!(TEMPLATES.len(), 4);
        for t in TEMPLATES {
            assert_eq!(t.classification().check(), Ok(()), "{}", t.name);
            assert!(!t.tasks.is_empty());
            assert_eq!(IncidentTemplate::find(t.name), Some(t));
        }
        let t = IncidentTemplate::find("network-scan-from-outside").unwrap();
        assert_eq!(
            t.title_for(Some("203.0.113.7")),
            "Network scan from 203.0.113.7"
        );
    }
}
