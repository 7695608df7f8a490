//! Finding a shard's leader and retrying through failover.
//!
//! A call goes to the replica last found leading, else to each configured
//! replica in turn. A `NotLeader` answer names the leader when the replica
//! knows it; the call follows it. While a group elects (no leader, no
//! quorum) or a replica is down, the call backs off (25 ms doubling to
//! 500 ms) and tries again, for at most [`RETRY_BUDGET`].
//!
//! Only what is known not to have been applied is retried: reads always,
//! writes only after `NotLeader` (nothing was proposed) or a refused
//! connection (nothing was sent). A write whose connection broke after it
//! was sent, or that the leader reports `OutcomeUnknown`, ends with a
//! retryable error for the caller to decide: it may have been applied.

use super::MetadataClient;
use crate::error::{Error, Result};
use crate::raft::routes::{MemberChange, ReplicaStatus};
use crate::wire::ErrorResponse;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::{Duration, Instant};

/// How long a call keeps looking for a shard's leader.
pub const RETRY_BUDGET: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Idempotent: retried on any failure to get an answer.
    Read,
    /// Retried only when known not applied.
    Write,
}

impl MetadataClient {
    fn leader_hint(&self, shard: usize) -> Option<String> {
        self.leaders
            .get(shard)
            .and_then(|l| l.lock().ok().and_then(|g| g.clone()))
    }

    fn set_leader(&self, shard: usize, url: Option<String>) {
        if let Some(Ok(mut g)) = self.leaders.get(shard).map(|l| l.lock()) {
            *g = url;
        }
    }

