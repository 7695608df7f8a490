//! The BLAKE3 hash tree kept beside each blob, in Bao's outboard format.
//!
//! The tree (`<blob>.obao`: an 8-byte length, then the parent nodes in
//! pre-order, 64 bytes per KiB of blob) lets a read verify any range by
//! hashing only the 1 KiB chunks it touches plus their path to the root, and
//! its root is the blob's BLAKE3, i.e. its name. Uploads build it while the
//! bytes arrive ([`TreeWriter`]); a blob stored before trees existed gets one
//! on its first read ([`BlobStore::open_tree`]).

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use bao::encode::Encoder;

use super::put::{sync_dir, TempFile};
use super::window_file::{WindowFile, WINDOW};
use super::{BlobStore, READ_CHUNK};
use crate::wire::BlobHash;
use crate::{Error, Result};

/// Extension of a blob's tree file.
const TREE_EXT: &str = "obao";

/// Computes a blob's hash and writes its tree as the bytes go by.
pub(super) struct TreeWriter {
    enc: Encoder<WindowFile>,
}

impl TreeWriter {
    /// Writes the tree into `file`, which must be empty and readable.
    pub(super) fn new(file: File) -> TreeWriter {
        TreeWriter {
            enc: Encoder::new_outboard(WindowFile::new(file, 0, WINDOW)),
        }
    }

    pub(super) fn update(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.enc.write_all(bytes)
    }

    /// The blob's hash (the tree's root) and the finished tree file, not yet
    /// fsynced.
    pub(super) fn finish(mut self) -> io::Result<(BlobHash, File)> {
        let root = self.enc.finalize()?;
        Ok((root.into(), self.enc.into_inner().into_file()?))
    }
}

impl BlobStore {
    /// Where the blob's tree lives (or would live).
    pub(super) fn outboard_path(&self, hash: &BlobHash) -> PathBuf {
        self.path(hash).with_extension(TREE_EXT)
    }

    /// A new, empty tree file in `tmp/`, removed on drop unless disarmed.
    pub(super) fn temp_tree(&self) -> io::Result<(File, TempFile)> {
        let name = format!("{}.{TREE_EXT}", uuid::Uuid::new_v4());
        let path = self.tmp_dir().join(name);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok((file, TempFile { path, armed: true }))
    }

    /// Opens the tree of a blob of `size` bytes, building it first if it is
    /// missing or does not describe `size` bytes (blocking).
    ///
    /// # Errors
    /// [`Error::NotFound`] if the blob is gone, [`Error::Corrupt`] if it
    /// had to be rebuilt and its bytes do not hash to its name (it is then
    /// quarantined), [`Error::Io`] otherwise.
    pub(super) fn open_tree(&self, hash: &BlobHash, size: u64) -> Result<File> {
        let path = self.outboard_path(hash);
        match File::open(&path) {
            Ok(f) if describes(&f, size)? => return Ok(f),
            Ok(_) => {
                tracing::warn!(blob = %hash, "hash tree does not match the blob; rebuilding it")
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        self.rebuild_tree(hash)?;
        let f = File::open(&path)?;
        if !describes(&f, size)? {
            // The rebuilt tree proved the blob good, so it is the caller's
            // size that is stale: the blob was replaced meanwhile.
            return Err(io::Error::other("blob replaced while its tree was built").into());
        }
        Ok(f)
    }

    /// Hashes the whole blob into a new tree; quarantines the blob if it does
    /// not hash to its name.
    fn rebuild_tree(&self, hash: &BlobHash) -> Result<()> {
        let mut blob = match File::open(self.path(hash)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(Error::NotFound(*hash)),
            Err(e) => return Err(e.into()),
        };
        let (file, mut temp) = self.temp_tree()?;
        let mut tree = TreeWriter::new(file);
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            let n = blob.read(&mut buf)?;
            if n == 0 {
                break;
            }
            tree.update(&buf[..n])?;
        }
        let (got, file) = tree.finish()?;
        if got != *hash {
            tracing::warn!(blob = %hash, computed = %got, "blob bytes do not hash to its name");
            return Err(self.quarantine(hash, "bytes do not hash to the name", &blob));
        }
        file.sync_all()?;
        let dest = self.outboard_path(hash);
        std::fs::rename(&temp.path, &dest)?;
        temp.armed = false;
        if let Some(dir) = dest.parent() {
            sync_dir(dir)?;
        }
        tracing::info!(blob = %hash, "built the hash tree of a blob stored without one");
        Ok(())
    }
}

/// Whether the tree file describes a blob of `size` bytes: its length
/// header says so and it has the matching length. (The header itself is
/// proven when a read reaches the blob's last chunk.)
fn describes(tree: &File, size: u64) -> io::Result<bool> {
    let mut header = [0u8; 8];
    let mut reader = tree;
    match reader.read_exact(&mut header) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
        Err(e) => return Err(e),
    }
    let len = tree.metadata()?.len();
    Ok(u64::from_le_bytes(header) == size && u128::from(len) == bao::encode::outboard_size(size))
}
