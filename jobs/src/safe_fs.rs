//! Opening files a task (or an image) could have written, on the host.
//!
//! The agent runs as root on the host; a task controls what is in its
//! spool and an image controls what is in its layers. Any host-side open
//! of such a file must not follow a symlink (it would read a host file),
//! must not block (a FIFO with no writer), must not read a device, and
//! must not read without bound. So every such file is opened here, in
//! two steps: first `O_PATH | O_NOFOLLOW` (which opens nothing: a FIFO
//! does not block, a device's driver is not called, a symlink is the link
//! itself) and `fstat` on that descriptor (not the path, which could
//! change between the two) must show a regular file no bigger than the
//! caller's cap; then that very inode is opened for reading through
//! `/proc/self/fd/<n>` with `O_NONBLOCK`, and checked again.
//!
//! Paths below a trusted directory ([`Confined`]) are walked one component
//! at a time, each directory opened with `O_NOFOLLOW | O_DIRECTORY` and the
//! next component opened relative to it through `/proc/self/fd/<n>/`
//! (an `openat` without `unsafe`), so no symlinked directory anywhere
//! below the root is followed, and a name with `..` or `/` is refused.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;

/// Why a file was not opened.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OpenError {
    #[error("{path} does not exist")]
    NotFound { path: String },
    /// A symlink, FIFO, device, socket or directory where a regular file
    /// (or a directory) was expected: whoever wrote it is at fault.
    #[error("{path} is {what}, not a {expected}: refused")]
    Refused {
        path: String,
        what: &'static str,
        expected: &'static str,
    },
    #[error("{path} is {size} bytes, over the limit of {max} bytes")]
    TooLarge { path: String, size: u64, max: u64 },
    #[error("{path:?} is not a plain relative name (no '..', '/' or empty parts)")]
    BadName { path: String },
    #[error("open {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl OpenError {
    /// The file's writer (the task, the image) is at fault, not the host.
    pub(crate) fn is_refusal(&self) -> bool {
        matches!(
            self,
            Self::Refused { .. } | Self::TooLarge { .. } | Self::BadName { .. }
        )
    }

    pub(crate) fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }
}

type Result<T> = std::result::Result<T, OpenError>;

fn kind_of(ft: std::fs::FileType) -> &'static str {
    if ft.is_symlink() {
        "a symlink"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_dir() {
        "a directory"
    } else {
        "a regular file"
    }
}

fn open_error(path: &str, e: std::io::Error, expected: &'static str) -> OpenError {
    let refused = |what| OpenError::Refused {
        path: path.to_owned(),
        what,
        expected,
    };
    match e.raw_os_error().map(Errno::from_raw) {
        _ if e.kind() == std::io::ErrorKind::NotFound => OpenError::NotFound {
            path: path.to_owned(),
        },
        // O_NOFOLLOW on a symlink.
        Some(Errno::ELOOP) => refused("a symlink"),
        // A socket cannot be opened; a directory was needed on the way.
        Some(Errno::ENXIO) => refused("a socket"),
        Some(Errno::ENOTDIR) => refused("not a directory (or below one)"),
        Some(Errno::EISDIR) => refused("a directory"),
        _ => OpenError::Io {
            path: path.to_owned(),
            source: e,
        },
    }
}

fn open_raw(path: &Path, extra: OFlag) -> std::io::Result<File> {
    let flags = OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC | extra;
    OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits())
        .open(path)
}

/// Opens the directory at `path`, naming what is there instead when it is
/// not one (`O_DIRECTORY | O_NOFOLLOW` says ENOTDIR for a symlink too).
fn open_directory(path: &Path, shown: &str) -> Result<File> {
    open_raw(path, OFlag::O_DIRECTORY).map_err(|e| {
        if e.raw_os_error() == Some(Errno::ENOTDIR as i32) {
            if let Ok(meta) = std::fs::symlink_metadata(path) {
                return OpenError::Refused {
                    path: shown.to_owned(),
                    what: kind_of(meta.file_type()),
                    expected: "directory",
                };
            }
        }
        open_error(shown, e, "directory")
    })
}

