//! The local certificate authority of `mantad dev` and the test kit, so a
//! development cluster speaks HTTPS that clients verify rather than skip.
//!
//! Under one directory: `ca.pem` and `ca-key.pem` (the CA, made once and
//! reused across restarts so clients keep trusting it; its key mode 0600),
//! `server.pem` and `server-key.pem` (the listeners' certificate, signed
//! by the CA). [`ensure`] makes the server certificate again when it is
//! missing, has less than [`RENEW_BEFORE_DAYS`] left, does not name every
//! host clients dial, or was not signed by the CA in the directory.
//! Files are written to a temporary name and renamed, so a reload
//! (SIGHUP) never reads half a file.

use anyhow::{anyhow, Context, Result};
use metadata_tier::net::tls::CertFiles;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PublicKeyData,
};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration as StdDuration, SystemTime, UNIX_EPOCH};
use time::{Duration, OffsetDateTime};
use tokio_rustls::rustls::client::danger::ServerCertVerifier;
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::RootCertStore;

/// How long the CA is valid.
const CA_DAYS: i64 = 3650;
/// How long a server certificate is valid.
const SERVER_DAYS: i64 = 90;
/// A server certificate with less than this left is made again at start.
pub const RENEW_BEFORE_DAYS: u64 = 30;
/// The names every server certificate carries: what a local client dials.
const LOCAL_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// A directory's CA and server certificate.
#[derive(Debug, Clone)]
pub struct DevTls {
    /// The CA certificate clients trust (`NODE_EXTRA_CA_CERTS`,
    /// `AWS_CA_BUNDLE`, `MANTA_CA_FILE`).
    pub ca_file: PathBuf,
    /// The server's certificate and key.
    pub files: CertFiles,
}

impl DevTls {
    /// The file names under `dir`, whether or not they exist yet.
    pub fn at(dir: &Path) -> DevTls {
        DevTls {
            ca_file: dir.join("ca.pem"),
            files: CertFiles {
                cert: dir.join("server.pem"),
                key: dir.join("server-key.pem"),
            },
        }
    }

    fn ca_key(&self) -> PathBuf {
        self.ca_file.with_file_name("ca-key.pem")
    }
}

/// Makes or reuses the CA under `dir`, and a server certificate naming
/// `localhost`, `127.0.0.1`, `::1` and `hosts`.
///
/// # Errors
/// I/O errors; certificate generation failing.
pub fn ensure(dir: &Path, hosts: &[String]) -> Result<DevTls> {
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    let tls = DevTls::at(dir);
    let names = server_names(hosts);
    let renew_at = SystemTime::now() + StdDuration::from_secs(RENEW_BEFORE_DAYS * 86_400);
    let issuer = match load_ca(&tls) {
        Ok(issuer) => issuer,
        Err(e) => {
            if tls.ca_file.exists() {
                tracing::warn!(error = %format!("{e:#}"), "making a new dev CA: clients must trust the new {}", tls.ca_file.display());
            }
            make_ca(&tls)?
        }
    };
    if let Err(why) = check_server(&tls, &names, renew_at) {
        tracing::info!(reason = %format!("{why:#}"), "issuing a new dev server certificate");
        issue(&issuer, &names, &tls.files)?;
        // A CA whose two files do not belong together signs certificates
        // that do not chain to ca.pem: start a new one.
        if let Err(e) = check_server(&tls, &names, SystemTime::now()) {
            tracing::warn!(error = %format!("{e:#}"), "making a new dev CA: clients must trust the new {}", tls.ca_file.display());
            issue(&make_ca(&tls)?, &names, &tls.files)?;
            check_server(&tls, &names, SystemTime::now())?;
        }
    }
    Ok(tls)
}

/// Signs a new server certificate (a new key) for `hosts` with the CA
/// under `dir`, written to `out`: how a test makes a second certificate
/// for a reload.
///
/// # Errors
/// No CA under `dir`; I/O errors.
pub fn issue_server(dir: &Path, hosts: &[String], out: &CertFiles) -> Result<()> {
    let issuer = load_ca(&DevTls::at(dir))?;
    issue(&issuer, &server_names(hosts), out)
}

