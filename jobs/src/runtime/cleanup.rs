//! Cleanup of a task's container, mounts, cgroup and bundle: after every
//! task, and at start for whatever a killed agent left behind.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::process::Command;

use super::cgroup::{leftover_ids, TaskCgroup};
use super::kind::RuntimeKind;
use super::rootfs::unmount_rootfs;
use crate::digest::Digest;
use crate::error::{json, IoContext};
use crate::Result;

const RUNTIME_COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// `tasks/<id>/task.json`: written before anything is set up, so recovery
/// knows the runtime, and image removal keeps the layers a task uses.
#[derive(Serialize, Deserialize)]
struct TaskRecord {
    runtime: RuntimeKind,
    layers: Vec<Digest>,
}

pub(crate) fn write_task_record(
    task_dir: &Path,
    runtime: RuntimeKind,
    layers: &[Digest],
) -> Result<()> {
    let record = TaskRecord {
        runtime,
        layers: layers.to_vec(),
    };
    let path = task_dir.join("task.json");
    let bytes = serde_json::to_vec(&record).map_err(json("task record"))?;
    fs::write(&path, bytes).ctx("write task record", &path)
}

/// Hex digests of the layers running tasks use.
pub(crate) fn layers_in_use(state: &Path) -> Result<BTreeSet<String>> {
    let mut used = BTreeSet::new();
    let dir = state.join("tasks");
    let Ok(entries) = fs::read_dir(&dir) else {
        return Ok(used);
    };
    for entry in entries {
        let entry = entry.ctx("list tasks", &dir)?;
        if let Ok(bytes) = fs::read(entry.path().join("task.json")) {
            if let Ok(record) = serde_json::from_slice::<TaskRecord>(&bytes) {
                used.extend(record.layers.iter().map(|d| d.hex().to_owned()));
            }
        }
    }
    Ok(used)
}

/// Runs `<runtime> <global flags> ARGS`, ignoring failure (the container
/// may be gone already) but not waiting forever.
pub(crate) async fn runtime_command(
    runtime: RuntimeKind,
    state: &Path,
    args: &[&str],
) -> Option<String> {
    let binary = runtime.locate().ok()?;
    let mut cmd = Command::new(binary);
    cmd.args(runtime.global_args(state))
        .args(args)
        .kill_on_drop(true);
    let out = tokio::time::timeout(RUNTIME_COMMAND_TIMEOUT, cmd.output())
        .await
        .ok()?
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Tears task `id` down; every step tolerates "already gone".
pub(crate) async fn cleanup_task(state: &Path, id: &str, runtimes: &[RuntimeKind]) {
    let cgroup = TaskCgroup::of(id);
    cgroup.kill_all();
    for runtime in runtimes {
        runtime_command(*runtime, state, &["delete", "--force", id]).await;
    }
    let task_dir = state.join("tasks").join(id);
    unmount_rootfs(&task_dir);
    // Killed processes take a moment to leave the cgroup.
    for _ in 0..50 {
        if cgroup.remove().is_ok() {
            break;
        }
        cgroup.kill_all();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if let Err(e) = fs::remove_dir_all(&task_dir) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(task = id, error = %e, "cannot remove task directory");
        }
    }
}

/// Cleans up every task left under `state` and every container in our
/// runtime roots; returns how many tasks were cleaned.
pub(crate) async fn recover(state: &Path) -> Result<usize> {
    const ALL: [RuntimeKind; 2] = [RuntimeKind::Runc, RuntimeKind::Runsc];
    let mut ids = BTreeSet::new();
    let dir = state.join("tasks");
    if let Ok(entries) = fs::read_dir(&dir) {
        for entry in entries {
            let entry = entry.ctx("list tasks", &dir)?;
            ids.insert(entry.file_name().to_string_lossy().into_owned());
        }
    }
    for runtime in ALL {
        if let Some(list) = runtime_command(runtime, state, &["list", "-q"]).await {
            ids.extend(
                list.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned),
            );
        }
    }
    // Only our own naming scheme, so another state directory's tasks on
    // the same host are left alone unless their bundle is here.
    ids.extend(
        leftover_ids()
            .into_iter()
            .filter(|id| dir.join(id).exists()),
    );
    for id in &ids {
        cleanup_task(state, id, &ALL).await;
    }
    Ok(ids.len())
}
