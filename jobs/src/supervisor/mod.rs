//! The job supervisor (Manta's Marlin): runs each job's phases as tasks on
//! the storage nodes' agents. It sits on top of the object store through
//! the narrow [`Namespace`] trait (the frontend implements it), keeps its
//! own records on the metadata tier (`records.rs`, `journal.rs`), and
//! talks to the agents with [`crate::agent::client::AgentClient`].
//!
//! - [`Supervisor`]: the running jobs of this frontend, one actor each
//!   (`actor.rs`), rebuilt from the metadata tier on start (`replay.rs`);
//! - `scheduler.rs`: each job's scheduling as a state machine without I/O
//!   (events in, commands out: placement, retries, reducer feeding, cancel,
//!   replay after a restart), unit tested without a cluster
//!   (`scheduler_tests.rs`); its state changes are in `schedule.rs`,
//!   `placing.rs`, `reducers.rs`, `settling.rs`, `routing.rs`, and the
//!   pure decisions they apply in `plan.rs`, `flow.rs` (routing) and
//!   `restart.rs` (the replay plan);
//! - `actor.rs` and `execute.rs`: the scheduler's only driver, which turns
//!   API calls, task results and a 2 s beat into events and carries out
//!   the commands (agent calls, journal writes, the archive);
//! - `task.rs`: one task's life on an agent; `output.rs`: committing what
//!   it produced; `archive.rs`: job.json and the lists;
//! - [`Fault`]: the job's fault vs ours, everywhere.
//!
//! One supervisor serves a cluster: the frontend that runs it owns every
//! job (docs/jobs.md).

mod actor;
mod archive;
mod error;
mod execute;
mod fault;
mod flow;
mod journal;
mod namespace;
mod output;
mod placing;
mod plan;
mod records;
mod reducers;
mod replay;
mod restart;
mod routing;
mod schedule;
mod scheduler;
mod settling;
mod task;
#[cfg(test)]
mod test_support;
mod time;
mod work;

pub use actor::{Command, Snapshot, TAIL};
pub use error::{Error, Result};
pub use fault::{Fault, JobFault};
pub use journal::JobPage;
pub use namespace::{DirCache, Namespace, NsError, OutputObject};
pub use records::{JobCaller, JobRecord};
pub use work::JobSettings;

use crate::agent::client::AgentClient;
use crate::model::{Job, JobExt, JobSpec};
use actor::Actor;
use journal::Journal;
use metadata_tier::MetadataClient;
use records::{RunningRecord, JOB_RECORD_VERSION};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use task::JobCtx;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The running jobs of this frontend.
#[derive(Clone)]
pub struct Supervisor(Arc<Inner>);

struct Inner {
    actors: Mutex<HashMap<String, mpsc::Sender<Command>>>,
    /// Set once the jobs a previous supervisor left running are picked up.
    recovered: tokio::sync::watch::Sender<bool>,
    stop: CancellationToken,
    agent: AgentClient,
    journal: Journal,
    cfg: JobSettings,
    /// The Manta API tasks' toolboxes reach (`TaskRequest::api_url`).
    api_url: std::sync::OnceLock<String>,
}

impl Supervisor {
    /// Names the Manta API (`http://host:port`) that tasks' toolboxes
    /// (`mget`, `mput`, ... inside a task) are forwarded to; set once,
    /// when the frontend listens. Without it tasks get no toolbox.
    pub fn set_api_url(&self, url: String) {
        let _ = self.0.api_url.set(url);
    }

    /// A supervisor keeping its records through `meta`.
    pub fn new(cfg: JobSettings, meta: MetadataClient) -> Self {
        Supervisor(Arc::new(Inner {
            actors: Mutex::new(HashMap::new()),
            recovered: tokio::sync::watch::channel(false).0,
            stop: CancellationToken::new(),
            agent: AgentClient::new(meta.cluster_key().clone()),
            journal: Journal::new(meta),
            api_url: std::sync::OnceLock::new(),
            cfg,
        }))
    }

    /// The running job's actor, if this supervisor runs it.
    pub fn actor(&self, id: &str) -> Option<mpsc::Sender<Command>> {
        self.0.actors.lock().ok()?.get(id).cloned()
    }