/// Checks the opened file is regular and at most `max` bytes.
fn check_regular(file: File, shown: &str, max: u64) -> Result<File> {
    let meta = file.metadata().map_err(|source| OpenError::Io {
        path: shown.to_owned(),
        source,
    })?;
    if !meta.file_type().is_file() {
        return Err(OpenError::Refused {
            path: shown.to_owned(),
            what: kind_of(meta.file_type()),
            expected: "regular file",
        });
    }
    if meta.len() > max {
        return Err(OpenError::TooLarge {
            path: shown.to_owned(),
            size: meta.len(),
            max,
        });
    }
    Ok(file)
}

/// Opens `path` (its last component not followed) for reading if it is
/// a regular file of at most `max` bytes.
fn open_checked(path: &Path, shown: &str, max: u64) -> Result<File> {
    let pinned = OpenOptions::new()
        .read(true)
        .custom_flags((OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC).bits())
        .open(path)
        .map_err(|e| open_error(shown, e, "regular file"))?;
    let pinned = check_regular(pinned, shown, max)?;
    // The magic link names the inode checked above, whatever the path
    // names now; following it is the point.
    let flags = OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits())
        .open(via_fd(&pinned))
        .map_err(|e| open_error(shown, e, "regular file"))?;
    check_regular(file, shown, max)
}

/// Opens `path` for reading if it is a regular file of at most `max`
/// bytes; its last component must not be a symlink (its parents are
/// trusted: use [`Confined`] when they are not).
pub(crate) fn open_regular(path: &Path, max: u64) -> Result<File> {
    open_checked(path, &path.display().to_string(), max)
}

/// Reads all of a file opened by [`open_regular`] (or [`Confined`]),
/// never more than `max` bytes even if it grows meanwhile.
pub(crate) fn read_capped(file: File, shown: &str, max: u64) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| OpenError::Io {
            path: shown.to_owned(),
            source,
        })?;
    let size = bytes.len() as u64;
    if size > max {
        return Err(OpenError::TooLarge {
            path: shown.to_owned(),
            size,
            max,
        });
    }
    Ok(bytes)
}

/// `/proc/self/fd/<n>`: the directory `dir` is open on, as a path that
/// resolves through the descriptor and not through the name it had.
fn via_fd(dir: &File) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd()))
}

/// A path below a trusted root directory, made of plain names only; every
/// open walks it without following a symlink.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Confined {
    root: PathBuf,
    rel: PathBuf,
}

