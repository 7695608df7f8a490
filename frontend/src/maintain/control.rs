//! The records that coordinate maintenance across frontends, beside the
//! node registry (`Keyspace::Nodes`, directory [`DIR`]):
//!
//! - `lease`: which frontend runs passes. Any frontend may; one at a time
//!   is enough, and two would copy the same blobs twice. Taken and renewed
//!   with conditional writes, aged by the shard's clock, so it needs no
//!   clock agreement and a crashed holder loses it after [`LEASE_TTL`].
//! - `status`: the last pass's report, the one running now, and totals,
//!   for `mantad admin repair|gc status` and any frontend's metrics.
//! - `request`: an operator's "run a pass now" (`mantad admin gc run`).

use super::report::Status;
use crate::store::{Error, Result};
use metadata_tier::wire::{Condition, Entry, EntryKey, Keyspace, ListOptions};
use metadata_tier::MetadataClient;
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub const DIR: &str = "maintenance";
/// A holder silent this long loses the lease.
pub const LEASE_TTL: Duration = Duration::from_secs(60);

fn key(name: &str) -> EntryKey {
    EntryKey::new(Keyspace::Nodes, DIR, name)
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct LeaseRecord {
    holder: String,
}

/// This frontend's hold on the lease, if it has one.
pub(crate) struct Lease {
    meta: MetadataClient,
    holder: String,
    /// The lease entry's etag when we last wrote it.
    etag: Option<String>,
}

impl Lease {
    pub(crate) fn new(meta: MetadataClient, holder: String) -> Self {
        Lease {
            meta,
            holder,
            etag: None,
        }
    }

    /// Takes or renews the lease; `false` while another live holder has it.
    ///
    /// # Errors
    /// Metadata errors.
    pub(crate) async fn hold(&mut self) -> Result<bool> {
        let page = self
            .meta
            .list(Keyspace::Nodes, DIR, &ListOptions::default())
            .await?;
        let current = page.entries.iter().find(|e| e.name == "lease");
        let cond = match current {
            None => Condition::Absent,
            Some(e) => {
                let ours = serde_json::from_value::<LeaseRecord>(e.value.clone())
                    .is_ok_and(|l| l.holder == self.holder);
                let expired = page.now_ms.saturating_sub(e.mtime_ms) > LEASE_TTL.as_millis() as u64;
                if !ours && !expired {
                    self.etag = None;
                    return Ok(false);
                }
                Condition::EtagMatches(e.etag.clone())
            }
        };
        let value = serde_json::to_value(LeaseRecord {
            holder: self.holder.clone(),
        })
        .map_err(|e| Error::Internal(e.to_string()))?;
        match self.meta.put(key("lease"), value, cond).await {
            Ok(e) => {
                self.etag = Some(e.etag);
                Ok(true)
            }
            Err(metadata_tier::Error::ConditionFailed { .. }) => {
                self.etag = None;
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Gives the lease up (at shutdown), so another frontend need not wait.
    pub(crate) async fn release(&mut self) {
        if let Some(etag) = self.etag.take() {
            let _ = self
                .meta
                .delete(key("lease"), Condition::EtagMatches(etag))
                .await;
        }
    }
}

/// The status record, or the default when none was written yet.
///
/// # Errors
/// Metadata errors; an unreadable record.
pub async fn read_status(meta: &MetadataClient) -> Result<Status> {
    match meta.get(&key("status")).await? {
        None => Ok(Status::default()),
        Some(e) => serde_json::from_value(e.value).map_err(|e| Error::Internal(e.to_string())),
    }
}

pub(crate) async fn write_status(meta: &MetadataClient, status: &Status) -> Result<()> {
    let value = serde_json::to_value(status).map_err(|e| Error::Internal(e.to_string()))?;
    meta.put(key("status"), value, Condition::None).await?;
    Ok(())
}

/// Asks the lease holder for a pass now; returns the request's id, which
/// the pass that serves it reports as `served_request`.
///
/// # Errors
/// Metadata errors.
pub async fn request_pass(meta: &MetadataClient) -> Result<String> {
    let e = meta
        .put(key("request"), serde_json::json!({}), Condition::None)
        .await?;
    Ok(e.etag)
}

/// The pending request's id, if any.
pub(crate) async fn pending_request(meta: &MetadataClient) -> Result<Option<Entry>> {
    Ok(meta.get(&key("request")).await?)
}
