//! SPOT on every statistic: one DSPOT model per watched statistic, the
//! learning phase before it (visible as state `learning`), alarms with the
//! probability of the value under the fitted tail and the top contributors
//! of the window, and saving / restoring what was learnt.
//!
//! Separate from the windows because it is the only stateful, slow-changing
//! part: windows are cut and forgotten, models live for months and are saved
//! in the data directory.
//!
//! Learning: the first `depth + n_init` finite values of a statistic fill
//! DSPOT's moving average and train the tail. [`Monitors::finish_learning`]
//! (end of a baseline capture) fits on what there is when that is fewer,
//! shrinking `depth` and `n_init` and lowering `level` so that at least
//! [`MIN_EXCESSES`] training values lie beyond the excess threshold, and says
//! so. Training data without a tail (a statistic that stayed constant) cannot
//! be fitted: the statistic keeps learning on later windows (the learning
//! buffer slides, so memory stays bounded) and says why.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use nectar_event::{Event, Kind, Severity, Timestamp};
use nectar_spot::{BiSpot, DSpot, Spot, SpotConfig, SpotError, Status};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::{DetectConfig, SpotSettings, Width};
use crate::counters::Dim;
use crate::sources::{Culprit, Measure, SCALES, View};
use crate::stats::Stat;
use crate::window::{Contributor, ContributorKey, WindowReport};

/// Fewest training values (after the moving average) a model is fitted on.
pub const MIN_FIT: usize = 20;
/// Fewest training values expected beyond the excess threshold: `level` is
/// lowered to `1 - MIN_EXCESSES / n_init` when it would leave fewer.
pub const MIN_EXCESSES: f64 = 10.0;

/// Which side of normal a value fell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Above the upper threshold.
    Up,
    /// Below the lower threshold.
    Down,
}

impl Direction {
    /// `up` or `down`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

/// The DSPOT model of one statistic: upper tail, lower tail or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(clippy::large_enum_variant)] // one per statistic, always boxed in State
enum Model {
    Up(DSpot<Spot>),
    Down(DSpot<Spot>),
    Both(DSpot<BiSpot>),
}

impl Model {
    /// `unbounded`: the statistic has no upper end (a rate or a count): its
    /// upper tail is never fitted as one that stops ([`SpotConfig::unbounded`]).
    fn new(s: &SpotSettings, unbounded: bool) -> Result<Model, SpotError> {
        let cfg = SpotConfig {
            q: s.q,
            level: s.level,
            max_excess: s.max_excess,
            low: false,
            discard_anomalies: true,
            unbounded,
        };
        Ok(match (s.up, s.down) {
            (true, true) => Model::Both(DSpot::bispot(cfg, s.depth)?),
            (false, true) => Model::Down(DSpot::spot(
                SpotConfig {
                    low: true,
                    unbounded: false,
                    ..cfg
                },
                s.depth,
            )?),
            _ => Model::Up(DSpot::spot(cfg, s.depth)?),
        })
    }

    fn fit(&mut self, data: &[f64]) -> Result<(), SpotError> {
        match self {
            Model::Up(m) | Model::Down(m) => m.fit(data),
            Model::Both(m) => m.fit(data),
        }
    }

    fn moving_average(&self) -> f64 {
        match self {
            Model::Up(m) | Model::Down(m) => m.moving_average(),
            Model::Both(m) => m.moving_average(),
        }
    }

    /// The tail model of one direction, if watched.
    fn tail(&self, dir: Direction) -> Option<&Spot> {
        match (self, dir) {
            (Model::Up(m), Direction::Up) | (Model::Down(m), Direction::Down) => Some(m.inner()),
            (Model::Both(m), Direction::Up) => Some(m.inner().upper()),
            (Model::Both(m), Direction::Down) => Some(m.inner().lower()),
            _ => None,
        }
    }

    /// Alarm thresholds in the statistic's units: (upper, lower).
    fn thresholds(&self) -> (Option<f64>, Option<f64>) {
        let m = self.moving_average();
        let t = |d| self.tail(d).map(|s| m + alarm_threshold(s));
        (t(Direction::Up), t(Direction::Down))
    }

    /// Steps one value; the direction of the anomaly, if any.
    fn step(&mut self, x: f64) -> Result<Option<Direction>, SpotError> {
        let anomaly = |s: Status| s == Status::Anomaly;
        Ok(match self {
            Model::Up(m) => anomaly(m.step(x)?).then_some(Direction::Up),
            Model::Down(m) => anomaly(m.step(x)?).then_some(Direction::Down),
            Model::Both(m) => {
                let s = m.step(x)?;
                if anomaly(s.upper) {
                    Some(Direction::Up)
                } else if anomaly(s.lower) {
                    Some(Direction::Down)
                } else {
                    None
                }
            }
        })
    }
}

/// Excesses a bounded tail (GPD shape γ < 0) must rest on before its end
/// point is trusted. Fitted on a few dozen excesses (a short baseline), a
/// negative γ mostly says "nothing larger was seen yet" and puts the
/// threshold just above the largest learnt value; until then alarms use the
/// exponential tail (γ = 0) with the same scale, whose threshold is farther.
pub const MIN_BOUNDED_EXCESSES: u64 = 100;

/// Whether the exponential tail stands in for a fitted bounded one.
fn floored(tail: &Spot) -> bool {
    tail.gamma() < 0.0 && tail.nt() < MIN_BOUNDED_EXCESSES
}

fn sign(tail: &Spot) -> f64 {
    if tail.config().low { -1.0 } else { 1.0 }
}

/// The alarm threshold of one tail in residual units: SPOT's anomaly
/// threshold, or the exponential tail's (see [`MIN_BOUNDED_EXCESSES`]).
fn alarm_threshold(tail: &Spot) -> f64 {
    let z = tail.anomaly_threshold();
    if !floored(tail) {
        return z;
    }
    let s = tail.nt() as f64 / tail.n().max(1) as f64;
    let z_exp = tail.excess_threshold() + sign(tail) * tail.sigma() * (s / tail.config().q).ln();
    if z_exp.is_finite() && sign(tail) * (z_exp - z) > 0.0 {
        z_exp
    } else {
        z
    }
}

/// Probability, under the tail behind the alarm threshold, of a residual at
/// least as extreme as `r`: `Nt/n · (1 + γ·d/σ)^(−1/γ)` (or
/// `Nt/n · exp(−d/σ)` for the exponential tail), `d` the distance beyond the
/// excess threshold — NetSpot inverts σ/γ here. 0 beyond the end of a
/// bounded tail, clamped to [0, 1].
fn tail_probability(tail: &Spot, r: f64) -> f64 {
    let p = if floored(tail) {
        let s = tail.nt() as f64 / tail.n().max(1) as f64;
        let d = sign(tail) * (r - tail.excess_threshold());
        s * (-d / tail.sigma()).exp()
    } else {
        tail.probability(r)
    };
    if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) }
}

