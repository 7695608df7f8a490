//! Collecting finished Manta multipart uploads (docs/manta-api.md,
//! "Multipart uploads"): the record walk notes every upload directory
//! whose upload is done (committed or aborted) and was last written more
//! than [`super::MaintainSettings::upload_grace`] ago; after the walk,
//! each is removed with any part record left in it (a commit or abort
//! removes them, unless it stopped half way).
//!
//! - An upload being committed or aborted (`finalizing`) is never
//!   touched; the directory's removal is conditional on its record being
//!   the one scanned, so an upload written since is spared.
//! - A committed upload's blobs are its object's: removing part records
//!   frees none of them (garbage collection sees the object name them).
//!   An aborted one's are named by nothing once their records are gone,
//!   and garbage collection reclaims them like any unnamed blob.
//! - The prefix directories (`/:login/uploads/<prefix>`) stay: at most
//!   4096, and a create may be writing into one.

use crate::records::{ObjectRecord, UploadState};
use crate::store::ObjectStore;
use metadata_tier::wire::{Condition, EntryKey, Keyspace, ListOptions, Op, ScannedEntry};
use std::time::Duration;

/// An upload directory to remove: where, and its record's etag when seen.
#[derive(Debug, Clone)]
pub(crate) struct Finished {
    dir: String,
    name: String,
    etag: String,
}

/// The upload `e` holds, if it is finished and older than `grace` at
/// `now_ms`.
pub(crate) fn finished(e: &ScannedEntry, grace: Duration, now_ms: u64) -> Option<Finished> {
    let up = e.entry.value.get("upload")?;
    if up.get("state").and_then(|s| s.as_str()) != Some("done") {
        return None;
    }
    // Decoded whole, so only a record this release understands goes.
    let rec: ObjectRecord = serde_json::from_value(e.entry.value.clone()).ok()?;
    if rec.upload.as_ref()?.state != UploadState::Done {
        return None;
    }
    let age = now_ms.saturating_sub(e.entry.mtime_ms);
    (u128::from(age) >= grace.as_millis()).then(|| Finished {
        dir: e.dir.clone(),
        name: e.entry.name.clone(),
        etag: e.entry.etag.clone(),
    })
}

/// Removes `f`'s part records, then its directory; returns whether the
/// directory went.
///
/// # Errors
/// Metadata errors.
pub(crate) async fn remove(store: &ObjectStore, f: &Finished) -> crate::store::Result<bool> {
    let meta = store.meta();
    let parts_dir = format!("{}/{}", f.dir, f.name);
    loop {
        let opts = ListOptions {
            limit: 1000,
            ..ListOptions::default()
        };
        let page = meta.list(Keyspace::Objects, &parts_dir, &opts).await?;
        if page.entries.is_empty() {
            break;
        }
        let ops = page
            .entries
            .iter()
            .map(|e| Op::Delete {
                key: EntryKey::new(Keyspace::Objects, parts_dir.clone(), e.name.clone()),
                cond: Condition::None,
            })
            .collect();
        meta.apply(ops).await?;
    }
    let key = EntryKey::new(Keyspace::Objects, f.dir.clone(), f.name.clone());
    match meta
        .delete(key, Condition::EtagMatches(f.etag.clone()))
        .await
    {
        Ok(gone) => Ok(gone.is_some()),
        Err(metadata_tier::Error::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
