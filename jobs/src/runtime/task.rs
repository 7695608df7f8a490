//! What a task is given and what comes back.

use std::path::PathBuf;
use std::time::Duration;

use super::kind::RuntimeKind;

/// Resource limits of one task. Which mechanism enforces each under each
/// runtime is in `docs/jobs-runtime.md`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Memory of the task (runc) or of the whole sandbox (runsc).
    pub memory_bytes: u64,
    /// Processes and threads.
    pub pids: u64,
    /// Wall-clock time from start to exit.
    pub wall_time: Duration,
    /// Bytes the task may write to its root filesystem.
    pub write_bytes: u64,
    /// Bytes of stderr kept; the rest is counted and dropped.
    pub(crate) stderr_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 1 << 30,
            pids: 512,
            wall_time: Duration::from_secs(3600),
            write_bytes: 1 << 30,
            stderr_bytes: 64 << 10,
        }
    }
}

/// A host file or directory shown inside the container; read-only unless
/// `writable` (the agent's spool directory).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindMount {
    pub source: PathBuf,
    /// Absolute path in the container, e.g. `/manta/<login>/stor/obj`.
    pub(crate) destination: PathBuf,
    pub(crate) writable: bool,
}

impl BindMount {
    /// `source` shown read-only at `destination`.
    pub fn read_only(source: impl Into<PathBuf>, destination: impl Into<PathBuf>) -> Self {
        Self {
            source: source.into(),
            destination: destination.into(),
            writable: false,
        }
    }

    /// `source` shown read-write at `destination`: writes reach the host
    /// and are not counted against [`Limits::write_bytes`].
    pub(crate) fn read_write(source: impl Into<PathBuf>, destination: impl Into<PathBuf>) -> Self {
        Self {
            writable: true,
            ..Self::read_only(source, destination)
        }
    }
}

/// One task: a shell command run in a container made from an image.
#[derive(Clone, Debug, Default)]
pub struct TaskSpec {
    /// Image name; `None` for the default busybox image.
    pub image: Option<String>,
    /// Run as `/bin/sh -c COMMAND` (Manta's `exec`), replacing the image's
    /// `Entrypoint` and `Cmd`.
    pub command: String,
    pub runtime: RuntimeKind,
    /// File given to the task on stdin (the input blob); none means empty.
    /// Ignored by [`super::TaskRunner::run_with_stdin`], which pipes it.
    pub stdin: Option<PathBuf>,
    pub mounts: Vec<BindMount>,
    /// Added to (and overriding) the image's `Env`.
    pub env: Vec<(String, String)>,
    pub limits: Limits,
    /// Run with a terminal (mlogin): the pty's master goes to this sink,
    /// and stdin and stdout are the pty's instead.
    pub console: Option<super::ConsoleSink>,
}

/// A limit that the task ran into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// The memory limit: the task was stopped.
    Memory,
    /// The pids limit: a fork or clone failed.
    Pids,
    /// The wall-clock limit: the task was killed.
    WallTime,
    /// The writable layer filled up: a write failed with ENOSPC.
    WriteBytes,
}

impl std::fmt::Display for LimitKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Memory => "memory limit exceeded",
            Self::Pids => "process limit exceeded",
            Self::WallTime => "time limit exceeded",
            Self::WriteBytes => "disk write limit exceeded",
        })
    }
}

/// How a task ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskOutcome {
    /// The task's exit status (128+N for signal N); `None` when it was
    /// killed for a limit.
    pub exit_code: Option<i32>,
    /// Limits hit, in the order they were seen.
    pub limits_hit: Vec<LimitKind>,
    /// The first [`Limits::stderr_bytes`] of stderr.
    pub stderr: Vec<u8>,
    /// All stderr bytes, kept or not.
    pub(crate) stderr_total: u64,
    pub stdout_bytes: u64,
    pub wall_time: Duration,
    /// Peak memory of the task's cgroup (under runsc: the sandbox's).
    pub(crate) peak_memory: Option<u64>,
}

impl TaskOutcome {
    /// Exited with status 0 and hit no limit.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0) && self.limits_hit.is_empty()
    }

    /// Whether `limit` was hit.
    pub fn hit(&self, limit: LimitKind) -> bool {
        self.limits_hit.contains(&limit)
    }
}
