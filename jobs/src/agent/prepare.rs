//! Everything a task's container is given: image, mounts (utilities,
//! spool, assets, the map input), environment, command and limits.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::counters::add;
use super::failure::Failure;
use super::fetch::StreamError;
use super::task_dir::TaskDir;
use super::utilities::{BIN_DIR, SPOOL_DIR};
use super::wire::{InputObject, TaskKind, TaskRequest};
use super::Shared;
use crate::model::JobErrorCode;
use crate::runtime::{BindMount, Limits, TaskSpec};

/// Written by the init wrapper into the spool: init's exit status.
pub(crate) const INIT_STATUS: &str = "init.status";

/// Runs init (stdin and stdout closed off) and then exec, both given in
/// the environment so no quoting is needed.
const INIT_WRAPPER: &str = r#"/bin/sh -c "$MANTA_INIT" </dev/null >/dev/null || { echo $? >"$MANTA_SPOOL/init.status"; exit 1; }
e=$MANTA_EXEC; unset MANTA_INIT MANTA_EXEC; exec /bin/sh -c "$e""#;

/// Stays well under the supervisor's patience; Manta has no per-task
/// time limit of its own.
pub(crate) const WALL_TIME: Duration = Duration::from_secs(3600);

/// Bytes read to prepare the task.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct InputBytes {
    pub local: u64,
    pub remote: u64,
}

/// The task's spec; a map task's input is mounted and on stdin.
///
/// # Errors
/// The user's: a bad image, asset or path; ours: fetching or disk (and a
/// batch, which `batch.rs` prepares).
pub(crate) async fn task_spec(
    shared: &Shared,
    req: &TaskRequest,
    dir: &TaskDir,
    input: &mut InputBytes,
) -> Result<TaskSpec, Failure> {
    let mut spec = common_spec(shared, req, dir).await?;
    match &req.kind {
        TaskKind::Map { input: object } => {
            let dest = container_path("/manta", &object.path)?;
            let file = map_input(shared, object, &dir.file("input"), input).await?;
            spec.mounts.push(BindMount::read_only(&file, &dest));
            spec.stdin = Some(file);
            let env = &mut spec.env;
            env.push(("MANTA_INPUT_OBJECT".into(), object.path.clone()));
            env.push(("MANTA_INPUT_FILE".into(), dest.display().to_string()));
            env.push(("mc_input_key".into(), object.path.clone()));
            env.push(("mc_input_file".into(), dest.display().to_string()));
        }
        TaskKind::MapBatch { .. } => {
            return Err(Failure::infra("prepare a task", "a batch is not a task"));
        }
        TaskKind::Reduce { reducer } => {
            spec.env.push(("MANTA_REDUCER".into(), reducer.to_string()));
        }
    }
    if let Some(init) = &req.init {
        spec.env.push(("MANTA_INIT".into(), init.clone()));
        spec.env.push(("MANTA_EXEC".into(), req.exec.clone()));
        spec.command = INIT_WRAPPER.into();
    }
    Ok(spec)
}

/// What every container of `req` gets, whatever its kind: image, the
/// utilities, the spool, assets, the shared environment and limits.
///
/// # Errors
/// As [`task_spec`].
pub(crate) async fn common_spec(
    shared: &Shared,
    req: &TaskRequest,
    dir: &TaskDir,
) -> Result<TaskSpec, Failure> {
    let image = super::image::resolve(shared, &req.image, dir).await?;
    let mut spec = TaskSpec {
        image: image.name,
        command: req.exec.clone(),
        runtime: shared.runtime,
        stdin: None,
        mounts: vec![
            BindMount::read_only(&shared.bin_dir, BIN_DIR),
            BindMount::read_write(dir.spool(), SPOOL_DIR),
        ],
        env: base_env(req, &image.path),
        limits: limits(req),
        console: None,
    };
    for (i, asset) in req.assets.iter().enumerate() {
        spec.mounts.push(mount_asset(shared, asset, dir, i).await?);
    }
    if let Some(tb) = super::toolbox::attach(shared, req, dir, WALL_TIME)? {
        spec.mounts.extend(tb.mounts);
        for (k, v) in &mut spec.env {
            if k == "MANTA_URL" {
                v.clone_from(&tb.url);
            }
        }
        dir.keep_toolbox(tb.guard);
    }
    Ok(spec)
}

