//! End-to-end tests of `nectar serve` and its commands: the real binary, a real SQLite
//! file in a temporary data directory, real HTTP over loopback.

mod alerts;
mod alerts_attacks;
mod analyst;
mod api;
mod api_roles;
mod browser;
mod capture;
mod cli;
mod crash;
mod ctl;
mod db_copy;
mod devices;
mod enrich;
mod evidence;
mod fetcher;
mod files;
mod honeypot_http;
mod honeypots;
mod hosts;
mod incidents;
mod limits;
mod lockout;
mod memory;
mod not_running;
mod notify;
mod openapi;
mod rules_cli;
mod samples;
mod sensor_fleet;
mod sensors;
mod shared_db;
mod stream;
mod util;
mod web;
mod webdriver;
