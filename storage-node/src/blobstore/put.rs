//! Streaming upload into the store.
//!
//! The request task reads the body and coalesces chunks into ~1 MiB buffers;
//! one blocking task per upload hashes them (MD5, and BLAKE3 as the blob's
//! hash tree, written beside it) and writes them. A
//! small bounded queue between the two keeps memory per upload at a few MiB
//! whatever the blob size, while letting network reads overlap disk writes.

use std::fmt::Display;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use base64::Engine;
use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use md5::{Digest, Md5};
use tokio::sync::mpsc;

use super::outboard::TreeWriter;
use super::BlobStore;
use crate::wire::{BlobHash, PutResponse};
use crate::{Error, Result};

/// Bytes handed to the writer per write call.
const WRITE_BATCH: usize = 1024 * 1024;
/// Batches queued between reader and writer.
const QUEUE_DEPTH: usize = 4;

/// What the caller claims about an upload; any mismatch rejects it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PutExpect {
    pub md5: Option<[u8; 16]>,
    pub size: Option<u64>,
    pub hash: Option<BlobHash>,
}

/// What the writer computed.
struct Written {
    file: std::fs::File,
    tree: std::fs::File,
    hash: BlobHash,
    md5: [u8; 16],
    size: u64,
}

/// Removes the temp file when dropped, unless disarmed: covers errors and a
/// put future dropped midway (the client went away).
pub(super) struct TempFile {
    pub(super) path: PathBuf,
    pub(super) armed: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            if let Err(e) = std::fs::remove_file(&self.path) {
                if e.kind() != io::ErrorKind::NotFound {
                    tracing::warn!(path = %self.path.display(), error = %e, "removing temp upload");
                }
            }
        }
    }
}

impl BlobStore {
    /// Stores the bytes of `body`, returning only once the blob is durable.
    ///
    /// If the blob already exists the existing copy is kept and
    /// `existed` is set.
    ///
    /// # Errors
    /// [`Error::Body`] if the stream fails, [`Error::Md5Mismatch`],
    /// [`Error::SizeMismatch`] or [`Error::HashMismatch`] if `expect` is not
    /// met, [`Error::Io`] on disk errors. Nothing is stored on error.
    pub async fn put<S, E>(&self, mut body: S, expect: PutExpect) -> Result<PutResponse>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin + Send,
        E: Display,
    {
        let path = self.tmp_dir().join(uuid::Uuid::new_v4().to_string());
        let mut temp = TempFile {
            path: path.clone(),
            armed: true,
        };
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await?
            .into_std()
            .await;
        let store = self.clone();
        let (tree, mut tree_temp) = tokio::task::spawn_blocking(move || store.temp_tree())
            .await
            .map_err(io::Error::other)??;

        // The tree (BLAKE3, 1 KiB at a time) costs about what MD5 and the
        // write cost together: on its own thread they overlap.
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let (tree_tx, tree_rx) = mpsc::channel(QUEUE_DEPTH);
        let writer = tokio::task::spawn_blocking(move || write_batches(file, rx));
        let treer = tokio::task::spawn_blocking(move || build_tree(tree, tree_rx));
        // On a body error return at once; the writer drains what is queued
        // into an already unlinked file.
        feed(&mut body, [tx, tree_tx]).await?;
        let (file, md5, size) = writer.await.map_err(io::Error::other)??;
        let (hash, tree) = treer.await.map_err(io::Error::other)??;
        let written = Written {
            file,
            tree,
            hash,
            md5,
            size,
        };
        check(&expect, &written)?;

        let store = self.clone();
        let (hash, size) = (written.hash, written.size);
        let md5 = base64::engine::general_purpose::STANDARD.encode(written.md5);
        let temps = Temps {
            blob: path,
            tree: tree_temp.path.clone(),
        };
        // Accounting happens inside the blocking task so that it stays right
        // even if this future is dropped while the task runs.
        let existed = tokio::task::spawn_blocking(move || commit(&store, written, &temps))
            .await
            .map_err(io::Error::other)??;
        temp.armed = false;
        tree_temp.armed = false;
        Ok(PutResponse {
            hash,
            size,
            md5,
            existed,
        })
    }
}

/// Reads `body` into batches for the writer and the tree builder. Returns
/// early (Ok) if either stopped: its error is the one to report.
async fn feed<S, E>(body: &mut S, txs: [mpsc::Sender<Bytes>; 2]) -> Result<()>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Unpin + Send,
    E: Display,
{
    let mut buf = BytesMut::new();
    loop {
        // Convert at once so no `E` is held across an await (keeps the
        // future Send without requiring `E: Send`).
        let next = body.next().await.map(|r| r.map_err(|e| e.to_string()));
        match next {
            Some(Ok(chunk)) => {
                buf.extend_from_slice(&chunk);
                if buf.len() >= WRITE_BATCH && !send_both(&txs, buf.split().freeze()).await {
                    return Ok(());
                }
            }
            Some(Err(e)) => return Err(Error::Body(e)),
            None => break,
        }
    }
    if !buf.is_empty() {
        // A send error means a consumer failed; it reports why.
        send_both(&txs, buf.freeze()).await;
    }
    Ok(())
}

