//! Where work goes next: a job input enters phase 0, and a settled task's
//! outputs enter the next phase (a map task, or input of the reducer the
//! task routed it to) or, from the last phase, become the job's outputs.
//! Replay after a restart routes the same way, so a rebuilt job matches.

use super::actor::{push_tail, Actor, Item};
use super::records::DoneRecord;

impl Actor {
    /// Phase 0's item for job input number `seq`.
    pub(crate) fn input_item(&self, seq: u64, path: String) -> Item {
        let task_id = super::records::task_id(&self.rec.job.id, &["in", &seq.to_string()]);
        match self.rec.job.phases.first() {
            Some(p) if !p.phase_type.is_map() => Item::ReduceInput {
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

    /// Counts a settled task (or input error) into stats and the lists,
    /// and returns the items its outputs start in the next phase.
    pub(crate) fn account(&mut self, done: &DoneRecord, replaying: bool) -> Vec<Item> {
        let stats = &mut self.rec.job.stats;
        if done.ran {
            stats.tasks_done += 1;
            if replaying {
                stats.tasks += 1;
            }
        }
        if replaying {
            stats.retries += u64::from(done.retries);
        }
        if let Some(err) = &done.error {
            stats.errors += 1;
            push_tail(&mut self.tails.errors, err.clone());
            if let Some(input) = done.p0input.clone().or_else(|| done.input.clone()) {
                push_tail(&mut self.tails.failures, input);
            }
        }
        let p0 = done
            .p0input
            .clone()
            .or_else(|| done.input.clone())
            .unwrap_or_default();
        let mut next = Vec::new();
        for (i, out) in done.outputs.iter().enumerate() {
            if done.phase >= self.last_phase() {
                self.rec.job.stats.outputs += 1;
                push_tail(&mut self.tails.outputs, out.path.clone());
                continue;
            }
            let phase = done.phase + 1;
            let task_id =
                super::records::task_id(&self.rec.job.id, &[&done.task_id, &i.to_string()]);
            let is_map = self
                .rec
                .job
                .phases
                .get(phase as usize)
                .is_some_and(|p| p.phase_type.is_map());
            next.push(if is_map {
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
            });
        }
        next
    }
}
