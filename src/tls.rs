//! `[server.tls]`: the UI and API over HTTPS, for remote sensors (and browsers
//! beyond loopback). The certificate is the user's (`cert`, `key`) or one made
//! on first start (self-signed, ECDSA P-256, kept in DATA_DIR/tls so its pin
//! does not change); sensors pin it by the SHA-256 printed in enrolment lines.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::exit::usage;

/// The server's TLS: its acceptor and the pin sensors give.
pub struct ServerTls {
    /// Wraps accepted connections.
    pub acceptor: TlsAcceptor,
    /// SHA-256 of the certificate sensors should pin: the server's own
    /// certificate (the first of the chain).
    pub pin: String,
}

/// The files of the self-signed certificate in `data_dir`.
fn self_signed_paths(data_dir: &Path) -> (PathBuf, PathBuf) {
    let dir = data_dir.join("tls");
    (dir.join("server-cert.pem"), dir.join("server-key.pem"))
}

/// The certificate and key files `section` names, making the self-signed
/// pair on first use.
fn files(section: &nectar_web::TlsSection, data_dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    if !section.cert.as_os_str().is_empty() {
        return Ok((section.cert.clone(), section.key.clone()));
    }
    let (cert, key) = self_signed_paths(data_dir);
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    let mut names = vec!["localhost".to_owned()];
    names.extend(section.names.iter().cloned());
    let made = rcgen::generate_simple_self_signed(names)
        .context("cannot make a self-signed TLS certificate")?;
    let dir = cert.parent().unwrap_or(data_dir);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    crate::serve::write_private(&key, &made.signing_key.serialize_pem())
        .with_context(|| format!("cannot write {}", key.display()))?;
    std::fs::write(&cert, made.cert.pem())
        .with_context(|| format!("cannot write {}", cert.display()))?;
    tracing::info!(path = %cert.display(), "Made a self-signed TLS certificate for the server.");
    Ok((cert, key))
}

/// Loads (or makes) the server's certificate; errors name the key to fix.
pub fn load(section: &nectar_web::TlsSection, data_dir: &Path) -> anyhow::Result<ServerTls> {
    let (cert_path, key_path) = files(section, data_dir)?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|certs| certs.collect::<Result<_, _>>())
        .map_err(|e| usage(format!("server.tls.cert: {}: {e}", cert_path.display())))?;
    let Some(first) = certs.first() else {
        return Err(usage(format!(
            "server.tls.cert: {}: no PEM certificate in the file",
            cert_path.display()
        )));
    };
    let pin = nectar_sensor::pin::fingerprint(first.as_ref());
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .map_err(|e| usage(format!("server.tls.key: {}: {e}", key_path.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            usage(format!(
                "server.tls: the certificate and key do not go together: {e}"
            ))
        })?;
    // The web server speaks HTTP/1.1 only (see web_server).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(ServerTls {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        pin,
    })
}

/// The URL sensors use to reach `listen`: an unspecified address (0.0.0.0,
/// ::) is replaced by this machine's host name.
pub fn public_url(listen: std::net::SocketAddr) -> String {
    let ip = listen.ip();
    let host = if ip.is_unspecified() {
        public_host(listen).unwrap_or_else(|| "localhost".to_owned())
    } else if ip.is_ipv6() {
        format!("[{ip}]")
    } else {
        ip.to_string()
    };
    format!("https://{host}:{}", listen.port())
}

/// This machine's host name, when `listen` is an unspecified address (the
/// name the enrolment line then gives sensors).
pub fn public_host(listen: std::net::SocketAddr) -> Option<String> {
    if !listen.ip().is_unspecified() {
        return None;
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
}
