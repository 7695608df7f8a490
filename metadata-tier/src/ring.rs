//! The ring: a fixed number of virtual nodes, each owned by one shard, as
//! Manta's electric-moray does. The key hashed is an entry's keyspace and
//! parent directory, so every entry of a directory lives on one shard and a
//! listing reads one shard. Moving a vnode to another shard (resharding) is a
//! later step; the map is explicit so that it can be.
//!
//! A shard is a group of replicas, not an address: each shard of the ring
//! is written as its replicas' URLs joined by commas, and clients find the
//! group's leader among them.

use crate::wire::Keyspace;

pub const DEFAULT_VNODES: u32 = 1024;

#[derive(Debug, Clone)]
pub struct Ring {
    vnodes: u32,
    owner: Vec<u16>,
    shards: Vec<String>,
    replicas: Vec<Vec<String>>,
}

impl Ring {
    /// `shards` are the shards' replica base URLs, comma-separated; vnode
    /// `i` belongs to shard `i % shards.len()`.
    pub fn new(shards: Vec<String>, vnodes: u32) -> Self {
        let vnodes = vnodes.max(1);
        let n = shards.len().max(1);
        let owner = (0..vnodes).map(|v| (v as usize % n) as u16).collect();
        let replicas = shards.iter().map(|s| split_group(s)).collect();
        Ring {
            vnodes,
            owner,
            shards,
            replicas,
        }
    }

    /// The replica URLs of shard `i` (empty past the ring).
    pub fn replicas(&self, i: usize) -> &[String] {
        self.replicas.get(i).map_or(&[], Vec::as_slice)
    }

    pub fn vnode(&self, space: Keyspace, dir: &str) -> u32 {
        let mut h = blake3::Hasher::new();
        h.update(space.as_str().as_bytes());
        h.update(b"\0");
        h.update(dir.as_bytes());
        let d = h.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&d.as_bytes()[..8]);
        (u64::from_be_bytes(first) % u64::from(self.vnodes)) as u32
    }

    pub fn shard_for(&self, space: Keyspace, dir: &str) -> usize {
        let v = self.vnode(space, dir) as usize;
        self.owner.get(v).copied().unwrap_or(0) as usize
    }

    /// Each shard as configured: its replicas' URLs, comma-separated.
    pub fn shards(&self) -> &[String] {
        &self.shards
    }
}

/// The replica URLs of a shard written `url[,url...]`.
pub fn split_group(spec: &str) -> Vec<String> {
    spec.split(',')
        .map(|u| u.trim().trim_end_matches('/').to_string())
        .filter(|u| !u.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_dir_same_shard_and_spread() {
        let ring = Ring::new(vec!["a".into(), "b".into()], DEFAULT_VNODES);
        assert_eq!(
            ring.shard_for(Keyspace::Objects, "/u/stor/x"),
            ring.shard_for(Keyspace::Objects, "/u/stor/x")
        );
        let mut counts = [0usize; 2];
        for i in 0..10_000 {
            counts[ring.shard_for(Keyspace::Objects, &format!("/u/stor/d{i}"))] += 1;
        }
        assert!(counts.iter().all(|&c| c > 4_000), "{counts:?}");
        let again = Ring::new(vec!["a".into(), "b".into()], DEFAULT_VNODES);
        assert_eq!(
            ring.vnode(Keyspace::Objects, "/x"),
            again.vnode(Keyspace::Objects, "/x")
        );
        assert_ne!(
            ring.vnode(Keyspace::Objects, "/x"),
            ring.vnode(Keyspace::Jobs, "/x")
        );
    }

    #[test]
    fn vnodes_split_evenly_and_stay_in_range() {
        let ring = Ring::new(vec!["a".into(), "b".into(), "c".into()], DEFAULT_VNODES);
        let mut owned = [0usize; 3];
        for &o in &ring.owner {
            owned[o as usize] += 1;
        }
        assert_eq!(owned, [342, 341, 341]);
        for i in 0..1000 {
            assert!(ring.vnode(Keyspace::Buckets, &i.to_string()) < DEFAULT_VNODES);
        }
        let lonely = Ring::new(vec!["a".into()], DEFAULT_VNODES);
        assert_eq!(lonely.shard_for(Keyspace::Nodes, ""), 0);
    }
}
