//! The scheduling decisions of a job, as pure functions of what the
//! scheduler knows (live nodes, their load, a task's history): where a map
//! task or a reducer runs, how many small map tasks share a container,
//! whether lost work is retried, which reducers may be told their input
//! ended, and what a cancel stops (replay after a restart is in
//! `restart.rs`). The [`Scheduler`](super::scheduler::Scheduler) applies
//! them to its state (`placing.rs`, `reducers.rs`, `settling.rs`).

use crate::agent::wire::NodeAddr;
use std::collections::HashMap;

/// Most map tasks run in one container.
pub(crate) const MAX_BATCH: u64 = 16;
/// Largest input of a task that may share a container.
pub(crate) const BATCH_INPUT_MAX: u64 = 1 << 20;

/// Where a map task goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MapPlace {
    /// No registry view (or no node) yet: keep it queued for the beat.
    Wait,
    /// Every live holder is busy: keep it queued.
    Busy,
    /// No live node may run it: the job's error, with why.
    Fail(String),
    /// Run it here.
    Node(NodeAddr),
}

/// Tasks running per node.
pub(crate) type Load = HashMap<String, u32>;

fn load_of(load: &Load, id: &str) -> u32 {
    load.get(id).copied().unwrap_or(0)
}

/// The least loaded live node holding the input (`holders`; `None` for an
/// empty input, which any node can run) that has not failed the task and
/// has a free slot.
pub(crate) fn place_map(
    live: &[NodeAddr],
    holders: Option<&[NodeAddr]>,
    tried: &[String],
    load: &Load,
    slots: u32,
    input: &str,
) -> MapPlace {
    if live.is_empty() {
        return MapPlace::Wait;
    }
    let candidates: Vec<&NodeAddr> = live
        .iter()
        .filter(|n| holders.is_none_or(|h| h.iter().any(|h| h.id == n.id)))
        .filter(|n| !tried.contains(&n.id))
        .collect();
    if candidates.is_empty() {
        return MapPlace::Fail(if tried.is_empty() {
            format!("no live storage node holds a copy of {input}")
        } else {
            format!("every node holding {input} failed the task")
        });
    }
    candidates
        .into_iter()
        .map(|n| (load_of(load, &n.id), n))
        .filter(|(l, _)| *l < slots)
        .min_by_key(|(l, _)| *l)
        .map_or(MapPlace::Busy, |(_, n)| MapPlace::Node(n.clone()))
}

/// How many more queued tasks join a container: only when the queue is
/// long enough that batching does not idle other slots.
pub(crate) fn batch_extra(queued: usize, live: usize, slots: u32) -> usize {
    let slots = (live.max(1) as u64) * u64::from(slots.max(1));
    (queued as u64 / slots).min(MAX_BATCH - 1) as usize
}

/// Whether an input is small enough to share a container (a big input's
/// work dwarfs a container's start-up; its output should stream).
pub(crate) fn batchable(size: Option<u64>) -> bool {
    size.is_none_or(|s| s <= BATCH_INPUT_MAX)
}

/// The least loaded live node for a reducer, preferring nodes it has not
/// failed on; `None` without live nodes.
pub(crate) fn place_reducer(live: &[NodeAddr], tried: &[String], load: &Load) -> Option<NodeAddr> {
    let fresh: Vec<&NodeAddr> = live.iter().filter(|n| !tried.contains(&n.id)).collect();
    let candidates = if fresh.is_empty() {
        live.iter().collect()
    } else {
        fresh
    };
    candidates
        .into_iter()
        .min_by_key(|n| load_of(load, &n.id))
        .cloned()
}

/// What becomes of lost work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Run it again (elsewhere).
    Again,
    /// It failed too often: a job error.
    GiveUp,
}

/// Lost work is run again up to `max` times.
pub(crate) fn retry(retries: u32, max: u32) -> Retry {
    if retries >= max {
        Retry::GiveUp
    } else {
        Retry::Again
    }
}

/// A phase as [`progress`] sees it.
#[derive(Debug, Clone, Default)]
pub(crate) struct PhaseView {
    pub(crate) is_map: bool,
    /// Items in the phase not settled yet.
    pub open: u64,
    /// Per reducer: (told its input ended, done).
    pub reducers: Vec<(bool, bool)>,
}

/// What a job's progress calls for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Progress {
    /// Reducers (phase, reducer) whose input is now complete.
    pub end: Vec<(u32, u32)>,
    /// Every phase is complete.
    pub done: bool,
}

/// A reduce phase's input is complete once the job's input is closed and
/// every earlier phase is complete; a phase is complete with nothing open
/// and every reducer done.
pub(crate) fn progress(phases: &[PhaseView], input_done: bool) -> Progress {
    let mut upstream = input_done;
    let mut out = Progress::default();
    for (p, ph) in phases.iter().enumerate() {
        if !ph.is_map && upstream && ph.open == 0 {
            for (r, (ended, _)) in ph.reducers.iter().enumerate() {
                if !ended {
                    out.end.push((p as u32, r as u32));
                }
            }
        }
        let reducers_done = ph.reducers.iter().all(|(_, done)| *done);
        upstream = upstream && ph.open == 0 && reducers_done;
    }
    out.done = upstream;
    out
}

/// What a cancel does, step by step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CancelStep {
    /// Stop the work the actor runs itself: resolving inputs, polling
    /// tasks, saving records.
    AbortLocal,
    /// Tell `node` to stop and forget a running task (a map task, a batch
    /// or a reducer; the agent kills its container).
    Forget { task_id: String, node: NodeAddr },
    /// Queued map tasks never run.
    DropQueued,
    /// The job is archived and done (idle reducers and their buffered
    /// inputs go with the actor).
    Archive,
}

/// A cancel of a job with `running` tasks (task id, node): local work
/// first, so no new task starts while the nodes are told to stop; then the
/// queue; the archive last. Forgets are in task id order.
pub(crate) fn cancel(mut running: Vec<(String, NodeAddr)>) -> Vec<CancelStep> {
    running.sort_by(|a, b| a.0.cmp(&b.0));
    let mut steps = vec![CancelStep::AbortLocal];
    steps.extend(
        running
            .into_iter()
            .map(|(task_id, node)| CancelStep::Forget { task_id, node }),
    );
    steps.push(CancelStep::DropQueued);
    steps.push(CancelStep::Archive);
    steps
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