/// Severity of an alarm from its probability `p` relative to the risk `q`
/// the model was asked for: below q·10⁻⁴ critical, below q·10⁻² high,
/// below q medium, otherwise low (an alarm at the limit of the model).
pub fn severity(p: f64, q: f64) -> Severity {
    if p < q * 1e-4 {
        Severity::Critical
    } else if p < q * 1e-2 {
        Severity::High
    } else if p < q {
        Severity::Medium
    } else {
        Severity::Low
    }
}

/// One statistic crossing its threshold in one window.
#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    /// The statistic.
    pub stat: Stat,
    /// Its value in the window.
    pub value: f64,
    /// The anomaly threshold it crossed (moving average + SPOT threshold).
    pub threshold: f64,
    /// Above or below.
    pub direction: Direction,
    /// Window start, ns since the epoch.
    pub window_start_ns: u64,
    /// Window end (exclusive), ns since the epoch.
    pub window_end_ns: u64,
    /// Probability of a value at least this extreme under the fitted tail.
    pub probability: f64,
    /// From the probability (see [`severity`]).
    pub severity: Severity,
    /// Top sources of the packets behind the statistic.
    pub top_src: Vec<Contributor>,
    /// Top destinations.
    pub top_dst: Vec<Contributor>,
    /// Top destination ports.
    pub top_dst_port: Vec<Contributor>,
    /// The time scale of the statistic, in windows (1, 10 or 100).
    pub scale: u32,
    /// For a per-source statistic: the source with the largest value and
    /// what it did at that scale.
    pub culprit: Option<Culprit>,
}

fn rfc3339(ns: u64) -> String {
    Timestamp::from_nanos(i128::from(ns))
        .unwrap_or_else(|| Timestamp::from_micros(0).unwrap_or_else(Timestamp::now))
        .to_string()
}

fn contributors(list: &[Contributor]) -> Value {
    Value::Array(
        list.iter()
            .map(|c| {
                let key = match c.key {
                    ContributorKey::Addr(a) => Value::String(a.to_string()),
                    ContributorKey::Port(p) => Value::from(p),
                };
                // Rounded: shares are estimates; 4 digits keep events short.
                json!({"key": key, "share": (c.share * 1e4).round() / 1e4})
            })
            .collect(),
    )
}

