//! Scheduling inside a job: items entering a phase are resolved to their
//! blobs; map tasks go to a node holding their input (`placing.rs`),
//! reducers are fed (`reducers.rs`), results settle or retry
//! (`settling.rs`).

use super::actor::{Actor, Event, Item, MapTask};
use super::fault::{Fault, JobFault, TaskMeta};
use super::records::DoneRecord;
use super::task::Finish;
use crate::agent::wire::{InputObject, ReduceInputs};
use crate::model::JobErrorCode;
use std::time::Duration;

impl Actor {
    /// Starts resolving an item that entered a phase.
    pub(crate) fn add_item(&mut self, item: Item) {
        if let Some(p) = self.phases.get_mut(item.phase() as usize) {
            p.open += 1;
        }
        self.spawn_resolve(item, Duration::ZERO);
    }

    pub(crate) fn spawn_resolve(&mut self, item: Item, delay: Duration) {
        let ctx = self.ctx.clone();
        let events = self.events.clone();
        let permits = self.resolvers.clone();
        self.tasks.spawn(async move {
            tokio::time::sleep(delay).await;
            let _permit = permits.acquire_owned().await;
            let input = match &item {
                Item::Map { input, .. } | Item::ReduceInput { input, .. } => input.clone(),
            };
            let result = ctx.ns.resolve(&ctx.login, &input).await;
            let _ = events.send(Event::Resolved { item, result });
        });
    }

    pub(crate) async fn event(&mut self, ev: Event) {
        match ev {
            Event::Resolved { item, result } => self.resolved(item, result),
            Event::Finished { task_id, finish } => self.finished(task_id, finish),
        }
        self.progress().await;
    }

    pub(crate) fn resolved(&mut self, item: Item, result: Result<InputObject, Fault>) {
        let input = match result {
            Ok(input) => input,
            Err(Fault::Internal(e)) => {
                tracing::warn!(job = %self.job().id, error = %e, "resolving a task input; retrying");
                self.spawn_resolve(item, Duration::from_secs(1));
                return;
            }
            Err(Fault::Job(fault)) => {
                self.settle_with_error(&item, fault);
                return;
            }
        };
        match item {
            Item::Map {
                phase,
                task_id,
                p0input,
                ..
            } => {
                self.queue.push_back(MapTask {
                    phase,
                    task_id,
                    input,
                    p0input,
                    tried: Vec::new(),
                    retries: 0,
                });
                self.pump();
            }
            Item::ReduceInput { phase, reducer, .. } => {
                let count = self
                    .phases
                    .get(phase as usize)
                    .map_or(0, |p| p.reducers.len());
                if reducer as usize >= count {
                    let msg =
                        format!("reducer {reducer} does not exist (phase {phase} has {count})");
                    let fault = JobFault {
                        code: JobErrorCode::InvalidArgumentError,
                        message: msg,
                    };
                    self.settle_with_error(&item, fault);
                    return;
                }
                if let Some(p) = self.phases.get_mut(phase as usize) {
                    p.open = p.open.saturating_sub(1);
                    if let Some(r) = p.reducers.get_mut(reducer as usize) {
                        r.inputs.push(input.clone());
                        if let Some(feed) = &r.feed {
                            let _ = feed.send(ReduceInputs {
                                inputs: vec![input],
                                end: false,
                            });
                        }
                    }
                }
                self.start_reducer(phase, reducer);
            }
        }
    }

    /// An item that fails before any task runs: its error is recorded (on
    /// the metadata tier first, so a restart sees it) and it settles.
    pub(crate) fn settle_with_error(&mut self, item: &Item, fault: JobFault) {
        let (phase, task_id, input, p0input) = match item {
            Item::Map {
                phase,
                task_id,
                input,
                p0input,
            }
            | Item::ReduceInput {
                phase,
                task_id,
                input,
                p0input,
                ..
            } => (*phase, task_id.clone(), input.clone(), p0input.clone()),
        };
        let meta = TaskMeta {
            phase,
            input: Some(input.clone()),
            reducer: None,
            p0input: Some(p0input.clone()),
            retries: 0,
        };
        let done = DoneRecord {
            phase,
            task_id: task_id.clone(),
            input: Some(input),
            reducer: None,
            p0input: Some(p0input),
            outputs: Vec::new(),
            error: Some(meta.job_error(fault, None)),
            retries: 0,
            node: None,
            ran: false,
        };
        self.record_done(done);
    }

    /// Persists a done record the actor made itself, then reports it.
    pub(crate) fn record_done(&mut self, done: DoneRecord) {
        let ctx = self.ctx.clone();
        let events = self.events.clone();
        self.tasks.spawn(async move {
            loop {
                match ctx.journal.put_done(&ctx.job_id, &done).await {
                    Ok(()) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "saving a job error; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
            let task_id = done.task_id.clone();
            let _ = events.send(Event::Finished {
                task_id,
                finish: Finish::Done(Box::new(done)),
            });
        });
    }
}
