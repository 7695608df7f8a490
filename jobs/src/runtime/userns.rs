//! The user namespace of a task under runc: the task's ids 0..65536 are
//! host ids 100000..165536, so root in the task is no one on the host.
//!
//! The image's files belong to host ids (root, mostly) that the namespace
//! does not map, so the task would see them owned by `nobody` and its root
//! could not write its own root filesystem. The rootfs is therefore
//! shifted before the task starts: every entry is `lchown`ed by 100000.
//! The overlay is mounted with `metacopy=on`, so that is a copy-up of the
//! inode alone into the task's writable layer (no data is copied, the
//! shared layer cache is untouched).

use std::os::unix::fs::{lchown, MetadataExt};
use std::path::Path;

use crate::error::IoContext;
use crate::Result;

/// Host id of the task's id 0.
pub(crate) const HOST_ID: u32 = 100_000;
/// Ids mapped.
pub(crate) const SIZE: u32 = 65_536;

/// The host id of the task's `id`; ids beyond the mapping stay unmapped
/// (the task sees them as `nobody`).
fn shifted(id: u32) -> u32 {
    if id < SIZE {
        HOST_ID + id
    } else {
        id
    }
}

/// Gives every entry of the mounted `rootfs` its owner in the task's
/// namespace, walking it without following symlinks.
///
/// # Errors
/// An entry cannot be listed or changed.
pub(crate) fn shift_rootfs(rootfs: &Path) -> Result<()> {
    let mut dirs = vec![rootfs.to_path_buf()];
    shift(rootfs)?;
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).ctx("list rootfs directory", &dir)? {
            let entry = entry.ctx("list rootfs directory", &dir)?;
            let path = entry.path();
            shift(&path)?;
            // Its own type, not its target's: a symlink is never entered.
            if entry.file_type().ctx("stat rootfs entry", &path)?.is_dir() {
                dirs.push(path);
            }
        }
    }
    Ok(())
}

fn shift(path: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(path).ctx("stat rootfs entry", path)?;
    lchown(path, Some(shifted(meta.uid())), Some(shifted(meta.gid())))
        .ctx("shift rootfs owner", path)
}
