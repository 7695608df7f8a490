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
    let exited = loop {
        tokio::select! {
            status = child.wait() => break status.ok().and_then(exit_code),
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
