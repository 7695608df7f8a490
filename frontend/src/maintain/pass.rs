//! One maintenance pass: list what every node holds, walk every record,
//! bring each blob back to the copies it wants (repair), then delete the
//! copies no record names (garbage collection).
//!
//! Why this order is safe against concurrent writes:
//! - The node listings come first and the records after, so a record
//!   scanned late may name a copy written after its node was listed. A
//!   copy missing from a listing is therefore asked for again before it
//!   counts as lost.
//! - A copy is collected only if no scanned record names it *and* its
//!   node says its file was last written or touched before the pass began,
//!   minus the grace period. Every record written while the pass runs
//!   names copies that are fresh by that measure: an upload writes them,
//!   a dedup upload rewrites them, and a record that shares existing
//!   copies (snaplink, copy, multipart completion) touches them first
//!   ([`ObjectStore::pin`]). The node checks the age under the same lock
//!   its uploads commit under, so a copy re-made mid-delete survives.
//! - Record rewrites are conditional on the record being the one scanned,
//!   so repair never undoes a concurrent overwrite or delete; the copies it
//!   made for a record that changed are collected by a later pass.

use super::refs::{self, FoundRef};
use super::report::PassReport;
use super::uploads::{self, Finished};
use super::MaintainSettings;
use crate::store::{BlobRef, NodeId, NodeState, ObjectStore, Result};
use metadata_tier::wire::{Condition, EntryKey, Keyspace, ScannedEntry};
use std::collections::{HashMap, HashSet};
use std::time::Instant;
use storage_node::wire::GcDelete;
use storage_node::BlobHash;

/// Keyspaces whose records may name blobs (objects, buckets' keys and
/// uploads, jobs' records).
const SPACES: [Keyspace; 3] = [Keyspace::Objects, Keyspace::Buckets, Keyspace::Jobs];
const SCAN_PAGE: usize = 500;
const LIST_PAGE: usize = 5_000;

/// A node as the pass sees it.
struct NodeView {
    id: NodeId,
    addr: String,
    state: NodeState,
    /// What it held when listed (size, age in ms); `None` when it was not
    /// listed (down, lost, or the listing failed).
    blobs: Option<HashMap<BlobHash, (u64, u64)>>,
}

pub(crate) struct Pass<'a> {
    store: &'a ObjectStore,
    settings: &'a MaintainSettings,
    started: Instant,
    nodes: Vec<NodeView>,
    index: HashMap<NodeId, usize>,
    /// (node index, blob) pairs some record names.
    named: HashSet<(usize, BlobHash)>,
    cursor: Cursor,
    /// Finished multipart uploads to remove after the walk.
    finished_uploads: Vec<Finished>,
    pub(crate) report: PassReport,
}

/// Where the record walk is: shard, keyspace, last key seen.
#[derive(Default)]
struct Cursor {
    shard: usize,
    space: usize,
    after: Option<EntryKey>,
}

