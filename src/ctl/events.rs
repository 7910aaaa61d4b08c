//! `nectar ctl events`: list with every API filter (paging with the keyset cursor),
//! follow new events as they arrive, show one event.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::Value;

use super::Out;
use super::client::{Api, Unreachable};
use super::output::{Table, cell, fields, json};
use crate::exit::usage;

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Events matching the filters, newest first.
    List(ListArgs),
    /// Print events as they arrive (oldest first), until Ctrl-C.
    Follow(FollowArgs),
    /// One event with all its fields.
    Get {
        /// The event's id (a UUID).
        id: String,
    },
}

/// The API's filters (`GET /api/v1/events`).
#[derive(Debug, Args, Clone, Default)]
pub struct Filters {
    /// Kind (`ssh.login.failed`) or family (`ssh.*`).
    #[arg(long)]
    kind: Option<String>,
    /// Severity, or several separated by commas (`high,critical`).
    #[arg(long)]
    severity: Option<String>,
    /// This severity and above.
    #[arg(long)]
    min_severity: Option<String>,
    /// Source address or network (IPv4 or IPv6, CIDR: 203.0.113.0/24).
    #[arg(long)]
    src_ip: Option<String>,
    /// Sensor name.
    #[arg(long)]
    sensor: Option<String>,
    /// Honeypot session id.
    #[arg(long)]
    session: Option<String>,
    /// Search the events' text (summary, commands, URLs, hashes, headers...):
    /// words, "phrases", prefix*.
    #[arg(short = 'q', long = "query", value_name = "TEXT")]
    q: Option<String>,
}

impl Filters {
    fn query(&self) -> Vec<(&'static str, String)> {
        let pairs = [
            ("kind", &self.kind),
            ("severity", &self.severity),
            ("min_severity", &self.min_severity),
            ("src_ip", &self.src_ip),
            ("sensor", &self.sensor),
            ("session", &self.session),
            ("q", &self.q),
        ];
        pairs
            .into_iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
            .collect()
    }
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    filters: Filters,
    /// Events at or after this time (RFC 3339, e.g. 2026-11-24T00:00:00Z).
    #[arg(long)]
    since: Option<String>,
    /// Events before this time (RFC 3339).
    #[arg(long)]
    until: Option<String>,
    /// How many events to print (pages of up to 1,000 are fetched as needed).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    limit: u64,
    /// Every matching event, however many (pages through them all).
    #[arg(long, conflicts_with = "limit")]
    all: bool,
}

#[derive(Debug, Args)]
pub struct FollowArgs {
    #[command(flatten)]
    filters: Filters,
    /// How many recent events to print first.
    #[arg(long, short = 'n', default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=1000))]
    lines: u64,
    /// Seconds between polls.
    #[arg(long, default_value_t = 2.0, value_parser = parse_interval)]
    interval: f64,
}

fn parse_interval(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if (0.1..=3600.0).contains(&s) => Ok(s),
        _ => Err("expected seconds from 0.1 to 3600".into()),
    }
}

pub fn run(api: &Api, out: Out, command: EventsCommand) -> anyhow::Result<()> {
    match command {
        EventsCommand::List(args) => list(api, out, &args),
        EventsCommand::Follow(args) => follow(api, out, &args),
        EventsCommand::Get { id } => get(api, out, &id),
    }
}

/// Most pages one poll of `follow` reads before printing (a burst larger than this
/// many thousand events between two polls is cut, with a note on stderr).
const FOLLOW_MAX_PAGES: usize = 100;

/// The next page of `query`; `(events, next_cursor)`.
fn page(
    api: &Api,
    query: &[(&str, String)],
    cursor: Option<&str>,
    limit: u64,
) -> anyhow::Result<(Vec<Value>, Option<String>)> {
    let mut query = query.to_vec();
    query.push(("limit", limit.to_string()));
    if let Some(c) = cursor {
        query.push(("cursor", c.to_owned()));
    }
    let mut answer = api.get(&["events"], &query)?;
    let events = match answer["events"].take() {
        Value::Array(events) => events,
        _ => anyhow::bail!("the server's answer has no `events` list"),
    };
    Ok((events, answer["next_cursor"].as_str().map(str::to_owned)))
}

