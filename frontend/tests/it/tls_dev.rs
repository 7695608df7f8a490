//! HTTPS against a real `mantad dev` process: its dev CA and the `env.sh`
//! clients read; the certificate reloaded on SIGHUP (new connections see
//! the new one, open ones keep their session, a bad file changes
//! nothing); real clients over HTTPS (node-manta with
//! `NODE_EXTRA_CA_CERTS`, aws-cli with `AWS_CA_BUNDLE`), each refused
//! without its CA; and the plain listeners beside TLS with the URLs
//! `msign` and `aws s3 presign` make.

use crate::auth_node_manta::{node_bin, parse_env, Session};
use crate::tls::{connect, file_fingerprint, fingerprint, host_of, peer_fingerprint};
use bytes::Bytes;
use client_sdk::{Client, Config, PutOptions, Signer};
use frontend::dev_ca::DevTls;
use frontend::testkit::bytes;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio_rustls::client::TlsStream;

struct Dev {
    child: Child,
    env: HashMap<String, String>,
    /// What it printed once up (the plain listeners' URLs among it).
    summary: String,
    log: PathBuf,
    data: PathBuf,
}

impl Dev {
    /// `mantad dev` in HTTPS (its default) under `tmp`, `extra` flags added.
    async fn start(tmp: &Path, extra: &[&str]) -> Dev {
        let data = tmp.join("data");
        let log = tmp.join("mantad.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_mantad"))
            .args([
                "dev",
                "--listen",
                "127.0.0.1:0",
                "--s3-listen",
                "127.0.0.1:0",
            ])
            .args(["--admin-listen", "127.0.0.1:0", "--data"])
            .arg(&data)
            .args(extra)
            .env("RUST_LOG", "warn,metadata_tier::net::tls=info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        // The summary ends after env.sh is written.
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut summary = String::new();
        let read = async {
            while let Ok(Some(line)) = lines.next_line().await {
                summary.push_str(&line);
                summary.push('\n');
                if line.contains("Manage accounts with") {
                    return true;
                }
            }
            false
        };
        let up = tokio::time::timeout(Duration::from_secs(180), read).await;
        let log_text = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(
            matches!(up, Ok(true)),
            "mantad dev did not start:\n{summary}\n{log_text}"
        );
        let env = parse_env(&std::fs::read_to_string(data.join("env.sh")).unwrap());
        Dev {
            child,
            env,
            summary,
            log,
            data,
        }
    }

    fn url(&self) -> &str {
        &self.env["MANTA_URL"]
    }

    fn ca(&self) -> PathBuf {
        PathBuf::from(&self.env["MANTA_CA_FILE"])
    }

    /// The URL the summary prints on the line naming `what`.
    fn printed_url(&self, what: &str) -> String {
        let line = self
            .summary
            .lines()
            .find(|l| l.contains(what))
            .unwrap_or_else(|| panic!("no {what} in:\n{}", self.summary));
        line.split_whitespace()
            .find(|w| w.starts_with("http"))
            .unwrap()
            .to_string()
    }

    fn key(&self) -> Signer {
        Signer::from_file(&self.data.join("keys/dev/id_ed25519")).unwrap()
    }

    fn client(&self) -> Client {
        let mut cfg = Config::new(self.url(), "dev");
        cfg.ca_file = Some(self.ca());
        Client::with_signer(cfg, Some(self.key())).unwrap()
    }

    fn sighup(&self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id().unwrap() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
    }

