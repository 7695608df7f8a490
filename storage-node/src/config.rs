//! Configuration of a storage node (`mantad storage --config F`).
//!
//! Two stages, as in every tier: [`NodeConfig`] is what the TOML says
//! (defaults filled in, unknown keys refused), [`NodeConfig::validate`]
//! turns it into [`NodeSettings`] with typed [`Duration`]s, the
//! scrubber's [`ScrubSettings`] and the [`Ring`]. The job agent that runs beside the node keeps its keys in the
//! same table (`jobs_runtime`, `job_slots`) but owns them in the jobs
//! crate, which this crate cannot depend on: they arrive as the flattened
//! `E`. Every key is described in `docs/config.md`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use metadata_tier::config::default_vnodes;
use metadata_tier::net::ClusterKey;
use metadata_tier::Ring;
use serde::Deserialize;

use crate::scrub::ScrubSettings;
use crate::{Error, Result};

/// `mantad storage --config F`: one storage node, as written in TOML; `E`
/// holds the keys of what runs beside it (the job agent's).
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig<E> {
    /// Stable node id; read from (or written to) `<data>/node-id` if unset.
    pub id: Option<String>,
    /// Address the node's HTTP API listens on.
    pub listen: SocketAddr,
    /// URL other tiers use to reach this node; default `http://<listen>`.
    pub advertise: Option<String>,
    /// Blobs (`blobs/`, `tmp/`) and the job agent's state (`jobs/`).
    pub data: PathBuf,
    /// The metadata shards, in ring order (the same list in every role).
    pub metadata_shards: Vec<String>,
    /// The cluster secret every role names (64 hex digits): the node
    /// serves only callers holding it, and holds it in its own calls.
    pub cluster_secret_file: PathBuf,
    /// Address of the admin listener serving `/metrics`; unset serves none.
    #[serde(default)]
    pub admin_listen: Option<SocketAddr>,
    /// Virtual nodes of the ring (the same in every role).
    #[serde(default = "default_vnodes")]
    pub vnodes: u32,
    /// How often the node announces itself to the registry (`"2s"`).
    #[serde(default = "default_heartbeat")]
    pub heartbeat_interval: String,
    /// How fast the scrubber reads blobs back, in MB/s (10^6 bytes); 0
    /// runs no scrubber.
    #[serde(default = "default_scrub_rate")]
    pub scrub_rate_mb: f64,
    /// Pause between the end of one scrub pass and the next (`"24h"`).
    #[serde(default = "default_scrub_interval")]
    pub scrub_interval: String,
    /// Keys of what runs beside the node, in the same table.
    #[serde(flatten)]
    pub extra: E,
}

fn default_heartbeat() -> String {
    "2s".into()
}

fn default_scrub_rate() -> f64 {
    16.0
}

fn default_scrub_interval() -> String {
    "24h".into()
}

/// What a storage node runs with.
#[derive(Debug, Clone)]
pub struct NodeSettings {
    /// The configured id; [`NodeSettings::node_id`] resolves an unset one.
    pub id: Option<String>,
    pub listen: SocketAddr,
    pub advertise: Option<String>,
    pub data: PathBuf,
    pub ring: Ring,
    pub heartbeat: Duration,
    pub cluster_key: ClusterKey,
    pub admin_listen: Option<SocketAddr>,
    pub scrub: ScrubSettings,
}

impl<E> NodeConfig<E> {
    /// Checks the node's own keys (not `extra`'s).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the key: an empty `id` or `data`, an
    /// `advertise` that is not an http(s) URL or is missing while `listen`
    /// is a wildcard address (`0.0.0.0`, `[::]`), a bad or zero
    /// `heartbeat_interval`, a negative or non-finite `scrub_rate_mb`, a bad
    /// or zero `scrub_interval`, bad ring keys.
    pub fn validate(&self) -> Result<NodeSettings> {
        if let Some(id) = &self.id {
            if id.is_empty() || id.contains(|c: char| c.is_whitespace() || c == '/') {
                return Err(invalid("id", format!("{id:?} must be a word without /")));
            }
        }
        if let Some(url) = &self.advertise {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                let why = format!("{url:?} is not an http:// or https:// URL");
                return Err(invalid("advertise", why));
            }
        }
        // The default advertise is `http://<listen>`: on a wildcard address
        // that would register `http://0.0.0.0:7200`, which no other host
        // can reach, so the node would take no copies and serve no reads.
        if self.advertise.is_none() && self.listen.ip().is_unspecified() {
            let why = format!(
                "required when listen is {} (other hosts cannot reach a wildcard address)",
                self.listen
            );
            return Err(invalid("advertise", why));
        }
        if self.data.as_os_str().is_empty() {
            return Err(invalid("data", "must name the node's directory"));
        }
        let heartbeat = duration("heartbeat_interval", &self.heartbeat_interval)?;
        let scrub = self.scrub()?;
        let ring = metadata_tier::config::ring(&self.metadata_shards, self.vnodes).map_err(
            |e| match e {
                metadata_tier::Error::InvalidConfig { key, reason } => invalid(key, reason),
                other => invalid("metadata_shards", other.to_string()),
            },
        )?;
        Ok(NodeSettings {
            id: self.id.clone(),
            listen: self.listen,
            advertise: self.advertise.clone(),
            data: self.data.clone(),
            ring,
            heartbeat,
            admin_listen: self.admin_listen,
            scrub,
            cluster_key: ClusterKey::load(&self.cluster_secret_file).map_err(|e| match e {
                metadata_tier::Error::InvalidConfig { key, reason } => invalid(key, reason),
                other => invalid("cluster_secret_file", other.to_string()),
            })?,
        })
    }
}

impl<E> NodeConfig<E> {
    fn scrub(&self) -> Result<ScrubSettings> {
        let mb = self.scrub_rate_mb;
        if !mb.is_finite() || mb < 0.0 {
            return Err(invalid(
                "scrub_rate_mb",
                format!("{mb} must be 0 (off) or more"),
            ));
        }
        Ok(ScrubSettings {
            // Float to integer casts saturate; a sub-byte rate is off.
            rate_bytes_per_sec: (mb * 1e6) as u64,
            interval: duration("scrub_interval", &self.scrub_interval)?,
        })
    }
}

impl NodeSettings {
    /// The node id: configured, else kept in `<data>/node-id` (made once),
    /// so a node keeps its id, and its place in the registry, on restart.
    ///
    /// # Errors
    /// I/O errors on the id file.
    pub fn node_id(&self) -> Result<String> {
        match &self.id {
            Some(id) => Ok(id.clone()),
            None => stored_node_id(&self.data),
        }
    }
}

fn stored_node_id(data: &Path) -> Result<String> {
    let file = data.join("node-id");
    match std::fs::read_to_string(&file) {
        Ok(id) => return Ok(id.trim().to_string()),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        Err(_) => {}
    }
    std::fs::create_dir_all(data)?;
    let id = uuid::Uuid::new_v4().to_string();
    std::fs::write(&file, &id)?;
    Ok(id)
}

/// A positive duration in humantime's units (`"500ms"`, `"2s"`, `"5m"`).
fn duration(key: &'static str, text: &str) -> Result<Duration> {
    match humantime::parse_duration(text) {
        Ok(d) if d.is_zero() => Err(invalid(key, "must be more than zero")),
        Ok(d) => Ok(d),
        Err(e) => Err(invalid(
            key,
            format!("{text:?}: {e} (e.g. \"500ms\", \"2s\")"),
        )),
    }
}

fn invalid(key: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidConfig {
        key,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests;
