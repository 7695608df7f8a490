//! TLS for a listener: its certificate chain and key read from PEM files
//! into a [`ReloadingCert`], which every handshake asks for the current
//! pair. [`ReloadingCert::reload`] reads the files again and swaps the pair
//! in at once (an `ArcSwap`), so new connections get the new certificate
//! while open ones keep the session they made; a file that does not load
//! is reported and the old pair kept. [`reload_on_sighup`] ties that to the
//! operator's `kill -HUP`.
//!
//! The crypto provider is `ring`, named here rather than left to rustls'
//! process default: aws-lc-rs's C build is slow and brings nothing we need.
//! HTTP/1.1 only (ALPN), as the server loop speaks.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::task::JoinHandle;
use tokio_rustls::rustls::crypto::{ring, CryptoProvider};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::ServerConfig;
pub use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::{Error, Result};

/// The PEM files a listener's certificate comes from: the chain (leaf
/// first) and its private key (PKCS#8, PKCS#1 or SEC1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The certificate handshakes present, re-read from its files on demand.
#[derive(Debug)]
pub struct ReloadingCert {
    files: CertFiles,
    provider: Arc<CryptoProvider>,
    current: ArcSwap<CertifiedKey>,
}

impl ReloadingCert {
    /// Reads `files`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming `tls_cert_file` or `tls_key_file`:
    /// unreadable files, no certificate, no key, a key that is not the
    /// certificate's.
    pub fn load(files: CertFiles) -> Result<Arc<Self>> {
        let provider = Arc::new(ring::default_provider());
        let pair = read_pair(&files, &provider)?;
        Ok(Arc::new(ReloadingCert {
            files,
            provider,
            current: ArcSwap::from_pointee(pair),
        }))
    }

    /// Reads the files again; on success new handshakes present the new
    /// pair, on failure the old one stays.
    ///
    /// # Errors
    /// As [`Self::load`].
    pub fn reload(&self) -> Result<()> {
        let pair = read_pair(&self.files, &self.provider)?;
        self.current.store(Arc::new(pair));
        Ok(())
    }

    /// The files this certificate is read from.
    pub fn files(&self) -> &CertFiles {
        &self.files
    }

    /// The DER of the leaf certificate presented now.
    pub fn leaf_der(&self) -> Vec<u8> {
        self.current
            .load()
            .cert
            .first()
            .map(|c| c.as_ref().to_vec())
            .unwrap_or_default()
    }

    /// A TLS acceptor presenting this certificate (TLS 1.2 and 1.3, no
    /// client certificates, HTTP/1.1).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if the provider supports no safe protocol
    /// version (a build problem, not an operator's).
    pub fn acceptor(self: &Arc<Self>) -> Result<TlsAcceptor> {
        let mut cfg = ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid("tls_cert_file", format!("TLS settings: {e}")))?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(cfg)))
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

/// Reloads every certificate in `certs` on each SIGHUP until `stop` is
/// cancelled. The handler is installed before this returns, so a SIGHUP
/// sent once it has returned never takes its default action (ending the
/// process).
///
/// # Errors
/// The signal handler cannot be installed.
pub fn reload_on_sighup(
    certs: Vec<Arc<ReloadingCert>>,
    stop: CancellationToken,
) -> std::io::Result<JoinHandle<()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hup = signal(SignalKind::hangup())?;
    Ok(tokio::spawn(async move {
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                got = hup.recv() => if got.is_none() { return },
            }
            for cert in &certs {
                let path = cert.files.cert.display();
                match cert.reload() {
                    Ok(()) => tracing::info!(cert = %path, "TLS certificate reloaded"),
                    Err(e) => tracing::error!(
                        cert = %path,
                        error = %e,
                        "TLS certificate not reloaded; still serving the previous one"
                    ),
                }
            }
        }
    }))
}

fn read_pair(files: &CertFiles, provider: &CryptoProvider) -> Result<CertifiedKey> {
    let chain = read_chain(&files.cert)?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| invalid("tls_key_file", format!("{}: {e}", files.key.display())))?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| {
        invalid(
            "tls_key_file",
            format!(
                "{} with certificate {}: {e}",
                files.key.display(),
                files.cert.display()
            ),
        )
    })
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let bad =
        |e: &dyn std::fmt::Display| invalid("tls_cert_file", format!("{}: {e}", path.display()));
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(&e))?;
    if chain.is_empty() {
        return Err(bad(&"no CERTIFICATE in the file"));
    }
    Ok(chain)
}

fn invalid(key: &'static str, reason: String) -> Error {
    Error::InvalidConfig { key, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed certificate for `name`: (cert PEM, key PEM).
    fn pair(name: &str) -> (String, String) {
        let c = rcgen::generate_simple_self_signed(vec![name.to_string()]).unwrap();
        (c.cert.pem(), c.signing_key.serialize_pem())
    }

    fn write(dir: &Path, (cert, key): &(String, String)) -> CertFiles {
        let files = CertFiles {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        };
        std::fs::write(&files.cert, cert).unwrap();
        std::fs::write(&files.key, key).unwrap();
        files
    }

    fn der(pem: &str) -> Vec<u8> {
        CertificateDer::from_pem_slice(pem.as_bytes())
            .unwrap()
            .as_ref()
            .to_vec()
    }

    #[test]
    fn reload_swaps_a_good_pair_and_keeps_the_old_on_a_bad_one() {
        let dir = tempfile::tempdir().unwrap();
        let first = pair("one.test");
        let files = write(dir.path(), &first);
        let cert = ReloadingCert::load(files.clone()).unwrap();
        assert_eq!(cert.leaf_der(), der(&first.0));

        std::fs::write(&files.cert, "not a certificate").unwrap();
        let e = cert.reload().unwrap_err().to_string();
        assert!(e.contains("tls_cert_file"), "{e}");
        assert_eq!(cert.leaf_der(), der(&first.0));

        // A certificate with another certificate's key.
        let second = pair("two.test");
        std::fs::write(&files.cert, &second.0).unwrap();
        let e = cert.reload().unwrap_err().to_string();
        assert!(e.contains("tls_key_file"), "{e}");
        assert_eq!(cert.leaf_der(), der(&first.0));

        write(dir.path(), &second);
        cert.reload().unwrap();
        assert_eq!(cert.leaf_der(), der(&second.0));
    }

    #[test]
    fn load_refuses_missing_and_empty_files() {
        let dir = tempfile::tempdir().unwrap();
        let files = write(dir.path(), &pair("x.test"));
        std::fs::write(&files.cert, "").unwrap();
        let e = ReloadingCert::load(files.clone()).unwrap_err().to_string();
        assert!(e.contains("no CERTIFICATE"), "{e}");
        std::fs::remove_file(&files.key).unwrap();
        write(dir.path(), &pair("x.test"));
        std::fs::remove_file(&files.key).unwrap();
        let e = ReloadingCert::load(files).unwrap_err().to_string();
        assert!(e.contains("tls_key_file"), "{e}");
    }
}
