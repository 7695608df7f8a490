//! Attacks from inside a job, through a real cluster, under runc and runsc:
//! a task plants symlinks where the agent (root, on the host) reads what
//! tasks leave behind. The host's files and the node process's environment
//! must never come back as an error message or an output object, and the
//! cluster runs an honest job afterwards.

use super::jobs::{add_inputs, create, live_lines, object_text, wait_done};
use frontend::testkit::*;
use jobs::runtime::RuntimeKind;
use serde_json::json;
use std::time::Duration;

async fn cluster(runtime: RuntimeKind) -> TestCluster {
    TestCluster::start_with(2, |o| {
        o.agent = Some(frontend::cluster::AgentRole {
            runtime,
            slots: 4,
            ..Default::default()
        })
    })
    .await
}

/// Runs a one-phase map job over one input; its errors and the text of
/// its outputs.
async fn run(tc: &TestCluster, exec: &str) -> (Vec<String>, Vec<String>) {
    tc.put("stor/in", "some input\n").await;
    let id = create(tc, json!({"phases": [{"exec": exec}]})).await;
    add_inputs(tc, &id, &[format!("/{USER}/stor/in")], true).await;
    wait_done(tc, &id, Duration::from_secs(180)).await;
    let errors = live_lines(tc, &id, "err").await;
    let mut outputs = Vec::new();
    for path in live_lines(tc, &id, "out").await {
        outputs.push(object_text(tc, &path).await);
    }
    (errors, outputs)
}

fn assert_no_leak(host_secret: &str, errors: &[String], outputs: &[String]) {
    for text in errors.iter().chain(outputs) {
        assert!(
            !text.contains(host_secret),
            "host data leaked into the job: {text}"
        );
    }
}

async fn symlink_attacks(runtime: RuntimeKind) {
    let tc = cluster(runtime).await;
    // A host file only this test knows (the agent runs on this host).
    let secret = format!("host-secret-{}", uuid::Uuid::new_v4().simple());
    let host_file = tc.local("host-secret");
    std::fs::write(&host_file, &secret).unwrap();
    let host_file = host_file.display();

    // init.status, which the agent reads when a task fails, pointing at a
    // host file.
    let exec = format!("ln -s {host_file} $MANTA_SPOOL/init.status; exit 1");
    let (errors, outputs) = run(&tc, &exec).await;
    assert!(!errors.is_empty(), "the task must fail");
    assert_no_leak(&secret, &errors, &outputs);

    // An output record whose data is the node process's environment (the
    // test process here: cargo sets CARGO_* in it).
    let record = "printf 'kind output\\n' > $MANTA_SPOOL/r.x.tmp; \
                  ln -s /proc/self/environ $MANTA_SPOOL/r.x.data; \
                  mv $MANTA_SPOOL/r.x.tmp $MANTA_SPOOL/r.x.meta";
    let (errors, outputs) = run(&tc, record).await;
    assert_no_leak("CARGO_", &errors, &outputs);

    // The same task, split among reducers.
    let split = format!(
        "printf 'kind split\\ncount 1\\n' > $MANTA_SPOOL/s.x.tmp; \
         ln -s {host_file} $MANTA_SPOOL/s.x.data; \
         mv $MANTA_SPOOL/s.x.tmp $MANTA_SPOOL/s.x.meta"
    );
    let (errors, outputs) = run(&tc, &split).await;
    assert_no_leak(&secret, &errors, &outputs);

    // An honest job still runs.
    let (errors, outputs) = run(&tc, "wc -l").await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(outputs.len(), 1);
    assert_eq!(outputs[0].trim(), "1");
}

#[tokio::test]
async fn spool_symlinks_read_no_host_file_under_runc() {
    symlink_attacks(RuntimeKind::Runc).await;
}

#[tokio::test]
async fn spool_symlinks_read_no_host_file_under_runsc() {
    symlink_attacks(RuntimeKind::Runsc).await;
}
