//! `nectar ctl incidents`: incidents on the command line: list with the
//! list's filters, show one with its alerts, observables, tasks, comments and
//! history, open one (from alerts and/or a template), comment, and close
//! with a resolution (analyst or admin token).

use clap::Subcommand;
use serde_json::{Value, json};

use super::Out;
use super::client::Api;
use super::output::{Table, cell, fields, json as print_json, line};

#[derive(Debug, Subcommand)]
pub enum IncidentsCommand {
    /// Incidents, newest first.
    List {
        /// new, in_progress, contained, closed, or open (not closed).
        #[arg(long)]
        status: Option<String>,
        /// A user name, or `none` for unassigned incidents.
        #[arg(long)]
        assignee: Option<String>,
        /// This severity or worse.
        #[arg(long)]
        severity: Option<String>,
        /// Text in the title.
        #[arg(long, short = 'q')]
        query: Option<String>,
        /// How many (1 to 500).
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// One incident: its fields, alerts, observables, tasks, comments, history.
    Show {
        /// The incident's id.
        id: String,
    },
    /// Open an incident, escalating alerts into it.
    Create {
        /// Its title (default: the template's, or the first alert's).
        #[arg(long)]
        title: Option<String>,
        /// Alert ids to escalate into it.
        #[arg(long = "alert", value_name = "ID")]
        alerts: Vec<String>,
        /// A shipped template: honeypot-account-used, iot-device-compromised,
        /// network-scan-from-outside, credential-reuse.
        #[arg(long)]
        template: Option<String>,
        /// info, low, medium, high or critical.
        #[arg(long)]
        severity: Option<String>,
    },
    /// Add a comment (Markdown); `-` reads it from stdin.
    Comment {
        /// The incident's id.
        id: String,
        /// The comment.
        body: String,
    },
    /// Close an incident with a resolution: true_positive_with_impact,
    /// true_positive_without_impact, false_positive, benign or duplicate.
    Close {
        /// The incident's id.
        id: String,
        /// Why.
        #[arg(long)]
        resolution: String,
    },
}

pub fn run(api: &Api, out: Out, command: IncidentsCommand) -> anyhow::Result<()> {
    match command {
        IncidentsCommand::List {
            status,
            assignee,
            severity,
            query,
            limit,
        } => {
            let answer = api.get(
                &["incidents"],
                &[
                    ("status", status.unwrap_or_default()),
                    ("assignee", assignee.unwrap_or_default()),
                    ("severity", severity.unwrap_or_default()),
                    ("q", query.unwrap_or_default()),
                    ("limit", limit.to_string()),
                ],
            )?;
            if out.json {
                print_json(&answer);
                return Ok(());
            }
            let mut table =
                Table::new(&["OPENED", "SEVERITY", "STATUS", "ASSIGNEE", "TITLE", "ID"]);
            for i in answer["incidents"].as_array().into_iter().flatten() {
                table.row(vec![
                    cell(&i["created"], 40),
                    cell(&i["severity"], 10),
                    cell(&i["status"], 14),
                    cell(&i["assignee"], 32),
                    cell(&i["title"], 80),
                    cell(&i["id"], 40),
                ]);
            }
            if table.is_empty() {
                eprintln!("no incidents match");
            } else {
                table.print();
            }
            Ok(())
        }
        IncidentsCommand::Show { id } => show(api, out, &id),
        IncidentsCommand::Create {
            title,
            alerts,
            template,
            severity,
        } => {
            let mut body = json!({ "alerts": alerts });
            for (key, value) in [
                ("title", title),
                ("template", template),
                ("severity", severity),
            ] {
                if let Some(v) = value {
                    body[key] = json!(v);
                }
            }
            let made = api.post(&["incidents"], &body)?;
            if out.json {
                print_json(&made);
            } else {
                line(&format!(
                    "incident {} opened: {} ({} alert(s), {} observable(s))",
                    cell(&made["id"], 40),
                    cell(&made["title"], 200),
                    made["alerts"].as_array().map_or(0, Vec::len),
                    made["observables"].as_array().map_or(0, Vec::len),
                ));
            }
            Ok(())
        }
        IncidentsCommand::Comment { id, body } => {
            let body = if body == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                body
            };
            let made = api.post(&["incidents", &id, "comments"], &json!({ "body": body }))?;
            if out.json {
                print_json(&made);
            } else {
                line(&format!("comment {} added", cell(&made["id"], 20)));
            }
            Ok(())
        }
        IncidentsCommand::Close { id, resolution } => {
            let closed = api.patch(
                &["incidents", &id],
                &json!({"status": "closed", "resolution": resolution}),
            )?;
            if out.json {
                print_json(&closed);
            } else {
                line(&format!(
                    "incident {} closed as {}",
                    cell(&closed["id"], 40),
                    cell(&closed["resolution"], 40)
                ));
            }
            Ok(())
        }
    }
}

