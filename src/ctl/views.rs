//! `nectar ctl status`, `sessions`, `detect` and `capture`: the dashboard's,
//! Sessions' and Detection's data on the command line.

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::Out;
use super::client::Api;
use super::output::{Table, cell, fields, json as print_json, line};
use crate::exit::usage;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Range of the counts: 1h, 24h, 7d, 30d or all.
    #[arg(long, default_value = "24h")]
    range: String,
}

/// Health (no token needed), the caller, and the range's summary.
pub fn status(api: &Api, out: Out, args: &StatusArgs) -> anyhow::Result<()> {
    let health = api.get_public(&["health"])?;
    let me = api.get(&["me"], &[])?;
    let summary = api.get(&["summary"], &[("range", args.range.clone())])?;
    let flow = api.get(&["status"], &[])?;
    if out.json {
        print_json(&json!({"health": health, "me": me, "summary": summary, "flow": flow}));
        return Ok(());
    }
    let consumers: Vec<String> = flow["consumers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|c| format!("{} lag {}", cell(&c["name"], 40), cell(&c["lag"], 20)))
        .collect();
    fields(&[
        ("server", cell(&health["status"], 20)),
        ("version", cell(&health["version"], 40)),
        (
            "uptime",
            uptime(health["uptime_seconds"].as_u64().unwrap_or(0)),
        ),
        (
            "you",
            format!("{} ({})", cell(&me["name"], 64), cell(&me["role"], 16)),
        ),
        (
            "range",
            format!(
                "{} .. {}",
                cell(&summary["range"]["since"], 40),
                cell(&summary["range"]["until"], 40)
            ),
        ),
        ("events", cell(&summary["total"], 20)),
        ("by severity", pairs(&summary["by_severity"])),
        ("by kind", pairs(&summary["by_kind"])),
        (
            "event flow",
            format!(
                "{} committed (last #{}), {} dropped by a full bus",
                cell(&flow["writer"]["events"], 20),
                cell(&flow["writer"]["last_seq"], 20),
                cell(&flow["bus"]["dropped_full"], 20)
            ),
        ),
        ("consumers", consumers.join(", ")),
    ]);
    for (title, key) in [
        ("TOP SOURCE", "top_sources"),
        ("TOP USER NAME", "top_usernames"),
        ("TOP PASSWORD", "top_passwords"),
        ("TOP COMMAND", "top_commands"),
    ] {
        let Some(values) = summary[key].as_array().filter(|v| !v.is_empty()) else {
            continue;
        };
        line("");
        let mut table = Table::new(&["COUNT", title]);
        for v in values {
            table.row(vec![cell(&v["count"], 20), cell(&v["value"], 100)]);
        }
        table.print();
    }
    Ok(())
}

fn uptime(seconds: u64) -> String {
    format!(
        "{}d {:02}h {:02}m {:02}s",
        seconds / 86_400,
        seconds % 86_400 / 3_600,
        seconds % 3_600 / 60,
        seconds % 60
    )
}

/// `{"a": 1, "b": 2}` as `a 1, b 2`.
fn pairs(map: &Value) -> String {
    map.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| format!("{} {}", nectar_event::text::visible(k, 40), cell(v, 20)))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// Sessions of a time range: those where the attacker ran commands or moved
    /// files first, then logins, then the rest (or --order newest). HTTP
    /// requests are left out unless --protocol http.
    List(Box<SessionListArgs>),
    /// One session: who, when, and its events oldest first (the transcript).
    Show {
        /// The session id (SESSION column of `sessions list`).
        id: String,
    },
}

/// The filters of `GET /api/v1/sessions`.
#[derive(Debug, clap::Args)]
pub struct SessionListArgs {
    /// 1h, 24h, 7d, 30d or all (ignored with --since/--until).
    #[arg(long, default_value = "24h")]
    range: String,
    /// Sessions started from this time (RFC 3339).
    #[arg(long)]
    since: Option<String>,
    /// Sessions started before this time (RFC 3339).
    #[arg(long)]
    until: Option<String>,
    /// Client address or network (203.0.113.0/24, 2001:db8::/48).
    #[arg(long)]
    src_ip: Option<String>,
    /// Sensor name.
    #[arg(long)]
    sensor: Option<String>,
    /// ssh, telnet, http or https.
    #[arg(long)]
    protocol: Option<String>,
    /// yes: only sessions with an accepted login; no: only without.
    #[arg(long)]
    logged_in: Option<String>,
    /// Only sessions with commands.
    #[arg(long)]
    has_commands: bool,
    /// Only sessions with downloads.
    #[arg(long)]
    has_downloads: bool,
    /// Only sessions with uploads.
    #[arg(long)]
    has_uploads: bool,
    /// Only sessions with at least this many commands.
    #[arg(long)]
    min_commands: Option<u32>,
    /// Search in the sessions' commands (words, "phrases", prefix*).
    #[arg(short = 'q', long = "query", value_name = "TEXT")]
    q: Option<String>,
    /// interest (default) or newest.
    #[arg(long)]
    order: Option<String>,
    /// How many sessions to print (pages of up to 1,000 are fetched as needed).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    limit: u64,
    /// Every matching session, however many (pages through them all).
    #[arg(long, conflicts_with = "limit")]
    all: bool,
}

