//! Configuration owned by the metadata tier: a shard's own file
//! (`mantad metadata --config F`), and the ring every other role names
//! (`metadata_shards`, `vnodes`), since a role that gets the ring wrong
//! writes names where no reader looks for them.
//!
//! Two stages, as in every tier: [`ShardConfig`] is what the TOML says
//! (unknown keys refused), [`ShardConfig::validate`] turns it into
//! [`ShardSettings`]; [`ring`] validates the ring keys of the other roles.
//! Every key is described in `docs/config.md`.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use crate::net::ClusterKey;
use crate::{Error, Result, Ring};

/// `mantad metadata --config F`: one shard, as written in TOML.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct ShardConfig {
    /// Address the shard's HTTP API listens on.
    pub listen: SocketAddr,
    /// The RocksDB directory (made if missing).
    pub data: PathBuf,
    /// The cluster secret (64 hex digits) every role of the cluster names:
    /// calls without it are refused.
    pub cluster_secret_file: PathBuf,
    /// Address of the admin listener serving `/metrics`; unset serves none.
    #[serde(default)]
    pub admin_listen: Option<SocketAddr>,
    /// This replica's id in its shard's group (unique in the group, never
    /// reused for another disk). Default 1.
    #[serde(default)]
    pub replica_id: Option<u64>,
    /// The URL the group's other replicas and the clients reach this one
    /// at; default `http://<listen>` (refused for a wildcard `listen`).
    #[serde(default)]
    pub advertise: Option<String>,
    /// The group's first members, id to URL (`[peers]` table, `"1" =
    /// "http://..."`), this replica included. Unset: a group of one.
    #[serde(default)]
    pub peers: Option<std::collections::BTreeMap<String, String>>,
    /// Create the group on first start (its log empty): on one replica of
    /// a new group only.
    #[serde(default)]
    pub bootstrap: Option<bool>,
    /// Entries applied between snapshots (default 20000); the log before a
    /// snapshot is purged but for the last quarter of this.
    #[serde(default)]
    pub snapshot_every: Option<u64>,
}

/// What a shard runs with.
#[derive(Debug, Clone)]
pub struct ShardSettings {
    pub listen: SocketAddr,
    pub data: PathBuf,
    pub cluster_key: ClusterKey,
    pub admin_listen: Option<SocketAddr>,
    pub group: crate::raft::GroupConfig,
}

impl ShardConfig {
    /// Checks the file's values.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty `data`, an unreadable or
    /// malformed `cluster_secret_file`.
    pub fn validate(&self) -> Result<ShardSettings> {
        if self.data.as_os_str().is_empty() {
            return Err(invalid("data", "must name the RocksDB directory"));
        }
        Ok(ShardSettings {
            listen: self.listen,
            data: self.data.clone(),
            cluster_key: ClusterKey::load(&self.cluster_secret_file)?,
            admin_listen: self.admin_listen,
            group: self.group()?,
        })
    }

    fn group(&self) -> Result<crate::raft::GroupConfig> {
        let id = self.replica_id.unwrap_or(1);
        if id == 0 {
            return Err(invalid("replica_id", "must be at least 1"));
        }
        let advertise = match &self.advertise {
            Some(a) => a.trim_end_matches('/').to_string(),
            None if self.listen.ip().is_unspecified() && self.peers.is_some() => {
                return Err(invalid(
                    "advertise",
                    "must be set when listen is a wildcard address",
                ))
            }
            None => format!("http://{}", self.listen),
        };
        if !(advertise.starts_with("http://") || advertise.starts_with("https://")) {
            return Err(invalid("advertise", "is not an http:// URL"));
        }
        let mut peers = std::collections::BTreeMap::new();
        match &self.peers {
            None => {
                peers.insert(id, advertise.clone());
            }
            Some(table) => {
                for (k, url) in table {
                    let pid: u64 =
                        k.parse().ok().filter(|p| *p > 0).ok_or_else(|| {
                            invalid("peers", format!("{k:?} is not a replica id"))
                        })?;
                    if !(url.starts_with("http://") || url.starts_with("https://")) {
                        return Err(invalid("peers", format!("{url:?} is not an http:// URL")));
                    }
                    peers.insert(pid, url.trim_end_matches('/').to_string());
                }
                if peers.get(&id) != Some(&advertise) {
                    return Err(invalid(
                        "peers",
                        format!("must name this replica ({id}) at its advertise URL {advertise}"),
                    ));
                }
            }
        }
        Ok(crate::raft::GroupConfig {
            id,
            advertise,
            bootstrap: self.bootstrap.unwrap_or(self.peers.is_none()),
            peers,
            timing: self.timing()?,
        })
    }

