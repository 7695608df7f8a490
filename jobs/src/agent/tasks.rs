//! The agent's table of tasks: submitting (idempotent by task id), the
//! slot semaphore that keeps all but `slots` tasks queued, reduce input
//! batches, waiting for a result, cancelling, and forgetting finished
//! tasks after [`KEEP_FINISHED`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::sync::watch;
use tokio::task::AbortHandle;
use tracing::Instrument;

use super::counters::add;
use super::wire::{ReduceInputs, TaskKind, TaskRequest, TaskState, TaskStatus};
use super::Shared;

/// How long a finished task's result stays for the supervisor to fetch.
pub(crate) const KEEP_FINISHED: Duration = Duration::from_secs(600);
const SWEEP_EVERY: Duration = Duration::from_secs(30);

pub(crate) type Table = Mutex<HashMap<String, Entry>>;

pub(crate) struct Entry {
    status: watch::Sender<TaskStatus>,
    /// Reduce tasks only; `None` once the last batch came.
    inputs: Option<UnboundedSender<ReduceInputs>>,
    reduce: bool,
    task: AbortHandle,
    finished: Option<Instant>,
}

impl Drop for Entry {
    fn drop(&mut self) {
        // Forgotten while running (DELETE): dropping the task's future
        // stops its container and removes its files.
        self.task.abort();
    }
}

/// Why a request about a task was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum InputsError {
    UnknownTask,
    NotAReducer,
    AlreadyEnded,
}

pub(crate) fn lock(table: &Table) -> MutexGuard<'_, HashMap<String, Entry>> {
    table
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Queues `req` unless its id is known; returns the task's status.
pub(crate) fn submit(shared: &Arc<Shared>, req: TaskRequest) -> TaskStatus {
    let mut table = lock(&shared.table);
    if let Some(entry) = table.get(&req.task_id) {
        return entry.status.borrow().clone();
    }
    let initial = TaskStatus {
        task_id: req.task_id.clone(),
        state: TaskState::Queued,
        result: None,
    };
    let (status, _) = watch::channel(initial.clone());
    let reduce = matches!(req.kind, TaskKind::Reduce { .. });
    let (inputs, batches) = if reduce {
        let (tx, rx) = unbounded_channel();
        (Some(tx), Some(rx))
    } else {
        (None, None)
    };
    let id = req.task_id.clone();
    let span = tracing::info_span!("task", task = %id, job = %req.job_id);
    let run = run_task(shared.clone(), req, batches, status.clone());
    let task = tokio::spawn(run.instrument(span)).abort_handle();
    let entry = Entry {
        status,
        inputs,
        reduce,
        task,
        finished: None,
    };
    table.insert(id, entry);
    initial
}

async fn run_task(
    shared: Arc<Shared>,
    req: TaskRequest,
    batches: Option<UnboundedReceiver<ReduceInputs>>,
    status: watch::Sender<TaskStatus>,
) {
    // Reducers wait on map tasks for their input: if they shared slots
    // with maps, a node full of reducers would starve the maps feeding
    // them; their own pool still bounds how many containers a job with
    // many reducers starts at once.
    let pool = match req.kind {
        TaskKind::Map { .. } | TaskKind::MapBatch { .. } => &shared.slots,
        TaskKind::Reduce { .. } => &shared.reduce_slots,
    };
    let Ok(_slot) = pool.clone().acquire_owned().await else {
        return;
    };
    status.send_modify(|s| s.state = TaskState::Running);
    add(&shared.counters.tasks_started, 1);
    let result = super::execute::run(&shared, &req, batches).await;
    add(&shared.counters.tasks_done, 1);
    status.send_modify(|s| {
        s.state = TaskState::Done;
        s.result = Some(result);
    });
    if let Some(entry) = lock(&shared.table).get_mut(&req.task_id) {
        entry.finished = Some(Instant::now());
    }
}

/// Hands a reducer its next batch.
///
/// # Errors
/// The task is unknown, not a reducer, or already had its last batch.
pub(crate) fn add_inputs(
    shared: &Shared,
    id: &str,
    batch: ReduceInputs,
) -> Result<(), InputsError> {
    let mut table = lock(&shared.table);
    let entry = table.get_mut(id).ok_or(InputsError::UnknownTask)?;
    if !entry.reduce {
        return Err(InputsError::NotAReducer);
    }
    let end = batch.end;
    let sender = entry.inputs.as_ref().ok_or(InputsError::AlreadyEnded)?;
    // A reducer that already exited has dropped the receiver: nothing to do.
    let _ = sender.send(batch);
    if end {
        entry.inputs = None;
    }
    Ok(())
}

/// The task's status, once it is done or after `wait` at most; `None`
/// if unknown.
pub(crate) async fn wait(shared: &Shared, id: &str, wait: Duration) -> Option<TaskStatus> {
    let mut status = lock(&shared.table).get(id)?.status.subscribe();
    if !wait.is_zero() {
        let done = status.wait_for(|s| s.state == TaskState::Done);
        let _ = tokio::time::timeout(wait, done).await;
    }
    let current = status.borrow().clone();
    Some(current)
}

/// Forgets the task, stopping it if it runs.
pub(crate) fn cancel(shared: &Shared, id: &str) {
    let removed = lock(&shared.table).remove(id);
    drop(removed);
}

/// Queued and running tasks.
pub(crate) fn counts(shared: &Shared) -> (u64, u64) {
    let table = lock(&shared.table);
    let (mut queued, mut running) = (0, 0);
    for entry in table.values() {
        match entry.status.borrow().state {
            TaskState::Queued => queued += 1,
            TaskState::Running => running += 1,
            TaskState::Done => {}
        }
    }
    (queued, running)
}

/// Forgets finished tasks older than [`KEEP_FINISHED`] until the agent is
/// dropped.
pub(crate) fn spawn_sweeper(shared: Weak<Shared>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        loop {
            tick.tick().await;
            let Some(shared) = shared.upgrade() else {
                return;
            };
            let expired: Vec<Entry> = {
                let mut table = lock(&shared.table);
                let old: Vec<String> = table
                    .iter()
                    .filter(|(_, e)| e.finished.is_some_and(|t| t.elapsed() > KEEP_FINISHED))
                    .map(|(id, _)| id.clone())
                    .collect();
                old.iter().filter_map(|id| table.remove(id)).collect()
            };
            drop(expired);
        }
    });
}
