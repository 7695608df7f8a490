//! Where work goes next, as pure functions of the job's shape (its id,
//! from which task ids derive, and its phases' kinds): a job input enters
//! phase 0, and a settled task's outputs enter the next phase. Both the
//! running scheduler (`schedule.rs`, `routing.rs`) and the replay plan
//! (`restart.rs`) route through here, so a rebuilt job matches the one
//! that ran.

use super::records::{task_id, DoneRecord};
use super::work::Item;

/// What routing needs to know of a job.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape<'a> {
    pub job_id: &'a str,
    /// Per phase: whether it is a map phase.
    pub is_map: &'a [bool],
}

impl Shape<'_> {
    fn last_phase(&self) -> u32 {
        self.is_map.len().saturating_sub(1) as u32
    }

    /// Whether `done`'s outputs are the job's outputs (its last phase).
    pub(crate) fn is_last(&self, phase: u32) -> bool {
        phase >= self.last_phase()
    }
}

/// Phase 0's item for job input number `seq`.
pub(crate) fn input_item(shape: Shape<'_>, seq: u64, path: String) -> Item {
    let task_id = task_id(shape.job_id, &["in", &seq.to_string()]);
    match shape.is_map.first() {
        Some(false) => Item::ReduceInput {
            phase: 0,
            reducer: 0,
            task_id,
            input: path.clone(),
            p0input: path,
        },
        _ => Item::Map {
            phase: 0,
            task_id,
            input: path.clone(),
            p0input: path,
        },
    }
}

/// The items a settled task's outputs start in the next phase (none from
/// the last phase: those are the job's outputs).
pub(crate) fn next_items(shape: Shape<'_>, done: &DoneRecord) -> Vec<Item> {
    if shape.is_last(done.phase) {
        return Vec::new();
    }
    let p0 = done
        .p0input
        .clone()
        .or_else(|| done.input.clone())
        .unwrap_or_default();
    let phase = done.phase + 1;
    let is_map = shape.is_map.get(phase as usize).copied().unwrap_or(false);
    done.outputs
        .iter()
        .enumerate()
        .map(|(i, out)| {
            let task_id = task_id(shape.job_id, &[&done.task_id, &i.to_string()]);
            if is_map {
                Item::Map {
                    phase,
                    task_id,
                    input: out.path.clone(),
                    p0input: p0.clone(),
                }
            } else {
                Item::ReduceInput {
                    phase,
                    reducer: out.reducer.unwrap_or(0),
                    task_id,
                    input: out.path.clone(),
                    p0input: p0.clone(),
                }
            }
        })
        .collect()
}
