//! One running job: a single task owns its state and serialises every
//! change (inputs, task results, cancel), so there are no locks to get
//! wrong. Scheduling is in `schedule.rs`, rebuilding after a restart in
//! `replay.rs`, archiving in `archive.rs`.

use super::records::{job_key, running_key, DoneRecord, JobRecord};
use super::task::JobCtx;
pub use super::work::*;
use super::Target;
use crate::error::{Error, Result};
use jobs::agent::wire::{ImageRef, InputObject};
use jobs::model::{Job, JobError, JobErrorCode, JobState};
use metadata_tier::wire::Condition;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How many of each list `live/in|out|err|fail` shows (as Manta).
pub const TAIL: usize = 100;

pub enum Command {
    AddInputs {
        paths: Vec<String>,
        end: bool,
        reply: oneshot::Sender<Result<()>>,
    },
    EndInput {
        reply: oneshot::Sender<Result<()>>,
    },
    Cancel {
        reply: oneshot::Sender<Result<()>>,
    },
    Snapshot {
        reply: oneshot::Sender<Snapshot>,
    },
}

/// The job as `live/*` shows it while it runs.
#[derive(Clone)]
pub struct Snapshot {
    pub job: Job,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub errors: Vec<JobError>,
    pub failures: Vec<String>,
}

pub struct Actor {
    pub ctx: Arc<JobCtx>,
    pub rec: JobRecord,
    pub cfg: JobSettings,
    pub events: mpsc::UnboundedSender<Event>,
    pub tasks: JoinSet<()>,
    pub next_seq: u64,
    pub phases: Vec<PhaseRun>,
    pub queue: VecDeque<MapTask>,
    pub running: HashMap<String, Running>,
    pub load: HashMap<String, u32>,
    pub tails: Tails,
    pub resolvers: Arc<Semaphore>,
    /// Live nodes as last read from the registry.
    pub live: Vec<Target>,
    /// Per phase: its assets and image, resolved once when the job starts
    /// (or the error every task of the phase gets).
    pub assets: Vec<Vec<InputObject>>,
    pub images: Vec<ImageRef>,
    pub phase_errors: Vec<Option<(JobErrorCode, String)>>,
}

impl Actor {
    pub fn new(
        ctx: Arc<JobCtx>,
        rec: JobRecord,
        cfg: JobSettings,
        events: mpsc::UnboundedSender<Event>,
    ) -> Self {
        let phases = rec
            .job
            .phases
            .iter()
            .enumerate()
            .map(|(p, ph)| PhaseRun {
                open: 0,
                reducers: (0..ph.reducers())
                    .map(|r| Reducer {
                        task_id: super::records::task_id(
                            &rec.job.id,
                            &["reduce", &p.to_string(), &r.to_string()],
                        ),
                        inputs: Vec::new(),
                        state: ReducerState::Idle,
                        retries: 0,
                        tried: Vec::new(),
                        feed: None,
                        ended: false,
                        counted: false,
                    })
                    .collect(),
            })
            .collect();
        Actor {
            ctx,
            rec,
            cfg,
            events,
            tasks: JoinSet::new(),
            next_seq: 0,
            phases,
            queue: VecDeque::new(),
            running: HashMap::new(),
            load: HashMap::new(),
            tails: Tails::default(),
            resolvers: Arc::new(Semaphore::new(32)),
            live: Vec::new(),
            assets: Vec::new(),
            images: Vec::new(),
            phase_errors: Vec::new(),
        }
    }

    pub fn job(&self) -> &Job {
        &self.rec.job
    }

    pub fn last_phase(&self) -> u32 {
        self.rec.job.phases.len().saturating_sub(1) as u32
    }

    /// Runs until the job is done or the supervisor stops.
    pub async fn run(
        mut self,
        mut cmds: mpsc::Receiver<Command>,
        mut events: mpsc::UnboundedReceiver<Event>,
        stop: CancellationToken,
    ) {
        if self.rec.job.state == JobState::Queued {
            self.rec.job.state = JobState::Running;
            self.persist().await;
        }
        if self.rec.job.cancelled {
            // Cancelled just before a restart: only the archive is left.
            self.finish().await;
            return;
        }
        self.progress().await;
        // Work that waited for a live node (all down for a moment) is
        // retried on this beat even if no event comes.
        let mut beat = tokio::time::interval(std::time::Duration::from_secs(2));
        while self.rec.job.state != JobState::Done {
            tokio::select! {
                () = stop.cancelled() => return,
                Some(cmd) = cmds.recv() => self.command(cmd).await,
                Some(ev) = events.recv() => self.event(ev).await,
                // Drain finished join handles so the set does not grow.
                Some(_) = self.tasks.join_next(), if !self.tasks.is_empty() => {}
                _ = beat.tick() => self.retry_waiting().await,
            }
        }
    }

    async fn command(&mut self, cmd: Command) {
        match cmd {
            Command::AddInputs { paths, end, reply } => {
                let r = self.add_inputs(paths, end).await;
                let _ = reply.send(r);
            }
            Command::EndInput { reply } => {
                let r = self.end_input().await;
                let _ = reply.send(r);
            }
            Command::Cancel { reply } => {
                let r = self.cancel().await;
                let _ = reply.send(r);
            }
            Command::Snapshot { reply } => {
                let _ = reply.send(self.snapshot());
            }
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            job: self.rec.job.clone(),
            inputs: self.tails.inputs.iter().cloned().collect(),
            outputs: self.tails.outputs.iter().cloned().collect(),
            errors: self.tails.errors.iter().cloned().collect(),
            failures: self.tails.failures.iter().cloned().collect(),
        }
    }

