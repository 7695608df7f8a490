//! One running job: a single task owns its state and serialises every
//! change (inputs, task results, cancel), so there are no locks to get
//! wrong. Scheduling is in `schedule.rs` (decisions in `plan.rs`, routing
//! in `routing.rs` and `flow.rs`), rebuilding after a restart in
//! `replay.rs` (its plan in `restart.rs`), archiving in `archive.rs`.

use super::error::{Error, Result};
use super::fault::JobFault;
use super::plan::CancelStep;
use super::records::JobRecord;
use super::task::JobCtx;
pub(crate) use super::work::*;
use crate::agent::wire::{ImageRef, InputObject, NodeAddr};
use crate::model::{Job, JobError, JobExt, JobState, PhaseExt};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How many of each list `live/in|out|err|fail` shows (as Manta).
pub const TAIL: usize = 100;

/// What the jobs API asks of a running job.
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

pub(crate) struct Actor {
    pub(crate) ctx: Arc<JobCtx>,
    pub rec: JobRecord,
    pub cfg: JobSettings,
    pub(crate) events: mpsc::UnboundedSender<Event>,
    pub tasks: JoinSet<()>,
    pub(crate) next_seq: u64,
    pub phases: Vec<PhaseRun>,
    pub queue: VecDeque<MapTask>,
    pub running: HashMap<String, Running>,
    pub load: HashMap<String, u32>,
    pub(crate) tails: Tails,
    pub(crate) resolvers: Arc<Semaphore>,
    /// Live nodes as last read from the registry.
    pub live: Vec<NodeAddr>,
    /// Per phase: its assets and image, resolved once when the job starts
    /// (or the error every task of the phase gets).
    pub assets: Vec<Vec<InputObject>>,
    pub images: Vec<ImageRef>,
    pub(crate) phase_errors: Vec<Option<JobFault>>,
}

impl Actor {
    /// Reducer `r` of phase `p`, if the job has one.
    pub(crate) fn reducer_mut(&mut self, p: u32, r: u32) -> Option<&mut Reducer> {
        self.phases
            .get_mut(p as usize)
            .and_then(|ph| ph.reducers.get_mut(r as usize))
    }

    pub(crate) fn new(
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

    pub(crate) fn job(&self) -> &Job {
        &self.rec.job
    }

    pub(crate) fn last_phase(&self) -> u32 {
        self.rec.job.phases.len().saturating_sub(1) as u32
    }

    /// Runs until the job is done or the supervisor stops.
    pub(crate) async fn run(
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

    pub(crate) fn snapshot(&self) -> Snapshot {
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
            self.ctx
                .journal
                .put_inputs(&id, self.next_seq, chunk)
                .await?;
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
        let running = self
            .running
            .drain()
            .map(|(task, r)| (task, r.node().clone()))
            .collect();
        for step in super::plan::cancel(running) {
            match step {
                CancelStep::AbortLocal => self.tasks.abort_all(),
                CancelStep::Forget { task_id, node } => {
                    let agent = self.ctx.agent.clone();
                    tokio::spawn(async move { agent.forget(&node.url, &task_id).await });
                }
                CancelStep::DropQueued => self.queue.clear(),
                CancelStep::Archive => self.finish().await,
            }
        }
        Ok(())
    }

    /// Writes the job record; errors are logged (the next write retries).
    pub(crate) async fn persist(&mut self) {
        if let Err(e) = self.save().await {
            tracing::warn!(job = %self.rec.job.id, error = %e, "saving job record");
        }
    }

    pub(crate) async fn save(&self) -> Result<()> {
        self.ctx.journal.put_job(&self.rec, false).await
    }

    /// Archives the job's lists, marks it done and drops it from the
    /// running set.
    pub(crate) async fn finish(&mut self) {
        let now = super::time::now();
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
        self.rec.job.time_archive_done = Some(super::time::now());
        self.persist().await;
        if let Err(e) = self.ctx.journal.clear_running(&self.rec.job.id).await {
            tracing::warn!(job = %self.rec.job.id, error = %e, "clearing running record");
        }
        tracing::info!(job = %self.rec.job.id, stats = ?self.rec.job.stats, "job done");
    }
}
