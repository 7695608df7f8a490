//! The scheduling core of one job, as a state machine without I/O: the
//! actor turns what happens (inputs added, a task's result, the registry's
//! view of live nodes, the beat, a cancel, the records read after a
//! restart) into an [`Event`], and [`Scheduler::on`] answers with the
//! [`Command`]s to carry out (resolve an input, dispatch a task, feed a
//! reducer, save an error, stop a task, archive the job). No async, no
//! clock, no agent or namespace: the decisions are unit tested by feeding
//! events (`scheduler_tests.rs`).
//!
//! The state is split by concern: items entering a phase (`schedule.rs`),
//! placing map tasks (`placing.rs`), reducers and the job's end
//! (`reducers.rs`), a task's end (`settling.rs`), stats and lists
//! (`routing.rs`), rebuilding after a restart (`restart.rs`). The pure
//! decisions they apply are in `plan.rs` and `flow.rs`.

use super::fault::{Fault, JobFault};
use super::flow::Shape;
use super::plan::{self, CancelStep, Load};
use super::records::{task_id, DoneRecord};
use super::task::Finish;
use super::work::{Item, JobSettings, MapTask, PhaseRun, Reducer, Running, Tails};
use crate::agent::wire::{InputObject, NodeAddr};
use crate::model::JobStats;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// What happens to a job, as the scheduler hears it.
pub(crate) enum Event {
    /// Job inputs `first_seq..` were journalled: they enter phase 0.
    InputsAdded { first_seq: u64, paths: Vec<String> },
    /// The job's input is closed (the record says so already).
    InputsEnded,
    /// An item's input object was looked up.
    Resolved {
        item: Item,
        result: Result<InputObject, Fault>,
    },
    /// A task (map task or reducer) committed its outputs or its error;
    /// also the error records the scheduler asked for ([`Command::FailTask`]).
    TaskDone {
        task_id: String,
        done: Box<DoneRecord>,
    },
    /// A task was lost to a node or infrastructure failure.
    TaskLost { task_id: String, reason: String },
    /// A batch of map tasks ended: each of its tasks done or lost.
    BatchFinished {
        task_id: String,
        results: Vec<(String, Finish)>,
    },
    /// The registry's current view of live nodes (nodes missing from it
    /// get no new work; their running tasks come back lost).
    NodesChanged { live: Vec<NodeAddr> },
    /// The beat: work that could not be placed when it came is tried
    /// again.
    Tick,
    /// The job is cancelled.
    Cancel,
    /// After a restart: the job's inputs (by sequence number) and done
    /// records, as journalled.
    Replayed {
        inputs: Vec<(u64, String)>,
        done: HashMap<String, DoneRecord>,
    },
}

/// What the actor is to do, in order.
#[derive(Debug)]
pub(crate) enum Command {
    /// Look `item`'s input object up (after `after`: a retry), then report
    /// [`Event::Resolved`].
    Resolve { item: Item, after: Duration },
    /// Run a map task on `node` (a retry is a dispatch with
    /// `task.retries > 0`); report its end.
    Dispatch {
        task: MapTask,
        node: NodeAddr,
        replicas: Vec<NodeAddr>,
    },
    /// Run several small map tasks in one container on `node`.
    DispatchBatch {
        batch_id: String,
        tasks: Vec<MapTask>,
        node: NodeAddr,
        replicas: Vec<NodeAddr>,
    },
    /// Start a reducer on `node` and feed it `inputs` (and the end, if
    /// `end`).
    StartReducer {
        task_id: String,
        phase: u32,
        reducer: u32,
        retries: u32,
        node: NodeAddr,
        replicas: Vec<NodeAddr>,
        inputs: Vec<InputObject>,
        end: bool,
    },
    /// Feed a running reducer more inputs, or the end of them.
    FeedReducer {
        task_id: String,
        inputs: Vec<InputObject>,
        end: bool,
    },
    /// Work that fails without running (or failed too often): journal its
    /// error record, then report it as [`Event::TaskDone`].
    FailTask(Box<DoneRecord>),
    /// Stop the work the actor runs itself (lookups, polls, saves).
    AbortLocal,
    /// Tell `node` to stop and forget a task, without waiting (cancel).
    Forget { task_id: String, node: NodeAddr },
    /// Stop a task a previous supervisor may still run on `node`, and wait
    /// for it, before anything else runs (replay).
    StopStale { task_id: String, node: NodeAddr },
    /// Write the job's archive and mark it done.
    Archive,
}

/// What the scheduler is told of a job when it starts.
pub(crate) struct Setup {
    pub job_id: String,
    /// Per phase: whether it is a map phase, and its reducer count.
    pub is_map: Vec<bool>,
    pub reducers: Vec<u32>,
    pub cfg: JobSettings,
    /// Copies of each output (the task's replicas are `copies - 1` other
    /// live nodes).
    pub copies: usize,
    /// The stats the job record holds.
    pub stats: JobStats,
    pub input_done: bool,
}