    /// The actor of a job that is not done, waiting (a bounded time) for
    /// recovery after a restart to pick it up.
    pub async fn running_actor(&self, id: &str) -> Option<mpsc::Sender<Command>> {
        let mut ready = self.0.recovered.subscribe();
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(30), ready.wait_for(|r| *r)).await;
        self.actor(id)
    }

    /// Stops every actor (tasks on the agents keep running; a new
    /// supervisor picks the jobs up).
    pub fn shutdown(&self) {
        self.0.stop.cancel();
    }

    /// The stored record of `owner`'s job `id`.
    ///
    /// # Errors
    /// Metadata errors; an unreadable record.
    pub async fn job(&self, owner: &str, id: &str) -> Result<Option<JobRecord>> {
        self.0.journal.job(owner, id).await
    }

    /// A page of `owner`'s jobs after `marker`.
    ///
    /// # Errors
    /// Metadata errors.
    pub async fn jobs(&self, owner: &str, marker: Option<String>) -> Result<JobPage> {
        self.0.journal.jobs(owner, marker).await
    }

    /// Creates a job for the account `owner` (uuid) / `login`, on behalf
    /// of `caller` (a sub-user) if given: its directories, its records,
    /// and its actor.
    ///
    /// # Errors
    /// Metadata and store errors.
    pub async fn create(
        &self,
        ns: Arc<dyn Namespace>,
        owner: &str,
        login: &str,
        spec: &JobSpec,
        caller: Option<JobCaller>,
    ) -> Result<String> {
        let id = uuid::Uuid::new_v4().to_string();
        let stor = format!("/{login}/jobs/{id}/stor/x");
        ns.mkdirs(owner, &stor, &DirCache::default())
            .await
            .map_err(|f| match f {
                Fault::Internal(e) => error::store(format!("making {stor}"))(e),
                Fault::Job(j) => Error::Internal(format!("making {stor}: {}", j.message)),
            })?;
        let rec = JobRecord {
            v: JOB_RECORD_VERSION,
            owner: owner.to_string(),
            login: login.to_string(),
            job: Job::new(id.clone(), spec, time::now()),
            caller,
        };
        let running = RunningRecord {
            owner: owner.to_string(),
            login: login.to_string(),
        };
        self.0.journal.put_running(&id, &running).await?;
        self.0.journal.put_job(&rec, true).await?;
        self.spawn(ns, rec, false).await?;
        Ok(id)
    }

    /// Picks up every job a previous supervisor left running.
    ///
    /// # Errors
    /// Metadata errors listing the running jobs.
    pub async fn recover(&self, ns: Arc<dyn Namespace>) -> Result<usize> {
        let mut marker = None;
        let mut n = 0;
        loop {
            let (page, next) = self.0.journal.running(marker).await?;
            for (id, r) in page {
                let Some(r) = r else {
                    tracing::warn!(job = %id, "unreadable running-job record");
                    continue;
                };
                let rec = match self.0.journal.job(&r.owner, &id).await {
                    Ok(Some(rec)) => rec,
                    Ok(None) => continue,
                    Err(Error::Internal(e)) => {
                        tracing::warn!(job = %id, error = %e, "unreadable job record");
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                if self.actor(&rec.job.id).is_some() {
                    continue;
                }
                match self.spawn(ns.clone(), rec, true).await {
                    Ok(()) => n += 1,
                    Err(err) => tracing::warn!(job = %id, error = %err, "recovering job"),
                }
            }
            match next {
                Some(m) => marker = Some(m),
                None => break,
            }
        }
        if n > 0 {
            tracing::info!(jobs = n, "recovered running jobs");
        }
        self.0.recovered.send_replace(true);
        Ok(n)
    }

    async fn spawn(&self, ns: Arc<dyn Namespace>, rec: JobRecord, recovering: bool) -> Result<()> {
        let ctx = Arc::new(JobCtx {
            ns,
            journal: self.0.journal.clone(),
            agent: self.0.agent.clone(),
            job_id: rec.job.id.clone(),
            login: rec.login.clone(),
            owner: rec.owner.clone(),
            dirs: DirCache::default(),
            api_url: self.0.api_url.get().cloned(),
        });
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let (cmd_tx, cmd_rx) = mpsc::channel(64);
        let id = rec.job.id.clone();
        let mut actor = Actor::new(ctx, rec, self.0.cfg.clone(), ev_tx);
        actor.prepare_phases().await?;
        if recovering {
            actor.replay().await?;
        }
        if let Ok(mut actors) = self.0.actors.lock() {
            actors.insert(id.clone(), cmd_tx);
        }
        let me = self.clone();
        let stop = self.0.stop.child_token();
        tokio::spawn(async move {
            actor.run(cmd_rx, ev_rx, stop).await;
            if let Ok(mut actors) = me.0.actors.lock() {
                actors.remove(&id);
            }
        });
        Ok(())
    }
}
