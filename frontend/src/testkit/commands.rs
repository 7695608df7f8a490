//! Running command-line clients (our m* binaries, node-manta's) against a
//! [`TestCluster`] as [`USER`], with nothing of the caller's environment
//! but `PATH`, and checking what they print.

use super::{TestCluster, USER};
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

impl TestCluster {
    /// Runs `program` with the Manta environment of the test account
    /// (HOME with its keys, `MANTA_URL`, `MANTA_USER`, `MANTA_KEY_ID`, and
    /// over TLS `MANTA_CA_FILE` and `NODE_EXTRA_CA_CERTS`), in the kit's
    /// temp dir; `stdin` is fed in, then closed. Two minutes at most.
    pub async fn run_with(&self, program: PathBuf, args: &[&str], stdin: Option<&[u8]>) -> Output {
        use tokio::io::AsyncWriteExt;
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("MANTA_URL", &self.cluster.url)
            .env("MANTA_USER", USER)
            .env("MANTA_KEY_ID", &self.key_id)
            .env("TZ", "UTC")
            .current_dir(self.dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        if let Some(ca) = &self.ca_file {
            cmd.env("MANTA_CA_FILE", ca).env("NODE_EXTRA_CA_CERTS", ca);
        }
        let mut child = cmd.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(data) = stdin {
            input.write_all(data).await.unwrap();
        }
        drop(input);
        tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
            .await
            .expect("command timed out")
            .unwrap()
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Asserts success, showing stderr otherwise; returns stdout.
pub fn ok(o: &Output) -> String {
    assert!(o.status.success(), "failed: {}", stderr(o));
    stdout(o)
}

/// Asserts exit 1 with one stderr line containing `needle`.
pub fn fails_with(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "stdout {} stderr {err}",
        stdout(o)
    );
    assert!(err.contains(needle), "stderr {err:?} lacks {needle:?}");
}
