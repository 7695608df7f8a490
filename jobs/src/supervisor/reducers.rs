//! Reducers: started on the least loaded live node, fed their inputs as
//! they come, ended when every earlier phase is done; and the job's end.

use super::actor::{Actor, ReducerState, Running};
use super::fault::TaskMeta;
use super::plan::{self, PhaseView};
use super::records::DoneRecord;
use crate::agent::wire::{ReduceInputs, TaskKind};
use crate::model::JobState;
use tokio::sync::mpsc;

impl Actor {
    /// Starts reducer `r` of `phase` if it is not running, on the least
    /// loaded live node it has not failed on, and sends it every input it
    /// has so far.
    pub(crate) fn start_reducer(&mut self, phase: u32, r: u32) {
        let live = self.live_nodes();
        let Some(red) = self
            .phases
            .get(phase as usize)
            .and_then(|p| p.reducers.get(r as usize))
        else {
            return;
        };
        if red.state != ReducerState::Idle {
            return;
        }
        if let Some(Some(fault)) = self.phase_errors.get(phase as usize).cloned() {
            let meta = TaskMeta {
                phase,
                input: None,
                reducer: Some(r),
                p0input: None,
                retries: 0,
            };
            let done = DoneRecord {
                phase,
                task_id: red.task_id.clone(),
                input: None,
                reducer: Some(r),
                p0input: None,
                outputs: Vec::new(),
                error: Some(meta.job_error(fault, None)),
                retries: 0,
                node: None,
                ran: false,
            };
            if let Some(red) = self.reducer_mut(phase, r) {
                red.state = ReducerState::Running;
            }
            self.record_done(done);
            return;
        }
        let Some(node) = plan::place_reducer(&live, &red.tried, &self.load) else {
            // No live node: try again on the next event.
            return;
        };
        let base =
            crate::model::naming::reduce_output_base(&self.rec.login, &self.rec.job.id, phase);
        let task_id = red.task_id.clone();
        let Some(req) = self.request(
            phase,
            &task_id,
            TaskKind::Reduce { reducer: r },
            &node,
            &live,
            base,
        ) else {
            return;
        };
        let meta = TaskMeta {
            phase,
            input: None,
            reducer: Some(r),
            p0input: None,
            retries: red.retries,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(ReduceInputs {
            inputs: red.inputs.clone(),
            end: red.ended,
        });
        let counted = red.counted;
        if let Some(red) = self.reducer_mut(phase, r) {
            red.state = ReducerState::Running;
            red.feed = Some(tx);
            red.counted = true;
        }
        if !counted {
            self.rec.job.stats.tasks += 1;
        }
        *self.load.entry(node.id.clone()).or_default() += 1;
        self.running.insert(
            task_id,
            Running::Reduce {
                phase,
                reducer: r,
                node: node.clone(),
            },
        );
        self.spawn_task(node, req, meta, Some(rx));
    }

    /// Ends reduce phases whose inputs are complete, and the job when its
    /// last phase is complete.
    pub(crate) async fn progress(&mut self) {
        if self.rec.job.state == JobState::Done {
            return;
        }
        self.refresh_live().await;
        let views: Vec<PhaseView> = self
            .phases
            .iter()
            .zip(&self.rec.job.phases)
            .map(|(run, spec)| PhaseView {
                is_map: spec.phase_type.is_map(),
                open: run.open,
                reducers: run
                    .reducers
                    .iter()
                    .map(|r| (r.ended, r.state == ReducerState::Done))
                    .collect(),
            })
            .collect();
        let plan = plan::progress(&views, self.rec.job.input_done);
        for (p, r) in plan.end {
            let Some(red) = self.reducer_mut(p, r) else {
                continue;
            };
            red.ended = true;
            if let Some(feed) = &red.feed {
                let _ = feed.send(ReduceInputs {
                    inputs: Vec::new(),
                    end: true,
                });
            }
            self.start_reducer(p, r);
        }
        if plan.done && self.running.is_empty() {
            self.finish().await;
        }
    }

    /// Places what could not be placed when it came: queued map tasks,
    /// and reducers that have input (or whose input ended) but no node.
    pub(crate) async fn retry_waiting(&mut self) {
        self.refresh_live().await;
        self.pump();
        let mut idle = Vec::new();
        for (p, ph) in self.phases.iter().enumerate() {
            for (r, red) in ph.reducers.iter().enumerate() {
                if red.state == ReducerState::Idle && (red.ended || !red.inputs.is_empty()) {
                    idle.push((p as u32, r as u32));
                }
            }
        }
        for (p, r) in idle {
            self.start_reducer(p, r);
        }
        self.progress().await;
    }

    /// Refreshes the live node list used by scheduling.
    pub(crate) async fn refresh_live(&mut self) {
        match self.ctx.ns.live_nodes().await {
            Ok(live) => self.live = live,
            Err(e) => tracing::warn!(error = %e, "reading the node registry"),
        }
    }
}
