//! Items entering a phase: each is looked up (`Command::Resolve`); a map
//! task then queues for a node (`placing.rs`), a reduce input goes to its
//! reducer (`reducers.rs`); an item that cannot run settles with its error.

use super::fault::{Fault, JobFault, TaskMeta};
use super::records::DoneRecord;
use super::scheduler::{Command, Scheduler};
use super::work::{push_tail, Item, MapTask};
use crate::agent::wire::InputObject;
use crate::model::JobErrorCode;
use std::time::Duration;

/// How long a lookup that failed on our side waits before it is retried.
const RESOLVE_RETRY: Duration = Duration::from_secs(1);

impl Scheduler {
    /// Journalled job inputs enter phase 0.
    pub(super) fn inputs_added(&mut self, first_seq: u64, paths: Vec<String>) {
        self.next_seq = self.next_seq.max(first_seq + paths.len() as u64);
        for (i, path) in paths.into_iter().enumerate() {
            push_tail(&mut self.tails.inputs, path.clone());
            let item = super::flow::input_item(self.shape(), first_seq + i as u64, path);
            self.add_item(item);
        }
    }

    /// An item entered a phase: it stays open until it settles.
    pub(super) fn add_item(&mut self, item: Item) {
        if let Some(p) = self.phases.get_mut(item.phase() as usize) {
            p.open += 1;
        }
        self.out.push(Command::Resolve {
            item,
            after: Duration::ZERO,
        });
    }

    pub(super) fn resolved(&mut self, item: Item, result: Result<InputObject, Fault>) {
        let input = match result {
            Ok(input) => input,
            Err(Fault::Internal(e)) => {
                tracing::warn!(job = %self.job_id, error = %e, "resolving a task input; retrying");
                self.out.push(Command::Resolve {
                    item,
                    after: RESOLVE_RETRY,
                });
                return;
            }
            Err(Fault::Job(fault)) => {
                self.settle_with_error(&item, fault);
                return;
            }
        };
        match item {
            Item::Map {
                phase,
                task_id,
                p0input,
                ..
            } => {
                self.queue.push_back(MapTask {
                    phase,
                    task_id,
                    input,
                    p0input,
                    tried: Vec::new(),
                    retries: 0,
                });
                self.pump();
            }
            Item::ReduceInput { phase, reducer, .. } => {
                let count = self
                    .phases
                    .get(phase as usize)
                    .map_or(0, |p| p.reducers.len());
                if reducer as usize >= count {
                    let msg =
                        format!("reducer {reducer} does not exist (phase {phase} has {count})");
                    let fault = JobFault {
                        code: JobErrorCode::InvalidArgumentError,
                        message: msg,
                    };
                    self.settle_with_error(&item, fault);
                    return;
                }
                self.reduce_input(phase, reducer, input);
            }
        }
    }

    /// An item that fails before any task runs: its error is recorded (on
    /// the metadata tier first, so a restart sees it) and it settles.
    pub(super) fn settle_with_error(&mut self, item: &Item, fault: JobFault) {
        let (phase, task_id, input, p0input) = match item {
            Item::Map {
                phase,
                task_id,
                input,
                p0input,
            }
            | Item::ReduceInput {
                phase,
                task_id,
                input,
                p0input,
                ..
            } => (*phase, task_id.clone(), input.clone(), p0input.clone()),
        };
        let meta = TaskMeta {
            phase,
            input: Some(input.clone()),
            reducer: None,
            p0input: Some(p0input.clone()),
            retries: 0,
        };
        let done = DoneRecord {
            phase,
            task_id,
            input: Some(input),
            reducer: None,
            p0input: Some(p0input),
            outputs: Vec::new(),
            error: Some(meta.job_error(fault, None)),
            retries: 0,
            node: None,
            ran: false,
        };
        self.out.push(Command::FailTask(Box::new(done)));
    }
}
