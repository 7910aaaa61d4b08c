//! `nectar ctl devices`: the devices the live detector learnt (list) and one
//! device with its feature history (show).

use clap::Subcommand;
use serde_json::Value;

use super::Out;
use super::client::Api;
use super::output::{Table, cell, fields, json as print_json};

#[derive(Debug, Subcommand)]
pub enum DevicesCommand {
    /// Every device: MAC, vendor, address, learning or monitoring, last anomaly.
    List {
        /// Most devices listed (1 to 1000).
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// One device: its state, and per feature the last value, the learnt
    /// range and the values of its last windows (`*`: anomalous).
    Show {
        /// The device's MAC address (aa:bb:cc:dd:ee:ff).
        mac: String,
    },
}

fn list_row(d: &Value) -> Vec<String> {
    let addresses: Vec<String> = d["addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| cell(a, 40))
        .collect();
    vec![
        cell(&d["mac"], 17),
        cell(&d["vendor"], 32),
        addresses.join(","),
        cell(&d["state"], 10),
        cell(&d["learnt_windows"], 10),
        if d["last_anomaly"].is_null() {
            "-".to_owned()
        } else {
            cell(&d["last_anomaly"], 32)
        },
    ]
}

fn short(x: f64) -> String {
    if x.abs() >= 100.0 || x == x.round() {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

pub fn run(api: &Api, out: Out, command: DevicesCommand) -> anyhow::Result<()> {
    match command {
        DevicesCommand::List { limit } => {
            if !(1..=1000).contains(&limit) {
                return Err(crate::exit::usage("--limit: expected 1 to 1000"));
            }
            let answer = api.get(&["devices"], &[("limit", limit.to_string())])?;
            if out.json {
                print_json(&answer);
                return Ok(());
            }
            let mut table = Table::new(&[
                "MAC",
                "VENDOR",
                "ADDRESS",
                "STATE",
                "LEARNT",
                "LAST ANOMALY",
            ]);
            for d in answer["devices"].as_array().into_iter().flatten() {
                table.row(list_row(d));
            }
            if table.is_empty() {
                eprintln!(
                    "no devices yet: they appear when live capture runs with [inventory] networks and [devices] on"
                );
            } else {
                table.print();
            }
            Ok(())
        }
        DevicesCommand::Show { mac } => {
            let ok = mac.split([':', '-']).count() == 6
                && mac
                    .split([':', '-'])
                    .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()));
            if !ok {
                return Err(crate::exit::usage(format!(
                    "MAC {mac:?}: expected a MAC address like 00:0e:58:00:00:0b"
                )));
            }
            let d = api.get(&["devices", &mac], &[])?;
            if out.json {
                print_json(&d);
                return Ok(());
            }
            let row = list_row(&d);
            fields(&[
                ("mac", row[0].clone()),
                ("vendor", row[1].clone()),
                ("address", row[2].clone()),
                ("state", row[3].clone()),
                ("learnt windows", row[4].clone()),
                ("last anomaly", row[5].clone()),
                ("saved", cell(&d["updated"], 40)),
            ]);
            let h = &d["history"];
            let windows = h["windows"].as_array().cloned().unwrap_or_default();
            let marks: String = windows
                .iter()
                .map(|w| if w["anomaly"] == true { '*' } else { '.' })
                .collect();
            println!();
            println!(
                "last {} window(s) of {}s; anomalous: {marks}",
                windows.len(),
                cell(&h["window_seconds"], 10)
            );
            let mut table = Table::new(&["FEATURE", "LAST", "LEARNT RANGE", "LAST WINDOWS"]);
            for (i, name) in h["features"].as_array().into_iter().flatten().enumerate() {
                let name = cell(name, 32);
                let values: Vec<String> = windows
                    .iter()
                    .rev()
                    .take(8)
                    .rev()
                    .map(|w| w["values"][i].as_f64().map_or("-".to_owned(), short))
                    .collect();
                let range = match h["ranges"].get(&name).and_then(Value::as_array) {
                    Some(r) if r.len() == 2 => format!(
                        "{} – {}",
                        r[0].as_f64().map_or("-".to_owned(), short),
                        r[1].as_f64().map_or("-".to_owned(), short)
                    ),
                    _ => "learning".to_owned(),
                };
                table.row(vec![
                    name,
                    values.last().cloned().unwrap_or_else(|| "-".to_owned()),
                    range,
                    values.join(" "),
                ]);
            }
            table.print();
            Ok(())
        }
    }
}
