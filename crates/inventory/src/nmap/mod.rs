//! Active scans with nmap: profiles, the scope check every target passes
//! before nmap starts, and nmap's XML output as typed values.

pub mod profile;
pub mod xml;
