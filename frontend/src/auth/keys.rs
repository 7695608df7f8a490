//! SSH public keys: parsing the OpenSSH form, fingerprints (MD5 `aa:bb:..`
//! and `SHA256:...`), and verifying a signature made with the private half
//! as node-manta (sshpk) makes it: RSA PKCS#1 v1.5, ECDSA as ASN.1 DER
//! `(r, s)`, Ed25519 raw 64 bytes.
//!
//! The fingerprints are `client_sdk::sign`'s, the ones clients match
//! `MANTA_KEY_ID` with; the tests pin them to OpenSSH's output.

use crate::error::{Error, Result};
use crate::records::SshKeyRecord;
use client_sdk::sign::{md5_fingerprint, sha256_fingerprint};
use sha2::Digest;
use ssh_key::public::{EcdsaPublicKey, KeyData};
use ssh_key::PublicKey;

/// The hash half of an HTTP Signature algorithm (`rsa-sha256` → Sha256).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

/// The key half of an HTTP Signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Rsa,
    Ecdsa,
    Ed25519,
}

/// A parsed `<keytype>-<hash>` algorithm name, case-insensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Algorithm {
    pub key: KeyType,
    pub hash: Hash,
}

impl Algorithm {
    /// Muskie's allowed set (less DSA): RSA-SHA1/256/384/512,
    /// ECDSA-SHA256/384/512, ED25519-SHA512.
    ///
    /// # Errors
    /// `InvalidAlgorithm` for anything else.
    pub fn parse(s: &str) -> Result<Algorithm> {
        let upper = s.to_ascii_uppercase();
        let (key, hash) = upper
            .split_once('-')
            .ok_or_else(|| Error::InvalidAlgorithm(s.to_string()))?;
        let hash = match hash {
            "SHA1" => Hash::Sha1,
            "SHA256" => Hash::Sha256,
            "SHA384" => Hash::Sha384,
            "SHA512" => Hash::Sha512,
            _ => return Err(Error::InvalidAlgorithm(s.to_string())),
        };
        let key = match key {
            "RSA" => KeyType::Rsa,
            "ECDSA" if hash != Hash::Sha1 => KeyType::Ecdsa,
            "ED25519" if hash == Hash::Sha512 => KeyType::Ed25519,
            _ => return Err(Error::InvalidAlgorithm(s.to_string())),
        };
        Ok(Algorithm { key, hash })
    }
}

/// Parses an OpenSSH public key line and computes its fingerprints.
///
/// # Errors
/// `InvalidArgument` when the text is not a supported public key.
pub fn parse_public(openssh: &str) -> Result<SshKeyRecord> {
    let text = openssh.trim();
    let key = PublicKey::from_openssh(text)
        .map_err(|e| Error::InvalidArgument(format!("not an SSH public key: {e}")))?;
    match key.key_data() {
        KeyData::Rsa(_) | KeyData::Ecdsa(_) | KeyData::Ed25519(_) => {}
        _ => {
            return Err(Error::InvalidArgument(format!(
                "unsupported key type {} (use RSA, ECDSA or Ed25519)",
                key.algorithm()
            )))
        }
    }
    let blob = key
        .to_bytes()
        .map_err(|e| Error::Internal(format!("encode public key {text:?}: {e}")))?;
    Ok(SshKeyRecord {
        openssh: text.to_string(),
        // `aa:bb:...` as `ssh-keygen -E md5 -l` prints it, without `MD5:`.
        md5: md5_fingerprint(&blob),
        sha256: format!("SHA256:{}", sha256_fingerprint(&blob)),
        created_ms: crate::time::now_ms(),
    })
}

/// Checks `sig` over `data` with the public key of `rec`.
///
/// # Errors
/// `InvalidAlgorithm` when the algorithm does not fit the key;
/// `InvalidSignature` when the signature does not verify.
pub fn verify(rec: &SshKeyRecord, alg: Algorithm, data: &[u8], sig: &[u8]) -> Result<()> {
    let key = PublicKey::from_openssh(&rec.openssh)
        .map_err(|e| Error::Internal(format!("stored key {}: {e}", rec.md5)))?;
    let ok = match (key.key_data(), alg.key) {
        (KeyData::Rsa(k), KeyType::Rsa) => verify_rsa(k, alg.hash, data, sig),
        (KeyData::Ecdsa(k), KeyType::Ecdsa) => verify_ecdsa(k, alg.hash, data, sig),
        (KeyData::Ed25519(k), KeyType::Ed25519) => verify_ed25519(&k.0, data, sig),
        _ => {
            return Err(Error::InvalidAlgorithm(format!(
                "{:?}-{:?} does not fit key {}",
                alg.key,
                alg.hash,
                key.algorithm()
            )))
        }
    };
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidSignature)
    }
}

