//! `Env`: an in-process cluster, a HOME with SSH keys registered with the
//! test account, an SDK client, and a way to run the m* binaries (ours or
//! node-manta's) against it.

#![allow(dead_code)]

use client_sdk::{Client, Config, Signer};
use frontend::cluster::{Cluster, ClusterOptions};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

pub const USER: &str = "tester";

pub struct Env {
    pub cluster: Cluster,
    pub client: Client,
    /// HOME of the commands: `.ssh/id_ed25519`, `id_rsa`, `id_ecdsa`.
    pub home: PathBuf,
    /// MD5 fingerprint of `id_ed25519` (MANTA_KEY_ID).
    pub key_id: String,
    pub dir: tempfile::TempDir,
}

/// Makes a key pair with ssh-keygen; returns the private key path.
pub fn keygen(ssh: &Path, kind: &str) -> PathBuf {
    let file = ssh.join(format!("id_{kind}"));
    let mut args = vec!["-q", "-t", kind, "-N", "", "-C", "test", "-f"];
    let f = file.to_string_lossy().to_string();
    args.push(&f);
    if kind == "rsa" {
        args.extend(["-b", "2048"]);
    }
    let st = std::process::Command::new("ssh-keygen")
        .args(&args)
        .status()
        .unwrap();
    assert!(st.success(), "ssh-keygen {kind}");
    file
}

/// `aa:bb:..` MD5 fingerprint of a public key file, via ssh-keygen.
pub fn md5_fp(pub_file: &Path) -> String {
    let out = std::process::Command::new("ssh-keygen")
        .args(["-l", "-E", "md5", "-f"])
        .arg(pub_file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.split_whitespace()
        .nth(1)
        .unwrap()
        .trim_start_matches("MD5:")
        .to_string()
}

/// `SHA256:..` fingerprint of a public key file, via ssh-keygen.
pub fn sha256_fp(pub_file: &Path) -> String {
    let out = std::process::Command::new("ssh-keygen")
        .args(["-l", "-E", "sha256", "-f"])
        .arg(pub_file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.split_whitespace().nth(1).unwrap().to_string()
}

fn pub_path(private: &Path) -> PathBuf {
    PathBuf::from(format!("{}.pub", private.display()))
}

impl Env {
    pub async fn start() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = ClusterOptions::dev(dir.path().join("data"));
        opts.frontend_listen = SocketAddr::from(([127, 0, 0, 1], 0));
        opts.s3_listen = None;
        opts.heartbeat_interval = Duration::from_millis(200);
        opts.settings.heartbeat_timeout = Duration::from_millis(1500);
        opts.accounts = vec![USER.into()];
        let cluster = Cluster::start(opts).await.unwrap();
        let home = dir.path().join("home");
        let ssh = home.join(".ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        for kind in ["ed25519", "rsa", "ecdsa"] {
            let key = keygen(&ssh, kind);
            let text = std::fs::read_to_string(pub_path(&key)).unwrap();
            cluster
                .state
                .accounts
                .add_ssh_key(USER, text.trim())
                .await
                .unwrap();
        }
        let key_id = md5_fp(&ssh.join("id_ed25519.pub"));
        let client = sdk_client(&cluster.url, &ssh.join("id_ed25519"));
        Env {
            cluster,
            client,
            home,
            key_id,
            dir,
        }
    }

    pub fn ssh_dir(&self) -> PathBuf {
        self.home.join(".ssh")
    }

    /// A scratch directory for local files.
    pub fn local(&self, name: &str) -> PathBuf {
        let p = self.dir.path().join("local").join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        p
    }

    /// Runs one of our binaries.
    pub async fn run(&self, bin: &str, args: &[&str]) -> Output {
        self.run_with(ours(bin), args, None).await
    }

    /// Runs one of our binaries with `stdin` fed in.
    pub async fn run_stdin(&self, bin: &str, args: &[&str], stdin: &[u8]) -> Output {
        self.run_with(ours(bin), args, Some(stdin)).await
    }

    /// Runs a program with the Manta environment of the test account.
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
        other => panic!("no binary {other}"),
    };
    PathBuf::from(p)
}

/// A client signing with the private key at `key`.
pub fn sdk_client(url: &str, key: &Path) -> Client {
    let mut cfg = Config::new(url, USER);
    cfg.backoff = Duration::from_millis(50);
    Client::with_signer(cfg, Some(Signer::from_file(key).unwrap())).unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Asserts success, showing stderr otherwise.
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

/// Deterministic pseudo-random bytes.
pub fn bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}
