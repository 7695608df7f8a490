//! Streaming an upload to N storage nodes at once.
//!
//! The request body is read one frame at a time; each frame is hashed (MD5
//! for `Computed-MD5`, BLAKE3 for the blob name) and handed to every node
//! through a small bounded channel, so memory stays at a few frames per node
//! whatever the object's size, and the slowest node sets the pace. If the
//! client or any node fails, the other node requests are dropped: their
//! connections close mid-body and the nodes discard their temp files.

use super::error::{rejection, Error, Result};
use super::placement::Target;
use bytes::Bytes;
use futures::future::try_join_all;
use futures::StreamExt;
use md5::{Digest, Md5};
use std::time::Duration;
use storage_node::blobstore::PutExpect;
use storage_node::client::StorageClient;
use storage_node::BlobHash;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// What the client promised about the body.
#[derive(Debug, Clone)]
pub(crate) struct Expect {
    /// `Content-Length`, when sent (otherwise the body is chunked).
    pub(crate) len: Option<u64>,
    /// Refuse bodies longer than this (chunked uploads).
    pub(crate) max_len: u64,
    /// `Content-MD5`, decoded.
    pub(crate) md5: Option<[u8; 16]>,
    /// Give up when no body bytes arrive for this long.
    pub(crate) idle: Duration,
}

/// The bytes as stored.
#[derive(Debug, Clone)]
pub(crate) struct Uploaded {
    pub(crate) hash: BlobHash,
    pub(crate) size: u64,
    pub(crate) md5: [u8; 16],
}

type Chunk = std::result::Result<Bytes, std::io::Error>;

/// Streams `body` to every target; succeeds only when all of them committed
/// the same bytes.
///
/// # Errors
/// Client errors (short body, too long, idle, MD5 mismatch) and node errors.
pub(super) async fn fan_out(
    storage: &StorageClient,
    targets: &[Target],
    body: axum::body::Body,
    expect: &Expect,
) -> Result<Uploaded> {
    let mut senders = Vec::with_capacity(targets.len());
    let mut puts = Vec::with_capacity(targets.len());
    let node_expect = PutExpect {
        md5: expect.md5,
        size: expect.len,
        hash: None,
    };
    for t in targets {
        let (tx, rx) = mpsc::channel::<Chunk>(4);
        senders.push(tx);
        let node_body = reqwest::Body::wrap_stream(ReceiverStream::new(rx));
        let expect = node_expect;
        puts.push(async move {
            storage
                .put(&t.addr, node_body, &expect)
                .await
                .map_err(|e| node_error(t, e))
        });
    }
    let (uploaded, responses) = tokio::try_join!(pump(body, senders, expect), try_join_all(puts))?;
    for (t, r) in targets.iter().zip(responses) {
        if r.hash != uploaded.hash || r.size != uploaded.size {
            return Err(Error::Internal(format!(
                "node {} stored {} ({} bytes), frontend saw {} ({} bytes)",
                t.id, r.hash, r.size, uploaded.hash, uploaded.size
            )));
        }
    }
    Ok(uploaded)
}

/// Reads the client body, hashing it and feeding every node channel. On
/// failure each node stream is ended with an error (best effort: a channel
/// that is full just closes, and what that node may commit is a complete,
/// correctly named blob that no record references, left for GC).
async fn pump(
    body: axum::body::Body,
    senders: Vec<mpsc::Sender<Chunk>>,
    expect: &Expect,
) -> Result<Uploaded> {
    let result = pump_body(body, &senders, expect).await;
    if let Err(e) = &result {
        for tx in &senders {
            let _ = tx.try_send(Err(std::io::Error::other(format!("upload aborted: {e}"))));
        }
    }
    result
}

async fn pump_body(
    body: axum::body::Body,
    senders: &[mpsc::Sender<Chunk>],
    expect: &Expect,
) -> Result<Uploaded> {
    let mut stream = body.into_data_stream();
    let mut md5 = Md5::new();
    let mut blake = blake3::Hasher::new();
    let mut size: u64 = 0;
    loop {
        let next = tokio::time::timeout(expect.idle, stream.next())
            .await
            .map_err(|_| Error::UploadTimeout {
                secs: expect.idle.as_secs(),
            })?;
        let chunk = match next {
            None => break,
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                tracing::debug!(error = %e, got = size, "request body failed");
                if let Some(cause) = rejection(Box::new(e)) {
                    return Err(Error::BodyRejected(cause));
                }
                return Err(match expect.len {
                    Some(len) => Error::IncompleteBody {
                        got: size,
                        expected: len,
                    },
                    None => Error::UploadAbandoned,
                });
            }
        };
        size += chunk.len() as u64;
        if size > expect.max_len {
            return Err(Error::TooLarge {
                max: expect.max_len,
            });
        }
        md5.update(&chunk);
        blake.update(&chunk);
        for tx in senders {
            // A closed channel means that node's request already ended; its
            // own error surfaces from the put future.
            let _ = tx.send(Ok(chunk.clone())).await;
        }
    }
    if let Some(len) = expect.len {
        if size != len {
            return Err(Error::IncompleteBody {
                got: size,
                expected: len,
            });
        }
    }
    let md5: [u8; 16] = md5.finalize().into();
    if let Some(want) = expect.md5 {
        if want != md5 {
            return Err(Error::Md5Mismatch {
                expected: b64(&want),
                computed: b64(&md5),
            });
        }
    }
    Ok(Uploaded {
        hash: BlobHash(*blake.finalize().as_bytes()),
        size,
        md5,
    })
}

fn node_error(t: &Target, e: storage_node::Error) -> Error {
    match e {
        storage_node::Error::Md5Mismatch { expected, computed } => {
            Error::Md5Mismatch { expected, computed }
        }
        storage_node::Error::SizeMismatch { expected, got } => {
            Error::IncompleteBody { got, expected }
        }
        other => Error::Internal(format!("storage node {} ({}): {other}", t.id, t.addr)),
    }
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
