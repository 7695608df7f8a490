//! What a job's records mean after a restart, as a pure function: given
//! the job's shape, its inputs and its done records, which settled work is
//! counted again, which reducers finished, what is scheduled anew, and
//! which reducers a previous supervisor may still run. `replay.rs` reads
//! the records and applies the plan; keeping the decision here lets it be
//! unit tested without a cluster or a metadata tier.

use super::flow::{self, Shape};
use super::records::DoneRecord;
use super::work::Item;
use std::collections::HashMap;

/// One step of rebuilding, in the order the actor applies it (the order
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

#[cfg(test)]
#[path = "restart_tests.rs"]
mod tests;
