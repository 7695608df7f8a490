//! A batch of map tasks ([`TaskKind::MapBatch`](super::wire::TaskKind)):
//! one container whose driver (`utilities/batch.sh`) runs init once, then
//! each item one after the other, its stdout, stderr and exit status left
//! in the spool (`batch_items.rs` lays it out). Once the container is gone
//! each item is concluded as a task of its own (`conclude.rs`).
//!
//! A limit that kills the container (memory, wall time) leaves the items
//! that finished with their results; the item that was running is
//! `TaskKilledError`, those never started `InfraError` (retried). A limit
//! that does not kill it (pids, disk) is blamed on the items that exited
//! non-zero.

use super::batch_items::{self, Item, Slot};
use super::conclude::{conclude, init_failed, init_status, Products, Ran, Stdout};
use super::execute::publisher;
use super::failure::Failure;
use super::prepare::common_spec;
use super::publish::Publisher;
use super::task_dir::TaskDir;
use super::utilities::{BATCH_COMMAND, SPOOL_DIR};
use super::wire::{BatchItem, ItemResult, TaskRequest, TaskResult};
use super::Shared;
use crate::model::JobErrorCode;
use crate::runtime::{LimitKind, TaskOutcome, TaskSpec};
use crate::safe_fs::Confined;

/// Runs the batch; `result.items` gets every item's result in request
/// order.
///
/// # Errors
/// The container's own failure, every item's at once: the image, an
/// asset or init (the user's), setting it up (ours).
pub(crate) async fn run(
    shared: &Shared,
    req: &TaskRequest,
    items: &[BatchItem],
    result: &mut TaskResult,
) -> Result<(), Failure> {
    let dir = TaskDir::create(&shared.tasks_dir)?;
    let mut spec = common_spec(shared, req, &dir).await?;
    let prepared = batch_items::prepare(shared, items, &dir, &mut spec).await?;
    for item in &prepared {
        result.input_local_bytes += item.read.local;
        result.input_remote_bytes += item.read.remote;
    }
    let ready = prepared
        .iter()
        .filter(|i| matches!(i.slot, Slot::Ready(_)))
        .count();
    let outcome = if ready == 0 {
        None
    } else {
        drive(&mut spec, req, ready);
        let mut discard = tokio::io::sink();
        let outcome = shared
            .runner
            .run(&spec, &mut discard)
            .await
            .map_err(Failure::from_run)?;
        if let Some(status) = init_status(&dir.spool_dir())? {
            return Err(init_failed(&status));
        }
        Some(outcome)
    };
    let publisher = publisher(shared, req);
    let keep = spec.limits.stderr_bytes;
    for item in prepared {
        let done = item_result(&publisher, item, outcome.as_ref(), &dir, keep).await;
        result.items.push(done);
    }
    Ok(())
}

/// Makes `spec` run the driver over `count` items.
fn drive(spec: &mut TaskSpec, req: &TaskRequest, count: usize) {
    spec.command = BATCH_COMMAND.into();
    // Each item has its own; the batch's is unused.
    spec.env.retain(|(k, _)| k != "MANTA_OUTPUT_BASE");
    let env = &mut spec.env;
    env.push(("MANTA_BATCH".into(), SPOOL_DIR.into()));
    env.push(("MANTA_BATCH_COUNT".into(), count.to_string()));
    env.push(("MANTA_EXEC".into(), req.exec.clone()));
    if let Some(init) = &req.init {
        env.push(("MANTA_INIT".into(), init.clone()));
    }
}

