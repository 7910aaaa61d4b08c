//! `nectar ctl hosts` and `nectar ctl scans`: the inventory on the command
//! line (list with the search of the Hosts page, show one host with its
//! services and history) and nmap scans (run with a profile, list, import an
//! nmap XML file).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Subcommand;
use serde_json::{Value, json};

use super::Out;
use super::client::Api;
use super::output::{Table, cell, fields, json as print_json, line};
use crate::exit::usage;

#[derive(Debug, Subcommand)]
pub enum HostsCommand {
    /// Hosts in address order.
    List {
        /// An address or prefix (192.0.2.0/24), or text in names, MACs, vendors,
        /// owners, tags.
        #[arg(long, short)]
        q: Option<String>,
        /// With this port open.
        #[arg(long)]
        port: Option<u16>,
        /// With this tag.
        #[arg(long)]
        tag: Option<String>,
        /// Hosts reported gone too.
        #[arg(long)]
        gone: bool,
        /// How many (1 to 1000).
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// One host: its fields, services and history.
    Show {
        /// Its address.
        address: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ScansCommand {
    /// Run a scan: PROFILE (fast, version, aggressive, noping, or one of
    /// [inventory.profiles]) against TARGETs inside [inventory] scan_scope;
    /// waits for it unless --no-wait.
    Run {
        /// The profile.
        profile: String,
        /// Addresses or prefixes.
        #[arg(required = true)]
        targets: Vec<String>,
        /// Print the queued scan and return.
        #[arg(long)]
        no_wait: bool,
    },
    /// The latest scans.
    List,
    /// Import an nmap XML file (`nmap -oX FILE`).
    Import {
        /// The file.
        file: PathBuf,
    },
}

fn ports(h: &Value) -> String {
    h["services"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["state"] == "open")
        .map(|s| format!("{}/{}", cell(&s["port"], 6), cell(&s["proto"], 4)))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn hosts(api: &Api, out: Out, command: HostsCommand) -> anyhow::Result<()> {
    match command {
        HostsCommand::List {
            q,
            port,
            tag,
            gone,
            limit,
        } => {
            let answer = api.get(
                &["hosts"],
                &[
                    ("q", q.unwrap_or_default()),
                    ("port", port.map(|p| p.to_string()).unwrap_or_default()),
                    ("tag", tag.unwrap_or_default()),
                    ("gone", if gone { "true".into() } else { String::new() }),
                    ("limit", limit.to_string()),
                ],
            )?;
            if out.json {
                print_json(&answer);
                return Ok(());
            }
            let mut table = Table::new(&[
                "ADDRESS",
                "NAME",
                "MAC",
                "VENDOR",
                "OS",
                "OPEN PORTS",
                "LAST SEEN",
            ]);
            for h in answer["hosts"].as_array().into_iter().flatten() {
                table.row(vec![
                    cell(&h["address"], 40),
                    cell(&h["name"], 40),
                    cell(&h["mac"], 17),
                    cell(&h["vendor"], 30),
                    cell(&h["os"], 16),
                    ports(h),
                    cell(&h["last_seen"], 40),
                ]);
            }
            if table.is_empty() {
                eprintln!("no hosts match");
            } else {
                table.print();
            }
            if answer["next_cursor"].is_string() {
                eprintln!("more hosts match: narrow the search or raise --limit");
            }
            Ok(())
        }
        HostsCommand::Show { address } => {
            let h = api.get(&["hosts", &address], &[])?;
            if out.json {
                print_json(&h);
                return Ok(());
            }
            let tags: Vec<String> = h["tags"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| cell(t, 64))
                .collect();
            fields(&[
                ("host", cell(&h["address"], 40)),
                ("name", cell(&h["name"], 128)),
                ("mac", cell(&h["mac"], 17)),
                ("vendor", cell(&h["vendor"], 64)),
                ("os", cell(&h["os"], 64)),
                ("owner", cell(&h["owner"], 128)),
                ("location", cell(&h["location"], 128)),
                ("tags", tags.join(", ")),
                ("first seen", cell(&h["first_seen"], 40)),
                ("last seen", cell(&h["last_seen"], 40)),
                ("gone", cell(&h["gone"], 6)),
            ]);
            line("");
            let mut table = Table::new(&[
                "PORT",
                "PROTO",
                "STATE",
                "SERVICE",
                "VERSION",
                "BY",
                "LAST SEEN",
            ]);
            for s in h["services"].as_array().into_iter().flatten() {
                table.row(vec![
                    cell(&s["port"], 6),
                    cell(&s["proto"], 4),
                    cell(&s["state"], 8),
                    cell(&s["service"], 24),
                    cell(&s["version"], 60),
                    cell(&s["source"], 8),
                    cell(&s["last_seen"], 40),
                ]);
            }
            table.print();
            line("");
            let mut table = Table::new(&["WHEN", "WHO", "FIELD", "BEFORE", "AFTER"]);
            for c in h["history"].as_array().into_iter().flatten() {
                table.row(vec![
                    cell(&c["time"], 40),
                    cell(&c["actor"], 32),
                    cell(&c["field"], 16),
                    cell(&c["old"], 60),
                    cell(&c["new"], 60),
                ]);
            }
            table.print();
            Ok(())
        }
    }
}

fn scan_line(s: &Value) {
    line(&format!(
        "scan {} {}: {} ({} host(s) up){}",
        cell(&s["id"], 40),
        cell(&s["profile"], 64),
        cell(&s["status"], 10),
        s["hosts"]
            .as_array()
            .or_else(|| s["result"]["hosts"].as_array())
            .map_or(0, Vec::len),
        s["error"]
            .as_str()
            .map(|e| format!(": {}", nectar_event::text::visible(e, 300)))
            .unwrap_or_default(),
    ));
}

pub fn scans(api: &Api, out: Out, command: ScansCommand) -> anyhow::Result<()> {
    match command {
        ScansCommand::Run {
            profile,
            targets,
            no_wait,
        } => {
            let mut scan =
                api.post(&["scans"], &json!({"profile": profile, "targets": targets}))?;
            let id = scan["id"].as_str().unwrap_or_default().to_owned();
            let deadline = Instant::now() + Duration::from_secs(24 * 3600);
            while !no_wait && matches!(scan["status"].as_str(), Some("queued" | "running")) {
                if Instant::now() > deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(500));
                scan = api.get(&["scans", &id], &[])?;
            }
            if out.json {
                print_json(&scan);
            } else {
                scan_line(&scan);
                for h in scan["hosts"].as_array().into_iter().flatten() {
                    line(&format!("  {} {}", cell(&h["address"], 40), ports(h)));
                }
            }
            if scan["status"] == "failed" {
                return Err(anyhow::anyhow!("the scan failed"));
            }
            Ok(())
        }
        ScansCommand::List => {
            let answer = api.get(&["scans"], &[])?;
            if out.json {
                print_json(&answer);
                return Ok(());
            }
            let mut table = Table::new(&["ASKED", "PROFILE", "TARGETS", "STATUS", "BY", "ID"]);
            for s in answer["scans"].as_array().into_iter().flatten() {
                let targets: Vec<String> = s["targets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| cell(t, 45))
                    .collect();
                table.row(vec![
                    cell(&s["created"], 40),
                    cell(&s["profile"], 32),
                    targets.join(" "),
                    cell(&s["status"], 10),
                    cell(&s["requested_by"], 32),
                    cell(&s["id"], 40),
                ]);
            }
            if table.is_empty() {
                eprintln!("no scans yet");
            } else {
                table.print();
            }
            Ok(())
        }
        ScansCommand::Import { file } => {
            let body =
                std::fs::read(&file).map_err(|e| usage(format!("{}: {e}", file.display())))?;
            let scan = api.post_raw(&["scans", "import"], "application/xml", body)?;
            if out.json {
                print_json(&scan);
            } else {
                scan_line(&scan);
            }
            Ok(())
        }
    }
}
