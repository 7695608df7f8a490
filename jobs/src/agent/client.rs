//! The agent's HTTP client: the calls the supervisor makes to a node's job
//! agent (`/agent/v1/...`). It lives beside the wire types ([`super::wire`])
//! so both sides of the protocol change together, as storage-node and
//! metadata-tier ship their clients.

use super::wire::{AgentStatus, ReduceInputs, TaskRequest, TaskStatus};
use metadata_tier::net::ClusterKey;
use reqwest::StatusCode;
use std::time::Duration;

/// Why a call to an agent failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// No answer: the node is down or the network failed.
    #[error("agent unreachable: {0}")]
    Unreachable(String),
    /// The agent answered with an error.
    #[error("agent refused: {0}")]
    Refused(String),
}

/// A pooled HTTP client for the agents of every node.
#[derive(Clone)]
pub struct AgentClient {
    http: reqwest::Client,
    key: ClusterKey,
}

impl AgentClient {
    /// A client calling agents with the cluster `key`.
    pub fn new(key: ClusterKey) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .pool_idle_timeout(metadata_tier::net::serve::CLIENT_POOL_IDLE)
            .tcp_nodelay(true)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        AgentClient { http, key }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> reqwest::Result<reqwest::Response> {
        self.key.send(&self.http, req).await
    }
}

fn unreachable(e: reqwest::Error) -> CallError {
    CallError::Unreachable(e.to_string())
}

async fn refused(resp: reqwest::Response) -> CallError {
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    CallError::Refused(format!("{status}: {}", body.trim()))
}

impl AgentClient {
    /// Hands a task to the agent (`POST /agent/v1/tasks`).
    ///
    /// # Errors
    /// [`CallError`]: unreachable or refused.
    pub async fn submit(&self, url: &str, req: &TaskRequest) -> Result<(), CallError> {
        self.post(format!("{url}/agent/v1/tasks"), req).await
    }

    /// Sends a reducer more inputs (`POST .../inputs`).
    ///
    /// # Errors
    /// [`CallError`]: unreachable or refused.
    pub async fn feed(&self, url: &str, task: &str, batch: &ReduceInputs) -> Result<(), CallError> {
        self.post(format!("{url}/agent/v1/tasks/{task}/inputs"), batch)
            .await
    }

    async fn post<T: serde::Serialize>(&self, url: String, body: &T) -> Result<(), CallError> {
        let req = self
            .http
            .post(url)
            .timeout(Duration::from_secs(30))
            .json(body);
        let resp = self.send(req).await.map_err(unreachable)?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(refused(resp).await)
        }
    }

    /// The task's status after waiting up to `wait` for it to finish;
    /// `None` when the agent does not know it.
    ///
    /// # Errors
    /// [`CallError`]: unreachable or refused.
    pub async fn wait(
        &self,
        url: &str,
        task: &str,
        wait: Duration,
    ) -> Result<Option<TaskStatus>, CallError> {
        let req = self
            .http
            .get(format!(
                "{url}/agent/v1/tasks/{task}?wait_ms={}",
                wait.as_millis()
            ))
            .timeout(wait + Duration::from_secs(10));
        let resp = self.send(req).await.map_err(unreachable)?;
        match resp.status() {
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => resp.json().await.map(Some).map_err(unreachable),
            _ => Err(refused(resp).await),
        }
    }

    /// Stops and forgets a task (best effort).
    pub async fn forget(&self, url: &str, task: &str) {
        let req = self
            .http
            .delete(format!("{url}/agent/v1/tasks/{task}"))
            .timeout(Duration::from_secs(10));
        let r = self.send(req).await;
        if let Err(e) = r {
            tracing::debug!(url, task, error = %e, "forgetting agent task");
        }
    }

    /// The agent's slots, queue and counters (`GET /agent/v1/status`), as
    /// `mantad nodes` shows them.
    ///
    /// # Errors
    /// [`CallError`]: unreachable or refused.
    pub async fn status(&self, url: &str) -> Result<AgentStatus, CallError> {
        let req = self
            .http
            .get(format!("{url}/agent/v1/status"))
            .timeout(Duration::from_secs(10));
        let resp = self.send(req).await.map_err(unreachable)?;
        if !resp.status().is_success() {
            return Err(refused(resp).await);
        }
        resp.json().await.map_err(unreachable)
    }
}
