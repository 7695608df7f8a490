//! The task toolbox: our `mget`, `mput`, `mls`, `mfind` inside a task,
//! through the agent's per-task socket, as the job's owner and nobody
//! else, under runc and runsc. The commands are client-sdk's binaries
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
    use_built_toolbox();
    TestCluster::start_with(2, |o| {
        o.agent = Some(frontend::cluster::AgentRole {
            runtime,
            slots: 4,
            ..Default::default()
        })
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
    let tc = cluster(runtime).await;
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
