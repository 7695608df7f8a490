//! Signing as a test account with the SDK's signer ([`client_sdk::Signer`]),
//! the client half of Manta auth that real users run, rather than with
//! anything of the server's own.

use client_sdk::{Client, Config, SignUrlOptions, Signer};
use std::path::Path;
use std::time::Duration;

/// A test account's key: signs `Authorization` headers and URLs as that
/// login, with the raw values a test may then tamper with.
pub struct TestSigner {
    signer: Signer,
    pub login: String,
    /// `/LOGIN/keys/MD5`.
    pub key_id: String,
}

impl std::fmt::Debug for TestSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TestSigner({})", self.key_id)
    }
}

impl TestSigner {
    /// The key in the private key file `key`, signing as `login`.
    pub fn load(login: &str, key: &Path) -> TestSigner {
        let signer = Signer::from_file(key).unwrap();
        TestSigner {
            key_id: signer.key_id(login, None),
            login: login.to_string(),
            signer,
        }
    }

    /// The HTTP Signature algorithm name, e.g. `ed25519-sha512`.
    pub fn algorithm(&self) -> &'static str {
        self.signer.algorithm()
    }

    /// Base64 signature of `data`.
    ///
    /// # Errors
    /// As [`Signer::sign`].
    pub fn sign(&self, data: &[u8]) -> client_sdk::Result<String> {
        self.signer.sign(data)
    }

    /// `Authorization` header value over `date: <date>`.
    ///
    /// # Errors
    /// As [`Signer::sign`].
    pub fn authorization(&self, date: &str) -> client_sdk::Result<String> {
        self.signer.authorization(&self.key_id, date)
    }

    /// `(Date, Authorization)` for a request sent now.
    ///
    /// # Errors
    /// As [`Signer::sign`].
    pub fn headers_now(&self) -> client_sdk::Result<(String, String)> {
        let date = httpdate::fmt_http_date(std::time::SystemTime::now());
        let auth = self.authorization(&date)?;
        Ok((date, auth))
    }

    /// A signed URL path+query as `msign` prints it after `$MANTA_URL`
    /// (the SDK's one implementation): `path` is already percent-encoded,
    /// so a test can sign exactly the bytes it then alters.
    ///
    /// # Errors
    /// As [`Signer::sign`].
    pub fn sign_url(
        &self,
        host: &str,
        path: &str,
        methods: &[&str],
        expires: u64,
    ) -> client_sdk::Result<String> {
        let opts = SignUrlOptions::new(methods, expires);
        self.signer.sign_url(host, path, &self.key_id, &opts)
    }

    /// The SDK signer itself.
    pub fn inner(&self) -> &Signer {
        &self.signer
    }
}

/// An SDK client for [`super::USER`] signing with the private key at `key`,
/// with short retry back-off (a test's cluster is local).
pub fn sdk_client(url: &str, key: &Path) -> Client {
    Client::with_signer(sdk_config(url), Some(Signer::from_file(key).unwrap())).unwrap()
}

/// The kit's SDK configuration for [`super::USER`] at `url`: short retry
/// back-off (a test's cluster is local).
pub fn sdk_config(url: &str) -> Config {
    let mut cfg = Config::new(url, super::USER);
    cfg.backoff = Duration::from_millis(50);
    cfg
}
