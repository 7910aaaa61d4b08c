//! `nectar ctl`: a command-line client of a running server's JSON API (`/api/v1`).
//! Tables on stdout by default, `--json` for programs; the server and token come
//! from flags, the environment or a config file (see [`settings`]).

mod admin;
mod alerts;
mod client;
mod devices;
mod events;
mod hosts;
mod incidents;
mod output;
mod sensors;
mod settings;
mod views;

use clap::{Args, Subcommand};

use client::Api;

#[derive(Debug, Args)]
pub struct CtlArgs {
    /// The server, e.g. http://127.0.0.1:8080 (env NECTAR_URL, or `url` in
    /// ~/.config/nectar/ctl.toml; default http://127.0.0.1:8080).
    #[arg(long, env = "NECTAR_URL", global = true, value_name = "URL")]
    url: Option<String>,
    /// An API token, `nct_...` (env NECTAR_TOKEN, or `token` / `token_file` in
    /// ~/.config/nectar/ctl.toml). Create one with `nectar token create`.
    #[arg(
        long,
        env = "NECTAR_TOKEN",
        hide_env_values = true,
        global = true,
        value_name = "TOKEN"
    )]
    token: Option<String>,
    /// Print JSON instead of tables: one object per line for events, the API's
    /// answer otherwise.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: CtlCommand,
}

#[derive(Debug, Subcommand)]
enum CtlCommand {
    /// Is the server up: version, uptime, who you are, and the last day's counts.
    Status(views::StatusArgs),
    /// List, follow and show events.
    #[command(subcommand)]
    Events(events::EventsCommand),
    /// Alerts: the queue, one alert, and acknowledge / assign / close.
    #[command(subcommand)]
    Alerts(alerts::AlertsCommand),
    /// Incidents: list, show, open from alerts, comment, close.
    #[command(subcommand)]
    Incidents(incidents::IncidentsCommand),
    /// The inventory: hosts of our networks, one host with its services.
    #[command(subcommand)]
    Hosts(hosts::HostsCommand),
    /// nmap scans: run one with a profile, list them, import nmap XML.
    #[command(subcommand)]
    Scans(hosts::ScansCommand),
    /// Remote sensors: list them, revoke one, make an enrolment line.
    #[command(subcommand)]
    Sensors(sensors::SensorsCommand),
    /// Per-device behaviour: the devices learnt (list), one with its feature
    /// history (show MAC).
    #[command(subcommand)]
    Devices(devices::DevicesCommand),
    /// Honeypot sessions (SSH/Telnet): list them, or show one with its transcript.
    #[command(subcommand)]
    Sessions(views::SessionsCommand),
    /// Live network anomaly detection: statistics and their recent windows.
    #[command(subcommand)]
    Detect(views::DetectCommand),
    /// Start, stop or look at the live capture (needs [capture] on the server).
    #[command(subcommand)]
    Capture(views::CaptureCommand),
    /// People who log in to the web UI (changes need an admin token).
    #[command(subcommand)]
    Users(admin::UsersCommand),
    /// API tokens (admin only).
    #[command(subcommand)]
    Tokens(admin::TokensCommand),
}

/// Output choice shared by every command.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    pub json: bool,
}

pub fn run(args: CtlArgs) -> anyhow::Result<()> {
    let settings = settings::resolve(args.url, args.token)?;
    let api = Api::new(&settings)?;
    let out = Out { json: args.json };
    match args.command {
        CtlCommand::Status(a) => views::status(&api, out, &a),
        CtlCommand::Events(c) => events::run(&api, out, c),
        CtlCommand::Sessions(c) => views::sessions(&api, out, c),
        CtlCommand::Alerts(c) => alerts::run(&api, out, c),
        CtlCommand::Incidents(c) => incidents::run(&api, out, c),
        CtlCommand::Hosts(c) => hosts::hosts(&api, out, c),
        CtlCommand::Scans(c) => hosts::scans(&api, out, c),
        CtlCommand::Sensors(c) => sensors::run(&api, out, c),
        CtlCommand::Devices(c) => devices::run(&api, out, c),
        CtlCommand::Detect(c) => views::detect(&api, out, c),
        CtlCommand::Capture(c) => views::capture(&api, out, c),
        CtlCommand::Users(c) => admin::users(&api, out, c),
        CtlCommand::Tokens(c) => admin::tokens(&api, out, c),
    }
}
