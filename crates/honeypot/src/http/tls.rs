//! HTTPS for the honeypot: rustls with the ring provider (the binary's one crypto
//! backend), a certificate from the configuration or a self-signed one made with
//! rcgen on first start and kept in the data directory, so its fingerprint does
//! not change at each restart.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use super::config::TlsConfig;
use crate::Error;

/// The acceptor for `config`; errors name the file.
pub(crate) fn acceptor(config: &TlsConfig, state_dir: &Path) -> Result<TlsAcceptor, Error> {
    let (cert_path, key_path) = if config.cert_file.as_os_str().is_empty() {
        let cert = state_dir.join("tls-cert.pem");
        let key = state_dir.join("tls-key.pem");
        if !(cert.exists() && key.exists()) {
            self_signed(config, &cert, &key)?;
        }
        (cert, key)
    } else {
        (config.cert_file.clone(), config.key_file.clone())
    };
    let fail = |path: &Path, reason: String| Error::State {
        path: path.into(),
        reason,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .map_err(|e| fail(&cert_path, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| fail(&cert_path, e.to_string()))?;
    if certs.is_empty() {
        return Err(fail(&cert_path, "no certificate in the file".into()));
    }
    let key =
        PrivateKeyDer::from_pem_file(&key_path).map_err(|e| fail(&key_path, e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| fail(&cert_path, e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| fail(&cert_path, e.to_string()))?;
    // Apache without mod_http2 speaks HTTP/1.1 only.
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(server)))
}

fn self_signed(config: &TlsConfig, cert_path: &Path, key_path: &Path) -> Result<(), Error> {
    let fail = |reason: String| Error::State {
        path: cert_path.into(),
        reason,
    };
    let certified = rcgen::generate_simple_self_signed(config.self_signed_names.clone())
        .map_err(|e| fail(e.to_string()))?;
    crate::ssh::hostkeys::write_private(key_path, certified.signing_key.serialize_pem().as_bytes())
        .map_err(|e| fail(e.to_string()))?;
    std::fs::write(cert_path, certified.cert.pem()).map_err(|e| fail(e.to_string()))?;
    tracing::info!(path = %cert_path.display(), "Made a self-signed TLS certificate for the HTTPS honeypot.");
    Ok(())
}
