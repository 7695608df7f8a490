//! The frontend's configuration (`mantad frontend --config F`), in two
//! stages: [`FrontendConfig`] is what the TOML says (defaults filled in,
//! unknown keys refused), [`FrontendConfig::validate`] turns it into
//! [`FrontendSettings`]: typed durations and byte sizes, the ring, the
//! API's [`Settings`], so a bad file fails at start with the key's name
//! rather than at the first request. The other roles' files belong to
//! their tiers (`metadata_tier::config`, `storage_node::config`,
//! `jobs::agent::config`). Every key is described in `docs/config.md`.
//!
//! Errors are `anyhow`: validation ends the process (or the operator's
//! command) with a message, and loading the S3 key file already is.

use crate::s3::S3Config;
use crate::state::Settings;
use anyhow::{bail, Context};
use metadata_tier::config::default_vnodes;
use metadata_tier::net::tls::CertFiles;
use metadata_tier::net::ClusterKey;
use metadata_tier::Ring;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// `mantad frontend --config F`: the public API, as written in TOML.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct FrontendConfig {
    /// Address of the Manta API (any: every request is authenticated).
    pub listen: SocketAddr,
    /// The metadata shards, in ring order (the same list in every role).
    pub metadata_shards: Vec<String>,
    /// Virtual nodes of the ring (the same in every role).
    #[serde(default = "default_vnodes")]
    pub vnodes: u32,
    /// The cluster secret every role names (64 hex digits): the
    /// frontend's calls to shards, storage nodes and agents carry it.
    pub cluster_secret_file: PathBuf,
    /// Address of the admin listener serving `/metrics`; unset serves none.
    #[serde(default)]
    pub admin_listen: Option<SocketAddr>,
    /// Copies made when the client asks for none.
    #[serde(default = "two")]
    pub(crate) default_durability: u32,
    /// Largest `durability-level` a client may ask for.
    #[serde(default = "nine")]
    pub(crate) max_durability: u32,
    /// A node whose heartbeat is older gets no new copies (`"10s"`).
    #[serde(default = "default_heartbeat_timeout")]
    pub heartbeat_timeout: String,
    /// A node silent this long is lost: its copies are made again
    /// elsewhere (`"30m"`).
    #[serde(default = "default_lost_after")]
    pub node_lost_after: String,
    /// With fewer nodes up than `default_durability`, writes succeed with
    /// the copies they can make (repair adds the rest) instead of failing.
    #[serde(default)]
    pub allow_degraded_writes: bool,
    /// Time between repair and garbage collection passes (`"5m"`); `"off"`
    /// runs none from this frontend.
    #[serde(default = "default_maintenance_interval")]
    pub maintenance_interval: String,
    /// A blob no record names is deleted only once this old (`"1h"`).
    #[serde(default = "default_gc_grace")]
    pub gc_grace: String,
    /// A finished (committed or aborted) Manta multipart upload's
    /// directory is removed this long after it finished (`"24h"`).
    #[serde(default = "default_upload_grace")]
    pub upload_grace: String,
    /// An upload idle this long fails with 408 (`"45s"`).
    #[serde(default = "default_idle")]
    pub upload_idle_timeout: String,
    /// Cap on a chunked upload without `max-content-length` (`"5GiB"`).
    #[serde(default = "default_max_streaming")]
    pub(crate) max_streaming_size: String,
    /// Free space each node keeps back from placement (`"0"`, `"10GiB"`).
    #[serde(default = "zero")]
    pub(crate) reserve: String,
    /// Operator accounts: the web console shows them the cluster (nodes,
    /// shards, repair, metrics); other accounts see only their own data.
    #[serde(default)]
    pub console_operators: Vec<String>,
    /// Accounts created at start if missing (without keys: add them with
    /// `mantad account add-key`).
    #[serde(default)]
    pub accounts: Vec<String>,
    /// File holding the 32-byte key (64 hex digits) that seals S3 secrets
    /// in the metadata tier (docs/auth.md). Without it, no S3 keys.
    #[serde(default)]
    pub s3_key_file: Option<PathBuf>,
    /// Address of the S3 API; unset serves none.
    #[serde(default)]
    pub s3_listen: Option<SocketAddr>,
    /// Virtual-hosted-style base domain: `<bucket>.<domain>` names a bucket.
    #[serde(default = "default_s3_domain")]
    pub(crate) s3_domain: String,
    /// What GetBucketLocation answers.
    #[serde(default = "default_s3_region")]
    pub(crate) s3_region: String,
    /// Job tasks the supervisor runs at once on one storage node.
    #[serde(default = "default_job_node_slots")]
    pub(crate) job_slots_per_node: u32,
    /// Times a task lost to a node failure is run again elsewhere.
    #[serde(default = "two")]
    pub(crate) job_max_retries: u32,
    /// Input of a job left open is closed after this long without new
    /// inputs (Manta: 1h).
    #[serde(default = "default_input_idle_close")]
    pub(crate) job_input_idle_close: String,
    /// The certificate chain (PEM, leaf first) of the Manta and S3 APIs;
    /// with `tls_key_file`, both speak HTTPS. Reloaded on SIGHUP.
    #[serde(default)]
    pub tls_cert_file: Option<PathBuf>,
    /// The private key (PEM) of `tls_cert_file`.
    #[serde(default)]
    pub tls_key_file: Option<PathBuf>,
    /// The most a client may take to finish a TLS handshake (`"10s"`).
    #[serde(default = "default_handshake")]
    pub tls_handshake_timeout: String,
    /// Plain HTTP beside the TLS Manta API: `/:login/public` reads and
    /// signed URLs only; unset serves none.
    #[serde(default)]
    pub plain_listen: Option<SocketAddr>,
    /// Plain HTTP beside the TLS S3 API: presigned URLs only.
    #[serde(default)]
    pub s3_plain_listen: Option<SocketAddr>,
}

