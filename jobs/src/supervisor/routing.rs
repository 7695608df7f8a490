//! Accounting for settled work: a task's (or an input error's) stats and
//! `live/*` entries, and the items its outputs start in the next phase
//! (from the last phase they are the job's outputs). Where work goes is
//! decided by `flow.rs`, shared with the replay plan.

use super::flow;
use super::records::DoneRecord;
use super::scheduler::Scheduler;
use super::work::{push_tail, Item};

impl Scheduler {
    /// Counts a settled task (or input error) into stats and the lists,
    /// and returns the items its outputs start in the next phase.
    pub(super) fn account(&mut self, done: &DoneRecord) -> Vec<Item> {
        self.count(done, false);
        flow::next_items(self.shape(), done)
    }

    /// Counts a settled task (or input error) into stats and the lists
    /// (and its outputs, from the last phase, as the job's). Replaying, it
    /// also counts the dispatch and retries the record stands for.
    pub(super) fn count(&mut self, done: &DoneRecord, replaying: bool) {
        let stats = &mut self.stats;
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
                self.stats.outputs += 1;
                push_tail(&mut self.tails.outputs, out.path.clone());
            }
        }
    }
}