/// Sends one batch to both consumers; false if either is gone.
async fn send_both(txs: &[mpsc::Sender<Bytes>; 2], batch: Bytes) -> bool {
    let [a, b] = txs;
    let (x, y) = tokio::join!(a.send(batch.clone()), b.send(batch));
    x.is_ok() && y.is_ok()
}

/// Writes the batches; returns the file, the MD5 and the size.
fn write_batches(
    mut file: std::fs::File,
    mut rx: mpsc::Receiver<Bytes>,
) -> io::Result<(std::fs::File, [u8; 16], u64)> {
    let mut md5 = Md5::new();
    let mut size = 0u64;
    while let Some(batch) = rx.blocking_recv() {
        md5.update(&batch);
        file.write_all(&batch)?;
        size += batch.len() as u64;
    }
    Ok((file, md5.finalize().into(), size))
}

/// Builds the tree of the batches; its root is the blob's BLAKE3, so no
/// separate hasher.
fn build_tree(
    tree: std::fs::File,
    mut rx: mpsc::Receiver<Bytes>,
) -> io::Result<(BlobHash, std::fs::File)> {
    let mut tree = TreeWriter::new(tree);
    while let Some(batch) = rx.blocking_recv() {
        tree.update(&batch)?;
    }
    tree.finish()
}

fn check(expect: &PutExpect, got: &Written) -> Result<()> {
    if let Some(expected) = expect.size {
        if expected != got.size {
            return Err(Error::SizeMismatch {
                expected,
                got: got.size,
            });
        }
    }
    if let Some(expected) = expect.md5 {
        if expected != got.md5 {
            let b64 = base64::engine::general_purpose::STANDARD;
            return Err(Error::Md5Mismatch {
                expected: b64.encode(expected),
                computed: b64.encode(got.md5),
            });
        }
    }
    if let Some(expected) = expect.hash {
        if expected != got.hash {
            return Err(Error::HashMismatch {
                expected,
                got: got.hash,
            });
        }
    }
    Ok(())
}

/// Where an upload's blob and tree were written.
struct Temps {
    blob: PathBuf,
    tree: PathBuf,
}

/// Makes the temp files the blob and its tree; returns whether the blob
/// already existed.
///
/// The renames run under the blob's stripe lock, and the blob's mtime is
/// set to now just before, whether the name is new or the copy under it is
/// replaced: a GC delete (same lock) then either removed the old copy
/// before (and this upload makes a new one) or finds this one young.
fn commit(store: &BlobStore, written: Written, temps: &Temps) -> io::Result<bool> {
    let dest = store.path(&written.hash);
    let dir = dest
        .parent()
        .ok_or_else(|| io::Error::other("blob path has no parent"))?;
    written.tree.sync_all()?;
    written.file.sync_all()?;
    let stripe = store.inner.locks.lock(&written.hash);
    written.file.set_modified(SystemTime::now())?;
    drop(written.file);
    let existed = if dest.exists() {
        replace(store, &written.hash, temps, &dest)?;
        drop(stripe);
        true
    } else {
        let new_dir = !dir.exists();
        if new_dir {
            std::fs::create_dir_all(dir)?;
        }
        // The tree first, so that a blob under its name has its tree.
        std::fs::rename(&temps.tree, store.outboard_path(&written.hash))?;
        let existed = move_no_replace(&temps.blob, &dest)?;
        if !existed {
            store.record_new_blob(written.size);
        }
        drop(stripe);
        if new_dir {
            // Both fan-out levels may be new; their entries must reach the
            // disk too or the blob is unreachable after a crash.
            let level1 = dir.parent().unwrap_or(store.blobs_dir());
            sync_dir(level1)?;
            sync_dir(store.blobs_dir())?;
        }
        existed
    };
    sync_dir(dir)?;
    Ok(existed)
}

/// Dedup must not weaken a copy: the one under the name may have rotted,
/// or its name may not be durable yet (a concurrent upload of the same
/// bytes may just have made it). This upload's bytes, hashed as they were
/// written and already fsynced, replace it, tree first; readers of the old
/// copy keep their open file. Runs under the stripe lock.
fn replace(store: &BlobStore, hash: &BlobHash, temps: &Temps, dest: &Path) -> io::Result<()> {
    std::fs::rename(&temps.tree, store.outboard_path(hash))?;
    std::fs::rename(&temps.blob, dest)
}

/// Gives `tmp`'s file the name `dest` unless `dest` exists, and removes the
/// name `tmp` either way; returns whether `dest` already existed.
///
/// A hard link fails atomically if the name is taken, so two concurrent
/// uploads of the same bytes cannot both count as new, as a check-then-rename
/// could.
fn move_no_replace(tmp: &Path, dest: &Path) -> io::Result<bool> {
    let existed = match std::fs::hard_link(tmp, dest) {
        Ok(()) => false,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => true,
        // Filesystems without hard links: fall back to rename, racy only
        // against a concurrent upload of the same bytes.
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::Unsupported | io::ErrorKind::PermissionDenied
            ) =>
        {
            if !dest.exists() {
                std::fs::rename(tmp, dest)?;
                return Ok(false);
            }
            true
        }
        Err(e) => return Err(e),
    };
    std::fs::remove_file(tmp)?;
    Ok(existed)
}

pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}