/// A JSON number, or null for NaN / infinity (JSON has neither).
fn num(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// FNV-1a, for deterministic event ids.
fn fnv(seed: u64, parts: &[&[u8]]) -> u64 {
    let mut h = seed;
    for p in parts {
        for &b in *p {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Alarm {
    /// The alarm as a `net.alarm` event. The id is a UUIDv7 derived from the
    /// sensor, statistic, direction and window, so analysing the same capture
    /// twice into one store stores each alarm once.
    pub fn to_event(&self, sensor: &str) -> Event {
        let name = self.stat.name();
        let dir = self.direction.as_str();
        let time =
            Timestamp::from_nanos(i128::from(self.window_start_ns)).unwrap_or_else(Timestamp::now);
        let start = self.window_start_ns.to_le_bytes();
        let parts: [&[u8]; 4] = [sensor.as_bytes(), name.as_bytes(), dir.as_bytes(), &start];
        let a = fnv(0xcbf2_9ce4_8422_2325, &parts);
        let b = fnv(0x6c62_272e_07bb_0142, &parts);
        let mut random = [0u8; 10];
        random[..8].copy_from_slice(&a.to_le_bytes());
        random[8..].copy_from_slice(&b.to_le_bytes()[..2]);
        let millis = u64::try_from(time.as_micros().max(0) / 1000).unwrap_or(0);
        let id = uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid();

        let class = self.class();
        let why = format!(
            "{name} {} {} threshold {} (p = {:.2e})",
            short(self.value),
            if self.direction == Direction::Up {
                "above"
            } else {
                "below"
            },
            short(self.threshold),
            self.probability,
        );
        let summary = match self.plain_words() {
            Some(words) => format!("{words}; {why}"),
            None => match self.top_src.first() {
                Some(c) => format!("{why}; top source {} ({:.0} %)", c.key, c.share * 100.0),
                None => why,
            },
        };
        let mut event = Event::new(sensor, Kind::NetAlarm, self.severity, summary).at(time);
        event.id = id;
        // The main actor, when one source / destination dominates.
        let dominant = |l: &[Contributor]| l.first().filter(|c| c.share >= 0.5).map(|c| c.key);
        if let Some(ContributorKey::Addr(a)) = dominant(&self.top_src) {
            event = event.from_addr(a, None);
        }
        if let Some(ContributorKey::Addr(a)) = dominant(&self.top_dst) {
            let port = match dominant(&self.top_dst_port) {
                Some(ContributorKey::Port(p)) => Some(p),
                _ => None,
            };
            event = event.to_addr(a, port);
        }
        event
            .with(nectar_event::field::STATISTIC, name)
            .with("value", num(self.value))
            .with("threshold", num(self.threshold))
            .with("direction", dir)
            // The time the statistic covers: `scale` windows up to this one.
            .with(
                "window_start",
                rfc3339(self.window_end_ns.saturating_sub(self.scale_ns())),
            )
            .with("window_end", rfc3339(self.window_end_ns))
            .with("probability", num(self.probability))
            .with("top_src", contributors(&self.top_src))
            .with("top_dst", contributors(&self.top_dst))
            .with("top_dst_port", contributors(&self.top_dst_port))
            .with("class", class)
            .with("scale", self.scale)
            .with("scale_seconds", num(self.scale_ns() as f64 / 1e9))
            .with(
                "culprit",
                self.culprit.map_or(Value::Null, |c| {
                    json!({
                        "view": c.view.name(),
                        "src": c.src.to_string(),
                        "dst": c.dst.map(|d| d.to_string()),
                        "port": c.port,
                        "ports": num(c.ports),
                        "hosts": num(c.hosts),
                        "attempts": num(c.attempts.round()),
                        "failed": num((c.failed * 1e4).round() / 1e4),
                        "logins": num(c.logins.round()),
                    })
                }),
            )
    }

    /// The time the statistic covers: the window width times its scale.
    pub fn scale_ns(&self) -> u64 {
        (self.window_end_ns.saturating_sub(self.window_start_ns))
            .saturating_mul(u64::from(self.scale))
    }

    /// What the alarm looks like, from the statistic that fired (and, for
    /// the share of failed attempts, what else the source did):
    /// `port_scan`, `host_sweep`, `brute_force`, `flood`,
    /// `failed_connections` or `anomaly`.
    pub fn class(&self) -> &'static str {
        if self.direction == Direction::Down {
            return "anomaly";
        }
        match (self.stat.info().measure, self.culprit) {
            (Some(Measure::Ports | Measure::DstPorts), _) => "port_scan",
            (Some(Measure::Hosts), _) => "host_sweep",
            // A scan touches login ports too, about once each: many ports
            // and few logins among them make it a scan.
            (Some(Measure::Logins | Measure::DstLogins), Some(c))
                if c.ports >= 10.0 && c.logins < 0.2 * c.ports =>
            {
                "port_scan"
            }
            (Some(Measure::Logins | Measure::DstLogins), _) => "brute_force",
            // Many sources at one destination: what most of them did.
            (Some(Measure::DstSources), Some(c)) => {
                let most = |x: f64| x >= 3.0 && x >= 0.5 * c.attempts;
                if c.ports >= 10.0 {
                    "port_scan"
                } else if most(c.logins) {
                    "brute_force"
                } else if c.attempts >= 100.0 && c.failed >= 0.5 {
                    "flood"
                } else {
                    "anomaly"
                }
            }
            (Some(Measure::Failed), Some(c)) => {
                let most = |x: f64| x >= 3.0 && x >= 0.5 * c.attempts;
                if c.ports >= 10.0 || most(c.ports) {
                    "port_scan"
                } else if c.hosts >= 10.0 || most(c.hosts) {
                    "host_sweep"
                } else if most(c.logins) {
                    "brute_force"
                } else if c.attempts >= 100.0 {
                    // Hundreds of unanswered SYNs to one service.
                    "flood"
                } else {
                    "failed_connections"
                }
            }
            (Some(_), None) => "anomaly",
            // More traffic is a flood when one source sends most of it.
            (None, _) if self.stat == Stat::Traffic => {
                if self.top_src.first().is_some_and(|c| c.share >= 0.6) {
                    "flood"
                } else {
                    "anomaly"
                }
            }
            (None, _) => match self.stat {
                Stat::RSyn | Stat::RIcmp | Stat::RArp => "flood",
                // Many destinations per source: a scan or a sweep; a ratio
                // near 1 above a lower threshold is only unusual.
                Stat::RDstSrcPort if self.value >= 5.0 => "port_scan",
                Stat::RDstSrc if self.value >= 5.0 => "host_sweep",
                _ => "anomaly",
            },
        }
    }

    /// The plain words of an alarm of the per-destination view, e.g.
    /// "port scan towards 198.51.100.10 from 6 sources, among them
    /// 203.0.113.7, 36 ports in 20 s".
    fn plain_words_towards(&self, class: &str, c: &Culprit, during: &str) -> Option<String> {
        let target = c
            .dst
            .map_or_else(|| "one host".to_owned(), |d| d.to_string());
        let from = if c.hosts > 1.0 {
            format!(" from {} sources, among them {}", thousands(c.hosts), c.src)
        } else {
            format!(" from {}", c.src)
        };
        Some(match class {
            "port_scan" => format!(
                "port scan towards {target}{from}, {} ports in {during}",
                thousands(c.ports)
            ),
            "brute_force" => {
                let service = c
                    .port
                    .filter(|p| crate::sources::LOGIN_PORTS.contains(p))
                    .map_or_else(
                        || "a login service".to_owned(),
                        |p| format!("{} (port {p})", service_name(p)),
                    );
                format!(
                    "brute force on {service} of {target}{from}, {} connections in {during}",
                    thousands(c.logins)
                )
            }
            "flood" => format!(
                "flood towards {target}{from}, {} connection attempts in {during}, {:.0} % unanswered",
                thousands(c.attempts),
                c.failed * 100.0
            ),
            _ => format!(
                "unusually many sources towards {target}: {} in {during}",
                thousands(c.hosts)
            ),
        })
    }

    /// The alarm in plain words, e.g. "port scan from 203.0.113.7 towards
    /// 198.51.100.10, 1,024 ports in 2 s"; None when it is only an unusual value.
    pub fn plain_words(&self) -> Option<String> {
        let class = self.class();
        let during = duration(self.scale_ns());
        if let Some(c) = self.culprit.filter(|c| c.view == View::Destination) {
            return self.plain_words_towards(class, &c, &during);
        }
        if let Some(c) = self.culprit {
            let towards = match c.dst {
                Some(d) if c.hosts <= 2.0 => format!(" towards {d}"),
                _ if c.hosts > 2.0 => format!(" towards {} hosts", thousands(c.hosts)),
                _ => String::new(),
            };
            return Some(match class {
                "port_scan" => format!(
                    "port scan from {}{towards}, {} ports in {during}",
                    c.src,
                    thousands(c.ports)
                ),
                "host_sweep" => format!(
                    "host sweep from {}, {} hosts in {during}",
                    c.src,
                    thousands(c.hosts)
                ),
                "flood" => format!(
                    "flood from {}{towards}, {} connection attempts in {during}, {:.0} % unanswered",
                    c.src,
                    thousands(c.attempts),
                    c.failed * 100.0
                ),
                "brute_force" => {
                    let service = c
                        .port
                        .filter(|p| crate::sources::LOGIN_PORTS.contains(p))
                        .map_or_else(
                            || "a login service".to_owned(),
                            |p| format!("{} (port {p})", service_name(p)),
                        );
                    let of = c
                        .dst
                        .filter(|_| c.hosts <= 2.0)
                        .map(|d| format!(" of {d}"))
                        .unwrap_or_default();
                    format!(
                        "brute force on {service}{of} from {}, {} connections in {during}",
                        c.src,
                        thousands(c.logins)
                    )
                }
                _ => format!(
                    "failed connections from {}{towards}: {:.0} % of {} attempts in {during}",
                    c.src,
                    c.failed * 100.0,
                    thousands(c.attempts)
                ),
            });
        }
        // Named only when it sent (received) most of the packets.
        let dominant = |l: &[Contributor]| l.first().filter(|c| c.share > 0.5).map(|c| c.key);
        let from = dominant(&self.top_src)
            .map_or_else(|| " from many sources".to_owned(), |k| format!(" from {k}"));
        let towards = dominant(&self.top_dst)
            .map(|k| format!(" towards {k}"))
            .unwrap_or_default();
        let what = match (class, self.stat) {
            ("flood", Stat::RSyn) => "SYN flood",
            ("flood", Stat::RIcmp) => "ICMP flood",
            ("flood", Stat::RArp) => "ARP flood",
            ("flood", _) => "flood",
            ("port_scan", _) => "port scan",
            ("host_sweep", _) => "host sweep",
            _ => return None,
        };
        let rate = if self.stat == Stat::Traffic {
            format!(", {} packets/s", thousands(self.value))
        } else {
            String::new()
        };
        Some(format!("{what}{from}{towards}{rate} in {during}"))
    }
}

/// A service name for a login port.
fn service_name(port: u16) -> &'static str {
    match port {
        21 => "FTP",
        22 | 2222 => "SSH",
        23 | 2323 => "Telnet",
        110 | 995 => "POP3",
        143 | 993 => "IMAP",
        445 => "SMB",
        1433 => "MS SQL",
        3306 => "MySQL",
        3389 => "RDP",
        5432 => "PostgreSQL",
        5900 => "VNC",
        _ => "port",
    }
}

/// A count with thousands separators: 1,024.
fn thousands(x: f64) -> String {
    let n = if x.is_finite() {
        x.round().max(0.0) as u64
    } else {
        0
    };
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A duration for people: 200 ms, 2 s, 1.7 min.
fn duration(ns: u64) -> String {
    let s = ns as f64 / 1e9;
    if s < 1.0 {
        format!("{} ms", (s * 1000.0).round())
    } else if s < 120.0 {
        format!("{} s", short(s))
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

/// A number in at most 4 significant digits, for summaries.
fn short(x: f64) -> String {
    if x == 0.0 || (1e-3..1e6).contains(&x.abs()) {
        let s = format!("{x:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_owned()
    } else {
        format!("{x:.3e}")
    }
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    /// Values collected so far (bounded by `depth + n_init`).
    Learning(Vec<f64>),
    Monitoring(Box<Model>),
}

#[derive(Debug, Clone)]
struct StatMonitor {
    stat: Stat,
    /// From the configuration.
    wanted: SpotSettings,
    /// What the model was fitted with (after adaptation).
    used: SpotSettings,
    state: State,
    alarms: u64,
    steps: u64,
    value: f64,
    up: f64,
    down: f64,
    note: Option<String>,
    min_packets: u64,
    suppressed: u64,
    /// Windows in a row with an alarm.
    streak: u64,
    /// The value last reported in the current run (a longer scale).
    run_reported: f64,
}

impl StatMonitor {
    fn new(stat: Stat, wanted: SpotSettings, min_packets: u64) -> StatMonitor {
        StatMonitor {
            stat,
            wanted,
            used: wanted,
            state: State::Learning(Vec::new()),
            alarms: 0,
            steps: 0,
            value: f64::NAN,
            up: f64::NAN,
            down: f64::NAN,
            note: None,
            min_packets,
            suppressed: 0,
            streak: 0,
            run_reported: f64::NAN,
        }
    }

    fn need(&self) -> usize {
        self.wanted.depth + self.wanted.n_init
    }

    /// Fits on `values`; with `short`, adapts to fewer values than asked.
    fn try_fit(&mut self, values: &[f64], short: bool) -> Result<(), String> {
        let name = self.stat.name();
        let n = values.len();
        let mut used = self.wanted;
        let mut notes = Vec::new();
        if n < self.need() {
            if !short {
                return Err(format!("learning: {n} of {} windows", self.need()));
            }
            used.depth = self.wanted.depth.min(n / 4).max(1);
            used.n_init = n.saturating_sub(used.depth);
            if used.n_init < MIN_FIT {
                return Err(format!(
                    "{name}: only {n} windows with a value; at least {} are needed to learn",
                    MIN_FIT + 1
                ));
            }
            notes.push(format!(
                "learnt on {n} windows, fewer than depth {} + n_init {} asked: depth {}, n_init {}",
                self.wanted.depth, self.wanted.n_init, used.depth, used.n_init
            ));
        }
        let floor = 1.0 - MIN_EXCESSES / used.n_init as f64;
        if used.level > floor {
            used.level = floor.max(0.5);
            notes.push(format!(
                "level {} leaves under {MIN_EXCESSES} excesses in {} values: level {:.3}",
                self.wanted.level, used.n_init, used.level
            ));
        }
        if used.q >= 1.0 - used.level {
            used.q = (1.0 - used.level) / 10.0;
            notes.push(format!("q lowered to {:e}", used.q));
        }
        let data = &values[n - (used.depth + used.n_init)..];
        let mut model = Model::new(&used, self.stat.info().range.1.is_infinite())
            .map_err(|e| format!("{name}: {e}"))?;
        let mut fitted = model.fit(data);
        let floor = self.stat.info().floor;
        if matches!(fitted, Err(SpotError::DegenerateTraining { .. })) && floor > 0.0 {
            // A per-source count that never moved in learning (no source
            // ever opened a login connection): fitted on its values with a
            // deterministic dither far below the floor, which then decides.
            let dithered: Vec<f64> = data
                .iter()
                .enumerate()
                .map(|(i, &x)| x + floor * 1e-6 * (noise_unit(i as u64) - 0.5))
                .collect();
            model = Model::new(&used, self.stat.info().range.1.is_infinite())
                .map_err(|e| format!("{name}: {e}"))?;
            fitted = model.fit(&dithered);
            if fitted.is_ok() {
                notes.push(format!(
                    "constant in learning: the floor {floor} is its threshold"
                ));
            }
        }
        fitted.map_err(|e| match e {
            SpotError::DegenerateTraining { .. } => format!(
                "{name}: no tail to learn in {} windows (the value hardly varied): {e}; still learning",
                data.len()
            ),
            e => format!("{name}: {e}"),
        })?;
        self.used = used;
        self.state = State::Monitoring(Box::new(model));
        self.note = (!notes.is_empty()).then(|| format!("{name}: {}", notes.join("; ")));
        Ok(())
    }

    /// Whether this window's value is an alarm, judged against the model
    /// as it is (nothing changes). Quantised data can put the anomaly
    /// threshold on or below the excess threshold (e.g. a ratio that is 0 in
    /// almost every learning window): a value must be strictly beyond both.
    /// A ratio over a handful of packets is too coarse to judge.
    /// Returns the alarm and whether to report it (a repeat of a longer
    /// scale's run is not reported, but its window is still not learnt).
    fn judge(&mut self, r: &WindowReport) -> Option<(bool, Alarm)> {
        let x = r.stats[self.stat];
        self.value = x;
        let State::Monitoring(model) = &self.state else {
            return None;
        };
        let m = model.moving_average();
        let (up, down) = model.thresholds();
        // Within what the statistic can take: a share's threshold above 1
        // says "no value can alarm", and is shown as 1. Judging against the
        // clamped threshold is the same (alarms need a value strictly beyond).
        // A per-source statistic's upper threshold is at least its floor.
        let info = self.stat.info();
        let (lo, hi) = info.range;
        let clamp = |t: Option<f64>, lo: f64| t.map_or(f64::NAN, |t| t.clamp(lo, hi));
        self.up = clamp(up, lo.max(info.floor));
        self.down = clamp(down, lo);
        if !x.is_finite() {
            return None;
        }
        // Beyond by more than rounding noise.
        let eps = |a: f64| 1e-9 * (1.0 + a.abs());
        let dir = [
            (Direction::Up, 1.0, self.up),
            (Direction::Down, -1.0, self.down),
        ]
        .into_iter()
        .find(|&(dir, sign, threshold)| {
            let t = model.tail(dir).map_or(f64::NAN, |s| s.excess_threshold());
            sign * (x - threshold) > eps(threshold) && sign * (x - m - t) > eps(m + t)
        });
        let Some((dir, _, threshold)) = dir else {
            self.streak = 0;
            return None;
        };
        // Counts of one source are not ratios of the window's packets.
        if self.stat != Stat::Traffic
            && info.measure.is_none()
            && r.counts[crate::Counter::Pkts] < self.min_packets
        {
            self.suppressed += 1;
            return None;
        }
        let probability = model.tail(dir).map_or(0.0, |t| tail_probability(t, x - m));
        self.streak += 1;
        // A longer scale stays beyond its threshold for up to `scale`
        // windows after one burst, attack over or not: one alarm per run,
        // unless the value has since grown upwards by more than the
        // threshold itself, a second burst that would alarm on its own (a
        // UDP scan a few seconds after a TCP scan from the same source),
        // and at least doubled, so that one scan still growing is
        // reported a few times, not at every window.
        let second_burst = dir == Direction::Up
            && threshold > 0.0
            && x - self.run_reported > threshold + eps(threshold)
            && x > 2.0 * self.run_reported;
        let emit = info.scale <= 1 || self.streak == 1 || second_burst;
        if emit {
            self.run_reported = x;
        }
        if emit {
            self.alarms += 1;
        }
        let culprit = info.measure.and_then(|ms| {
            let si = SCALES.iter().position(|&k| k == info.scale)?;
            r.sources.culprit[ms as usize][si]
        });
        let (mut top_src, mut top_dst, mut top_dst_port) = (
            r.top_for(self.stat, Dim::Src).to_vec(),
            r.top_for(self.stat, Dim::Dst).to_vec(),
            r.top_for(self.stat, Dim::DstPort).to_vec(),
        );
        if let Some(c) = culprit {
            let one = |key| {
                vec![Contributor {
                    key,
                    packets: c.attempts.round() as u64,
                    share: 1.0,
                }]
            };
            // Many sources at one destination have no one source to name
            // as the actor (the plain words name the busiest).
            top_src = if c.view == View::Destination && c.hosts > 2.0 {
                Vec::new()
            } else {
                one(ContributorKey::Addr(c.src))
            };
            // The main destination and port only when there is one.
            top_dst = c
                .dst
                .filter(|_| c.hosts <= 2.0 || c.view == View::Destination)
                .map(|d| one(ContributorKey::Addr(d)))
                .unwrap_or_default();
            top_dst_port = c
                .port
                .filter(|_| c.ports <= 2.0)
                .map(|p| one(ContributorKey::Port(p)))
                .unwrap_or_default();
        }
        Some((
            emit,
            Alarm {
                stat: self.stat,
                value: x,
                threshold,
                direction: dir,
                window_start_ns: r.start_ns,
                window_end_ns: r.end_ns,
                probability,
                severity: severity(probability, self.used.q),
                top_src,
                top_dst,
                top_dst_port,
                scale: info.scale,
                culprit,
            },
        ))
    }

    /// Learns from a window judged normal: learning values, or a DSPOT step
    /// (which keeps its own anomalies out of the model).
    fn learn(&mut self, r: &WindowReport) {
        let x = r.stats[self.stat];
        if !x.is_finite() {
            return;
        }
        let need = self.need();
        match &mut self.state {
            State::Learning(values) => {
                values.push(x);
                if values.len() >= need {
                    let values = std::mem::take(values);
                    if let Err(e) = self.try_fit(&values, false) {
                        // Slide: keep the newer half and keep learning.
                        self.note = Some(e);
                        self.state = State::Learning(values[values.len() / 2..].to_vec());
                    }
                }
            }
            State::Monitoring(model) => {
                self.steps += 1;
                if let Err(e) = model.step(x) {
                    // Out of the model's range (a value 1e150 away): skipped.
                    self.note = Some(format!("{}: value skipped: {e}", self.stat.name()));
                }
            }
        }
    }
}

/// A deterministic number in [0, 1) from `i` (splitmix64).
fn noise_unit(i: u64) -> f64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) as f64 / 2f64.powi(64)
}

/// What a statistic's monitor is doing, for the API, the summary and charts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatStatus {
    /// The statistic's name.
    pub stat: &'static str,
    /// `learning` or `monitoring`.
    pub state: &'static str,
    /// Values learnt so far (learning) or the training size (monitoring).
    pub learnt: usize,
    /// Values needed before monitoring starts (`depth + n_init`).
    pub need: usize,
    /// Value in the last window (null when it had none).
    pub value: Option<f64>,
    /// Upper anomaly threshold the last value was compared with.
    pub threshold_up: Option<f64>,
    /// Lower anomaly threshold the last value was compared with.
    pub threshold_down: Option<f64>,
    /// Windows monitored.
    pub windows: u64,
    /// Alarms raised.
    pub alarms: u64,
    /// Values beyond the threshold in windows with fewer than
    /// `detect.min_packets` packets (no alarm).
    pub suppressed: u64,
    /// Settings in use (after adaptation to a short baseline).
    pub settings: SpotSettings,
    /// Why it is still learning, or how it adapted.
    pub note: Option<String>,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Models saved in a file (JSON): what was learnt, per statistic.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    /// Format version (1).
    pub format: u32,
    /// Window width the models were learnt with.
    pub window: Width,
    /// Per statistic.
    stats: BTreeMap<String, SavedStat>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedStat {
    wanted: SpotSettings,
    used: SpotSettings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    learning: Option<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    model: Option<Model>,
    alarms: u64,
}

/// Why saved models could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The file is not a model file of this version, or a model in it is
    /// invalid (hand-edited or truncated).
    #[error("not a valid model file: {0}")]
    Invalid(String),
}

/// The monitors of every watched statistic.
#[derive(Debug, Clone)]
pub struct Monitors {
    stats: Vec<StatMonitor>,
    window: Width,
    anomalous_windows: u64,
    relearn_after: u64,
}

impl Monitors {
    /// Monitors for the statistics of `cfg`, all learning; errors name the key
    /// relative to `[detect]`.
    pub fn new(cfg: &DetectConfig) -> Result<Monitors, nectar_event::config::ConfigError> {
        cfg.validate()?;
        Ok(Monitors {
            stats: cfg
                .monitored()?
                .into_iter()
                .map(|s| StatMonitor::new(s, cfg.settings(s), cfg.min_packets))
                .collect(),
            window: cfg.window,
            anomalous_windows: 0,
            relearn_after: cfg.relearn_after,
        })
    }

    /// Feeds one window to every monitor; alarms are appended to `out`.
    ///
    /// A window in which any statistic raises an alarm is not learnt by any
    /// model: an attack window is not normal traffic for the other
    /// statistics either (a SYN flood lowers R_ACK; learning that would
    /// drag R_ACK's moving average down and make its return to normal look
    /// like an anomaly that, being an anomaly, is never learnt).
    pub fn observe(&mut self, r: &WindowReport, out: &mut Vec<Alarm>) {
        let mut anomalous = false;
        for m in &mut self.stats {
            if let Some((emit, a)) = m.judge(r) {
                anomalous = true;
                if emit {
                    out.push(a);
                }
            }
        }
        if anomalous {
            self.anomalous_windows += 1;
            if self.relearn_after > 0 {
                for m in &mut self.stats {
                    if m.streak >= self.relearn_after {
                        m.note = Some(format!(
                            "{}: {} windows in a row beyond the threshold: taken as a lasting change; learning afresh",
                            m.stat.name(),
                            m.streak
                        ));
                        m.state = State::Learning(Vec::new());
                        m.used = m.wanted;
                        m.streak = 0;
                    }
                }
            }
            return;
        }
        for m in &mut self.stats {
            m.learn(r);
        }
    }

    /// Windows not learnt because they raised an alarm.
    pub fn anomalous_windows(&self) -> u64 {
        self.anomalous_windows
    }

    /// Fits every statistic still learning on what it has (end of a
    /// baseline), adapting to a short baseline. Returns one line per
    /// statistic that adapted or could not be fitted.
    pub fn finish_learning(&mut self) -> Vec<String> {
        let mut notes = Vec::new();
        for m in &mut self.stats {
            if let State::Learning(values) = &m.state {
                let values = values.clone();
                if let Err(e) = m.try_fit(&values, true) {
                    m.note = Some(e.clone());
                    notes.push(e);
                    continue;
                }
            }
            if let Some(n) = &m.note {
                notes.push(n.clone());
            }
        }
        notes
    }

    /// The state of every statistic.
    pub fn status(&self) -> Vec<StatStatus> {
        self.stats
            .iter()
            .map(|m| {
                let (state, learnt) = match &m.state {
                    State::Learning(v) => ("learning", v.len()),
                    State::Monitoring(_) => ("monitoring", m.used.depth + m.used.n_init),
                };
                let monitoring = matches!(m.state, State::Monitoring(_));
                StatStatus {
                    stat: m.stat.name(),
                    state,
                    learnt,
                    need: m.need(),
                    value: finite(m.value),
                    threshold_up: finite(m.up).filter(|_| monitoring),
                    threshold_down: finite(m.down).filter(|_| monitoring),
                    windows: m.steps,
                    alarms: m.alarms,
                    suppressed: m.suppressed,
                    settings: m.used,
                    note: m.note.clone(),
                }
            })
            .collect()
    }

    /// The watched statistics.
    pub fn stats(&self) -> impl Iterator<Item = Stat> + '_ {
        self.stats.iter().map(|m| m.stat)
    }

    /// Window width the monitors expect.
    pub fn window(&self) -> Width {
        self.window
    }

    /// Everything learnt, to save.
    pub fn save(&self) -> ModelFile {
        ModelFile {
            format: 1,
            window: self.window,
            stats: self
                .stats
                .iter()
                .map(|m| {
                    let (learning, model) = match &m.state {
                        State::Learning(v) => (Some(v.clone()), None),
                        State::Monitoring(model) => (None, Some((**model).clone())),
                    };
                    (
                        m.stat.name().to_owned(),
                        SavedStat {
                            wanted: m.wanted,
                            used: m.used,
                            learning,
                            model,
                            alarms: m.alarms,
                        },
                    )
                })
                .collect(),
        }
    }

    /// Serialises [`Monitors::save`] as JSON (floats round-trip exactly).
    pub fn save_json(&self) -> String {
        serde_json::to_string(&self.save()).unwrap_or_default()
    }

    /// Reads a model file written by [`Monitors::save_json`].
    pub fn parse_models(text: &str) -> Result<ModelFile, ModelError> {
        let file: ModelFile =
            serde_json::from_str(text).map_err(|e| ModelError::Invalid(e.to_string()))?;
        if file.format != 1 {
            return Err(ModelError::Invalid(format!(
                "format {} (this version reads 1)",
                file.format
            )));
        }
        for (name, s) in &file.stats {
            let bad = |why: String| ModelError::Invalid(format!("{name}: {why}"));
            Stat::from_name(name).ok_or_else(|| bad("unknown statistic".into()))?;
            for settings in [&s.used, &s.wanted] {
                settings
                    .validate()
                    .map_err(|e| bad(e.within(name.clone()).to_string()))?;
            }
            match (&s.learning, &s.model) {
                (Some(v), None) => {
                    if v.len() > s.wanted.depth + s.wanted.n_init
                        || v.iter().any(|x| !x.is_finite())
                    {
                        return Err(bad("learning values too many or not finite".into()));
                    }
                }
                (None, Some(_)) => {}
                _ => return Err(bad("needs exactly one of `learning` and `model`".into())),
            }
        }
        Ok(file)
    }

    /// Restores saved models into these monitors. With `strict`, a statistic
    /// whose configured settings changed since it was saved starts learning
    /// afresh (the saved model answers another question); otherwise the
    /// saved model is used as it is. Statistics not saved keep learning.
    /// Returns a line per statistic that was not restored or differs.
    pub fn restore(&mut self, file: &ModelFile, strict: bool) -> Vec<String> {
        let mut notes = Vec::new();
        for m in &mut self.stats {
            let name = m.stat.name();
            let Some(s) = file.stats.get(name) else {
                notes.push(format!("{name}: not in the saved models; learning"));
                continue;
            };
            if s.wanted != m.wanted {
                if strict {
                    notes.push(format!(
                        "{name}: settings changed since the model was saved; learning afresh"
                    ));
                    continue;
                }
                notes.push(format!(
                    "{name}: using the saved model's settings (q {}, level {}, depth {})",
                    s.used.q, s.used.level, s.used.depth
                ));
                m.wanted = s.wanted;
            }
            m.used = s.used;
            m.alarms = s.alarms;
            m.state = match (&s.learning, &s.model) {
                (_, Some(model)) => State::Monitoring(Box::new(model.clone())),
                (Some(v), None) => State::Learning(v.clone()),
                (None, None) => State::Learning(Vec::new()),
            };
        }
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Counter;
    use crate::stats::StatValues;
    use std::net::IpAddr;

    fn report(i: u64, syn_ratio: f64) -> WindowReport {
        let mut r = crate::window::tests_support::empty_report();
        r.index = i;
        r.start_ns = 1_700_000_000_000_000_000 + i * 200_000_000;
        r.end_ns = r.start_ns + 200_000_000;
        r.counts[Counter::Pkts] = 100;
        let mut v = [f64::NAN; Stat::COUNT];
        v[Stat::RSyn as usize] = syn_ratio;
        v[Stat::Traffic as usize] = 500.0 + syn_ratio * 10.0;
        r.stats = StatValues(v);
        r
    }

    fn cfg() -> DetectConfig {
        DetectConfig {
            stats: vec!["R_SYN".into(), "TRAFFIC".into()],
            n_init: 200,
            depth: 10,
            ..DetectConfig::default()
        }
    }

    fn noise(i: u64) -> f64 {
        // Deterministic, roughly uniform in [0, 0.1).
        ((i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40) % 1000) as f64 / 10_000.0
    }

    #[test]
    fn learns_then_alarms_with_who_and_probability() {
        let mut m = Monitors::new(&cfg()).unwrap();
        let mut alarms = Vec::new();
        for i in 0..209 {
            m.observe(&report(i, noise(i)), &mut alarms);
        }
        assert_eq!(m.status()[0].state, "learning");
        assert_eq!(m.status()[0].learnt, 209);
        for i in 209..400 {
            m.observe(&report(i, noise(i)), &mut alarms);
        }
        assert_eq!(m.status()[0].state, "monitoring");
        assert!(alarms.len() <= 2, "{alarms:?}");
        alarms.clear();
        let mut r = report(400, 0.9);
        r.set_top_for_tests(
            crate::Class::Syn,
            Dim::Src,
            vec![Contributor {
                key: ContributorKey::Addr(IpAddr::from([10, 9, 0, 2])),
                packets: 95,
                share: 0.95,
            }],
        );
        m.observe(&r, &mut alarms);
        let a = alarms.iter().find(|a| a.stat == Stat::RSyn).unwrap();
        assert_eq!(a.direction, Direction::Up);
        assert!(a.value > a.threshold);
        assert!((0.0..1e-4).contains(&a.probability), "{}", a.probability);
        let e = a.to_event("sensor-1");
        assert_eq!(e.kind, Kind::NetAlarm);
        assert_eq!(e.data["stat"], "R_SYN");
        assert_eq!(e.data["direction"], "up");
        assert_eq!(e.data["top_src"][0]["key"], "10.9.0.2");
        assert_eq!(e.data["top_src"][0]["share"], 0.95);
        assert_eq!(e.src_ip, Some(IpAddr::from([10, 9, 0, 2])));
        assert!(e.data["window_start"].as_str().unwrap().ends_with('Z'));
        // Same alarm, same id.
        assert_eq!(a.to_event("sensor-1").id, e.id);
        assert_ne!(a.to_event("sensor-2").id, e.id);
        assert_eq!(e.id.get_version_num(), 7);

        // Save, restore, continue identically.
        let text = m.save_json();
        let file = Monitors::parse_models(&text).unwrap();
        let mut m2 = Monitors::new(&cfg()).unwrap();
        assert!(m2.restore(&file, true).is_empty());
        let (mut a1, mut a2) = (Vec::new(), Vec::new());
        for i in 401..600 {
            let x = if i % 50 == 0 { 0.8 } else { noise(i) };
            m.observe(&report(i, x), &mut a1);
            m2.observe(&report(i, x), &mut a2);
        }
        assert_eq!(a1, a2);
        assert!(!a1.is_empty());
        // Changed settings: strict restore relearns.
        let mut c = cfg();
        c.q = 1e-5;
        let mut m3 = Monitors::new(&c).unwrap();
        assert_eq!(m3.restore(&file, true).len(), 2);
        assert_eq!(m3.status()[0].state, "learning");
        assert!(Monitors::parse_models("{\"format\":2}").is_err());
        assert!(Monitors::parse_models(&text.replace("\"format\":1", "\"format\":2")).is_err());
    }

    #[test]
    fn short_baseline_adapts_and_constant_keeps_learning() {
        let mut c = cfg();
        c.stats.push("R_ARP".into());
        let mut m = Monitors::new(&c).unwrap();
        let mut alarms = Vec::new();
        for i in 0..80 {
            let mut r = report(i, noise(i));
            r.stats.0[Stat::RArp as usize] = 0.0;
            m.observe(&r, &mut alarms);
        }
        let notes = m.finish_learning();
        let st = m.status();
        assert_eq!(st[1].stat, "R_ARP");
        assert_eq!(st[1].state, "learning");
        assert_eq!(st[0].state, "monitoring");
        assert!(st[0].settings.n_init < 200);
        assert!(st[0].settings.level <= 1.0 - MIN_EXCESSES / st[0].settings.n_init as f64);
        assert!(
            notes
                .iter()
                .any(|n| n.contains("R_ARP") && n.contains("no tail")),
            "{notes:?}"
        );
        assert!(
            notes
                .iter()
                .any(|n| n.contains("R_SYN") && n.contains("learnt on 80")),
            "{notes:?}"
        );
        // Too little for anything.
        let mut m = Monitors::new(&cfg()).unwrap();
        for i in 0..5 {
            m.observe(&report(i, noise(i)), &mut alarms);
        }
        assert!(m.finish_learning().iter().all(|n| n.contains("only 5")));
    }

    #[test]
    fn a_longer_scale_alarms_once_per_run_and_again_on_a_second_burst() {
        let c = DetectConfig {
            stats: vec!["SRC_PORTS_X100".into()],
            n_init: 200,
            depth: 10,
            ..DetectConfig::default()
        };
        let mut m = Monitors::new(&c).unwrap();
        let mut alarms = Vec::new();
        let at = |i: u64, ports: f64| {
            let mut r = report(i, 0.0);
            r.stats.0[Stat::SrcPortsX100 as usize] = ports;
            r
        };
        for i in 0..300 {
            m.observe(&at(i, 1.0 + (noise(i) * 30.0).floor()), &mut alarms);
        }
        assert_eq!(m.status()[0].state, "monitoring");
        alarms.clear();
        // A scan: the 20 s window stays high for its whole length after it.
        for i in 300..360 {
            m.observe(&at(i, 40.0), &mut alarms);
        }
        assert_eq!(alarms.len(), 1, "one alarm for the run: {alarms:?}");
        // A second scan from the same source while the window still holds
        // the first: the count grows by more than the threshold.
        for i in 360..380 {
            m.observe(&at(i, 90.0), &mut alarms);
        }
        assert_eq!(alarms.len(), 2, "the second burst is reported: {alarms:?}");
        assert_eq!(alarms[1].value, 90.0);
        // Growth smaller than the threshold is the same run.
        for i in 380..390 {
            m.observe(&at(i, 92.0), &mut alarms);
        }
        assert_eq!(alarms.len(), 2, "{alarms:?}");
    }

    #[test]
    fn lasting_change_is_relearnt() {
        let mut c = cfg();
        c.relearn_after = 20;
        let mut m = Monitors::new(&c).unwrap();
        let mut alarms = Vec::new();
        for i in 0..300 {
            m.observe(&report(i, noise(i)), &mut alarms);
        }
        assert_eq!(m.status()[0].state, "monitoring");
        alarms.clear();
        for i in 300..330 {
            m.observe(&report(i, 0.9), &mut alarms);
        }
        let syn = alarms.iter().filter(|a| a.stat == Stat::RSyn).count();
        assert_eq!(syn, 20, "alarms until the change is taken as lasting");
        let st = &m.status()[0];
        assert_eq!(st.state, "learning");
        assert!(st.note.as_deref().unwrap_or("").contains("learning afresh"));
    }

    #[test]
    fn thresholds_stay_within_the_range_and_empty_windows_are_skipped() {
        let mut m = Monitors::new(&cfg()).unwrap();
        let mut alarms = Vec::new();
        // A share that sits near 1 and varies a lot: its fitted threshold
        // lies above 1, and is reported as 1.
        for i in 0..300 {
            m.observe(&report(i, 0.9 + noise(i)), &mut alarms);
        }
        let st = &m.status()[0];
        assert_eq!(st.state, "monitoring");
        let up = st.threshold_up.unwrap();
        assert!(up <= 1.0, "{up}");
        // Empty windows (NaN) are neither learnt nor judged.
        let steps = st.windows;
        for i in 300..400 {
            m.observe(&report(i, f64::NAN), &mut alarms);
        }
        assert_eq!(m.status()[0].windows, steps);
        assert!(alarms.iter().all(|a| a.stat != Stat::RSyn), "{alarms:?}");
    }

    #[test]
    fn alarms_say_what_they_look_like_in_plain_words() {
        let scanner: IpAddr = "203.0.113.7".parse().unwrap();
        let victim: IpAddr = "198.51.100.10".parse().unwrap();
        let culprit = Culprit {
            view: View::Source,
            src: scanner,
            dst: Some(victim),
            port: Some(22),
            ports: 1024.0,
            hosts: 1.0,
            attempts: 1100.0,
            failed: 0.99,
            logins: 1.0,
        };
        let mut a = Alarm {
            stat: Stat::SrcPortsX10,
            value: 1024.0,
            threshold: 12.0,
            direction: Direction::Up,
            window_start_ns: 1_700_000_000_000_000_000,
            window_end_ns: 1_700_000_000_200_000_000,
            probability: 0.0,
            severity: Severity::Critical,
            top_src: vec![],
            top_dst: vec![],
            top_dst_port: vec![],
            scale: 10,
            culprit: Some(culprit),
        };
        let e = a.to_event("s");
        assert!(
            e.summary
                .starts_with("port scan from 203.0.113.7 towards 198.51.100.10, 1,024 ports in 2 s; SRC_PORTS_X10 1024 above threshold 12"),
            "{}",
            e.summary
        );
        assert_eq!(e.data["class"], "port_scan");
        assert_eq!(e.data["scale"], 10);
        assert_eq!(e.data["scale_seconds"], 2.0);
        assert_eq!(e.data["culprit"]["src"], "203.0.113.7");
        // Failed attempts of a source that probed many ports: a scan too.
        a.stat = Stat::SrcFailed;
        assert_eq!(a.class(), "port_scan");
        a.stat = Stat::SrcLoginsX100;
        a.scale = 100;
        a.culprit = Some(Culprit {
            ports: 1.0,
            logins: 57.0,
            ..culprit
        });
        assert_eq!(
            a.plain_words().unwrap(),
            "brute force on SSH (port 22) of 198.51.100.10 from 203.0.113.7, 57 connections in 20 s"
        );
        a.stat = Stat::SrcHosts;
        a.culprit = Some(Culprit {
            hosts: 254.0,
            ..culprit
        });
        assert_eq!(
            a.plain_words().unwrap(),
            "host sweep from 203.0.113.7, 254 hosts in 20 s"
        );
        // The destination view: a scan spread over six sources, then a
        // password guess spread over 40.
        a.stat = Stat::DstPortsX100;
        a.culprit = Some(Culprit {
            view: View::Destination,
            ports: 36.0,
            hosts: 6.0,
            ..culprit
        });
        assert_eq!(a.class(), "port_scan");
        assert_eq!(
            a.plain_words().unwrap(),
            "port scan towards 198.51.100.10 from 6 sources, among them 203.0.113.7, 36 ports in 20 s"
        );
        assert_eq!(a.to_event("s").data["culprit"]["view"], "destination");
        a.stat = Stat::DstSourcesX100;
        a.culprit = Some(Culprit {
            view: View::Destination,
            ports: 1.0,
            hosts: 40.0,
            attempts: 120.0,
            logins: 120.0,
            ..culprit
        });
        assert_eq!(a.class(), "brute_force");
        assert_eq!(
            a.plain_words().unwrap(),
            "brute force on SSH (port 22) of 198.51.100.10 from 40 sources, among them 203.0.113.7, 120 connections in 20 s"
        );
        // A link statistic: a flood from the dominant source.
        a.stat = Stat::RSyn;
        a.scale = 1;
        a.culprit = None;
        a.top_src = vec![Contributor {
            key: ContributorKey::Addr(scanner),
            packets: 900,
            share: 0.9,
        }];
        assert_eq!(a.class(), "flood");
        assert_eq!(
            a.plain_words().unwrap(),
            "SYN flood from 203.0.113.7 in 200 ms"
        );
        a.stat = Stat::AvgPktSize;
        assert_eq!(a.plain_words(), None);
        assert_eq!(thousands(1234567.0), "1,234,567");
        assert_eq!(thousands(999.0), "999");
    }

    #[test]
    fn probability_and_severity() {
        assert_eq!(severity(0.0, 1e-4), Severity::Critical);
        assert_eq!(severity(1e-7, 1e-4), Severity::High);
        assert_eq!(severity(5e-5, 1e-4), Severity::Medium);
        assert_eq!(severity(2e-4, 1e-4), Severity::Low);
        assert_eq!(short(0.5), "0.5");
        assert_eq!(short(1234.0), "1234");
        assert_eq!(short(1e-7), "1.000e-7");
    }
}
