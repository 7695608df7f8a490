//! The real node-manta CLI (npm `manta`, installed by scripts/setup.sh at
//! `$MANTA_NODE_BIN`) against a real `mantad dev` process, authenticating
//! with the dev account's key from the `env.sh` it writes; then more key
//! types added with `mantad account`.

use client_sdk::Signer;
use frontend::testkit::TestCluster;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};

pub(crate) fn node_bin() -> PathBuf {
    let mut candidates = Vec::new();
    if let Ok(p) = std::env::var("MANTA_NODE_BIN") {
        candidates.push(PathBuf::from(p));
    }
    candidates.push(PathBuf::from(
        "/var/cache/mantad-node/node_modules/manta/bin",
    ));
    if let Ok(home) = std::env::var("HOME") {
        candidates.push(Path::new(&home).join(".cache/mantad-node/node_modules/manta/bin"));
    }
    candidates
        .into_iter()
        .find(|p| p.join("mls").exists())
        .expect("node-manta not found: run scripts/setup.sh or set MANTA_NODE_BIN")
}

pub(crate) struct Session {
    pub(crate) bin: PathBuf,
    pub(crate) home: PathBuf,
    pub(crate) env: HashMap<String, String>,
}

pub(crate) struct Out {
    pub(crate) ok: bool,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Session {
    pub(crate) async fn run(&self, cmd: &str, args: &[&str], stdin: Option<&str>) -> Out {
        self.run_with(cmd, args, stdin, &[]).await
    }

    pub(crate) async fn run_with(
        &self,
        cmd: &str,
        args: &[&str],
        stdin: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Out {
        let mut c = Command::new(self.bin.join(cmd));
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .envs(&self.env)
            .envs(extra.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).await.unwrap();
        }
        drop(input);
        let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("{cmd} {args:?} timed out"))
            .unwrap();
        Out {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub(crate) async fn ok(&self, cmd: &str, args: &[&str], stdin: Option<&str>) -> String {
        let o = self.run(cmd, args, stdin).await;
        assert!(o.ok, "{cmd} {args:?} failed: {}{}", o.stdout, o.stderr);
        o.stdout
    }
}

/// `export K=V` lines of env.sh.
pub(crate) fn parse_env(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(crate) async fn start_dev(data: &Path) -> (Child, HashMap<String, String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mantad"))
        .args([
            "dev",
            // These checks read signed URLs with plain clients; HTTPS has
            // its own (tls_dev.rs).
            "--plain-http",
            "--listen",
            "127.0.0.1:0",
            "--s3-listen",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let env_file = data.join("env.sh");
    for _ in 0..1800 {
        if let Ok(text) = std::fs::read_to_string(&env_file) {
            if text.contains("AWS_SECRET_ACCESS_KEY") {
                return (child, parse_env(&text));
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("mantad dev exited early: {status}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("mantad dev wrote no env.sh");
}

pub(crate) async fn mantad_account(data: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_mantad"))
        .arg("account")
        .arg("--dev")
        .arg(data)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "mantad account {args:?}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// `mantad SUBCOMMAND --config <tc's operator config> REST...` as an
/// operator runs it against `tc`; must succeed; returns its stdout.
pub(crate) async fn mantad_operator(tc: &TestCluster, args: &[&str]) -> String {
    let (sub, rest) = args.split_first().expect("a subcommand");
    let out = Command::new(env!("CARGO_BIN_EXE_mantad"))
        .arg(sub)
        .arg("--config")
        .arg(tc.operator_config())
        .args(rest)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "mantad {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(crate) fn write_key(
    dir: &Path,
    name: &str,
    alg: ssh_key::Algorithm,
) -> (String, String, String) {
    let key = ssh_key::PrivateKey::random(&mut rand::rngs::OsRng, alg).unwrap();
    let private = key.to_openssh(ssh_key::LineEnding::LF).unwrap();
    let public = key.public_key().to_openssh().unwrap();
    std::fs::write(dir.join(name), private.as_bytes()).unwrap();
    std::fs::write(dir.join(format!("{name}.pub")), format!("{public}\n")).unwrap();
    let rec = frontend::auth::keys::parse_public(&public).unwrap();
    (
        dir.join(format!("{name}.pub"))
            .to_string_lossy()
            .into_owned(),
        rec.md5,
        rec.sha256,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn node_manta_session_against_mantad_dev() {
    let bin = node_bin();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (mut dev, env) = start_dev(&data).await;
    for k in [
        "MANTA_URL",
        "MANTA_USER",
        "MANTA_KEY_ID",
        "AWS_ACCESS_KEY_ID",
        "AWS_ENDPOINT_URL",
    ] {
        assert!(env.contains_key(k), "env.sh lacks {k}");
    }
    // node-manta finds keys in ~/.ssh: a scratch HOME, never the user's.
    let home = tmp.path().join("home");
    let ssh = home.join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    let key_dir = data.join("keys").join("dev");
    for f in ["id_ed25519", "id_ed25519.pub"] {
        std::fs::copy(key_dir.join(f), ssh.join(f)).unwrap();
    }
    let mut session_env: HashMap<String, String> = env
        .iter()
        .filter(|(k, _)| k.starts_with("MANTA_"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    session_env.insert("MANTA_LOG_LEVEL".into(), "fatal".into());
    let s = Session {
        bin,
        home: home.clone(),
        env: session_env,
    };

    s.ok("mmkdir", &["-p", "~~/stor/nm/a"], None).await;
    s.ok("mput", &["~~/stor/nm/a/x"], Some("from stdin\n"))
        .await;
    let file = tmp.path().join("f.txt");
    std::fs::write(&file, "a file\n").unwrap();
    s.ok(
        "mput",
        &["-f", &file.to_string_lossy(), "~~/stor/nm/a/f.txt"],
        None,
    )
    .await;
    assert_eq!(
        s.ok("mget", &["~~/stor/nm/a/x"], None).await,
        "from stdin\n"
    );
    assert_eq!(s.ok("mls", &["~~/stor/nm/a"], None).await, "f.txt\nx\n");
    s.ok("mln", &["~~/stor/nm/a/x", "~~/stor/nm/link"], None)
        .await;
    assert_eq!(
        s.ok("mget", &["~~/stor/nm/link"], None).await,
        "from stdin\n"
    );
    let info = s.ok("minfo", &["~~/stor/nm/a/f.txt"], None).await;
    assert!(info.starts_with("HTTP/1.1 200"), "{info}");

    // msign, then fetch the URL with no other credentials.
    let url = s
        .ok("msign", &["~~/stor/nm/a/x"], None)
        .await
        .trim()
        .to_string();
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "from stdin\n");
    let moved = url.replace("/a/x?", "/a/f.txt?");
    let r = reqwest::get(&moved).await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("InvalidSignature"));
    let past = (SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 10)
        .to_string();
    let expired = s.ok("msign", &["-e", &past, "~~/stor/nm/a/x"], None).await;
    let r = reqwest::get(expired.trim()).await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("InvalidQueryStringAuthentication"));

    s.ok("mrm", &["~~/stor/nm/link"], None).await;
    let gone = s.run("mget", &["~~/stor/nm/link"], None).await;
    assert!(
        !gone.ok && gone.stderr.contains("ResourceNotFound"),
        "{}",
        gone.stderr
    );

    // Anonymous: public reads work, the rest is refused.
    s.ok("mput", &["~~/public/hello"], Some("hi all")).await;
    let base = &env["MANTA_URL"];
    let r = reqwest::get(format!("{base}/dev/public/hello"))
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "hi all");
    let r = reqwest::get(format!("{base}/dev/stor/nm/a/x"))
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // More key types, added with `mantad account add-key`; each signs for
    // node-manta by its MD5 and its SHA-256 fingerprint.
    let types = [
        ("id_rsa", ssh_key::Algorithm::Rsa { hash: None }),
        (
            "id_ecdsa",
            ssh_key::Algorithm::Ecdsa {
                curve: ssh_key::EcdsaCurve::NistP256,
            },
        ),
        (
            "id_ecdsa521",
            ssh_key::Algorithm::Ecdsa {
                curve: ssh_key::EcdsaCurve::NistP521,
            },
        ),
    ];
    for (name, alg) in types {
        let (public, md5, sha256) = write_key(&ssh, name, alg);
        mantad_account(&data, &["add-key", "dev", &public]).await;
        for fp in [md5.as_str(), sha256.as_str()] {
            let o = s
                .run_with("mls", &["~~/stor/nm"], None, &[("MANTA_KEY_ID", fp)])
                .await;
            assert!(o.ok, "{name} {fp}: {}", o.stderr);
            assert_eq!(o.stdout, "a/\n");
        }
    }
    // A key in ~/.ssh the account does not have.
    let (_, stranger, _) = write_key(&ssh, "id_stranger", ssh_key::Algorithm::Ed25519);
    let o = s
        .run_with("mls", &["~~/stor"], None, &[("MANTA_KEY_ID", &stranger)])
        .await;
    assert!(
        !o.ok && o.stderr.contains("KeyDoesNotExist"),
        "{}",
        o.stderr
    );

    s.ok("mrm", &["-r", "~~/stor/nm"], None).await;

    // Operator commands on the running dev cluster.
    let list = mantad_account(&data, &["list"]).await;
    assert!(list.starts_with("dev\t"), "{list}");
    let (bob_pub, _, _) = write_key(tmp.path(), "bob", ssh_key::Algorithm::Ed25519);
    mantad_account(&data, &["create", "bob", "--ssh-key", &bob_pub]).await;
    let bob_key = std::fs::read_to_string(tmp.path().join("bob")).unwrap();
    let bob = Signer::from_openssh(&bob_key).unwrap();
    let (date, auth) = bob.headers_now(&bob.key_id("bob", None)).unwrap();
    let client = reqwest::Client::new();
    let r = client
        .get(format!("{base}/bob/stor"))
        .header("date", &date)
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client
        .get(format!("{base}/dev/stor"))
        .header("date", &date)
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let keys = mantad_account(&data, &["s3-key", "list", "dev"]).await;
    let dev_key = &env["AWS_ACCESS_KEY_ID"];
    assert!(
        keys.contains(dev_key.as_str()) && keys.contains("active"),
        "{keys}"
    );
    let created = mantad_account(&data, &["s3-key", "create", "bob"]).await;
    assert!(created.contains("AWS_SECRET_ACCESS_KEY="), "{created}");
    mantad_account(&data, &["s3-key", "revoke", "dev", dev_key]).await;
    let keys = mantad_account(&data, &["s3-key", "list", "dev"]).await;
    assert!(keys.contains("revoked"), "{keys}");

    dev.start_kill().unwrap();
    let _ = dev.wait().await;
}

/// `mantad dev` started by something that stops reading its stdout (a
/// closed pipe, as `mantad dev | head -3` or a test harness leaves it)
/// keeps serving: its summary is not worth the cluster.
#[tokio::test(flavor = "multi_thread")]
async fn mantad_dev_outlives_a_closed_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mantad"))
        .args([
            "dev",
            "--plain-http",
            "--listen",
            "127.0.0.1:0",
            "--s3-listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(&data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Nobody will ever read it.
    drop(child.stdout.take());
    let env_file = data.join("env.sh");
    let mut env = None;
    for _ in 0..1800 {
        if let Ok(text) = std::fs::read_to_string(&env_file) {
            if text.contains("AWS_SECRET_ACCESS_KEY") {
                env = Some(parse_env(&text));
                break;
            }
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "mantad dev exited while starting"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let env = env.expect("mantad dev wrote no env.sh");
    // The summary is printed after env.sh: give it time to hit the pipe.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "mantad dev died writing to a closed stdout"
    );
    let url = format!("{}/{}/public", env["MANTA_URL"], env["MANTA_USER"]);
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
}
