//! Sign-in links of the web console (`mconsole`): a signed URL of
//! `GET /console/login`, made like msign's ([`crate::presign`]) with the
//! account's key, plus a `purpose=console-login` parameter and a one-time
//! `nonce`, both covered by the signature. The frontend verifies it with
//! the same [`canonical_query`] and [`string_to_sign`], so one definition
//! serves both sides (docs/console.md).
//!
//! An ordinary presigned URL cannot sign anyone in (it names another path
//! and has no purpose), and a sign-in link reads no object (the signature
//! covers its path, `/console/login`, which names no object).

use crate::client::Client;
use crate::error::{Error, Result};
use crate::path::rfc3986;
use crate::presign::{canonical_query, string_to_sign, url_host};
use crate::sign::Signer;

/// The path a sign-in link names.
pub const LOGIN_PATH: &str = "/console/login";
/// The value of the link's `purpose` parameter.
pub const PURPOSE: &str = "console-login";
/// The method signed: the link is opened with `GET`.
pub const METHOD: &str = "GET";
/// Lifetime of a link when none is asked for.
pub const DEFAULT_EXPIRY_SECS: u64 = 300;
/// The longest lifetime the frontend accepts.
pub const MAX_EXPIRY_SECS: u64 = 3600;

impl Signer {
    /// The path and query of a sign-in link for `host` (`host[:port]`),
    /// valid until `expires` (seconds since the epoch), once (`nonce`).
    ///
    /// # Errors
    /// As [`Signer::sign`].
    pub fn sign_console_login(
        &self,
        host: &str,
        key_id: &str,
        expires: u64,
        nonce: &str,
    ) -> Result<String> {
        let q: Vec<(String, String)> = vec![
            ("algorithm".into(), self.algorithm().to_uppercase()),
            ("expires".into(), expires.to_string()),
            ("keyId".into(), key_id.to_string()),
            ("nonce".into(), nonce.to_string()),
            ("purpose".into(), PURPOSE.to_string()),
        ];
        let query = canonical_query(&q);
        let sig = self.sign(string_to_sign(METHOD, host, LOGIN_PATH, &query).as_bytes())?;
        Ok(format!("{LOGIN_PATH}?{query}&signature={}", rfc3986(&sig)))
    }
}

impl Client {
    /// A whole sign-in URL (`$MANTA_URL/console/login?...`) valid until
    /// `expires`, with a fresh random nonce.
    ///
    /// # Errors
    /// `Key` when the client has no signer.
    pub fn console_login_url(&self, expires: u64) -> Result<String> {
        let signer = self
            .signer()
            .ok_or_else(|| Error::Key("a console sign-in link needs a key".into()))?;
        let key_id = self.key_id().unwrap_or_default();
        let nonce = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let base = self.url().trim_end_matches('/');
        let signed = signer.sign_console_login(url_host(base), key_id, expires, &nonce)?;
        Ok(format!("{base}{signed}"))
    }
}
