//! A task's end: its outputs enter the next phase, or, lost to a node or
//! infrastructure failure, it runs again elsewhere.

use super::fault::{JobFault, TaskMeta};
use super::plan::{self, Retry};
use super::records::DoneRecord;
use super::scheduler::{Command, Scheduler};
use super::task::Finish;
use super::work::{MapTask, ReducerState, Running};
use crate::agent::wire::NodeAddr;
use crate::model::JobErrorCode;

impl Scheduler {
    /// A task (or batch) ended: its slot frees for queued work.
    pub(super) fn finished(&mut self, task_id: String, finish: Finish) {
        let running = self.running.remove(&task_id);
        if let Some(r) = &running {
            if let Some(l) = self.load.get_mut(&r.node().id) {
                *l = l.saturating_sub(1);
            }
        }
        if let Some(Running::Batch(tasks, node)) = running {
            self.batch_finished(tasks, node, finish);
            self.pump();
            return;
        }
        self.settle(running, finish);
        self.pump();
    }

    /// Splits a batch's result into its tasks'.
    fn batch_finished(&mut self, tasks: Vec<MapTask>, node: NodeAddr, finish: Finish) {
        match finish {
            Finish::Batch(results) => {
                let mut tasks = tasks;
                for (id, f) in results {
                    if let Some(i) = tasks.iter().position(|t| t.task_id == id) {
                        let t = tasks.swap_remove(i);
                        self.settle(Some(Running::Map(t, node.clone())), f);
                    }
                }
                // Tasks the result did not mention are lost.
                for t in tasks {
                    let reason = format!("node {} sent no result for it", node.id);
                    self.settle(Some(Running::Map(t, node.clone())), Finish::Lost(reason));
                }
            }
            other => {
                let reason = match other {
                    Finish::Lost(r) => r,
                    _ => format!("node {} answered a batch with a single result", node.id),
                };
                for t in tasks {
                    self.settle(
                        Some(Running::Map(t, node.clone())),
                        Finish::Lost(reason.clone()),
                    );
                }
            }
        }
    }

    /// Counts a task's end: its outputs enter the next phase, or it is
    /// retried.
    fn settle(&mut self, running: Option<Running>, finish: Finish) {
        match finish {
            Finish::Done(done) => {
                let phase = done.phase;
                let reducer = match &running {
                    Some(Running::Reduce { reducer, .. }) => Some(*reducer),
                    _ => done.reducer,
                };
                match reducer {
                    Some(reducer) => {
                        if let Some(r) = self.reducer_mut(phase, reducer) {
                            r.state = ReducerState::Done;
                            r.feeding = false;
                        }
                    }
                    None => {
                        if let Some(p) = self.phases.get_mut(phase as usize) {
                            p.open = p.open.saturating_sub(1);
                        }
                    }
                }
                for item in self.account(&done) {
                    self.add_item(item);
                }
            }
            Finish::Lost(reason) => self.lost(running, reason),
            Finish::Batch(results) => {
                // Only a batch's poller sends these; a stray one settles
                // its tasks without their running entries.
                for (_, f) in results {
                    self.settle(None, f);
                }
            }
        }
    }

    /// A task lost to a node or infrastructure failure runs again on
    /// another node, up to `max_retries` times.
    fn lost(&mut self, running: Option<Running>, reason: String) {
        let Some(running) = running else { return };
        tracing::warn!(job = %self.job_id, %reason, "task lost");
        match running {
            Running::Map(mut t, node) => {
                if plan::retry(t.retries, self.cfg.max_retries) == Retry::GiveUp {
                    let item = t.item();
                    let msg = format!("task failed {} times; last: {reason}", t.retries + 1);
                    let fault = JobFault {
                        code: JobErrorCode::InternalError,
                        message: msg,
                    };
                    self.settle_with_error(&item, fault);
                    return;
                }
                t.retries += 1;
                t.tried.push(node.id);
                self.stats.retries += 1;
                self.queue.push_front(t);
            }
            Running::Batch(tasks, node) => {
                for t in tasks {
                    self.lost(Some(Running::Map(t, node.clone())), reason.clone());
                }
            }
            Running::Reduce {
                phase,
                reducer,
                node,
            } => {
                let max = self.cfg.max_retries;
                let Some(r) = self.reducer_mut(phase, reducer) else {
                    return;
                };
                r.feeding = false;
                if plan::retry(r.retries, max) == Retry::GiveUp {
                    r.state = ReducerState::Done;
                    let done = DoneRecord {
                        phase,
                        task_id: r.task_id.clone(),
                        input: None,
                        reducer: Some(reducer),
                        p0input: None,
                        outputs: Vec::new(),
                        error: Some(
                            TaskMeta {
                                phase,
                                input: None,
                                reducer: Some(reducer),
                                p0input: None,
                                retries: r.retries,
                            }
                            .job_error(
                                JobFault {
                                    code: JobErrorCode::InternalError,
                                    message: format!(
                                        "reducer failed {} times; last: {reason}",
                                        r.retries + 1
                                    ),
                                },
                                None,
                            ),
                        ),
                        retries: r.retries,
                        node: Some(node.id),
                        ran: true,
                    };
                    // Keep it Running until its record is saved and reported.
                    r.state = ReducerState::Running;
                    self.out.push(Command::FailTask(Box::new(done)));
                    return;
                }
                r.retries += 1;
                r.tried.push(node.id);
                r.state = ReducerState::Idle;
                self.stats.retries += 1;
                self.start_reducer(phase, reducer);
            }
        }
    }
}
