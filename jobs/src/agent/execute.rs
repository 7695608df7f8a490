//! Running one task from request to [`TaskResult`]: prepare, run with
//! stdout streamed into the local blob store (and a reducer's inputs
//! streamed into stdin), judge the exit and store the outputs
//! (`conclude.rs`). A batch goes to `batch.rs`.

use std::sync::atomic::Ordering;
use std::time::Instant;

use storage_node::blobstore::PutExpect;
use storage_node::wire::PutResponse;
use tokio::io::DuplexStream;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::io::ReaderStream;

use super::conclude::{conclude, init_failed, init_status, Products, Ran, Stdout};
use super::failure::{Failure, InfraContext};
use super::outputs::output;
use super::prepare::{task_spec, InputBytes};
use super::publish::Publisher;
use super::reduce_feed::{feed, FedBytes};
use super::task_dir::TaskDir;
use super::wire::{Outcome, ReduceInputs, TaskKind, TaskRequest, TaskResult};
use super::Shared;
use crate::model::naming::stderr_object;
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
    let attempted = match &req.kind {
        TaskKind::MapBatch { items } => super::batch::run(shared, req, items, &mut result).await,
        _ => attempt(shared, req, inputs, &mut result).await,
    };
    if let Err(failure) = attempted {
        tracing::info!(task = %req.task_id, ?failure, "task failed");
        result.outcome = failure.into_outcome();
        result.outputs.clear();
        result.saved.clear();
        result.items.clear();
    }
    result.wall_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    result
}

/// Where the outputs of `req`'s tasks go.
pub(crate) fn publisher(shared: &Shared, req: &TaskRequest) -> Publisher {
    Publisher {
        store: shared.fetcher.store.clone(),
        client: shared.fetcher.client.clone(),
        node_id: shared.node_id.clone(),
        replicas: req.replicas.clone(),
        limits: shared.spool_limits,
    }
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
    if super::medusa::is_medusa(&req.exec) {
        return super::medusa::session(shared, req, spec).await;
    }
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
    let publisher = publisher(shared, req);
    let spool = dir.spool_dir();
    let mut products = Products::default();
    let concluded = match init_status(&spool) {
        Ok(Some(status)) => {
            let saved = publisher.bytes(outcome.stderr).await?;
            let name = stderr_object(&req.output_base, &req.task_id);
            products.stderr = Some(output(name, saved));
            Err(init_failed(&status))
        }
        Err(failure) => Err(failure),
        Ok(None) => {
            let ran = Ran {
                task_id: &req.task_id,
                output_base: &req.output_base,
                spool: &spool,
                exit_code: outcome.exit_code,
                limit: outcome.limits_hit.first().copied(),
                stderr: outcome.stderr,
                stdout: Stdout::Stored(stdout),
            };
            conclude(&publisher, ran, &dir, &mut products).await
        }
    };
    result.outputs = products.outputs;
    result.saved = products.saved;
    result.stderr = products.stderr;
    concluded
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
    let outcome = ran.map_err(Failure::from_run)?;
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
