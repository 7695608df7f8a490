//! A task's working directory under the agent's `tasks/`: the spool the
//! container writes (`spool/`) and the files the agent makes for it
//! (`files/`: fetched inputs and assets, msplit partitions). Removed when
//! dropped, whether the task finished or was cancelled.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::failure::{Failure, InfraContext};
use crate::safe_fs::Confined;

pub(crate) struct TaskDir {
    root: PathBuf,
    /// The task's toolbox socket service (`toolbox.rs`), ended first.
    toolbox: std::sync::Mutex<Option<super::toolbox::Attached>>,
}

impl TaskDir {
    /// A fresh directory under `parent`.
    ///
    /// # Errors
    /// The directories cannot be made (ours).
    pub(crate) fn create(parent: &Path) -> Result<Self, Failure> {
        let root = parent.join(uuid::Uuid::new_v4().simple().to_string());
        let dir = Self {
            root,
            toolbox: std::sync::Mutex::new(None),
        };
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

    /// The spool, for reading what the task left there.
    pub(crate) fn spool_dir(&self) -> Confined {
        Confined::root(self.spool())
    }

    /// `sock/`: the toolbox socket, mounted read-only.
    pub(crate) fn socket_dir(&self) -> PathBuf {
        self.root.join("sock")
    }

    /// Keeps the toolbox socket served while this directory lives.
    pub(crate) fn keep_toolbox(&self, guard: super::toolbox::Attached) {
        if let Ok(mut slot) = self.toolbox.lock() {
            *slot = Some(guard);
        }
    }

    pub(crate) fn files(&self) -> PathBuf {
        self.root.join("files")
    }

    /// `files/<name>`: a file the agent makes for the task.
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.files().join(name)
    }
}

impl Drop for TaskDir {
    fn drop(&mut self) {
        if let Ok(mut slot) = self.toolbox.lock() {
            slot.take();
        }
        if let Err(e) = std::fs::remove_dir_all(&self.root) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(dir = %self.root.display(), error = %e, "cannot remove task directory");
            }
        }
    }
}
