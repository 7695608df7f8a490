//! Copies of existing blobs: making one more (repair) and pinning them
//! (before a record shares them).

use super::error::{Error, Result};
use super::stored::{BlobRef, Stored};
use super::ObjectStore;
use storage_node::blobstore::PutExpect;
use storage_node::client::StorageClient;

impl ObjectStore {
    /// The storage node client the store calls with.
    pub(crate) fn storage(&self) -> &StorageClient {
        &self.storage
    }

    /// Streams `blob` from the node at `from` to the node at `to`. Both ends
    /// verify: `from` serves only bytes that match its hash tree, `to`
    /// commits only bytes that hash to the blob's name.
    ///
    /// # Errors
    /// Either node's errors, as `Internal` naming the step.
    pub(crate) async fn copy_blob(&self, from: &str, to: &str, blob: &BlobRef) -> Result<()> {
        let resp = self
            .storage
            .get(from, &blob.hash, None)
            .await
            .map_err(|e| {
                Error::Internal(format!("read {} from {from}: {e}", blob.hash.to_hex()))
            })?;
        let body = reqwest::Body::wrap_stream(resp.bytes_stream());
        let expect = PutExpect {
            size: Some(blob.size),
            hash: Some(blob.hash),
            md5: None,
        };
        self.storage
            .put(to, body, &expect)
            .await
            .map_err(|e| Error::Internal(format!("write {} to {to}: {e}", blob.hash.to_hex())))?;
        Ok(())
    }

    /// Before a record shares blobs another record already names (a
    /// snaplink, a copy, a multipart completion), refreshes each copy's
    /// time on its node, so a garbage collection pass already under way
    /// cannot take them: it spares every copy written or touched since it
    /// began.
    ///
    /// # Errors
    /// `NoReachableCopy` naming `name` when some blob has no copy left to
    /// touch (its bytes are gone: the new record must not be written).
    pub(crate) async fn pin(&self, name: &str, parts: &[Stored]) -> Result<()> {
        for blob in parts.iter().filter_map(Stored::blob) {
            let mut held = false;
            for t in self.placement.read_order(&blob.copies).await? {
                match self.storage.touch(&t.addr, &blob.hash).await {
                    Ok(true) => held = true,
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(node = %t.id.0, blob = %blob.hash.to_hex(), error = %e, "touching a shared copy failed");
                    }
                }
            }
            if !held {
                return Err(Error::NoReachableCopy {
                    name: name.to_string(),
                });
            }
        }
        Ok(())
    }
}
