//! The task toolbox: our `mget`, `mput`, `mls`, `mfind` inside a task,
//! through the agent's per-task socket, as the job's owner and nobody
//! else, under runc and runsc, and with the API in TLS (the agent verifies
//! it; a task credential is refused on the plain listener beside it).
//! The commands are client-sdk's binaries
//! (built beside `mantad`: `cargo test --workspace` builds them; alone,
//! `cargo build -p client-sdk --bins` first).

use super::jobs::{add_inputs, create, live_lines, object_text, wait_done};
use frontend::testkit::*;
use jobs::runtime::RuntimeKind;
use reqwest::Method;
use serde_json::json;
use std::path::Path;
use std::time::Duration;

/// Points the agents at the m* binaries beside `mantad`.
pub fn use_built_toolbox() {
    let dir = Path::new(env!("CARGO_BIN_EXE_mantad")).parent().unwrap();
    assert!(
        dir.join("mget").is_file(),
        "no mget beside mantad: run `cargo build -p client-sdk --bins` first"
    );
    std::env::set_var("MANTAD_TOOLBOX_DIR", dir);
}

pub async fn cluster(runtime: RuntimeKind) -> TestCluster {
    cluster_with(runtime, |_| {}).await
}

/// The toolbox's cluster, `tweak`ed (TLS, a plain listener, ...).
pub async fn cluster_with(runtime: RuntimeKind, tweak: impl FnOnce(&mut Options)) -> TestCluster {
    use_built_toolbox();
    TestCluster::start_with(2, |o| {
        o.agent = Some(frontend::cluster::AgentRole {
            runtime,
            slots: 4,
            ..Default::default()
        });
        tweak(o);
    })
    .await
}

const TASK: &str = r#"set -u
mget /$MANTA_USER/stor/mine
if mget /other/stor/private; then echo LEAKED; else echo refused; fi
echo "made in $MANTA_JOB_ID" | mput /$MANTA_USER/stor/made/by-task
mls /$MANTA_USER/stor/made
mfind -t o /$MANTA_USER/stor | sort
"#;

async fn toolbox(runtime: RuntimeKind) {
    toolbox_in(cluster(runtime).await).await;
}

