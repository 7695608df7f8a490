//! A task attacks the agent through its spool: the agent runs as root on
//! the host and reads what the task left there once it exits. A symlink
//! (to a host file, to the agent's own `/proc/self/environ`), a FIFO, a
//! directory or too much data in place of a file fails the task with a
//! clear error, never reads the host file and never hangs the agent; the
//! agent runs the next task as before.

use std::time::Duration;

use jobs::agent::wire::{Outcome, TaskRequest, TaskResult};
use jobs::agent::{SandboxLimits, SpoolLimits};
use jobs::model::JobErrorCode;
use jobs::runtime::RuntimeKind;

use crate::agent::{assert_ok, assert_user_error_item, batch, map, Cluster};

const SECRET: &str = "HOST-SECRET-4f1c";

/// A host file the task must never get to read through the agent.
fn secret_file() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    std::fs::write(&path, format!("{SECRET}\n")).unwrap();
    (dir, path.display().to_string())
}

/// Runs `req`, failing the test rather than waiting forever on a hung
/// agent.
async fn run_bounded(c: &Cluster, req: &TaskRequest) -> TaskResult {
    tokio::time::timeout(Duration::from_secs(150), c.run(&c.a, req))
        .await
        .unwrap_or_else(|_| panic!("task {} hung the agent", req.task_id))
}