    pub(super) async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        shard: usize,
        route: &str,
        body: &Req,
        access: Access,
    ) -> Result<Resp> {
        let replicas = self.ring.replicas(shard).to_vec();
        if replicas.is_empty() {
            return Err(Error::Remote {
                status: 0,
                message: format!("no shard {shard} in the ring"),
            });
        }
        let replicated = replicas.len() > 1;
        let deadline = Instant::now() + RETRY_BUDGET;
        let mut backoff = Duration::from_millis(25);
        let mut next = 0usize;
        loop {
            let url = match self.leader_hint(shard) {
                Some(u) => u,
                None => {
                    let u = replicas[next % replicas.len()].clone();
                    next += 1;
                    u
                }
            };
            let err = match self.call_once(&url, route, body).await {
                Ok(v) => {
                    self.set_leader(shard, Some(url));
                    return Ok(v);
                }
                Err(e) => e,
            };
            let redirected = match &err {
                Error::NotLeader { leader: Some(l) } if *l != url => {
                    self.set_leader(shard, Some(l.clone()));
                    true
                }
                Error::NotLeader { .. } | Error::NoQuorum(_) | Error::ShardClosed => {
                    self.set_leader(shard, None);
                    false
                }
                Error::Unavailable { source, .. }
                    if source.is_connect() || access == Access::Read =>
                {
                    self.set_leader(shard, None);
                    // A lone replica that is down has nowhere else to be.
                    if !replicated {
                        return Err(err);
                    }
                    false
                }
                _ => return Err(err),
            };
            if Instant::now() >= deadline {
                return Err(Error::NoLeader {
                    shard: self.ring.shards()[shard].clone(),
                    detail: err.to_string(),
                });
            }
            if !redirected {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_millis(500));
            }
        }
    }

    async fn call_once<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        url: &str,
        route: &str,
        body: &Req,
    ) -> Result<Resp> {
        // A shard that answered with a body we cannot read is broken, not
        // unreachable: retrying elsewhere would not help, so say so.
        let unavailable = |source: reqwest::Error| {
            if source.is_decode() {
                Error::Remote {
                    status: 0,
                    message: format!("undecodable answer from {url}: {source}"),
                }
            } else {
                Error::Unavailable {
                    shard: url.to_string(),
                    source,
                }
            }
        };
        let req = self.http.post(format!("{url}{route}")).json(body);
        let resp = self.key.send(&self.http, req).await.map_err(unavailable)?;
        let status = resp.status();
        if status.is_success() {
            return resp.json().await.map_err(unavailable);
        }
        let text = resp.text().await.map_err(unavailable)?;
        let err: Option<ErrorResponse> = serde_json::from_str(&text).ok();
        Err(match (status.as_u16(), err) {
            (409, Some(e)) if e.code == "ConditionFailed" => Error::ConditionFailed {
                index: e.index.unwrap_or(0),
                current: e.current.map(Box::new),
            },
            (400, Some(e)) if e.code == "InvalidKey" => Error::InvalidKey(e.message),
            (503, Some(e)) if e.code == "NotLeader" => Error::NotLeader { leader: e.leader },
            (503, Some(e)) if e.code == "NoQuorum" => Error::NoQuorum(e.message),
            (503, Some(e)) if e.code == "OutcomeUnknown" => Error::OutcomeUnknown(e.message),
            (s, e) => Error::Remote {
                status: s,
                message: e.map_or(text, |e| e.message),
            },
        })
    }

    /// Each replica of shard `shard` as it sees its group (`mantad admin
    /// shards`): its URL, and its status or why it did not answer.
    pub async fn shard_status(&self, shard: usize) -> Vec<(String, Result<ReplicaStatus>)> {
        let mut urls: Vec<String> = self.ring.replicas(shard).to_vec();
        let mut out: Vec<(String, Result<ReplicaStatus>)> = Vec::new();
        // Members added since the config was written are found through
        // the ones it names. Each round asks every replica not yet asked
        // at once, so one replica that is down costs one timeout, not one
        // per replica behind it.
        while out.len() < urls.len() && out.len() < 32 {
            let round: Vec<String> = urls[out.len()..urls.len().min(32)].to_vec();
            let answers =
                futures::future::join_all(round.iter().map(|u| self.replica_status(u))).await;
            for (url, st) in round.into_iter().zip(answers) {
                if let Ok(s) = &st {
                    for addr in s.voters.values().chain(s.learners.values()) {
                        if !addr.is_empty() && !urls.contains(addr) {
                            urls.push(addr.clone());
                        }
                    }
                }
                out.push((url, st));
            }
        }
        out
    }

    async fn replica_status(&self, url: &str) -> Result<ReplicaStatus> {
        let req = self
            .http
            .get(format!("{url}/raft/status"))
            .timeout(Duration::from_secs(3));
        let unavailable = |source| Error::Unavailable {
            shard: url.to_string(),
            source,
        };
        let resp = self.key.send(&self.http, req).await.map_err(unavailable)?;
        resp.error_for_status()
            .map_err(unavailable)?
            .json()
            .await
            .map_err(unavailable)
    }

    /// Adds or removes a replica of shard `shard`, at its leader.
    ///
    /// # Errors
    /// No leader found; the leader's refusal.
    pub async fn change_members(
        &self,
        shard: usize,
        change: &MemberChange,
    ) -> Result<ReplicaStatus> {
        let statuses = self.shard_status(shard).await;
        let leader = statuses
            .iter()
            .find_map(|(url, s)| match s {
                Ok(s) if s.state == "Leader" => Some(url.clone()),
                _ => None,
            })
            .ok_or_else(|| Error::NoLeader {
                shard: self.ring.shards()[shard].clone(),
                detail: "no replica reports leading".into(),
            })?;
        let req = self
            .http
            .post(format!("{leader}/raft/members"))
            .timeout(Duration::from_secs(600))
            .json(change);
        let unavailable = |source| Error::Unavailable {
            shard: leader.clone(),
            source,
        };
        let resp = self.key.send(&self.http, req).await.map_err(unavailable)?;
        let status = resp.status();
        if status.is_success() {
            return resp.json().await.map_err(unavailable);
        }
        let text = resp.text().await.map_err(unavailable)?;
        Err(Error::Membership(format!(
            "{leader} answered {status}: {text}"
        )))
    }
}
