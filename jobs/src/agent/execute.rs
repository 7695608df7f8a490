//! Running one task from request to [`TaskResult`]: prepare, run with
//! stdout streamed into the local blob store (and a reducer's inputs
//! streamed into stdin), judge the exit, store the outputs.

use std::sync::atomic::Ordering;
use std::time::Instant;

use storage_node::blobstore::PutExpect;
use storage_node::wire::PutResponse;
use tokio::io::DuplexStream;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::io::ReaderStream;

use super::failure::{Failure, InfraContext};
use super::outputs::{collect, output};
use super::prepare::{task_spec, InputBytes, INIT_STATUS};
use super::publish::Publisher;
use super::reduce_feed::{feed, FedBytes};
use super::spool::{self, Kind, Record};
use super::task_dir::TaskDir;
use super::wire::{Outcome, ReduceInputs, TaskRequest, TaskResult};
use super::Shared;
use crate::model::naming::stderr_object;
use crate::model::JobErrorCode;
use crate::runtime::{TaskOutcome, TaskSpec};

const PIPE: usize = 256 << 10;

/// Runs `req` to the end; every failure is in the result's outcome.
pub(crate) async fn run(
    shared: &Shared,
    req: &TaskRequest,
    inputs: Option<UnboundedReceiver<ReduceInputs>>,
) -> TaskResult {
    let started = Instant::now();
    let mut result = TaskResult {
        outcome: Outcome::Ok,
        outputs: Vec::new(),
        saved: Vec::new(),
        stderr: None,
        input_local_bytes: 0,
        input_remote_bytes: 0,
        wall_ms: 0,
        node_id: shared.node_id.clone(),
        items: Vec::new(),
    };
    if let Err(failure) = attempt(shared, req, inputs, &mut result).await {
        tracing::info!(task = %req.task_id, ?failure, "task failed");
        result.outcome = failure.into_outcome();
        result.outputs.clear();
        result.saved.clear();
    }
    result.wall_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    result
}

async fn attempt(
    shared: &Shared,
    req: &TaskRequest,
    inputs: Option<UnboundedReceiver<ReduceInputs>>,
    result: &mut TaskResult,
) -> Result<(), Failure> {
    let dir = TaskDir::create(&shared.tasks_dir)?;
    let mut read = InputBytes::default();
    let spec = task_spec(shared, req, &dir, &mut read).await;
    (result.input_local_bytes, result.input_remote_bytes) = (read.local, read.remote);
    let spec = spec?;
    let (outcome, stdout) = match inputs {
        None => run_capturing(shared, &spec, None).await?,
        Some(batches) => {
            let fed = FedBytes::default();
            let ran = run_reducer(shared, &spec, batches, &fed).await;
            result.input_local_bytes += fed.local.load(Ordering::Relaxed);
            result.input_remote_bytes += fed.remote.load(Ordering::Relaxed);
            ran?
        }
    };
    let publisher = Publisher {
        store: shared.fetcher.store.clone(),
        client: shared.fetcher.client.clone(),
        node_id: shared.node_id.clone(),
        replicas: req.replicas.clone(),
    };
    let records = spool::read(&dir.spool())?;
    if let Some(failure) = judge(&outcome, &dir, &records) {
        let saved = publisher.bytes(outcome.stderr).await?;
        result.stderr = Some(output(stderr_object(&req.output_base, &req.task_id), saved));
        return Err(failure);
    }
    if spool::captures_stdout(&records) {
        let name = format!("{}{}", req.output_base, req.task_id);
        let blob = publisher.replicate(stdout).await;
        result.outputs.push(output(name, blob));
    }
    let produced = collect(&publisher, records, &req.output_base, &dir).await?;
    result.outputs.extend(produced.outputs);
    result.saved = produced.saved;
    Ok(())
}

/// The user's failure, if the task had one: init, a relative path given
/// to a utility, a limit, or a non-zero exit.
fn judge(outcome: &TaskOutcome, dir: &TaskDir, records: &[Record]) -> Option<Failure> {
    if let Ok(status) = std::fs::read_to_string(dir.spool().join(INIT_STATUS)) {
        return Some(Failure::user(
            JobErrorCode::TaskInitError,
            format!("user init command exited with code {}", status.trim()),
        ));
    }
    let invalid = records.iter().find_map(|r| match &r.kind {
        Kind::Invalid(message) => Some(message.clone()),
        _ => None,
    });
    if let Some(message) = invalid {
        return Some(Failure::user(JobErrorCode::InvalidArgumentError, message));
    }
    if let Some(limit) = outcome.limits_hit.first() {
        return Some(Failure::user(
            JobErrorCode::TaskKilledError,
            format!("task killed (excessive resource usage): {limit}"),
        ));
    }
    let code = match outcome.exit_code {
        Some(0) => return None,
        Some(code) => code.to_string(),
        None => "unknown".to_owned(),
    };
    Some(Failure::user(
        JobErrorCode::UserTaskError,
        format!("user command exited with code {code}"),
    ))
}

/// Runs `spec`, its stdout streamed into the local blob store.
async fn run_capturing(
    shared: &Shared,
    spec: &TaskSpec,
    stdin: Option<DuplexStream>,
) -> Result<(TaskOutcome, PutResponse), Failure> {
    let (mut writer, reader) = tokio::io::duplex(PIPE);
    let stream = ReaderStream::with_capacity(reader, PIPE);
    let put = shared.fetcher.store.put(stream, PutExpect::default());
    let runner = &shared.runner;
    let run = async move {
        let ran = match stdin {
            Some(stdin) => runner.run_with_stdin(spec, stdin, &mut writer).await,
            None => runner.run(spec, &mut writer).await,
        };
        drop(writer);
        ran
    };
    let (ran, put) = tokio::join!(run, put);
    let outcome = ran.infra("run the task")?;
    let put = put.infra("store the task's stdout")?;
    Ok((outcome, put))
}

/// A reducer: its inputs are fed while it runs; the feeding is dropped
/// when the task ends first, and the task when an input cannot be had.
async fn run_reducer(
    shared: &Shared,
    spec: &TaskSpec,
    batches: UnboundedReceiver<ReduceInputs>,
    fed: &FedBytes,
) -> Result<(TaskOutcome, PutResponse), Failure> {
    let (pipe, stdin) = tokio::io::duplex(PIPE);
    let run = run_capturing(shared, spec, Some(stdin));
    let feeding = feed(shared, batches, pipe, fed);
    tokio::pin!(run, feeding);
    let mut fed_all = false;
    loop {
        tokio::select! {
            ran = &mut run => return ran,
            done = &mut feeding, if !fed_all => {
                done?;
                fed_all = true;
            }
        }
    }
}