fn default_handshake() -> String {
    "10s".into()
}

fn default_job_node_slots() -> u32 {
    4
}
fn default_s3_domain() -> String {
    "localhost".into()
}
fn default_s3_region() -> String {
    "us-east-1".into()
}
fn default_heartbeat_timeout() -> String {
    "10s".into()
}
fn default_lost_after() -> String {
    "30m".into()
}
fn default_maintenance_interval() -> String {
    "5m".into()
}
fn default_input_idle_close() -> String {
    "1h".into()
}
fn default_gc_grace() -> String {
    "1h".into()
}
fn default_upload_grace() -> String {
    "24h".into()
}
fn default_idle() -> String {
    "45s".into()
}
fn default_max_streaming() -> String {
    "5GiB".into()
}
fn zero() -> String {
    "0".into()
}
fn two() -> u32 {
    2
}
fn nine() -> u32 {
    9
}

/// What the frontend role runs with.
#[derive(Debug, Clone)]
pub struct FrontendSettings {
    pub listen: SocketAddr,
    pub ring: Ring,
    pub cluster_key: ClusterKey,
    pub admin_listen: Option<SocketAddr>,
    /// The Manta API's settings (also the S3 API's and the supervisor's).
    pub api: Settings,
    /// Accounts to create at start if missing.
    pub accounts: Vec<String>,
    /// Where the S3 API listens; `None` serves none.
    pub s3_listen: Option<SocketAddr>,
    pub s3: S3Config,
    /// The certificate files of the Manta and S3 APIs; `None`: plain HTTP.
    pub tls: Option<CertFiles>,
    /// The plain listeners beside TLS ones (Manta, S3), when configured.
    pub plain_listen: Option<SocketAddr>,
    pub s3_plain_listen: Option<SocketAddr>,
}

impl FrontendConfig {
    /// Checks every key and builds the runtime settings; reads the S3 key
    /// file if one is named.
    ///
    /// # Errors
    /// A message naming the key: bad ring keys, durability bounds (zero, or
    /// `max_durability` below `default_durability`), bad or zero durations
    /// and sizes, zero `job_slots_per_node`, two listeners on one address,
    /// an unreadable S3 key file, one of the two TLS files without the
    /// other, a plain listener without TLS. The TLS files are read when the
    /// listeners start.
    pub fn validate(&self) -> anyhow::Result<FrontendSettings> {
        let ring = metadata_tier::config::ring(&self.metadata_shards, self.vnodes)?;
        self.check_bounds()?;
        let api = Settings {
            default_durability: self.default_durability,
            max_durability: self.max_durability,
            max_streaming_bytes: positive_size("max_streaming_size", &self.max_streaming_size)?,
            upload_idle: duration("upload_idle_timeout", &self.upload_idle_timeout)?,
            heartbeat_timeout: duration("heartbeat_timeout", &self.heartbeat_timeout)?,
            node_lost_after: duration("node_lost_after", &self.node_lost_after)?,
            allow_degraded_writes: self.allow_degraded_writes,
            maintenance: crate::maintain::MaintainSettings {
                interval: match self.maintenance_interval.as_str() {
                    "off" => None,
                    text => Some(duration("maintenance_interval", text)?),
                },
                gc_grace: duration("gc_grace", &self.gc_grace)?,
                upload_grace: duration("upload_grace", &self.upload_grace)?,
            },
            reserve_bytes: size("reserve", &self.reserve)?,
            s3_secrets: self
                .s3_key_file
                .as_deref()
                .map(|p| crate::auth::secrets::SecretBox::load(p, false))
                .transpose()
                .context("config key s3_key_file")?,
            jobs: jobs::supervisor::JobSettings {
                slots_per_node: self.job_slots_per_node,
                max_retries: self.job_max_retries,
                input_idle_close: duration("job_input_idle_close", &self.job_input_idle_close)?,
            },
            listener_limits: metadata_tier::net::Limits {
                tls_handshake_timeout: duration(
                    "tls_handshake_timeout",
                    &self.tls_handshake_timeout,
                )?,
                ..Default::default()
            },
            console_operators: self.console_operators.clone(),
            ..Default::default()
        };
        Ok(FrontendSettings {
            listen: self.listen,
            ring,
            cluster_key: ClusterKey::load(&self.cluster_secret_file)?,
            admin_listen: self.admin_listen,
            api,
            accounts: self.accounts.clone(),
            s3_listen: self.s3_listen,
            s3: S3Config {
                domain: self.s3_domain.clone(),
                region: self.s3_region.clone(),
            },
            tls: self.tls_files()?,
            plain_listen: self.plain_listen,
            s3_plain_listen: self.s3_plain_listen,
        })
    }

