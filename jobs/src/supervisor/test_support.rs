//! Builders the supervisor's unit tests share (`plan_tests`,
//! `restart_tests`, `scheduler_tests`): nodes and the done records a task
//! commits.

use super::records::{DoneRecord, OutRef};
use crate::agent::wire::NodeAddr;

pub(super) fn node(id: &str) -> NodeAddr {
    NodeAddr {
        id: id.into(),
        url: format!("http://{id}"),
    }
}

pub(super) fn nodes(ids: &[&str]) -> Vec<NodeAddr> {
    ids.iter().map(|i| node(i)).collect()
}

/// The record a map task of `phase` over `input` commits on `node`, with
/// its outputs routed to the reducers given.
pub(super) fn map_done(
    phase: u32,
    task: &str,
    input: Option<&str>,
    outs: &[(&str, u32)],
    node: &str,
) -> DoneRecord {
    DoneRecord {
        phase,
        task_id: task.into(),
        input: input.map(Into::into),
        reducer: None,
        p0input: input.map(Into::into),
        outputs: outs
            .iter()
            .map(|(p, r)| OutRef {
                path: p.to_string(),
                reducer: Some(*r),
            })
            .collect(),
        error: None,
        retries: 0,
        node: Some(node.into()),
        ran: true,
    }
}
