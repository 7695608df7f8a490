//! The client side of the upkeep routes (`server::upkeep`): what the
//! cluster's repair and GC worker calls.

use std::time::Duration;

use reqwest::StatusCode;

use super::{base, blob_url, remote_error, StorageClient};
use crate::wire::{codes, BlobHash, BlobPage, ErrorBody, GcDelete, ScrubRequested};
use crate::{Error, Result};

impl StorageClient {
    /// Up to `limit` (at most 10000) of the node's blobs with hashes above
    /// `after`, in ascending order, with sizes and ages by the node's
    /// clock; pass the page's `next` as `after` for the next one.
    ///
    /// # Errors
    /// [`Error::Http`], [`Error::Remote`].
    pub async fn list_blobs(
        &self,
        addr: &str,
        after: Option<&BlobHash>,
        limit: usize,
    ) -> Result<BlobPage> {
        let mut url = format!("{}/blobs?limit={limit}", base(addr));
        if let Some(h) = after {
            url.push_str("&after=");
            url.push_str(&h.to_hex());
        }
        let resp = self.send(self.http.get(url)).await?;
        if resp.status().is_success() {
            return Ok(resp.json().await?);
        }
        Err(remote_error(resp, None, None).await)
    }

    /// Deletes the blob only if the node's copy was written or touched at
    /// least `min_age` ago by the node's clock (milliseconds, rounded
    /// down).
    ///
    /// # Errors
    /// [`Error::Http`], [`Error::Remote`].
    pub async fn delete_if_older(
        &self,
        addr: &str,
        hash: &BlobHash,
        min_age: Duration,
    ) -> Result<GcDelete> {
        let ms = u64::try_from(min_age.as_millis()).unwrap_or(u64::MAX);
        let url = format!("{}?min_age_ms={ms}", blob_url(addr, hash));
        let resp = self.send(self.http.delete(url)).await?;
        match resp.status() {
            s if s.is_success() => Ok(GcDelete::Deleted),
            StatusCode::NOT_FOUND => Ok(GcDelete::Absent),
            StatusCode::CONFLICT => {
                let text = resp.text().await?;
                match serde_json::from_str::<ErrorBody>(&text) {
                    Ok(b) if b.code == codes::BLOB_TOO_YOUNG => Ok(GcDelete::TooYoung),
                    _ => Err(Error::Remote {
                        status: StatusCode::CONFLICT.as_u16(),
                        code: String::new(),
                        message: text,
                    }),
                }
            }
            _ => Err(remote_error(resp, Some(hash), None).await),
        }
    }

    /// Makes the node's copy young (its mtime now), so that a GC delete in
    /// progress spares it; `false` if the node has no copy.
    ///
    /// # Errors
    /// [`Error::Http`], [`Error::Remote`].
    pub async fn touch(&self, addr: &str, hash: &BlobHash) -> Result<bool> {
        let url = format!("{}/touch", blob_url(addr, hash));
        let resp = self.send(self.http.post(url)).await?;
        match resp.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(remote_error(resp, Some(hash), None).await),
        }
    }

    /// Asks the node for a scrub pass now. Returns the pass number to wait
    /// for in [`crate::wire::StatusReport::scrub_passes`]: once reached,
    /// every blob the node held before this call was read back.
    ///
    /// # Errors
    /// [`Error::Remote`] with code `ScrubDisabled` if the node runs no
    /// scrubber, [`Error::Http`].
    pub async fn scrub(&self, addr: &str) -> Result<u64> {
        let url = format!("{}/scrub", base(addr));
        let resp = self.send(self.http.post(url)).await?;
        if resp.status().is_success() {
            return Ok(resp.json::<ScrubRequested>().await?.pass);
        }
        Err(remote_error(resp, None, None).await)
    }
}
