//! Archiving a finished job as Manta does: `job.json`, `in.txt`, `out.txt`,
//! `fail.txt` and `err.txt` under `/:login/jobs/:id/`, written from the
//! records on the metadata tier (so they are complete, not the last 100)
//! through temporary files (so a big job is never held in memory). A
//! transient job keeps no list of its inputs: no `in.txt` (and the actor
//! then removes its input records).

use super::error::{store, Error, Result};
use super::records::{done_dir, inputs_dir, DoneRecord, InputRecord, JobRecord};
use super::task::JobCtx;
use metadata_tier::wire::Entry;
use std::collections::BTreeMap;
use std::io::Write;

fn io(e: std::io::Error) -> Error {
    Error::Internal(format!("writing job archive: {e}"))
}

fn decode<T: serde::de::DeserializeOwned>(e: &Entry) -> Result<T> {
    serde_json::from_value(e.value.clone())
        .map_err(|err| Error::Internal(format!("job record {}: {err}", e.name)))
}

/// Writes the five archive objects of a job.
///
/// # Errors
/// Metadata, storage or local disk errors.
pub(crate) async fn write(ctx: &JobCtx, rec: &JobRecord) -> Result<()> {
    let tmp = tempfile::tempdir().map_err(io)?;
    let open = |name: &str| {
        std::fs::File::create(tmp.path().join(name))
            .map(std::io::BufWriter::new)
            .map_err(io)
    };
    let (mut input, mut out, mut fail, mut err) =
        (open("in")?, open("out")?, open("fail")?, open("err")?);
    let transient = rec.job.transient;
    if !transient {
        ctx.journal
            .for_each(&inputs_dir(&rec.job.id), |e| {
                let r: InputRecord = decode(e)?;
                writeln!(input, "{}", r.path).map_err(io)
            })
            .await?;
    }
    let last = rec.job.phases.len().saturating_sub(1) as u32;
    ctx.journal
        .for_each(&done_dir(&rec.job.id), |e| {
            let d: DoneRecord = decode(e)?;
            if let Some(job_err) = &d.error {
                let line = serde_json::to_string(job_err)
                    .map_err(|e| Error::Internal(format!("encode job error: {e}")))?;
                writeln!(err, "{line}").map_err(io)?;
                if let Some(p) = d.p0input.as_ref().or(d.input.as_ref()) {
                    writeln!(fail, "{p}").map_err(io)?;
                }
            }
            if d.phase == last {
                for o in &d.outputs {
                    writeln!(out, "{}", o.path).map_err(io)?;
                }
            }
            Ok(())
        })
        .await?;
    for w in [&mut input, &mut out, &mut fail, &mut err] {
        w.flush().map_err(io)?;
    }
    let mut job = rec.job.clone();
    job.state = crate::model::JobState::Done;
    let json = serde_json::to_vec(&job).map_err(|e| Error::Internal(format!("encode job: {e}")))?;
    std::fs::write(tmp.path().join("job"), json).map_err(io)?;
    let files = [
        ("job", "job.json", "application/json"),
        ("in", "in.txt", "text/plain"),
        ("out", "out.txt", "text/plain"),
        ("fail", "fail.txt", "text/plain"),
        (
            "err",
            "err.txt",
            "application/x-json-stream; type=job-error",
        ),
    ];
    for (file, name, ctype) in files {
        if transient && file == "in" {
            continue;
        }
        let path = format!("/{}/jobs/{}/{name}", rec.login, rec.job.id);
        let mut headers = BTreeMap::new();
        headers.insert("access-control-allow-origin".to_string(), "*".to_string());
        ctx.ns
            .put_file(&rec.owner, &path, &tmp.path().join(file), ctype, headers)
            .await
            .map_err(store(format!("archiving {path}")))?;
    }
    Ok(())
}
