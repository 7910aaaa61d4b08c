//! `nectar ctl alerts`: the alert queue on the command line: list with the
//! queue's filters, show one with its events and history, and acknowledge,
//! assign or close alerts (analyst or admin token).

use clap::Subcommand;
use serde_json::{Value, json};

use super::Out;
use super::client::Api;
use super::output::{Table, cell, fields, json as print_json, line};

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// The queue, newest activity first.
    List {
        /// new, acknowledged or closed.
        #[arg(long)]
        status: Option<String>,
        /// This severity or worse.
        #[arg(long)]
        severity: Option<String>,
        /// A rule id.
        #[arg(long)]
        rule: Option<String>,
        /// A source address.
        #[arg(long)]
        src_ip: Option<String>,
        /// A user name, or `none` for unassigned alerts.
        #[arg(long)]
        assignee: Option<String>,
        /// How many (1 to 1000).
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// One alert: its fields, observables, first events and history.
    Show {
        /// The alert's id.
        id: String,
    },
    /// Mark alerts as being looked at.
    Ack {
        /// Alert ids.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Assign alerts to a user (`--to ""` unassigns).
    Assign {
        /// Alert ids.
        #[arg(required = true)]
        ids: Vec<String>,
        /// The user name.
        #[arg(long)]
        to: String,
    },
    /// Close alerts with a resolution: true_positive, false_positive, benign
    /// or duplicate.
    Close {
        /// Alert ids.
        #[arg(required = true)]
        ids: Vec<String>,
        /// Why.
        #[arg(long)]
        resolution: String,
    },
}

pub fn run(api: &Api, out: Out, command: AlertsCommand) -> anyhow::Result<()> {
    match command {
        AlertsCommand::List {
            status,
            severity,
            rule,
            src_ip,
            assignee,
            limit,
        } => {
            let answer = api.get(
                &["alerts"],
                &[
                    ("status", status.unwrap_or_default()),
                    ("severity", severity.unwrap_or_default()),
                    ("rule", rule.unwrap_or_default()),
                    ("src_ip", src_ip.unwrap_or_default()),
                    ("assignee", assignee.unwrap_or_default()),
                    ("limit", limit.to_string()),
                ],
            )?;
            if out.json {
                print_json(&answer);
                return Ok(());
            }
            let mut table = Table::new(&[
                "LAST SEEN",
                "SEVERITY",
                "STATUS",
                "COUNT",
                "ASSIGNEE",
                "TITLE",
                "ID",
            ]);
            for a in answer["alerts"].as_array().into_iter().flatten() {
                table.row(vec![
                    cell(&a["last_seen"], 40),
                    cell(&a["severity"], 10),
                    cell(&a["status"], 14),
                    cell(&a["count"], 12),
                    cell(&a["assignee"], 32),
                    cell(&a["title"], 80),
                    cell(&a["id"], 40),
                ]);
            }
            if table.is_empty() {
                eprintln!("no alerts match");
            } else {
                table.print();
            }
            Ok(())
        }
        AlertsCommand::Show { id } => {
            let a = api.get(&["alerts", &id], &[])?;
            if out.json {
                print_json(&a);
                return Ok(());
            }
            let techniques: Vec<String> = a["rule"]["techniques"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| cell(t, 16))
                .collect();
            fields(&[
                ("alert", cell(&a["id"], 40)),
                ("title", cell(&a["title"], 200)),
                ("rule", cell(&a["rule"]["id"], 128)),
                ("techniques", techniques.join(", ")),
                ("severity", cell(&a["severity"], 10)),
                ("status", cell(&a["status"], 14)),
                ("resolution", cell(&a["resolution"], 24)),
                ("assignee", cell(&a["assignee"], 64)),
                ("count", cell(&a["count"], 12)),
                ("silenced", cell(&a["silenced"], 12)),
                ("first seen", cell(&a["first_seen"], 40)),
                ("last seen", cell(&a["last_seen"], 40)),
                ("events linked", cell(&a["linked_events"], 12)),
                ("follows", cell(&a["previous"], 40)),
            ]);
            line("");
            let mut table = Table::new(&["TYPE", "OBSERVABLE"]);
            for o in a["observables"].as_array().into_iter().flatten() {
                table.row(vec![cell(&o["type"], 16), cell(&o["value"], 200)]);
            }
            table.print();
            line("");
            let mut table = Table::new(&["TIME", "KIND", "WHAT"]);
            for e in a["events"].as_array().into_iter().flatten() {
                table.row(vec![
                    cell(&e["time"], 40),
                    cell(&e["kind"], 24),
                    cell(&e["summary"], 120),
                ]);
            }
            table.print();
            line("");
            let mut table = Table::new(&["WHEN", "WHO", "WHAT", "CHANGE"]);
            for h in a["history"].as_array().into_iter().flatten() {
                table.row(vec![
                    cell(&h["at"], 40),
                    cell(&h["actor"], 64),
                    cell(&h["action"], 16),
                    cell(&Value::String(h["change"].to_string()), 120),
                ]);
            }
            table.print();
            Ok(())
        }
        AlertsCommand::Ack { ids } => change(api, out, &ids, json!({"status": "acknowledged"})),
        AlertsCommand::Assign { ids, to } => change(api, out, &ids, json!({"assignee": to})),
        AlertsCommand::Close { ids, resolution } => change(
            api,
            out,
            &ids,
            json!({"status": "closed", "resolution": resolution}),
        ),
    }
}

fn change(api: &Api, out: Out, ids: &[String], change: Value) -> anyhow::Result<()> {
    let mut body = change;
    body["ids"] = json!(ids);
    let answer = api.patch(&["alerts"], &body)?;
    if out.json {
        print_json(&answer);
    } else {
        line(&format!(
            "{} alert(s) updated",
            cell(&answer["updated"], 12)
        ));
    }
    Ok(())
}
