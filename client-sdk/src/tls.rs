//! How clients verify the server's certificate: the bundled Mozilla roots
//! (`webpki-roots`, so a binary behaves the same on every host), plus a CA
//! file of the operator's (`MANTA_CA_FILE`, `--ca-file`: a development or
//! private CA, added like node's `NODE_EXTRA_CA_CERTS`, not replacing the
//! roots), or no verification at all (`MANTA_TLS_INSECURE`, `-i`), as
//! node-manta has.
//! One place builds the HTTP client so the SDK, the m* commands and the
//! bench verify alike.

use crate::error::{Error, Result};
use std::path::Path;

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

fn read_bundle(path: &Path) -> Result<Vec<reqwest::Certificate>> {
    let bad = |why: String| Error::Config(format!("CA file {}: {why}", path.display()));
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no CERTIFICATE in the file".into()));
    }
    Ok(certs)
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
    }
}
