//! After a task's command ended (a task of its own or an item of a
//! batch): judging how it ended and storing what it made. Shared by
//! `execute.rs` and `batch.rs`, so both make the same results.

use storage_node::wire::PutResponse;

use super::failure::Failure;
use super::outputs::{collect, output};
use super::prepare::INIT_STATUS;
use super::publish::Publisher;
use super::spool::{self, Kind, Record};
use super::task_dir::TaskDir;
use super::wire::{Outcome, TaskOutput};
use crate::model::naming::stderr_object;
use crate::model::JobErrorCode;
use crate::runtime::LimitKind;
use crate::safe_fs::Confined;

/// The command's stdout: already in the local blob store (streamed while
/// it ran) or in a file (a batch item's).
pub(crate) enum Stdout {
    Stored(PutResponse),
    File(Confined),
}

/// How one task's command ended and where its traces are.
pub(crate) struct Ran<'a> {
    pub task_id: &'a str,
    pub output_base: &'a str,
    /// Its utilities' records.
    pub(crate) spool: &'a Confined,
    /// `None`: killed (or never reported one).
    pub exit_code: Option<i32>,
    /// The limit blamed for its end, if any.
    pub limit: Option<LimitKind>,
    /// The first bytes of its stderr.
    pub stderr: Vec<u8>,
    pub stdout: Stdout,
}

/// What a task produced: its result's `outputs`, `saved` and `stderr`.
#[derive(Debug, Default)]
pub(crate) struct Products {
    pub outputs: Vec<TaskOutput>,
    pub saved: Vec<TaskOutput>,
    pub stderr: Option<TaskOutput>,
}

impl Products {
    /// The outcome of `concluded`; a failed task keeps only its stderr.
    pub(crate) fn settle(&mut self, concluded: Result<(), Failure>) -> Outcome {
        match concluded {
            Ok(()) => Outcome::Ok,
            Err(failure) => {
                self.outputs.clear();
                self.saved.clear();
                failure.into_outcome()
            }
        }
    }
}

/// Judges `ran` and stores its outputs (stdout unless a utility took
/// over, then the spool's records), or, when it failed, its stderr as
/// `<output_base>err.<task_id>`.
///
/// # Errors
/// The user's failure (see [`judge`]) or ours (storing).
pub(crate) async fn conclude(
    publisher: &Publisher,
    ran: Ran<'_>,
    dir: &TaskDir,
    products: &mut Products,
) -> Result<(), Failure> {
    let records = spool::read(ran.spool, &publisher.limits)?;
    if let Some(failure) = judge(ran.exit_code, ran.limit, &records) {
        let saved = publisher.bytes(ran.stderr).await?;
        let name = stderr_object(ran.output_base, ran.task_id);
        products.stderr = Some(output(name, saved));
        return Err(failure);
    }
    if spool::captures_stdout(&records) {
        let name = format!("{}{}", ran.output_base, ran.task_id);
        let blob = match ran.stdout {
            Stdout::Stored(put) => publisher.replicate(put).await,
            Stdout::File(path) => publisher.file(&path).await?,
        };
        products.outputs.push(output(name, blob));
    }
    let produced = collect(publisher, records, ran.output_base, dir).await?;
    products.outputs.extend(produced.outputs);
    products.saved = produced.saved;
    Ok(())
}

/// The user's failure, if the command had one: a relative path given to
/// a utility, a limit, or a non-zero exit (init is judged before).
fn judge(exit_code: Option<i32>, limit: Option<LimitKind>, records: &[Record]) -> Option<Failure> {
    let invalid = records.iter().find_map(|r| match &r.kind {
        Kind::Invalid(message) => Some(message.clone()),
        _ => None,
    });
    if let Some(message) = invalid {
        return Some(Failure::user(JobErrorCode::InvalidArgumentError, message));
    }
    if let Some(limit) = limit {
        return Some(killed(limit));
    }
    let code = match exit_code {
        Some(0) => return None,
        Some(code) => code.to_string(),
        None => "unknown".to_owned(),
    };
    Some(Failure::user(
        JobErrorCode::UserTaskError,
        format!("user command exited with code {code}"),
    ))
}

/// `TaskKilledError` for `limit`.
pub(crate) fn killed(limit: LimitKind) -> Failure {
    Failure::user(
        JobErrorCode::TaskKilledError,
        format!("task killed (excessive resource usage): {limit}"),
    )
}

/// The exit status of init, if it failed: `init.status` in `spool`, as
/// the init wrapper or the batch driver wrote it.
///
/// # Errors
/// The task put something other than a small regular file there (the
/// user's), or it could not be read (ours).
pub(crate) fn init_status(spool: &Confined) -> Result<Option<String>, Failure> {
    let status = spool
        .child(INIT_STATUS)
        .and_then(|file| file.read(64))
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    match status {
        Ok(status) => Ok(Some(status)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(Failure::from_open("read init's exit status", e)),
    }
}

/// `TaskInitError` for an init that exited with `status` (as written by
/// the init wrapper or the batch driver).
pub(crate) fn init_failed(status: &str) -> Failure {
    Failure::user(
        JobErrorCode::TaskInitError,
        format!("user init command exited with code {}", status.trim()),
    )
}
