//! The in-memory state of a running job: the items that flow through its
//! phases, its map tasks, reducers and running tasks, and the lists
//! `live/*` show.

use super::actor::TAIL;
use super::fault::TaskMeta;
use crate::agent::wire::{InputObject, NodeAddr};
use crate::model::JobError;
use std::collections::VecDeque;

/// A unit of work entering a phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    Map {
        phase: u32,
        task_id: String,
        input: String,
        p0input: String,
    },
    ReduceInput {
        phase: u32,
        reducer: u32,
        task_id: String,
        input: String,
        p0input: String,
    },
}

impl Item {
    pub(crate) fn phase(&self) -> u32 {
        match self {
            Item::Map { phase, .. } | Item::ReduceInput { phase, .. } => *phase,
        }
    }
}

/// A map task waiting for a slot or running.
#[derive(Debug, Clone)]
pub(crate) struct MapTask {
    pub phase: u32,
    pub task_id: String,
    pub input: InputObject,
    pub(crate) p0input: String,
    pub tried: Vec<String>,
    pub retries: u32,
}

impl MapTask {
    /// The item it came from, to settle it without running.
    pub(crate) fn item(&self) -> Item {
        Item::Map {
            phase: self.phase,
            task_id: self.task_id.clone(),
            input: self.input.path.clone(),
            p0input: self.p0input.clone(),
        }
    }

    /// What the supervisor keeps about it while it runs.
    pub(crate) fn meta(&self) -> TaskMeta {
        TaskMeta {
            phase: self.phase,
            input: Some(self.input.path.clone()),
            reducer: None,
            p0input: Some(self.p0input.clone()),
            retries: self.retries,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReducerState {
    Idle,
    Running,
    Done,
}

#[derive(Debug)]
pub(crate) struct Reducer {
    pub task_id: String,
    /// Every input so far (a retry is fed them all again).
    pub inputs: Vec<InputObject>,
    pub state: ReducerState,
    pub retries: u32,
    pub tried: Vec<String>,
    /// Running on a node that takes its inputs as they come.
    pub feeding: bool,
    /// Told its input is complete.
    pub ended: bool,
    /// Counted in the job's `tasks` stat (once, whatever its retries).
    pub counted: bool,
}

impl Reducer {
    pub(crate) fn new(task_id: String) -> Self {
        Reducer {
            task_id,
            inputs: Vec::new(),
            state: ReducerState::Idle,
            retries: 0,
            tried: Vec::new(),
            feeding: false,
            ended: false,
            counted: false,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct PhaseRun {
    /// Items that entered the phase and are not settled yet (resolving,
    /// queued or running map tasks; reduce inputs not yet fed).
    pub open: u64,
    pub reducers: Vec<Reducer>,
}

#[derive(Debug)]
pub(crate) enum Running {
    Map(MapTask, NodeAddr),
    /// Several map tasks in one container on one node (one slot).
    Batch(Vec<MapTask>, NodeAddr),
    Reduce {
        phase: u32,
        reducer: u32,
        node: NodeAddr,
    },
}

impl Running {
    pub(crate) fn node(&self) -> &NodeAddr {
        match self {
            Running::Map(_, n) | Running::Batch(_, n) | Running::Reduce { node: n, .. } => n,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Tails {
    pub inputs: VecDeque<String>,
    pub outputs: VecDeque<String>,
    pub errors: VecDeque<JobError>,
    pub failures: VecDeque<String>,
}

pub(crate) fn push_tail<T>(q: &mut VecDeque<T>, v: T) {
    q.push_back(v);
    if q.len() > TAIL {
        q.pop_front();
    }
}

/// Settings of the supervisor.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// Tasks this supervisor runs at once on one node.
    pub slots_per_node: u32,
    /// Times a task lost to a node or infrastructure failure is run again.
    pub max_retries: u32,
    /// A job whose input is still open is closed after this long without
    /// new inputs (Manta's `timeJobIdleClose`, one hour).
    pub input_idle_close: std::time::Duration,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            slots_per_node: 4,
            max_retries: 2,
            input_idle_close: std::time::Duration::from_secs(3600),
        }
    }
}
