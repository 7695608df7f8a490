//! The in-task utilities (`mpipe`, `mcat`, `mtee`, `msplit`, `maggr`): POSIX shell
//! scripts written at start into a directory every task sees read-only at
//! [`BIN_DIR`]. They only write records into the task's spool
//! ([`SPOOL_DIR`]); `spool.rs` reads them after the task exits. Beside
//! them, the driver of a batch (`.batch.sh`, see `batch.rs`).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::error::IoContext;
use crate::Result;

/// Where the utilities appear in the container (first in `PATH`).
pub(crate) const BIN_DIR: &str = "/opt/manta/bin";
/// Where the task's spool appears in the container (`MANTA_SPOOL`).
pub(crate) const SPOOL_DIR: &str = "/opt/manta/spool";
/// The batch driver (`utilities/batch.sh`), in [`BIN_DIR`].
const BATCH_DRIVER_NAME: &str = ".batch.sh";
/// The command of a batch's container: the driver.
pub(crate) const BATCH_COMMAND: &str = "exec /bin/sh /opt/manta/bin/.batch.sh";

const SCRIPTS: [(&str, &str); 8] = [
    (".spool.sh", include_str!("utilities/spool.sh")),
    ("mpipe", include_str!("utilities/mpipe.sh")),
    ("mcat", include_str!("utilities/mcat.sh")),
    ("mtee", include_str!("utilities/mtee.sh")),
    ("msplit", include_str!("utilities/msplit.sh")),
    (".msplit.js", include_str!("utilities/msplit.js")),
    ("maggr", include_str!("utilities/maggr.sh")),
    (BATCH_DRIVER_NAME, include_str!("utilities/batch.sh")),
];

/// Writes the scripts into `dir` (replacing older versions).
///
/// # Errors
/// I/O errors creating or writing the files.
pub(crate) fn install(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).ctx("create utilities directory", dir)?;
    for (name, text) in SCRIPTS {
        let path = dir.join(name);
        std::fs::write(&path, text).ctx("write utility", &path)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .ctx("chmod utility", &path)?;
    }
    Ok(())
}
