//! Reads that hand out only bytes proven against the blob's name.
//!
//! Bit rot or a stray write can change a blob file. Each read walks the
//! blob's hash tree on a blocking thread (`tree_read`): a range costs
//! hashing the 16 KiB groups it touches and the parent nodes above them,
//! and a group's bytes are released only once its hash has been checked up
//! to the root. Verified pieces go to the caller through a small bounded
//! channel. The first piece is awaited before the stream is returned, so a
//! copy found bad within the range's first piece (or whose tree's top is
//! bad) is an error the server can answer with a status; a copy found bad later ends
//! the stream with an error, so the receiver sees a broken transfer whose
//! bytes so far are right. Either way the copy is quarantined.

use std::fs::File;
use std::io;

use bytes::{Bytes, BytesMut};
use futures::Stream;
use tokio::sync::mpsc;

use super::tree_read::read_verified;
use super::BlobStore;
use crate::wire::BlobHash;
use crate::{Error, Result};

/// Bytes per verified piece sent to the caller: large enough to keep the
/// per-frame cost of the HTTP body small.
const PIECE: usize = 256 * 1024;
/// Pieces queued between the verifying thread and the caller.
const DEPTH: usize = 2;

impl BlobStore {
    /// Streams the whole blob, every byte verified. Returns the size with
    /// the stream.
    ///
    /// # Errors
    /// As [`BlobStore::open_range`].
    pub async fn open_verified(
        &self,
        hash: &BlobHash,
    ) -> Result<(u64, impl Stream<Item = io::Result<Bytes>> + Send + 'static)> {
        let size = self.size(hash).await?;
        let stream = self.open_range(hash, 0, size).await?;
        Ok((size, stream))
    }

    /// Streams bytes `[start, start + len)` of the blob, every byte verified
    /// against the blob's hash tree. A copy found corrupt is quarantined; if
    /// that happens after the first piece, the stream ends with an
    /// `InvalidData` error.
    ///
    /// # Errors
    /// [`Error::NotFound`] if absent, [`Error::BadRange`] if the range ends
    /// past the blob, [`Error::Corrupt`] if the first piece fails
    /// verification, [`Error::Io`] otherwise.
    pub async fn open_range(
        &self,
        hash: &BlobHash,
        start: u64,
        len: u64,
    ) -> Result<impl Stream<Item = io::Result<Bytes>> + Send + 'static> {
        let (tx, mut rx) = mpsc::channel(DEPTH);
        let (store, hash) = (self.clone(), *hash);
        tokio::task::spawn_blocking(move || {
            if let Err(e) = send_range(&store, &hash, start, len, &tx) {
                // Nobody listening is fine: the caller went away.
                let _ = tx.blocking_send(Err(e));
            }
        });
        let first = match rx.recv().await {
            Some(Err(e)) => return Err(e),
            None if len > 0 => return Err(stopped_early().into()),
            first => first,
        };
        Ok(pieces(rx, first, len))
    }
}

/// The pieces as a stream that fails, rather than ends, if fewer than `len`
/// bytes came (the reading thread died): a short body must not look whole.
fn pieces(
    rx: mpsc::Receiver<Result<Bytes>>,
    first: Option<Result<Bytes>>,
    len: u64,
) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
    futures::stream::unfold(Some((rx, first, len)), |state| async move {
        let (mut rx, pending, left) = state?;
        let next = match pending {
            Some(piece) => Some(piece),
            None => rx.recv().await,
        };
        match next {
            Some(Ok(b)) => {
                let left = left.saturating_sub(b.len() as u64);
                Some((Ok(b), Some((rx, None, left))))
            }
            Some(Err(Error::Io(e))) => Some((Err(e), None)),
            Some(Err(e)) => Some((
                Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
                None,
            )),
            None if left > 0 => Some((Err(stopped_early()), None)),
            None => None,
        }
    })
}

fn stopped_early() -> io::Error {
    io::Error::other("blob reader stopped before the end of the range")
}

/// Verifies and sends the range piece by piece (blocking); returns early
/// without error if the receiver is gone.
fn send_range(
    store: &BlobStore,
    hash: &BlobHash,
    start: u64,
    len: u64,
    tx: &mpsc::Sender<Result<Bytes>>,
) -> Result<()> {
    let end = start.checked_add(len).ok_or(Error::BadRange)?;
    let (blob, tree, size) = open(store, hash, end)?;
    let mut piece = BytesMut::with_capacity(PIECE);
    let mut emit = |mut bytes: &[u8]| {
        while !bytes.is_empty() {
            let n = bytes.len().min(PIECE - piece.len());
            piece.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if piece.len() == PIECE && tx.blocking_send(Ok(piece.split().freeze())).is_err() {
                return false;
            }
        }
        true
    };
    let root = blake3::Hash::from(hash.0);
    read_verified(&blob, &tree, size, root, (start, end), &mut emit)
        .map_err(|e| checked(store, hash, e, &blob))?;
    if !piece.is_empty() {
        // Nobody listening is fine: the caller went away.
        let _ = tx.blocking_send(Ok(piece.freeze()));
    }
    Ok(())
}

/// The blob, its tree and its size, if the blob has at least `end` bytes.
fn open(store: &BlobStore, hash: &BlobHash, end: u64) -> Result<(File, File, u64)> {
    let blob = match File::open(store.path(hash)) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(Error::NotFound(*hash)),
        Err(e) => return Err(e.into()),
    };
    let size = blob.metadata()?.len();
    if end > size {
        return Err(Error::BadRange);
    }
    let tree = store.open_tree(hash, size)?;
    Ok((blob, tree, size))
}

/// Turns a verification error into ours; a mismatch (or a blob shorter
/// than its tree) quarantines the copy.
fn checked(store: &BlobStore, hash: &BlobHash, e: io::Error, blob: &File) -> Error {
    match e.kind() {
        io::ErrorKind::InvalidData => {
            store.quarantine(hash, "bytes do not match the hash tree", blob)
        }
        io::ErrorKind::UnexpectedEof => {
            store.quarantine(hash, "blob shorter than its hash tree", blob)
        }
        _ => Error::Io(e),
    }
}
