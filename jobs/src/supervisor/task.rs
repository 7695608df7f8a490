//! One dispatched task, from the supervisor's side: hand it to the node's
//! agent, feed a reducer its inputs, wait for the result, and commit what it
//! produced (output records, then the task's done record) before telling the
//! job.

use super::error::Result;
use super::fault::TaskMeta;
use super::journal::Journal;
use super::namespace::{DirCache, Namespace};
use super::output::commit;
use super::records::DoneRecord;
use crate::agent::client::{AgentClient, CallError};
use crate::agent::wire::{
    ItemResult, NodeAddr, Outcome, ReduceInputs, TaskRequest, TaskResult, TaskState,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Consecutive failed calls before a node counts as lost.
const UNREACHABLE_LIMIT: u32 = 3;
const POLL_WAIT: Duration = Duration::from_secs(20);

/// What every task of one job shares.
pub(crate) struct JobCtx {
    pub ns: Arc<dyn Namespace>,
    pub(crate) journal: Journal,
    pub agent: AgentClient,
    pub job_id: String,
    pub login: String,
    pub owner: String,
    pub dirs: DirCache,
    /// Given to tasks for their toolbox.
    pub api_url: Option<String>,
}

/// How a dispatched task ended, for the job.
pub(crate) enum Finish {
    /// Committed: its outputs or its error are on the metadata tier.
    Done(Box<DoneRecord>),
    /// The node or our side failed; the task may run again elsewhere.
    Lost(String),
    /// A batch's tasks, each done or lost, by task id.
    Batch(Vec<(String, Finish)>),
}

/// Runs `req` on `node` and commits its result.
pub(crate) async fn run(
    ctx: Arc<JobCtx>,
    node: NodeAddr,
    req: TaskRequest,
    meta: TaskMeta,
    feed: Option<mpsc::UnboundedReceiver<ReduceInputs>>,
) -> Finish {
    let task = req.task_id.clone();
    let result = match drive(&ctx, &node, &req, feed).await {
        Ok(r) => r,
        Err(reason) => {
            ctx.agent.forget(&node.url, &task).await;
            return Finish::Lost(reason);
        }
    };
    ctx.agent.forget(&node.url, &task).await;
    if let Outcome::InfraError { message } = &result.outcome {
        return Finish::Lost(format!("node {}: {message}", node.id));
    }
    let item = ItemResult {
        task_id: req.task_id,
        outcome: result.outcome,
        outputs: result.outputs,
        saved: result.saved,
        stderr: result.stderr,
        input_local_bytes: result.input_local_bytes,
        input_remote_bytes: result.input_remote_bytes,
    };
    committed(commit(&ctx, &meta, &node.id, item).await)
}

fn committed(r: Result<DoneRecord>) -> Finish {
    match r {
        Ok(done) => Finish::Done(Box::new(done)),
        Err(e) => Finish::Lost(format!("committing the task's outputs: {e}")),
    }
}

/// Runs a batch of map tasks (`TaskKind::MapBatch`) on `node` and commits
/// each task's result on its own.
pub(crate) async fn run_batch(
    ctx: Arc<JobCtx>,
    node: NodeAddr,
    req: TaskRequest,
    metas: Vec<(String, TaskMeta)>,
) -> Finish {
    let result = match drive(&ctx, &node, &req, None).await {
        Ok(r) => r,
        Err(reason) => {
            ctx.agent.forget(&node.url, &req.task_id).await;
            return Finish::Lost(reason);
        }
    };
    ctx.agent.forget(&node.url, &req.task_id).await;
    let mut out = Vec::with_capacity(metas.len());
    if let Outcome::InfraError { message } = &result.outcome {
        return Finish::Lost(format!("node {}: {message}", node.id));
    }
    let mut items = result.items;
    for (task, meta) in &metas {
        let item = match &result.outcome {
            // The container's own failure (image, init, assets) is every task's.
            Outcome::UserError { .. } => ItemResult {
                task_id: task.clone(),
                outcome: result.outcome.clone(),
                outputs: Vec::new(),
                saved: Vec::new(),
                stderr: result.stderr.clone(),
                input_local_bytes: 0,
                input_remote_bytes: 0,
            },
            _ => match items.iter().position(|i| &i.task_id == task) {
                Some(i) => items.swap_remove(i),
                None => {
                    let lost = Finish::Lost(format!("node {} sent no result for it", node.id));
                    out.push((task.clone(), lost));
                    continue;
                }
            },
        };
        if let Outcome::InfraError { message } = &item.outcome {
            let lost = Finish::Lost(format!("node {}: {message}", node.id));
            out.push((task.clone(), lost));
            continue;
        }
        out.push((
            task.clone(),
            committed(commit(&ctx, meta, &node.id, item).await),
        ));
    }
    Finish::Batch(out)
}

/// Submits, feeds and waits; `Err` means lost.
async fn drive(
    ctx: &JobCtx,
    node: &NodeAddr,
    req: &TaskRequest,
    feed: Option<mpsc::UnboundedReceiver<ReduceInputs>>,
) -> std::result::Result<TaskResult, String> {
    retrying(|| ctx.agent.submit(&node.url, req)).await?;
    let feeder = feed.map(|rx| feed_loop(ctx, node, &req.task_id, rx));
    let waiter = wait_loop(ctx, node, &req.task_id);
    match feeder {
        None => waiter.await,
        Some(feeder) => {
            tokio::pin!(feeder);
            tokio::pin!(waiter);
            tokio::select! {
                r = &mut waiter => r,
                f = &mut feeder => match f {
                    Err(e) => Err(e),
                    // Everything fed; now only the result matters.
                    Ok(()) => waiter.await,
                },
            }
        }
    }
}

async fn feed_loop(
    ctx: &JobCtx,
    node: &NodeAddr,
    task: &str,
    mut rx: mpsc::UnboundedReceiver<ReduceInputs>,
) -> std::result::Result<(), String> {
    while let Some(first) = rx.recv().await {
        // Coalesce what queued up meanwhile into one call.
        let mut batch = first;
        while !batch.end && batch.inputs.len() < 1000 {
            match rx.try_recv() {
                Ok(more) => {
                    batch.inputs.extend(more.inputs);
                    batch.end |= more.end;
                }
                Err(_) => break,
            }
        }
        let end = batch.end;
        retrying(|| ctx.agent.feed(&node.url, task, &batch)).await?;
        if end {
            return Ok(());
        }
    }
    // The job dropped the sender: it is being stopped.
    std::future::pending().await
}

async fn wait_loop(
    ctx: &JobCtx,
    node: &NodeAddr,
    task: &str,
) -> std::result::Result<TaskResult, String> {
    let mut failures = 0;
    loop {
        match ctx.agent.wait(&node.url, task, POLL_WAIT).await {
            Ok(Some(status)) => {
                failures = 0;
                if status.state == TaskState::Done {
                    return status
                        .result
                        .ok_or_else(|| format!("node {} sent no result", node.id));
                }
            }
            Ok(None) => return Err(format!("node {} no longer knows the task", node.id)),
            Err(e) => {
                failures += 1;
                if failures >= UNREACHABLE_LIMIT {
                    return Err(format!("node {}: {e}", node.id));
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

async fn retrying<F, Fut>(mut call: F) -> std::result::Result<(), String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<(), CallError>>,
{
    let mut last = String::new();
    for attempt in 0..UNREACHABLE_LIMIT {
        match call().await {
            Ok(()) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
        if attempt + 1 < UNREACHABLE_LIMIT {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    Err(last)
}
