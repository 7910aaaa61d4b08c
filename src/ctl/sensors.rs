//! `nectar ctl sensors`: the fleet of remote sensors (list, with what each
//! last told of itself; revoke one) and new enrolment lines (admin).

use clap::Subcommand;
use serde_json::{Value, json};

use super::Out;
use super::client::Api;
use super::output::{Table, cell, json as print_json};

#[derive(Debug, Subcommand)]
pub enum SensorsCommand {
    /// Every sensor: status, version, address, last contact, events per
    /// second, spool depth, oldest unsent event, drops, clock offset.
    List,
    /// Revoke a sensor (admin): its credential fails from the next request.
    Revoke {
        /// The sensor's name.
        name: String,
    },
    /// Make an enrolment secret for sensor NAME (admin) and print the line
    /// that enrols it.
    Enrol {
        /// The sensor's name.
        name: String,
        /// Hours the secret stays valid (1 to 720).
        #[arg(long, default_value_t = 24)]
        expires_hours: u32,
    },
}

fn offset(value: &Value) -> String {
    value
        .as_i64()
        .map_or_else(|| "-".to_owned(), |ms| format!("{ms} ms"))
}

pub fn run(api: &Api, out: Out, command: SensorsCommand) -> anyhow::Result<()> {
    match command {
        SensorsCommand::List => {
            let answer = api.get(&["sensors"], &[])?;
            if out.json {
                print_json(&answer);
                return Ok(());
            }
            let mut table = Table::new(&[
                "NAME",
                "STATUS",
                "VERSION",
                "ADDRESS",
                "LAST SEEN",
                "EV/S",
                "SPOOLED",
                "OLDEST UNSENT",
                "DROPPED",
                "CLOCK",
            ]);
            for s in answer["sensors"].as_array().into_iter().flatten() {
                table.row(vec![
                    cell(&s["name"], 64),
                    cell(&s["status"], 10),
                    cell(&s["version"], 16),
                    cell(&s["address"], 40),
                    cell(&s["last_seen"], 32),
                    cell(&s["events_per_second"], 10),
                    cell(&s["spool_events"], 12),
                    cell(&s["oldest_unsent"], 32),
                    cell(&s["dropped"], 12),
                    offset(&s["clock_offset_ms"]),
                ]);
            }
            if table.is_empty() {
                eprintln!(
                    "no sensors yet: `nectar ctl sensors enrol NAME` (or `nectar sensor-token create NAME` on the server)"
                );
            } else {
                table.print();
            }
            Ok(())
        }
        SensorsCommand::Revoke { name } => {
            let answer = api.post(&["sensors", &name, "revoke"], &json!({}))?;
            if out.json {
                print_json(&answer);
            } else {
                eprintln!("Sensor {name:?} revoked.");
            }
            Ok(())
        }
        SensorsCommand::Enrol {
            name,
            expires_hours,
        } => {
            let answer = api.post(
                &["sensors"],
                &json!({ "name": name, "expires_hours": expires_hours }),
            )?;
            if out.json {
                print_json(&answer);
                return Ok(());
            }
            eprintln!(
                "Enrolment secret for sensor {name:?}, valid once until {}.",
                cell(&answer["expires"], 40)
            );
            match answer["command"].as_str() {
                Some(command) => {
                    eprintln!("On the sensor, run:");
                    println!("{command}");
                }
                None => {
                    eprintln!(
                        "The server has no [server.tls] listen: sensors cannot reach it yet. The secret:"
                    );
                    println!("{}", cell(&answer["secret"], 200));
                }
            }
            Ok(())
        }
    }
}
