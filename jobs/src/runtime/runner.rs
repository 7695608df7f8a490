//! Runs a task: rootfs, bundle, cgroup, the runtime's `run`, the monitor
//! that enforces the wall-clock and memory limits, and cleanup on every
//! path.

use std::path::{Component, Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use std::future::Future;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, Command};

use super::cgroup::TaskCgroup;
use super::cleanup::{cleanup_task, write_task_record};
use super::kind::RuntimeKind;
use super::monitor::{monitor, read_bounded};
use super::rootfs::{ensure_dir, mount_rootfs, resolve_user, rootfs_dir, tmp_dir, write_limit_hit};
use super::spec::{build, SpecInput};
use super::task::{LimitKind, TaskOutcome, TaskSpec};
use super::userns::shift_rootfs;
use crate::error::IoContext;
use crate::image::{ensure_default_image, ImageRecord, ImageStore};
use crate::{Error, Result};

/// Joins the task cgroup, then becomes the runtime: nothing the runtime
/// forks can start outside the cgroup.
const JOIN_CGROUP: &str = r#"for f in $MANTAD_CGROUP_PROCS; do echo $$ > "$f" || exit 125; done; unset MANTAD_CGROUP_PROCS; exec "$@""#;
/// The sandbox's own memory (sentry, gofer) and threads under runsc, on top
/// of the task's limits.
const RUNSC_MEMORY_OVERHEAD: u64 = 96 << 20;
const RUNSC_PIDS_OVERHEAD: u64 = 128;

/// Runs tasks with the images of one store; the state directory also holds
/// the bundles (`tasks/`) and the runtimes' state (`runc/`, `runsc/`).
#[derive(Clone, Debug)]
pub struct TaskRunner {
    store: ImageStore,
}

impl TaskRunner {
    pub fn new(store: ImageStore) -> Self {
        Self { store }
    }

    pub fn store(&self) -> &ImageStore {
        &self.store
    }

    /// Removes containers, mounts, cgroups and bundles left by an agent
    /// that was killed; call once at start, before running tasks.
    ///
    /// # Errors
    /// I/O errors listing the state directory.
    pub async fn recover(&self) -> Result<usize> {
        super::cleanup::recover(self.store.state_dir()).await
    }

    /// Runs `spec`, streaming its stdout into `stdout`.
    ///
    /// # Errors
    /// A missing runtime or image, an invalid spec, or a failure to set the
    /// container up. A task that fails or hits a limit is an `Ok` outcome.
    pub async fn run<W: AsyncWrite + Unpin>(
        &self,
        spec: &TaskSpec,
        stdout: &mut W,
    ) -> Result<TaskOutcome> {
        self.run_task(spec, None, stdout).await
    }

    /// Runs `spec` with a pipe on stdin fed from `stdin` while the task
    /// runs (a reducer's inputs); `spec.stdin` is ignored. The pipe is
    /// closed at the end of `stdin`. When the task exits or closes its
    /// stdin first, feeding stops without error and the rest of `stdin` is
    /// left unread.
    ///
    /// # Errors
    /// As [`TaskRunner::run`]; an error reading `stdin` is not one (the
    /// task just sees its stdin end).
    pub(crate) async fn run_with_stdin<R, W>(
        &self,
        spec: &TaskSpec,
        mut stdin: R,
        stdout: &mut W,
    ) -> Result<TaskOutcome>
    where
        R: AsyncRead + Unpin + Send,
        W: AsyncWrite + Unpin,
    {
        self.run_task(spec, Some(&mut stdin), stdout).await
    }

    async fn run_task<W: AsyncWrite + Unpin>(
        &self,
        spec: &TaskSpec,
        stdin: Option<&mut (dyn AsyncRead + Unpin + Send)>,
        stdout: &mut W,
    ) -> Result<TaskOutcome> {
        let begun = Instant::now();
        let binary = spec.runtime.locate()?;
        let image = match &spec.image {
            None => ensure_default_image(&self.store)?,
            Some(name) => self.store.get(name)?,
        };
        let state = self.store.state_dir();
        let id = format!("t{}", uuid::Uuid::new_v4().simple());
        let task = Task {
            spec,
            dir: state.join("tasks").join(&id),
            id,
            state,
            binary,
        };
        std::fs::create_dir_all(&task.dir).ctx("create task directory", &task.dir)?;
        write_task_record(&task.dir, spec.runtime, &image.layers)?;
        let mut guard = CleanupOnDrop(Some((state.to_path_buf(), task.id.clone(), spec.runtime)));
        let result = match self.prepare(&task, &image) {
            Ok(cgroup) => execute(&task, &cgroup, stdin, stdout, begun).await,
            Err(e) => Err(e),
        };
        super::metrics::ended(spec.runtime, result.as_ref().ok());
        guard.0 = None;
        cleanup_task(state, &task.id, &[spec.runtime]).await;
        result
    }

