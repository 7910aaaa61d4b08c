//! An incident: alerts a person grouped because they are one story (one
//! attacker, one campaign), with who owns it, how it is classified and how it
//! ended.
//!
//! Data only: the tables, history and pages live in `nectar-store` and
//! `nectar-web`. Status and resolution are separate, as in TheHive 5 and
//! DFIR-IRIS (`../shared/research/alerts-incidents.md` §0 point 4): "closed"
//! says the work is over, the [`Resolution`] says what it was. The
//! [`Classification`] block is HECTOR's VERIS-style record (agent, action,
//! asset, discovery method, timeframes, impact), so reports can count
//! incidents the way the university's earlier system did.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Severity, Timestamp};

/// A group of alerts worked on as one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    /// The incident's id (UUIDv7, so ids sort by creation time).
    pub id: Uuid,
    /// A person's one-line name for it.
    pub title: String,
    /// What is known, in Markdown (rendered to a safe subset on pages).
    #[serde(default)]
    pub description: String,
    /// How bad (at least the worst of its alerts, unless a person says otherwise).
    pub severity: Severity,
    /// Where the work is.
    pub status: IncidentStatus,
    /// What it turned out to be; set when `status` is closed.
    #[serde(default)]
    pub resolution: Option<Resolution>,
    /// The user name of who works on it, if anyone.
    #[serde(default)]
    pub assignee: Option<String>,
    /// Who may learn of it (Traffic Light Protocol 2.0).
    pub tlp: Tlp,
    /// What may be done with its indicators (Permissible Actions Protocol).
    pub pap: Tlp,
    /// Free labels.
    #[serde(default)]
    pub tags: Vec<String>,
    /// MITRE ATT&CK technique ids, gathered from its alerts and edited by hand.
    #[serde(default)]
    pub techniques: Vec<String>,
    /// The VERIS-style classification.
    #[serde(default)]
    pub classification: Classification,
    /// The template it was opened from, if any.
    #[serde(default)]
    pub template: Option<String>,
    /// Who opened it.
    pub created_by: String,
    /// When it was opened.
    pub created: Timestamp,
    /// When anything about it last changed.
    pub updated: Timestamp,
    /// The incident it was merged into, if it was.
    #[serde(default)]
    pub merged_into: Option<Uuid>,
}

/// Where the work on an incident is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Opened, nobody working on it yet.
    New,
    /// Someone is working on it.
    InProgress,
    /// The harm is stopped; cleaning up and writing up remain.
    Contained,
    /// The work is over, for the reason in `resolution`.
    Closed,
}

impl IncidentStatus {
    /// Every status, in workflow order.
    pub const ALL: [IncidentStatus; 4] = [
        IncidentStatus::New,
        IncidentStatus::InProgress,
        IncidentStatus::Contained,
        IncidentStatus::Closed,
    ];

    /// The snake_case name used in JSON, URLs and forms.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::New => "new",
            IncidentStatus::InProgress => "in_progress",
            IncidentStatus::Contained => "contained",
            IncidentStatus::Closed => "closed",
        }
    }

    /// The status called `name`, if any.
    pub fn parse(name: &str) -> Option<IncidentStatus> {
        IncidentStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// What an incident turned out to be (TheHive's and DFIR-IRIS's outcomes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// A real attack that had an effect.
    TruePositiveWithImpact,
    /// A real attack without effect (the usual honeypot case).
    TruePositiveWithoutImpact,
    /// The rules matched something that was not an attack.
    FalsePositive,
    /// Known, expected activity (a scanner the team runs).
    Benign,
    /// The same as another incident.
    Duplicate,
}

impl Resolution {
    /// Every resolution, in the order a form lists them.
    pub const ALL: [Resolution; 5] = [
        Resolution::TruePositiveWithImpact,
        Resolution::TruePositiveWithoutImpact,
        Resolution::FalsePositive,
        Resolution::Benign,
        Resolution::Duplicate,
    ];

