//! S3 secret keys at rest. SigV4 needs the plain secret on the server (the
//! signature is an HMAC keyed by it), so secrets cannot be stored hashed.
//! Instead each is sealed with ChaCha20-Poly1305 under a 32-byte server key
//! kept outside the metadata tier (a file named in the frontend config;
//! `mantad dev` keeps it in `<data>/secrets/s3.key`). A copy of the metadata
//! alone therefore hands out no working secrets. The access key id is the
//! associated data, so a sealed secret cannot be moved to another key.

use crate::error::{Error, Result};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use std::path::Path;

const NONCE_LEN: usize = 12;

/// The server's S3 sealing key.
#[derive(Clone)]
pub struct SecretBox {
    key: [u8; 32],
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    pub fn new(key: [u8; 32]) -> Self {
        SecretBox { key }
    }

    /// Reads the key file (64 hex digits), creating it (mode 0600) with a
    /// fresh key when `create` is set and it does not exist.
    ///
    /// # Errors
    /// I/O errors; a file that is not 64 hex digits.
    pub fn load(path: &Path, create: bool) -> anyhow::Result<SecretBox> {
        use anyhow::Context;
        if create && !path.exists() {
            let mut key = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut key);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("create {}", dir.display()))?;
            }
            write_private(path, hex::encode(key).as_bytes())?;
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("read S3 key file {}", path.display()))?;
        let bytes = hex::decode(text.trim())
            .ok()
            .filter(|b| b.len() == 32)
            .with_context(|| format!("{} must hold 64 hex digits", path.display()))?;
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes);
        Ok(SecretBox { key })
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(&self.key))
    }

    /// base64(nonce || ciphertext+tag) of `secret`, bound to `access_key_id`.
    ///
    /// # Errors
    /// Never in practice (the AEAD cannot fail to encrypt).
    pub(crate) fn seal(&self, access_key_id: &str, secret: &str) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: access_key_id.as_bytes(),
                },
            )
            .map_err(|_| Error::Internal("seal S3 secret".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(base64::engine::general_purpose::STANDARD.encode(out))
    }

    /// The secret sealed by [`SecretBox::seal`].
    ///
    /// # Errors
    /// `Internal` when it was sealed with another key or altered.
    pub fn open(&self, access_key_id: &str, sealed: &str) -> Result<String> {
        let bad = || Error::Internal(format!("cannot open the S3 secret of {access_key_id}"));
        let raw = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(|_| bad())?;
        if raw.len() < NONCE_LEN {
            return Err(bad());
        }
        let (nonce, ct) = raw.split_at(NONCE_LEN);
        let pt = self
            .cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: access_key_id.as_bytes(),
                },
            )
            .map_err(|_| bad())?;
        String::from_utf8(pt).map_err(|_| bad())
    }
}

/// Writes a file only its owner can read.
///
/// # Errors
/// I/O errors.
pub fn write_private(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context;
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("create {}", path.display()))?;
    f.write_all(data)
        .with_context(|| format!("write {}", path.display()))
}

/// A fresh access key pair as AWS shapes them: a 20-character id starting
/// `AKIA` and a 40-character secret.
pub(crate) fn new_access_key() -> (String, String) {
    const ID: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const SECRET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut rng = rand::rngs::OsRng;
    let mut pick = |set: &[u8], n: usize| -> String {
        (0..n)
            .map(|_| set[(rng.next_u32() as usize) % set.len()] as char)
            .collect()
    };
    let id = format!("AKIA{}", pick(ID, 16));
    let secret = pick(SECRET, 40);
    (id, secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_roundtrip_and_binding() {
        let b = SecretBox::new([7; 32]);
        let (id, secret) = new_access_key();
        assert_eq!(id.len(), 20);
        assert_eq!(secret.len(), 40);
        let sealed = b.seal(&id, &secret).unwrap();
        assert!(!sealed.contains(&secret));
        assert_eq!(b.open(&id, &sealed).unwrap(), secret);
        assert!(b.open("AKIAOTHER", &sealed).is_err());
        assert!(SecretBox::new([8; 32]).open(&id, &sealed).is_err());
    }

    #[test]
    fn key_file_is_created_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s").join("s3.key");
        let a = SecretBox::load(&p, true).unwrap();
        let b = SecretBox::load(&p, false).unwrap();
        assert_eq!(a.key, b.key);
        let sealed = a.seal("AKIA1", "x").unwrap();
        assert_eq!(b.open("AKIA1", &sealed).unwrap(), "x");
    }
}