impl<'a> Pass<'a> {
    /// Reads the registry and lists every reachable node's blobs.
    ///
    /// # Errors
    /// Metadata errors reading the registry.
    pub(crate) async fn begin(
        store: &'a ObjectStore,
        settings: &'a MaintainSettings,
        report: PassReport,
    ) -> Result<Pass<'a>> {
        let started = Instant::now();
        store.placement().invalidate().await;
        let registry = store.placement().nodes().await?;
        let mut pass = Pass {
            store,
            settings,
            started,
            nodes: Vec::new(),
            index: HashMap::new(),
            named: HashSet::new(),
            cursor: Cursor::default(),
            finished_uploads: Vec::new(),
            report,
        };
        for n in registry.iter() {
            let state = store.placement().state(n);
            match state {
                NodeState::Up => pass.report.nodes_up += 1,
                NodeState::Down => pass.report.nodes_down += 1,
                NodeState::Draining => pass.report.nodes_draining += 1,
                NodeState::Lost => pass.report.nodes_lost += 1,
            }
            let blobs = match state {
                NodeState::Up | NodeState::Draining => {
                    match list_node(store, &n.record.addr).await {
                        Ok(b) => Some(b),
                        Err(e) => {
                            tracing::warn!(node = %n.record.id, error = %e, "listing a node's blobs failed; no collection there this pass");
                            pass.report.nodes_unlisted += 1;
                            None
                        }
                    }
                }
                NodeState::Down | NodeState::Lost => None,
            };
            let id = NodeId(n.record.id.clone());
            pass.index.insert(id.clone(), pass.nodes.len());
            pass.nodes.push(NodeView {
                id,
                addr: n.record.addr.clone(),
                state,
                blobs,
            });
        }
        Ok(pass)
    }

    /// Walks the next page of records, repairing as it goes; `false` once
    /// every record of every shard has been walked.
    ///
    /// # Errors
    /// Metadata errors scanning.
    pub(crate) async fn scan_page(&mut self) -> Result<bool> {
        let meta = self.store.meta().clone();
        let Some(&space) = SPACES.get(self.cursor.space) else {
            return Ok(false);
        };
        if self.cursor.shard >= meta.shard_count() {
            return Ok(false);
        }
        let page = meta
            .scan(
                self.cursor.shard,
                space,
                self.cursor.after.take(),
                SCAN_PAGE,
            )
            .await?;
        for e in &page.entries {
            self.record(space, e).await;
        }
        match page.next {
            Some(k) => self.cursor.after = Some(k),
            None => {
                self.cursor.space += 1;
                if self.cursor.space == SPACES.len() {
                    self.cursor.space = 0;
                    self.cursor.shard += 1;
                }
            }
        }
        Ok(self.cursor.shard < meta.shard_count())
    }

    /// Checks (and repairs) the blobs one record names.
    async fn record(&mut self, space: Keyspace, e: &ScannedEntry) {
        if space == Keyspace::Objects {
            let now = crate::time::now_ms();
            if let Some(f) = uploads::finished(e, self.settings.upload_grace, now) {
                self.finished_uploads.push(f);
            }
        }
        let found = refs::find(&e.entry.value);
        if found.is_empty() {
            return;
        }
        self.report.records_scanned += 1;
        // Copied only when a blob's copies change: most records need none.
        let mut rewritten: Option<serde_json::Value> = None;
        for r in found {
            self.report.blobs_checked += 1;
            for c in &r.blob.copies {
                if let Some(&i) = self.index.get(c) {
                    self.named.insert((i, r.blob.hash));
                }
            }
            if let Some((copies, want)) = self.check(&r).await {
                let value = rewritten.get_or_insert_with(|| e.entry.value.clone());
                refs::rewrite(value, &r.pointer, &copies, want);
            }
        }
        let Some(value) = rewritten else {
            return;
        };
        let key = EntryKey::new(space, e.dir.clone(), e.entry.name.clone());
        let cond = Condition::EtagMatches(e.entry.etag.clone());
        match self.store.meta().put(key, value, cond).await {
            Ok(_) => {}
            Err(metadata_tier::Error::ConditionFailed { .. }) => {
                self.report.raced += 1;
                self.report.still_below += 1;
            }
            Err(err) => {
                tracing::warn!(dir = %e.dir, name = %e.entry.name, error = %err, "repair could not rewrite a record");
                self.report.repair_failures += 1;
                self.report.still_below += 1;
            }
        }
    }

    /// The copies `r` should list from now on (and its wanted count), when
    /// they differ from what it lists.
    async fn check(&mut self, r: &FoundRef) -> Option<(Vec<NodeId>, Option<u32>)> {
        let blob = &r.blob;
        let wanted = blob.wanted();
        // `counted`: copies that count toward durability (readable ones,
        // and those on down or unlisted nodes, which may come back);
        // `leaving`: copies that must be replaced but stay listed until
        // they are (draining and lost nodes'); `sources`: readable ones.
        let (mut counted, mut leaving, mut sources) = (Vec::new(), Vec::new(), Vec::new());
        let mut missing = false;
        for c in &blob.copies {
            if counted.contains(c) || leaving.contains(c) {
                missing = true;
                continue;
            }
            match self.copy_state(c, &blob.hash).await {
                CopyState::Good => {
                    counted.push(c.clone());
                    sources.push(c.clone());
                }
                CopyState::Unknown => counted.push(c.clone()),
                CopyState::Leaving { readable } => {
                    leaving.push(c.clone());
                    if readable {
                        sources.push(c.clone());
                    }
                }
                CopyState::Missing => missing = true,
            }
        }
        if counted.len() >= wanted && leaving.is_empty() && !missing {
            return None;
        }
        if counted.len() < wanted {
            self.report.below_durability += 1;
            if sources.is_empty() {
                self.report.unrecoverable += 1;
                tracing::error!(blob = %blob.hash.to_hex(), "no readable copy left");
            } else {
                let made = self.copy(blob, &sources, wanted - counted.len()).await;
                counted.extend(made);
            }
        }
        let short = counted.len() < wanted;
        if short {
            self.report.still_below += 1;
            // Until they are replaced, copies on their way out are still
            // the best there is.
            counted.extend(leaving);
        }
        if counted.is_empty() || counted == blob.copies {
            return None;
        }
        Some((counted, short.then_some(wanted as u32)))
    }

    async fn copy_state(&self, node: &NodeId, hash: &BlobHash) -> CopyState {
        let Some(&i) = self.index.get(node) else {
            // Not in the registry at all: it never beat, so it never will.
            return CopyState::Leaving { readable: false };
        };
        let n = &self.nodes[i];
        let held = match &n.blobs {
            None => None,
            Some(b) if b.contains_key(hash) => Some(true),
            // Listed before the record was scanned: ask again.
            Some(_) => match self.store.storage().get(&n.addr, hash, Some((0, 0))).await {
                Ok(_) => Some(true),
                Err(storage_node::Error::NotFound(_)) | Err(storage_node::Error::Corrupt(_)) => {
                    Some(false)
                }
                Err(_) => None,
            },
        };
        match (n.state, held) {
            (NodeState::Lost, _) => CopyState::Leaving { readable: false },
            (_, Some(false)) => CopyState::Missing,
            (NodeState::Draining, held) => CopyState::Leaving {
                readable: held == Some(true),
            },
            (NodeState::Down, _) | (NodeState::Up, None) => CopyState::Unknown,
            (NodeState::Up, Some(true)) => CopyState::Good,
        }
    }

    /// Makes up to `count` new copies of `blob` on up nodes not holding
    /// one, reading from `sources`; returns where they landed.
    async fn copy(&mut self, blob: &BlobRef, sources: &[NodeId], count: usize) -> Vec<NodeId> {
        // Not onto a node the record lists, whatever that copy's state.
        let except = &blob.copies;
        let targets = match self
            .store
            .placement()
            .choose_except(count, blob.size, except)
            .await
        {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(blob = %blob.hash.to_hex(), error = %e, "no node to repair onto");
                self.report.repair_failures += 1;
                return Vec::new();
            }
        };
        let mut made = Vec::new();
        for t in targets {
            let mut done = false;
            for s in sources {
                let Some(&i) = self.index.get(s) else {
                    continue;
                };
                let from = self.nodes[i].addr.clone();
                match self.store.copy_blob(&from, &t.addr, blob).await {
                    Ok(()) => {
                        done = true;
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(blob = %blob.hash.to_hex(), from = %s.0, to = %t.id.0, error = %e, "repair copy failed");
                    }
                }
            }
            if done {
                self.report.copies_made += 1;
                self.report.bytes_copied += blob.size;
                if let Some(&i) = self.index.get(&t.id) {
                    self.named.insert((i, blob.hash));
                }
                made.push(t.id);
            } else {
                self.report.repair_failures += 1;
            }
        }
        made
    }

    /// Removes the finished uploads the walk found (their blobs stay named
    /// by their objects, or become garbage for the next pass).
    pub(crate) async fn collect_uploads(&mut self) {
        for f in std::mem::take(&mut self.finished_uploads) {
            match uploads::remove(self.store, &f).await {
                Ok(true) => self.report.uploads_removed += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(upload = ?f, error = %e, "removing a finished upload failed")
                }
            }
        }
    }

    /// Deletes every listed copy no scanned record names, unless its node
    /// says it was written or touched after the pass began less the grace.
    pub(crate) async fn collect(&mut self) {
        let grace = self.settings.gc_grace;
        for i in 0..self.nodes.len() {
            let Some(blobs) = self.nodes[i].blobs.take() else {
                continue;
            };
            let addr = self.nodes[i].addr.clone();
            let mut dead: Vec<(BlobHash, u64, u64)> = blobs
                .into_iter()
                .filter(|(h, _)| !self.named.contains(&(i, *h)))
                .map(|(h, (size, age))| (h, size, age))
                .collect();
            dead.sort_unstable_by_key(|(h, ..)| *h);
            for (hash, size, age_ms) in dead {
                // The node judges again with the pass's age added, under
                // its commit lock; this only saves a call.
                if u128::from(age_ms) < grace.as_millis() {
                    self.report.gc_spared_young += 1;
                    continue;
                }
                let min_age = grace + self.started.elapsed();
                match self
                    .store
                    .storage()
                    .delete_if_older(&addr, &hash, min_age)
                    .await
                {
                    Ok(GcDelete::Deleted) => {
                        self.report.gc_deleted_blobs += 1;
                        self.report.gc_deleted_bytes += size;
                    }
                    Ok(GcDelete::TooYoung) => self.report.gc_spared_young += 1,
                    Ok(GcDelete::Absent) => {}
                    Err(e) => {
                        tracing::warn!(node = %self.nodes[i].id.0, blob = %hash.to_hex(), error = %e, "collecting a blob failed");
                        self.report.gc_failures += 1;
                    }
                }
            }
        }
    }
}

enum CopyState {
    /// Counts and is readable now.
    Good,
    /// Counts, but cannot be checked or read now (node down or unlisted).
    Unknown,
    /// Does not count and is to be replaced (draining or lost node).
    Leaving { readable: bool },
    /// Not there (deleted, or quarantined as corrupt): dropped at once.
    Missing,
}

/// Every blob a node holds: hash -> (size, age in ms).
async fn list_node(
    store: &ObjectStore,
    addr: &str,
) -> storage_node::Result<HashMap<BlobHash, (u64, u64)>> {
    let mut out = HashMap::new();
    let mut after = None;
    loop {
        let page = store
            .storage()
            .list_blobs(addr, after.as_ref(), LIST_PAGE)
            .await?;
        for b in page.blobs {
            out.insert(b.hash, (b.size, b.age_ms));
        }
        match page.next {
            Some(n) => after = Some(n),
            None => return Ok(out),
        }
    }
}
