//! Active scans with nmap: profiles, the scope check every target passes
//! before nmap starts, the child process, and nmap's XML output as typed
//! values.

pub mod profile;
pub mod run;
pub mod scope;
pub mod xml;
