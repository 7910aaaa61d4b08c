//! `[notify]` of the configuration file: the channels (where messages go,
//! [`ChannelConfig`], in `channel.rs`) and the routes (which alerts go where,
//! how often), with the checks whose errors name the key relative to
//! `[notify]` (`channels[2].url`) and say the fix. The doc comments are the
//! user's documentation: `nectar config` prints them.

mod channel;

use std::collections::HashSet;

use nectar_event::Severity;
use nectar_event::config::ConfigError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use channel::{ChannelConfig, ChannelType, SmtpTls, SyslogFormat, SyslogProtocol};

/// Longest channel or route name.
const MAX_NAME: usize = 64;

/// `[notify]`: who is told when an alert is raised. Nothing is sent unless a
/// route names a channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// Where messages can go: `[[notify.channels]]` tables.
    pub channels: Vec<ChannelConfig>,
    /// Which alerts go to which channels: `[[notify.routes]]` tables. An alert
    /// that no route selects notifies nobody.
    pub routes: Vec<RouteConfig>,
    /// Attempts per message before it is given up (dead-letter list).
    pub max_attempts: u32,
    /// Hours after which an undelivered message is given up, whatever its
    /// attempts.
    pub max_age_hours: u64,
    /// Seconds before the first retry; each further retry waits 3 times longer
    /// (with ±20 % jitter), up to `retry_max_seconds`.
    pub retry_initial_seconds: u64,
    /// Longest wait between two attempts, in seconds (also caps a receiver's
    /// `Retry-After`).
    pub retry_max_seconds: u64,
    /// Messages being sent at once, over all channels.
    pub max_in_flight: usize,
    /// Messages being sent at once to one channel (a slow receiver holds at
    /// most this many of `max_in_flight`).
    pub channel_in_flight: usize,
    /// Messages waiting for one channel; beyond it new messages for that
    /// channel are dropped (counted, and logged).
    pub max_pending: usize,
    /// Days delivered and dead messages are kept for the alert page.
    pub keep_days: u64,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            channels: Vec::new(),
            routes: Vec::new(),
            max_attempts: 10,
            max_age_hours: 24,
            retry_initial_seconds: 10,
            retry_max_seconds: 4 * 3600,
            max_in_flight: 8,
            channel_in_flight: 2,
            max_pending: 10_000,
            keep_days: 30,
        }
    }
}
/// `[[notify.routes]]`: which alerts go to which channels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// A name for the status page and the delivery list (default: `route1`,
    /// `route2`, ... by position). Keep it when editing other routes: gathered
    /// digests are saved under it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The channels (by `name`) the selected alerts go to.
    pub channels: Vec<String>,
    /// The lowest severity selected: info, low, medium, high or critical.
    #[serde(default = "default_min_severity")]
    #[schemars(with = "String")]
    pub min_severity: Severity,
    /// Only alerts of these rule ids (empty: every rule).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// Only alerts whose rule has one of these ATT&CK techniques; "T1110"
    /// also selects its sub-techniques ("T1110.001"). Empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub techniques: Vec<String>,
    /// Most messages per minute from this route (0: no limit). Alerts over the
    /// limit are gathered into one summary sent when the minute ends.
    #[serde(default)]
    pub rate_limit: u32,
    /// Seconds to gather alerts into one digest message (0: a message per
    /// alert). The first alert opens the window.
    #[serde(default)]
    pub digest: u64,
}

fn default_min_severity() -> Severity {
    Severity::Info
}

