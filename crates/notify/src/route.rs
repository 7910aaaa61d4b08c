//! Routes: which alerts a route selects (severity, rule, technique), and its
//! state over time: the rate limiter (messages per minute) and the batches it
//! gathers (a digest window, or what went over the limit), which are saved
//! with the notifier's offset so a restart keeps them.

use std::time::Duration;

use nectar_event::Timestamp;
use nectar_store::NotifyBatch;

use crate::config::RouteConfig;
use crate::message::{AlertSummary, DIGEST_LISTED, Digest};

/// How long the rate limit counts messages (`rate_limit` is per minute).
pub const RATE_WINDOW: Duration = Duration::from_secs(60);

/// Why alerts are gathered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BatchKind {
    /// The route's digest window.
    Digest,
    /// The route's rate limit was reached.
    Overflow,
}

impl BatchKind {
    /// The name stored.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchKind::Digest => "digest",
            BatchKind::Overflow => "overflow",
        }
    }

    fn parse(name: &str) -> Option<BatchKind> {
        match name {
            "digest" => Some(BatchKind::Digest),
            "overflow" => Some(BatchKind::Overflow),
            _ => None,
        }
    }
}

/// Alerts being gathered into one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// The route's name.
    pub route: String,
    /// Why.
    pub kind: BatchKind,
    /// When the first alert came.
    pub opened: Timestamp,
    /// When it is sent.
    pub due: Timestamp,
    /// All alerts gathered, listed or not.
    pub count: u64,
    /// The first [`DIGEST_LISTED`].
    pub alerts: Vec<AlertSummary>,
}

impl Batch {
    /// Adds an alert (listed while there is room; always counted).
    pub fn add(&mut self, alert: AlertSummary) {
        self.count += 1;
        if self.alerts.len() < DIGEST_LISTED {
            self.alerts.push(alert);
        }
    }

    /// The digest message it becomes, at `now`.
    pub fn digest(&self, now: Timestamp) -> Digest {
        Digest {
            route: self.route.clone(),
            reason: self.kind.as_str().into(),
            from: self.opened,
            to: now,
            count: self.count,
            alerts: self.alerts.clone(),
        }
    }

    /// The row the store keeps.
    pub fn to_row(&self) -> NotifyBatch {
        NotifyBatch {
            route: self.route.clone(),
            kind: self.kind.as_str().into(),
            opened: self.opened,
            due: self.due,
            count: self.count,
            // A Vec of plain structs always serialises.
            alerts: serde_json::to_string(&self.alerts).unwrap_or_else(|_| "[]".into()),
        }
    }

    /// The batch a stored row holds; `None` if the row is not ours to read.
    pub fn from_row(row: &NotifyBatch) -> Option<Batch> {
        Some(Batch {
            route: row.route.clone(),
            kind: BatchKind::parse(&row.kind)?,
            opened: row.opened,
            due: row.due,
            count: row.count,
            alerts: serde_json::from_str(&row.alerts).ok()?,
        })
    }
}

/// A configured route and its rate-limit window.
#[derive(Debug, Clone)]
pub struct Route {
    /// Its name.
    pub name: String,
    /// Its configuration.
    pub config: RouteConfig,
    /// The rate limit's window ([`RATE_WINDOW`]; shorter in tests).
    window: Duration,
    window_start: Option<Timestamp>,
    sent: u32,
}

/// What a route does with one alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Not selected.
    Skip,
    /// A message now.
    Send,
    /// Into a batch, sent at `due` (if the batch is new).
    Gather(BatchKind, Timestamp),
}

impl Route {
    /// Route `name` configured as `config`, its rate limit counted over
    /// `window`.
    pub fn new(name: String, config: RouteConfig, window: Duration) -> Route {
        Route {
            name,
            config,
            window,
            window_start: None,
            sent: 0,
        }
    }

    /// Whether the route selects `alert`.
    pub fn selects(&self, alert: &AlertSummary) -> bool {
        let c = &self.config;
        alert.severity >= c.min_severity
            && (c.rules.is_empty() || c.rules.contains(&alert.rule_id))
            && (c.techniques.is_empty()
                || c.techniques.iter().any(|want| {
                    alert.techniques.iter().any(|t| {
                        t == want
                            || t.strip_prefix(want.as_str())
                                .is_some_and(|rest| rest.starts_with('.'))
                    })
                }))
    }

    /// What to do with `alert` at `now`: counts a sent message against the
    /// rate limit.
    pub fn decide(&mut self, alert: &AlertSummary, now: Timestamp) -> Decision {
        if !self.selects(alert) {
            return Decision::Skip;
        }
        if self.config.digest > 0 {
            return Decision::Gather(
                BatchKind::Digest,
                add(now, Duration::from_secs(self.config.digest)),
            );
        }
        if self.allow(now) {
            Decision::Send
        } else {
            let start = self.window_start.unwrap_or(now);
            Decision::Gather(BatchKind::Overflow, add(start, self.window))
        }
    }

