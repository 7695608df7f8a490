//! HTTP Signature request signing as node-manta does it: a key from
//! `ssh-agent` or `~/.ssh`, chosen by `MANTA_KEY_ID`'s fingerprint (MD5 or
//! SHA256 form), and `Authorization: Signature keyId="/LOGIN/keys/MD5FP",
//! algorithm="…",headers="date",signature="…"` over `date: <Date>`.
//!
//! The protocol primitives here ([`signing_string`], the fingerprints) are
//! also what the frontend verifies with, so client and server cannot drift;
//! both sides test them against published vectors rather than each other.

mod agent;
mod fingerprint;
mod keyfile;
mod signing_string;

pub use fingerprint::{md5_fingerprint, sha256_fingerprint, Fingerprint};
pub use signing_string::{signing_string, MissingHeader};

use crate::error::{Error, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use std::path::{Path, PathBuf};

/// The private half of a signing key.
enum KeyKind {
    Rsa(Box<rsa::pkcs1v15::SigningKey<sha2::Sha256>>),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(Box<p521::ecdsa::SigningKey>),
    Ed25519(Box<ed25519_dalek::SigningKey>),
    /// A key held by ssh-agent: its socket and public key blob.
    Agent {
        socket: PathBuf,
        blob: Vec<u8>,
    },
}

/// Signs requests with one SSH key.
pub struct Signer {
    kind: KeyKind,
    algorithm: &'static str,
    /// Lowercase colon-separated MD5 fingerprint of the public key.
    fingerprint: String,
    /// Public key in SSH wire encoding.
    blob: Vec<u8>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("algorithm", &self.algorithm)
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

/// The algorithm name node-manta uses for a public key of this SSH type.
fn algorithm_for(ssh_type: &str) -> Result<&'static str> {
    Ok(match ssh_type {
        "ssh-rsa" => "rsa-sha256",
        "ecdsa-sha2-nistp256" => "ecdsa-sha256",
        "ecdsa-sha2-nistp384" => "ecdsa-sha384",
        "ecdsa-sha2-nistp521" => "ecdsa-sha512",
        "ssh-ed25519" => "ed25519-sha512",
        other => return Err(Error::Key(format!("unsupported key type {other}"))),
    })
}

impl Signer {
    /// Finds the key: with a fingerprint, the agent's or a `~/.ssh` file's
    /// key that matches it; without, the first usable `~/.ssh/id_*`.
    ///
    /// # Errors
    /// `Key` when no key matches or the key cannot be read.
    pub fn discover(key_id: Option<&str>) -> Result<Signer> {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        let agent = std::env::var_os("SSH_AUTH_SOCK").map(PathBuf::from);
        Signer::discover_in(&home.join(".ssh"), agent.as_deref(), key_id)
    }

    /// [`Signer::discover`] with the key directory and agent socket given.
    ///
    /// # Errors
    /// `Key` when no key matches or the key cannot be read.
    pub fn discover_in(
        ssh_dir: &Path,
        agent: Option<&Path>,
        key_id: Option<&str>,
    ) -> Result<Signer> {
        match key_id {
            Some(id) => {
                let fp = Fingerprint::parse(id)?;
                if let Some(sock) = agent {
                    if let Ok(Some(s)) = agent::find(sock, &fp) {
                        return Ok(s);
                    }
                }
                keyfile::find(ssh_dir, &fp)?.ok_or_else(|| {
                    Error::Key(format!(
                        "no key matching {id} in ssh-agent or {}",
                        ssh_dir.display()
                    ))
                })
            }
            None => keyfile::first(ssh_dir)?.ok_or_else(|| {
                Error::Key(format!("no usable private key in {}", ssh_dir.display()))
            }),
        }
    }

    /// Reads an unencrypted private key file (OpenSSH or PKCS#1 PEM RSA).
    ///
    /// # Errors
    /// `Key` when the file cannot be read or parsed.
    pub fn from_file(path: &Path) -> Result<Signer> {
        keyfile::load(path)
    }

    /// A signer from the text of an unencrypted private key file (OpenSSH
    /// or PKCS#1 PEM RSA), e.g. one generated in memory.
    ///
    /// # Errors
    /// `Key` when the text is not a supported, unencrypted private key.
    pub fn from_openssh(text: &str) -> Result<Signer> {
        keyfile::parse(text, "private key")
    }

    /// The public key as an OpenSSH line (`ssh-ed25519 AAAA…`), as
    /// `mantad account add-key` takes it.
    ///
    /// # Errors
    /// `Key` when the public key cannot be encoded.
    pub fn public_openssh(&self) -> Result<String> {
        ssh_key::PublicKey::from_bytes(&self.blob)
            .and_then(|k| k.to_openssh())
            .map_err(|e| Error::Key(format!("encode public key {}: {e}", self.fingerprint)))
    }

    /// Whether the signer holds its key itself or asks ssh-agent.
    pub fn uses_agent(&self) -> bool {
        matches!(self.kind, KeyKind::Agent { .. })
    }

    /// `rsa-sha256`, `ecdsa-sha256`, `ed25519-sha512`...
    pub fn algorithm(&self) -> &'static str {
        self.algorithm
    }

    /// MD5 fingerprint, lowercase hex pairs joined by `:`.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The keyId: `/LOGIN/keys/FP` or `/LOGIN/SUBUSER/keys/FP`.
    pub fn key_id(&self, user: &str, subuser: Option<&str>) -> String {
        match subuser {
            Some(s) => format!("/{user}/{s}/keys/{}", self.fingerprint),
            None => format!("/{user}/keys/{}", self.fingerprint),
        }
    }

    /// Signs `data`; returns the base64 signature (RSA PKCS#1 v1.5, ECDSA
    /// ASN.1 DER, Ed25519 raw 64 bytes).
    ///
    /// # Errors
    /// `Key` when ssh-agent refuses or is unreachable.
    pub fn sign(&self, data: &[u8]) -> Result<String> {
        use rsa::signature::{SignatureEncoding, Signer as _};
        let raw = match &self.kind {
            KeyKind::Rsa(k) => k.sign(data).to_vec(),
            KeyKind::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign(data);
                s.to_der().as_bytes().to_vec()
            }
            KeyKind::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign(data);
                s.to_der().as_bytes().to_vec()
            }
            KeyKind::P521(k) => {
                // ecdsa-sha512: P-521 over the SHA-512 of the data.
                use p521::ecdsa::signature::hazmat::PrehashSigner;
                use sha2::Digest;
                let s: p521::ecdsa::Signature = k
                    .sign_prehash(&sha2::Sha512::digest(data))
                    .map_err(|e| Error::Key(format!("sign with P-521 key: {e}")))?;
                s.to_der().as_bytes().to_vec()
            }
            KeyKind::Ed25519(k) => k.sign(data).to_bytes().to_vec(),
            KeyKind::Agent { socket, blob } => agent::sign(socket, blob, data)?,
        };
        Ok(B64.encode(raw))
    }

    /// The `Authorization` header value for a request dated `date`,
    /// signing `date` only, as node-manta does.
    ///
    /// # Errors
    /// As [`Signer::sign`].
    pub fn authorization(&self, key_id: &str, date: &str) -> Result<String> {
        self.authorization_over(key_id, &["date"], "", "", |name| {
            (name == "date").then_some(date)
        })
    }

    /// The `Authorization` header value signing the headers `names` (see
    /// [`signing_string`]) of a request `method target`.
    ///
    /// # Errors
    /// `Key` when a listed header is missing; as [`Signer::sign`].
    pub fn authorization_over<'a>(
        &self,
        key_id: &str,
        names: &[&str],
        method: &str,
        target: &str,
        header: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<String> {
        let data = signing_string(names, method, target, header)
            .map_err(|e| Error::Key(format!("signing {method} {target}: {e}")))?;
        let sig = self.sign(data.as_bytes())?;
        Ok(format!(
            "Signature keyId=\"{key_id}\",algorithm=\"{}\",headers=\"{}\",signature=\"{sig}\"",
            self.algorithm,
            names.join(" ")
        ))
    }

    /// `(Date, Authorization)` for a request sent now, signed as `key_id`.
    ///
    /// # Errors
    /// As [`Signer::sign`].
    pub fn headers_now(&self, key_id: &str) -> Result<(String, String)> {
        let date = httpdate::fmt_http_date(std::time::SystemTime::now());
        let auth = self.authorization(key_id, &date)?;
        Ok((date, auth))
    }
}

#[cfg(test)]
mod tests;
