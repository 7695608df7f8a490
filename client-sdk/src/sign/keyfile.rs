//! Private keys from files: OpenSSH format (RSA, ECDSA P-256/P-384/P-521,
//! Ed25519) and PKCS#1 PEM RSA. Encrypted keys are skipped, as node-manta
//! skips them without an agent.

use super::{algorithm_for, Fingerprint, KeyKind, Signer};
use crate::error::{Error, Result};
use ssh_key::private::{EcdsaKeypair, KeypairData};
use ssh_key::public::KeyData;
use std::path::{Path, PathBuf};

/// Files in `dir` that may be private keys.
fn candidates(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !name.ends_with(".pub")
                && !matches!(
                    name,
                    "known_hosts" | "known_hosts.old" | "config" | "authorized_keys"
                )
        })
        .collect();
    out.sort();
    out
}

/// Public key blob from `<file>.pub`, if present.
fn pub_blob(key_file: &Path) -> Option<Vec<u8>> {
    let mut p = key_file.as_os_str().to_owned();
    p.push(".pub");
    let text = std::fs::read_to_string(PathBuf::from(p)).ok()?;
    let pk = ssh_key::PublicKey::from_openssh(text.trim()).ok()?;
    pk.to_bytes().ok()
}

/// The key in `dir` whose fingerprint is `fp`.
pub fn find(dir: &Path, fp: &Fingerprint) -> Result<Option<Signer>> {
    for file in candidates(dir) {
        if let Some(blob) = pub_blob(&file) {
            if fp.matches(&blob) {
                return load(&file).map(Some);
            }
            continue;
        }
        if let Ok(s) = load(&file) {
            if fp.matches(&s.blob) {
                return Ok(Some(s));
            }
        }
    }
    Ok(None)
}

/// The first usable `id_*` key in `dir`.
pub fn first(dir: &Path) -> Result<Option<Signer>> {
    for name in ["id_rsa", "id_ecdsa", "id_ed25519"] {
        if let Ok(s) = load(&dir.join(name)) {
            return Ok(Some(s));
        }
    }
    Ok(None)
}

/// Loads one private key file.
pub fn load(path: &Path) -> Result<Signer> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Key(format!("read {}: {e}", path.display())))?;
    parse(&text, &path.display().to_string())
}

/// A private key from its file's text; `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<Signer> {
    if text.contains("BEGIN RSA PRIVATE KEY") {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        let key = rsa::RsaPrivateKey::from_pkcs1_pem(text)
            .map_err(|e| Error::Key(format!("{origin}: {e}")))?;
        return rsa_signer(key);
    }
    let key = ssh_key::PrivateKey::from_openssh(text)
        .map_err(|e| Error::Key(format!("{origin}: {e}")))?;
    if key.is_encrypted() {
        return Err(Error::Key(format!("{origin} is encrypted; use ssh-agent")));
    }
    from_keypair(key.key_data())
}

fn key_err(e: impl std::fmt::Display) -> Error {
    Error::Key(e.to_string())
}

fn from_keypair(data: &KeypairData) -> Result<Signer> {
    let public = KeyData::try_from(data).map_err(key_err)?;
    let blob = ssh_key::PublicKey::from(public.clone())
        .to_bytes()
        .map_err(key_err)?;
    let kind = match data {
        KeypairData::Rsa(kp) => {
            let key = rsa_key(kp)?;
            KeyKind::Rsa(Box::new(rsa::pkcs1v15::SigningKey::new(key)))
        }
        KeypairData::Ecdsa(EcdsaKeypair::NistP256 { private, .. }) => {
            KeyKind::P256(p256::ecdsa::SigningKey::from_slice(private.as_slice()).map_err(key_err)?)
        }
        KeypairData::Ecdsa(EcdsaKeypair::NistP384 { private, .. }) => {
            KeyKind::P384(p384::ecdsa::SigningKey::from_slice(private.as_slice()).map_err(key_err)?)
        }
        KeypairData::Ecdsa(EcdsaKeypair::NistP521 { private, .. }) => KeyKind::P521(Box::new(
            p521::ecdsa::SigningKey::from_slice(private.as_slice()).map_err(key_err)?,
        )),
        KeypairData::Ed25519(kp) => KeyKind::Ed25519(Box::new(
            ed25519_dalek::SigningKey::from_bytes(&kp.private.to_bytes()),
        )),
        _ => {
            return Err(Error::Key(format!(
                "unsupported key type {}",
                public.algorithm()
            )))
        }
    };
    Ok(Signer {
        kind,
        algorithm: algorithm_for(public.algorithm().as_str())?,
        fingerprint: super::md5_fingerprint(&blob),
        blob,
    })
}

/// ssh-key 0.6.7's own conversion passes `p` twice instead of `p, q`.
fn rsa_key(kp: &ssh_key::private::RsaKeypair) -> Result<rsa::RsaPrivateKey> {
    let big = |m: &ssh_key::Mpint| {
        m.as_positive_bytes()
            .map(rsa::BigUint::from_bytes_be)
            .ok_or_else(|| Error::Key("negative RSA component".into()))
    };
    let key = rsa::RsaPrivateKey::from_components(
        big(&kp.public.n)?,
        big(&kp.public.e)?,
        big(&kp.private.d)?,
        vec![big(&kp.private.p)?, big(&kp.private.q)?],
    )
    .map_err(key_err)?;
    Ok(key)
}

fn rsa_signer(key: rsa::RsaPrivateKey) -> Result<Signer> {
    let public = ssh_key::public::RsaPublicKey::try_from(key.to_public_key()).map_err(key_err)?;
    let blob = ssh_key::PublicKey::from(KeyData::Rsa(public))
        .to_bytes()
        .map_err(key_err)?;
    Ok(Signer {
        kind: KeyKind::Rsa(Box::new(rsa::pkcs1v15::SigningKey::new(key))),
        algorithm: "rsa-sha256",
        fingerprint: super::md5_fingerprint(&blob),
        blob,
    })
}
