//! Placing map tasks: on the least loaded live node holding the input,
//! within the per-node slots, several small ones to a container when tasks
//! queue up.

use super::fault::JobFault;
use super::plan::{self, MapPlace};
use super::scheduler::{Command, Scheduler};
use super::work::{MapTask, Running};
use crate::agent::wire::NodeAddr;
use crate::model::JobErrorCode;
use std::collections::VecDeque;

/// Most queued map tasks looked at per scheduling pass.
const SCAN: usize = 2000;

impl Scheduler {
    /// Places queued map tasks while nodes have free slots.
    pub(super) fn pump(&mut self) {
        // The registry view of the last `NodesChanged`: a blocking read
        // here would stall the job, so scheduling uses what it last saw.
        let live = self.live.clone();
        let slots = self.cfg.slots_per_node;
        let mut kept = VecDeque::new();
        let mut scanned = 0;
        while let Some(t) = self.queue.pop_front() {
            scanned += 1;
            if scanned > SCAN {
                kept.push_back(t);
                break;
            }
            let holders = t.input.blob.as_ref().map(|b| b.nodes.as_slice());
            match plan::place_map(&live, holders, &t.tried, &self.load, slots, &t.input.path) {
                MapPlace::Wait | MapPlace::Busy => kept.push_back(t),
                MapPlace::Fail(message) => {
                    let item = t.item();
                    let code = JobErrorCode::ServiceUnavailableError;
                    self.settle_with_error(&item, JobFault { code, message });
                }
                MapPlace::Node(node) => {
                    let batch = self.take_batch(&t, &node, live.len());
                    if batch.is_empty() {
                        self.dispatch_map(t, node);
                    } else {
                        let mut tasks = vec![t];
                        tasks.extend(batch);
                        self.dispatch_batch(tasks, node);
                    }
                }
            }
        }
        kept.append(&mut self.queue);
        self.queue = kept;
    }

    /// Queued tasks to run in one container with `first` on `node`: small
    /// inputs of the same phase that `node` holds, as many as
    /// [`plan::batch_extra`] allows.
    fn take_batch(&mut self, first: &MapTask, node: &NodeAddr, live: usize) -> Vec<MapTask> {
        let small = |t: &MapTask| plan::batchable(t.input.blob.as_ref().map(|b| b.size));
        if !small(first) {
            return Vec::new();
        }
        let want = plan::batch_extra(self.queue.len(), live, self.cfg.slots_per_node);
        if want == 0 {
            return Vec::new();
        }
        let holds = |t: &MapTask| {
            t.phase == first.phase
                && small(t)
                && !t.tried.contains(&node.id)
                && t.input
                    .blob
                    .as_ref()
                    .is_none_or(|b| b.nodes.iter().any(|h| h.id == node.id))
        };
        let mut batch = Vec::new();
        let mut rest = VecDeque::with_capacity(self.queue.len());
        while let Some(t) = self.queue.pop_front() {
            if batch.len() < want && holds(&t) {
                batch.push(t);
            } else {
                rest.push_back(t);
            }
        }
        self.queue = rest;
        batch
    }

    fn dispatch_batch(&mut self, tasks: Vec<MapTask>, node: NodeAddr) {
        let Some(first) = tasks.first() else { return };
        if first.phase as usize >= self.is_map.len() {
            return;
        }
        // Named by its tasks and their attempts, so a re-run differs.
        let mut parts = vec!["batch"];
        parts.extend(tasks.iter().map(|t| t.task_id.as_str()));
        let retries = tasks.iter().map(|t| t.retries).sum::<u32>().to_string();
        parts.push(&retries);
        let batch_id = super::records::task_id(&self.job_id, &parts);
        self.stats.tasks += tasks.iter().filter(|t| t.retries == 0).count() as u64;
        *self.load.entry(node.id.clone()).or_default() += 1;
        self.running.insert(
            batch_id.clone(),
            Running::Batch(tasks.clone(), node.clone()),
        );
        let replicas = self.replicas(&node);
        self.out.push(Command::DispatchBatch {
            batch_id,
            tasks,
            node,
            replicas,
        });
    }

    fn dispatch_map(&mut self, t: MapTask, node: NodeAddr) {
        if let Some(Some(fault)) = self.phase_errors.get(t.phase as usize).cloned() {
            self.settle_with_error(&t.item(), fault);
            return;
        }
        if t.phase as usize >= self.is_map.len() {
            return;
        }
        if t.retries == 0 {
            self.stats.tasks += 1;
        }
        *self.load.entry(node.id.clone()).or_default() += 1;
        self.running
            .insert(t.task_id.clone(), Running::Map(t.clone(), node.clone()));
        let replicas = self.replicas(&node);
        self.out.push(Command::Dispatch {
            task: t,
            node,
            replicas,
        });
    }
}
