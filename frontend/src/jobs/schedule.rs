//! Scheduling inside a job: resolving inputs, placing map tasks on a node
//! that holds their input (the least loaded, within the per-node slots),
//! feeding reducers, retrying lost tasks and noticing when phases end.

use super::actor::{Actor, Event, Item, MapTask, ReducerState, ResolveFail, Running};
use super::records::{done_key, DoneRecord};
use super::task::{self, Finish, TaskMeta};
use crate::placement::Target;
use jobs::agent::wire::{
    BatchItem, ImageRef, InputObject, NodeAddr, ReduceInputs, TaskKind, TaskRequest,
};
use jobs::model::{JobErrorCode, JobState, Phase};
use metadata_tier::wire::Condition;
use std::time::Duration;
use tokio::sync::mpsc;

/// Most queued map tasks looked at per scheduling pass.
const SCAN: usize = 2000;
/// Most map tasks run in one container.
const MAX_BATCH: u64 = 16;
/// Largest input of a task that may share a container.
const BATCH_INPUT_MAX: u64 = 1 << 20;

impl Actor {
    /// Starts resolving an item that entered a phase.
    pub fn add_item(&mut self, item: Item) {
        if let Some(p) = self.phases.get_mut(item.phase() as usize) {
            p.open += 1;
        }
        self.spawn_resolve(item, Duration::ZERO);
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
            let result = super::store::resolve(&ctx.st, &ctx.login, &input)
                .await
                .map_err(|e| match e {
                    Ok(job) => ResolveFail::Job(job),
                    Err(ours) => ResolveFail::Ours(ours.to_string()),
                });
            let _ = events.send(Event::Resolved { item, result });
        });
    }

    pub async fn event(&mut self, ev: Event) {
        match ev {
            Event::Resolved { item, result } => self.resolved(item, result),
            Event::Finished { task_id, finish } => self.finished(task_id, finish),
        }
        self.progress().await;
    }

    fn resolved(&mut self, item: Item, result: Result<InputObject, ResolveFail>) {
        let input = match result {
            Ok(input) => input,
            Err(ResolveFail::Ours(e)) => {
                tracing::warn!(job = %self.job().id, error = %e, "resolving a task input; retrying");
                self.spawn_resolve(item, Duration::from_secs(1));
                return;
            }
            Err(ResolveFail::Job(e)) => {
                self.settle_with_error(&item, e.code, e.message);
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
                    self.settle_with_error(&item, JobErrorCode::InvalidArgumentError, msg);
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
    fn settle_with_error(&mut self, item: &Item, code: JobErrorCode, message: String) {
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
            error: Some(task::job_error(&meta, code, message, None)),
            retries: 0,
            node: None,
            ran: false,
        };
        self.record_done(done);
    }

    /// Persists a done record the actor made itself, then reports it.
    fn record_done(&mut self, done: DoneRecord) {
        let ctx = self.ctx.clone();
        let events = self.events.clone();
        self.tasks.spawn(async move {
            let key = done_key(&ctx.job_id, &done.task_id);
            loop {
                let value = serde_json::to_value(&done).unwrap_or_default();
                match ctx.st.meta.put(key.clone(), value, Condition::None).await {
                    Ok(_) => break,
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

    fn finished(&mut self, task_id: String, finish: Finish) {
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
    fn batch_finished(&mut self, tasks: Vec<MapTask>, node: Target, finish: Finish) {
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
                        if let Some(r) = self
                            .phases
                            .get_mut(phase as usize)
                            .and_then(|p| p.reducers.get_mut(reducer as usize))
                        {
                            r.state = ReducerState::Done;
                            r.feed = None;
                        }
                    }
                    None => {
                        if let Some(p) = self.phases.get_mut(phase as usize) {
                            p.open = p.open.saturating_sub(1);
                        }
                    }
                }
                for item in self.account(&done, false) {
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
        tracing::warn!(job = %self.job().id, %reason, "task lost");
        match running {
            Running::Map(mut t, node) => {
                if t.retries >= self.cfg.max_retries {
                    let item = Item::Map {
                        phase: t.phase,
                        task_id: t.task_id.clone(),
                        input: t.input.path.clone(),
                        p0input: t.p0input.clone(),
                    };
                    let msg = format!("task failed {} times; last: {reason}", t.retries + 1);
                    self.settle_with_error(&item, JobErrorCode::InternalError, msg);
                    return;
                }
                t.retries += 1;
                t.tried.push(node.id);
                self.rec.job.stats.retries += 1;
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
                let Some(r) = self
                    .phases
                    .get_mut(phase as usize)
                    .and_then(|p| p.reducers.get_mut(reducer as usize))
                else {
                    return;
                };
                r.feed = None;
                if r.retries >= max {
                    r.state = ReducerState::Done;
                    let done = DoneRecord {
                        phase,
                        task_id: r.task_id.clone(),
                        input: None,
                        reducer: Some(reducer),
                        p0input: None,
                        outputs: Vec::new(),
                        error: Some(task::job_error(
                            &TaskMeta {
                                phase,
                                input: None,
                                reducer: Some(reducer),
                                p0input: None,
                                retries: r.retries,
                            },
                            JobErrorCode::InternalError,
                            format!("reducer failed {} times; last: {reason}", r.retries + 1),
                            None,
                        )),
                        retries: r.retries,
                        node: Some(node.id),
                        ran: true,
                    };
                    // Keep it Running until its record is saved and reported.
                    r.state = ReducerState::Running;
                    self.record_done(done);
                    return;
                }
                r.retries += 1;
                r.tried.push(node.id);
                r.state = ReducerState::Idle;
                self.rec.job.stats.retries += 1;
                self.start_reducer(phase, reducer);
            }
        }
    }

    /// Live nodes, from the placement's (shortly cached) registry view.
    fn live_nodes(&self) -> Vec<Target> {
        // The cache refreshes at most every 500 ms; a blocking read here
        // would stall the job, so scheduling uses what the last read saw.
        self.live.clone()
    }

    /// Places queued map tasks while nodes have free slots.
    pub fn pump(&mut self) {
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
            let holders: Vec<&Target> = match &t.input.blob {
                Some(b) => live
                    .iter()
                    .filter(|n| b.nodes.iter().any(|h| h.id == n.id))
                    .filter(|n| !t.tried.contains(&n.id))
                    .collect(),
                None => live.iter().filter(|n| !t.tried.contains(&n.id)).collect(),
            };
            if holders.is_empty() {
                let item = Item::Map {
                    phase: t.phase,
                    task_id: t.task_id.clone(),
                    input: t.input.path.clone(),
                    p0input: t.p0input.clone(),
                };
                let msg = if t.tried.is_empty() {
                    format!("no live storage node holds a copy of {}", t.input.path)
                } else {
                    format!("every node holding {} failed the task", t.input.path)
                };
                self.settle_with_error(&item, JobErrorCode::ServiceUnavailableError, msg);
                continue;
            }
            let best = holders
                .into_iter()
                .map(|n| (self.load.get(&n.id).copied().unwrap_or(0), n))
                .filter(|(l, _)| *l < slots)
                .min_by_key(|(l, _)| *l)
                .map(|(_, n)| n.clone());
            match best {
                Some(node) => {
                    let batch = self.take_batch(&t, &node, live.len());
                    if batch.is_empty() {
                        self.dispatch_map(t, node, &live);
                    } else {
                        let mut tasks = vec![t];
                        tasks.extend(batch);
                        self.dispatch_batch(tasks, node, &live);
                    }
                }
                None => kept.push_back(t),
            }
        }
        kept.append(&mut self.queue);
        self.queue = kept;
    }

    /// Queued tasks to run in one container with `first` on `node`: only
    /// when the queue is long enough that batching does not idle other
    /// slots, and only small inputs (a big input's work dwarfs a
    /// container's start-up; its output should stream, not be buffered in
    /// a file).
    fn take_batch(&mut self, first: &MapTask, node: &Target, live: usize) -> Vec<MapTask> {
        let small = |t: &MapTask| {
            t.input
                .blob
                .as_ref()
                .is_none_or(|b| b.size <= BATCH_INPUT_MAX)
        };
        if !small(first) {
            return Vec::new();
        }
        let slots = (live.max(1) as u64) * u64::from(self.cfg.slots_per_node.max(1));
        let want = (self.queue.len() as u64 / slots).min(MAX_BATCH - 1) as usize;
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

    fn dispatch_batch(&mut self, tasks: Vec<MapTask>, node: Target, live: &[Target]) {
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
                output_base: jobs::model::naming::map_output_base(
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
            .map(|t| {
                let meta = TaskMeta {
                    phase: t.phase,
                    input: Some(t.input.path.clone()),
                    reducer: None,
                    p0input: Some(t.p0input.clone()),
                    retries: t.retries,
                };
                (t.task_id.clone(), meta)
            })
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

    fn phase_spec(&self, phase: u32) -> Option<Phase> {
        self.rec.job.phases.get(phase as usize).cloned()
    }

    fn request(
        &self,
        phase: u32,
        task_id: &str,
        kind: TaskKind,
        node: &Target,
        live: &[Target],
        base: String,
    ) -> Option<TaskRequest> {
        let spec = self.phase_spec(phase)?;
        let copies = self.ctx.st.settings.default_durability.max(1) as usize;
        let replicas = live
            .iter()
            .filter(|n| n.id != node.id)
            .take(copies - 1)
            .map(|n| NodeAddr {
                id: n.id.clone(),
                url: n.addr.clone(),
            })
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

    fn dispatch_map(&mut self, t: MapTask, node: Target, live: &[Target]) {
        if let Some(Some((code, msg))) = self.phase_errors.get(t.phase as usize).cloned() {
            let item = Item::Map {
                phase: t.phase,
                task_id: t.task_id.clone(),
                input: t.input.path.clone(),
                p0input: t.p0input.clone(),
            };
            self.settle_with_error(&item, code, msg);
            return;
        }
        let base = jobs::model::naming::map_output_base(
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
        let meta = TaskMeta {
            phase: t.phase,
            input: Some(t.input.path.clone()),
            reducer: None,
            p0input: Some(t.p0input.clone()),
            retries: t.retries,
        };
        if t.retries == 0 {
            self.rec.job.stats.tasks += 1;
        }
        *self.load.entry(node.id.clone()).or_default() += 1;
        self.running
            .insert(t.task_id.clone(), Running::Map(t, node.clone()));
        self.spawn_task(node, req, meta, None);
    }

    fn spawn_task(
        &mut self,
        node: Target,
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

    /// Refreshes the live node list used by scheduling.
    pub async fn refresh_live(&mut self) {
        match self.ctx.st.placement.live_targets().await {
            Ok(live) => self.live = live,
            Err(e) => tracing::warn!(error = %e, "reading the node registry"),
        }
    }
}
