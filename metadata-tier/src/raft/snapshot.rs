//! Snapshots: RocksDB checkpoints (hard links of the live SST files, so
//! taking one costs a memtable flush, not a copy) kept under
//! `<data>/snapshots/<id>/` with their Raft meta in `<id>.json`; the last
//! two are kept, so one being sent is never deleted under the sender.
//!
//! Between replicas a snapshot travels as a tar of its directory,
//! streamed from a file on either side and checked against its BLAKE3
//! hash before it is unpacked.

use super::{NodeId, SnapshotDir, TypeConfig};
use openraft::{LogId, Snapshot, SnapshotMeta};
use rocksdb::checkpoint::Checkpoint;
use rocksdb::DB;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

type Meta = SnapshotMeta<NodeId, openraft::BasicNode>;

const KEEP: usize = 2;
/// The most files a received snapshot may hold (a checkpoint is a few
/// SST files per level plus its manifest).
const MAX_FILES: usize = 100_000;

fn dir(root: &Path) -> PathBuf {
    root.join("snapshots")
}

pub fn new_id(applied: Option<LogId<NodeId>>) -> String {
    let (term, index) = applied.map_or((0, 0), |l| (l.leader_id.term, l.index));
    format!(
        "{term}-{index:020}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// A fresh directory under `<root>/incoming` for a snapshot to arrive in.
pub fn incoming_dir(root: &Path) -> PathBuf {
    root.join("incoming")
        .join(uuid::Uuid::new_v4().simple().to_string())
}

/// Checkpoints `db` as the snapshot `meta` names, then prunes old ones.
///
/// # Errors
/// RocksDB and file errors.
pub fn checkpoint(root: &Path, db: &DB, meta: &Meta) -> crate::Result<PathBuf> {
    let base = dir(root);
    std::fs::create_dir_all(&base)?;
    let target = base.join(&meta.snapshot_id);
    let tmp = base.join(format!("tmp-{}", meta.snapshot_id));
    let _ = std::fs::remove_dir_all(&tmp);
    Checkpoint::new(db)?.create_checkpoint(&tmp)?;
    std::fs::rename(&tmp, &target)?;
    let json = base.join(format!("{}.json", meta.snapshot_id));
    std::fs::write(&json, serde_json::to_vec(meta)?)?;
    std::fs::File::open(&json)?.sync_all()?;
    prune(&base)?;
    Ok(target)
}

/// After installing a received snapshot: keep a checkpoint of it to send
/// on, under the same id.
///
/// # Errors
/// As [`checkpoint`].
pub fn keep(root: &Path, db: &DB, meta: &Meta) -> crate::Result<()> {
    checkpoint(root, db, meta).map(|_| ())
}

fn metas(base: &Path) -> crate::Result<Vec<(Meta, PathBuf)>> {
    let mut out = Vec::new();
    let Ok(read) = std::fs::read_dir(base) else {
        return Ok(out);
    };
    for e in read.flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "json") {
            let Ok(raw) = std::fs::read(&p) else { continue };
            let Ok(meta) = serde_json::from_slice::<Meta>(&raw) else {
                continue;
            };
            let d = base.join(&meta.snapshot_id);
            if d.is_dir() {
                out.push((meta, d));
            }
        }
    }
    out.sort_by_key(|(m, _)| m.last_log_id.map(|l| l.index));
    Ok(out)
}

fn prune(base: &Path) -> crate::Result<()> {
    let all = metas(base)?;
    let keep: Vec<&str> = all
        .iter()
        .rev()
        .take(KEEP)
        .map(|(m, _)| m.snapshot_id.as_str())
        .collect();
    for e in std::fs::read_dir(base)?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let id = name.strip_suffix(".json").unwrap_or(&name);
        if !keep.contains(&id) && !name.starts_with("tmp-") {
            let p = e.path();
            let _ = if p.is_dir() {
                std::fs::remove_dir_all(p)
            } else {
                std::fs::remove_file(p)
            };
        }
    }
    Ok(())
}

/// The newest snapshot kept.
///
/// # Errors
/// Listing the directory.
pub fn latest(root: &Path) -> crate::Result<Option<Snapshot<TypeConfig>>> {
    Ok(metas(&dir(root))?.pop().map(|(meta, d)| Snapshot {
        meta,
        snapshot: Box::new(SnapshotDir(d)),
    }))
}

/// A writer hashing what passes through.
struct Hashing<W> {
    inner: W,
    hash: blake3::Hasher,
    len: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Tars the checkpoint `src` into `out`: its BLAKE3 hash and length.
///
/// # Errors
/// File errors.
pub fn pack(src: &Path, out: &Path) -> std::io::Result<(String, u64)> {
    if let Some(p) = out.parent() {
        std::fs::create_dir_all(p)?;
    }
    let file = std::io::BufWriter::new(std::fs::File::create(out)?);
    let mut tar = tar::Builder::new(Hashing {
        inner: file,
        hash: blake3::Hasher::new(),
        len: 0,
    });
    for e in std::fs::read_dir(src)? {
        let e = e?;
        if e.file_type()?.is_file() {
            tar.append_path_with_name(e.path(), e.file_name())?;
        }
    }
    let mut w = tar.into_inner()?;
    w.flush()?;
    Ok((w.hash.finalize().to_hex().to_string(), w.len))
}

/// Unpacks a received tar into the new directory `into`: plain files
/// with plain names only.
///
/// # Errors
/// File errors; an entry that is not a plain file with a plain name.
pub fn unpack(tar_path: &Path, into: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(into)?;
    let mut archive = tar::Archive::new(std::fs::File::open(tar_path)?);
    for (n, entry) in archive.entries()?.enumerate() {
        let mut entry = entry?;
        if n >= MAX_FILES || !entry.header().entry_type().is_file() {
            return Err(std::io::Error::other("snapshot entry is not a plain file"));
        }
        let name = entry.path()?.into_owned();
        let plain = name.components().count() == 1
            && name
                .file_name()
                .is_some_and(|f| !f.is_empty() && f != "." && f != "..");
        if !plain {
            return Err(std::io::Error::other(format!(
                "snapshot entry {} is not a plain name",
                name.display()
            )));
        }
        let mut out = std::fs::File::create(into.join(&name))?;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let k = entry.read(&mut buf)?;
            if k == 0 {
                break;
            }
            out.write_all(&buf[..k])?;
        }
        out.sync_all()?;
    }
    std::fs::File::open(into)?.sync_all()?;
    Ok(())
}
