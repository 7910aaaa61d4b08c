//! Trusting exactly one server: the TLS client a sensor uses accepts the
//! server only if its certificate, or a CA certificate in the chain it sends,
//! has the SHA-256 the user was given (`--pin`). No system root store is
//! consulted: a sensor talks to one server, and a pin names it better than any
//! public CA (which would also vouch for whoever else bought a certificate).
//!
//! - Pin of the server's own certificate (the self-signed one `serve` makes):
//!   the certificate must be that one; its names are not checked (it is the
//!   exact certificate, wherever it is reached).
//! - Pin of a CA certificate in the chain: the server's certificate must chain
//!   to it and name the host in the URL (webpki's checks, with that CA as the
//!   only root).
//!
//! Either way the handshake's signature is verified with the certificate's
//! key, so a man in the middle who copies the certificate cannot complete the
//! handshake, and a wrong pin fails the handshake: no request byte is sent.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};

use crate::SensorError;

/// A certificate's SHA-256 (of its DER), lowercase hex: the pin's format.
pub fn fingerprint(der: &[u8]) -> String {
    fingerprint_hex(&Sha256::digest(der).into())
}

/// A pin's bytes as lowercase hex.
pub fn fingerprint_hex(pin: &[u8; 32]) -> String {
    let mut out = String::with_capacity(64);
    for byte in pin {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// A pin as the user typed it: 64 hex digits, optionally with `:` between
/// bytes (as `openssl x509 -fingerprint -sha256` prints) and a `sha256:` or
/// `SHA256:` prefix.
pub fn parse_pin(text: &str) -> Result<[u8; 32], SensorError> {
    let bad = || SensorError::Usage {
        field: "--pin",
        reason: format!(
            "{:?} is not a SHA-256 fingerprint: give 64 hex digits (colons allowed), as `nectar sensor-token create` printed",
            text.chars().take(100).collect::<String>()
        ),
    };
    let trimmed = text.trim();
    let body = trimmed
        .strip_prefix("sha256:")
        .or_else(|| trimmed.strip_prefix("SHA256:"))
        .unwrap_or(trimmed);
    let hex: Vec<u8> = body.bytes().filter(|b| *b != b':').collect();
    if hex.len() != 64 {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, pair) in hex.chunks_exact(2).enumerate() {
        let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
        let (Some(hi), Some(lo)) = (digit(pair[0]), digit(pair[1])) else {
            return Err(bad());
        };
        out[i] = hi << 4 | lo;
    }
    Ok(out)
}

/// The verifier holding the pin.
#[derive(Debug)]
struct PinnedServer {
    pin: [u8; 32],
    provider: Arc<CryptoProvider>,
    algorithms: WebPkiSupportedAlgorithms,
}

fn matches(pin: &[u8; 32], cert: &CertificateDer<'_>) -> bool {
    Sha256::digest(cert.as_ref()).as_slice() == pin
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if matches(&self.pin, end_entity) {
            return Ok(ServerCertVerified::assertion());
        }
        let Some(ca) = intermediates.iter().find(|c| matches(&self.pin, c)) else {
            return Err(rustls::Error::General(
                "the server's certificate does not match the pinned SHA-256 (a wrong pin, or a man in the middle)".into(),
            ));
        };
        // The pinned CA becomes the only root; the chain must lead to it.
        let mut roots = RootCertStore::empty();
        roots
            .add(ca.clone().into_owned())
            .map_err(|e| rustls::Error::General(format!("the pinned CA certificate: {e}")))?;
        let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            self.provider.clone(),
        )
        .build()
        .map_err(|e| rustls::Error::General(e.to_string()))?;
        webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A rustls client configuration that trusts only the server matching `pin`.
pub fn client_config(pin: [u8; 32]) -> Result<rustls::ClientConfig, SensorError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let algorithms = provider.signature_verification_algorithms;
    let verifier = Arc::new(PinnedServer {
        pin,
        provider: provider.clone(),
        algorithms,
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SensorError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_parse_with_or_without_colons_and_prefix() {
        let hex = "ab".repeat(32);
        let colons = vec!["AB"; 32].join(":");
        assert_eq!(parse_pin(&hex).ok(), Some([0xab; 32]));
        assert_eq!(parse_pin(&colons).ok(), Some([0xab; 32]));
        assert_eq!(parse_pin(&format!("sha256:{hex}")).ok(), Some([0xab; 32]));
        assert!(parse_pin("abc").is_err());
        assert!(parse_pin(&"zz".repeat(32)).is_err());
        assert!(parse_pin(&"é".repeat(32)).is_err());
    }

    #[test]
    fn fingerprint_is_lowercase_hex_sha256() {
        assert_eq!(
            fingerprint(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
