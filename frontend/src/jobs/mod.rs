//! Compute jobs (Manta's Marlin): the jobs API (`api`), and the supervisor
//! that runs each job's phases as tasks on the storage nodes' agents.
//!
//! - [`Supervisor`]: the running jobs of this frontend, one actor each
//!   (`actor.rs`, `schedule.rs`), rebuilt from the metadata tier on start
//!   (`replay.rs`);
//! - `task.rs`: one task's life on an agent, and committing its outputs;
//! - `records.rs`: what is kept on the metadata tier; `store.rs`: reading
//!   inputs and writing objects; `archive.rs`: job.json and the lists.
//!
//! One supervisor serves a cluster: the frontend that runs it owns every
//! job (docs/jobs.md).

pub mod actor;
mod agent_client;
pub mod api;
mod archive;
mod placing;
pub mod records;
mod reducers;
mod replay;
mod schedule;
mod settling;
mod store;
mod task;
mod work;

use crate::error::{Error, Result};
use crate::records::AccountRecord;
use crate::state::AppState;
pub use actor::JobSettings;
use actor::{Actor, Command};
use agent_client::AgentClient;
use jobs::model::{Job, JobSpec};
use metadata_tier::wire::{Condition, Keyspace, ListOptions};
use records::{job_key, running_key, JobRecord, RunningRecord, JOB_RECORD_VERSION, RUNNING_DIR};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use task::JobCtx;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
pub struct Supervisor(Arc<Inner>);

struct Inner {
    actors: Mutex<HashMap<String, mpsc::Sender<Command>>>,
    /// Set once the jobs a previous supervisor left running are picked up.
    recovered: tokio::sync::watch::Sender<bool>,
    stop: CancellationToken,
    agent: AgentClient,
    cfg: JobSettings,
}

impl Supervisor {
    pub fn new(cfg: JobSettings) -> Self {
        Supervisor(Arc::new(Inner {
            actors: Mutex::new(HashMap::new()),
            recovered: tokio::sync::watch::channel(false).0,
            stop: CancellationToken::new(),
            agent: AgentClient::default(),
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

    /// Creates a job: its directories, its records, and its actor.
    ///
    /// # Errors
    /// Metadata and storage errors.
    pub async fn create(
        &self,
        st: &AppState,
        account: &AccountRecord,
        spec: &JobSpec,
    ) -> Result<String> {
        let id = uuid::Uuid::new_v4().to_string();
        let now = crate::time::iso8601(crate::time::now_ms());
        let stor = crate::path::MantaPath::parse(&format!("/{}/jobs/{id}/stor/x", account.login))?;
        store::mkdirs(
            st,
            account.uuid.as_str(),
            &stor,
            &store::DirCache::default(),
        )
        .await?;
        let rec = JobRecord {
            v: JOB_RECORD_VERSION,
            owner: account.uuid.0.clone(),
            login: account.login.clone(),
            job: Job::new(id.clone(), spec, now),
        };
        let running = RunningRecord {
            owner: account.uuid.0.clone(),
            login: account.login.clone(),
        };
        let encode = |v: serde_json::Result<serde_json::Value>| {
            v.map_err(|e| Error::Internal(format!("encode job: {e}")))
        };
        st.meta
            .put(
                running_key(&id),
                encode(serde_json::to_value(&running))?,
                Condition::Absent,
            )
            .await?;
        st.meta
            .put(
                job_key(account.uuid.as_str(), &id),
                encode(serde_json::to_value(&rec))?,
                Condition::Absent,
            )
            .await?;
        self.spawn(st, rec, false).await?;
        Ok(id)
    }

    /// Picks up every job a previous supervisor left running.
    ///
    /// # Errors
    /// Metadata errors listing the running jobs.
    pub async fn recover(&self, st: &AppState) -> Result<usize> {
        let mut marker = None;
        let mut n = 0;
        loop {
            let opts = ListOptions {
                marker: marker.clone(),
                limit: 500,
                ..ListOptions::default()
            };
            let page = st.meta.list(Keyspace::Jobs, RUNNING_DIR, &opts).await?;
            for e in &page.entries {
                let Ok(r) = serde_json::from_value::<RunningRecord>(e.value.clone()) else {
                    tracing::warn!(job = %e.name, "unreadable running-job record");
                    continue;
                };
                let Some(entry) = st.meta.get(&job_key(&r.owner, &e.name)).await? else {
                    continue;
                };
                let Ok(rec) = serde_json::from_value::<JobRecord>(entry.value) else {
                    tracing::warn!(job = %e.name, "unreadable job record");
                    continue;
                };
                if self.actor(&rec.job.id).is_some() {
                    continue;
                }
                match self.spawn(st, rec, true).await {
                    Ok(()) => n += 1,
                    Err(err) => tracing::warn!(job = %e.name, error = %err, "recovering job"),
                }
            }
            match page.entries.last() {
                Some(last) if page.entries.len() == opts.limit => marker = Some(last.name.clone()),
                _ => break,
            }
        }
        if n > 0 {
            tracing::info!(jobs = n, "recovered running jobs");
        }
        self.0.recovered.send_replace(true);
        Ok(n)
    }

    async fn spawn(&self, st: &AppState, rec: JobRecord, recovering: bool) -> Result<()> {
        let ctx = Arc::new(JobCtx {
            st: st.clone(),
            agent: self.0.agent.clone(),
            job_id: rec.job.id.clone(),
            login: rec.login.clone(),
            owner: rec.owner.clone(),
            dirs: store::DirCache::default(),
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

/// A node as the supervisor schedules on it: its id and agent URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub id: String,
    pub addr: String,
}

impl From<crate::store::Target> for Target {
    fn from(t: crate::store::Target) -> Self {
        Target {
            id: t.id.0,
            addr: t.addr,
        }
    }
}
