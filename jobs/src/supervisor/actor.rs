//! One running job: a single task owns its state and serialises every
//! change (inputs, task results, cancel), so there are no locks to get
//! wrong. It is the only driver of the job's [`Scheduler`]: it turns API
//! calls, task results and the beat into scheduler events and carries out
//! the commands that come back (`execute.rs`: agent calls, journal
//! writes); it keeps the job record and the API's checks. Reading the
//! records after a restart is in `replay.rs`, archiving in `archive.rs`.

use super::error::{Error, Result};
use super::records::JobRecord;
use super::scheduler::{Event, Scheduler, Setup};
use super::task::JobCtx;
use super::work::JobSettings;
use crate::agent::wire::{ImageRef, InputObject, ReduceInputs};
use crate::model::{Job, JobError, JobExt, JobState, PhaseExt};
use std::collections::HashMap;
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
    /// The job's scheduling decisions; this actor is its only driver.
    pub(crate) sched: Scheduler,
    /// Where spawned work reports back, as scheduler events.
    pub(crate) events: mpsc::UnboundedSender<Event>,
    pub tasks: JoinSet<()>,
    /// The next input's sequence number in the journal.
    pub(crate) next_seq: u64,
    /// Running reducers' input streams, by task id.
    pub(crate) feeds: HashMap<String, mpsc::UnboundedSender<ReduceInputs>>,
    pub(crate) resolvers: Arc<Semaphore>,
    /// Per phase: its assets and image, resolved once when the job starts.
    pub assets: Vec<Vec<InputObject>>,
    pub images: Vec<ImageRef>,
    /// Input still open is closed after this long without new inputs.
    idle_close: std::time::Duration,
    last_input: tokio::time::Instant,
}

impl Actor {
    pub(crate) fn new(
        ctx: Arc<JobCtx>,
        rec: JobRecord,
        cfg: JobSettings,
        events: mpsc::UnboundedSender<Event>,
    ) -> Self {
        let job = &rec.job;
        let idle_close = cfg.input_idle_close;
        let sched = Scheduler::new(Setup {
            job_id: job.id.clone(),
            is_map: job.phases.iter().map(|p| p.phase_type.is_map()).collect(),
            reducers: job.phases.iter().map(PhaseExt::reducers).collect(),
            cfg,
            copies: ctx.ns.copies(),
            stats: job.stats,
            input_done: job.input_done,
        });
        Actor {
            ctx,
            rec,
            sched,
            events,
            tasks: JoinSet::new(),
            next_seq: 0,
            feeds: HashMap::new(),
            resolvers: Arc::new(Semaphore::new(32)),
            assets: Vec::new(),
            images: Vec::new(),
            idle_close,
            last_input: tokio::time::Instant::now(),
        }
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
            self.step(Event::Cancel).await;
            return;
        }
        self.step(Event::Tick).await;
        // Work that waited for a live node (all down for a moment) is
        // retried on this beat even if no event comes.
        let mut beat = tokio::time::interval(std::time::Duration::from_secs(2));
        while self.rec.job.state != JobState::Done {
            tokio::select! {
                () = stop.cancelled() => return,
                Some(cmd) = cmds.recv() => self.command(cmd).await,
                Some(ev) = events.recv() => self.step(ev).await,
                // Drain finished join handles so the set does not grow.
                Some(_) = self.tasks.join_next(), if !self.tasks.is_empty() => {}
                _ = beat.tick() => {
                    self.close_idle_input().await;
                    self.step(Event::Tick).await;
                }
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
        let tails = self.sched.tails();
        Snapshot {
            job: self.rec.job.clone(),
            inputs: tails.inputs.iter().cloned().collect(),
            outputs: tails.outputs.iter().cloned().collect(),
            errors: tails.errors.iter().cloned().collect(),
            failures: tails.failures.iter().cloned().collect(),
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

    /// Closes input left open `idle_close` without new inputs.
    async fn close_idle_input(&mut self) {
        let job = &self.rec.job;
        if job.input_done || job.cancelled || self.last_input.elapsed() < self.idle_close {
            return;
        }
        tracing::info!(job = %job.id, "closing input idle too long");
        if let Err(e) = self.end_input().await {
            tracing::warn!(job = %self.rec.job.id, error = %e, "closing idle input");
        }
    }

    async fn add_inputs(&mut self, paths: Vec<String>, end: bool) -> Result<()> {
        self.refuse(true)?;
        self.last_input = tokio::time::Instant::now();
        let id = self.rec.job.id.clone();
        let first = self.next_seq;
        for chunk in paths.chunks(1000) {
            self.ctx
                .journal
                .put_inputs(&id, self.next_seq, chunk)
                .await?;
            self.next_seq += chunk.len() as u64;
        }
        let added = Event::InputsAdded {
            first_seq: first,
            paths,
        };
        self.step(added).await;
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
        self.step(Event::InputsEnded).await;
        Ok(())
    }

    async fn cancel(&mut self) -> Result<()> {
        self.refuse(false)?;
        self.rec.job.cancel();
        self.step(Event::Cancel).await;
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
        // Manta: a transient job's "inputs will be removed automatically".
        // Its list of inputs, that is (the records behind `live/in`; the
        // archive has no `in.txt`), not the input objects, which are the
        // user's. Removed last, once the job is done: a supervisor that
        // dies before leaves them (records only, not a wrong answer).
        if self.rec.job.transient {
            if let Err(e) = self.ctx.journal.delete_inputs(&self.rec.job.id).await {
                tracing::warn!(job = %self.rec.job.id, error = %e, "removing a transient job's inputs");
            }
        }
        tracing::info!(job = %self.rec.job.id, stats = ?self.rec.job.stats, "job done");
    }
}
