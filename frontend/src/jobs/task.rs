//! One dispatched task, from the supervisor's side: hand it to the node's
//! agent, feed a reducer its inputs, wait for the result, and commit what it
//! produced (output records, then the task's done record) before telling the
//! job.

use super::agent_client::{AgentClient, CallError};
use super::records::{done_key, DoneRecord, OutRef};
use super::store::{self, DirCache};
use super::Target;
use crate::error::{Error, Result};
use crate::path::MantaPath;
use crate::state::AppState;
use jobs::agent::wire::{
    ItemResult, Outcome, ReduceInputs, TaskOutput, TaskRequest, TaskResult, TaskState,
};
use jobs::model::{JobError, JobErrorCode};
use metadata_tier::wire::Condition;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Consecutive failed calls before a node counts as lost.
const UNREACHABLE_LIMIT: u32 = 3;
const POLL_WAIT: Duration = Duration::from_secs(20);

/// What every task of one job shares.
pub struct JobCtx {
    pub st: AppState,
    pub agent: AgentClient,
    pub job_id: String,
    pub login: String,
    pub owner: String,
    pub dirs: DirCache,
}

/// What the supervisor knows about a task besides its request.
#[derive(Debug, Clone)]
pub struct TaskMeta {
    pub phase: u32,
    pub input: Option<String>,
    pub reducer: Option<u32>,
    pub p0input: Option<String>,
    pub retries: u32,
}

/// How a dispatched task ended, for the job.
pub enum Finish {
    /// Committed: its outputs or its error are on the metadata tier.
    Done(Box<DoneRecord>),
    /// The node or our side failed; the task may run again elsewhere.
    Lost(String),
    /// A batch's tasks, each done or lost, by task id.
    Batch(Vec<(String, Finish)>),
}

/// Runs `req` on `node` and commits its result.
pub async fn run(
    ctx: Arc<JobCtx>,
    node: Target,
    req: TaskRequest,
    meta: TaskMeta,
    feed: Option<mpsc::UnboundedReceiver<ReduceInputs>>,
) -> Finish {
    let task = req.task_id.clone();
    let result = match drive(&ctx, &node, &req, feed).await {
        Ok(r) => r,
        Err(reason) => {
            ctx.agent.forget(&node.addr, &task).await;
            return Finish::Lost(reason);
        }
    };
    ctx.agent.forget(&node.addr, &task).await;
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
pub async fn run_batch(
    ctx: Arc<JobCtx>,
    node: Target,
    req: TaskRequest,
    metas: Vec<(String, TaskMeta)>,
) -> Finish {
    let result = match drive(&ctx, &node, &req, None).await {
        Ok(r) => r,
        Err(reason) => {
            ctx.agent.forget(&node.addr, &req.task_id).await;
            return Finish::Lost(reason);
        }
    };
    ctx.agent.forget(&node.addr, &req.task_id).await;
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
    node: &Target,
    req: &TaskRequest,
    feed: Option<mpsc::UnboundedReceiver<ReduceInputs>>,
) -> std::result::Result<TaskResult, String> {
    retrying(|| ctx.agent.submit(&node.addr, req)).await?;
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
    node: &Target,
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
        retrying(|| ctx.agent.feed(&node.addr, task, &batch)).await?;
        if end {
            return Ok(());
        }
    }
    // The job dropped the sender: it is being stopped.
    std::future::pending().await
}

