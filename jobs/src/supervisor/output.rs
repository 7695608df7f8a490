//! Committing what a task produced: each output object's record (checked
//! against what the job may write), then the task's done record. A bad
//! output is the job's fault (a job error); a store failure is ours (the
//! task is retried).

use super::error::{Error, Result};
use super::fault::{Fault, JobFault, TaskMeta};
use super::namespace::OutputObject;
use super::records::{DoneRecord, OutRef};
use super::task::JobCtx;
use crate::agent::wire::{ItemResult, Outcome, TaskOutput};
use crate::model::JobErrorCode;
use std::collections::BTreeMap;

/// Writes the task's objects and its done record.
pub(crate) async fn commit(
    ctx: &JobCtx,
    meta: &TaskMeta,
    node: &str,
    result: ItemResult,
) -> Result<DoneRecord> {
    let mut done = DoneRecord {
        phase: meta.phase,
        task_id: result.task_id.clone(),
        input: meta.input.clone(),
        reducer: meta.reducer,
        p0input: meta.p0input.clone(),
        outputs: Vec::new(),
        error: None,
        retries: meta.retries,
        node: Some(node.to_string()),
        ran: true,
    };
    match result.outcome {
        Outcome::Ok => {
            let written = async {
                for saved in &result.saved {
                    write_output(ctx, saved).await?;
                }
                for out in &result.outputs {
                    if !out.reference {
                        write_output(ctx, out).await?;
                    }
                    done.outputs.push(OutRef {
                        path: out.path.clone(),
                        reducer: out.reducer,
                    });
                }
                Ok::<_, Fault>(())
            };
            if let Err(e) = written.await {
                match e {
                    Fault::Internal(e) => {
                        return Err(Error::Store {
                            context: format!("writing the outputs of task {}", done.task_id),
                            source: e,
                        })
                    }
                    Fault::Job(fault) => {
                        done.outputs.clear();
                        done.error = Some(meta.job_error(fault, None));
                    }
                }
            }
        }
        Outcome::UserError { code, message } => {
            let stderr = match &result.stderr {
                Some(out) => match write_output(ctx, out).await {
                    Ok(()) => Some(out.path.clone()),
                    Err(Fault::Internal(e)) => {
                        return Err(Error::Store {
                            context: format!("writing the stderr of task {}", done.task_id),
                            source: e,
                        })
                    }
                    Err(Fault::Job(_)) => None,
                },
                None => None,
            };
            done.error = Some(meta.job_error(JobFault { code, message }, stderr));
        }
        Outcome::InfraError { message } => return Err(Error::Internal(message)),
    }
    ctx.journal.put_done(&ctx.job_id, &done).await?;
    Ok(done)
}

/// Creates the record of one object a task stored, if the job may write
/// it there.
async fn write_output(ctx: &JobCtx, out: &TaskOutput) -> std::result::Result<(), Fault> {
    let path = out.path.as_str();
    let (login, depth) = login_and_depth(path);
    // An account root (`/login`) or a top directory (`/login/stor`) is
    // never an object.
    if login != Some(ctx.login.as_str()) || depth <= 2 {
        return Err(Fault::job(
            JobErrorCode::AuthorizationError,
            format!("{} may not write {path}", ctx.login),
        ));
    }
    let job_dir = format!("/{}/jobs/{}/", ctx.login, ctx.job_id);
    if out.mkdirs || path.starts_with(&job_dir) {
        ctx.ns.mkdirs(&ctx.owner, path, &ctx.dirs).await?;
    } else if let Some(parent) = parent(path).filter(|_| depth > 3) {
        if !ctx.ns.dir_exists(&ctx.owner, &parent).await? {
            return Err(Fault::job(
                JobErrorCode::ResourceNotFoundError,
                format!("{parent} does not exist (use mpipe -p)"),
            ));
        }
    }
    let mut headers = BTreeMap::new();
    let mut content_type = "application/octet-stream".to_string();
    for (k, v) in &out.headers {
        let k = k.to_ascii_lowercase();
        if k == "content-type" {
            content_type = v.clone();
        } else if k.starts_with("m-") || k == "cache-control" {
            headers.insert(k, v.clone());
        }
    }
    let obj = OutputObject {
        blob: out.blob.clone(),
        content_type,
        headers,
        request_id: format!("job:{}", ctx.job_id),
    };
    // An object never replaces a directory (its entries would be orphaned).
    if ctx.ns.dir_exists(&ctx.owner, path).await? {
        return Err(Fault::job(
            JobErrorCode::InvalidArgumentError,
            format!("{path} is a directory"),
        ));
    }
    ctx.ns.put_output(&ctx.owner, path, &obj).await
}

/// The login a path starts with, and how many components it has.
fn login_and_depth(path: &str) -> (Option<&str>, usize) {
    let mut parts = path.split('/').filter(|p| !p.is_empty());
    let login = parts.next();
    (login, usize::from(login.is_some()) + parts.count())
}

/// The parent directory of a path, slashes collapsed.
fn parent(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let (_, dirs) = parts.split_last()?;
    (!dirs.is_empty()).then(|| format!("/{}", dirs.join("/")))
}

#[cfg(test)]
mod tests {
    use super::{login_and_depth, parent};

    #[test]
    fn paths_split() {
        assert_eq!(login_and_depth("/bob/stor/a"), (Some("bob"), 3));
        assert_eq!(login_and_depth("//bob//stor/"), (Some("bob"), 2));
        assert_eq!(login_and_depth("/"), (None, 0));
        assert_eq!(parent("/bob/stor/a/b").as_deref(), Some("/bob/stor/a"));
        assert_eq!(parent("/bob").as_deref(), None);
    }
}