    fn timing(&self) -> Result<crate::raft::Timing> {
        let mut t = crate::raft::Timing::default();
        if let Some(n) = self.snapshot_every {
            if n < 10 {
                return Err(invalid("snapshot_every", "must be at least 10"));
            }
            t.snapshot_every = n;
            t.keep_logs = (n / 4).max(1);
        }
        Ok(t)
    }
}

/// The default of `vnodes` in every role's file.
pub fn default_vnodes() -> u32 {
    crate::ring::DEFAULT_VNODES
}

/// The ring named by a role's `metadata_shards` and `vnodes`.
///
/// # Errors
/// [`Error::InvalidConfig`] for no shards, a shard that is not an
/// `http(s)://` URL, a shard listed twice, or zero vnodes.
pub fn ring(metadata_shards: &[String], vnodes: u32) -> Result<Ring> {
    if metadata_shards.is_empty() {
        return Err(invalid("metadata_shards", "lists no shard"));
    }
    let mut seen: Vec<String> = Vec::new();
    for group in metadata_shards {
        let replicas = crate::ring::split_group(group);
        if replicas.is_empty() {
            return Err(invalid("metadata_shards", "a shard lists no replica"));
        }
        for url in replicas {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(invalid(
                    "metadata_shards",
                    format!("{url:?} is not an http:// or https:// URL"),
                ));
            }
            if seen.contains(&url) {
                return Err(invalid(
                    "metadata_shards",
                    format!("{url:?} is listed twice"),
                ));
            }
            seen.push(url);
        }
    }
    if vnodes == 0 {
        return Err(invalid("vnodes", "must be at least 1"));
    }
    Ok(Ring::new(metadata_shards.to_vec(), vnodes))
}

fn invalid(key: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidConfig {
        key,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_config() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("cluster.key");
        ClusterKey::load_or_create(&key).unwrap();
        let secret = format!("cluster_secret_file = {:?}\n", key.to_string_lossy());
        let cfg: ShardConfig = toml::from_str(&format!(
            "listen = \"127.0.0.1:7100\"\ndata = \"/tmp/s\"\n{secret}"
        ))
        .unwrap();
        assert_eq!(cfg.validate().unwrap().listen.port(), 7100);
        let err = toml::from_str::<ShardConfig>(&format!(
            "listen = \"127.0.0.1:7100\"\ndata = \"d\"\n{secret}x = 1"
        ));
        assert!(err.unwrap_err().to_string().contains("unknown field `x`"));
        let cfg: ShardConfig = toml::from_str(&format!(
            "listen = \"127.0.0.1:7100\"\ndata = \"\"\n{secret}"
        ))
        .unwrap();
        assert!(cfg.validate().is_err());
        let cfg: ShardConfig = toml::from_str(
            "listen = \"127.0.0.1:7100\"\ndata = \"d\"\ncluster_secret_file = \"/nonexistent\"",
        )
        .unwrap();
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("cluster_secret_file"), "{err}");
    }

    #[test]
    fn ring_keys() {
        let shards = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let ok = ring(&shards(&["http://a:1", "https://b:2"]), 16).unwrap();
        assert_eq!(ok.shards().len(), 2);
        for (bad, key) in [
            (ring(&[], 16), "metadata_shards"),
            (ring(&shards(&["a:1"]), 16), "not an http"),
            (ring(&shards(&["http://a:1", "http://a:1"]), 16), "twice"),
            (ring(&shards(&["http://a:1"]), 0), "vnodes"),
        ] {
            assert!(bad.unwrap_err().to_string().contains(key), "{key}");
        }
    }
}
