//! Compute jobs (docs/jobs.md): the job JSON types and the calls
//! node-manta's `lib/client.js` makes (`createJob`, `addJobKey`, `endJob`,
//! `cancelJob`, `job`, `listJobs`, `jobInput`/`jobOutput`/`jobFailures`/
//! `jobErrors`), with the same fallback to the archived `job.json`,
//! `in.txt`, `out.txt`, `fail.txt` and `err.txt` once `live/*` answers 404.
//!
//! The job JSON types ([`types`]) are the one definition of the wire
//! format: the server (the `jobs` crate) uses them too, adding its
//! validation on top.

use crate::client::Client;
use crate::error::{Error, Result};
use crate::types::DirEntry;
use bytes::Bytes;
use reqwest::Method;

mod types;
pub use types::*;

/// Content type of a CreateJob body.
pub const JOB_CONTENT_TYPE: &str = "application/json; type=job";

/// Which list of keys to read.
#[derive(Debug, Clone, Copy)]
enum KeyList {
    In,
    Out,
    Fail,
}

impl KeyList {
    /// `live/<route>` and the archived `<archive>.txt`.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            KeyList::In => ("in", "in"),
            KeyList::Out => ("out", "out"),
            KeyList::Fail => ("fail", "fail"),
        }
    }
}

/// The job id from CreateJob's `Location` (`/login/jobs/<id>`).
fn id_from_location(location: &str) -> Option<&str> {
    let (_, id) = location.rsplit_once("/jobs/")?;
    let id = id.trim_end_matches('/');
    (!id.is_empty()).then_some(id)
}