pub fn sessions(api: &Api, out: Out, command: SessionsCommand) -> anyhow::Result<()> {
    match command {
        SessionsCommand::List(args) => {
            let flag = |on: bool| on.then(|| "1".to_owned());
            let mut query: Vec<(&str, String)> = [
                ("range", Some(args.range.clone())),
                ("since", args.since.clone()),
                ("until", args.until.clone()),
                ("src_ip", args.src_ip.clone()),
                ("sensor", args.sensor.clone()),
                ("protocol", args.protocol.clone()),
                ("logged_in", args.logged_in.clone()),
                ("has_commands", flag(args.has_commands)),
                ("has_downloads", flag(args.has_downloads)),
                ("has_uploads", flag(args.has_uploads)),
                ("min_commands", args.min_commands.map(|n| n.to_string())),
                ("q", args.q.clone()),
                ("order", args.order.clone()),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
            let fixed = query.len();
            let mut remaining = if args.all { u64::MAX } else { args.limit };
            let mut printed = false;
            loop {
                query.push(("limit", remaining.min(1000).to_string()));
                let answer = api.get(&["sessions"], &query)?;
                query.truncate(fixed);
                let list = answer["sessions"].as_array().cloned().unwrap_or_default();
                remaining = remaining.saturating_sub(list.len() as u64);
                if out.json {
                    for s in &list {
                        print_json(s);
                    }
                } else {
                    let mut table = Table::new(&[
                        "STARTED", "PROTO", "SOURCE", "SENSOR", "LOGIN", "FAILED", "COMMANDS",
                        "UP/DOWN", "EVENTS", "SESSION",
                    ]);
                    for s in &list {
                        table.row(vec![
                            cell(&s["first"], 40),
                            cell(&s["protocol"], 8),
                            cell(&s["src_ip"], 45),
                            cell(&s["sensor"], 24),
                            login(s),
                            cell(&s["failed_logins"], 10),
                            cell(&s["commands"], 10),
                            format!("{}/{}", cell(&s["uploads"], 10), cell(&s["downloads"], 10)),
                            cell(&s["events"], 10),
                            cell(&s["session"], 64),
                        ]);
                    }
                    if !table.is_empty() {
                        table.print();
                    }
                }
                printed |= !list.is_empty();
                match answer["next_cursor"].as_str() {
                    Some(next) if remaining > 0 => {
                        query.retain(|(k, _)| *k != "cursor");
                        query.push(("cursor", next.to_owned()));
                    }
                    Some(_) => {
                        eprintln!(
                            "more sessions match: raise --limit, page with --all, or narrow the filter"
                        );
                        break;
                    }
                    None => break,
                }
            }
            if !printed && !out.json {
                eprintln!("no honeypot sessions match");
            }
            Ok(())
        }
        SessionsCommand::Show { id } => {
            let answer = api.get(&["sessions", &id], &[])?;
            if out.json {
                print_json(&answer);
                return Ok(());
            }
            let s = &answer["session"];
            fields(&[
                ("session", cell(&s["session"], 128)),
                ("source", cell(&s["src_ip"], 45)),
                ("sensor", cell(&s["sensor"], 64)),
                ("login", login(s)),
                ("first", cell(&s["first"], 40)),
                ("last", cell(&s["last"], 40)),
                ("failed logins", cell(&s["failed_logins"], 10)),
                ("commands", cell(&s["commands"], 10)),
                ("events", cell(&s["events"], 10)),
            ]);
            line("");
            let mut table = Table::new(&["TIME", "KIND", "WHAT"]);
            for e in answer["events"].as_array().into_iter().flatten() {
                let what = e["data"]
                    .get(nectar_event::field::INPUT)
                    .or_else(|| e["data"].get(nectar_event::field::URL))
                    .unwrap_or(&e["summary"]);
                table.row(vec![
                    cell(&e["time"], 40),
                    cell(&e["kind"], 30),
                    cell(what, 200),
                ]);
            }
            table.print();
            if answer["truncated"] == json!(true) {
                eprintln!("note: only the latest 1,000 events of this session are shown");
            }
            Ok(())
        }
    }
}

fn login(s: &Value) -> String {
    if s["username"].is_null() {
        String::new()
    } else {
        format!("{}/{}", cell(&s["username"], 40), cell(&s["password"], 40))
    }
}

#[derive(Debug, Subcommand)]
pub enum DetectCommand {
    /// Every statistic: state, last value, thresholds, alarms.
    Stats,
    /// One statistic's recent windows: value and thresholds.
    Series {
        /// The statistic's name (STAT column of `detect stats`).
        stat: String,
    },
}

pub fn detect(api: &Api, out: Out, command: DetectCommand) -> anyhow::Result<()> {
    let status = api.get(&["detect", "stats"], &[])?;
    let stats = status["stats"].as_array().cloned().unwrap_or_default();
    match command {
        DetectCommand::Stats => {
            if out.json {
                print_json(&status);
                return Ok(());
            }
            capture_fields(&status);
            line("");
            let mut table = Table::new(&[
                "STAT", "STATE", "LEARNT", "VALUE", "LOWER", "UPPER", "ALARMS", "NOTE",
            ]);
            for s in &stats {
                table.row(vec![
                    cell(&s["stat"], 40),
                    cell(&s["state"], 20),
                    format!("{}/{}", cell(&s["learnt"], 12), cell(&s["need"], 12)),
                    number(&s["value"]),
                    number(&s["threshold_down"]),
                    number(&s["threshold_up"]),
                    cell(&s["alarms"], 12),
                    cell(&s["note"], 80),
                ]);
            }
            table.print();
            Ok(())
        }
        DetectCommand::Series { stat } => {
            let Some(found) = stats.iter().find(|s| s["stat"].as_str() == Some(&stat)) else {
                let names: Vec<String> = stats.iter().map(|s| cell(&s["stat"], 40)).collect();
                return Err(usage(format!(
                    "no statistic {:?}; the server has: {}",
                    nectar_event::text::visible(&stat, 64),
                    names.join(", ")
                )));
            };
            if out.json {
                print_json(found);
                return Ok(());
            }
            let mut table = Table::new(&["WINDOW START", "VALUE", "LOWER", "UPPER"]);
            for p in found["history"].as_array().into_iter().flatten() {
                table.row(vec![
                    cell(&p["window_start"], 40),
                    number(&p["value"]),
                    number(&p["threshold_down"]),
                    number(&p["threshold_up"]),
                ]);
            }
            if table.is_empty() {
                eprintln!("no windows yet");
            } else {
                table.print();
            }
            Ok(())
        }
    }
}

fn number(v: &Value) -> String {
    v.as_f64().map_or_else(String::new, |x| format!("{x:.6}"))
}

fn capture_fields(status: &Value) {
    fields(&[
        (
            "capture",
            if status["running"] == json!(true) {
                "running".into()
            } else {
                "stopped".into()
            },
        ),
        ("source", cell(&status["source"], 200)),
        ("window", cell(&status["window"], 20)),
        ("packets", cell(&status["packets"], 20)),
        ("windows", cell(&status["windows"], 20)),
        ("alarms", cell(&status["alarms"], 20)),
        ("decode errors", cell(&status["decode_errors"], 20)),
        ("last window end", cell(&status["last_window_end"], 40)),
        ("error", cell(&status["error"], 500)),
    ]);
}

#[derive(Debug, Subcommand)]
pub enum CaptureCommand {
    /// Start capturing and detecting (role analyst or admin).
    Start,
    /// Stop capturing; the models are saved (role analyst or admin).
    Stop,
    /// Running or not, packets and windows so far.
    Status,
}

pub fn capture(api: &Api, out: Out, command: CaptureCommand) -> anyhow::Result<()> {
    let answer = match command {
        CaptureCommand::Start => api.post(&["detect", "start"], &json!({}))?,
        CaptureCommand::Stop => api.post(&["detect", "stop"], &json!({}))?,
        CaptureCommand::Status => {
            let mut status = api.get(&["detect", "stats"], &[])?;
            if let Value::Object(o) = &mut status {
                o.remove("stats");
            }
            status
        }
    };
    if out.json {
        print_json(&answer);
    } else if answer.get("packets").is_some() {
        capture_fields(&answer);
    } else {
        let state = if answer["running"] == json!(true) {
            "running"
        } else {
            "stopped"
        };
        line(&format!(
            "capture {state} ({})",
            cell(&answer["source"], 200)
        ));
    }
    Ok(())
}