async fn wait_loop(
    ctx: &JobCtx,
    node: &Target,
    task: &str,
) -> std::result::Result<TaskResult, String> {
    let mut failures = 0;
    loop {
        match ctx.agent.wait(&node.addr, task, POLL_WAIT).await {
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

/// Writes the task's objects and its done record.
async fn commit(
    ctx: &JobCtx,
    meta: &TaskMeta,
    node: &str,
    result: ItemResult,
) -> Result<DoneRecord> {
    let mut done = DoneRecord {
        phase: meta.phase,
        task_id: result.task_id.clone(),
        input: meta.input.clone(),
        reducer: meta.reducer,
        p0input: meta.p0input.clone(),
        outputs: Vec::new(),
        error: None,
        retries: meta.retries,
        node: Some(node.to_string()),
        ran: true,
    };
    match result.outcome {
        Outcome::Ok => {
            let written = async {
                for saved in &result.saved {
                    write_output(ctx, saved).await?;
                }
                for out in &result.outputs {
                    if !out.reference {
                        write_output(ctx, out).await?;
                    }
                    done.outputs.push(OutRef {
                        path: out.path.clone(),
                        reducer: out.reducer,
                    });
                }
                Ok::<_, OutputError>(())
            };
            if let Err(e) = written.await {
                match e {
                    OutputError::Ours(e) => return Err(e),
                    OutputError::Job(code, message) => {
                        done.outputs.clear();
                        done.error = Some(job_error(meta, code, message, None));
                    }
                }
            }
        }
        Outcome::UserError { code, message } => {
            let stderr = match &result.stderr {
                Some(out) => match write_output(ctx, out).await {
                    Ok(()) => Some(out.path.clone()),
                    Err(OutputError::Ours(e)) => return Err(e),
                    Err(OutputError::Job(..)) => None,
                },
                None => None,
            };
            done.error = Some(job_error(meta, code, message, stderr));
        }
        Outcome::InfraError { message } => return Err(Error::Internal(message)),
    }
    let value = serde_json::to_value(&done)
        .map_err(|e| Error::Internal(format!("encode done record: {e}")))?;
    ctx.st
        .meta
        .put(done_key(&ctx.job_id, &done.task_id), value, Condition::None)
        .await?;
    Ok(done)
}

pub fn job_error(
    meta: &TaskMeta,
    code: JobErrorCode,
    message: String,
    stderr: Option<String>,
) -> JobError {
    let what = match &meta.input {
        Some(input) => JobError::what_map(meta.phase, input),
        None => JobError::what_reduce(meta.phase),
    };
    JobError {
        phase: meta.phase,
        what,
        code,
        message,
        stderr,
        core: None,
        input: meta.input.clone(),
        p0input: meta.p0input.clone(),
    }
}

enum OutputError {
    /// The task named something it may not write: an error of the job.
    Job(JobErrorCode, String),
    /// Ours (metadata down): the task is retried.
    Ours(Error),
}

impl From<Error> for OutputError {
    fn from(e: Error) -> Self {
        OutputError::Ours(e)
    }
}

/// Creates the record of one object a task stored.
async fn write_output(ctx: &JobCtx, out: &TaskOutput) -> std::result::Result<(), OutputError> {
    let path = MantaPath::parse(&out.path).map_err(|e| {
        OutputError::Job(
            JobErrorCode::InvalidArgumentError,
            format!("{}: {e}", out.path),
        )
    })?;
    if path.login != ctx.login || path.is_root() {
        return Err(OutputError::Job(
            JobErrorCode::AuthorizationError,
            format!("{} may not write {}", ctx.login, out.path),
        ));
    }
    let job_dir = format!("/{}/jobs/{}/", ctx.login, ctx.job_id);
    if out.mkdirs || out.path.starts_with(&job_dir) {
        store::mkdirs(&ctx.st, &ctx.owner, &path, &ctx.dirs).await?;
    } else if let Some(parent) = path.parent().filter(|p| !p.is_root()) {
        let resolved = store::resolve_dir(&ctx.st, &ctx.owner, &parent).await?;
        if !resolved {
            return Err(OutputError::Job(
                JobErrorCode::ResourceNotFoundError,
                format!("{} does not exist (use mpipe -p)", parent.display()),
            ));
        }
    }
    let mut headers = BTreeMap::new();
    let mut content_type = "application/octet-stream".to_string();
    for (k, v) in &out.headers {
        let k = k.to_ascii_lowercase();
        if k == "content-type" {
            content_type = v.clone();
        } else if k.starts_with("m-") || k == "cache-control" {
            headers.insert(k, v.clone());
        }
    }
    let rec = store::object_record(
        &ctx.owner,
        out.blob.as_ref(),
        &content_type,
        headers,
        &format!("job:{}", ctx.job_id),
    );
    // An object never replaces a directory (its entries would be orphaned).
    if store::resolve_dir(&ctx.st, &ctx.owner, &path).await? {
        return Err(OutputError::Job(
            JobErrorCode::InvalidArgumentError,
            format!("{} is a directory", out.path),
        ));
    }
    store::put_record(&ctx.st, &ctx.owner, &path, &rec).await?;
    Ok(())
}