/// The owner's objects through the toolbox, another account's refused.
async fn toolbox_in(tc: TestCluster) {
    tc.put("stor/in", "input\n").await;
    tc.put("stor/mine", "my own words\n").await;
    tc.mkdir("stor/made").await;
    let r = tc
        .as_user(
            "other",
            Method::PUT,
            &format!("{}/other/stor/private", tc.cluster.url),
        )
        .body("not yours\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    let id = create(&tc, json!({"phases": [{"exec": TASK}]})).await;
    add_inputs(&tc, &id, &[format!("/{USER}/stor/in")], true).await;
    wait_done(&tc, &id, Duration::from_secs(240)).await;
    let errors = live_lines(&tc, &id, "err").await;
    assert!(errors.is_empty(), "{errors:?}");
    let out = live_lines(&tc, &id, "out").await;
    assert_eq!(out.len(), 1);
    let text = object_text(&tc, &out[0]).await;
    assert!(text.contains("my own words"), "{text}");
    assert!(
        text.contains("refused") && !text.contains("LEAKED"),
        "{text}"
    );
    assert!(!text.contains("not yours"), "{text}");
    assert!(text.contains("by-task"), "mls: {text}");
    assert!(
        text.contains(&format!("/{USER}/stor/mine")),
        "mfind: {text}"
    );

    // The object the task wrote is the owner's.
    let made = object_text(&tc, &format!("/{USER}/stor/made/by-task")).await;
    assert_eq!(made, format!("made in {id}\n"));
    let other = tc
        .as_user("other", Method::GET, &tc.url("stor/made/by-task"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn toolbox_runc() {
    toolbox(RuntimeKind::Runc).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn toolbox_runsc() {
    toolbox(RuntimeKind::Runsc).await;
}

/// The API in TLS: the agents reach it there (no plain listener of their
/// own), verifying its certificate with the CA they are given.
#[tokio::test(flavor = "multi_thread")]
async fn toolbox_over_tls() {
    let tc = cluster_with(RuntimeKind::Runc, |o| o.tls = true).await;
    assert!(tc.cluster.url.starts_with("https://"));
    toolbox_in(tc).await;
}

/// An agent that does not trust the API's certificate sends the task's
/// requests nowhere: the toolbox answers 503 with the reason.
#[tokio::test(flavor = "multi_thread")]
async fn an_agent_verifies_the_apis_certificate() {
    let tc = cluster_with(RuntimeKind::Runc, |o| {
        o.tls = true;
        // Not the dev CA the kit would give the agents.
        let elsewhere = o.data.join("other-ca");
        let other = frontend::dev_ca::ensure(&elsewhere, &[]).unwrap();
        if let Some(a) = &mut o.agent {
            a.api.ca_file = Some(other.ca_file);
        }
    })
    .await;
    tc.put("stor/in", "input\n").await;
    tc.put("stor/mine", "my own words\n").await;
    let task = "mget /$MANTA_USER/stor/mine 2>&1; echo \"status $?\"";
    let id = create(&tc, json!({"phases": [{"exec": task}]})).await;
    add_inputs(&tc, &id, &[format!("/{USER}/stor/in")], true).await;
    wait_done(&tc, &id, Duration::from_secs(240)).await;
    let out = live_lines(&tc, &id, "out").await;
    assert_eq!(out.len(), 1, "{:?}", live_lines(&tc, &id, "err").await);
    let text = object_text(&tc, &out[0]).await;
    assert!(!text.contains("my own words"), "{text}");
    assert!(text.contains("UnknownIssuer"), "{text}");
    assert!(!text.contains("status 0"), "{text}");
}

/// Where a task credential is taken: the API's own listener (TLS here),
/// never the plain listener beside it, whatever else the request carries;
/// and what that plain listener refuses anyway.
#[tokio::test(flavor = "multi_thread")]
async fn task_credentials_need_tls_beside_a_plain_listener() {
    let tc = TestCluster::start_with(1, |o| {
        o.agent = None;
        o.tls = true;
        o.plain_listen = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    })
    .await;
    tc.put("stor/x", "x").await;
    tc.put("public/p", "p").await;
    let token = jobs::task_token::mint(
        tc.cluster.meta.cluster_key(),
        USER,
        "j",
        "t",
        Duration::from_secs(60),
    );
    let plain = tc.cluster.plain_url.clone().unwrap();
    let http = reqwest::Client::new();
    let signer = &tc.signers[USER];
    let (date, auth) = signer.headers_now().unwrap();
    let expires = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 300;
    let signed = signer
        .sign_url(
            plain.trim_start_matches("http://"),
            &format!("/{USER}/stor/x"),
            &["GET"],
            expires,
        )
        .unwrap();
    let refused = [
        // The credential alone, on a private path, a public one, a signed
        // URL (which the listener would otherwise take).
        http.get(format!("{plain}/{USER}/stor/x"))
            .header(jobs::task_token::HEADER, &token),
        http.get(format!("{plain}/{USER}/public/p"))
            .header(jobs::task_token::HEADER, &token),
        http.get(format!("{plain}{signed}"))
            .header(jobs::task_token::HEADER, &token),
        http.put(format!("{plain}/{USER}/stor/y"))
            .header(jobs::task_token::HEADER, &token)
            .body("y"),
        // A user's signed request and an anonymous write: never in plain.
        http.get(format!("{plain}/{USER}/stor/x"))
            .header("date", &date)
            .header("authorization", &auth),
        http.put(format!("{plain}/{USER}/public/new")).body("n"),
    ];
    for req in refused {
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 403);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["code"], "SecureTransportRequired", "{body}");
    }
    // Nothing was written through it.
    assert_eq!(tc.get("stor/y").await.status(), 404);
    // Over TLS the credential is the owner's, and no one else's.
    let r = tc
        .anon(Method::GET, &tc.url("stor/x"))
        .header(jobs::task_token::HEADER, &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = tc
        .anon(Method::GET, &format!("{}/other/stor", tc.cluster.url))
        .header(jobs::task_token::HEADER, &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // An anonymous write over TLS is still refused.
    let r = tc
        .anon(Method::PUT, &tc.url("public/anon"))
        .body("a")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The TLS port speaks no plain HTTP at all.
    let r = reqwest::get(format!(
        "{}/{USER}/stor/x",
        tc.cluster.url.replace("https://", "http://")
    ))
    .await;
    assert!(r.is_err(), "{r:?}");
}

/// A forged or foreign credential gets nothing.
#[tokio::test(flavor = "multi_thread")]
async fn forged_task_credentials_are_refused() {
    let tc = TestCluster::start_with(1, |o| o.agent = None).await;
    tc.put("stor/x", "x").await;
    let forged = jobs::task_token::mint(
        &metadata_tier::net::ClusterKey::generate(),
        USER,
        "j",
        "t",
        Duration::from_secs(60),
    );
    let r = tc
        .anon(Method::GET, &tc.url("stor/x"))
        .header(jobs::task_token::HEADER, forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let real = jobs::task_token::mint(
        tc.cluster.meta.cluster_key(),
        USER,
        "j",
        "t",
        Duration::from_secs(60),
    );
    let r = tc
        .anon(Method::GET, &tc.url("stor/x"))
        .header(jobs::task_token::HEADER, real)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// Input left open closes itself after the configured idle time (Manta:
/// an hour), and the job then ends.
#[tokio::test(flavor = "multi_thread")]
async fn idle_input_closes_itself() {
    let tc = TestCluster::start_with(2, |o| {
        o.agent = Some(frontend::cluster::AgentRole {
            runtime: RuntimeKind::Runc,
            slots: 2,
            ..Default::default()
        });
        o.settings.jobs.input_idle_close = Duration::from_secs(3);
    })
    .await;
    tc.put("stor/in", "abc\n").await;
    let id = create(&tc, json!({"phases": [{"exec": "wc -c"}]})).await;
    add_inputs(&tc, &id, &[format!("/{USER}/stor/in")], false).await;
    let job = wait_done(&tc, &id, Duration::from_secs(90)).await;
    assert_eq!(job["inputDone"], true, "{job}");
    assert_eq!(job["stats"]["errors"], 0, "{job}");
}

/// `maggr` in a reducer: key-wise sums and means of the map outputs.
#[tokio::test(flavor = "multi_thread")]
async fn maggr_aggregates_by_key() {
    let tc = cluster(RuntimeKind::Runc).await;
    tc.put("stor/a", "x 1\ny 10\n").await;
    tc.put("stor/b", "x 3\ny 30\n").await;
    let id = create(
        &tc,
        json!({"phases": [{"exec": "cat"},
                          {"type": "reduce", "exec": "sort | maggr -c1=key -c2=sum,mean"}]}),
    )
    .await;
    add_inputs(
        &tc,
        &id,
        &[format!("/{USER}/stor/a"), format!("/{USER}/stor/b")],
        true,
    )
    .await;
    wait_done(&tc, &id, Duration::from_secs(120)).await;
    let out = live_lines(&tc, &id, "out").await;
    assert_eq!(out.len(), 1, "{:?}", live_lines(&tc, &id, "err").await);
    assert_eq!(object_text(&tc, &out[0]).await, "x 4,2\ny 40,20\n");
}