impl RouteConfig {
    /// A route of every alert to `channels`.
    pub fn to(channels: &[&str]) -> RouteConfig {
        RouteConfig {
            name: String::new(),
            channels: channels.iter().map(|c| (*c).to_owned()).collect(),
            min_severity: default_min_severity(),
            rules: Vec::new(),
            techniques: Vec::new(),
            rate_limit: 0,
            digest: 0,
        }
    }
}
impl NotifyConfig {
    /// Checks every channel and route; keys are relative to `[notify]`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut names = HashSet::new();
        for (i, channel) in self.channels.iter().enumerate() {
            channel
                .validate()
                .map_err(|e| e.within(format!("channels[{i}]")))?;
            if !names.insert(channel.name.as_str()) {
                return Err(ConfigError::new(
                    format!("channels[{i}].name"),
                    format!("{:?} names two channels; give each its own", channel.name),
                ));
            }
        }
        let mut route_names = HashSet::new();
        for (i, route) in self.routes.iter().enumerate() {
            let key = |k: &str| format!("routes[{i}].{k}");
            if !route.name.is_empty() {
                check_name(&route.name).map_err(|e| e.within(format!("routes[{i}]")))?;
            }
            let name = self.route_name(i);
            if !route_names.insert(name.clone()) {
                return Err(ConfigError::new(
                    key("name"),
                    format!("{name:?} names two routes; give each its own"),
                ));
            }
            if route.channels.is_empty() {
                return Err(ConfigError::new(
                    key("channels"),
                    "must name at least one channel of [[notify.channels]]",
                ));
            }
            for (j, channel) in route.channels.iter().enumerate() {
                if !names.contains(channel.as_str()) {
                    let known: Vec<&str> = self.channels.iter().map(|c| c.name.as_str()).collect();
                    return Err(ConfigError::new(
                        key(&format!("channels[{j}]")),
                        format!(
                            "no channel is called {channel:?}; the channels are [{}] (add a [[notify.channels]] with this name, or fix the spelling)",
                            known.join(", ")
                        ),
                    ));
                }
            }
            for (j, t) in route.techniques.iter().enumerate() {
                if !is_technique(t) {
                    return Err(ConfigError::new(
                        key(&format!("techniques[{j}]")),
                        format!(
                            "{t:?} is not an ATT&CK technique id like \"T1110\" or \"T1110.001\""
                        ),
                    ));
                }
            }
            if route.digest > 86_400 {
                return Err(ConfigError::new(
                    key("digest"),
                    "at most 86400 seconds (a day)",
                ));
            }
        }
        let positive = [
            ("max_attempts", self.max_attempts as u64),
            ("max_age_hours", self.max_age_hours),
            ("retry_initial_seconds", self.retry_initial_seconds),
            ("retry_max_seconds", self.retry_max_seconds),
            ("max_in_flight", self.max_in_flight as u64),
            ("channel_in_flight", self.channel_in_flight as u64),
            ("max_pending", self.max_pending as u64),
            ("keep_days", self.keep_days),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(ConfigError::new(key, "must be greater than 0"));
            }
        }
        if self.max_attempts > 100 {
            return Err(ConfigError::new("max_attempts", "at most 100"));
        }
        if self.retry_max_seconds < self.retry_initial_seconds {
            return Err(ConfigError::new(
                "retry_max_seconds",
                "must be at least `retry_initial_seconds`",
            ));
        }
        if self.max_in_flight > 256 || self.channel_in_flight > self.max_in_flight {
            return Err(ConfigError::new(
                "channel_in_flight",
                "must be at most `max_in_flight`, itself at most 256",
            ));
        }
        Ok(())
    }

    /// The name of route `index`: its `name`, or `route<index + 1>`.
    pub fn route_name(&self, index: usize) -> String {
        match self.routes.get(index) {
            Some(r) if !r.name.is_empty() => r.name.clone(),
            _ => format!("route{}", index + 1),
        }
    }

    /// Whether any route would send anything.
    pub fn enabled(&self) -> bool {
        !self.routes.is_empty()
    }
}
pub(super) fn check_name(name: &str) -> Result<(), ConfigError> {
    if name.is_empty()
        || name.len() > MAX_NAME
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(ConfigError::new(
            "name",
            format!("{name:?}: 1 to {MAX_NAME} letters, digits, '-', '_' or '.'"),
        ));
    }
    Ok(())
}
/// `T1234` or `T1234.123`.
fn is_technique(t: &str) -> bool {
    let Some(rest) = t.strip_prefix('T') else {
        return false;
    };
    let (main, sub) = rest.split_once('.').unwrap_or((rest, "000"));
    main.len() == 4
        && sub.len() == 3
        && main.bytes().all(|b| b.is_ascii_digit())
        && sub.bytes().all(|b| b.is_ascii_digit())
}
#[cfg(test)]
mod tests {
    use super::*;
    use nectar_event::config::Sensitive;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn parse(text: &str) -> NotifyConfig {
        toml::from_str(text).unwrap()
    }

    fn err(config: &NotifyConfig) -> String {
        let e = config.validate().unwrap_err();
        format!("{}: {}", e.key, e.reason)
    }

