//! A task's working directory under the agent's `tasks/`: the spool the
//! container writes (`spool/`) and the files the agent makes for it
//! (`files/`: fetched inputs and assets, msplit partitions). Removed when
//! dropped, whether the task finished or was cancelled.

use std::io::Read;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::failure::{Failure, InfraContext};

pub(crate) struct TaskDir {
    root: PathBuf,
}

impl TaskDir {
    /// A fresh directory under `parent`.
    ///
    /// # Errors
    /// The directories cannot be made (ours).
    pub(crate) fn create(parent: &Path) -> Result<Self, Failure> {
        let root = parent.join(uuid::Uuid::new_v4().simple().to_string());
        let dir = Self { root };
        std::fs::create_dir_all(dir.files()).infra("create the task directory")?;
        std::fs::create_dir(dir.spool()).infra("create the task spool")?;
        // The image's user may not be root; the spool is the task's alone.
        std::fs::set_permissions(dir.spool(), std::fs::Permissions::from_mode(0o777))
            .infra("open up the task spool")?;
        Ok(dir)
    }

    pub(crate) fn spool(&self) -> PathBuf {
        self.root.join("spool")
    }

    pub(crate) fn files(&self) -> PathBuf {
        self.root.join("files")
    }

    /// `files/<name>`: a file the agent makes for the task.
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.files().join(name)
    }
}

/// Opens a file the container may have written, refusing a symlink in
/// its place (it would point at the host's files).
///
/// # Errors
/// As `open(2)` with `O_NOFOLLOW`.
pub(crate) fn open_plain(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(path)
}

/// The first `limit` bytes of such a file.
///
/// # Errors
/// As [`open_plain`] and reading.
pub(crate) fn read_head(path: &Path, limit: usize) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX);
    open_plain(path)?.take(cap).read_to_end(&mut head)?;
    Ok(head)
}

/// Whether `path` is a directory and not a symlink to one.
pub(crate) fn is_real_dir(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

impl Drop for TaskDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.root) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(dir = %self.root.display(), error = %e, "cannot remove task directory");
            }
        }
    }
}
