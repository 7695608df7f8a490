//! Reducers: started on the least loaded live node, fed their inputs as
//! they come, ended when every earlier phase is done; and the job's end.

use super::fault::TaskMeta;
use super::plan::{self, PhaseView};
use super::records::DoneRecord;
use super::scheduler::{Command, Scheduler};
use super::work::{ReducerState, Running};
use crate::agent::wire::InputObject;

impl Scheduler {
    /// A reduce input settles into its reducer: kept (a retry is fed them
    /// all again), fed now if the reducer runs, or the reducer started.
    pub(super) fn reduce_input(&mut self, phase: u32, reducer: u32, input: InputObject) {
        let Some(p) = self.phases.get_mut(phase as usize) else {
            return;
        };
        p.open = p.open.saturating_sub(1);
        let Some(r) = p.reducers.get_mut(reducer as usize) else {
            return;
        };
        r.inputs.push(input.clone());
        if r.feeding {
            let task_id = r.task_id.clone();
            self.out.push(Command::FeedReducer {
                task_id,
                inputs: vec![input],
                end: false,
            });
        }
        self.start_reducer(phase, reducer);
    }

    /// Starts reducer `r` of `phase` if it is not running, on the least
    /// loaded live node it has not failed on, with every input it has so
    /// far.
    pub(super) fn start_reducer(&mut self, phase: u32, r: u32) {
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
            // Running until its error record is saved and reported.
            if let Some(red) = self.reducer_mut(phase, r) {
                red.state = ReducerState::Running;
            }
            self.out.push(Command::FailTask(Box::new(done)));
            return;
        }
        let Some(node) = plan::place_reducer(&self.live, &red.tried, &self.load) else {
            // No live node: the next tick tries again.
            return;
        };
        let task_id = red.task_id.clone();
        let (inputs, end, retries, counted) =
            (red.inputs.clone(), red.ended, red.retries, red.counted);
        if let Some(red) = self.reducer_mut(phase, r) {
            red.state = ReducerState::Running;
            red.feeding = true;
            red.counted = true;
        }
        if !counted {
            self.stats.tasks += 1;
        }
        *self.load.entry(node.id.clone()).or_default() += 1;
        self.running.insert(
            task_id.clone(),
            Running::Reduce {
                phase,
                reducer: r,
                node: node.clone(),
            },
        );
        let replicas = self.replicas(&node);
        self.out.push(Command::StartReducer {
            task_id,
            phase,
            reducer: r,
            retries,
            node,
            replicas,
            inputs,
            end,
        });
    }

    /// Ends reduce phases whose inputs are complete, and the job when its
    /// last phase is complete.
    pub(super) fn progress(&mut self) {
        if self.over {
            return;
        }
        let views: Vec<PhaseView> = self
            .phases
            .iter()
            .zip(&self.is_map)
            .map(|(run, is_map)| PhaseView {
                is_map: *is_map,
                open: run.open,
                reducers: run
                    .reducers
                    .iter()
                    .map(|r| (r.ended, r.state == ReducerState::Done))
                    .collect(),
            })
            .collect();
        let plan = plan::progress(&views, self.input_done);
        for (p, r) in plan.end {
            let Some(red) = self.reducer_mut(p, r) else {
                continue;
            };
            red.ended = true;
            if red.feeding {
                let task_id = red.task_id.clone();
                self.out.push(Command::FeedReducer {
                    task_id,
                    inputs: Vec::new(),
                    end: true,
                });
            }
            self.start_reducer(p, r);
        }
        if plan.done && self.running.is_empty() {
            self.over = true;
            self.out.push(Command::Archive);
        }
    }

    /// Places what could not be placed when it came: queued map tasks,
    /// and reducers that have input (or whose input ended) but no node.
    pub(super) fn retry_waiting(&mut self) {
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
    }
}