fn base_env(req: &TaskRequest, image_path: &str) -> Vec<(String, String)> {
    [
        ("MANTA_USER", req.login.as_str()),
        ("MANTA_JOB_ID", &req.job_id),
        ("MANTA_OUTPUT_BASE", &req.output_base),
        ("MANTA_NO_AUTH", "true"),
        ("MANTA_URL", "http://localhost:80/"),
        ("MANTA_SPOOL", SPOOL_DIR),
        ("HOME", "/root"),
        ("PATH", &format!("{BIN_DIR}:{image_path}")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn limits(req: &TaskRequest) -> Limits {
    Limits {
        memory_bytes: u64::from(req.memory_mb.max(1)) << 20,
        write_bytes: u64::from(req.disk_gb.max(1)) << 30,
        wall_time: WALL_TIME,
        ..Limits::default()
    }
}

/// `prefix` + a Manta path, refusing paths that are not absolute and
/// plain (no `.`, `..` or empty components).
pub(crate) fn container_path(prefix: &str, path: &str) -> Result<PathBuf, Failure> {
    let plain = path.strip_prefix('/').is_some_and(|rest| {
        !path.contains('\0')
            && rest
                .split('/')
                .all(|c| !c.is_empty() && c != "." && c != "..")
    });
    if !plain {
        return Err(Failure::user(
            JobErrorCode::InvalidArgumentError,
            format!("{path:?} is not a usable object path"),
        ));
    }
    Ok(PathBuf::from(format!("{prefix}{path}")))
}

/// A file with a map input's bytes: the local blob file, or a copy
/// fetched into `dest`; the bytes are counted in `bytes` and the agent's
/// map counters.
///
/// # Errors
/// No node could give it, or `dest` could not be written (ours).
pub(crate) async fn map_input(
    shared: &Shared,
    object: &InputObject,
    dest: &Path,
    bytes: &mut InputBytes,
) -> Result<PathBuf, Failure> {
    let fetched = shared
        .fetcher
        .materialize(object.blob.as_ref(), dest)
        .await
        .map_err(|e| match e {
            StreamError::Source(why) => {
                Failure::Infra(format!("fetch input {}: {why}", object.path))
            }
            StreamError::Sink(e) => Failure::infra("write fetched input", e),
        })?;
    let counters = &shared.counters;
    if fetched.local {
        bytes.local += fetched.size;
        add(&counters.map_local_bytes, fetched.size);
    } else {
        bytes.remote += fetched.size;
        add(&counters.map_remote_bytes, fetched.size);
    }
    Ok(fetched.path)
}

async fn mount_asset(
    shared: &Shared,
    asset: &InputObject,
    dir: &TaskDir,
    index: usize,
) -> Result<BindMount, Failure> {
    let dest = container_path("/assets", &asset.path)?;
    let fetched = shared
        .fetcher
        .materialize(asset.blob.as_ref(), &dir.file(&format!("asset.{index}")))
        .await
        .map_err(|e| {
            tracing::warn!(asset = %asset.path, error = %e, "asset fetch failed");
            Failure::user(
                JobErrorCode::TaskInitError,
                format!("failed to fetch asset {}", asset.path),
            )
        })?;
    add(&shared.counters.asset_bytes, fetched.size);
    Ok(BindMount::read_only(fetched.path, dest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_paths_must_be_plain_and_absolute() {
        let ok = container_path("/manta", "/u/stor/a b").unwrap();
        assert_eq!(ok, PathBuf::from("/manta/u/stor/a b"));
        for bad in ["u/stor", "/u/../x", "/u/./x", "/", "/u//x", ""] {
            assert!(container_path("/manta", bad).is_err(), "{bad}");
        }
    }
}