    /// The snake_case name used in JSON, URLs and forms.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::TruePositiveWithImpact => "true_positive_with_impact",
            Resolution::TruePositiveWithoutImpact => "true_positive_without_impact",
            Resolution::FalsePositive => "false_positive",
            Resolution::Benign => "benign",
            Resolution::Duplicate => "duplicate",
        }
    }

    /// The resolution called `name`, if any.
    pub fn parse(name: &str) -> Option<Resolution> {
        Resolution::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// A Traffic Light Protocol 2.0 level (also used for PAP, which has the same
/// colours without `amber+strict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Tlp {
    /// May be shared freely.
    #[serde(rename = "clear")]
    Clear,
    /// Within the community.
    #[serde(rename = "green")]
    Green,
    /// Within the organisation and its clients.
    #[serde(rename = "amber")]
    Amber,
    /// Within the organisation only.
    #[serde(rename = "amber+strict")]
    AmberStrict,
    /// Named recipients only.
    #[serde(rename = "red")]
    Red,
}

impl Tlp {
    /// Every level, most open first.
    pub const ALL: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    /// The name used in JSON and forms.
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }

    /// The level called `name` (`white` is TLP 1.0's name for clear).
    pub fn parse(name: &str) -> Option<Tlp> {
        let name = name.trim().to_ascii_lowercase();
        let name = name.strip_prefix("tlp:").unwrap_or(&name);
        if name == "white" {
            return Some(Tlp::Clear);
        }
        Tlp::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// Whether `id` is an ATT&CK technique id (`T1110`, `T1110.001`): the only
/// shape an incident keeps, so ids can go into links unescaped.
pub fn valid_technique(id: &str) -> bool {
    let b = id.as_bytes();
    let main = b.len() >= 5 && b[0] == b'T' && b[1..5].iter().all(u8::is_ascii_digit);
    main && (b.len() == 5
        || (b.len() == 9 && b[5] == b'.' && b[6..].iter().all(u8::is_ascii_digit)))
}

/// The VERIS-style classification of an incident: who, how, against what,
/// found how, when, and how bad. Every value comes from the lists in
/// [`classification`] so that reports can count them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Classification {
    /// Who acted: one of [`classification::AGENTS`].
    #[serde(default)]
    pub agent: Option<String>,
    /// What they did: values of [`classification::ACTIONS`].
    #[serde(default)]
    pub actions: Vec<String>,
    /// What was affected: values of [`classification::ASSETS`].
    #[serde(default)]
    pub assets: Vec<String>,
    /// How it was found: one of [`classification::DISCOVERY`].
    #[serde(default)]
    pub discovery: Option<String>,
    /// When the compromise began.
    #[serde(default)]
    pub compromised: Option<Timestamp>,
    /// When it was discovered.
    #[serde(default)]
    pub discovered: Option<Timestamp>,
    /// When it was contained.
    #[serde(default)]
    pub contained: Option<Timestamp>,
    /// How bad overall: one of [`classification::IMPACTS`].
    #[serde(default)]
    pub impact: Option<String>,
}

/// The closed vocabularies of [`Classification`].
pub mod classification {
    /// Who acted.
    pub const AGENTS: &[&str] = &["external", "internal", "partner", "unknown"];
    /// What they did (VERIS action categories).
    pub const ACTIONS: &[&str] = &[
        "malware",
        "hacking",
        "social",
        "misuse",
        "physical",
        "error",
        "environmental",
        "unknown",
    ];
    /// What was affected.
    pub const ASSETS: &[&str] = &[
        "server",
        "desktop",
        "iot_device",
        "network_device",
        "credentials",
        "web_application",
        "honeypot",
        "person",
        "unknown",
    ];
    /// How it was found.
    pub const DISCOVERY: &[&str] = &[
        "honeypot",
        "network_anomaly_detection",
        "device_behaviour",
        "ids",
        "user_report",
        "third_party",
        "audit",
        "unknown",
    ];
    /// How bad overall (VERIS impact rating).
    pub const IMPACTS: &[&str] = &[
        "none",
        "insignificant",
        "distracting",
        "painful",
        "damaging",
        "catastrophic",
        "unknown",
    ];
}