    /// Mounts the rootfs, writes the bundle and creates the cgroup.
    fn prepare(&self, task: &Task<'_>, image: &ImageRecord) -> Result<TaskCgroup> {
        let (spec, limits) = (task.spec, &task.spec.limits);
        let lowers: Vec<PathBuf> = image
            .layers
            .iter()
            .map(|d| self.store.layer_dir(d))
            .collect();
        let runc = spec.runtime == RuntimeKind::Runc;
        mount_rootfs(&task.dir, &lowers, limits.write_bytes, runc)?;
        let rootfs = rootfs_dir(&task.dir);
        let (uid, gid) = resolve_user(&rootfs, image.config.user.as_deref())?;
        let cwd = image
            .config
            .working_dir
            .clone()
            .unwrap_or_else(|| "/".into());
        ensure_dir(&rootfs, &cwd)?;
        if runc {
            shift_rootfs(&rootfs)?;
        }
        let oci = build(SpecInput {
            runtime: spec.runtime,
            args: vec!["/bin/sh".into(), "-c".into(), spec.command.clone()],
            env: merge_env(&image.config.env, &spec.env),
            cwd,
            uid,
            gid,
            binds: &check_mounts(spec)?,
            cgroups_path: runc.then(|| TaskCgroup::runc_path(&task.id)),
            tmp: tmp_dir(&task.dir),
            terminal: spec.console.is_some(),
        })?;
        oci.save(task.dir.join("config.json"))?;
        let (memory, pids) = if runc {
            (limits.memory_bytes, limits.pids)
        } else {
            (
                limits.memory_bytes + RUNSC_MEMORY_OVERHEAD,
                limits.pids + RUNSC_PIDS_OVERHEAD,
            )
        };
        TaskCgroup::create(&task.id, memory, pids)
    }
}

/// One task's identity and places.
struct Task<'a> {
    spec: &'a TaskSpec,
    id: String,
    state: &'a Path,
    /// `<state>/tasks/<id>`: the bundle.
    dir: PathBuf,
    binary: PathBuf,
}

/// Starts the runtime and waits, streaming stdout and keeping stderr.
async fn execute<W: AsyncWrite + Unpin>(
    task: &Task<'_>,
    cgroup: &TaskCgroup,
    stdin: Option<&mut (dyn AsyncRead + Unpin + Send)>,
    stdout: &mut W,
    begun: Instant,
) -> Result<TaskOutcome> {
    let console = match &task.spec.console {
        Some(sink) => Some(super::console::ConsoleServer::start(
            &task.id,
            sink.clone(),
        )?),
        None => None,
    };
    let mut child = spawn(task, cgroup, stdin.is_some(), console.as_ref())?;
    let started = Instant::now();
    super::metrics::started(task.spec.runtime, started - begun);
    let _running = super::metrics::Running::start(task.spec.runtime);
    let (out, err) = (child.stdout.take(), child.stderr.take());
    let feed = feed_stdin(stdin, child.stdin.take());
    let copy_out = async {
        match out {
            Some(mut out) => tokio::io::copy(&mut out, stdout).await,
            None => Ok(0),
        }
    };
    let read_err = read_bounded(err, task.spec.limits.stderr_bytes);
    let watch = monitor(&mut child, cgroup, task.spec, task.state, &task.id);
    let (copied, (stderr, stderr_total), (status, mut hit)) =
        tokio::join!(copy_out, read_err, until_done(watch, feed));
    let wall_time = started.elapsed();
    let stdout_bytes = copied.ctx("copy task stdout", &task.dir)?;
    let stats = cgroup.stats();
    if stats.pids_hit && !hit.contains(&LimitKind::Pids) {
        hit.push(LimitKind::Pids);
    }
    if write_limit_hit(&task.dir) {
        hit.push(LimitKind::WriteBytes);
    }
    Ok(TaskOutcome {
        exit_code: status,
        limits_hit: hit,
        stderr,
        stderr_total,
        stdout_bytes,
        wall_time,
        peak_memory: stats.peak_memory,
    })
}

