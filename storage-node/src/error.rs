use crate::wire::BlobHash;

/// Everything that can go wrong in the blob store, its server and its client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("blob {0} not found")]
    NotFound(BlobHash),
    /// Both sides are base64, as `Content-MD5` carries them.
    #[error("content-md5 mismatch: expected {expected}, computed {computed}")]
    Md5Mismatch { expected: String, computed: String },
    #[error("size mismatch: expected {expected}, got {got}")]
    SizeMismatch { expected: u64, got: u64 },
    #[error("blob hash mismatch: expected {expected}, got {got}")]
    HashMismatch { expected: BlobHash, got: BlobHash },
    /// The stored copy does not match its hash tree or its name; it has
    /// been quarantined and this node no longer serves it.
    #[error("blob {0} is corrupt")]
    Corrupt(BlobHash),
    #[error("range not satisfiable")]
    BadRange,
    /// The upload stream failed or the client went away.
    #[error("request body: {0}")]
    Body(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    /// A config file's value, named by its key, is refused.
    #[error("config key {key}: {reason}")]
    InvalidConfig { key: &'static str, reason: String },
    #[error("storage node answered {status} {code}: {message}")]
    Remote {
        status: u16,
        code: String,
        message: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
