//! The task's own cgroup, which carries its memory and pids limits.
//!
//! runc puts the container in a child of it (`<task>/ctr`) and deletes that
//! child when the container ends, so the limits and counters live here,
//! where they outlast the container. runsc runs with `--ignore-cgroups`, so
//! the whole sandbox (sentry, gofer, ptrace stubs) is started inside this
//! cgroup instead. On cgroup v1 OOM kills are disabled and the monitor
//! watches `under_oom`: a stalled task is a memory-limit hit that cannot be
//! missed, whereas v1's `oom_kill` counter is kept on the (deleted) child.

use std::fs;
use std::path::{Path, PathBuf};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::error::IoContext;
use crate::Result;

const PARENT: &str = "mantad-jobs";
const V1_ROOT: &str = "/sys/fs/cgroup";

/// Counters read after (or during) a task.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CgroupStats {
    pub(crate) peak_memory: Option<u64>,
    pub(crate) memory_hit: bool,
    pub(crate) pids_hit: bool,
}

/// One task's cgroup, in the v1 `memory` and `pids` hierarchies or in the
/// v2 unified one.
#[derive(Debug)]
pub(crate) struct TaskCgroup {
    v2: bool,
    memory: PathBuf,
    pids: PathBuf,
}

impl TaskCgroup {
    /// The cgroup paths of task `id`, created or not.
    pub(crate) fn of(id: &str) -> Self {
        let v2 = Path::new(V1_ROOT).join("cgroup.controllers").is_file();
        let (memory, pids) = if v2 {
            let p = Path::new(V1_ROOT).join(PARENT).join(id);
            (p.clone(), p)
        } else {
            let at = |c: &str| Path::new(V1_ROOT).join(c).join(PARENT).join(id);
            (at("memory"), at("pids"))
        };
        Self { v2, memory, pids }
    }

    /// Creates the cgroup with its limits.
    pub(crate) fn create(id: &str, memory_bytes: u64, pids: u64) -> Result<Self> {
        let cg = Self::of(id);
        if cg.v2 {
            let parent = Path::new(V1_ROOT).join(PARENT);
            fs::create_dir_all(&parent).ctx("create cgroup", &parent)?;
            write(
                &Path::new(V1_ROOT).join("cgroup.subtree_control"),
                "+memory +pids",
            )?;
            write(&parent.join("cgroup.subtree_control"), "+memory +pids")?;
            fs::create_dir_all(&cg.memory).ctx("create cgroup", &cg.memory)?;
            write(&cg.memory.join("memory.max"), &memory_bytes.to_string())?;
            write(&cg.memory.join("memory.swap.max"), "0").ok();
            write(&cg.pids.join("pids.max"), &pids.to_string())?;
        } else {
            fs::create_dir_all(&cg.memory).ctx("create cgroup", &cg.memory)?;
            fs::create_dir_all(&cg.pids).ctx("create cgroup", &cg.pids)?;
            write(
                &cg.memory.join("memory.limit_in_bytes"),
                &memory_bytes.to_string(),
            )?;
            write(&cg.memory.join("memory.oom_control"), "1")?;
            write(&cg.pids.join("pids.max"), &pids.to_string())?;
        }
        Ok(cg)
    }

    /// The `cgroup.procs` files a process must join to be in this cgroup.
    pub(crate) fn procs_files(&self) -> Vec<PathBuf> {
        let mut files = vec![self.memory.join("cgroup.procs")];
        if !self.v2 {
            files.push(self.pids.join("cgroup.procs"));
        }
        files
    }

    /// runc's `cgroupsPath` for the container: a child of this cgroup.
    pub(crate) fn runc_path(id: &str) -> String {
        format!("/{PARENT}/{id}/ctr")
    }

    /// Current counters; called while the task runs and once after.
    pub(crate) fn stats(&self) -> CgroupStats {
        let read = |p: PathBuf| fs::read_to_string(p).unwrap_or_default();
        let field = |text: &str, key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        let pids_events = read(self.pids.join("pids.events"));
        let pids_full =
            read(self.pids.join("pids.current")).trim() == read(self.pids.join("pids.max")).trim();
        // Some kernels count a refused fork in the cgroup of the forking
        // task (runc's `ctr` child, gone once the container exits) rather
        // than in the one whose limit refused it: read both while it runs.
        let child_events = read(self.pids.join("ctr").join("pids.events"));
        let pids_hit =
            field(&pids_events, "max ") > 0 || field(&child_events, "max ") > 0 || pids_full;
        if self.v2 {
            let events = read(self.memory.join("memory.events"));
            CgroupStats {
                peak_memory: read(self.memory.join("memory.peak")).trim().parse().ok(),
                memory_hit: field(&events, "oom_kill ") > 0,
                pids_hit,
            }
        } else {
            let oom = read(self.memory.join("memory.oom_control"));
            CgroupStats {
                peak_memory: read(self.memory.join("memory.max_usage_in_bytes"))
                    .trim()
                    .parse()
                    .ok(),
                memory_hit: field(&oom, "under_oom ") > 0,
                pids_hit,
            }
        }
    }

    /// SIGKILLs every process left in the cgroup and its children.
    pub(crate) fn kill_all(&self) {
        for dir in [&self.memory, &self.pids] {
            for pid in pids_under(dir) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
    }

    /// Removes the cgroup (children first); fails while processes remain.
    pub(crate) fn remove(&self) -> Result<()> {
        for dir in [&self.memory, &self.pids] {
            if !dir.exists() {
                continue;
            }
            let child = dir.join("ctr");
            if child.exists() {
                fs::remove_dir(&child).ctx("remove cgroup", &child)?;
            }
            fs::remove_dir(dir).ctx("remove cgroup", dir)?;
        }
        Ok(())
    }
}

fn pids_under(dir: &Path) -> Vec<i32> {
    let mut out: Vec<i32> = fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    out.extend(pids_under_child(&dir.join("ctr")));
    out
}

fn pids_under_child(dir: &Path) -> Vec<i32> {
    fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

fn write(path: &Path, value: &str) -> Result<()> {
    fs::write(path, value).ctx("write cgroup file", path)
}

/// Ids of task cgroups left behind (for recovery after a restart).
pub(crate) fn leftover_ids() -> Vec<String> {
    let c = TaskCgroup::of("x");
    let parent = c.memory.parent().map(Path::to_path_buf).unwrap_or_default();
    fs::read_dir(parent)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}
