//! Client configuration, read from the environment variables node-manta
//! reads (`MANTA_URL`, `MANTA_USER`, `MANTA_SUBUSER`, `MANTA_KEY_ID`,
//! `MANTA_TLS_INSECURE`, `MANTA_ROLE`, `MANTA_NO_AUTH`) and ours
//! (`MANTA_KEY_FILE`, `MANTA_CA_FILE`).

use crate::error::{Error, Result};
use std::time::Duration;

/// How to reach and authenticate to Manta.
#[derive(Debug, Clone)]
pub struct Config {
    /// Base URL, e.g. `https://us-east.manta.joyent.com`.
    pub url: String,
    /// Account login.
    pub user: String,
    /// RBAC sub-user, if any.
    pub subuser: Option<String>,
    /// Fingerprint of the key to sign with (MD5 `aa:bb:..`, `MD5:..` or
    /// `SHA256:..`); `None` takes the first usable `~/.ssh/id_*`.
    pub key_id: Option<String>,
    /// A private key file to sign with (`MANTA_KEY_FILE`, our extension:
    /// node-manta only looks in ssh-agent and `~/.ssh`).
    pub key_file: Option<std::path::PathBuf>,
    /// Skip TLS certificate verification.
    pub insecure: bool,
    /// A PEM file of CA certificates trusted beside the bundled roots
    /// (`MANTA_CA_FILE`, our extension: node-manta reads node's
    /// `NODE_EXTRA_CA_CERTS`).
    pub ca_file: Option<std::path::PathBuf>,
    /// Send no `Authorization` (`MANTA_NO_AUTH=true`).
    pub no_auth: bool,
    /// Active roles (`Role` header).
    pub roles: Option<String>,
    /// Attempts for idempotent requests (1 = no retry).
    pub attempts: u32,
    /// First back-off delay; doubles each retry up to 4 s.
    pub backoff: Duration,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn truthy(name: &str) -> bool {
    env(name).is_some_and(|v| !matches!(v.as_str(), "0" | "false"))
}

impl Config {
    /// Reads the configuration from the environment.
    ///
    /// # Errors
    /// `Config` when `MANTA_URL` or (unless `MANTA_NO_AUTH`) `MANTA_USER`
    /// is missing.
    pub fn from_env() -> Result<Config> {
        let url =
            env("MANTA_URL").ok_or_else(|| Error::Config("url is a required argument".into()))?;
        let no_auth = env("MANTA_NO_AUTH").as_deref() == Some("true");
        let user = env("MANTA_USER").unwrap_or_default();
        if user.is_empty() && !no_auth {
            return Err(Error::Config("account is a required argument".into()));
        }
        Ok(Config {
            url: url.trim_end_matches('/').to_string(),
            user,
            subuser: env("MANTA_SUBUSER"),
            key_id: env("MANTA_KEY_ID"),
            key_file: env("MANTA_KEY_FILE").map(Into::into),
            insecure: truthy("MANTA_TLS_INSECURE"),
            ca_file: env("MANTA_CA_FILE").map(Into::into),
            no_auth,
            roles: env("MANTA_ROLE"),
            attempts: 4,
            backoff: Duration::from_millis(500),
        })
    }

    /// A configuration with defaults for everything but the URL and user.
    pub fn new(url: &str, user: &str) -> Config {
        Config {
            url: url.trim_end_matches('/').to_string(),
            user: user.to_string(),
            subuser: None,
            key_id: None,
            key_file: None,
            insecure: false,
            ca_file: None,
            no_auth: false,
            roles: None,
            attempts: 4,
            backoff: Duration::from_millis(500),
        }
    }
}