/// The task failed as the user's fault with `needle` in its message, and
/// nothing of the host's leaked into the result or its stored bytes.
#[track_caller]
fn assert_refused(result: &TaskResult, needle: &str) {
    match &result.outcome {
        Outcome::UserError { code, message } => {
            assert_eq!(*code, JobErrorCode::UserTaskError, "{result:#?}");
            assert!(message.contains(needle), "{needle:?} not in {message:?}");
        }
        other => panic!("expected a refusal ({needle}), got {other:?}"),
    }
    assert!(result.outputs.is_empty(), "{result:#?}");
    let shown = format!("{result:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(!shown.contains("PATH="), "{shown}");
}

/// Every attack, as (name, the task's command, what the error says).
fn attacks(secret: &str) -> Vec<(&'static str, String, &'static str)> {
    let meta =
        |kind: &str| format!("printf 'kind {kind}\\npath /u/stor/out\\n' >$MANTA_SPOOL/r.x.meta");
    vec![
        (
            "init-status-symlink",
            format!("ln -s {secret} $MANTA_SPOOL/init.status"),
            "init.status is a symlink",
        ),
        (
            "init-status-hostname",
            "ln -s /etc/hostname $MANTA_SPOOL/init.status".into(),
            "init.status is a symlink",
        ),
        (
            "init-status-fifo",
            "mkfifo $MANTA_SPOOL/init.status".into(),
            "init.status is a FIFO",
        ),
        (
            "split-data-environ",
            "printf 'kind split\\ncount 2\\n' >$MANTA_SPOOL/r.x.meta; ln -s /proc/self/environ $MANTA_SPOOL/r.x.data"
                .into(),
            "r.x.data is a symlink",
        ),
        (
            "output-data-symlink",
            format!("{}; ln -s {secret} $MANTA_SPOOL/r.x.data", meta("output")),
            "r.x.data is a symlink",
        ),
        (
            "save-data-environ",
            format!("{}; ln -s /proc/self/environ $MANTA_SPOOL/r.x.data", meta("save")),
            "r.x.data is a symlink",
        ),
        (
            "output-data-fifo",
            format!("{}; mkfifo $MANTA_SPOOL/r.x.data", meta("output")),
            "r.x.data is a FIFO",
        ),
        (
            "split-data-fifo",
            "printf 'kind split\\ncount 2\\n' >$MANTA_SPOOL/r.x.meta; mkfifo $MANTA_SPOOL/r.x.data"
                .into(),
            "r.x.data is a FIFO",
        ),
        (
            "meta-fifo",
            "mkfifo $MANTA_SPOOL/r.x.meta".into(),
            "r.x.meta is a FIFO",
        ),
        (
            "meta-symlink",
            format!("ln -s {secret} $MANTA_SPOOL/r.x.meta"),
            "r.x.meta is a symlink",
        ),
        (
            "meta-directory",
            "mkdir $MANTA_SPOOL/r.x.meta".into(),
            "r.x.meta is a directory",
        ),
    ]
}

/// After an attack, the same node runs an honest task as before.
async fn still_works(c: &Cluster, id: &str) {
    let result = run_bounded(c, &map(id, None, "echo fine | mpipe /u/stor/fine")).await;
    assert_ok(&result);
    assert_eq!(c.read(&c.a, &result.outputs[0]).await, "fine\n");
}

#[tokio::test]
async fn sandbox_spool_files_are_never_followed_under_runc() {
    let (_dir, secret) = secret_file();
    let c = Cluster::start(RuntimeKind::Runc).await;
    for (name, exec, needle) in attacks(&secret) {
        let result = run_bounded(&c, &map(name, None, &exec)).await;
        assert_refused(&result, needle);
        still_works(&c, &format!("{name}-after")).await;
    }
}

#[tokio::test]
async fn sandbox_spool_files_are_never_followed_under_runsc() {
    let (_dir, secret) = secret_file();
    let c = Cluster::start(RuntimeKind::Runsc).await;
    let wanted = [
        "init-status-symlink",
        "split-data-environ",
        "output-data-symlink",
    ];
    for (name, exec, needle) in attacks(&secret) {
        if !wanted.contains(&name) {
            continue;
        }
        let result = run_bounded(&c, &map(name, None, &exec)).await;
        assert_refused(&result, needle);
    }
    still_works(&c, "after").await;
}

#[tokio::test]
async fn sandbox_batch_item_files_are_never_followed() {
    let (_dir, secret) = secret_file();
    let c = Cluster::start(RuntimeKind::Runc).await;
    let blob = c.put(b"x\n", &[&c.a]).await;
    let cases = [
        (
            format!("ln -sf {secret} $MANTA_SPOOL/../stdout"),
            "take a task output: 0/stdout is a symlink, not a regular file: refused",
        ),
        (
            "mv $MANTA_SPOOL $MANTA_SPOOL.old && ln -s /etc $MANTA_SPOOL".to_owned(),
            "the task replaced its spool directory",
        ),
    ];
    for (i, (exec, message)) in cases.iter().enumerate() {
        let req = batch(&format!("b{i}"), vec![("in", Some(blob.clone()))], exec);
        let result = run_bounded(&c, &req).await;
        assert_ok(&result);
        assert_eq!(result.items.len(), 1, "{result:#?}");
        assert_user_error_item(&result.items[0], message);
        assert!(!format!("{result:?}").contains(SECRET));
    }
    still_works(&c, "after").await;
}

#[tokio::test]
async fn sandbox_spool_records_are_capped() {
    let limits = SandboxLimits {
        spool: SpoolLimits {
            max_output_bytes: 4096,
            max_records: 3,
            max_line_bytes: 100,
        },
        ..SandboxLimits::default()
    };
    let c = Cluster::start_with(RuntimeKind::Runc, limits).await;
    let cases = [
        (
            "records",
            "for i in 1 2 3 4 5; do echo $i | mpipe /u/stor/o$i; done",
            "the task left more than 3 spool records",
        ),
        (
            "output",
            "head -c 8192 /dev/zero | mpipe /u/stor/big",
            "over the limit of 4096 bytes",
        ),
        (
            "line",
            "head -c 300 /dev/zero | tr '\\0' a | msplit -n 2",
            "msplit: a line is longer than 100 bytes",
        ),
    ];
    for (name, exec, needle) in cases {
        let result = run_bounded(&c, &map(name, None, exec)).await;
        assert_refused(&result, needle);
    }
    let ok = "echo a | mpipe /u/stor/a; echo b | msplit -n 2";
    let result = run_bounded(&c, &map("within", None, ok)).await;
    assert_ok(&result);
    assert_eq!(result.outputs.len(), 2, "{result:#?}");
}
