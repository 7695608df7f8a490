//! What the S3 API keeps on the metadata tier (Keyspace::Buckets), each
//! record versioned by `v`:
//!
//! | dir                                   | name        | record          |
//! |---------------------------------------|-------------|-----------------|
//! | `""`                                  | bucket      | [`BucketRecord`] (global: names are unique) |
//! | `<account uuid>`                      | bucket      | [`BucketRecord`] (ListBuckets) |
//! | `<account uuid>/<bucket>/<partition>` | key         | [`S3Object`]    |
//! | `<account uuid>/<bucket>/uploads`     | upload id   | [`UploadRecord`] |
//! | `<account uuid>/<bucket>/uploads/<id>`| part number | [`PartRecord`]  |
//!
//! The ring places entries by (keyspace, dir), so a bucket's keys spread over
//! its `partitions` dirs, hence over shards; see docs/s3.md.

use crate::store::{AccountId, Stored};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub(crate) const S3_RECORD_VERSION: u32 = 1;

/// Partitions of a new bucket's keyspace. Stored in the bucket record, so a
/// later default applies to new buckets only.
pub(crate) const DEFAULT_PARTITIONS: u32 = 16;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct BucketRecord {
    pub(crate) v: u32,
    pub(crate) name: String,
    /// Owner account uuid.
    pub(crate) owner: AccountId,
    pub(crate) owner_login: String,
    pub(crate) created_ms: u64,
    pub(crate) partitions: u32,
    #[serde(default)]
    pub(crate) request_id: String,
    /// Canned ACL (`public-read`...); `None` is private.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) acl: Option<String>,
}

/// One key of a bucket. A single-part object has one [`Stored`] part; a completed
/// multipart upload has one per part, read in order.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct S3Object {
    pub(crate) v: u32,
    /// Without quotes: MD5 hex, or `md5-of-md5s-N` after multipart.
    pub(crate) etag: String,
    pub(crate) size: u64,
    pub(crate) content_type: String,
    pub(crate) parts: Vec<Stored>,
    /// `x-amz-meta-*` (lower-case names, prefix kept) and the stored
    /// standard headers (content-encoding, cache-control...).
    #[serde(default)]
    pub(crate) headers: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) request_id: String,
    /// `x-amz-checksum-*` header and value the client sent and we checked;
    /// for a multipart object the combined value (`<base64>-<parts>` when
    /// composite).
    #[serde(default)]
    pub(crate) checksum: Option<(String, String)>,
    /// Each part's value (same algorithm), when the parts had checksums.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) part_checksums: Vec<String>,
    /// Canned ACL (`public-read`...); `None` is private.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) acl: Option<String>,
}

impl S3Object {
    pub(crate) fn quoted_etag(&self) -> String {
        format!("\"{}\"", self.etag)
    }
}

/// A multipart upload in progress.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct UploadRecord {
    pub(crate) v: u32,
    pub(crate) upload_id: String,
    pub(crate) key: String,
    pub(crate) initiated_ms: u64,
    pub(crate) content_type: String,
    #[serde(default)]
    pub(crate) headers: BTreeMap<String, String>,
    /// `x-amz-checksum-algorithm` given at creation (`CRC32`...): every
    /// part gets a checksum of it and the object a combined one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) checksum_algorithm: Option<String>,
    /// `COMPOSITE` or `FULL_OBJECT` (`x-amz-checksum-type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) checksum_type: Option<String>,
    /// Who began the upload: account uuid and login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) initiator: Option<(String, String)>,
    /// The completed object's canned ACL (`x-amz-acl` at creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) acl: Option<String>,
}

/// One uploaded part.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct PartRecord {
    pub(crate) v: u32,
    pub(crate) number: u32,
    /// MD5 hex of the part, without quotes.
    pub(crate) etag: String,
    pub(crate) md5: [u8; 16],
    pub(crate) part: Stored,
    pub(crate) modified_ms: u64,
    /// `x-amz-checksum-*` header and value, checked (or computed for an
    /// upload created with an algorithm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) checksum: Option<(String, String)>,
}

/// The name of part `n` in its upload's dir: zero-padded so names sort by
/// number.
pub(crate) fn part_name(n: u32) -> String {
    format!("{n:05}")
}
