//! `nectar`: the command line. It parses flags, loads the configuration and wires the
//! crates together; the work itself lives in `crates/`.
#![deny(unsafe_code)] // One exception: `memory` calls the allocator.

mod admin;
mod analyze;
mod config;
mod config_print;
mod ctl;
mod db_cmd;
mod decrypt;
mod detect_cfg;
mod exit;
mod flow;
mod honeypot_cfg;
mod live;
mod memory;
mod replay;
mod retention;
mod rules_cmd;
mod sensor;
mod sensor_cfg;
mod serve;
mod serve_http;
mod spot_cmd;
mod tls;
mod web_server;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;

/// mimalloc instead of glibc's malloc: the ingest path (events, JSON, SQLite's
/// bound values) allocates a lot, and mimalloc did the ingest benchmark's work in
/// 12 % fewer instructions (callgrind); it also hands freed memory back to the
/// system, where glibc kept a honeypot's RSS at its peak after sessions closed.
/// With the `override` feature (workspace Cargo.toml) SQLite's mallocs use it too.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Nectar watches a network and lures attackers, and turns what it sees into events
/// that a security team browses in a web UI.
///
/// Start with `nectar serve`: no configuration is needed. Data goes to ./nectar-data.
#[derive(Debug, Parser)]
#[command(name = "nectar", version, propagate_version = true)]
struct Cli {
    /// Configuration file (TOML). Without it every setting has its default; see
    /// `nectar config` for all settings.
    #[arg(
        long,
        short = 'c',
        global = true,
        value_name = "PATH",
        env = "NECTAR_CONFIG"
    )]
    config: Option<PathBuf>,

    /// Data directory (database, logs, keys); overrides `data_dir` of the config file.
    /// Default: ./nectar-data
    #[arg(long, global = true, value_name = "DIR", env = "NECTAR_DATA_DIR")]
    data_dir: Option<PathBuf>,

    /// The database (`sqlite:` or postgres://USER:PASSWORD@HOST:PORT/DATABASE);
    /// overrides `[store] url` of the config file. As an environment variable it
    /// keeps the password out of files and process listings.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "NECTAR_STORE_URL",
        hide_env_values = true
    )]
    store_url: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run Nectar: the database, the web UI and the API, until Ctrl-C or SIGTERM.
    ///
    /// On first start it creates the data directory and an `admin` user whose password
    /// is printed once and saved in DATA_DIR/initial-admin-password.
    Serve(serve::ServeArgs),
    /// Print the effective configuration as a commented TOML file.
    ///
    /// `nectar config > nectar.toml` gives a complete starting file to edit.
    Config,
    /// Manage API tokens (for sensors, scripts and `nectar ctl`).
    #[command(subcommand)]
    Token(admin::TokenCommand),
    /// Manage the people who log in to the web UI.
    #[command(subcommand)]
    User(admin::UserCommand),
    /// Talk to a running server over its API: status, events (list, follow),
    /// sessions, detection, capture, users and tokens.
    ///
    /// The server and token come from --url/--token, NECTAR_URL/NECTAR_TOKEN, or
    /// ~/.config/nectar/ctl.toml (`url = "..."`, `token = "nct_..."`).
    Ctl(ctl::CtlArgs),
    /// Run the SPOT anomaly detector over a file of numbers.
    ///
    /// Trains on the first `--fit` values, then prints `index,value,status,threshold`
    /// for each later value (status: normal, excess or anomaly). Same results as
    /// libspot 3.1.0 with the same parameters; `--depth N` runs DSPOT (drift-aware).
    /// Example: `nectar spot --fit 2000 --q 1e-3 values.txt`.
    Spot(spot_cmd::SpotArgs),
    /// Look for network anomalies in capture files (pcap, pcapng).
    ///
    /// Counts packets per time window, watches every statistic with SPOT and prints
    /// a summary and the alarms. For short captures learn on benign traffic first:
    /// `nectar analyze --baseline benign.pcap --window 200ms attack.pcap`.
    Analyze(analyze::AnalyzeArgs),
    /// Play a honeypot session's recording in the terminal, with its timing.
    ///
    /// `nectar replay SESSION` takes a session id (the events' `data.session`) or
    /// a .cast file. Escape sequences that could act on your terminal (title,
    /// clipboard, reports) are removed unless --raw.
    Replay(replay::ReplayArgs),
    /// Read back what was captured with `[honeypot] encrypt_to`.
    ///
    /// `nectar decrypt --identity KEY events.jsonl` prints the log with every
    /// `*_enc` field decrypted (`password_enc` becomes `password`); given an age
    /// file (a `.cast.age` recording, an upload) it prints the plaintext.
    Decrypt(decrypt::DecryptArgs),
    /// Sigma rules: check rule files (errors name file and line), list the
    /// rules `serve` runs, and replay events through rules (`test`).
    #[command(subcommand)]
    Rules(rules_cmd::RulesCommand),
    /// Enrol remote sensors: `create NAME` prints the one command line that
    /// enrols sensor NAME (a one-time, expiring secret and the server's pin).
    #[command(subcommand)]
    SensorToken(sensor::SensorTokenCommand),
    /// Run as a remote sensor: the honeypots and packet detection of `serve`,
    /// without UI or database, shipping events to a server through an on-disk
    /// spool. `nectar sensor enrol URL SECRET --pin SHA256` first.
    Sensor(sensor::SensorArgs),
    /// The database: `db copy` moves an installation between SQLite and
    /// PostgreSQL.
    #[command(subcommand)]
    Db(db_cmd::DbCommand),
    /// Make an age key pair for `[honeypot] encrypt_to` (like `age-keygen`).
    ///
    /// The identity (private key) goes to --output or stdout, the public key to
    /// stderr. Keep the identity off the sensors.
    AgeKeygen(decrypt::KeygenArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // clap prints help and version itself and exits 0, and usage errors with 2.
        Err(err) => err.exit(),
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => exit::report(&err),
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(dir) = cli.data_dir {
        config.data_dir = dir;
        config.validate().map_err(|e| {
            // The flag set `data_dir`: name the flag, not the key.
            if e.key.to_string() == "data_dir" {
                exit::usage(format!("--data-dir: {}", e.reason))
            } else {
                exit::usage(e.to_string())
            }
        })?;
    }
    if let Some(url) = cli.store_url {
        config.store.url = nectar_event::config::Sensitive::new(url);
        config.validate().map_err(|e| {
            if e.key.to_string().starts_with("store.") {
                exit::usage(format!("--store-url: {}", e.reason))
            } else {
                exit::usage(e.to_string())
            }
        })?;
    }
    match cli.command {
        Command::Serve(args) => serve::run(config, args),
        Command::Config => {
            let text = config
                .to_commented_toml()
                .map_err(|e| anyhow::anyhow!("cannot print the configuration: {e}"))?;
            print!("{text}");
            Ok(())
        }
        Command::Token(command) => admin::token(&config, command),
        Command::User(command) => admin::user(&config, command),
        Command::Ctl(args) => ctl::run(args),
        Command::Spot(args) => spot_cmd::run(&args),
        Command::Analyze(args) => analyze::run(&config, &args),
        Command::Replay(args) => replay::run(&config, &args),
        Command::Decrypt(args) => decrypt::run(&args),
        Command::AgeKeygen(args) => decrypt::keygen(&args),
        Command::Rules(command) => rules_cmd::run(&config, command),
        Command::SensorToken(command) => sensor::token(&config, command),
        Command::Sensor(args) => sensor::run(config, args),
        Command::Db(command) => db_cmd::run(command),
    }
}
