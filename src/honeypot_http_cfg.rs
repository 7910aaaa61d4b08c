//! `[honeypot.http]` printed as a commented configuration (`nectar config`); the
//! settings and their checks live in `nectar_honeypot::http::config`.

use nectar_honeypot::http::{HttpHoneypotConfig, ServerProfile};

use crate::config::lit;

/// Appends `[honeypot.http]` and `[honeypot.http.tls]` with a comment per key.
pub fn commented(http: &HttpHoneypotConfig, line: &mut dyn FnMut(String)) {
    let path = |p: &std::path::Path| lit(&p.display().to_string());
    line(String::new());
    line("[honeypot.http]".into());
    line("# Run the HTTP honeypot (by default it looks like Apache 2.4 on Debian 12).".into());
    line(format!("enabled = {}", http.enabled));
    line("# Address and port of plain HTTP; 80 needs CAP_NET_BIND_SERVICE.".into());
    line(format!("listen = {}", lit(&http.listen.to_string())));
    line(
        "# Server to look like: \"apache\" or \"nginx\" (headers, error pages, default page)."
            .into(),
    );
    let profile = match http.profile {
        ServerProfile::Apache => "apache",
        ServerProfile::Nginx => "nginx",
    };
    line(format!("profile = {}", lit(profile)));
    line("# Server header and error-page signature; empty: the profile's own.".into());
    line(format!("server_header = {}", lit(&http.server_header)));
    line("# Personas served: default, robots, wordpress, phpmyadmin, admin, exposed_files.".into());
    line(format!("personas = {}", lit(&http.personas)));
    line(
        "# Directory whose files replace built-in templates of the same name (empty: none).".into(),
    );
    line(format!("templates_dir = {}", path(&http.templates_dir)));
    line("# TOML file of extra classification rules, added to the built-in ones.".into());
    line(format!("rules_file = {}", path(&http.rules_file)));
    line("# Proxies whose X-Forwarded-For is believed (exact addresses).".into());
    let proxies: Vec<String> = http.trusted_proxies.iter().map(|p| p.to_string()).collect();
    line(format!("trusted_proxies = {}", lit(&proxies)));
    line("# Largest body read (larger gets 413) and bytes kept in data.body_preview.".into());
    line(format!("max_body_bytes = {}", http.max_body_bytes));
    line(format!("body_preview_bytes = {}", http.body_preview_bytes));
    line("# Apache's LimitRequestLine, LimitRequestFieldSize and LimitRequestFields, and".into());
    line("# the largest whole request head.".into());
    line(format!(
        "max_request_line_bytes = {}",
        http.max_request_line_bytes
    ));
    line(format!("max_header_bytes = {}", http.max_header_bytes));
    line(format!("max_headers = {}", http.max_headers));
    line(format!("max_head_bytes = {}", http.max_head_bytes));
    line("# Seconds to send a request head (slowloris bound; then 408), idle keep-alive".into());
    line("# seconds, and requests per connection.".into());
    line(format!(
        "header_timeout_seconds = {}",
        http.header_timeout_seconds
    ));
    line(format!(
        "keepalive_timeout_seconds = {}",
        http.keepalive_timeout_seconds
    ));
    line(format!(
        "max_keepalive_requests = {}",
        http.max_keepalive_requests
    ));
    line("# Connections open at once, in total and per source address.".into());
    line(format!("max_connections = {}", http.max_connections));
    line(format!(
        "max_connections_per_ip = {}",
        http.max_connections_per_ip
    ));
    line("# Requests per second per source address (bursts of twice that); 0: no limit.".into());
    line(format!(
        "max_requests_per_ip_per_second = {}",
        http.max_requests_per_ip_per_second
    ));
    line("# Connections the kernel queues before they are accepted.".into());
    line(format!("backlog = {}", http.backlog));
    let tls = &http.tls;
    line(String::new());
    line("[honeypot.http.tls]".into());
    line("# Serve HTTPS too, on its own port.".into());
    line(format!("enabled = {}", tls.enabled));
    line(format!("listen = {}", lit(&tls.listen.to_string())));
    line(
        "# PEM certificate chain and key; empty: self-signed, made once, kept in data_dir.".into(),
    );
    line(format!("cert_file = {}", path(&tls.cert_file)));
    line(format!("key_file = {}", path(&tls.key_file)));
    line("# Names in the self-signed certificate.".into());
    line(format!(
        "self_signed_names = {}",
        lit(&tls.self_signed_names)
    ));
}