fn list(api: &Api, out: Out, args: &ListArgs) -> anyhow::Result<()> {
    let mut query = args.filters.query();
    query.extend(
        [("since", &args.since), ("until", &args.until)]
            .into_iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k, v))),
    );
    let mut remaining = if args.all { u64::MAX } else { args.limit };
    let mut cursor: Option<String> = None;
    let mut table = EventTable::new();
    loop {
        let (events, next) = page(api, &query, cursor.as_deref(), remaining.min(1000))?;
        remaining = remaining.saturating_sub(events.len() as u64);
        for event in &events {
            if out.json {
                json(event);
            } else {
                table.push(event);
            }
        }
        // Tables are printed per page so that `--all` on a big store starts at once
        // and holds only one page in memory.
        table.flush();
        match next {
            Some(next) if remaining > 0 => cursor = Some(next),
            Some(_) => {
                // No silent caps: say that the list was cut.
                eprintln!(
                    "more events match: raise --limit, page with --all, or narrow the filter"
                );
                break;
            }
            None => break,
        }
    }
    if !out.json && !table.printed_any {
        eprintln!("no events match");
    }
    Ok(())
}

/// Event rows: time, severity, kind, source, summary. The header is printed once and
/// the columns are aligned within each page.
struct EventTable {
    table: Table,
    printed_any: bool,
}

impl EventTable {
    fn new() -> EventTable {
        EventTable {
            table: Self::empty(),
            printed_any: false,
        }
    }

    fn empty() -> Table {
        Table::new(&[
            "TIME", "ID", "SEVERITY", "KIND", "SOURCE", "SENSOR", "SUMMARY",
        ])
        .min_widths(&[27, 36, 8, 17, 15, 8])
    }

    fn push(&mut self, e: &Value) {
        self.table.row(vec![
            cell(&e["time"], 40),
            cell(&e["id"], 40),
            cell(&e["severity"], 10),
            cell(&e["kind"], 30),
            cell(&e["src_ip"], 45),
            cell(&e["sensor"], 24),
            cell(&e["summary"], 120),
        ]);
    }

    fn flush(&mut self) {
        if self.table.is_empty() {
            return;
        }
        let table = std::mem::replace(&mut self.table, Self::empty());
        if self.printed_any {
            table.print_rows();
        } else {
            table.print();
        }
        self.printed_any = true;
    }
}

/// Polls for events newer than the newest seen, with the same filters: each poll
/// asks for `since` = the newest time seen (inclusive) and pages back with the
/// cursor; events already printed at that same instant are skipped by id.
fn follow(api: &Api, out: Out, args: &FollowArgs) -> anyhow::Result<()> {
    exit_zero_on_interrupt()?;
    let query = args.filters.query();
    let (mut recent, _) = page(api, &query, None, args.lines.max(1))?;
    let mut newest = recent
        .first()
        .and_then(|e| e["time"].as_str())
        .map(str::to_owned);
    let mut seen_at_newest: HashSet<String> = ids_at(&recent, newest.as_deref());
    recent.truncate(args.lines as usize);
    let mut table = EventTable::new();
    for event in recent.iter().rev() {
        show(out, &mut table, event);
    }
    table.flush();
    let mut unreachable = false;
    loop {
        std::thread::sleep(Duration::from_secs_f64(args.interval));
        let mut since_query = query.clone();
        if let Some(time) = &newest {
            since_query.push(("since", time.clone()));
        }
        let fresh = match poll(api, &since_query) {
            Ok(fresh) => {
                if std::mem::take(&mut unreachable) {
                    eprintln!("note: the server answers again");
                }
                fresh
            }
            // A restarting server or a network blip: say so once, keep polling.
            Err(err) if err.downcast_ref::<Unreachable>().is_some() => {
                if !unreachable {
                    eprintln!("note: {err:#}; retrying every {} s", args.interval);
                    unreachable = true;
                }
                continue;
            }
            Err(err) => return Err(err),
        };
        if let Some(first) = fresh.first().and_then(|e| e["time"].as_str()) {
            let first = first.to_owned();
            let new: Vec<&Value> = fresh
                .iter()
                .filter(|e| {
                    let id = e["id"].as_str().unwrap_or_default();
                    !(e["time"].as_str() == newest.as_deref() && seen_at_newest.contains(id))
                })
                .collect();
            for event in new.iter().rev() {
                show(out, &mut table, event);
            }
            table.flush();
            if newest.as_deref() == Some(first.as_str()) {
                seen_at_newest.extend(ids_at(&fresh, Some(&first)));
            } else {
                seen_at_newest = ids_at(&fresh, Some(&first));
                newest = Some(first);
            }
        }
    }
}

