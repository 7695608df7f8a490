//! Getting a blob's bytes: the local blob file when this node holds a
//! copy, else from the nodes listed in its [`BlobRef`], in order. A fetch
//! that breaks off resumes on the next node with a `Range`.
//!
//! A local copy is used only as far as it verifies against the blob's hash
//! tree (the store quarantines one that does not), so a task never computes
//! on rotten bytes: a map input is checked whole before it is bind-mounted,
//! a streamed one as it streams, and a copy that fails goes on from the
//! other nodes.

use std::path::{Path, PathBuf};

use futures::StreamExt;
use storage_node::client::StorageClient;
use storage_node::BlobStore;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::wire::BlobRef;

/// Where the bytes came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fetched {
    /// A file holding the blob: the local blob file or the fetched copy.
    pub path: PathBuf,
    pub size: u64,
    /// Read from this node's own disk (not fetched).
    pub local: bool,
}

/// Why a stream of blob bytes stopped.
#[derive(Debug)]
pub(crate) enum StreamError {
    /// Every source failed: the message says why.
    Source(String),
    /// The writer failed (the reader went away, or the disk is full).
    Sink(std::io::Error),
}

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Source(why) => f.write_str(why),
            Self::Sink(e) => write!(f, "write: {e}"),
        }
    }
}

/// Reads blobs for tasks.
#[derive(Clone, Debug)]
pub(crate) struct Fetcher {
    pub store: BlobStore,
    pub client: StorageClient,
}

impl Fetcher {
    /// The local blob file if it exists.
    pub(crate) async fn local(&self, blob: &BlobRef) -> Option<PathBuf> {
        let path = self.store.path(&blob.hash);
        matches!(tokio::fs::try_exists(&path).await, Ok(true)).then_some(path)
    }

    /// Whether the local copy reads whole against its hash tree (it is
    /// quarantined when it does not). One read of the file: the price of
    /// bind-mounting bytes nobody will check later.
    async fn local_verifies(&self, blob: &BlobRef) -> bool {
        let Ok((_, stream)) = self.store.open_verified(&blob.hash).await else {
            return false;
        };
        let mut stream = std::pin::pin!(stream);
        while let Some(piece) = stream.next().await {
            if let Err(e) = piece {
                tracing::warn!(blob = %blob.hash, error = %e, "local copy failed verification");
                return false;
            }
        }
        true
    }

    /// A file with the blob's bytes (`None`: an empty object, written to
    /// `dest`); a blob not held here is fetched into `dest`.
    ///
    /// # Errors
    /// Every node failed, or `dest` could not be written.
    pub(crate) async fn materialize(
        &self,
        blob: Option<&BlobRef>,
        dest: &Path,
    ) -> Result<Fetched, StreamError> {
        let Some(blob) = blob else {
            tokio::fs::write(dest, b"")
                .await
                .map_err(StreamError::Sink)?;
            return Ok(Fetched {
                path: dest.to_path_buf(),
                size: 0,
                local: true,
            });
        };
        if let Some(path) = self.local(blob).await {
            if self.local_verifies(blob).await {
                return Ok(Fetched {
                    path,
                    size: blob.size,
                    local: true,
                });
            }
        }
        let mut file = tokio::fs::File::create(dest)
            .await
            .map_err(StreamError::Sink)?;
        self.stream_remote(blob, 0, &mut file).await?;
        file.flush().await.map_err(StreamError::Sink)?;
        Ok(Fetched {
            path: dest.to_path_buf(),
            size: blob.size,
            local: false,
        })
    }

    /// Writes the blob's bytes into `out`; returns whether they were local.
    ///
    /// # Errors
    /// As [`StreamError`].
    pub(crate) async fn stream<W: AsyncWrite + Unpin>(
        &self,
        blob: &BlobRef,
        out: &mut W,
    ) -> Result<bool, StreamError> {
        // Not held here (or unreadable): the other nodes.
        let Ok((_, stream)) = self.store.open_verified(&blob.hash).await else {
            self.stream_remote(blob, 0, out).await?;
            return Ok(false);
        };
        // Verified pieces only; a copy that fails part way goes on from
        // the other nodes where it stopped.
        let mut stream = std::pin::pin!(stream);
        let mut written = 0u64;
        while let Some(piece) = stream.next().await {
            match piece {
                Ok(bytes) => {
                    out.write_all(&bytes).await.map_err(StreamError::Sink)?;
                    written += bytes.len() as u64;
                }
                Err(e) => {
                    tracing::warn!(blob = %blob.hash, at = written, error = %e, "local copy failed; going on from other nodes");
                    self.stream_remote(blob, written, out).await?;
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// Streams `[from, size)` from the blob's nodes in order, resuming
    /// where the last one stopped.
    async fn stream_remote<W: AsyncWrite + Unpin>(
        &self,
        blob: &BlobRef,
        from: u64,
        out: &mut W,
    ) -> Result<(), StreamError> {
        let mut done = from;
        let mut why = format!("blob {} has no nodes", blob.hash);
        for node in &blob.nodes {
            match self.stream_from(&node.url, blob, done, out).await {
                Ok(()) => return Ok(()),
                Err((n, StreamError::Source(e))) => {
                    done += n;
                    tracing::warn!(node = %node.id, blob = %blob.hash, error = %e, "fetch failed");
                    why = format!("fetch blob {} from {}: {e}", blob.hash, node.id);
                }
                Err((_, sink)) => return Err(sink),
            }
        }
        Err(StreamError::Source(why))
    }

    /// Streams bytes `[from, size)` from one node; on error also returns how
    /// many bytes were written.
    async fn stream_from<W: AsyncWrite + Unpin>(
        &self,
        url: &str,
        blob: &BlobRef,
        from: u64,
        out: &mut W,
    ) -> Result<(), (u64, StreamError)> {
        if from >= blob.size {
            return Ok(());
        }
        let range = (from > 0).then(|| (from, blob.size - 1));
        let source = |e: &dyn std::fmt::Display| (0, StreamError::Source(e.to_string()));
        let resp = self
            .client
            .get(url, &blob.hash, range)
            .await
            .map_err(|e| source(&e))?;
        let mut body = resp.bytes_stream();
        let mut written = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| (written, StreamError::Source(e.to_string())))?;
            if from + written + chunk.len() as u64 > blob.size {
                return Err((
                    written,
                    StreamError::Source("more bytes than expected".into()),
                ));
            }
            out.write_all(&chunk)
                .await
                .map_err(|e| (written, StreamError::Sink(e)))?;
            written += chunk.len() as u64;
        }
        if from + written != blob.size {
            let got = from + written;
            let msg = format!("got {got} of {} bytes", blob.size);
            return Err((written, StreamError::Source(msg)));
        }
        Ok(())
    }
}
