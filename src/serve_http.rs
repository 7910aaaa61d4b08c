//! Starting the HTTP honeypot inside `serve`: like the SSH one, a port that cannot
//! be bound is logged and the rest of Nectar keeps running.

use std::io::Write;

use nectar_honeypot::HoneypotContext;
use nectar_honeypot::http::HttpHoneypot;

use crate::config::Config;

/// Starts the HTTP honeypot if enabled; prints its address(es) on stdout.
pub async fn start(
    config: &Config,
    honeypots: &HoneypotContext,
    failures: &mut Vec<nectar_web::StartFailure>,
) -> Option<HttpHoneypot> {
    let http = &config.honeypot.http;
    if !http.enabled {
        return None;
    }
    let started = HttpHoneypot::start(http.clone(), honeypots).await;
    let honeypot = crate::serve::announce("HTTP", "http", http.listen, started, failures, |h| {
        h.local_addr()
    })?;
    if let Some(addr) = honeypot.tls_addr() {
        println!("HTTPS honeypot listening on {addr}");
        let _ = std::io::stdout().flush();
    }
    Some(honeypot)
}