    /// Both TLS files, or neither; a plain listener only beside TLS.
    fn tls_files(&self) -> anyhow::Result<Option<CertFiles>> {
        let files = match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(cert), Some(key)) => Some(CertFiles {
                cert: cert.clone(),
                key: key.clone(),
            }),
            (None, None) => None,
            _ => bail!("config keys tls_cert_file and tls_key_file: give both or neither"),
        };
        for (key, plain) in [
            ("plain_listen", self.plain_listen),
            ("s3_plain_listen", self.s3_plain_listen),
        ] {
            if plain.is_some() && files.is_none() {
                bail!("config key {key}: needs tls_cert_file and tls_key_file (without TLS the API listener is already plain HTTP)");
            }
        }
        Ok(files)
    }

    /// The checks of plain numbers and names.
    fn check_bounds(&self) -> anyhow::Result<()> {
        let (default, max) = (self.default_durability, self.max_durability);
        if max == 0 {
            bail!("config key max_durability: must be at least 1");
        }
        if !(1..=max).contains(&default) {
            bail!("config key default_durability: {default} must be between 1 and max_durability ({max})");
        }
        let lost = humantime::parse_duration(&self.node_lost_after).ok();
        let down = humantime::parse_duration(&self.heartbeat_timeout).ok();
        if let (Some(lost), Some(down)) = (lost, down) {
            if lost <= down {
                bail!("config key node_lost_after: must be longer than heartbeat_timeout");
            }
        }
        if self.job_slots_per_node == 0 {
            bail!("config key job_slots_per_node: must be at least 1");
        }
        let mut taken = vec![("listen", self.listen)];
        for (key, addr) in [
            ("s3_listen", self.s3_listen),
            ("plain_listen", self.plain_listen),
            ("s3_plain_listen", self.s3_plain_listen),
        ] {
            let Some(addr) = addr else { continue };
            if let Some((other, _)) = taken.iter().find(|(_, a)| *a == addr) {
                bail!("config key {key}: {addr} is already {other}'s address");
            }
            taken.push((key, addr));
        }
        if self.s3_domain.is_empty() || self.s3_region.is_empty() {
            bail!("config keys s3_domain and s3_region: must not be empty");
        }
        Ok(())
    }
}

/// A positive duration in humantime's units (`"500ms"`, `"45s"`, `"5m"`).
fn duration(key: &str, text: &str) -> anyhow::Result<Duration> {
    let d = humantime::parse_duration(text)
        .with_context(|| format!("config key {key}: {text:?} is no duration (e.g. \"45s\")"))?;
    if d.is_zero() {
        bail!("config key {key}: must be more than zero");
    }
    Ok(d)
}

/// Bytes, bare or with a unit (`"4096"`, `"64KiB"`, `"5GiB"`, `"5GB"`).
fn size(key: &str, text: &str) -> anyhow::Result<u64> {
    match text.parse::<bytesize::ByteSize>() {
        Ok(b) => Ok(b.as_u64()),
        Err(e) => bail!("config key {key}: {text:?} is no size (e.g. \"5GiB\"): {e}"),
    }
}

fn positive_size(key: &str, text: &str) -> anyhow::Result<u64> {
    match size(key, text)? {
        0 => bail!("config key {key}: must be more than zero"),
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests;
