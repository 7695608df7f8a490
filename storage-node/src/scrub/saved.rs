//! The scrubber's state kept across restarts, in `<root>/scrub.json`: the
//! last blob of an unfinished pass (the next start resumes after it) and
//! when the last full pass ended (so a restart does not start a new pass
//! early). Losing the file costs only repeated work: it is written with a
//! rename but not fsynced, and an unreadable one is ignored.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::wire::BlobHash;

const FILE: &str = "scrub.json";
/// Format of the file; bump when its fields change meaning.
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Saved {
    /// Unfinished pass: the last blob checked.
    pub(super) after: Option<BlobHash>,
    /// Last full pass's end, ms since the Unix epoch.
    pub(super) last_pass_end_ms: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    v: u32,
    #[serde(flatten)]
    saved: Saved,
}

fn path(root: &Path) -> PathBuf {
    root.join(FILE)
}

/// The saved state, or the default (start over) if there is none or it
/// cannot be read.
pub(super) async fn load(root: &Path) -> Saved {
    let text = match tokio::fs::read(path(root)).await {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Saved::default(),
        Err(e) => {
            tracing::warn!(error = %e, "reading the scrubber's saved state; starting over");
            return Saved::default();
        }
    };
    match serde_json::from_slice::<Envelope>(&text) {
        Ok(env) if env.v == VERSION => env.saved,
        Ok(env) => {
            tracing::warn!(
                version = env.v,
                "unknown scrubber state version; starting over"
            );
            Saved::default()
        }
        Err(e) => {
            tracing::warn!(error = %e, "parsing the scrubber's saved state; starting over");
            Saved::default()
        }
    }
}

/// Replaces the saved state; failures are logged (the scrub goes on).
pub(super) async fn store(root: &Path, saved: Saved) {
    let env = Envelope { v: VERSION, saved };
    let result = async {
        let bytes = serde_json::to_vec(&env).map_err(io::Error::other)?;
        let tmp = root.join(format!("{FILE}.tmp"));
        tokio::fs::write(&tmp, bytes).await?;
        tokio::fs::rename(&tmp, path(root)).await
    };
    if let Err(e) = result.await {
        tracing::warn!(error = %e, "saving the scrubber's position");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trip_and_bad_files_start_over() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).await, Saved::default());
        let s = Saved {
            after: Some(BlobHash::of(b"x")),
            last_pass_end_ms: Some(17),
        };
        store(dir.path(), s).await;
        assert_eq!(load(dir.path()).await, s);
        std::fs::write(path(dir.path()), b"{\"v\":99}").unwrap();
        assert_eq!(load(dir.path()).await, Saved::default());
        std::fs::write(path(dir.path()), b"not json").unwrap();
        assert_eq!(load(dir.path()).await, Saved::default());
    }
}
