//! Applying routing to the running job: a job input enters phase 0, and a
//! settled task's outputs enter the next phase or, from the last phase,
//! become the job's outputs. The decisions are pure (`flow.rs`); this
//! counts stats and the `live/*` lists.

use super::actor::{push_tail, Actor, Item};
use super::flow::{self, Shape};
use super::records::DoneRecord;

impl Actor {
    /// Per phase: whether it is a map phase.
    pub(crate) fn phase_kinds(&self) -> Vec<bool> {
        self.rec
            .job
            .phases
            .iter()
            .map(|p| p.phase_type.is_map())
            .collect()
    }

    /// Phase 0's item for job input number `seq`.
    pub(crate) fn input_item(&self, seq: u64, path: String) -> Item {
        let kinds = self.phase_kinds();
        let shape = Shape {
            job_id: &self.rec.job.id,
            is_map: &kinds,
        };
        flow::input_item(shape, seq, path)
    }

    /// Counts a settled task (or input error) into stats and the lists,
    /// and returns the items its outputs start in the next phase.
    pub(crate) fn account(&mut self, done: &DoneRecord, replaying: bool) -> Vec<Item> {
        self.count(done, replaying);
        let kinds = self.phase_kinds();
        let shape = Shape {
            job_id: &self.rec.job.id,
            is_map: &kinds,
        };
        flow::next_items(shape, done)
    }

    /// Counts a settled task (or input error) into stats and the lists
    /// (and its outputs, from the last phase, as the job's).
    pub(crate) fn count(&mut self, done: &DoneRecord, replaying: bool) {
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
        if done.phase >= self.last_phase() {
            for out in &done.outputs {
                self.rec.job.stats.outputs += 1;
                push_tail(&mut self.tails.outputs, out.path.clone());
            }
        }
    }
}