    /// Counts one message at `now` if the limit allows it.
    fn allow(&mut self, now: Timestamp) -> bool {
        if self.config.rate_limit == 0 {
            return true;
        }
        match self.window_start {
            Some(start) if now.as_micros() < add(start, self.window).as_micros() => {}
            _ => {
                self.window_start = Some(now);
                self.sent = 0;
            }
        }
        if self.sent < self.config.rate_limit {
            self.sent += 1;
            true
        } else {
            false
        }
    }

    /// Counts a message the route sends regardless of the limit (a batch
    /// that fell due: a summary is never held back, or nothing would say
    /// that alerts were held).
    pub fn count_sent(&mut self, now: Timestamp) {
        if !self.allow(now) {
            self.sent = self.sent.saturating_add(1);
        }
    }
}

/// `t + d`, saturating at the end of time.
pub fn add(t: Timestamp, d: Duration) -> Timestamp {
    let micros = t
        .as_micros()
        .saturating_add(d.as_micros().min(i64::MAX as u128) as i64);
    Timestamp::from_micros(micros).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nectar_event::Severity;

    fn alert(severity: Severity, rule: &str, techniques: &[&str]) -> AlertSummary {
        AlertSummary {
            id: uuid::Uuid::now_v7(),
            kind: "raised".into(),
            title: "t".into(),
            severity,
            rule_id: rule.into(),
            rule_title: "r".into(),
            techniques: techniques.iter().map(|t| (*t).to_owned()).collect(),
            group: Vec::new(),
            count: 1,
            first_seen: Timestamp::from_micros(0).unwrap(),
            last_seen: Timestamp::from_micros(0).unwrap(),
            observables: Vec::new(),
            previous: None,
        }
    }

    fn at(s: i64) -> Timestamp {
        Timestamp::from_micros(1_700_000_000_000_000 + s * 1_000_000).unwrap()
    }

    #[test]
    fn selects_by_severity_rule_and_technique() {
        let mut config = RouteConfig::to(&["c"]);
        config.min_severity = Severity::High;
        config.techniques = vec!["T1110".into()];
        let route = Route::new("r".into(), config.clone(), RATE_WINDOW);
        assert!(route.selects(&alert(Severity::High, "x", &["T1110.001"])));
        assert!(route.selects(&alert(Severity::Critical, "x", &["T1110"])));
        assert!(!route.selects(&alert(Severity::Medium, "x", &["T1110"])));
        assert!(!route.selects(&alert(Severity::High, "x", &["T11100"])));
        assert!(!route.selects(&alert(Severity::High, "x", &[])));
        config.techniques.clear();
        config.rules = vec!["ssh-brute".into()];
        let route = Route::new("r".into(), config, RATE_WINDOW);
        assert!(route.selects(&alert(Severity::High, "ssh-brute", &[])));
        assert!(!route.selects(&alert(Severity::High, "other", &[])));
    }

    #[test]
    fn over_the_rate_limit_alerts_are_gathered_until_the_minute_ends() {
        let mut config = RouteConfig::to(&["c"]);
        config.rate_limit = 2;
        let mut route = Route::new("r".into(), config, RATE_WINDOW);
        let a = alert(Severity::High, "x", &[]);
        assert_eq!(route.decide(&a, at(0)), Decision::Send);
        assert_eq!(route.decide(&a, at(10)), Decision::Send);
        assert_eq!(
            route.decide(&a, at(20)),
            Decision::Gather(BatchKind::Overflow, at(60))
        );
        assert_eq!(route.decide(&a, at(61)), Decision::Send);
    }

    #[test]
    fn a_digest_route_gathers_everything_and_batches_round_trip() {
        let mut config = RouteConfig::to(&["c"]);
        config.digest = 300;
        let mut route = Route::new("r".into(), config, RATE_WINDOW);
        let a = alert(Severity::Low, "x", &[]);
        assert_eq!(
            route.decide(&a, at(5)),
            Decision::Gather(BatchKind::Digest, at(305))
        );
        let mut batch = Batch {
            route: "r".into(),
            kind: BatchKind::Digest,
            opened: at(5),
            due: at(305),
            count: 0,
            alerts: Vec::new(),
        };
        for _ in 0..DIGEST_LISTED + 5 {
            batch.add(a.clone());
        }
        assert_eq!((batch.count, batch.alerts.len()), (55, DIGEST_LISTED));
        assert_eq!(Batch::from_row(&batch.to_row()), Some(batch));
    }
}