async fn item_result(
    publisher: &Publisher,
    item: Item<'_>,
    outcome: Option<&TaskOutcome>,
    dir: &TaskDir,
    keep: usize,
) -> ItemResult {
    let task = item.req;
    let mut products = Products::default();
    let concluded = match (item.slot, outcome) {
        (Slot::Ready(k), Some(outcome)) => {
            conclude_item(publisher, task, k, outcome, dir, keep, &mut products).await
        }
        (Slot::Ready(_), None) => Err(Failure::Infra("the batch did not run".into())),
        (Slot::Failed(failure), _) => Err(failure),
    };
    if let Err(failure) = &concluded {
        tracing::info!(task = %task.task_id, ?failure, "batch item failed");
    }
    let outcome = products.settle(concluded);
    ItemResult {
        task_id: task.task_id.clone(),
        outcome,
        outputs: products.outputs,
        saved: products.saved,
        stderr: products.stderr,
        input_local_bytes: item.read.local,
        input_remote_bytes: item.read.remote,
    }
}

/// Judges item `k` from what the driver left and stores its outputs.
async fn conclude_item(
    publisher: &Publisher,
    task: &BatchItem,
    k: usize,
    outcome: &TaskOutcome,
    dir: &TaskDir,
    keep: usize,
    products: &mut Products,
) -> Result<(), Failure> {
    let replaced = |_| {
        Failure::user(
            JobErrorCode::UserTaskError,
            "the task replaced its spool directory",
        )
    };
    let at = dir.spool_dir().child(&k.to_string()).map_err(replaced)?;
    let spool = at.child("spool").map_err(replaced)?;
    // Opened without following a symlink at either level.
    spool.open_dir().map_err(replaced)?;
    let exit_code = exit_status(&at)?;
    let limit = blame(exit_code, &at, outcome)?;
    let stderr = match at.child("stderr").and_then(|f| f.head(keep as u64)) {
        Ok(head) => head,
        Err(e) if e.is_not_found() => Vec::new(),
        Err(e) => return Err(Failure::from_open("read the task's stderr", e)),
    };
    let ran = Ran {
        task_id: &task.task_id,
        output_base: &task.output_base,
        spool: &spool,
        exit_code,
        limit,
        stderr,
        stdout: Stdout::File(at.child("stdout").map_err(replaced)?),
    };
    conclude(publisher, ran, dir, products).await
}

/// The item's exit status as the driver recorded it; `None` if it never
/// finished.
fn exit_status(at: &Confined) -> Result<Option<i32>, Failure> {
    let text = match at.child("status").and_then(|f| f.read(64)) {
        Ok(text) => text,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(Failure::from_open("read the task's exit status", e)),
    };
    let text = String::from_utf8_lossy(&text);
    let code = text
        .trim()
        .parse()
        .map_err(|_| Failure::Infra(format!("the batch driver wrote a bad status {text:?}")))?;
    Ok(Some(code))
}

/// The limit to blame for the item's end, if any.
///
/// # Errors
/// `InfraError` for an item that never ran or whose run was cut short by
/// something other than a limit: the supervisor retries it.
fn blame(
    exit_code: Option<i32>,
    at: &Confined,
    outcome: &TaskOutcome,
) -> Result<Option<LimitKind>, Failure> {
    let hit = &outcome.limits_hit;
    let fatal = |l: &&LimitKind| matches!(l, LimitKind::Memory | LimitKind::WallTime);
    match exit_code {
        Some(0) => Ok(None),
        // A failed fork or write is the likely cause of a failure.
        Some(_) => Ok(hit.iter().find(|l| !fatal(l)).copied()),
        None if !started(at)? => Err(Failure::Infra(
            "the batch's container stopped before this task ran".into(),
        )),
        None => match hit.iter().find(fatal).or(hit.first()) {
            Some(limit) => Ok(Some(*limit)),
            None => Err(Failure::Infra(format!(
                "the batch's container ended (status {:?}) while this task ran",
                outcome.exit_code
            ))),
        },
    }
}

/// Whether the driver marked the item started (whatever `started` is: it
/// is never followed).
fn started(at: &Confined) -> Result<bool, Failure> {
    at.child("started")
        .and_then(|f| f.exists())
        .map_err(|e| Failure::from_open("look for the task's start mark", e))
}
