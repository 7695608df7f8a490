//! How clients verify the server's certificate: the bundled Mozilla roots
//! (`webpki-roots`, so a binary behaves the same on every host), plus a CA
//! file of the operator's (`MANTA_CA_FILE`, `--ca-file`: a development or
//! private CA, added like node's `NODE_EXTRA_CA_CERTS`, not replacing the
//! roots), or no verification at all (`MANTA_TLS_INSECURE`, `-i`), as
//! node-manta has.
//! One place builds the HTTP client so the SDK, the m* commands and the
//! bench verify alike, and the websockets of `mlogin` (both the client and
//! the job agent's side, [`websocket`]) verify the same way.

use crate::error::{Error, Result};
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::rustls;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{DigitallySignedStruct, SignatureScheme};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::WebSocketStream;

/// A TLS client configuration, shared by the connections made with it.
pub type TlsConfig = Arc<rustls::ClientConfig>;

/// A `reqwest` client builder that verifies as described above.
///
/// # Errors
/// `Config` for a CA file that cannot be read or holds no certificate.
pub fn client_builder(ca_file: Option<&Path>, insecure: bool) -> Result<reqwest::ClientBuilder> {
    let mut b = reqwest::Client::builder().danger_accept_invalid_certs(insecure);
    if let Some(path) = ca_file {
        for cert in read_bundle(path)? {
            b = b.add_root_certificate(cert);
        }
    }
    Ok(b)
}

fn read_pem(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| bad_ca(path, &e.to_string()))
}

fn bad_ca(path: &Path, why: &str) -> Error {
    Error::Config(format!("CA file {}: {why}", path.display()))
}

fn read_bundle(path: &Path) -> Result<Vec<reqwest::Certificate>> {
    let pem = read_pem(path)?;
    let certs =
        reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| bad_ca(path, &e.to_string()))?;
    if certs.is_empty() {
        return Err(bad_ca(path, "no CERTIFICATE in the file"));
    }
    Ok(certs)
}

/// The certificates of a PEM bundle, for rustls.
fn read_ders(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let pem = read_pem(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| bad_ca(path, &e.to_string()))?;
    if certs.is_empty() {
        return Err(bad_ca(path, "no CERTIFICATE in the file"));
    }
    Ok(certs)
}

/// A rustls client configuration that verifies as [`client_builder`]'s
/// clients do: the Mozilla roots plus `ca_file`'s certificates, or nothing
/// with `insecure`. HTTP/1.1 only (websockets upgrade from it).
///
/// # Errors
/// `Config` for a CA file that cannot be read or holds no certificate.
pub fn tls_config(ca_file: Option<&Path>, insecure: bool) -> Result<TlsConfig> {
    let extra = ca_file.map(read_ders).transpose()?.unwrap_or_default();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS: {e}")))?;
    let mut cfg = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
            .with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for der in extra {
            roots
                .add(der)
                .map_err(|e| Error::Config(format!("CA file: {e}")))?;
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// `MANTA_TLS_INSECURE`: any certificate, any name (the handshake's
/// signatures are still checked, so the session is with the key the
/// server showed).
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
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
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
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

/// A connection to a server: TCP, or a TLS session over it.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Connects to the host of `url`: plain TCP for `http://`, TLS verified
/// with `tls` (and the URL's host as the name the certificate must bear)
/// for `https://`. Never falls back from one to the other.
///
/// # Errors
/// `Config` for a URL that is not `http(s)://host[:port]...`; `Io` for
/// the connection or the handshake (a refused certificate says why:
/// `invalid peer certificate: UnknownIssuer`).
pub async fn connect(url: &str, tls: &TlsConfig) -> Result<Box<dyn Io>> {
    let bad = |why: &str| Error::Config(format!("{url}: {why}"));
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    let secure = match parsed.scheme() {
        "https" => true,
        "http" => false,
        _ => return Err(bad("not an http:// or https:// URL")),
    };
    let host = parsed
        .host_str()
        .ok_or_else(|| bad("no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = parsed
        .port_or_known_default()
        .ok_or_else(|| bad("no port"))?;
    let tcp = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => tokio::net::TcpStream::connect((ip, port)).await?,
        Err(_) => tokio::net::TcpStream::connect((host.as_str(), port)).await?,
    };
    tcp.set_nodelay(true)?;
    if !secure {
        return Ok(Box::new(tcp));
    }
    let name = ServerName::try_from(host).map_err(|e| bad(&e.to_string()))?;
    let session = tokio_rustls::TlsConnector::from(tls.clone())
        .connect(name, tcp)
        .await?;
    Ok(Box::new(session))
}

/// Opens a websocket to `url` (`http(s)://host/path`, as `ws(s)://`) with
/// `headers` on the upgrade request, over [`connect`].
///
/// # Errors
/// As [`connect`]; `Protocol` for a refused upgrade (with the status).
pub async fn websocket(
    url: &str,
    headers: &[(&str, &str)],
    tls: &TlsConfig,
) -> Result<WebSocketStream<Box<dyn Io>>> {
    let ws_url = if let Some(rest) = url.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = url.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        return Err(Error::Config(format!(
            "{url}: not an http:// or https:// URL"
        )));
    };
    let mut request = ws_url
        .into_client_request()
        .map_err(|e| Error::Config(format!("{url}: {e}")))?;
    for (k, v) in headers {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|e| Error::Config(format!("header {k}: {e}")))?;
        let value =
            HeaderValue::from_str(v).map_err(|e| Error::Config(format!("header {k}: {e}")))?;
        request.headers_mut().insert(name, value);
    }
    let io = connect(url, tls).await?;
    let (ws, _) = tokio_tungstenite::client_async(request, io)
        .await
        .map_err(|e| Error::Protocol(format!("websocket {url}: {e}")))?;
    Ok(ws)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_must_hold_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let e = client_builder(Some(&missing), false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.pem"), "{e}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no PEM here\n").unwrap();
        let e = client_builder(Some(&empty), false).unwrap_err().to_string();
        assert!(e.contains("no CERTIFICATE"), "{e}");
        assert!(client_builder(None, true).is_ok());
        let e = tls_config(Some(&empty), false).unwrap_err().to_string();
        assert!(e.contains("no CERTIFICATE"), "{e}");
        assert!(tls_config(None, true).is_ok() && tls_config(None, false).is_ok());
    }
}
