//! Typed HTTP client for a storage node, used by the frontend (and tests).
//! Error answers are turned back into the [`Error`] variants the node
//! started from, so callers match on the same enum either side of the wire.
//! The upkeep calls (listing, GC delete, touch, scrub) are in `upkeep`.

mod upkeep;

/// The upkeep calls' answers, here too for callers of this module.
pub use crate::wire::{BlobEntry, BlobPage, GcDelete};

use std::time::Duration;

use base64::Engine;
use reqwest::{header, StatusCode};

use metadata_tier::net::ClusterKey;

use crate::blobstore::PutExpect;
use crate::wire::{
    codes, BlobHash, ErrorBody, PutResponse, StatusReport, HEADER_BLOB_HASH, HEADER_CONTENT_MD5,
    HEADER_EXPECTED_SIZE,
};
use crate::{Error, Result};

/// Fail fast on a dead node so the caller can pick another one.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A connection whose sent bytes stay unacknowledged this long is closed
/// (`TCP_USER_TIMEOUT`). A node whose machine died sends no reset: without
/// this, a request caught on a pooled connection to it waits for TCP to
/// give up (about 15 minutes) before the caller fails over. Set here
/// rather than left to reqwest's default (30 s in 0.12.28), which could
/// change under us; a live node, however busy, acknowledges bytes.
#[cfg(target_os = "linux")]
const UNACKED_TIMEOUT: Duration = Duration::from_secs(10);

/// Client for any number of storage nodes; clones share one connection pool.
#[derive(Clone, Debug)]
pub struct StorageClient {
    http: reqwest::Client,
    key: ClusterKey,
}

impl StorageClient {
    /// A client with keep-alive and a short connect timeout, but no overall
    /// timeout: a body of many GiB legitimately takes minutes. Every call
    /// carries the cluster `key`.
    pub fn new(key: ClusterKey) -> Self {
        let builder = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .pool_idle_timeout(metadata_tier::net::serve::CLIENT_POOL_IDLE)
            .tcp_nodelay(true);
        #[cfg(target_os = "linux")]
        let builder = builder.tcp_user_timeout(UNACKED_TIMEOUT);
        let http = builder.build().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "custom HTTP client failed to build; using defaults");
            reqwest::Client::new()
        });
        StorageClient { http, key }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        Ok(self.key.send(&self.http, req).await?)
    }

    /// Uploads `body` to the node at `addr` (`http://host:port`).
    ///
    /// # Errors
    /// [`Error::Md5Mismatch`], [`Error::SizeMismatch`],
    /// [`Error::HashMismatch`] if the node rejected the bytes,
    /// [`Error::Http`] on transport failure, [`Error::Remote`] otherwise.
    pub async fn put(
        &self,
        addr: &str,
        body: reqwest::Body,
        expect: &PutExpect,
    ) -> Result<PutResponse> {
        let mut req = self.http.put(format!("{}/blobs", base(addr))).body(body);
        if let Some(md5) = expect.md5 {
            req = req.header(HEADER_CONTENT_MD5, b64(&md5));
        }
        if let Some(size) = expect.size {
            req = req.header(HEADER_EXPECTED_SIZE, size.to_string());
        }
        if let Some(hash) = expect.hash {
            req = req.header(HEADER_BLOB_HASH, hash.to_hex());
        }
        let resp = self.send(req).await?;
        if resp.status().is_success() {
            return Ok(resp.json().await?);
        }
        Err(remote_error(resp, None, Some(expect)).await)
    }

    /// Starts reading a blob, or `[start, end]` (inclusive) of it; the caller
    /// streams the body. Succeeds only on 200 or 206. The node sends only
    /// verified bytes: if it finds its copy corrupt midway, the body ends
    /// early with an error (the bytes before are right).
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::BadRange`], [`Error::Corrupt`] (the
    /// node's copy failed verification before the first byte and is now
    /// quarantined), [`Error::Http`], [`Error::Remote`].
    pub async fn get(
        &self,
        addr: &str,
        hash: &BlobHash,
        range: Option<(u64, u64)>,
    ) -> Result<reqwest::Response> {
        let mut req = self.http.get(blob_url(addr, hash));
        if let Some((start, end)) = range {
            req = req.header(header::RANGE, format!("bytes={start}-{end}"));
        }
        let resp = self.send(req).await?;
        match resp.status() {
            StatusCode::OK | StatusCode::PARTIAL_CONTENT => Ok(resp),
            _ => Err(remote_error(resp, Some(hash), None).await),
        }
    }

    /// Deletes a blob; `false` if the node did not have it.
    ///
    /// # Errors
    /// [`Error::Http`], [`Error::Remote`].
    pub async fn delete(&self, addr: &str, hash: &BlobHash) -> Result<bool> {
        let resp = self.send(self.http.delete(blob_url(addr, hash))).await?;
        match resp.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(remote_error(resp, Some(hash), None).await),
        }
    }

    /// The node's capacity and load.
    ///
    /// # Errors
    /// [`Error::Http`], [`Error::Remote`].
    pub async fn status(&self, addr: &str) -> Result<StatusReport> {
        let resp = self
            .send(self.http.get(format!("{}/status", base(addr))))
            .await?;
        if resp.status().is_success() {
            return Ok(resp.json().await?);
        }
        Err(remote_error(resp, None, None).await)
    }
}

fn base(addr: &str) -> &str {
    addr.trim_end_matches('/')
}

fn blob_url(addr: &str, hash: &BlobHash) -> String {
    format!("{}/blobs/{}", base(addr), hash.to_hex())
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Rebuilds the node's error from its answer. `hash` and `expect` are what
/// the request asked about; the node's message supplies what it found (the
/// last word of the error text, see [`Error`]'s Display).
async fn remote_error(
    resp: reqwest::Response,
    hash: Option<&BlobHash>,
    expect: Option<&PutExpect>,
) -> Error {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    let body: ErrorBody = serde_json::from_str(&text).unwrap_or_else(|_| ErrorBody {
        code: String::new(),
        message: text,
    });
    let found = body.message.rsplit(' ').next().unwrap_or_default();
    let mapped = match (body.code.as_str(), hash, expect) {
        (codes::NOT_FOUND, Some(h), _) => Some(Error::NotFound(*h)),
        (codes::BAD_RANGE, ..) => Some(Error::BadRange),
        (codes::CORRUPT, Some(h), _) => Some(Error::Corrupt(*h)),
        (codes::MD5_MISMATCH, _, Some(PutExpect { md5: Some(m), .. })) => {
            Some(Error::Md5Mismatch {
                expected: b64(m),
                computed: found.to_string(),
            })
        }
        (codes::SIZE_MISMATCH, _, Some(PutExpect { size: Some(s), .. })) => found
            .parse()
            .ok()
            .map(|got| Error::SizeMismatch { expected: *s, got }),
        (codes::HASH_MISMATCH, _, Some(PutExpect { hash: Some(h), .. })) => {
            BlobHash::from_hex(found).map(|got| Error::HashMismatch { expected: *h, got })
        }
        _ => None,
    };
    mapped.unwrap_or(Error::Remote {
        status,
        code: body.code,
        message: body.message,
    })
}
