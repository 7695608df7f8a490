//! Reads that hand out only bytes proven against the blob's name.
//!
//! Bit rot or a stray write can change a blob file. Each read runs Bao's
//! decoder over the blob and its tree on a blocking thread: a range costs
//! hashing the 1 KiB chunks it touches and the parent nodes above them, and
//! a chunk's bytes are released only once its hash has been checked up to
//! the root. Verified pieces go to the caller through a small bounded
//! channel. The first piece is awaited before the stream is returned, so a
//! copy that is bad from its first chunk (or whose tree shows it bad) is an
//! error the server can answer with a status; a copy found bad later ends
//! the stream with an error, so the receiver sees a broken transfer whose
//! bytes so far are right. Either way the copy is quarantined.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use tokio::sync::mpsc;

use super::{BlobStore, READ_CHUNK};
use crate::wire::BlobHash;
use crate::{Error, Result};

/// Bytes per verified piece sent to the caller.
const PIECE: usize = 64 * 1024;
/// Pieces queued between the verifying thread and the caller.
const DEPTH: usize = 4;
/// Read-ahead on the tree: its parent nodes are read 64 bytes at a time.
const TREE_BUF: usize = 16 * 1024;

type Decoder = bao::decode::Decoder<BufReader<File>, BufReader<File>>;

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
            first => first,
        };
        let rest = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|piece| (piece, rx))
        });
        let pieces = futures::stream::iter(first).chain(rest);
        Ok(pieces.map(|piece| {
            piece.map_err(|e| match e {
                Error::Io(e) => e,
                other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
            })
        }))
    }
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
    let mut decoder = open_at(store, hash, start, len)?;
    let mut left = len;
    while left > 0 {
        let n = left.min(PIECE as u64) as usize;
        let mut piece = BytesMut::zeroed(n);
        decoder
            .read_exact(&mut piece)
            .map_err(|e| checked(store, hash, e))?;
        left -= n as u64;
        if tx.blocking_send(Ok(piece.freeze())).is_err() {
            return Ok(());
        }
    }
    Ok(())
}

/// A decoder over the blob and its tree, positioned at `start`.
fn open_at(store: &BlobStore, hash: &BlobHash, start: u64, len: u64) -> Result<Decoder> {
    let blob = match File::open(store.path(hash)) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(Error::NotFound(*hash)),
        Err(e) => return Err(e.into()),
    };
    let size = blob.metadata()?.len();
    let end = start.checked_add(len).ok_or(Error::BadRange)?;
    if end > size {
        return Err(Error::BadRange);
    }
    if size == 0 && *hash != BlobHash::of(b"") {
        // No chunk to check: the name alone says the file lost its bytes.
        return Err(store.quarantine(hash, "empty file under a non-empty name"));
    }
    let mut tree = store.open_tree(hash, size)?;
    tree.rewind()?;
    let mut decoder = Decoder::new_outboard(
        BufReader::with_capacity(READ_CHUNK, blob),
        BufReader::with_capacity(TREE_BUF, tree),
        &bao::Hash::from(hash.0),
    );
    decoder
        .seek(SeekFrom::Start(start))
        .map_err(|e| checked(store, hash, e))?;
    Ok(decoder)
}

/// Turns a decoder error into ours; a verification failure (or a blob
/// shorter than its tree) quarantines the copy.
fn checked(store: &BlobStore, hash: &BlobHash, e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::InvalidData => store.quarantine(hash, "bytes do not match the hash tree"),
        io::ErrorKind::UnexpectedEof => store.quarantine(hash, "blob shorter than its hash tree"),
        _ => Error::Io(e),
    }
}
