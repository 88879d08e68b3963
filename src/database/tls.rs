//! TLS for the SQL stage, with rustls. `verify-full` (the default) checks the chain against the CA bundle and
//! the host name; `verify-ca` only the chain; `require` encrypts without checking who answers.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::config::model::TlsMode;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads a PEM bundle of CA certificates.
pub fn load_roots(bundle: &Path) -> Result<RootCertStore, String> {
    let pem = std::fs::read(bundle).map_err(|e| format!("cannot read CA bundle {}: {e}", bundle.display()))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| format!("CA bundle {} is not PEM: {e}", bundle.display()))?;
        roots.add(cert).map_err(|e| format!("CA bundle {}: {e}", bundle.display()))?;
    }
    if roots.is_empty() {
        return Err(format!("CA bundle {} holds no certificate", bundle.display()));
    }
    Ok(roots)
}

/// A connector for `mode`; `None` for `disable`.
pub fn connector(mode: TlsMode, ca_bundle: Option<&Path>) -> Result<Option<MakeRustlsConnect>, String> {
    connector_with_versions(mode, ca_bundle, rustls::DEFAULT_VERSIONS)
}

/// A connector offering only `versions` (verify tries a version below the server's minimum).
pub fn connector_with_versions(
    mode: TlsMode,
    ca_bundle: Option<&Path>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Result<Option<MakeRustlsConnect>, String> {
    let builder =
        ClientConfig::builder_with_provider(provider()).with_protocol_versions(versions).map_err(|e| e.to_string())?;
    let config = match mode {
        TlsMode::Disable => return Ok(None),
        TlsMode::VerifyFull => {
            let bundle = ca_bundle.ok_or("tls_mode verify-full needs connection.ca_bundle")?;
            builder.with_root_certificates(load_roots(bundle)?).with_no_client_auth()
        }
        TlsMode::VerifyCa => {
            let bundle = ca_bundle.ok_or("tls_mode verify-ca needs connection.ca_bundle")?;
            let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(load_roots(bundle)?), provider())
                .build()
                .map_err(|e| e.to_string())?;
            builder.dangerous().with_custom_certificate_verifier(Arc::new(ChainOnly { inner })).with_no_client_auth()
        }
        TlsMode::Require => {
            builder.dangerous().with_custom_certificate_verifier(Arc::new(AnyCertificate)).with_no_client_auth()
        }
    };
    Ok(Some(MakeRustlsConnect::new(config)))
}

/// `verify-ca`: the chain must lead to the bundle; the name on the certificate is not checked.
#[derive(Debug)]
struct ChainOnly {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `require`: encrypted, but anyone may answer (an accepted risk the environment must list).
#[derive(Debug)]
struct AnyCertificate;

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &provider().signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &provider().signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        provider().signature_verification_algorithms.supported_schemes()
    }
}