    #[test]
    fn every_type_parses_and_checks() {
        let config = parse(&format!(
            r#"
            [[channels]]
            name = "hook"
            type = "webhook"
            url = "https://hooks.example.org/nectar"
            secret = "{SECRET}"
            [[channels]]
            name = "chat"
            type = "slack"
            url = "https://hooks.slack.com/services/T0/B0/x"
            [[channels]]
            name = "mm"
            type = "mattermost"
            url = "http://127.0.0.1:8065/hooks/abc"
            [[channels]]
            name = "mail"
            type = "email"
            host = "smtp.example.org"
            from = "Nectar <nectar@example.org>"
            to = ["soc@example.org"]
            username = "nectar"
            password = "pw"
            [[channels]]
            name = "siem"
            type = "syslog"
            address = "192.0.2.1:6514"
            protocol = "tcp"
            format = "cef"
            [[routes]]
            channels = ["hook", "chat", "mm", "mail", "siem"]
            min_severity = "high"
            techniques = ["T1110"]
            rate_limit = 10
            digest = 60
            "#
        ));
        config.validate().unwrap();
        assert_eq!(config.channels[3].smtp_port(), 587);
        assert_eq!(config.route_name(0), "route1");
        assert!(!format!("{config:?}").contains("hooks.slack.com"));
    }

    #[test]
    fn errors_name_the_key_and_the_fix() {
        let mut config = NotifyConfig::default();
        config
            .channels
            .push(ChannelConfig::new("a", ChannelType::Syslog));
        config.channels[0].address = "127.0.0.1:514".into();
        config.routes.push(RouteConfig::to(&["a", "b"]));
        let e = err(&config);
        assert!(
            e.starts_with("routes[0].channels[1]: no channel is called \"b\""),
            "{e}"
        );
        assert!(e.contains("[a]"), "{e}");

        config.routes[0].channels.pop();
        config.channels[0].host = "x".into();
        assert_eq!(
            err(&config),
            "channels[0].host: applies to type email only, not syslog; remove it"
        );

        let mut hook = ChannelConfig::new("h", ChannelType::Webhook);
        hook.url = Sensitive::new("ftp://example.org/");
        let mut config = NotifyConfig {
            channels: vec![hook],
            ..NotifyConfig::default()
        };
        assert!(err(&config).starts_with("channels[0].url: must be an http"));
        config.channels[0].url = Sensitive::new("https://example.org/x");
        assert!(
            err(&config).starts_with("channels[0].secret: "),
            "{}",
            err(&config)
        );
        config.channels[0].secret = Sensitive::new("whsec_c2hvcnQ=");
        assert!(err(&config).contains("24 to 64"), "{}", err(&config));

        let mut mail = ChannelConfig::new("m", ChannelType::Email);
        mail.host = "smtp.example.org".into();
        mail.from = "nectar@example.org".into();
        let mut config = NotifyConfig {
            channels: vec![mail],
            ..NotifyConfig::default()
        };
        assert!(err(&config).starts_with("channels[0].to: is required"));
        config.channels[0].to = vec!["not an address".into()];
        assert!(err(&config).starts_with("channels[0].to[0]: "));
        config.channels[0].to = vec!["soc@example.org".into()];
        config.channels[0].username = "u".into();
        config.channels[0].password = Sensitive::new("p");
        config.channels[0].tls = SmtpTls::None;
        assert!(err(&config).starts_with("channels[0].tls: `none` would send the password"));
        config.channels[0].host = "127.0.0.1".into();
        config.validate().unwrap();
    }

    #[test]
    fn unknown_keys_and_types_are_refused_by_serde() {
        assert!(toml::from_str::<NotifyConfig>("[[channels]]\nname='a'\ntype='fax'").is_err());
        assert!(toml::from_str::<NotifyConfig>("[[routes]]\nchannels=[]\ncolour='red'").is_err());
        assert!(
            toml::from_str::<NotifyConfig>("[[routes]]\nchannels=['a']\nmin_severity='bad'")
                .is_err()
        );
    }

    #[test]
    fn the_readme_example_is_valid() {
        #[derive(Deserialize)]
        struct File {
            notify: NotifyConfig,
        }
        let readme = include_str!("../../../../README.md");
        let section = readme.split("### Notifications").nth(1).unwrap();
        let example = section
            .split("```toml")
            .nth(1)
            .unwrap()
            .split("```")
            .next()
            .unwrap();
        let mut file: File = toml::from_str(example).unwrap();
        // The placeholders stand for real secrets.
        file.notify.channels[0].secret = Sensitive::new(SECRET);
        file.notify.validate().unwrap();
        assert_eq!(file.notify.channels.len(), 4);
        assert_eq!(file.notify.routes[1].digest, 600);
    }

    #[test]
    fn techniques_look_like_attack_ids() {
        assert!(is_technique("T1110") && is_technique("T1110.001"));
        assert!(!is_technique("t1110") && !is_technique("T111") && !is_technique("T1110.1"));
    }
}
