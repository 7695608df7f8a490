//! Where S3 records live on the metadata tier (see [`super::records`]), and
//! the lookups and body expectations every operation shares.

pub(crate) use super::access::{bucket, bucket_any, bucket_for, check_read, expect_owner};
use super::records::BucketRecord;
use super::{S3Error, S3Req, S3Result};
use crate::store::Expect;
use metadata_tier::wire::{Entry, EntryKey, Keyspace};
use serde::de::DeserializeOwned;
use serde::Serialize;

const MAX_KEY_BYTES: usize = 1024;

pub(crate) fn global_bucket_key(name: &str) -> EntryKey {
    EntryKey::new(Keyspace::Buckets, "", name)
}

pub(crate) fn account_bucket_key(owner: &str, name: &str) -> EntryKey {
    EntryKey::new(Keyspace::Buckets, owner, name)
}

/// The partition of `key`: BLAKE3 of the key, modulo the bucket's count.
pub(crate) fn partition(b: &BucketRecord, key: &str) -> u32 {
    let h = blake3::hash(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&h.as_bytes()[..8]);
    (u64::from_be_bytes(first) % u64::from(b.partitions.max(1))) as u32
}

pub(crate) fn partition_dir(b: &BucketRecord, p: u32) -> String {
    format!("{}/{}/{p}", b.owner, b.name)
}

pub(crate) fn partition_dirs(b: &BucketRecord) -> Vec<String> {
    (0..b.partitions.max(1))
        .map(|p| partition_dir(b, p))
        .collect()
}

pub(crate) fn object_key(b: &BucketRecord, key: &str) -> EntryKey {
    EntryKey::new(Keyspace::Buckets, partition_dir(b, partition(b, key)), key)
}

pub(crate) fn uploads_dir(b: &BucketRecord) -> String {
    format!("{}/{}/uploads", b.owner, b.name)
}

pub(crate) fn parts_dir(b: &BucketRecord, upload_id: &str) -> String {
    format!("{}/{}/uploads/{upload_id}", b.owner, b.name)
}

/// # Errors
/// `KeyTooLongError`, `InvalidArgument` for a NUL.
pub(crate) fn validate_key(key: &str) -> S3Result<()> {
    if key.len() > MAX_KEY_BYTES {
        return Err(S3Error::KeyTooLongError);
    }
    if key.contains('\0') {
        return Err(S3Error::InvalidArgument("key contains NUL".into()));
    }
    Ok(())
}

pub(crate) fn decode<T: DeserializeOwned>(entry: &Entry) -> S3Result<T> {
    Ok(crate::store::codec::decode(entry, &entry.name)?)
}

pub(crate) fn encode<T: Serialize>(rec: &T) -> S3Result<serde_json::Value> {
    Ok(crate::store::codec::encode(rec)?)
}

/// The entry and record of `key`, which must exist.
///
/// # Errors
/// `NoSuchKey`; metadata errors.
pub(crate) async fn existing<T: DeserializeOwned>(
    req: &S3Req,
    b: &BucketRecord,
    key: &str,
) -> S3Result<(Entry, T)> {
    object(req, b, key)
        .await?
        .ok_or_else(|| S3Error::NoSuchKey {
            key: key.to_string(),
        })
}

/// The entry and record of `key`, if it exists.
///
/// # Errors
/// Metadata errors.
pub(crate) async fn object<T: DeserializeOwned>(
    req: &S3Req,
    b: &BucketRecord,
    key: &str,
) -> S3Result<Option<(Entry, T)>> {
    match req.st.app.meta.get(&object_key(b, key)).await? {
        None => Ok(None),
        Some(e) => {
            let rec = decode(&e)?;
            Ok(Some((e, rec)))
        }
    }
}

/// What the client promised about the body: its length (the decoded length
/// for `aws-chunked`), `Content-MD5`.
///
/// # Errors
/// `InvalidArgument` for a bad length, `InvalidDigest` for a bad MD5.
pub(crate) fn expect(req: &S3Req) -> S3Result<Expect> {
    let num = |name: &str| -> S3Result<Option<u64>> {
        match req.header(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| S3Error::InvalidArgument(format!("invalid {name}"))),
        }
    };
    let len = match num("x-amz-decoded-content-length")? {
        Some(l) => Some(l),
        None => num("content-length")?,
    };
    let md5 = match req.header("content-md5") {
        None => None,
        Some(v) => {
            use base64::Engine;
            let raw = base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .map_err(|_| S3Error::InvalidDigest)?;
            Some(<[u8; 16]>::try_from(raw).map_err(|_| S3Error::InvalidDigest)?)
        }
    };
    let max = req.st.app.settings.max_streaming_bytes;
    Ok(Expect {
        len,
        max_len: len.map_or(max, |l| l.max(max)),
        md5,
        idle: req.st.app.settings.upload_idle,
    })
}

/// The expectations of a body the server makes itself (copies).
pub(crate) fn expect_empty(req: &S3Req) -> Expect {
    Expect {
        len: Some(0),
        max_len: req.st.app.settings.max_streaming_bytes,
        md5: None,
        idle: req.st.app.settings.upload_idle,
    }
}

/// A small request body (an XML document), read whole up to `max` bytes.
/// A body a signature check refused answers with that check's error; any
/// other failure is `MalformedXml`.
///
/// # Errors
/// As above.
pub(crate) async fn read_small(body: axum::body::Body, max: usize) -> S3Result<bytes::Bytes> {
    axum::body::to_bytes(body, max).await.map_err(|e| {
        match crate::store::error::rejection(Box::new(e)).map(|c| c.downcast::<S3Error>()) {
            Some(Ok(e)) => *e,
            _ => S3Error::MalformedXml,
        }
    })
}