    /// Waits until the process has logged `what` `times` times.
    async fn logged(&self, what: &str, times: usize) {
        for _ in 0..600 {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            if log.matches(what).count() >= times {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("mantad dev never logged {what:?}");
    }
}

/// Sends a signed `GET path` on an open connection and reads the response
/// head: its status and `content-length`.
async fn get_head(conn: &mut TlsStream<TcpStream>, path: &str, key: &Signer) -> (u16, u64) {
    let (date, auth) = key.headers_now(&key.key_id("dev", None)).unwrap();
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\ndate: {date}\r\nauthorization: {auth}\r\n\r\n"
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    while !raw.ends_with(b"\r\n\r\n") {
        raw.push(conn.read_u8().await.unwrap());
    }
    let text = String::from_utf8(raw).unwrap();
    let status = text[9..12].parse().unwrap();
    let length = text
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    (status, length)
}

async fn read_body(conn: &mut TlsStream<TcpStream>, n: u64) -> Vec<u8> {
    let mut body = vec![0u8; n as usize];
    conn.read_exact(&mut body).await.unwrap();
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_reloads_the_certificate_for_new_connections_only() {
    let tmp = tempfile::tempdir().unwrap();
    let dev = Dev::start(tmp.path(), &[]).await;
    let tls = DevTls::at(&dev.data.join("tls"));
    assert!(dev.url().starts_with("https://"), "{}", dev.url());
    for k in ["NODE_EXTRA_CA_CERTS", "AWS_CA_BUNDLE"] {
        assert_eq!(dev.env[k], dev.env["MANTA_CA_FILE"], "{k}");
    }
    assert_eq!(dev.ca(), tls.ca_file);
    assert!(!dev.env.contains_key("SSL_CERT_FILE"));
    assert!(!dev.env.contains_key("MANTA_TLS_INSECURE"));
    let ca_key = dev.data.join("tls/ca-key.pem");
    let mode = std::fs::metadata(&ca_key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    let addr = host_of(dev.url()).to_string();
    let first = fingerprint(&addr, &dev.ca()).await;
    assert_eq!(first, file_fingerprint(&tls.files.cert));

    // Open before the reload: a download part read, a kept-alive
    // connection that has answered once.
    let data = Bytes::from(bytes(24 << 20, 3));
    let client = dev.client();
    client.mkdirp("~~/stor/tls").await.unwrap();
    client
        .put_bytes("~~/stor/tls/big.bin", data.clone(), &PutOptions::default())
        .await
        .unwrap();
    let key = dev.key();
    let mut download = connect(&addr, &dev.ca()).await;
    let (status, len) = get_head(&mut download, "/dev/stor/tls/big.bin", &key).await;
    assert_eq!((status, len), (200, data.len() as u64));
    let head = read_body(&mut download, 64 << 10).await;
    let mut kept = connect(&addr, &dev.ca()).await;
    assert_eq!(get_head(&mut kept, "/ping", &key).await, (200, 0));

    // A new certificate from the same CA, then SIGHUP.
    frontend::dev_ca::issue_server(&tls.ca_file.with_file_name(""), &[], &tls.files).unwrap();
    let second = file_fingerprint(&tls.files.cert);
    assert_ne!(second, first);
    dev.sighup();
    dev.logged("TLS certificate reloaded", 1).await;
    assert_eq!(fingerprint(&addr, &dev.ca()).await, second);
    assert_eq!(client.get_bytes("~~/stor/tls/big.bin").await.unwrap(), data);

    // The connections made before keep their session.
    let rest = read_body(&mut download, len - head.len() as u64).await;
    let got = [head, rest].concat();
    assert_eq!(Sha256::digest(&got), Sha256::digest(&data));
    assert_eq!(peer_fingerprint(&download), first);
    let (status, len) = get_head(&mut kept, "/dev/stor/tls/big.bin", &key).await;
    assert_eq!((status, len), (200, data.len() as u64));
    assert_eq!(read_body(&mut kept, len).await, data);
    assert_eq!(peer_fingerprint(&kept), first);

    // A bad file on SIGHUP: logged, and the second certificate stays.
    std::fs::write(&tls.files.cert, "-----BEGIN CERTIFICATE-----\nnot base64\n").unwrap();
    dev.sighup();
    dev.logged("TLS certificate not reloaded", 1).await;
    assert_eq!(fingerprint(&addr, &dev.ca()).await, second);
    client.mkdirp("~~/stor/tls/still").await.unwrap();
}

/// `$HOME/.ssh` with the dev key (node-manta looks there) and the
/// node-manta environment from env.sh, without its CA variable.
fn node_session(dev: &Dev, tmp: &Path) -> Session {
    let home = tmp.join("home");
    let ssh = home.join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    for f in ["id_ed25519", "id_ed25519.pub"] {
        std::fs::copy(dev.data.join("keys/dev").join(f), ssh.join(f)).unwrap();
    }
    let mut env: HashMap<String, String> = ["MANTA_URL", "MANTA_USER", "MANTA_KEY_ID"]
        .iter()
        .map(|k| (k.to_string(), dev.env[*k].clone()))
        .collect();
    env.insert("MANTA_LOG_LEVEL".into(), "fatal".into());
    Session {
        bin: node_bin(),
        home,
        env,
    }
}

/// Runs the aws CLI with the dev account's S3 key and `extra` variables.
async fn aws(dev: &Dev, tmp: &Path, args: &[&str], extra: &[(&str, &str)]) -> std::process::Output {
    // aws-cli's defaults otherwise: over HTTPS it uploads with
    // STREAMING-UNSIGNED-PAYLOAD-TRAILER (a trailing CRC), not over HTTP.
    let cfg = tmp.join("aws.cfg");
    std::fs::write(
        &cfg,
        "[default]\nregion = us-east-1\ns3 =\n    signature_version = s3v4\n",
    )
    .unwrap();
    let mut cmd = Command::new("aws");
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", tmp)
        .env("AWS_CONFIG_FILE", &cfg)
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("NO_PROXY", "*")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ENDPOINT_URL",
        "AWS_DEFAULT_REGION",
    ] {
        cmd.env(k, &dev.env[k]);
    }
    cmd.envs(extra.iter().copied());
    tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("aws timed out")
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn node_manta_and_aws_cli_over_https_and_the_plain_listeners() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "--plain-listen",
        "127.0.0.1:0",
        "--s3-plain-listen",
        "127.0.0.1:0",
    ];
    let dev = Dev::start(tmp.path(), &args).await;
    let ca = dev.env["NODE_EXTRA_CA_CERTS"].clone();

    // node-manta verifies the dev certificate with NODE_EXTRA_CA_CERTS...
    let s = node_session(&dev, tmp.path());
    let with_ca = [("NODE_EXTRA_CA_CERTS", ca.as_str())];
    let run = |cmd: &'static str, a: &'static [&'static str], stdin: Option<&'static str>| {
        s.run_with(cmd, a, stdin, &with_ca)
    };
    let o = run("mmkdir", &["-p", "~~/stor/nm"], None).await;
    // Once seen under full-suite load: refused connections, as if the
    // server were gone; its log says why if it happens again.
    assert!(
        o.ok,
        "{}{}\nmantad dev's log:\n{}",
        o.stdout,
        o.stderr,
        std::fs::read_to_string(&dev.log).unwrap_or_default()
    );
    let o = run("mput", &["~~/stor/nm/x"], Some("over https\n")).await;
    assert!(o.ok, "{}{}", o.stdout, o.stderr);
    let o = run("mget", &["~~/stor/nm/x"], None).await;
    assert!(
        o.ok && o.stdout == "over https\n",
        "{}{}",
        o.stdout,
        o.stderr
    );
    let o = run("mls", &["~~/stor/nm"], None).await;
    assert!(o.ok && o.stdout == "x\n", "{}{}", o.stdout, o.stderr);
    // ... and refuses it without (no MANTA_TLS_INSECURE either).
    let o = s.run("mls", &["~~/stor/nm"], None).await;
    assert!(!o.ok, "{}", o.stdout);
    assert!(o.stderr.contains("certificate"), "{}", o.stderr);

    // The plain listener: a URL msign signed for it, and nothing else.
    let plain = dev.printed_url("Manta: public reads");
    let url = s
        .ok("msign", &["-u", plain.as_str(), "~~/stor/nm/x"], None)
        .await;
    let r = reqwest::get(url.trim()).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "over https\n");
    let o = s
        .run_with("mls", &["-u", plain.as_str(), "~~/stor/nm"], None, &with_ca)
        .await;
    assert!(
        !o.ok && o.stderr.contains("SecureTransportRequired"),
        "{}",
        o.stderr
    );

    // aws-cli with AWS_CA_BUNDLE, as env.sh exports it.
    let file = tmp.path().join("up.txt");
    std::fs::write(&file, "through aws-cli over https\n").unwrap();
    let bundle = [("AWS_CA_BUNDLE", ca.as_str())];
    for a in [
        vec!["s3", "mb", "s3://tls-bucket"],
        vec!["s3", "cp", file.to_str().unwrap(), "s3://tls-bucket/up.txt"],
    ] {
        let o = aws(&dev, tmp.path(), &a, &bundle).await;
        assert!(
            o.status.success(),
            "{a:?}: {}{}",
            text(&o.stdout),
            text(&o.stderr)
        );
    }
    let o = aws(
        &dev,
        tmp.path(),
        &["s3", "cp", "s3://tls-bucket/up.txt", "-"],
        &bundle,
    )
    .await;
    assert_eq!(
        text(&o.stdout),
        "through aws-cli over https\n",
        "{}",
        text(&o.stderr)
    );
    let o = aws(&dev, tmp.path(), &["s3", "ls", "s3://tls-bucket"], &[]).await;
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("SSL validation failed"),
        "{}",
        text(&o.stderr)
    );

    // The plain S3 listener: presigned URLs (SigV4 here), nothing else.
    let plain_s3 = dev.printed_url("S3: presigned");
    let o = aws(
        &dev,
        tmp.path(),
        &[
            "s3",
            "presign",
            "s3://tls-bucket/up.txt",
            "--endpoint-url",
            plain_s3.as_str(),
        ],
        &[],
    )
    .await;
    let url = text(&o.stdout);
    assert!(url.contains("X-Amz-Signature"), "{url}{}", text(&o.stderr));
    let r = reqwest::get(url.trim()).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "through aws-cli over https\n");
    let o = aws(
        &dev,
        tmp.path(),
        &[
            "s3",
            "ls",
            "s3://tls-bucket",
            "--endpoint-url",
            plain_s3.as_str(),
        ],
        &[],
    )
    .await;
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("AccessDenied"),
        "{}",
        text(&o.stderr)
    );
}