fn verify_rsa(k: &ssh_key::public::RsaPublicKey, hash: Hash, data: &[u8], sig: &[u8]) -> bool {
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier;
    let Ok(pk) = rsa::RsaPublicKey::try_from(k) else {
        return false;
    };
    let Ok(sig) = Signature::try_from(sig) else {
        return false;
    };
    match hash {
        Hash::Sha1 => VerifyingKey::<sha1::Sha1>::new(pk).verify(data, &sig),
        Hash::Sha256 => VerifyingKey::<sha2::Sha256>::new(pk).verify(data, &sig),
        Hash::Sha384 => VerifyingKey::<sha2::Sha384>::new(pk).verify(data, &sig),
        Hash::Sha512 => VerifyingKey::<sha2::Sha512>::new(pk).verify(data, &sig),
    }
    .is_ok()
}

fn digest(hash: Hash, data: &[u8]) -> Vec<u8> {
    match hash {
        Hash::Sha1 => sha1::Sha1::digest(data).to_vec(),
        Hash::Sha256 => sha2::Sha256::digest(data).to_vec(),
        Hash::Sha384 => sha2::Sha384::digest(data).to_vec(),
        Hash::Sha512 => sha2::Sha512::digest(data).to_vec(),
    }
}

/// ECDSA over the message hashed with the algorithm's hash (sshpk pairs the
/// hash with the curve, but the wire names it, so honour what it names).
fn verify_ecdsa(k: &EcdsaPublicKey, hash: Hash, data: &[u8], sig: &[u8]) -> bool {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    let prehash = digest(hash, data);
    let point = k.as_sec1_bytes();
    match k {
        EcdsaPublicKey::NistP256(_) => {
            let (Ok(vk), Some(s)) = (
                p256::ecdsa::VerifyingKey::from_sec1_bytes(point),
                ecdsa_sig::<p256::ecdsa::Signature>(sig, 32),
            ) else {
                return false;
            };
            vk.verify_prehash(&prehash, &s).is_ok()
        }
        EcdsaPublicKey::NistP384(_) => {
            let (Ok(vk), Some(s)) = (
                p384::ecdsa::VerifyingKey::from_sec1_bytes(point),
                ecdsa_sig::<p384::ecdsa::Signature>(sig, 48),
            ) else {
                return false;
            };
            vk.verify_prehash(&prehash, &s).is_ok()
        }
        EcdsaPublicKey::NistP521(_) => {
            let (Ok(vk), Some(s)) = (
                p521::ecdsa::VerifyingKey::from_sec1_bytes(point),
                ecdsa_sig::<p521::ecdsa::Signature>(sig, 66),
            ) else {
                return false;
            };
            vk.verify_prehash(&prehash, &s).is_ok()
        }
    }
}

/// A DER `(r, s)` signature (what sshpk sends), or the raw `r || s` form.
fn ecdsa_sig<S: EcdsaSig>(sig: &[u8], field: usize) -> Option<S> {
    S::from_der_bytes(sig).or_else(|| {
        if sig.len() == 2 * field {
            S::from_raw(sig)
        } else {
            None
        }
    })
}

trait EcdsaSig: Sized {
    fn from_der_bytes(b: &[u8]) -> Option<Self>;
    fn from_raw(b: &[u8]) -> Option<Self>;
}

macro_rules! ecdsa_sig_impl {
    ($t:ty) => {
        impl EcdsaSig for $t {
            fn from_der_bytes(b: &[u8]) -> Option<Self> {
                <$t>::from_der(b).ok()
            }
            fn from_raw(b: &[u8]) -> Option<Self> {
                <$t>::from_slice(b).ok()
            }
        }
    };
}
ecdsa_sig_impl!(p256::ecdsa::Signature);
ecdsa_sig_impl!(p384::ecdsa::Signature);
ecdsa_sig_impl!(p521::ecdsa::Signature);

fn verify_ed25519(key: &[u8; 32], data: &[u8], sig: &[u8]) -> bool {
    let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(key) else {
        return false;
    };
    let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
        return false;
    };
    vk.verify_strict(data, &sig).is_ok()
}