fn server_names(hosts: &[String]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for n in LOCAL_NAMES
        .iter()
        .map(|s| s.to_string())
        .chain(hosts.iter().cloned())
    {
        if !n.is_empty() && !names.iter().any(|m| m.eq_ignore_ascii_case(&n)) {
            names.push(n);
        }
    }
    names
}

type CaIssuer = Issuer<'static, KeyPair>;

/// The CA's parameters, all derived from its key: the name carries a
/// digest of the public key, so the issuer rebuilt from `ca-key.pem` on a
/// later start names exactly the subject of `ca.pem` (certificates chain
/// by name) without parsing it.
fn ca_params(key: &KeyPair) -> CertificateParams {
    let digest = hex::encode(&Sha256::digest(key.subject_public_key_info())[..8]);
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, format!("mantad dev CA {digest}"));
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

fn load_ca(tls: &DevTls) -> Result<CaIssuer> {
    let key = KeyPair::from_pem(&read(&tls.ca_key())?)
        .with_context(|| format!("parse {}", tls.ca_key().display()))?;
    if !tls.ca_file.exists() {
        return Err(anyhow!("{} is missing", tls.ca_file.display()));
    }
    Ok(Issuer::new(ca_params(&key), key))
}

fn make_ca(tls: &DevTls) -> Result<CaIssuer> {
    let key = KeyPair::generate().context("generate the CA key")?;
    let mut params = ca_params(&key);
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(CA_DAYS);
    let cert = params
        .self_signed(&key)
        .context("sign the CA certificate")?;
    write_file(&tls.ca_key(), key.serialize_pem().as_bytes(), 0o600)?;
    write_file(&tls.ca_file, cert.pem().as_bytes(), 0o644)?;
    Ok(Issuer::new(params, key))
}

fn issue(issuer: &CaIssuer, names: &[String], out: &CertFiles) -> Result<()> {
    let key = KeyPair::generate().context("generate the server key")?;
    let mut params = CertificateParams::new(names.to_vec()).context("server certificate names")?;
    params.distinguished_name.push(
        DnType::CommonName,
        names.first().map_or("localhost", String::as_str),
    );
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(SERVER_DAYS);
    let cert = params
        .signed_by(&key, issuer)
        .context("sign the server certificate")?;
    // Key first: a reload between the two renames sees a mismatched pair,
    // refuses it and keeps the old one; the next reload takes both.
    write_file(&out.key, key.serialize_pem().as_bytes(), 0o600)?;
    write_file(&out.cert, cert.pem().as_bytes(), 0o644)
}

/// Whether the server certificate is one clients trusting `ca.pem` accept
/// for every name at `at`, with its key beside it; why not, if not.
fn check_server(tls: &DevTls, names: &[String], at: SystemTime) -> Result<()> {
    let provider = Arc::new(ring::default_provider());
    let ca = CertificateDer::from_pem_file(&tls.ca_file)
        .with_context(|| format!("read {}", tls.ca_file.display()))?;
    let mut roots = RootCertStore::empty();
    roots
        .add(ca)
        .with_context(|| format!("use {} as a root", tls.ca_file.display()))?;
    let chain = CertificateDer::pem_file_iter(&tls.files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("read {}", tls.files.cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(&tls.files.key)
        .with_context(|| format!("read {}", tls.files.key.display()))?;
    let leaf = chain
        .first()
        .cloned()
        .ok_or_else(|| anyhow!("{} holds no certificate", tls.files.cert.display()))?;
    CertifiedKey::from_der(chain, key, &provider)
        .with_context(|| format!("{} with its key", tls.files.cert.display()))?;
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .context("certificate verifier")?;
    let at = UnixTime::since_unix_epoch(at.duration_since(UNIX_EPOCH).unwrap_or_default());
    for name in names {
        let server = ServerName::try_from(name.clone())
            .with_context(|| format!("{name:?} is no host name"))?;
        verifier
            .verify_server_cert(&leaf, &[], &server, &[], at)
            .with_context(|| format!("{} for {name}", tls.files.cert.display()))?;
    }
    Ok(())
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))
}

/// Writes `data` to a temporary file beside `path` with `mode`, then
/// renames it into place.
fn write_file(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .with_context(|| format!("create {}", tmp.display()))?;
    f.write_all(data)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("rename {} into place", path.display()))
}

#[cfg(test)]
mod tests;
