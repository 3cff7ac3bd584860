//! One TLS client configuration for everything that talks to the HMC: the
//! Web Services API (HTTPS) and the notification service (STOMP over TLS).

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_platform_verifier::BuilderVerifierExt;

/// How the server certificate is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsVerify {
    /// Trust only the CA certificates (PEM) in this file.
    CaFile(PathBuf),
    /// Trust the platform's root certificates.
    SystemRoots,
    /// Do not verify the server at all. Anyone on the path can read the
    /// password. For throwaway test setups only.
    DangerAcceptInvalidCertificates,
}

/// Why the TLS configuration could not be made.
#[derive(Debug)]
pub(crate) enum TlsSetupError {
    /// The CA file cannot be read or holds no certificate.
    CaFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The platform's verifier is not available.
    Platform(String),
}

/// Installs ring as the process's TLS crypto provider, once.
pub(crate) fn install_crypto() {
    // Fails only when a provider is installed already, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The client configuration for `verify`: only the CA file's certificates,
/// the platform's verifier, or (on request only) none at all.
pub(crate) fn client_config(verify: &TlsVerify) -> Result<Arc<ClientConfig>, TlsSetupError> {
    install_crypto();
    let builder = ClientConfig::builder();
    let config = match verify {
        TlsVerify::CaFile(path) => {
            let ca = |reason: String| TlsSetupError::CaFile {
                path: path.clone(),
                reason,
            };
            let pem = std::fs::read(path).map_err(|e| ca(e.to_string()))?;
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| ca(e.to_string()))?;
                roots.add(cert).map_err(|e| ca(e.to_string()))?;
            }
            if roots.is_empty() {
                return Err(ca("it holds no PEM certificate".into()));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        TlsVerify::SystemRoots => builder
            .with_platform_verifier()
            .map_err(|e| TlsSetupError::Platform(e.to_string()))?
            .with_no_client_auth(),
        TlsVerify::DangerAcceptInvalidCertificates => {
            tracing::warn!("TLS verification of the HMC is OFF: the password can be read by anyone on the path");
            let provider = builder.crypto_provider().clone();
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnything(provider)))
                .with_no_client_auth()
        }
    };
    Ok(Arc::new(config))
}

/// Accepts any server certificate (signatures are still checked, so the
/// handshake is sound; who the server is, is not).
#[derive(Debug)]
struct AcceptAnything(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