/// Every event of `query` (which holds `since`), newest first, up to
/// `FOLLOW_MAX_PAGES` pages.
fn poll(api: &Api, query: &[(&str, String)]) -> anyhow::Result<Vec<Value>> {
    let mut fresh = Vec::new();
    let mut cursor = None;
    for pages in 1.. {
        let (events, next) = page(api, query, cursor.as_deref(), 1000)?;
        fresh.extend(events);
        match next {
            Some(next) if pages < FOLLOW_MAX_PAGES => cursor = Some(next),
            Some(_) => {
                eprintln!(
                    "note: more than {} events arrived between two polls; older ones of this burst are not shown",
                    FOLLOW_MAX_PAGES * 1000
                );
                break;
            }
            None => break,
        }
    }
    Ok(fresh)
}

fn show(out: Out, table: &mut EventTable, event: &Value) {
    if out.json {
        json(event);
    } else {
        table.push(event);
    }
}

/// Ids of the events whose time is exactly `time`.
fn ids_at(events: &[Value], time: Option<&str>) -> HashSet<String> {
    events
        .iter()
        .filter(|e| time.is_some() && e["time"].as_str() == time)
        .filter_map(|e| e["id"].as_str().map(str::to_owned))
        .collect()
}

/// Ctrl-C (and SIGTERM) end `follow` with exit code 0: that is how one stops it.
fn exit_zero_on_interrupt() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the signal handler")?;
    std::thread::spawn(move || {
        runtime.block_on(async {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                if let Ok(mut term) = signal(SignalKind::terminate()) {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = term.recv() => {}
                    }
                    return;
                }
            }
            let _ = tokio::signal::ctrl_c().await;
        });
        std::process::exit(0);
    });
    Ok(())
}

fn get(api: &Api, out: Out, id: &str) -> anyhow::Result<()> {
    if uuid_like(id).is_none() {
        return Err(usage(format!(
            "event id {:?} is not a UUID (see the ID column of `nectar ctl events list --json`)",
            nectar_event::text::visible(id, 64)
        )));
    }
    let event = api.get(&["events", id], &[])?;
    if out.json {
        json(&event);
        return Ok(());
    }
    let mut pairs = vec![
        ("id", cell(&event["id"], 40)),
        ("time", cell(&event["time"], 40)),
        ("kind", cell(&event["kind"], 40)),
        ("severity", cell(&event["severity"], 20)),
        ("sensor", cell(&event["sensor"], 200)),
        ("source", endpoint(&event["src_ip"], &event["src_port"])),
        (
            "destination",
            endpoint(&event["dst_ip"], &event["dst_port"]),
        ),
        ("summary", cell(&event["summary"], 4000)),
    ];
    let data: Vec<(String, String)> = event["data"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    (
                        format!("data.{}", nectar_event::text::visible(k, 80)),
                        cell(v, 4000),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    pairs.extend(data.iter().map(|(k, v)| (k.as_str(), v.clone())));
    fields(&pairs);
    Ok(())
}

fn endpoint(ip: &Value, port: &Value) -> String {
    match (ip.as_str(), port.as_u64()) {
        (Some(ip), Some(port)) if ip.contains(':') => format!("[{ip}]:{port}"),
        (Some(ip), Some(port)) => format!("{ip}:{port}"),
        (Some(ip), None) => ip.to_owned(),
        _ => String::new(),
    }
}

/// Some(()) when `id` looks like a UUID (hex and dashes, 32 hex digits).
fn uuid_like(id: &str) -> Option<()> {
    let hex = id.chars().filter(char::is_ascii_hexdigit).count();
    (hex == 32 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') && id.len() <= 36)
        .then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_at_picks_the_instant() {
        let events = vec![
            json!({"id": "a", "time": "t2"}),
            json!({"id": "b", "time": "t2"}),
            json!({"id": "c", "time": "t1"}),
        ];
        let ids = ids_at(&events, Some("t2"));
        assert_eq!(ids.len(), 2);
        assert!(ids.contains("a") && ids.contains("b"));
        assert!(ids_at(&events, None).is_empty());
    }

    #[test]
    fn uuid_check() {
        assert!(uuid_like("01936f5e-0000-7000-8000-000000000000").is_some());
        assert!(uuid_like("nope").is_none());
        assert!(uuid_like("01936f5e000070008000000000000000").is_some());
    }
}
