//! Storing a task's bytes: into this node's [`BlobStore`], then a copy to
//! each replica node streamed from the local blob file.

use bytes::Bytes;
use futures::future::join_all;
use storage_node::blobstore::PutExpect;
use storage_node::client::StorageClient;
use storage_node::wire::PutResponse;
use storage_node::BlobStore;
use tokio::io::AsyncReadExt;
use tokio_util::io::ReaderStream;

use super::config::SpoolLimits;
use super::failure::{Failure, InfraContext};
use super::wire::{NodeAddr, StoredBlob};
use crate::safe_fs::Confined;

const CHUNK: usize = 256 << 10;

/// Where a task's outputs go.
#[derive(Clone, Debug)]
pub(crate) struct Publisher {
    pub store: BlobStore,
    pub client: StorageClient,
    pub node_id: String,
    pub replicas: Vec<NodeAddr>,
    /// Caps on what is taken from the task's spool.
    pub limits: SpoolLimits,
}

impl Publisher {
    /// Stores the file at `path`; `None` when it is empty (an empty object
    /// has no blob). The task could have left a symlink, a FIFO or a
    /// device there, or more than the output cap: the task's failure.
    ///
    /// # Errors
    /// Refused (the user's), or reading or storing failed (ours).
    pub(crate) async fn file(&self, path: &Confined) -> Result<Option<StoredBlob>, Failure> {
        let max = self.limits.max_output_bytes;
        let file = path
            .open_regular(max)
            .map_err(|e| Failure::from_open("take a task output", e))?;
        // The cap again while reading, should the file still grow.
        let file = tokio::fs::File::from_std(file).take(max);
        let stream = ReaderStream::with_capacity(file, CHUNK);
        let put = self
            .store
            .put(stream, PutExpect::default())
            .await
            .infra("store task output")?;
        Ok(self.replicate(put).await)
    }

    /// Stores `bytes` (small: a saved stderr).
    ///
    /// # Errors
    /// Storing them locally failed.
    pub(crate) async fn bytes(&self, bytes: Vec<u8>) -> Result<Option<StoredBlob>, Failure> {
        let stream = futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from(bytes))]);
        let put = self
            .store
            .put(stream, PutExpect::default())
            .await
            .infra("store task stderr")?;
        Ok(self.replicate(put).await)
    }

    /// Copies a locally stored blob to the replicas (all at once); those
    /// that fail are left out of the node list.
    pub(crate) async fn replicate(&self, put: PutResponse) -> Option<StoredBlob> {
        if put.size == 0 {
            return None;
        }
        let copies = self.replicas.iter().map(|node| self.copy_to(node, &put));
        let mut nodes = vec![self.node_id.clone()];
        nodes.extend(join_all(copies).await.into_iter().flatten());
        Some(StoredBlob {
            hash: put.hash,
            size: put.size,
            md5: put.md5,
            nodes,
        })
    }

    async fn copy_to(&self, node: &NodeAddr, put: &PutResponse) -> Option<String> {
        let path = self.store.path(&put.hash);
        let result = async {
            let file = tokio::fs::File::open(&path).await?;
            let body = reqwest::Body::wrap_stream(ReaderStream::with_capacity(file, CHUNK));
            let expect = PutExpect {
                md5: None,
                size: Some(put.size),
                hash: Some(put.hash),
            };
            self.client
                .put(&node.url, body, &expect)
                .await
                .map_err(std::io::Error::other)
        }
        .await;
        match result {
            Ok(_) => Some(node.id.clone()),
            Err(e) => {
                tracing::warn!(node = %node.id, blob = %put.hash, error = %e, "replica copy failed");
                None
            }
        }
    }
}
