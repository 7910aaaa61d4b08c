//! Starting the HTTP honeypot inside `serve`: like the SSH one, a port that cannot
//! be bound is logged and the rest of Nectar keeps running.

use std::io::Write;
use std::sync::Arc;

use nectar_honeypot::honeytoken::Honeytokens;
use nectar_honeypot::http::HttpHoneypot;

use crate::config::Config;

/// Starts the HTTP honeypot if enabled; prints its address(es) on stdout.
pub async fn start(
    config: &Config,
    bus: &nectar_bus::EventSender,
    honeytokens: &Arc<Honeytokens>,
    capture: &Arc<nectar_honeypot::capture::Capture>,
) -> Option<HttpHoneypot> {
    let http = &config.honeypot.http;
    if !http.enabled {
        return None;
    }
    let started = HttpHoneypot::start_with_capture(
        http.clone(),
        &config.data_dir.join("http"),
        &config.sensor_name,
        bus.clone(),
        honeytokens.clone(),
        capture.clone(),
    )
    .await;
    let honeypot =
        crate::serve::announce("HTTP", "http", http.listen, started, |h| h.local_addr())?;
    if let Some(addr) = honeypot.tls_addr() {
        println!("HTTPS honeypot listening on {addr}");
        let _ = std::io::stdout().flush();
    }
    Some(honeypot)
}