/// Non-empty lines, without `\r`.
fn lines(body: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(body)
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                percent_encoding::utf8_percent_encode(v, crate::path::RFC3986)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl Client {
    /// `/:login/jobs/<id>`; a path already naming a job
    /// (`/login/jobs/<id>`, `~~/jobs/<id>`) is taken as is, as node-manta's
    /// `getJobPath`.
    ///
    /// # Errors
    /// `InvalidPath` for an id that is empty or holds a `/` but is no path.
    pub fn job_path(&self, id: &str) -> Result<String> {
        if id.starts_with('/') || id.starts_with("~~") {
            return self.resolve(id);
        }
        if id.is_empty() || id.contains('/') {
            return Err(Error::InvalidPath(id.to_string()));
        }
        Ok(format!("/{}/jobs/{id}", self.user()))
    }

    /// Creates a job; returns its id (`POST /:login/jobs`, 201 with
    /// `Location: /:login/jobs/<id>`).
    ///
    /// # Errors
    /// `InvalidJob` when the server refuses the spec; `Protocol` without a
    /// usable `Location`.
    pub async fn create_job(&self, spec: &JobSpec) -> Result<String> {
        let mut spec = spec.clone();
        spec.name.get_or_insert_with(String::new);
        let body =
            serde_json::to_vec(&spec).map_err(|e| Error::Protocol(format!("encode job: {e}")))?;
        let path = format!("/{}/jobs", self.user());
        let req = self
            .request(Method::POST, &path, "")
            .header("content-type", JOB_CONTENT_TYPE)
            .header("accept", "application/json")
            .body(body);
        let resp = self.send_once(req).await?;
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        id_from_location(location)
            .map(str::to_string)
            .ok_or_else(|| Error::Protocol(format!("CreateJob Location {location:?}")))
    }

    /// Adds input keys (`POST live/in`, keys joined by `\r\n` as node-manta
    /// sends them); `end` also closes input (`?end=true`). Keys may use
    /// `~~`.
    ///
    /// # Errors
    /// `InvalidPath` for a relative key; `InvalidJobState` when input is
    /// closed or the job is done; `ResourceNotFound`/`JobNotFound`.
    pub async fn add_job_inputs(&self, id: &str, keys: &[String], end: bool) -> Result<()> {
        let keys = keys
            .iter()
            .map(|k| self.resolve(k.trim_end_matches(['\r', '\n'])))
            .collect::<Result<Vec<_>>>()?;
        let path = format!("{}/live/in", self.job_path(id)?);
        let q = if end { "end=true" } else { "" };
        let req = self
            .request(Method::POST, &path, q)
            .header("content-type", "text/plain")
            .header("accept", "application/json")
            .body(keys.join("\r\n"));
        self.send_once(req).await?;
        Ok(())
    }

    /// Closes input (`POST live/in/end`, 202; a no-op when already closed).
    ///
    /// # Errors
    /// `InvalidJobState` for a done or cancelled job; not found.
    pub async fn end_job_input(&self, id: &str) -> Result<()> {
        self.post_empty(&format!("{}/live/in/end", self.job_path(id)?))
            .await
    }

    /// Cancels a job (`POST live/cancel`, 202).
    ///
    /// # Errors
    /// `InvalidJobState` for a done or cancelled job; not found.
    pub async fn cancel_job(&self, id: &str) -> Result<()> {
        self.post_empty(&format!("{}/live/cancel", self.job_path(id)?))
            .await
    }

    async fn post_empty(&self, path: &str) -> Result<()> {
        self.send_retry(|| {
            self.request(Method::POST, path, "")
                .header("content-type", "application/json")
                .header("accept", "application/json")
                .header("content-length", "0")
        })
        .await?;
        Ok(())
    }

    /// The job object (`GET live/status`, else the archived `job.json`).
    ///
    /// # Errors
    /// `JobNotFound`/`ResourceNotFound`; `Protocol` for a body that is no
    /// job.
    pub async fn job(&self, id: &str) -> Result<Job> {
        let base = self.job_path(id)?;
        let body = self.live_or_archive(&base, "status", "job.json").await?;
        serde_json::from_slice(&body).map_err(|e| Error::Protocol(format!("job {id}: {e}")))
    }

    /// Input keys (`live/in`, at most the last 100 while live; `in.txt`
    /// once archived).
    ///
    /// # Errors
    /// As [`Client::job`].
    pub async fn job_inputs(&self, id: &str) -> Result<Vec<String>> {
        self.key_list(id, KeyList::In).await
    }

    /// Output keys of the last phase (`live/out`, else `out.txt`).
    ///
    /// # Errors
    /// As [`Client::job`].
    pub async fn job_outputs(&self, id: &str) -> Result<Vec<String>> {
        self.key_list(id, KeyList::Out).await
    }

    /// Inputs that failed (`live/fail`, else `fail.txt`).
    ///
    /// # Errors
    /// As [`Client::job`].
    pub async fn job_failures(&self, id: &str) -> Result<Vec<String>> {
        self.key_list(id, KeyList::Fail).await
    }

    /// Errors (`live/err` x-json-stream, else `err.txt`).
    ///
    /// # Errors
    /// As [`Client::job`]; `Protocol` for a line that is no error object.
    pub async fn job_errors(&self, id: &str) -> Result<Vec<JobError>> {
        let base = self.job_path(id)?;
        let body = self.live_or_archive(&base, "err", "err.txt").await?;
        lines(&body)
            .iter()
            .map(|l| {
                serde_json::from_str(l)
                    .map_err(|e| Error::Protocol(format!("errors of job {id}: {e}")))
            })
            .collect()
    }

    /// Lists jobs (`GET /:login/jobs[?state=..&name=..&limit=..]`): one
    /// directory entry per job, named by its id. Transient jobs are left
    /// out unless the query asks for them (`transient=true` lists only
    /// them, `transient=all` every job; docs/jobs.md).
    ///
    /// # Errors
    /// `InvalidParameter` for a bad filter.
    pub async fn list_jobs(
        &self,
        state: Option<&str>,
        name: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Vec<DirEntry>> {
        let limit = limit.map(|l| l.to_string());
        let pairs: Vec<(&str, &str)> = [
            ("state", state),
            ("name", name),
            ("limit", limit.as_deref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        let q = query(&pairs);
        let path = format!("/{}/jobs", self.user());
        let resp = self
            .send_retry(|| {
                self.request(Method::GET, &path, &q)
                    .header("accept", "application/x-json-stream")
            })
            .await?;
        let body = resp.bytes().await?;
        lines(&body)
            .iter()
            .map(|l| {
                serde_json::from_str(l).map_err(|e| Error::Protocol(format!("job listing: {e}")))
            })
            .collect()
    }

    async fn key_list(&self, id: &str, which: KeyList) -> Result<Vec<String>> {
        let base = self.job_path(id)?;
        let (live, archive) = which.names();
        let body = self
            .live_or_archive(&base, live, &format!("{archive}.txt"))
            .await?;
        Ok(lines(&body))
    }

    /// `GET <base>/live/<live>`; on 404 the archived `<base>/<archive>`. When
    /// both are missing the live error (e.g. `JobNotFound`) is returned.
    async fn live_or_archive(&self, base: &str, live: &str, archive: &str) -> Result<Bytes> {
        let path = format!("{base}/live/{live}");
        let first = self
            .send_retry(|| self.request(Method::GET, &path, "").header("accept", "*/*"))
            .await;
        let err = match first {
            Ok(resp) => return Ok(resp.bytes().await?),
            Err(e) if e.is_not_found() => e,
            Err(e) => return Err(e),
        };
        match self.get_bytes(&format!("{base}/{archive}")).await {
            Err(e2) if e2.is_not_found() => Err(err),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_gives_the_id() {
        assert_eq!(id_from_location("/bob/jobs/abc-1"), Some("abc-1"));
        assert_eq!(id_from_location("/bob/jobs/"), None);
        assert_eq!(id_from_location("/bob/stor/x"), None);
    }

    #[test]
    fn spec_leaves_out_unset_fields() {
        let spec = JobSpec {
            name: None,
            phases: vec![
                Phase {
                    exec: "wc".into(),
                    ..Phase::default()
                },
                Phase {
                    phase_type: PhaseType::Reduce,
                    exec: "cat".into(),
                    count: Some(2),
                    memory: Some(512),
                    ..Phase::default()
                },
            ],
            ..JobSpec::default()
        };
        let s = serde_json::to_string(&spec).unwrap_or_default();
        assert_eq!(
            s,
            r#"{"phases":[{"type":"map","exec":"wc"},{"type":"reduce","exec":"cat","count":2,"memory":512}]}"#
        );
    }

    #[test]
    fn unknown_fields_pass_through() {
        let text = r#"{"name":"n","transient":true,"phases":[{"exec":"wc","uarg":{"a":1}}]}"#;
        let spec: JobSpec = serde_json::from_str(text).unwrap_or_default();
        assert_eq!(spec.name.as_deref(), Some("n"));
        assert_eq!(spec.phases[0].phase_type, PhaseType::Map);
        assert!(spec.transient);
        assert!(spec.extra.is_empty() && spec.phases[0].extra.is_empty());
        let back = serde_json::to_string(&spec).unwrap_or_default();
        assert_eq!(
            back,
            r#"{"name":"n","phases":[{"type":"map","exec":"wc","uarg":{"a":1}}],"transient":true}"#
        );
    }

    #[test]
    fn job_object_reads_manta_fields() {
        let text = r#"{"id":"j1","name":"","state":"running","cancelled":false,
            "inputDone":true,"transient":false,
            "stats":{"errors":1,"outputs":2,"retries":0,"tasks":3,"tasksDone":2},
            "timeCreated":"2013-05-22T17:39:43.714Z",
            "phases":[{"exec":"wc","type":"map"}],"options":{}}"#;
        let job: Job = serde_json::from_str(text)
            .map_err(|e| e.to_string())
            .unwrap();
        assert_eq!(job.state, JobState::Running);
        assert!(!job.state.is_finished());
        assert_eq!(job.stats.tasks_done, 2);
        assert!(job.input_done);
        assert!(job.time_done.is_none());
        let back = serde_json::to_string(&job).unwrap_or_default();
        assert!(back.contains(r#""inputDone":true"#), "{back}");
        assert!(back.contains(r#""tasksDone":2"#), "{back}");
        assert!(!back.contains("timeDone"), "{back}");
    }

    #[test]
    fn archiving_counts_as_finished() {
        let s: JobState = serde_json::from_str(r#""archiving""#).unwrap_or(JobState::Queued);
        assert_eq!(s, JobState::Other("archiving".into()));
        assert!(s.is_finished());
        assert!(JobState::Done.is_finished());
    }

    #[test]
    fn error_phase_as_number_or_string() {
        let e: JobError = serde_json::from_str(
            r#"{"phase":0,"what":"phase 0: input \"/u/stor/x\"","code":"UserTaskError",
                "message":"user command exited with code 3","input":"/u/stor/x","p0input":"/u/stor/x"}"#,
        )
        .map_err(|e| e.to_string())
        .unwrap();
        assert_eq!(e.phase, 0);
        assert_eq!(e.code, JobErrorCode::UserTaskError);
        let old: JobError = serde_json::from_str(
            r#"{"phase":"1","what":"phase 1: reduce","code":"X","message":"m"}"#,
        )
        .map_err(|e| e.to_string())
        .unwrap();
        assert_eq!(old.phase, 1);
        assert_eq!(old.code, JobErrorCode::Other("X".into()));
    }

    #[test]
    fn key_lines_drop_cr_and_blanks() {
        assert_eq!(
            lines(b"/a/stor/x\r\n\n/a/stor/y"),
            vec!["/a/stor/x", "/a/stor/y"]
        );
    }
}
