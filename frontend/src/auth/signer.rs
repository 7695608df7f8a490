//! The client half of Manta auth, as node-manta does it: sign `date: <Date>`
//! into an `Authorization: Signature` header, or sign a URL as `msign`
//! does. Used by the tests and by tooling; the SDK has its own.

use crate::auth::presign;
use crate::error::{Error, Result};
use base64::Engine;
use ssh_key::private::{EcdsaKeypair, KeypairData};
use ssh_key::PrivateKey;

/// A private key and the keyId it signs as (`/LOGIN/keys/MD5`).
#[derive(Clone)]
pub struct Signer {
    key: PrivateKey,
    pub login: String,
    pub key_id: String,
    /// The HTTP Signature algorithm name, e.g. `ed25519-sha512`.
    pub algorithm: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({})", self.key_id)
    }
}

impl Signer {
    /// A signer for `login` from an OpenSSH private key file's text.
    ///
    /// # Errors
    /// `InvalidArgument` for an unreadable or unsupported key.
    pub fn from_openssh(login: &str, private: &str) -> Result<Signer> {
        let key = PrivateKey::from_openssh(private)
            .map_err(|e| Error::InvalidArgument(format!("private key: {e}")))?;
        let algorithm = match key.key_data() {
            KeypairData::Ed25519(_) => "ed25519-sha512",
            KeypairData::Rsa(_) => "rsa-sha256",
            KeypairData::Ecdsa(EcdsaKeypair::NistP256 { .. }) => "ecdsa-sha256",
            KeypairData::Ecdsa(EcdsaKeypair::NistP384 { .. }) => "ecdsa-sha384",
            KeypairData::Ecdsa(EcdsaKeypair::NistP521 { .. }) => "ecdsa-sha512",
            _ => return Err(Error::InvalidArgument("unsupported key type".into())),
        };
        let md5 = crate::auth::keys::md5_fingerprint(key.public_key())?;
        Ok(Signer {
            key,
            login: login.to_string(),
            key_id: format!("/{login}/keys/{md5}"),
            algorithm: algorithm.to_string(),
        })
    }

    /// The public key line.
    ///
    /// # Errors
    /// Encoding failures.
    pub fn public_openssh(&self) -> Result<String> {
        self.key
            .public_key()
            .to_openssh()
            .map_err(|e| Error::Internal(format!("encode public key: {e}")))
    }

    /// Signs `data` with the key's default algorithm (DER for ECDSA, as
    /// sshpk sends it); base64.
    ///
    /// # Errors
    /// Key conversion failures.
    pub fn sign(&self, data: &[u8]) -> Result<String> {
        let raw = match self.key.key_data() {
            KeypairData::Ed25519(kp) => {
                use ed25519_dalek::Signer as _;
                let sk = ed25519_dalek::SigningKey::from_bytes(&kp.private.to_bytes());
                sk.sign(data).to_bytes().to_vec()
            }
            KeypairData::Rsa(kp) => {
                use rsa::signature::{SignatureEncoding, Signer as _};
                let pk = rsa_private(kp)?;
                rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(pk)
                    .sign(data)
                    .to_vec()
            }
            KeypairData::Ecdsa(kp) => sign_ecdsa(kp, data)?,
            _ => return Err(Error::InvalidArgument("unsupported key type".into())),
        };
        Ok(base64::engine::general_purpose::STANDARD.encode(raw))
    }

    /// `Authorization` header value over `date: <date>`.
    ///
    /// # Errors
    /// As [`Signer::sign`].
    pub fn authorization(&self, date: &str) -> Result<String> {
        let sig = self.sign(format!("date: {date}").as_bytes())?;
        Ok(format!(
            "Signature keyId=\"{}\",algorithm=\"{}\",headers=\"date\",signature=\"{sig}\"",
            self.key_id, self.algorithm
        ))
    }

    /// `(Date, Authorization)` for a request sent now.
    ///
    /// # Errors
    /// As [`Signer::sign`].
    pub fn headers_now(&self) -> Result<(String, String)> {
        let date = httpdate::fmt_http_date(std::time::SystemTime::now());
        let auth = self.authorization(&date)?;
        Ok((date, auth))
    }

    /// A signed URL path+query as `msign` prints it after `$MANTA_URL`:
    /// `path` is already percent-encoded; `host` is `host[:port]`.
    ///
    /// # Errors
    /// As [`Signer::sign`].
    pub fn sign_url(
        &self,
        host: &str,
        path: &str,
        methods: &[&str],
        expires: u64,
    ) -> Result<String> {
        let mut methods: Vec<String> = methods.iter().map(|m| m.to_string()).collect();
        methods.sort();
        let joined = methods.join(",");
        let mut q = vec![
            ("algorithm".to_string(), self.algorithm.to_ascii_uppercase()),
            ("expires".to_string(), expires.to_string()),
            ("keyId".to_string(), self.key_id.clone()),
        ];
        if methods.len() > 1 {
            q.push(("method".to_string(), joined.clone()));
        }
        let query = presign::canonical_query(&q);
        let sig = self.sign(format!("{joined}\n{host}\n{path}\n{query}").as_bytes())?;
        Ok(format!(
            "{path}?{query}&signature={}",
            presign::rfc3986(&sig)
        ))
    }
}

fn bad_key(e: impl std::fmt::Display) -> Error {
    Error::InvalidArgument(format!("private key: {e}"))
}

/// ssh-key 0.6's own conversion passes `p` twice for the primes; build the
/// key from its components here.
fn rsa_private(kp: &ssh_key::private::RsaKeypair) -> Result<rsa::RsaPrivateKey> {
    let int = |m: &ssh_key::Mpint| {
        m.as_positive_bytes()
            .map(rsa::BigUint::from_bytes_be)
            .ok_or_else(|| Error::InvalidArgument("private key: bad RSA component".into()))
    };
    rsa::RsaPrivateKey::from_components(
        int(&kp.public.n)?,
        int(&kp.public.e)?,
        int(&kp.private.d)?,
        vec![int(&kp.private.p)?, int(&kp.private.q)?],
    )
    .map_err(bad_key)
}

fn sign_ecdsa(kp: &EcdsaKeypair, data: &[u8]) -> Result<Vec<u8>> {
    use p256::ecdsa::signature::Signer as _;
    Ok(match kp {
        EcdsaKeypair::NistP256 { private, .. } => {
            let sk = p256::ecdsa::SigningKey::from_slice(private.as_slice()).map_err(bad_key)?;
            let s: p256::ecdsa::Signature = sk.sign(data);
            s.to_der().as_bytes().to_vec()
        }
        EcdsaKeypair::NistP384 { private, .. } => {
            let sk = p384::ecdsa::SigningKey::from_slice(private.as_slice()).map_err(bad_key)?;
            let s: p384::ecdsa::Signature = sk.sign(data);
            s.to_der().as_bytes().to_vec()
        }
        EcdsaKeypair::NistP521 { private, .. } => {
            use p256::ecdsa::signature::hazmat::PrehashSigner;
            use sha2::Digest;
            let sk = p521::ecdsa::SigningKey::from_slice(private.as_slice()).map_err(bad_key)?;
            let prehash = sha2::Sha512::digest(data);
            let s: p521::ecdsa::Signature = sk.sign_prehash(&prehash).map_err(bad_key)?;
            s.to_der().as_bytes().to_vec()
        }
    })
}