fn show(api: &Api, out: Out, id: &str) -> anyhow::Result<()> {
    let i = api.get(&["incidents", id], &[])?;
    if out.json {
        print_json(&i);
        return Ok(());
    }
    let list = |v: &Value| -> String {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|t| cell(t, 64))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let c = &i["classification"];
    fields(&[
        ("incident", cell(&i["id"], 40)),
        ("title", cell(&i["title"], 200)),
        ("severity", cell(&i["severity"], 10)),
        ("status", cell(&i["status"], 14)),
        ("resolution", cell(&i["resolution"], 40)),
        ("assignee", cell(&i["assignee"], 64)),
        (
            "tlp / pap",
            format!("{} / {}", cell(&i["tlp"], 16), cell(&i["pap"], 16)),
        ),
        ("tags", list(&i["tags"])),
        ("techniques", list(&i["techniques"])),
        ("agent", cell(&c["agent"], 32)),
        ("actions", list(&c["actions"])),
        ("assets", list(&c["assets"])),
        ("discovery", cell(&c["discovery"], 40)),
        (
            "opened",
            format!(
                "{} by {}",
                cell(&i["created"], 40),
                cell(&i["created_by"], 64)
            ),
        ),
        ("alerts", cell(&i["counts"]["alerts"], 12)),
        ("events", cell(&i["counts"]["events"], 12)),
        ("merged into", cell(&i["merged_into"], 40)),
    ]);
    line("");
    let mut table = Table::new(&["TYPE", "OBSERVABLE", "IOC", "ELSEWHERE (INCIDENTS/ALERTS)"]);
    for o in i["observables"].as_array().into_iter().flatten() {
        table.row(vec![
            cell(&o["type"], 16),
            cell(&o["value"], 200),
            cell(&o["ioc"], 6),
            format!(
                "{}/{}",
                cell(&o["seen_incidents"], 12),
                cell(&o["seen_alerts"], 12)
            ),
        ]);
    }
    table.print();
    let tasks = api.get(&["incidents", id, "tasks"], &[])?;
    line("");
    let mut table = Table::new(&["DONE", "TASK", "ASSIGNEE"]);
    for t in tasks["tasks"].as_array().into_iter().flatten() {
        table.row(vec![
            if t["done"] == true {
                "x".into()
            } else {
                String::new()
            },
            cell(&t["title"], 200),
            cell(&t["assignee"], 64),
        ]);
    }
    table.print();
    let comments = api.get(&["incidents", id, "comments"], &[])?;
    line("");
    let mut table = Table::new(&["WHEN", "WHO", "COMMENT"]);
    for c in comments["comments"].as_array().into_iter().flatten() {
        table.row(vec![
            cell(&c["at"], 40),
            cell(&c["author"], 64),
            cell(&c["body"], 200),
        ]);
    }
    table.print();
    let history = api.get(&["incidents", id, "history"], &[])?;
    line("");
    let mut table = Table::new(&["WHEN", "WHO", "WHAT", "CHANGE"]);
    for h in history["history"].as_array().into_iter().flatten() {
        table.row(vec![
            cell(&h["at"], 40),
            cell(&h["actor"], 64),
            cell(&h["action"], 24),
            cell(&Value::String(h["change"].to_string()), 120),
        ]);
    }
    table.print();
    Ok(())
}