/// One job's scheduling state.
pub(crate) struct Scheduler {
    pub(super) job_id: String,
    pub(super) is_map: Vec<bool>,
    pub(super) cfg: JobSettings,
    pub(super) copies: usize,
    /// Per phase: the error every task of the phase gets (its assets or
    /// image could not be resolved).
    pub(super) phase_errors: Vec<Option<JobFault>>,
    pub(super) phases: Vec<PhaseRun>,
    pub(super) queue: VecDeque<MapTask>,
    pub(super) running: HashMap<String, Running>,
    pub(super) load: Load,
    /// Live nodes as last heard ([`Event::NodesChanged`]).
    pub(super) live: Vec<NodeAddr>,
    pub(super) input_done: bool,
    /// Archived (or cancelled): nothing more happens.
    pub(super) over: bool,
    pub(super) stats: JobStats,
    pub(super) tails: Tails,
    pub(super) next_seq: u64,
    /// Commands of the event being handled.
    pub(super) out: Vec<Command>,
}

impl Scheduler {
    pub(crate) fn new(s: Setup) -> Self {
        let phases = s
            .reducers
            .iter()
            .enumerate()
            .map(|(p, n)| PhaseRun {
                open: 0,
                reducers: (0..*n)
                    .map(|r| Reducer::new(reducer_id(&s.job_id, p as u32, r)))
                    .collect(),
            })
            .collect();
        Scheduler {
            job_id: s.job_id,
            is_map: s.is_map,
            cfg: s.cfg,
            copies: s.copies.max(1),
            phase_errors: Vec::new(),
            phases,
            queue: VecDeque::new(),
            running: HashMap::new(),
            load: Load::new(),
            live: Vec::new(),
            input_done: s.input_done,
            over: false,
            stats: s.stats,
            tails: Tails::default(),
            next_seq: 0,
            out: Vec::new(),
        }
    }

    /// Sets the error each phase's tasks get (`None`: the phase can run).
    pub(crate) fn set_phase_errors(&mut self, errors: Vec<Option<JobFault>>) {
        self.phase_errors = errors;
    }

    /// Handles one event; the commands come in the order to carry out.
    pub(crate) fn on(&mut self, ev: Event) -> Vec<Command> {
        if self.over {
            return Vec::new();
        }
        // Whether the event may complete a reduce phase's input or the job.
        // A new registry view only changes where later work goes; a cancel
        // ends the job itself; after a replay the driver's first tick does.
        let may_progress = !matches!(
            ev,
            Event::NodesChanged { .. } | Event::Cancel | Event::Replayed { .. }
        );
        match ev {
            Event::InputsAdded { first_seq, paths } => self.inputs_added(first_seq, paths),
            Event::InputsEnded => self.input_done = true,
            Event::Resolved { item, result } => self.resolved(item, result),
            Event::TaskDone { task_id, done } => self.finished(task_id, Finish::Done(done)),
            Event::TaskLost { task_id, reason } => self.finished(task_id, Finish::Lost(reason)),
            Event::BatchFinished { task_id, results } => {
                self.finished(task_id, Finish::Batch(results));
            }
            Event::NodesChanged { live } => self.live = live,
            Event::Tick => self.retry_waiting(),
            Event::Cancel => self.cancel(),
            Event::Replayed { inputs, done } => self.replayed(inputs, done),
        }
        if may_progress {
            self.progress();
        }
        std::mem::take(&mut self.out)
    }

    /// The job's counters, for its record.
    pub(crate) fn stats(&self) -> JobStats {
        self.stats
    }

    /// The last entries of the `live/*` lists.
    pub(crate) fn tails(&self) -> &Tails {
        &self.tails
    }

    /// The next input's sequence number (after a replay).
    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    pub(super) fn shape(&self) -> Shape<'_> {
        Shape {
            job_id: &self.job_id,
            is_map: &self.is_map,
        }
    }

    pub(super) fn last_phase(&self) -> u32 {
        self.is_map.len().saturating_sub(1) as u32
    }

    /// Reducer `r` of phase `p`, if the job has one.
    pub(super) fn reducer_mut(&mut self, p: u32, r: u32) -> Option<&mut Reducer> {
        self.phases
            .get_mut(p as usize)
            .and_then(|ph| ph.reducers.get_mut(r as usize))
    }

    /// The nodes a task on `node` copies its outputs to.
    pub(super) fn replicas(&self, node: &NodeAddr) -> Vec<NodeAddr> {
        self.live
            .iter()
            .filter(|n| n.id != node.id)
            .take(self.copies - 1)
            .cloned()
            .collect()
    }

    /// Running tasks are stopped, queued ones dropped, the job archived;
    /// idle reducers and their buffered inputs go with the scheduler.
    fn cancel(&mut self) {
        self.over = true;
        self.input_done = true;
        let running = self
            .running
            .drain()
            .map(|(task, r)| (task, r.node().clone()))
            .collect();
        for step in plan::cancel(running) {
            match step {
                CancelStep::AbortLocal => self.out.push(Command::AbortLocal),
                CancelStep::Forget { task_id, node } => {
                    self.out.push(Command::Forget { task_id, node });
                }
                CancelStep::DropQueued => self.queue.clear(),
                CancelStep::Archive => self.out.push(Command::Archive),
            }
        }
    }
}

/// Reducer `r` of phase `p`'s task id: the same for every attempt and
/// after a restart.
pub(crate) fn reducer_id(job_id: &str, p: u32, r: u32) -> String {
    task_id(job_id, &["reduce", &p.to_string(), &r.to_string()])
}

#[cfg(test)]
#[path = "scheduler_tests.rs"]
mod tests;
