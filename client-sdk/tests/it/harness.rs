//! The SDK tests' view of the shared test kit ([`frontend::testkit`]):
//! `Env` is its [`TestCluster`] set up as these tests need it (rsa and
//! ecdsa keys beside `id_ed25519` in HOME, for the key-type and ssh-agent
//! tests), plus running our m* binaries, whose paths cargo gives only to
//! this test crate.

pub use frontend::testkit::{
    bytes, fails_with, files_under, keygen, md5_fp, ok, sdk_client, sha256_fp, stderr, stdout,
    TestCluster, USER,
};
use std::path::PathBuf;
use std::process::Output;

/// A [`TestCluster`] (through `Deref`) with the SDK tests' set-up.
pub struct Env(TestCluster);

impl std::ops::Deref for Env {
    type Target = TestCluster;
    fn deref(&self) -> &TestCluster {
        &self.0
    }
}

impl Env {
    pub async fn start() -> Env {
        Env(TestCluster::start_with(3, |o| {
            o.home_keys = vec!["rsa", "ecdsa"];
            // As these tests always ran: job tasks under `mantad dev`'s
            // default runtime (gVisor).
            o.agent = Some(frontend::cluster::AgentRole::default());
        })
        .await)
    }

    /// Runs one of our binaries.
    pub async fn run(&self, bin: &str, args: &[&str]) -> Output {
        self.run_with(ours(bin), args, None).await
    }

    /// Runs one of our binaries with `stdin` fed in.
    pub async fn run_stdin(&self, bin: &str, args: &[&str], stdin: &[u8]) -> Output {
        self.run_with(ours(bin), args, Some(stdin)).await
    }
}

/// Path of one of our binaries.
pub fn ours(bin: &str) -> PathBuf {
    let p = match bin {
        "mput" => env!("CARGO_BIN_EXE_mput"),
        "mget" => env!("CARGO_BIN_EXE_mget"),
        "mls" => env!("CARGO_BIN_EXE_mls"),
        "mfind" => env!("CARGO_BIN_EXE_mfind"),
        "mmkdir" => env!("CARGO_BIN_EXE_mmkdir"),
        "mrm" => env!("CARGO_BIN_EXE_mrm"),
        "mrmdir" => env!("CARGO_BIN_EXE_mrmdir"),
        "mln" => env!("CARGO_BIN_EXE_mln"),
        "minfo" => env!("CARGO_BIN_EXE_minfo"),
        "msign" => env!("CARGO_BIN_EXE_msign"),
        "mchmod" => env!("CARGO_BIN_EXE_mchmod"),
        "mchattr" => env!("CARGO_BIN_EXE_mchattr"),
        "mmd5" => env!("CARGO_BIN_EXE_mmd5"),
        "mmpu" => env!("CARGO_BIN_EXE_mmpu"),
        "mjob" => env!("CARGO_BIN_EXE_mjob"),
        other => panic!("no binary {other}"),
    };
    PathBuf::from(p)
}

/// Runs one of our binaries against `tc` as [`USER`], but with `MANTA_URL`
/// set to `url` (a proxy in front of the cluster).
pub async fn run_at(tc: &TestCluster, url: &str, bin: &str, args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(ours(bin));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &tc.home)
        .env("MANTA_URL", url)
        .env("MANTA_USER", USER)
        .env("MANTA_KEY_ID", &tc.key_id)
        .current_dir(tc.dir.path())
        .kill_on_drop(true);
    tokio::time::timeout(std::time::Duration::from_secs(120), cmd.output())
        .await
        .expect("command timed out")
        .unwrap()
}