impl Confined {
    /// The trusted directory itself.
    pub(crate) fn root(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            rel: PathBuf::new(),
        }
    }

    /// `rel` below `root`; `rel` may be empty (the root itself).
    ///
    /// # Errors
    /// [`OpenError::BadName`] for `..`, an absolute path or `.`.
    pub(crate) fn new(root: impl Into<PathBuf>, rel: impl AsRef<Path>) -> Result<Self> {
        let rel = rel.as_ref();
        let plain = rel.components().all(|c| matches!(c, Component::Normal(_)));
        if !plain {
            return Err(OpenError::BadName {
                path: rel.display().to_string(),
            });
        }
        Ok(Self {
            root: root.into(),
            rel: rel.to_path_buf(),
        })
    }

    /// The path below this one named `name` (a name the task may have
    /// chosen: it must be one plain component).
    ///
    /// # Errors
    /// [`OpenError::BadName`] for a name with `/`, `..` or `.`.
    pub(crate) fn child(&self, name: &str) -> Result<Self> {
        let one = Path::new(name).components().count() == 1
            && matches!(
                Path::new(name).components().next(),
                Some(Component::Normal(_))
            )
            && !name.contains('/');
        if !one {
            return Err(OpenError::BadName {
                path: self.rel.join(name).display().to_string(),
            });
        }
        Ok(Self {
            root: self.root.clone(),
            rel: self.rel.join(name),
        })
    }

    /// The path as the writer sees it, relative to the root (no host path
    /// in messages meant for the user).
    pub(crate) fn shown(&self) -> String {
        self.rel.display().to_string()
    }

    /// Opens the parent directory of the last component (or the root),
    /// every directory on the way refused if it is a symlink.
    fn open_parent(&self) -> Result<(File, Option<&std::ffi::OsStr>)> {
        let root = open_directory(&self.root, &self.root.display().to_string())?;
        let mut parts: Vec<&std::ffi::OsStr> = self.rel.iter().collect();
        let last = parts.pop();
        let mut dir = root;
        let mut walked = PathBuf::new();
        for part in parts {
            walked.push(part);
            let shown = walked.display().to_string();
            dir = open_directory(&via_fd(&dir).join(part), &shown)?;
        }
        Ok((dir, last))
    }

    /// Opens the file if it is regular and at most `max` bytes.
    pub(crate) fn open_regular(&self, max: u64) -> Result<File> {
        let shown = self.shown();
        let (dir, last) = self.open_parent()?;
        let Some(last) = last else {
            return Err(OpenError::Refused {
                path: shown,
                what: "a directory",
                expected: "regular file",
            });
        };
        open_checked(&via_fd(&dir).join(last), &shown, max)
    }

    /// The first `limit` bytes of the file, however big it is.
    pub(crate) fn head(&self, limit: u64) -> Result<Vec<u8>> {
        let mut head = Vec::new();
        self.open_regular(u64::MAX)?
            .take(limit)
            .read_to_end(&mut head)
            .map_err(|source| OpenError::Io {
                path: self.shown(),
                source,
            })?;
        Ok(head)
    }

    /// All the file's bytes, at most `max`.
    pub(crate) fn read(&self, max: u64) -> Result<Vec<u8>> {
        read_capped(self.open_regular(max)?, &self.shown(), max)
    }

    /// Opens the directory itself; list it through [`Confined::list`].
    pub(crate) fn open_dir(&self) -> Result<File> {
        let (dir, last) = self.open_parent()?;
        match last {
            None => Ok(dir),
            Some(last) => open_directory(&via_fd(&dir).join(last), &self.shown()),
        }
    }

    /// Whether something (of any kind, a dangling symlink too) has this
    /// name; never follows a symlink to answer.
    pub(crate) fn exists(&self) -> Result<bool> {
        let (dir, last) = self.open_parent()?;
        let Some(last) = last else { return Ok(true) };
        match std::fs::symlink_metadata(via_fd(&dir).join(last)) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(open_error(&self.shown(), e, "file")),
        }
    }

    /// The names in the directory with their types as listed (`lstat`:
    /// a symlinked directory is listed as a symlink, never entered).
    pub(crate) fn list(&self) -> Result<Vec<(String, std::fs::FileType)>> {
        let dir = self.open_dir()?;
        let io = |source| OpenError::Io {
            path: self.shown(),
            source,
        };
        let mut names = Vec::new();
        for entry in std::fs::read_dir(via_fd(&dir)).map_err(io)? {
            let entry = entry.map_err(io)?;
            let kind = entry.file_type().map_err(io)?;
            names.push((entry.file_name().to_string_lossy().into_owned(), kind));
        }
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn refuses_symlinks_fifos_and_big_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("ok"), "fine").unwrap();
        std::fs::write(root.join("big"), vec![0u8; 100]).unwrap();
        symlink("/etc/hostname", root.join("link")).unwrap();
        nix::unistd::mkfifo(&root.join("fifo"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        symlink("/etc", root.join("etcdir")).unwrap();

        let at = |rel: &str| Confined::new(root, rel).unwrap();
        assert_eq!(at("ok").read(10).unwrap(), b"fine");
        let refused = |rel: &str, what: &str| {
            let err = at(rel).read(10).unwrap_err();
            assert!(err.is_refusal(), "{rel}: {err}");
            assert!(err.to_string().contains(what), "{rel}: {err}");
        };
        refused("link", "symlink");
        refused("fifo", "FIFO");
        refused("sub", "directory");
        refused("big", "over the limit");
        refused("etcdir/hostname", "symlink");
        let device = Confined::new("/dev", "null").unwrap().read(10).unwrap_err();
        assert!(device.to_string().contains("character device"), "{device}");
        assert!(at("missing").read(10).unwrap_err().is_not_found());
        assert!(open_regular(&root.join("link"), 10)
            .unwrap_err()
            .is_refusal());
        assert!(open_regular(&root.join("fifo"), 10)
            .unwrap_err()
            .is_refusal());
        assert!(Confined::new(root, "../x").is_err());
        assert!(Confined::new(root, "/etc").is_err());
        assert!(at("").child("..").is_err());
        assert!(at("").child("a/b").is_err());
        assert!(at("etcdir").list().unwrap_err().is_refusal());
        assert!(at("etcdir").exists().unwrap());
    }
}
