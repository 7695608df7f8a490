//! The crate's one error type.

use std::path::PathBuf;

/// Errors from importing images and running tasks.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid image archive: {0}")]
    InvalidArchive(String),
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("unsafe layer entry {path:?}: {reason}")]
    UnsafeEntry { path: String, reason: &'static str },
    /// An image import ran into one of its caps (`ImageLimits`).
    #[error("image refused: its {what} is over the limit of {limit}")]
    ImageLimit { what: &'static str, limit: u64 },
    #[error("invalid image name {0:?}: use letters, digits and . _ - : (max 128)")]
    InvalidImageName(String),
    #[error("image not found: {0}")]
    ImageNotFound(String),
    #[error("runtime binary {binary} not found in PATH: install the Debian package {package}")]
    RuntimeMissing {
        binary: &'static str,
        package: &'static str,
    },
    #[error("busybox at {0} is not statically linked: install the Debian package busybox-static")]
    BusyboxNotStatic(PathBuf),
    #[error("busybox not found: install the Debian package busybox-static")]
    BusyboxMissing,
    /// A file of the image's rootfs that the runner reads (`/etc/passwd`)
    /// is not a small regular file: the image's fault.
    #[error("image refused: {0}")]
    ImageFile(String),
    #[error("invalid task: {0}")]
    InvalidTask(String),
    #[error("{action}: {source}")]
    Sys {
        action: &'static str,
        #[source]
        source: nix::Error,
    },
    #[error("container runtime {runtime} failed to {action}: {detail}")]
    Runtime {
        runtime: &'static str,
        action: &'static str,
        detail: String,
    },
    #[error("json {what}: {source}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("runtime spec: {0}")]
    Spec(#[from] oci_spec::OciSpecError),
    /// A config file's value, named by its key, is refused.
    #[error("config key {key}: {reason}")]
    InvalidConfig { key: &'static str, reason: String },
    /// An image archive could not be fetched from its URL.
    #[error("fetch {url}: {detail}")]
    Fetch { url: String, detail: String },
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attaches an action and a path to an I/O error, the context a bare
/// `io::Error` lacks.
pub(crate) trait IoContext<T> {
    fn ctx(self, action: &'static str, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, action: &'static str, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| Error::Io {
            action,
            path: path.into(),
            source,
        })
    }
}

pub(crate) fn sys(action: &'static str) -> impl FnOnce(nix::Error) -> Error {
    move |source| Error::Sys { action, source }
}

pub(crate) fn json(what: impl Into<String>) -> impl FnOnce(serde_json::Error) -> Error {
    let what = what.into();
    move |source| Error::Json { what, source }
}
