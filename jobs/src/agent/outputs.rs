//! Turning the spool's records into the task's outputs and saved objects.

use super::failure::{Failure, InfraContext};
use super::msplit::{partition, SplitError};
use super::publish::Publisher;
use super::spool::{Kind, Record, SplitOptions};
use super::task_dir::TaskDir;
use super::wire::{StoredBlob, TaskOutput};
use crate::model::JobErrorCode;
use crate::safe_fs::Confined;

/// What the utilities produced.
#[derive(Debug, Default)]
pub(crate) struct Produced {
    pub outputs: Vec<TaskOutput>,
    /// `mtee` copies.
    pub saved: Vec<TaskOutput>,
}

/// An output named `path` holding `blob`.
pub(crate) fn output(path: String, blob: Option<StoredBlob>) -> TaskOutput {
    TaskOutput {
        path,
        reducer: None,
        reference: false,
        mkdirs: false,
        blob,
        headers: Vec::new(),
    }
}

/// `$MANTA_OUTPUT_BASE<uuid>`: the name of an output given none.
fn default_name(output_base: &str) -> String {
    format!("{output_base}{}", uuid::Uuid::new_v4())
}

/// Stores the records' data and describes them, in record order.
///
/// # Errors
/// Storing failed (ours), or a split key was not an integer (the user's).
pub(crate) async fn collect(
    publisher: &Publisher,
    records: Vec<Record>,
    output_base: &str,
    dir: &TaskDir,
) -> Result<Produced, Failure> {
    let mut produced = Produced::default();
    for record in records {
        let name = record
            .path
            .clone()
            .unwrap_or_else(|| default_name(output_base));
        if !name.starts_with('/') {
            return Err(Failure::user(
                JobErrorCode::InvalidArgumentError,
                format!("{name:?} is not an absolute Manta path"),
            ));
        }
        let mut out = output(name, None);
        out.reducer = record.reducer;
        out.mkdirs = record.mkdirs;
        out.headers = record.headers.clone();
        match &record.kind {
            Kind::Output => {
                out.blob = publisher.file(&record.data).await?;
                produced.outputs.push(out);
            }
            Kind::Reference => {
                out.reference = true;
                produced.outputs.push(out);
            }
            Kind::Save => {
                out.blob = publisher.file(&record.data).await?;
                produced.saved.push(out);
            }
            Kind::Split(opts) => {
                let parts = split(publisher, &record, opts, dir).await?;
                for (reducer, path) in parts {
                    let mut part = output(default_name(output_base), None);
                    part.reducer = Some(reducer);
                    part.blob = publisher.file(&path).await?;
                    produced.outputs.push(part);
                }
            }
            Kind::Invalid(_) => {}
        }
    }
    Ok(produced)
}

async fn split(
    publisher: &Publisher,
    record: &Record,
    opts: &SplitOptions,
    dir: &TaskDir,
) -> Result<Vec<(u32, Confined)>, Failure> {
    let parts_dir = dir.file(&format!("split.{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir(&parts_dir).infra("create msplit directory")?;
    let (data, opts, limits) = (record.data.clone(), opts.clone(), publisher.limits);
    let at = parts_dir.clone();
    let done = tokio::task::spawn_blocking(move || partition(&data, &at, &opts, &limits))
        .await
        .infra("run msplit")?;
    let parts = match done {
        Ok(parts) => parts,
        Err(SplitError::User(message)) => {
            return Err(Failure::user(JobErrorCode::UserTaskError, message))
        }
        Err(SplitError::LineTooLong(max)) => {
            return Err(Failure::user(
                JobErrorCode::UserTaskError,
                format!("msplit: a line is longer than {max} bytes"),
            ))
        }
        Err(SplitError::Open(e)) => return Err(Failure::from_open("msplit", e)),
        Err(SplitError::Io(e)) => return Err(Failure::infra("split msplit data", e)),
    };
    parts
        .into_iter()
        .map(|(reducer, name)| {
            let part = Confined::new(&parts_dir, &name).infra("name an msplit partition")?;
            Ok((reducer, part))
        })
        .collect()
}
