//! The per-task credential of a task's toolbox (`mget`, `mput`, `mls`,
//! `mfind` inside a task, `agent/toolbox.rs`): the agent mints one when a
//! task's container starts and adds it to every request the task makes
//! through its socket; the frontend takes a request carrying a valid one
//! as the job's owner. The container never sees it.
//!
//! `v1 <login> <job> <task> <expires> <mac>`: `expires` in Unix seconds,
//! `mac` the cluster secret's keyed hash of the rest. It names one task of
//! one job and dies with the task's wall-clock limit.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use metadata_tier::net::ClusterKey;

/// The request header carrying it.
pub const HEADER: &str = "x-mantad-task-token";
const VERSION: &str = "v1";
const PURPOSE: &str = "task-token";

/// Whom a valid token lets a request act as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskGrant {
    pub login: String,
    pub job_id: String,
    pub task_id: String,
    pub expires: u64,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn body(login: &str, job: &str, task: &str, expires: u64) -> String {
    format!("{VERSION} {login} {job} {task} {expires}")
}

/// A token for `task` of `job` (owned by `login`) valid for `ttl`.
pub fn mint(key: &ClusterKey, login: &str, job: &str, task: &str, ttl: Duration) -> String {
    let b = body(login, job, task, unix_now() + ttl.as_secs());
    let mac = key.purpose_mac(PURPOSE, &b);
    format!("{b} {mac}")
}

/// The grant of `token`, if `key` made it and it has not expired.
pub fn verify(key: &ClusterKey, token: &str) -> Option<TaskGrant> {
    let parts: Vec<&str> = token.split(' ').collect();
    let [VERSION, login, job, task, expires, mac] = parts.as_slice() else {
        return None;
    };
    let expires: u64 = expires.parse().ok()?;
    let expected = key.purpose_mac(PURPOSE, &body(login, job, task, expires));
    // Both are hex of one length; compare without an early exit.
    let same = expected.len() == mac.len()
        && expected
            .bytes()
            .zip(mac.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    (same && expires >= unix_now() && !login.is_empty()).then(|| TaskGrant {
        login: (*login).to_string(),
        job_id: (*job).to_string(),
        task_id: (*task).to_string(),
        expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_with_their_key_and_before_expiry() {
        let key = ClusterKey::generate();
        let t = mint(&key, "alice", "j1", "t1", Duration::from_secs(60));
        let g = verify(&key, &t).unwrap();
        assert_eq!((g.login.as_str(), g.job_id.as_str()), ("alice", "j1"));
        assert!(verify(&ClusterKey::generate(), &t).is_none());
        assert!(verify(&key, &t.replace("alice", "bob")).is_none());
        let old = format!(
            "v1 alice j1 t1 1 {}",
            key.purpose_mac(PURPOSE, "v1 alice j1 t1 1")
        );
        assert!(verify(&key, &old).is_none());
        assert!(verify(&key, "junk").is_none());
    }
}
