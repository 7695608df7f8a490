//! Reducers: started on the least loaded live node, fed their inputs as
//! they come, ended when every earlier phase is done; and the job's end.

use super::actor::{Actor, ReducerState, Running};
use super::records::DoneRecord;
use super::task::{self, TaskMeta};
use super::Target;
use jobs::agent::wire::{ReduceInputs, TaskKind};
use jobs::model::JobState;
use tokio::sync::mpsc;

impl Actor {
    /// Starts reducer `r` of `phase` if it is not running, on the least
    /// loaded live node it has not failed on, and sends it every input it
    /// has so far.
    pub fn start_reducer(&mut self, phase: u32, r: u32) {
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
        if let Some(Some((code, msg))) = self.phase_errors.get(phase as usize).cloned() {
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
                error: Some(task::job_error(&meta, code, msg, None)),
                retries: 0,
                node: None,
                ran: false,
            };
            if let Some(red) = self
                .phases
                .get_mut(phase as usize)
                .and_then(|p| p.reducers.get_mut(r as usize))
            {
                red.state = ReducerState::Running;
            }
            self.record_done(done);
            return;
        }
        let candidates: Vec<&Target> = {
            let fresh: Vec<&Target> = live.iter().filter(|n| !red.tried.contains(&n.id)).collect();
            if fresh.is_empty() {
                live.iter().collect()
            } else {
                fresh
            }
        };
        let Some(node) = candidates
            .into_iter()
            .min_by_key(|n| self.load.get(&n.id).copied().unwrap_or(0))
            .cloned()
        else {
            // No live node: try again on the next event.
            return;
        };
        let base =
            jobs::model::naming::reduce_output_base(&self.rec.login, &self.rec.job.id, phase);
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
        if let Some(red) = self
            .phases
            .get_mut(phase as usize)
            .and_then(|p| p.reducers.get_mut(r as usize))
        {
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
    pub async fn progress(&mut self) {
        if self.rec.job.state == JobState::Done {
            return;
        }
        self.refresh_live().await;
        let mut upstream_done = self.rec.job.input_done;
        let n = self.phases.len();
        for p in 0..n {
            let is_map = self
                .rec
                .job
                .phases
                .get(p)
                .is_some_and(|ph| ph.phase_type.is_map());
            let open = self.phases.get(p).map_or(0, |ph| ph.open);
            if !is_map && upstream_done && open == 0 {
                let count = self.phases.get(p).map_or(0, |ph| ph.reducers.len());
                for r in 0..count {
                    let Some(red) = self.phases.get_mut(p).and_then(|ph| ph.reducers.get_mut(r))
                    else {
                        continue;
                    };
                    if red.ended {
                        continue;
                    }
                    red.ended = true;
                    if let Some(feed) = &red.feed {
                        let _ = feed.send(ReduceInputs {
                            inputs: Vec::new(),
                            end: true,
                        });
                    }
                    self.start_reducer(p as u32, r as u32);
                }
            }
            let reducers_done = self
                .phases
                .get(p)
                .is_none_or(|ph| ph.reducers.iter().all(|r| r.state == ReducerState::Done));
            upstream_done = upstream_done && open == 0 && reducers_done;
        }
        if upstream_done && self.running.is_empty() {
            self.finish().await;
        }
    }

    /// Places what could not be placed when it came: queued map tasks,
    /// and reducers that have input (or whose input ended) but no node.
    pub async fn retry_waiting(&mut self) {
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
    pub async fn refresh_live(&mut self) {
        match self.ctx.st.store.placement().live_targets().await {
            Ok(live) => self.live = live.into_iter().map(Target::from).collect(),
            Err(e) => tracing::warn!(error = %e, "reading the node registry"),
        }
    }
}
