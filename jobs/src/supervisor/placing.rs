//! Placing map tasks: on the least loaded live node holding the input,
//! within the per-node slots, several small ones to a container when tasks
//! queue up.

use super::actor::{Actor, Event, MapTask, Running};
use super::fault::{JobFault, TaskMeta};
use super::plan::{self, MapPlace};
use super::task;
use crate::agent::wire::{BatchItem, ImageRef, NodeAddr, ReduceInputs, TaskKind, TaskRequest};
use crate::model::{JobErrorCode, Phase, PhaseExt};
use tokio::sync::mpsc;

/// Most queued map tasks looked at per scheduling pass.
const SCAN: usize = 2000;

impl Actor {
    /// Live nodes, from the placement's (shortly cached) registry view.
    pub(crate) fn live_nodes(&self) -> Vec<NodeAddr> {
        // The cache refreshes at most every 500 ms; a blocking read here
        // would stall the job, so scheduling uses what the last read saw.
        self.live.clone()
    }

    /// Places queued map tasks while nodes have free slots.
    pub(crate) fn pump(&mut self) {
        let live = self.live_nodes();
        let slots = self.cfg.slots_per_node;
        let mut kept = std::collections::VecDeque::new();
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
                        self.dispatch_map(t, node, &live);
                    } else {
                        let mut tasks = vec![t];
                        tasks.extend(batch);
                        self.dispatch_batch(tasks, node, &live);
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
    pub(crate) fn take_batch(
        &mut self,
        first: &MapTask,
        node: &NodeAddr,
        live: usize,
    ) -> Vec<MapTask> {
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
        let mut rest = std::collections::VecDeque::with_capacity(self.queue.len());
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

    pub(crate) fn dispatch_batch(
        &mut self,
        tasks: Vec<MapTask>,
        node: NodeAddr,
        live: &[NodeAddr],
    ) {
        let Some(first) = tasks.first() else { return };
        let phase = first.phase;
        let ids: Vec<&str> = tasks.iter().map(|t| t.task_id.as_str()).collect();
        let mut parts = vec!["batch"];
        parts.extend(ids.iter().copied());
        let retries = tasks.iter().map(|t| t.retries).sum::<u32>().to_string();
        parts.push(&retries);
        let batch_id = super::records::task_id(&self.rec.job.id, &parts);
        let items = tasks
            .iter()
            .map(|t| BatchItem {
                task_id: t.task_id.clone(),
                input: t.input.clone(),
                output_base: crate::model::naming::map_output_base(
                    &self.rec.login,
                    &self.rec.job.id,
                    &t.input.path,
                    t.phase,
                ),
            })
            .collect();
        let kind = TaskKind::MapBatch { items };
        let Some(req) = self.request(phase, &batch_id, kind, &node, live, String::new()) else {
            return;
        };
        let metas = tasks
            .iter()
            .map(|t| (t.task_id.clone(), t.meta()))
            .collect();
        self.rec.job.stats.tasks += tasks.iter().filter(|t| t.retries == 0).count() as u64;
        *self.load.entry(node.id.clone()).or_default() += 1;
        self.running
            .insert(batch_id, Running::Batch(tasks, node.clone()));
        let ctx = self.ctx.clone();
        let events = self.events.clone();
        self.tasks.spawn(async move {
            let task_id = req.task_id.clone();
            let finish = task::run_batch(ctx, node, req, metas).await;
            let _ = events.send(Event::Finished { task_id, finish });
        });
    }

    pub(crate) fn phase_spec(&self, phase: u32) -> Option<Phase> {
        self.rec.job.phases.get(phase as usize).cloned()
    }

    pub(crate) fn request(
        &self,
        phase: u32,
        task_id: &str,
        kind: TaskKind,
        node: &NodeAddr,
        live: &[NodeAddr],
        base: String,
    ) -> Option<TaskRequest> {
        let spec = self.phase_spec(phase)?;
        let copies = self.ctx.ns.copies().max(1);
        let replicas = live
            .iter()
            .filter(|n| n.id != node.id)
            .take(copies - 1)
            .cloned()
            .collect();
        let assets = self.assets.get(phase as usize).cloned().unwrap_or_default();
        Some(TaskRequest {
            task_id: task_id.to_string(),
            job_id: self.rec.job.id.clone(),
            login: self.rec.login.clone(),
            phase,
            kind,
            exec: spec.exec.clone(),
            init: spec.init.clone(),
            image: self
                .images
                .get(phase as usize)
                .cloned()
                .unwrap_or(ImageRef::Default),
            assets,
            memory_mb: spec.memory_mb(),
            disk_gb: spec.disk_gb(),
            output_base: base,
            replicas,
        })
    }

    pub(crate) fn dispatch_map(&mut self, t: MapTask, node: NodeAddr, live: &[NodeAddr]) {
        if let Some(Some(fault)) = self.phase_errors.get(t.phase as usize).cloned() {
            self.settle_with_error(&t.item(), fault);
            return;
        }
        let base = crate::model::naming::map_output_base(
            &self.rec.login,
            &self.rec.job.id,
            &t.input.path,
            t.phase,
        );
        let kind = TaskKind::Map {
            input: t.input.clone(),
        };
        let Some(req) = self.request(t.phase, &t.task_id, kind, &node, live, base) else {
            return;
        };
        let meta = t.meta();
        if t.retries == 0 {
            self.rec.job.stats.tasks += 1;
        }
        *self.load.entry(node.id.clone()).or_default() += 1;
        self.running
            .insert(t.task_id.clone(), Running::Map(t, node.clone()));
        self.spawn_task(node, req, meta, None);
    }

    pub(crate) fn spawn_task(
        &mut self,
        node: NodeAddr,
        req: TaskRequest,
        meta: TaskMeta,
        feed: Option<mpsc::UnboundedReceiver<ReduceInputs>>,
    ) {
        let ctx = self.ctx.clone();
        let events = self.events.clone();
        self.tasks.spawn(async move {
            let task_id = req.task_id.clone();
            let finish = task::run(ctx, node, req, meta, feed).await;
            let _ = events.send(Event::Finished { task_id, finish });
        });
    }
}
