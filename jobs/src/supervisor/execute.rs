//! The actor's side of the scheduler: an event goes in (with the
//! registry's current view of live nodes first), and each command that
//! comes back is carried out here: inputs looked up, tasks handed to the
//! agents, reducers fed, error records journalled, tasks stopped, the job
//! archived. Spawned work reports back on the actor's event channel.

use super::actor::Actor;
use super::fault::TaskMeta;
use super::records::DoneRecord;
use super::scheduler::{Command, Event};
use super::task::{self, Finish};
use super::work::{Item, MapTask};
use crate::agent::wire::{BatchItem, ImageRef, NodeAddr, ReduceInputs, TaskKind, TaskRequest};
use crate::model::naming::{map_output_base, reduce_output_base};
use crate::model::PhaseExt;
use std::time::Duration;
use tokio::sync::mpsc;

impl Actor {
    /// Hands `ev` to the scheduler and carries out what it asks.
    pub(crate) async fn step(&mut self, ev: Event) {
        if let Event::TaskDone { task_id, .. }
        | Event::TaskLost { task_id, .. }
        | Event::BatchFinished { task_id, .. } = &ev
        {
            // A reducer's stream ends with it (a retry gets a new one).
            self.feeds.remove(task_id);
        }
        self.refresh_live().await;
        let cmds = self.sched.on(ev);
        self.rec.job.stats = self.sched.stats();
        for cmd in cmds {
            self.execute(cmd).await;
        }
    }

    /// Tells the scheduler the registry's view of live nodes (as the
    /// namespace caches it; an error keeps the last view).
    async fn refresh_live(&mut self) {
        match self.ctx.ns.live_nodes().await {
            Ok(live) => {
                self.sched.on(Event::NodesChanged { live });
            }
            Err(e) => tracing::warn!(error = %e, "reading the node registry"),
        }
    }

    async fn execute(&mut self, cmd: Command) {
        match cmd {
            Command::Resolve { item, after } => self.spawn_resolve(item, after),
            Command::Dispatch {
                task,
                node,
                replicas,
            } => self.dispatch_map(task, node, replicas),
            Command::DispatchBatch {
                batch_id,
                tasks,
                node,
                replicas,
            } => self.dispatch_batch(batch_id, tasks, node, replicas),
            Command::StartReducer {
                task_id,
                phase,
                reducer,
                retries,
                node,
                replicas,
                inputs,
                end,
            } => {
                let first = ReduceInputs { inputs, end };
                self.start_reducer(task_id, (phase, reducer, retries), node, replicas, first);
            }
            Command::FeedReducer {
                task_id,
                inputs,
                end,
            } => {
                if let Some(feed) = self.feeds.get(&task_id) {
                    let _ = feed.send(ReduceInputs { inputs, end });
                }
            }
            Command::FailTask(done) => self.record_done(*done),
            Command::AbortLocal => self.tasks.abort_all(),
            Command::Forget { task_id, node } => {
                let agent = self.ctx.agent.clone();
                tokio::spawn(async move { agent.forget(&node.url, &task_id).await });
            }
            Command::StopStale { task_id, node } => {
                self.ctx.agent.forget(&node.url, &task_id).await;
            }
            Command::Archive => self.finish().await,
        }
    }

    fn spawn_resolve(&mut self, item: Item, delay: Duration) {
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

    /// Journals an error record the scheduler made, then reports it.
    fn record_done(&mut self, done: DoneRecord) {
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
            let _ = events.send(Event::TaskDone {
                task_id,
                done: Box::new(done),
            });
        });
    }

    /// Starts reducer `task_id` with its inputs so far; later ones go down
    /// its stream ([`Command::FeedReducer`]).
    fn start_reducer(
        &mut self,
        task_id: String,
        (phase, reducer, retries): (u32, u32, u32),
        node: NodeAddr,
        replicas: Vec<NodeAddr>,
        first: ReduceInputs,
    ) {
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(first);
        self.feeds.insert(task_id.clone(), tx);
        let meta = TaskMeta {
            phase,
            input: None,
            reducer: Some(reducer),
            p0input: None,
            retries,
        };
        let base = reduce_output_base(&self.rec.login, &self.rec.job.id, phase);
        let kind = TaskKind::Reduce { reducer };
        let Some(req) = self.request(phase, &task_id, kind, replicas, base) else {
            return self.no_phase(task_id, phase);
        };
        self.spawn_task(node, req, meta, Some(rx));
    }

    fn dispatch_map(&mut self, t: MapTask, node: NodeAddr, replicas: Vec<NodeAddr>) {
        let base = map_output_base(&self.rec.login, &self.rec.job.id, &t.input.path, t.phase);
        let kind = TaskKind::Map {
            input: t.input.clone(),
        };
        let Some(req) = self.request(t.phase, &t.task_id, kind, replicas, base) else {
            return self.no_phase(t.task_id, t.phase);
        };
        self.spawn_task(node, req, t.meta(), None);
    }

    fn dispatch_batch(
        &mut self,
        batch_id: String,
        tasks: Vec<MapTask>,
        node: NodeAddr,
        replicas: Vec<NodeAddr>,
    ) {
        let Some(phase) = tasks.first().map(|t| t.phase) else {
            return;
        };
        let items = tasks
            .iter()
            .map(|t| BatchItem {
                task_id: t.task_id.clone(),
                input: t.input.clone(),
                output_base: map_output_base(
                    &self.rec.login,
                    &self.rec.job.id,
                    &t.input.path,
                    t.phase,
                ),
            })
            .collect();
        let kind = TaskKind::MapBatch { items };
        let Some(req) = self.request(phase, &batch_id, kind, replicas, String::new()) else {
            return self.no_phase(batch_id, phase);
        };
        let metas = tasks
            .iter()
            .map(|t| (t.task_id.clone(), t.meta()))
            .collect();
        let ctx = self.ctx.clone();
        let events = self.events.clone();
        self.tasks.spawn(async move {
            let finish = task::run_batch(ctx, node, req, metas).await;
            let _ = events.send(finished(batch_id, finish));
        });
    }

    /// The agent's request for a task of `phase`; `None` if the job has no
    /// such phase (the scheduler never dispatches one).
    fn request(
        &self,
        phase: u32,
        task_id: &str,
        kind: TaskKind,
        replicas: Vec<NodeAddr>,
        base: String,
    ) -> Option<TaskRequest> {
        let spec = self.rec.job.phases.get(phase as usize)?;
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
            api_url: self.ctx.api_url.clone(),
        })
    }

    fn spawn_task(
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
            let _ = events.send(finished(task_id, finish));
        });
    }

    /// A task the agent cannot be asked to run: reported lost, so the
    /// scheduler does not wait for it forever.
    fn no_phase(&self, task_id: String, phase: u32) {
        let reason = format!("phase {phase} is not in the job");
        let _ = self.events.send(Event::TaskLost { task_id, reason });
    }
}

/// A task's end, as the scheduler hears it.
fn finished(task_id: String, finish: Finish) -> Event {
    match finish {
        Finish::Done(done) => Event::TaskDone { task_id, done },
        Finish::Lost(reason) => Event::TaskLost { task_id, reason },
        Finish::Batch(results) => Event::BatchFinished { task_id, results },
    }
}
