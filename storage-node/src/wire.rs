//! Types that travel between a storage node and its callers (the frontend, the
//! job agent, tests). Both the server and [`crate::client`] use these, so the
//! two sides cannot drift.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Response header naming the blob a GET/HEAD/PUT answered for.
pub const HEADER_BLOB_HASH: &str = "x-blob-hash";
/// Request header on `PUT /blobs`: the byte count the caller expects to send.
pub const HEADER_EXPECTED_SIZE: &str = "x-expected-size";
/// Request header on `PUT /blobs`: base64 MD5 the caller expects.
pub const HEADER_CONTENT_MD5: &str = "content-md5";

/// BLAKE3 digest of a blob's bytes: the blob's name on every node.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct BlobHash(pub [u8; 32]);

impl BlobHash {
    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex characters (either case); `None` for anything else.
    pub fn from_hex(s: &str) -> Option<BlobHash> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(BlobHash(out))
    }

    /// Hash of an in-memory byte string.
    pub fn of(bytes: &[u8]) -> BlobHash {
        BlobHash(*blake3::hash(bytes).as_bytes())
    }
}

impl From<blake3::Hash> for BlobHash {
    fn from(h: blake3::Hash) -> Self {
        BlobHash(*h.as_bytes())
    }
}

impl fmt::Display for BlobHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Error for [`BlobHash::from_str`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseBlobHashError;

impl fmt::Display for ParseBlobHashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("blob hash must be 64 hex characters")
    }
}

impl std::error::Error for ParseBlobHashError {}

impl FromStr for BlobHash {
    type Err = ParseBlobHashError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BlobHash::from_hex(s).ok_or(ParseBlobHashError)
    }
}

impl Serialize for BlobHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for BlobHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        BlobHash::from_hex(&s).ok_or_else(|| serde::de::Error::custom(ParseBlobHashError))
    }
}

/// Answer to `PUT /blobs`, sent only once the blob is durable on disk.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct PutResponse {
    pub hash: BlobHash,
    pub size: u64,
    /// Base64 MD5 of the bytes, as `Content-MD5` carries it.
    pub md5: String,
    /// The node already had this blob; the upload was dropped.
    pub existed: bool,
}

/// Answer to `GET /status`: capacity and load, also sent in heartbeats.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct StatusReport {
    pub id: String,
    pub free_bytes: u64,
    pub used_bytes: u64,
    pub blob_count: u64,
    pub inflight: u64,
    /// Copies found corrupt and moved to the node's quarantine; absent in
    /// reports from nodes older than verified reads.
    #[serde(default)]
    pub quarantined: u64,
    /// Blob bytes the scrubber read back and verified (this process).
    #[serde(default)]
    pub scrubbed_bytes: u64,
    /// Blobs the scrubber checked to the end (this process).
    #[serde(default)]
    pub scrubbed_blobs: u64,
    /// Full scrub passes finished (this process).
    #[serde(default)]
    pub scrub_passes: u64,
    /// Copies the scrubber found corrupt and quarantined (this process).
    #[serde(default)]
    pub scrub_corrupt: u64,
    /// End of the last full scrub pass, ms since the Unix epoch (kept
    /// across restarts); `None` if none finished yet.
    #[serde(default)]
    pub scrub_last_pass_end_ms: Option<u64>,
    /// Blobs removed by GC deletes (this process).
    #[serde(default)]
    pub gc_deleted_blobs: u64,
    /// Bytes of those blobs.
    #[serde(default)]
    pub gc_deleted_bytes: u64,
    /// Touches of blobs the node holds (this process).
    #[serde(default)]
    pub touches: u64,
}

/// One blob in a [`BlobPage`].
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobEntry {
    pub hash: BlobHash,
    pub size: u64,
    /// Now minus the blob file's mtime, by the node's own clock (0 if the
    /// mtime is in the future): callers need no clock agreement.
    pub age_ms: u64,
}

/// Answer to `GET /blobs?after=&limit=`: committed blobs in ascending hash
/// order.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct BlobPage {
    pub blobs: Vec<BlobEntry>,
    /// Pass as `after` for the next page; `None` when this is the last.
    pub next: Option<BlobHash>,
}

/// Outcome of a GC delete (`DELETE /blobs/{hash}?min_age_ms=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GcDelete {
    /// The blob and its tree are gone (204).
    Deleted,
    /// The blob's mtime is younger than the minimum age; kept (409
    /// `BlobTooYoung`).
    TooYoung,
    /// The node has no copy (404).
    Absent,
}

/// Answer to `POST /scrub`.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScrubRequested {
    /// When [`StatusReport::scrub_passes`] reaches this, a pass that began
    /// after the request has ended: every blob committed before it was
    /// checked.
    pub pass: u64,
}

/// JSON body of every non-2xx answer.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

/// Error codes in [`ErrorBody::code`]; the client maps them back to
/// [`crate::Error`] variants.
pub mod codes {
    pub const NOT_FOUND: &str = "NotFound";
    pub const MD5_MISMATCH: &str = "ContentMD5Mismatch";
    pub const SIZE_MISMATCH: &str = "SizeMismatch";
    pub const HASH_MISMATCH: &str = "HashMismatch";
    pub const BAD_RANGE: &str = "RequestedRangeNotSatisfiable";
    pub const BAD_REQUEST: &str = "BadRequest";
    pub const BODY_ERROR: &str = "BodyError";
    pub const INTERNAL: &str = "InternalError";
    pub const CORRUPT: &str = "Corrupt";
    /// A GC delete found the blob younger than its `min_age_ms`.
    pub const BLOB_TOO_YOUNG: &str = "BlobTooYoung";
    /// `POST /scrub` on a node whose scrubber is off (`scrub_rate_mb = 0`).
    pub const SCRUB_DISABLED: &str = "ScrubDisabled";
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let h = BlobHash::of(b"hello");
        assert_eq!(BlobHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(h.to_string().parse::<BlobHash>(), Ok(h));
        assert_eq!(BlobHash::from_hex(&h.to_hex().to_uppercase()), Some(h));
        assert_eq!(BlobHash::from_hex("abc"), None);
        assert_eq!(BlobHash::from_hex(&"zz".repeat(32)), None);
    }

    #[test]
    fn serde_as_hex_string() {
        let h = BlobHash::of(b"x");
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(json, format!("\"{}\"", h.to_hex()));
        assert_eq!(serde_json::from_str::<BlobHash>(&json).unwrap(), h);
        assert!(serde_json::from_str::<BlobHash>("\"nothex\"").is_err());
    }
}
