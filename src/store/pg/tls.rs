//! TLS for the PostgreSQL driver, on the TLS stack integ already has (rustls with *ring*, the
//! roots `reqwest` trusts): one TLS implementation in the binary, not a second one (OpenSSL,
//! aws-lc) pulled in by a driver adapter. The certificate is checked against those roots, plus
//! the URL's `sslrootcert` file, and against the URL's host name: `sslmode=verify-full`.

use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

/// Most certificates an `sslrootcert` file may hold.
const MAX_ROOT_CERTS: usize = 1000;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read the sslrootcert file {path}")]
    Read { path: String, source: rustls::pki_types::pem::Error },
    #[error("the sslrootcert file {0} holds no usable certificate")]
    Empty(String),
    #[error("cannot set up TLS")]
    Rustls(#[from] rustls::Error),
}

/// Makes verified TLS connections for `tokio_postgres`.
#[derive(Clone)]
pub struct MakeRustls {
    config: Arc<ClientConfig>,
}

impl MakeRustls {
    /// The web's roots (as for HTTPS) and the certificates in `root_cert`, if given.
    pub fn new(root_cert: Option<&Path>) -> Result<MakeRustls, TlsSetupError> {
        let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        if let Some(path) = root_cert {
            let shown = path.display().to_string();
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|source| TlsSetupError::Read { path: shown.clone(), source })?;
            let mut added = 0;
            for cert in certs.take(MAX_ROOT_CERTS) {
                let cert = cert.map_err(|source| TlsSetupError::Read { path: shown.clone(), source })?;
                if roots.add(cert).is_ok() {
                    added += 1;
                }
            }
            if added == 0 {
                return Err(TlsSetupError::Empty(shown));
            }
        }
        let config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(MakeRustls { config: Arc::new(config) })
    }
}

impl<S> MakeTlsConnect<S> for MakeRustls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, hostname: &str) -> io::Result<RustlsConnect> {
        let name = ServerName::try_from(hostname.to_string())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "the host is not a valid TLS server name"))?;
        Ok(RustlsConnect { config: self.config.clone(), name })
    }
}

/// One connection's TLS handshake.
pub struct RustlsConnect {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        let connector = tokio_rustls::TlsConnector::from(self.config);
        Box::pin(async move { connector.connect(self.name, stream).await.map(RustlsStream) })
    }
}

/// A TLS stream. No channel binding: SCRAM still authenticates both ways by the password.
pub struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