/// Runs `watch` to completion and `feed` beside it, dropping `feed` (and
/// so the write end of the pipe) if the task ends first.
async fn until_done<T>(watch: impl Future<Output = T>, feed: impl Future<Output = ()>) -> T {
    tokio::pin!(watch, feed);
    let mut fed = false;
    loop {
        tokio::select! {
            out = &mut watch => return out,
            () = &mut feed, if !fed => fed = true,
        }
    }
}

/// Copies `source` into the task's stdin pipe, then closes it. A task that
/// exits or closes its stdin early makes the write fail: that just ends
/// the feeding.
async fn feed_stdin(source: Option<&mut (dyn AsyncRead + Unpin + Send)>, pipe: Option<ChildStdin>) {
    let (Some(source), Some(mut pipe)) = (source, pipe) else {
        return;
    };
    if let Err(e) = tokio::io::copy(source, &mut pipe).await {
        tracing::debug!(error = %e, "task stdin feeding stopped");
        return;
    }
    let _ = pipe.shutdown().await;
}

fn spawn(
    task: &Task<'_>,
    cgroup: &TaskCgroup,
    piped_stdin: bool,
    console: Option<&super::console::ConsoleServer>,
) -> Result<Child> {
    let stdin = match &task.spec.stdin {
        _ if piped_stdin => Stdio::piped(),
        Some(path) => Stdio::from(std::fs::File::open(path).ctx("open task stdin", path)?),
        None => Stdio::null(),
    };
    let runtime = task.spec.runtime;
    let mut args = runtime.global_args(task.state);
    let bundle = task.dir.display().to_string();
    args.extend(["run".into(), "--bundle".into(), bundle]);
    if let Some(c) = console {
        // runc hands the pty over only when it detaches (in the foreground
        // it wants a terminal of its own); the monitor then watches the
        // container. runsc hands it over either way.
        if runtime == RuntimeKind::Runc {
            args.push("--detach".into());
        }
        args.extend(["--console-socket".into(), c.path.display().to_string()]);
    }
    args.push(task.id.clone());
    let mut cmd = if runtime == RuntimeKind::Runc {
        // runc puts the container in the task cgroup's child itself.
        let mut cmd = Command::new(&task.binary);
        cmd.args(&args);
        cmd
    } else {
        let procs: Vec<String> = cgroup
            .procs_files()
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", JOIN_CGROUP, "mantad-task"])
            .arg(&task.binary)
            .args(&args);
        cmd.env("MANTAD_CGROUP_PROCS", procs.join(" "));
        cmd
    };
    cmd.stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd.spawn().ctx("start container runtime", &task.binary)
}

fn merge_env(image: &[String], task: &[(String, String)]) -> Vec<String> {
    let mut env: Vec<String> = image
        .iter()
        .filter(|kv| {
            let key = kv.split('=').next().unwrap_or_default();
            !task.iter().any(|(k, _)| k == key)
        })
        .cloned()
        .collect();
    env.extend(task.iter().map(|(k, v)| format!("{k}={v}")));
    if !env.iter().any(|kv| kv.starts_with("PATH=")) {
        env.push("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    }
    env
}

fn check_mounts(spec: &TaskSpec) -> Result<Vec<(PathBuf, PathBuf, bool)>> {
    spec.mounts
        .iter()
        .map(|m| {
            let clean = m.destination.is_absolute()
                && m.destination
                    .components()
                    .all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
            if !clean || m.destination == Path::new("/") {
                return Err(Error::InvalidTask(format!(
                    "bad mount destination {:?}",
                    m.destination
                )));
            }
            let source = m
                .source
                .canonicalize()
                .ctx("find mount source", &m.source)?;
            Ok((source, m.destination.clone(), m.writable))
        })
        .collect()
}

/// Cleans up in the background when a `run` future is dropped mid-task
/// (a cancelled job); a killed agent is covered by `recover` instead.
struct CleanupOnDrop(Option<(PathBuf, String, RuntimeKind)>);

impl Drop for CleanupOnDrop {
    fn drop(&mut self) {
        let Some((state, id, runtime)) = self.0.take() else {
            return;
        };
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move { cleanup_task(&state, &id, &[runtime]).await });
        }
    }
}
