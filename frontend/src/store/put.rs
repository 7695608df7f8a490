//! Writes: a body becomes a blob on N nodes, then a record names it.
//!
//! The record write is where concurrent writers meet. The shard replaces a
//! record atomically, so an unconditional write ([`WriteCond::Replace`])
//! needs no read-modify-write and cannot lose to another writer: the last
//! one wins. Its only guard, checked by the shard in the same step, is that
//! it never replaces a directory. Conditional writes (`If-Match`, create
//! only) are the only ones that can lose a race.

use super::error::{Error, Result};
use super::stored::{BlobRef, Stored};
use super::upload::{fan_out, Expect};
use super::ObjectStore;
use axum::body::Body;
use metadata_tier::wire::{Condition, Entry, EntryKey};
use serde::Serialize;

/// How many copies a write makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Copies {
    /// The configured default, or as many nodes as are live if fewer.
    Default,
    /// Exactly this many, or the write fails (`durability-level`).
    Exactly(u32),
}

/// A body as stored: where, and the MD5 the APIs report.
#[derive(Debug, Clone)]
pub(crate) struct Written {
    pub(crate) stored: Stored,
    pub(crate) md5: [u8; 16],
}

/// What a record write requires of the entry it replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WriteCond {
    /// Last writer wins; never replaces a directory.
    Replace,
    /// Only if nothing is there.
    Create,
    /// Only if the entry is still the one seen (its shard etag).
    Matches(String),
}

impl WriteCond {
    fn to_condition(&self) -> Condition {
        match self {
            WriteCond::Replace => Condition::FieldNot {
                pointer: "/type".into(),
                value: serde_json::Value::from("directory"),
            },
            WriteCond::Create => Condition::Absent,
            WriteCond::Matches(etag) => Condition::EtagMatches(etag.clone()),
        }
    }

    fn lost(&self, name: &str) -> Error {
        let name = name.to_string();
        match self {
            WriteCond::Replace => Error::IsDirectory { name },
            WriteCond::Create | WriteCond::Matches(_) => Error::ConditionFailed { name },
        }
    }
}

impl ObjectStore {
    /// Streams `body` to newly placed nodes as one blob.
    ///
    /// # Errors
    /// Placement (`NoStorageNodes`, `NotEnoughSpace`), the body's faults
    /// (short, too long, idle, MD5, rejected by a check) and node failures.
    pub(crate) async fn write_blob(
        &self,
        body: Body,
        copies: Copies,
        expect: &Expect,
    ) -> Result<Written> {
        let (targets, want) = if expect.len == Some(0) {
            (Vec::new(), None)
        } else {
            let (n, want) = self.copies_to_make(copies).await?;
            (
                self.placement.choose(n, expect.len.unwrap_or(0)).await?,
                want,
            )
        };
        let up = fan_out(&self.storage, &targets, body, expect).await?;
        let stored = if up.size == 0 {
            Stored::Empty
        } else {
            Stored::Blob(BlobRef {
                hash: up.hash,
                size: up.size,
                copies: targets.into_iter().map(|t| t.id).collect(),
                want,
            })
        };
        Ok(Written {
            stored,
            md5: up.md5,
        })
    }

    /// How many copies to make now, and how many the record should ask
    /// repair for when that is more.
    ///
    /// # Errors
    /// `NotEnoughCopies` when fewer nodes are up than the default durability
    /// and the operator does not allow degraded writes.
    async fn copies_to_make(&self, copies: Copies) -> Result<(usize, Option<u32>)> {
        let wanted = match copies {
            Copies::Exactly(n) => return Ok((n as usize, None)),
            Copies::Default => self.default_durability as usize,
        };
        let up = self.placement.live_count().await?;
        if up >= wanted {
            return Ok((wanted, None));
        }
        if up == 0 {
            return Err(Error::NoStorageNodes);
        }
        if !self.allow_degraded_writes {
            return Err(Error::NotEnoughCopies {
                wanted,
                available: up,
            });
        }
        tracing::warn!(
            wanted,
            up,
            "degraded write: repair will add the missing copies"
        );
        Ok((up, Some(wanted as u32)))
    }

    /// Stores `body` and then the record `build` makes of it under `key`.
    /// `name` is how errors name the object.
    ///
    /// # Errors
    /// As [`ObjectStore::write_blob`] and [`ObjectStore::write_record`].
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn put<R: Serialize>(
        &self,
        key: EntryKey,
        name: &str,
        body: Body,
        copies: Copies,
        expect: &Expect,
        cond: WriteCond,
        build: impl FnOnce(Written) -> R,
    ) -> Result<(R, Entry)> {
        let written = self.write_blob(body, copies, expect).await?;
        let rec = build(written);
        let entry = self.write_record(key, name, &rec, cond).await?;
        Ok((rec, entry))
    }

    /// Writes a record under `cond`.
    ///
    /// # Errors
    /// `IsDirectory` when a `Replace` met a directory, `ConditionFailed`
    /// when a conditional write lost its race; metadata errors.
    pub(crate) async fn write_record<R: Serialize>(
        &self,
        key: EntryKey,
        name: &str,
        rec: &R,
        cond: WriteCond,
    ) -> Result<Entry> {
        let value = super::codec::encode(rec)?;
        match self.meta.put(key, value, cond.to_condition()).await {
            Ok(e) => Ok(e),
            Err(metadata_tier::Error::ConditionFailed { .. }) => Err(cond.lost(name)),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes a record under `cond`. The blobs stay: other records may
    /// share them, and reclaiming unreferenced blobs is garbage collection's.
    ///
    /// # Errors
    /// As [`ObjectStore::write_record`].
    pub(crate) async fn delete_record(
        &self,
        key: EntryKey,
        name: &str,
        cond: WriteCond,
    ) -> Result<()> {
        match self.meta.delete(key, cond.to_condition()).await {
            Ok(_) => Ok(()),
            Err(metadata_tier::Error::ConditionFailed { .. }) => Err(cond.lost(name)),
            Err(e) => Err(e.into()),
        }
    }
}
