//! Watching a running task: the wall-clock deadline, the memory stall and
//! the pids counter, and the bounded stderr reader.

use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Child;

use super::cgroup::TaskCgroup;
use super::kind::RuntimeKind;
use super::task::{LimitKind, TaskSpec};

const POLL: Duration = Duration::from_millis(100);

/// Waits for the runtime to exit, killing the container at the deadline or
/// when it stalls at its memory limit; samples the pids counter meanwhile.
pub(crate) async fn monitor(
    child: &mut Child,
    cgroup: &TaskCgroup,
    spec: &TaskSpec,
    state: &Path,
    id: &str,
) -> (Option<i32>, Vec<LimitKind>) {
    let deadline = tokio::time::sleep(spec.limits.wall_time);
    tokio::pin!(deadline);
    let mut tick = tokio::time::interval(POLL);
    let mut hit = Vec::new();
    // runc with a terminal runs detached (`run -d`, see runner.rs): its exit
    // only means the container started; then the container is watched.
    let detached = spec.console.is_some() && spec.runtime == RuntimeKind::Runc;
    let (mut started, mut ticks) = (false, 0u32);
    let exited = loop {
        tokio::select! {
            status = child.wait(), if !started => {
                let code = status.ok().and_then(exit_code);
                if !detached || code != Some(0) {
                    break code;
                }
                started = true;
            }
            () = &mut deadline => {
                hit.push(LimitKind::WallTime);
                break None;
            }
            _ = tick.tick() => {
                let stats = cgroup.stats();
                if stats.pids_hit && !hit.contains(&LimitKind::Pids) {
                    hit.push(LimitKind::Pids);
                }
                if stats.memory_hit {
                    hit.push(LimitKind::Memory);
                    break None;
                }
                ticks += 1;
                if started && ticks % 5 == 0 && !running(spec.runtime, state, id).await {
                    // The exit status of a detached container is not kept.
                    break Some(0);
                }
            }
        }
    };
    if exited.is_some() {
        return (exited, hit);
    }
    stop_container(cgroup, spec.runtime, state, id).await;
    let _ = child.start_kill();
    let _ = child.wait().await;
    (None, hit)
}

/// Whether the runtime reports container `id` as still there and not
/// stopped.
async fn running(runtime: RuntimeKind, state: &Path, id: &str) -> bool {
    let Some(out) = super::cleanup::runtime_command(runtime, state, &["state", id]).await else {
        return false;
    };
    serde_json::from_str::<serde_json::Value>(&out)
        .ok()
        .and_then(|v| v["status"].as_str().map(|s| s != "stopped"))
        .unwrap_or(false)
}

async fn stop_container(cgroup: &TaskCgroup, runtime: RuntimeKind, state: &Path, id: &str) {
    // The cgroup first: a sandbox stalled at its memory limit cannot answer
    // the runtime's own kill command.
    cgroup.kill_all();
    super::cleanup::runtime_command(runtime, state, &["kill", id, "KILL"]).await;
}

fn exit_code(status: std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.code().or_else(|| status.signal().map(|s| 128 + s))
}

pub(crate) async fn read_bounded(
    reader: Option<impl AsyncRead + Unpin>,
    keep: usize,
) -> (Vec<u8>, u64) {
    let Some(mut reader) = reader else {
        return (Vec::new(), 0);
    };
    let (mut kept, mut total, mut buf) = (Vec::new(), 0u64, vec![0u8; 8192]);
    while let Ok(n) = reader.read(&mut buf).await {
        if n == 0 {
            break;
        }
        total += n as u64;
        let room = keep.saturating_sub(kept.len()).min(n);
        kept.extend_from_slice(&buf[..room]);
    }
    (kept, total)
}
