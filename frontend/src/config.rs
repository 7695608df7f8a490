//! Configuration of each `mantad` role, in two stages: a documented serde
//! struct read from TOML (with defaults, human units such as `"2s"` and
//! `"5GiB"`), then `validate()` into what the role runs with. Every field is
//! described in `docs/config.md`.

use anyhow::{bail, Context};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `mantad metadata --config F`: one shard.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct MetadataConfig {
    pub listen: SocketAddr,
    pub data: PathBuf,
}

/// `mantad storage --config F`: one storage node.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// Stable node id; read from (or written to) `<data>/node-id` if unset.
    pub id: Option<String>,
    pub listen: SocketAddr,
    /// URL other tiers use to reach this node; default `http://<listen>`.
    pub advertise: Option<String>,
    pub data: PathBuf,
    pub metadata_shards: Vec<String>,
    #[serde(default = "default_vnodes")]
    pub vnodes: u32,
    #[serde(default = "default_heartbeat")]
    pub heartbeat_interval: String,
    /// Runtime of job tasks: `runsc` (gVisor, the default), `runc`, or
    /// `off` to run no job agent on this node.
    #[serde(default = "default_jobs_runtime")]
    pub jobs_runtime: String,
    /// Job tasks run at once on this node.
    #[serde(default = "default_job_slots")]
    pub job_slots: u32,
}

fn default_jobs_runtime() -> String {
    "runsc".into()
}
fn default_job_slots() -> u32 {
    8
}

impl StorageConfig {
    /// The job agent this node runs, if any.
    ///
    /// # Errors
    /// An unknown runtime or zero slots.
    pub fn agent(&self) -> anyhow::Result<Option<crate::cluster::AgentRole>> {
        use jobs::runtime::RuntimeKind;
        let runtime = match self.jobs_runtime.as_str() {
            "off" => return Ok(None),
            "runsc" => RuntimeKind::Runsc,
            "runc" => RuntimeKind::Runc,
            other => bail!("jobs_runtime must be runsc, runc or off (got {other:?})"),
        };
        if self.job_slots == 0 {
            bail!("job_slots must be at least 1");
        }
        Ok(Some(crate::cluster::AgentRole {
            runtime,
            slots: self.job_slots,
        }))
    }
}

/// `mantad frontend --config F`: the public API.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct FrontendConfig {
    pub listen: SocketAddr,
    pub metadata_shards: Vec<String>,
    #[serde(default = "default_vnodes")]
    pub vnodes: u32,
    #[serde(default = "two")]
    pub default_durability: u32,
    #[serde(default = "nine")]
    pub max_durability: u32,
    #[serde(default = "default_heartbeat_timeout")]
    pub heartbeat_timeout: String,
    #[serde(default = "default_idle")]
    pub upload_idle_timeout: String,
    #[serde(default = "default_max_streaming")]
    pub max_streaming_size: String,
    #[serde(default = "zero")]
    pub reserve: String,
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
    pub s3_domain: String,
    /// What GetBucketLocation answers.
    #[serde(default = "default_s3_region")]
    pub s3_region: String,
    /// Job tasks the supervisor runs at once on one storage node.
    #[serde(default = "default_job_node_slots")]
    pub job_slots_per_node: u32,
    /// Times a task lost to a node failure is run again elsewhere.
    #[serde(default = "two")]
    pub job_max_retries: u32,
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

fn default_vnodes() -> u32 {
    metadata_tier::ring::DEFAULT_VNODES
}
fn default_heartbeat() -> String {
    "2s".into()
}
fn default_heartbeat_timeout() -> String {
    "10s".into()
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

/// Reads and parses a TOML config file.
pub fn load<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("read config {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parse config {}", path.display()))
}

impl FrontendConfig {
    /// # Errors
    /// Bad units or durability bounds.
    pub fn validate(&self) -> anyhow::Result<crate::state::Settings> {
        if self.metadata_shards.is_empty() {
            bail!("metadata_shards is empty");
        }
        if !(1..=self.max_durability).contains(&self.default_durability) {
            bail!("default_durability must be between 1 and max_durability");
        }
        Ok(crate::state::Settings {
            default_durability: self.default_durability,
            max_durability: self.max_durability,
            max_streaming_bytes: parse_size(&self.max_streaming_size)?,
            upload_idle: parse_duration(&self.upload_idle_timeout)?,
            heartbeat_timeout: parse_duration(&self.heartbeat_timeout)?,
            reserve_bytes: parse_size(&self.reserve)?,
            s3_secrets: self
                .s3_key_file
                .as_deref()
                .map(|p| crate::auth::secrets::SecretBox::load(p, false))
                .transpose()?,
            jobs: crate::jobs::JobSettings {
                slots_per_node: self.job_slots_per_node.max(1),
                max_retries: self.job_max_retries,
            },
            ..Default::default()
        })
    }
}

/// Parses `"500ms"`, `"2s"`, `"5m"`, `"1h"` (a bare number is seconds).
///
/// # Errors
/// Unknown unit or bad number.
pub fn parse_duration(s: &str) -> anyhow::Result<Duration> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().with_context(|| format!("bad duration {s:?}"))?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        u => bail!("bad duration unit {u:?} in {s:?} (use ms, s, m, h)"),
    };
    Ok(Duration::from_secs_f64(secs))
}

/// Parses `"4096"`, `"64KiB"`, `"64MiB"`, `"5GiB"`, `"1TiB"` (also KB/MB/GB
/// as powers of ten).
///
/// # Errors
/// Unknown unit or bad number.
pub fn parse_size(s: &str) -> anyhow::Result<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().with_context(|| format!("bad size {s:?}"))?;
    let mul: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        u => bail!("bad size unit {u:?} in {s:?} (use KiB, MiB, GiB, TiB)"),
    };
    n.checked_mul(mul)
        .with_context(|| format!("size {s:?} overflows"))
}

/// The node id: configured, else kept in `<data>/node-id` (made once).
///
/// # Errors
/// I/O errors on the id file.
pub fn node_id(configured: Option<&str>, data: &Path) -> anyhow::Result<String> {
    if let Some(id) = configured {
        return Ok(id.to_string());
    }
    let file = data.join("node-id");
    if let Ok(id) = std::fs::read_to_string(&file) {
        return Ok(id.trim().to_string());
    }
    std::fs::create_dir_all(data).with_context(|| format!("create {}", data.display()))?;
    let id = uuid::Uuid::new_v4().to_string();
    std::fs::write(&file, &id).with_context(|| format!("write {}", file.display()))?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert!(parse_duration("2d").is_err());
        assert_eq!(parse_size("5GiB").unwrap(), 5 << 30);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("1XB").is_err());
    }

    #[test]
    fn frontend_config_defaults() {
        // Every request is authenticated, so any listen address is fine.
        let cfg: FrontendConfig =
            toml::from_str("listen = \"0.0.0.0:8080\"\nmetadata_shards = [\"http://127.0.0.1:1\"]")
                .unwrap();
        let s = cfg.validate().unwrap();
        assert_eq!(s.default_durability, 2);
        assert_eq!(s.max_streaming_bytes, 5 << 30);
        let cfg: FrontendConfig =
            toml::from_str("listen = \"127.0.0.1:8080\"\nmetadata_shards = []").unwrap();
        assert!(cfg.validate().is_err());
    }
}