impl Classification {
    /// Checks every value against its list and the timeframes' order; the
    /// error names the field.
    pub fn check(&self) -> Result<(), String> {
        use classification::*;
        let one = |field: &str, value: &Option<String>, list: &[&str]| match value {
            Some(v) if !list.contains(&v.as_str()) => Err(format!(
                "classification.{field}: expected one of {}",
                list.join(", ")
            )),
            _ => Ok(()),
        };
        let many = |field: &str, values: &[String], list: &[&str]| match values
            .iter()
            .find(|v| !list.contains(&v.as_str()))
        {
            Some(_) => Err(format!(
                "classification.{field}: expected values among {}",
                list.join(", ")
            )),
            None => Ok(()),
        };
        one("agent", &self.agent, AGENTS)?;
        many("actions", &self.actions, ACTIONS)?;
        many("assets", &self.assets, ASSETS)?;
        one("discovery", &self.discovery, DISCOVERY)?;
        one("impact", &self.impact, IMPACTS)?;
        let times = [
            ("compromised", self.compromised),
            ("discovered", self.discovered),
            ("contained", self.contained),
        ];
        for pair in times.windows(2) {
            if let ((a, Some(ta)), (b, Some(tb))) = (pair[0], pair[1])
                && tb < ta
            {
                return Err(format!("classification.{b}: earlier than {a}"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json_with_readable_names() {
        let opened = Timestamp::from_micros(1_700_000_000_000_000).unwrap();
        let incident = Incident {
            id: Uuid::now_v7(),
            title: "Mirai-like botnet on the Telnet honeypot".into(),
            description: "Loader from *203.0.113.9*".into(),
            severity: Severity::High,
            status: IncidentStatus::InProgress,
            resolution: None,
            assignee: Some("alice".into()),
            tlp: Tlp::AmberStrict,
            pap: Tlp::Green,
            tags: vec!["botnet".into()],
            techniques: vec!["T1110.001".into()],
            classification: Classification {
                agent: Some("external".into()),
                actions: vec!["hacking".into(), "malware".into()],
                assets: vec!["iot_device".into()],
                ..Classification::default()
            },
            template: None,
            created_by: "alice".into(),
            created: opened,
            updated: opened,
            merged_into: None,
        };
        let json = serde_json::to_value(&incident).unwrap();
        assert_eq!(json["status"], "in_progress");
        assert_eq!(json["tlp"], "amber+strict");
        assert!(json["resolution"].is_null());
        assert_eq!(serde_json::from_value::<Incident>(json).unwrap(), incident);
        let closed = Incident {
            status: IncidentStatus::Closed,
            resolution: Some(Resolution::TruePositiveWithoutImpact),
            ..incident
        };
        let json = serde_json::to_string(&closed).unwrap();
        assert!(
            json.contains("\"resolution\":\"true_positive_without_impact\""),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Incident>(&json).unwrap(), closed);
        for s in IncidentStatus::ALL {
            assert_eq!(IncidentStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for r in Resolution::ALL {
            assert_eq!(Resolution::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        for t in Tlp::ALL {
            assert_eq!(Tlp::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        assert_eq!(Tlp::parse("TLP:WHITE"), Some(Tlp::Clear));
    }

    #[test]
    fn classification_values_come_from_the_lists() {
        let mut c = Classification {
            agent: Some("external".into()),
            actions: vec!["hacking".into()],
            ..Classification::default()
        };
        assert_eq!(c.check(), Ok(()));
        c.agent = Some("aliens".into());
        assert!(c.check().unwrap_err().starts_with("classification.agent"));
        c.agent = None;
        c.assets = vec!["toaster".into()];
        assert!(c.check().unwrap_err().starts_with("classification.assets"));
        c.assets.clear();
        c.discovered = Timestamp::from_micros(10);
        c.compromised = Timestamp::from_micros(20);
        assert!(c.check().unwrap_err().contains("discovered"));
    }

    #[test]
    fn technique_ids() {
        for ok in ["T1110", "T1110.001"] {
            assert!(valid_technique(ok), "{ok}");
        }
        for bad in ["t1110", "T111", "T1110.1", "T1110<", "", "T1110.001x"] {
            assert!(!valid_technique(bad), "{bad}");
        }
    }
}
