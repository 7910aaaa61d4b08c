//! `nectar ctl users` and `nectar ctl tokens`: the Settings page's users and API
//! tokens through the API (listing users needs any role; everything else admin).

use std::io::{BufRead, IsTerminal};

use clap::Subcommand;
use serde_json::{Value, json};

use super::Out;
use super::client::Api;
use super::output::{Table, cell, json as print_json, line};
use crate::exit::usage;

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Users: name, role, created, status.
    List,
    /// Add a user; prints the generated password unless --password-stdin is given.
    Add {
        /// Login name.
        name: String,
        /// viewer, analyst or admin.
        #[arg(long, default_value = "analyst")]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password (their sessions end); prints a generated one unless
    /// --password-stdin is given.
    Passwd {
        /// Login name.
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Tokens: name, role, created, last use, revoked (never the secrets).
    List,
    /// Create a token and print it (alone on stdout); it is shown only this once.
    Create {
        /// A unique name, e.g. the sensor or script that will use it.
        #[arg(long)]
        name: String,
        /// viewer, analyst or admin.
        #[arg(long, default_value = "analyst")]
        role: String,
        /// The `sensor` of every event it posts (default: its name).
        #[arg(long)]
        sensor: Option<String>,
    },
    /// Revoke a token by name; requests with it fail from now on.
    Revoke {
        /// The token's name.
        name: String,
    },
}

/// The first line of stdin, without its line end.
fn password_from_stdin() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        eprintln!("Password (one line):");
    }
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|e| usage(format!("--password-stdin: cannot read standard input: {e}")))?;
    let password = password.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        return Err(usage("--password-stdin: standard input held no password"));
    }
    Ok(password)
}

pub fn users(api: &Api, out: Out, command: UsersCommand) -> anyhow::Result<()> {
    match command {
        UsersCommand::List => {
            let answer = api.get(&["users"], &[])?;
            if out.json {
                print_json(&answer);
                return Ok(());
            }
            let mut table = Table::new(&["NAME", "ROLE", "CREATED", "STATUS"]);
            for u in answer["users"].as_array().into_iter().flatten() {
                table.row(vec![
                    cell(&u["name"], 64),
                    cell(&u["role"], 16),
                    cell(&u["created"], 40),
                    if u["disabled"] == json!(true) {
                        "disabled".into()
                    } else {
                        "active".into()
                    },
                ]);
            }
            table.print();
            Ok(())
        }
        UsersCommand::Add {
            name,
            role,
            password_stdin,
        } => {
            let mut body = json!({"name": name, "role": role});
            if password_stdin {
                body["password"] = json!(password_from_stdin()?);
            }
            let answer = api.post(&["users"], &body)?;
            report_password(
                out,
                &answer,
                &format!("user {} created", cell(&answer["name"], 64)),
            )
        }
        UsersCommand::Passwd {
            name,
            password_stdin,
        } => {
            let mut body = json!({});
            if password_stdin {
                body["password"] = json!(password_from_stdin()?);
            }
            let answer = api.post(&["users", &name, "password"], &body)?;
            report_password(
                out,
                &answer,
                &format!(
                    "password of {} set; their sessions ended",
                    cell(&answer["name"], 64)
                ),
            )
        }
    }
}

/// Prints a generated password alone on stdout (what was done goes to stderr), or
/// the whole answer with --json.
fn report_password(out: Out, answer: &Value, done: &str) -> anyhow::Result<()> {
    if out.json {
        print_json(answer);
        return Ok(());
    }
    eprintln!("{done}");
    if let Some(password) = answer["password"].as_str() {
        eprintln!("the generated password, shown only now:");
        line(password);
    }
    Ok(())
}

pub fn tokens(api: &Api, out: Out, command: TokensCommand) -> anyhow::Result<()> {
    match command {
        TokensCommand::List => {
            let answer = api.get(&["tokens"], &[])?;
            if out.json {
                print_json(&answer);
                return Ok(());
            }
            let mut table =
                Table::new(&["NAME", "ROLE", "SENSOR", "CREATED", "LAST USED", "REVOKED"]);
            for t in answer["tokens"].as_array().into_iter().flatten() {
                table.row(vec![
                    cell(&t["name"], 64),
                    cell(&t["role"], 16),
                    cell(&t["sensor"], 64),
                    cell(&t["created"], 40),
                    if t["last_used"].is_null() {
                        "never".into()
                    } else {
                        cell(&t["last_used"], 40)
                    },
                    cell(&t["revoked"], 40),
                ]);
            }
            table.print();
            Ok(())
        }
        TokensCommand::Create { name, role, sensor } => {
            let mut body = json!({"name": name, "role": role});
            if let Some(sensor) = sensor {
                body["sensor"] = json!(sensor);
            }
            let answer = api.post(&["tokens"], &body)?;
            if out.json {
                print_json(&answer);
            } else {
                eprintln!(
                    "token {} created with role {}; it is shown only now:",
                    cell(&answer["name"], 64),
                    cell(&answer["role"], 16)
                );
                line(answer["token"].as_str().unwrap_or_default());
            }
            Ok(())
        }
        TokensCommand::Revoke { name } => {
            let answer = api.delete(&["tokens", &name])?;
            if out.json {
                print_json(&answer);
            } else {
                line(&format!("token {} revoked", cell(&answer["name"], 64)));
            }
            Ok(())
        }
    }
}