/// A fresh Ed25519 key pair: the OpenSSH private key file text (which
/// node-manta's sshpk reads) and the public key line.
///
/// # Errors
/// Encoding failures.
pub fn generate_ed25519(comment: &str) -> Result<(String, String)> {
    let mut rng = rand::rngs::OsRng;
    let mut key = ssh_key::PrivateKey::random(&mut rng, ssh_key::Algorithm::Ed25519)
        .map_err(|e| Error::Internal(format!("generate key: {e}")))?;
    key.set_comment(comment);
    let private = key
        .to_openssh(ssh_key::LineEnding::LF)
        .map_err(|e| Error::Internal(format!("encode private key: {e}")))?;
    let public = key
        .public_key()
        .to_openssh()
        .map_err(|e| Error::Internal(format!("encode public key: {e}")))?;
    Ok((private.to_string(), public))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithms() {
        let a = Algorithm::parse("rsa-sha256").unwrap();
        assert_eq!((a.key, a.hash), (KeyType::Rsa, Hash::Sha256));
        assert!(Algorithm::parse("ED25519-SHA512").is_ok());
        assert!(Algorithm::parse("ecdsa-sha1").is_err());
        assert!(Algorithm::parse("dsa-sha1").is_err());
        assert!(Algorithm::parse("hmac-sha256").is_err());
    }

    #[test]
    fn rsa_with_each_hash_and_mismatched_algorithms() {
        use rsa::signature::{SignatureEncoding, Signer};
        let key = ssh_key::PrivateKey::random(
            &mut rand::rngs::OsRng,
            ssh_key::Algorithm::Rsa { hash: None },
        )
        .unwrap();
        let rec = parse_public(&key.public_key().to_openssh().unwrap()).unwrap();
        let signer =
            client_sdk::Signer::from_openssh(&key.to_openssh(ssh_key::LineEnding::LF).unwrap())
                .unwrap();
        let ssh_key::private::KeypairData::Rsa(kp) = key.key_data() else {
            panic!("not rsa")
        };
        let pk = rsa::RsaPrivateKey::from_components(
            rsa::BigUint::from_bytes_be(kp.public.n.as_positive_bytes().unwrap()),
            rsa::BigUint::from_bytes_be(kp.public.e.as_positive_bytes().unwrap()),
            rsa::BigUint::from_bytes_be(kp.private.d.as_positive_bytes().unwrap()),
            vec![
                rsa::BigUint::from_bytes_be(kp.private.p.as_positive_bytes().unwrap()),
                rsa::BigUint::from_bytes_be(kp.private.q.as_positive_bytes().unwrap()),
            ],
        )
        .unwrap();
        let msg = b"date: Thu, 29 Nov 2012 23:48:00 GMT";
        let sha1 = rsa::pkcs1v15::SigningKey::<sha1::Sha1>::new(pk.clone()).sign(msg);
        let sha512 = rsa::pkcs1v15::SigningKey::<sha2::Sha512>::new(pk).sign(msg);
        let alg = |s: &str| Algorithm::parse(s).unwrap();
        verify(&rec, alg("rsa-sha1"), msg, &sha1.to_vec()).unwrap();
        verify(&rec, alg("RSA-SHA512"), msg, &sha512.to_vec()).unwrap();
        assert!(matches!(
            verify(&rec, alg("rsa-sha256"), msg, &sha1.to_vec()),
            Err(Error::InvalidSignature)
        ));
        assert!(matches!(
            verify(&rec, alg("ed25519-sha512"), msg, &sha1.to_vec()),
            Err(Error::InvalidAlgorithm(_))
        ));
        // What the signer makes (rsa-sha256) verifies.
        let b64 = signer.sign(msg).unwrap();
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        verify(&rec, alg(signer.algorithm()), msg, &raw).unwrap();
    }

    /// The `ssh-key` crate's example keys: SHA-256 as its test suite
    /// publishes them, MD5 as OpenSSH's `ssh-keygen -l -E md5` prints them.
    #[test]
    fn known_fingerprints() {
        let cases = [
            (
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILM+rvN+ot98qgEN796jTiQfZfG1KaT0PtFDJ/XFSqti user@example.com",
                "ae:6f:ba:1b:70:2c:ae:c7:5c:ab:6e:4d:5e:d4:c7:23",
                "SHA256:UCUiLr7Pjs9wFFJMDByLgc3NrtdU344OgUM45wZPcIQ",
            ),
            (
                "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHwf2HMM5TRXvo2SQJjsNkiDD5KqiiNjrGVv3UUh+mMT5RHxiRtOnlqvjhQtBq0VpmpCV/PwUdhOig4vkbqAcEc= user@example.com",
                "02:24:b6:70:00:71:04:22:6e:84:c2:87:fa:cc:1c:ff",
                "SHA256:JQ6FV0rf7qqJHZqIj4zNH8eV0oB8KLKh9Pph3FTD98g",
            ),
        ];
        for (line, md5, sha256) in cases {
            let rec = parse_public(line).unwrap();
            assert_eq!((rec.md5.as_str(), rec.sha256.as_str()), (md5, sha256));
        }
    }

    #[test]
    fn generated_key_fingerprints() {
        let (_, public) = generate_ed25519("t").unwrap();
        let rec = parse_public(&public).unwrap();
        assert_eq!(rec.md5.len(), 47);
        assert!(rec.sha256.starts_with("SHA256:"));
        assert!(parse_public("ssh-ed25519 garbage").is_err());
    }
}
