//! Where `mget` writes a download: under a temporary name beside the
//! destination, renamed over it only once every object written to it
//! verified, and removed otherwise, so a failed or corrupt download never
//! leaves a file that looks complete. A destination that is not a regular
//! file (`/dev/null`, a FIFO) is written in place, as before.

use anyhow::Context;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use tokio::fs::File;
use tokio::io::{AsyncWriteExt, BufWriter};

/// Large writes: tokio's file I/O costs a thread hop per call.
const WRITE_BUFFER: usize = 1 << 20;

/// An output file being written.
pub struct OutFile {
    writer: BufWriter<File>,
    /// `(temporary, destination)` until renamed; `None` when written in
    /// place.
    rename: Option<(PathBuf, PathBuf)>,
}

impl OutFile {
    /// Opens the file a download to `dest` is written to.
    ///
    /// # Errors
    /// Creating the file.
    pub async fn create(dest: &Path) -> anyhow::Result<OutFile> {
        let Some(dest) = renamable(dest) else {
            let f = File::create(dest)
                .await
                .with_context(|| format!("{}", dest.display()))?;
            return Ok(OutFile::new(f, None));
        };
        let tmp = part_name(&dest)?;
        let f = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .await
            .with_context(|| format!("{}", tmp.display()))?;
        // Replacing a file keeps its mode, as truncating it would have.
        if let Ok(old) = std::fs::metadata(&dest) {
            let _ = f.set_permissions(old.permissions()).await;
        }
        Ok(OutFile::new(f, Some((tmp, dest))))
    }

    fn new(f: File, rename: Option<(PathBuf, PathBuf)>) -> OutFile {
        OutFile {
            writer: BufWriter::with_capacity(WRITE_BUFFER, f),
            rename,
        }
    }

    pub fn writer(&mut self) -> &mut BufWriter<File> {
        &mut self.writer
    }

    /// Flushes and gives the file its name.
    ///
    /// # Errors
    /// Writing or renaming.
    pub async fn commit(mut self) -> anyhow::Result<()> {
        self.writer.flush().await?;
        if let Some((tmp, dest)) = self.rename.take() {
            let renamed = tokio::fs::rename(&tmp, &dest).await;
            if renamed.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            renamed.with_context(|| format!("rename {} to {}", tmp.display(), dest.display()))?;
        }
        Ok(())
    }
}

impl Drop for OutFile {
    fn drop(&mut self) {
        if let Some((tmp, _)) = &self.rename {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// The regular file to rename the download over: `dest`, or the file a
/// symlink at `dest` points to; `None` for anything else (a device, a
/// FIFO, a directory, a dangling link), which is written in place.
fn renamable(dest: &Path) -> Option<PathBuf> {
    match std::fs::symlink_metadata(dest) {
        Err(_) => Some(dest.to_path_buf()),
        Ok(m) if m.is_file() => Some(dest.to_path_buf()),
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::canonicalize(dest).ok().filter(|t| t.is_file())
        }
        Ok(_) => None,
    }
}

/// `.NAME.mget-XXXXXXXX` beside `dest`: hidden, and on the same file system
/// so the rename is atomic.
fn part_name(dest: &Path) -> anyhow::Result<PathBuf> {
    let name = dest
        .file_name()
        .with_context(|| format!("{}: not a file name", dest.display()))?;
    let mut tmp = OsString::from(".");
    tmp.push(name);
    tmp.push(format!(
        ".mget-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ));
    Ok(dest.with_file_name(tmp))
}
