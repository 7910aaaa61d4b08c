//! End-to-end tests of `nectar serve` and its commands: the real binary, a real SQLite
//! file in a temporary data directory, real HTTP over loopback.

mod api;
mod api_roles;
mod browser;
mod capture;
mod cli;
mod crash;
mod ctl;
mod files;
mod honeypot_http;
mod honeypots;
mod limits;
mod lockout;
mod notify;
mod openapi;
mod stream;
mod util;
mod web;
mod webdriver;
