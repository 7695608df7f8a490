//! What a job's records mean after a restart, as a pure function: given
//! the job's shape, its inputs and its done records, which settled work is
//! counted again, which reducers finished, what is scheduled anew, and
//! which reducers a previous supervisor may still run. `replay.rs` reads
//! the records and hands them to the scheduler ([`Event::Replayed`]),
//! which applies the plan here; keeping the decision pure lets it be unit
//! tested without a cluster or a metadata tier.
//!
//! [`Event::Replayed`]: super::scheduler::Event::Replayed

use super::flow::{self, Shape};
use super::records::DoneRecord;
use super::scheduler::{Command, Scheduler};
use super::work::{push_tail, Item, ReducerState};
use std::collections::HashMap;

/// One step of rebuilding, in the order the scheduler applies it (the order
/// of the `live/*` lists depends on it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReplayStep {
    /// Reducer `(phase, reducer)` finished before the restart: its inputs
    /// need not flow again.
    ReducerDone(u32, u32),
    /// The done record of this task is counted again (stats, lists).
    Count(String),
    /// Work that had not settled: scheduled anew.
    Schedule(Item),
}

/// The rebuilt job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ReplayPlan {
    /// The next input's sequence number.
    pub next_seq: u64,
    pub steps: Vec<ReplayStep>,
    /// Reducers that did not finish: one the old supervisor started may
    /// still run, fed only part of its inputs, so it is stopped on every
    /// live node before it starts again.
    pub forget: Vec<String>,
}

/// Replays `inputs` (by sequence number) through the phases: work with a
/// done record is counted and its outputs routed on; work without one is
/// scheduled; inputs of finished reducers are dropped. `reducers` holds
/// each phase's reducer task ids.
pub(crate) fn replay(
    shape: Shape<'_>,
    reducers: &[Vec<String>],
    inputs: Vec<(u64, String)>,
    done: &HashMap<String, DoneRecord>,
) -> ReplayPlan {
    let mut plan = ReplayPlan {
        next_seq: inputs.last().map_or(0, |(s, _)| s + 1),
        ..ReplayPlan::default()
    };
    let mut items: Vec<Item> = inputs
        .into_iter()
        .map(|(seq, path)| flow::input_item(shape, seq, path))
        .collect();
    let none = Vec::new();
    for p in 0..shape.is_map.len() {
        let ids = reducers.get(p).unwrap_or(&none);
        let mut next = Vec::new();
        let mut finished = vec![false; ids.len()];
        for (r, task) in ids.iter().enumerate() {
            match done.get(task) {
                Some(d) => {
                    finished[r] = true;
                    plan.steps.push(ReplayStep::ReducerDone(p as u32, r as u32));
                    plan.steps.push(ReplayStep::Count(task.clone()));
                    next.extend(flow::next_items(shape, d));
                }
                None => plan.forget.push(task.clone()),
            }
        }
        for item in items.drain(..) {
            let (task, reducer) = match &item {
                Item::Map { task_id, .. } => (task_id, None),
                Item::ReduceInput {
                    task_id, reducer, ..
                } => (task_id, Some(*reducer as usize)),
            };
            if reducer.is_some_and(|r| finished.get(r).copied().unwrap_or(false)) {
                continue;
            }
            match done.get(task) {
                Some(d) => {
                    plan.steps.push(ReplayStep::Count(task.clone()));
                    next.extend(flow::next_items(shape, d));
                }
                None => plan.steps.push(ReplayStep::Schedule(item)),
            }
        }
        items = next;
    }
    plan
}

impl Scheduler {
    /// Rebuilds the job from its records: done work is counted and its
    /// outputs routed again, everything else scheduled anew, and reducers
    /// a previous supervisor may still run are stopped on every live node
    /// first.
    pub(super) fn replayed(
        &mut self,
        inputs: Vec<(u64, String)>,
        done: HashMap<String, DoneRecord>,
    ) {
        for (_, path) in &inputs {
            push_tail(&mut self.tails.inputs, path.clone());
        }
        let reducers: Vec<Vec<String>> = self
            .phases
            .iter()
            .map(|ph| ph.reducers.iter().map(|r| r.task_id.clone()).collect())
            .collect();
        let plan = replay(self.shape(), &reducers, inputs, &done);
        self.next_seq = plan.next_seq;
        for step in plan.steps {
            match step {
                ReplayStep::ReducerDone(p, r) => {
                    if let Some(red) = self.reducer_mut(p, r) {
                        red.state = ReducerState::Done;
                        red.counted = true;
                        red.ended = true;
                    }
                }
                ReplayStep::Count(task) => {
                    if let Some(d) = done.get(&task) {
                        self.count(d, true);
                    }
                }
                ReplayStep::Schedule(item) => self.add_item(item),
            }
        }
        for task_id in plan.forget {
            for node in &self.live {
                self.out.push(Command::StopStale {
                    task_id: task_id.clone(),
                    node: node.clone(),
                });
            }
        }
    }
}

#[cfg(test)]
#[path = "restart_tests.rs"]
mod tests;
