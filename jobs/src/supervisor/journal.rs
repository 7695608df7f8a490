//! The supervisor's reads and writes of its own records on the metadata
//! tier (`Keyspace::Jobs`, laid out in `records.rs`), in one place so every
//! call carries its context and the actor code reads as intent.

use super::error::{meta, Error, Result};
use super::records::{
    done_key, input_key, inputs_dir, job_key, jobs_dir, running_key, DoneRecord, JobRecord,
    RunningRecord, RUNNING_DIR,
};
use metadata_tier::wire::{Condition, Entry, EntryKey, Keyspace, ListOptions, Op};
use metadata_tier::MetadataClient;

/// One page of an account's jobs.
#[derive(Debug, Default)]
pub struct JobPage {
    /// Readable job records (unreadable ones are skipped).
    pub jobs: Vec<JobRecord>,
    /// The marker of the next page; `None` on the last.
    pub next: Option<String>,
}

/// The Jobs keyspace through a metadata client.
#[derive(Clone)]
pub(crate) struct Journal {
    meta: MetadataClient,
}

/// The key of the input record listed as `name` in job `id`'s inputs.
fn input_key_named(id: &str, name: String) -> EntryKey {
    EntryKey::new(Keyspace::Jobs, inputs_dir(id), name)
}

fn encode<T: serde::Serialize>(what: &str, v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| Error::Internal(format!("encode {what}: {e}")))
}

impl Journal {
    pub(crate) fn new(meta: MetadataClient) -> Self {
        Journal { meta }
    }

    /// Writes the job record; `fresh`: only if there is none yet.
    pub(crate) async fn put_job(&self, rec: &JobRecord, fresh: bool) -> Result<()> {
        let cond = if fresh {
            Condition::Absent
        } else {
            Condition::None
        };
        let value = encode("job record", rec)?;
        self.meta
            .put(job_key(&rec.owner, &rec.job.id), value, cond)
            .await
            .map_err(meta(format!("saving job {}", rec.job.id)))?;
        Ok(())
    }

    /// The job record of `owner`'s job `id`.
    pub(crate) async fn job(&self, owner: &str, id: &str) -> Result<Option<JobRecord>> {
        let Some(entry) = self
            .meta
            .get(&job_key(owner, id))
            .await
            .map_err(meta(format!("reading job {id}")))?
        else {
            return Ok(None);
        };
        serde_json::from_value(entry.value)
            .map(Some)
            .map_err(|e| Error::Internal(format!("job record {id}: {e}")))
    }

    /// Marks job `id` running (only if it is not yet).
    pub(crate) async fn put_running(&self, id: &str, rec: &RunningRecord) -> Result<()> {
        let value = encode("running record", rec)?;
        self.meta
            .put(running_key(id), value, Condition::Absent)
            .await
            .map_err(meta(format!("marking job {id} running")))?;
        Ok(())
    }

    /// Drops job `id` from the running set.
    pub(crate) async fn clear_running(&self, id: &str) -> Result<()> {
        self.meta
            .delete(running_key(id), Condition::None)
            .await
            .map_err(meta(format!("clearing the running record of job {id}")))?;
        Ok(())
    }

    /// Records inputs numbered from `first`, in order.
    pub(crate) async fn put_inputs(&self, id: &str, first: u64, paths: &[String]) -> Result<()> {
        let ops = paths
            .iter()
            .enumerate()
            .map(|(i, path)| Op::Put {
                key: input_key(id, first + i as u64),
                value: serde_json::json!({ "path": path }),
                cond: Condition::None,
            })
            .collect();
        self.meta
            .apply(ops)
            .await
            .map_err(meta(format!("recording inputs of job {id}")))?;
        Ok(())
    }

    /// Removes the input records of job `id` (a transient job's, once it
    /// is archived), a page at a time.
    pub(crate) async fn delete_inputs(&self, id: &str) -> Result<()> {
        let dir = inputs_dir(id);
        loop {
            // Deleted entries are gone: every page starts from the top.
            let (entries, _) = self.page(&dir, None, 1000).await?;
            if entries.is_empty() {
                return Ok(());
            }
            let ops = entries
                .into_iter()
                .map(|e| Op::Delete {
                    key: input_key_named(id, e.name),
                    cond: Condition::None,
                })
                .collect();
            self.meta
                .apply(ops)
                .await
                .map_err(meta(format!("removing the inputs of job {id}")))?;
        }
    }

    /// Writes a settled task's record.
    pub(crate) async fn put_done(&self, job_id: &str, done: &DoneRecord) -> Result<()> {
        let value = encode("done record", done)?;
        self.meta
            .put(done_key(job_id, &done.task_id), value, Condition::None)
            .await
            .map_err(meta(format!(
                "saving task {} of job {job_id}",
                done.task_id
            )))?;
        Ok(())
    }

    /// Calls `f` on every entry of a Jobs directory, in name order.
    pub(crate) async fn for_each<F>(&self, dir: &str, mut f: F) -> Result<()>
    where
        F: FnMut(&Entry) -> Result<()>,
    {
        let mut marker = None;
        loop {
            let page = self.page(dir, marker, 1000).await?;
            for e in &page.0 {
                f(e)?;
            }
            match page.1 {
                Some(m) => marker = Some(m),
                None => return Ok(()),
            }
        }
    }

    /// Up to `limit` entries of `dir` after `marker`, and the next marker.
    async fn page(
        &self,
        dir: &str,
        marker: Option<String>,
        limit: usize,
    ) -> Result<(Vec<Entry>, Option<String>)> {
        let opts = ListOptions {
            marker,
            limit,
            ..ListOptions::default()
        };
        let page = self
            .meta
            .list(Keyspace::Jobs, dir, &opts)
            .await
            .map_err(meta(format!("listing jobs records {dir}")))?;
        let next = match page.entries.last() {
            Some(last) if page.entries.len() == limit => Some(last.name.clone()),
            _ => None,
        };
        Ok((page.entries, next))
    }

    /// A page of the jobs not yet done: (job id, record).
    pub(crate) async fn running(
        &self,
        marker: Option<String>,
    ) -> Result<(Vec<(String, Option<RunningRecord>)>, Option<String>)> {
        let (entries, next) = self.page(RUNNING_DIR, marker, 500).await?;
        let recs = entries
            .into_iter()
            .map(|e| (e.name, serde_json::from_value(e.value).ok()))
            .collect();
        Ok((recs, next))
    }

    /// A page of `owner`'s jobs, by id.
    pub(crate) async fn jobs(&self, owner: &str, marker: Option<String>) -> Result<JobPage> {
        let (entries, next) = self.page(&jobs_dir(owner), marker, 500).await?;
        let jobs = entries
            .into_iter()
            .filter_map(|e| serde_json::from_value(e.value).ok())
            .collect();
        Ok(JobPage { jobs, next })
    }
}
