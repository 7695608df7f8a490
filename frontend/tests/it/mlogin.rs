//! mlogin end to end: node-manta's real `mlogin` and ours (under `script`, which
//! gives it the terminal it insists on) against a cluster whose agents run
//! the session in a real container, in plain HTTP and in HTTPS (the
//! client's websocket and the agent's both in TLS); commands are typed in
//! and their output read back through the medusa websocket relay.

use super::auth_node_manta::{mantad_operator, node_bin};
use super::task_toolbox::cluster_with;
use frontend::testkit::*;
use jobs::runtime::RuntimeKind;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Output of a running command, read as it comes.
#[derive(Clone, Default)]
struct Screen(Arc<Mutex<String>>);

impl Screen {
    fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }

    async fn wait_for(&self, needle: &str, limit: Duration) {
        let start = Instant::now();
        while !self.text().contains(needle) {
            assert!(
                start.elapsed() < limit,
                "no {needle:?} after {limit:?}; screen:\n{}",
                self.text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn node_mlogin(runtime: RuntimeKind) {
    mlogin_session(runtime, node_bin().join("mlogin"), Tls::Off).await;
}

/// How the session's cluster serves the API, and how the client trusts it.
#[derive(Clone, Copy, PartialEq)]
enum Tls {
    Off,
    /// HTTPS; the client trusts the dev CA (`MANTA_CA_FILE`, node's
    /// `NODE_EXTRA_CA_CERTS`).
    Ca,
    /// HTTPS; the client verifies nothing (`MANTA_TLS_INSECURE`).
    Insecure,
}

/// Ours (client-sdk's), built beside `mantad`.
fn our_mlogin() -> std::path::PathBuf {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_mantad"))
        .parent()
        .unwrap()
        .join("mlogin");
    assert!(
        bin.is_file(),
        "no mlogin beside mantad: run `cargo build -p client-sdk --bins` first"
    );
    bin
}

/// `mlogin` run under `script` against `tc`, with `extra` in its
/// environment.
fn spawn_mlogin(
    tc: &TestCluster,
    mlogin: &std::path::Path,
    extra: &[(&str, String)],
) -> tokio::process::Child {
    let cmd = format!("{} /{USER}/stor/obj", mlogin.display());
    tokio::process::Command::new("script")
        .args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &tc.home)
        .env("MANTA_URL", &tc.cluster.url)
        .env("MANTA_USER", USER)
        .env("MANTA_KEY_ID", &tc.key_id)
        .env("TERM", "xterm")
        .envs(extra.iter().map(|(k, v)| (*k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

async fn mlogin_session(runtime: RuntimeKind, mlogin: std::path::PathBuf, tls: Tls) {
    let tc = cluster_with(runtime, |o| o.tls = tls != Tls::Off).await;
    let body = "x".repeat(1234);
    tc.put("stor/obj", body).await;
    let mut extra = Vec::new();
    match tls {
        Tls::Off => {}
        Tls::Ca => {
            let ca = tc.ca_file.clone().unwrap().display().to_string();
            extra.push(("MANTA_CA_FILE", ca.clone()));
            extra.push(("NODE_EXTRA_CA_CERTS", ca));
        }
        Tls::Insecure => extra.push(("MANTA_TLS_INSECURE", "1".to_string())),
    }
    let child = spawn_mlogin(&tc, &mlogin, &extra);
    drive_session(&tc, child).await;
}

/// Types into a running mlogin: the object's size, then `exit`; checks
/// that mlogin ends well and its job ends with the shell, without errors.
/// Returns the job's id.
async fn drive_session(tc: &TestCluster, mut child: tokio::process::Child) -> String {
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let screen = Screen::default();
    let s = screen.clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf).await {
            if n == 0 {
                break;
            }
            s.0.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    screen
        .wait_for("established", Duration::from_secs(180))
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stdin
        .write_all(b"cat $MANTA_INPUT_FILE | wc -c\r")
        .await
        .unwrap();
    screen.wait_for("1234", Duration::from_secs(60)).await;
    stdin.write_all(b"exit\r").await.unwrap();
    screen
        .wait_for("remote process exited", Duration::from_secs(60))
        .await;
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("mlogin did not exit")
        .unwrap();
    let text = screen.text();
    assert!(status.success(), "{text}");
    let id = text
        .split("created interactive job -- ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("job id")
        .to_string();
    let job = super::jobs::wait_done(tc, &id, Duration::from_secs(60)).await;
    assert_eq!(job["stats"]["errors"], 0, "{job}");
    id
}

#[tokio::test(flavor = "multi_thread")]
async fn node_manta_mlogin_runc() {
    node_mlogin(RuntimeKind::Runc).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn our_mlogin_runc() {
    mlogin_session(RuntimeKind::Runc, our_mlogin(), Tls::Off).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn our_mlogin_over_https() {
    mlogin_session(RuntimeKind::Runc, our_mlogin(), Tls::Ca).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn our_mlogin_over_https_insecure() {
    mlogin_session(RuntimeKind::Runc, our_mlogin(), Tls::Insecure).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn node_manta_mlogin_over_https() {
    mlogin_session(RuntimeKind::Runc, node_bin().join("mlogin"), Tls::Ca).await;
}

/// Without the CA (nor `MANTA_TLS_INSECURE`) our mlogin is refused with
/// the reason, before any job is made.
#[tokio::test(flavor = "multi_thread")]
async fn our_mlogin_refuses_an_unknown_certificate() {
    let tc = TestCluster::start_with(1, |o| {
        o.tls = true;
        o.agent = None;
    })
    .await;
    let child = spawn_mlogin(&tc, &our_mlogin(), &[]);
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("mlogin hung on a certificate it does not trust")
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("UnknownIssuer"), "{text}");
    assert!(!text.contains("created interactive job"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn node_manta_mlogin_runsc() {
    node_mlogin(RuntimeKind::Runsc).await;
}

/// The attach endpoint: the owner only, a websocket only, and the agent's
/// side only with the session's task credential.
#[tokio::test(flavor = "multi_thread")]
async fn attach_is_the_owners_and_needs_an_upgrade() {
    use reqwest::Method;
    let tc = TestCluster::start_with(1, |o| o.agent = None).await;
    let id = super::jobs::create(&tc, serde_json::json!({"phases": [{"exec": "cat"}]})).await;
    let master = tc.url(&format!("medusa/attach/{id}/master"));
    let r = tc.at(Method::GET, &master).send().await.unwrap();
    assert_error(r, 400, "ExpectedUpgrade").await;
    let r = tc
        .as_user("other", Method::GET, &master)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = tc.anon(Method::GET, &master).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let unknown = tc.url(&format!("medusa/attach/{}/master", uuid::Uuid::new_v4()));
    let r = tc.at(Method::GET, &unknown).send().await.unwrap();
    assert_error(r, 404, "JobNotFound").await;
    let slave = tc.url(&format!("medusa/attach/{id}/slave"));
    let r = tc.at(Method::GET, &slave).send().await.unwrap();
    assert_eq!(r.status(), 403);
    // A task credential of another job does not open this one.
    let other_job = jobs::task_token::mint(
        tc.cluster.meta.cluster_key(),
        USER,
        "another-job",
        "t",
        Duration::from_secs(60),
    );
    let r = tc
        .anon(Method::GET, &slave)
        .header(jobs::task_token::HEADER, other_job)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

/// A sub-user and mlogin's attach: alice may create an mlogin job (its
/// plumbing assets, the config object not yet written, are not checked as
/// hers to read) and attach to it with a role allowing `managejob`
/// active; she may not attach to the account's own job (its shell would
/// act as the account), nor to hers with only a role that does not
/// allow `managejob`. (node-manta's whole `mlogin` as a sub-user also
/// writes its config object into `~~/stor`, which cannot carry role tags
/// here, so it is refused there: docs/rbac.md.)
#[tokio::test(flavor = "multi_thread")]
async fn sub_user_attaches_only_to_its_own_jobs() {
    use reqwest::Method;
    let tc = TestCluster::start_with(1, |o| o.agent = None).await;
    let (alice_pub, _, _) =
        super::auth_node_manta::write_key(&tc.ssh_dir(), "id_alice", ssh_key::Algorithm::Ed25519);
    mantad_operator(
        &tc,
        &[
            "account",
            "user",
            "add",
            USER,
            "alice",
            "--ssh-key",
            &alice_pub,
        ],
    )
    .await;
    mantad_operator(
        &tc,
        &[
            "account",
            "policy",
            "add",
            USER,
            "run",
            "--rule",
            "CAN createjob, getjob, managejob, listjobs",
            "--rule",
            "CAN putobject, putdirectory, getobject",
        ],
    )
    .await;
    mantad_operator(
        &tc,
        &[
            "account",
            "policy",
            "add",
            USER,
            "read",
            "--rule",
            "CAN getobject",
        ],
    )
    .await;
    mantad_operator(
        &tc,
        &[
            "account",
            "role",
            "add",
            USER,
            "runners",
            "--default-member",
            "alice",
            "--policy",
            "run",
        ],
    )
    .await;
    mantad_operator(
        &tc,
        &[
            "account", "role", "add", USER, "readers", "--member", "alice", "--policy", "read",
        ],
    )
    .await;
    // The frontend learns of the new roles at its next look.
    let start = Instant::now();
    loop {
        let r = tc
            .req(Method::PUT, "stor/obj")
            .header("role-tag", "runners, readers")
            .body("x".repeat(1234))
            .send()
            .await
            .unwrap();
        if r.status() == 204 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{}", r.status());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Attach, as alice, signed with her key.
    let alice = TestSigner::load(&format!("{USER}/alice"), &tc.ssh_dir().join("id_alice"));
    let attach = |id: &str, role: Option<&str>| {
        let (date, auth) = alice.headers_now().unwrap();
        let mut r = tc
            .anon(Method::GET, &tc.url(&format!("medusa/attach/{id}/master")))
            .header("date", date)
            .header("authorization", auth);
        if let Some(role) = role {
            r = r.header("role", role);
        }
        r.send()
    };
    // The account's own job: its shell would act as the account.
    let owners = super::jobs::create(&tc, serde_json::json!({"phases": [{"exec": "cat"}]})).await;
    let r = attach(&owners, None).await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("only to sessions of jobs it created"),
        "alice attached to the account's job"
    );
    // Her own job: allowed with her default role (the request then fails
    // only for want of a websocket upgrade), refused with only `readers`.
    let (date, auth) = alice.headers_now().unwrap();
    let r = tc
        .anon(Method::POST, &tc.url("jobs"))
        .header("date", date)
        .header("authorization", auth)
        .json(&serde_json::json!({"phases": [{
            "exec": "/assets/poseidon/public/medusa/agent.sh",
            "assets": [
                "/poseidon/public/medusa/agent.sh",
                format!("/{USER}/stor/medusa-config-{}.json", uuid::Uuid::new_v4()),
            ],
        }]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let location = header(&r, "location");
    let hers = location.rsplit('/').next().unwrap().to_string();
    assert_error(attach(&hers, None).await.unwrap(), 400, "ExpectedUpgrade").await;
    let r = attach(&hers, Some("readers")).await.unwrap();
    assert_eq!(r.status(), 403);

    // The job is hers: tagged with her roles, so she reads it.
    let (date, auth) = alice.headers_now().unwrap();
    let r = tc
        .anon(Method::GET, &tc.url(&format!("jobs/{hers}/live/status")))
        .header("date", date)
        .header("authorization", auth)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