    fn refuse(&self, adding: bool) -> Result<()> {
        let job = &self.rec.job;
        if job.refuses_live_post(adding) {
            let reason = if job.cancelled {
                "was cancelled"
            } else if job.state == JobState::Done {
                "is done"
            } else {
                "has its input closed"
            };
            return Err(Error::InvalidJobState {
                id: job.id.clone(),
                reason: reason.into(),
            });
        }
        Ok(())
    }

    async fn add_inputs(&mut self, paths: Vec<String>, end: bool) -> Result<()> {
        self.refuse(true)?;
        let id = self.rec.job.id.clone();
        let first = self.next_seq;
        for chunk in paths.chunks(1000) {
            let mut ops = Vec::with_capacity(chunk.len());
            for (i, path) in chunk.iter().enumerate() {
                let seq = self.next_seq + i as u64;
                let value = serde_json::json!({ "path": path });
                ops.push(metadata_tier::wire::Op::Put {
                    key: super::records::input_key(&id, seq),
                    value,
                    cond: Condition::None,
                });
            }
            self.ctx.st.meta.apply(ops).await?;
            self.next_seq += chunk.len() as u64;
        }
        for (i, path) in paths.into_iter().enumerate() {
            let seq = first + i as u64;
            push_tail(&mut self.tails.inputs, path.clone());
            let item = self.input_item(seq, path);
            self.add_item(item);
        }
        if end {
            self.end_input().await?;
        }
        Ok(())
    }

    /// Phase 0's item for job input number `seq`.
    pub fn input_item(&self, seq: u64, path: String) -> Item {
        let task_id = super::records::task_id(&self.rec.job.id, &["in", &seq.to_string()]);
        match self.rec.job.phases.first() {
            Some(p) if !p.phase_type.is_map() => Item::ReduceInput {
                phase: 0,
                reducer: 0,
                task_id,
                input: path.clone(),
                p0input: path,
            },
            _ => Item::Map {
                phase: 0,
                task_id,
                input: path.clone(),
                p0input: path,
            },
        }
    }

    async fn end_input(&mut self) -> Result<()> {
        let job = &self.rec.job;
        if job.state == JobState::Done || job.cancelled {
            return self.refuse(false);
        }
        if job.input_done {
            return Ok(());
        }
        self.rec.job.input_done = true;
        self.save().await?;
        self.progress().await;
        Ok(())
    }

    async fn cancel(&mut self) -> Result<()> {
        self.refuse(false)?;
        self.rec.job.cancel();
        self.tasks.abort_all();
        for (task, running) in self.running.drain() {
            let node = running.node().clone();
            let agent = self.ctx.agent.clone();
            tokio::spawn(async move { agent.forget(&node.addr, &task).await });
        }
        self.queue.clear();
        self.finish().await;
        Ok(())
    }

    /// Writes the job record; errors are logged (the next write retries).
    pub async fn persist(&mut self) {
        if let Err(e) = self.save().await {
            tracing::warn!(job = %self.rec.job.id, error = %e, "saving job record");
        }
    }

    pub async fn save(&self) -> Result<()> {
        let value = serde_json::to_value(&self.rec)
            .map_err(|e| Error::Internal(format!("encode job: {e}")))?;
        self.ctx
            .st
            .meta
            .put(
                job_key(&self.rec.owner, &self.rec.job.id),
                value,
                Condition::None,
            )
            .await?;
        Ok(())
    }

    /// Archives the job's lists, marks it done and drops it from the
    /// running set.
    pub async fn finish(&mut self) {
        let now = crate::time::iso8601(crate::time::now_ms());
        self.rec.job.time_done = Some(now.clone());
        self.rec.job.time_archive_started = Some(now);
        let mut tries = 0;
        loop {
            match super::archive::write(&self.ctx, &self.rec).await {
                Ok(()) => break,
                Err(e) => {
                    tries += 1;
                    tracing::warn!(job = %self.rec.job.id, error = %e, "archiving job");
                    if tries >= 5 {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        }
        self.rec.job.state = JobState::Done;
        self.rec.job.time_archive_done = Some(crate::time::iso8601(crate::time::now_ms()));
        self.persist().await;
        if let Err(e) = self
            .ctx
            .st
            .meta
            .delete(running_key(&self.rec.job.id), Condition::None)
            .await
        {
            tracing::warn!(job = %self.rec.job.id, error = %e, "clearing running record");
        }
        tracing::info!(job = %self.rec.job.id, stats = ?self.rec.job.stats, "job done");
    }

    /// Counts a settled task (or input error) into stats and the lists,
    /// and returns the items its outputs start in the next phase.
    pub fn account(&mut self, done: &DoneRecord, replaying: bool) -> Vec<Item> {
        let stats = &mut self.rec.job.stats;
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
        let p0 = done
            .p0input
            .clone()
            .or_else(|| done.input.clone())
            .unwrap_or_default();
        let mut next = Vec::new();
        for (i, out) in done.outputs.iter().enumerate() {
            if done.phase >= self.last_phase() {
                self.rec.job.stats.outputs += 1;
                push_tail(&mut self.tails.outputs, out.path.clone());
                continue;
            }
            let phase = done.phase + 1;
            let task_id =
                super::records::task_id(&self.rec.job.id, &[&done.task_id, &i.to_string()]);
            let is_map = self
                .rec
                .job
                .phases
                .get(phase as usize)
                .is_some_and(|p| p.phase_type.is_map());
            next.push(if is_map {
                Item::Map {
                    phase,
                    task_id,
                    input: out.path.clone(),
                    p0input: p0.clone(),
                }
            } else {
                Item::ReduceInput {
                    phase,
                    reducer: out.reducer.unwrap_or(0),
                    task_id,
                    input: out.path.clone(),
                    p0input: p0.clone(),
                }
            });
        }
        next
    }
}
