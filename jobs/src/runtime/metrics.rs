//! Containers in Prometheus terms, by runtime (docs/operations.md): how
//! many run now, how long one takes to set up and start, how long they
//! run and how they end.

use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};

use super::{RuntimeKind, TaskOutcome};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Runtime {
    runtime: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Ended {
    runtime: String,
    /// `ok` (exit 0), `failed` (another exit), `limit` (a limit was hit),
    /// `error` (the container could not be set up or run).
    outcome: String,
}

type Hist = Family<Runtime, Histogram, fn() -> Histogram>;

struct M {
    running: Family<Runtime, Gauge>,
    start: Hist,
    duration: Hist,
    ended: Family<Ended, Counter>,
}

/// 5 ms to about 80 s.
fn buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 15))
}

fn m() -> &'static M {
    static M: OnceLock<M> = OnceLock::new();
    M.get_or_init(|| {
        let m = M {
            running: Family::default(),
            start: Family::new_with_constructor(buckets),
            duration: Family::new_with_constructor(buckets),
            ended: Family::default(),
        };
        use metadata_tier::net::metrics::register;
        register("task_containers_running", "Task containers running now, by runtime", m.running.clone());
        register(
            "task_container_start_seconds",
            "From a task's start to its container's runtime process running: image layers mounted, bundle and cgroup made, runtime spawned",
            m.start.clone(),
        );
        register("task_container_run_seconds", "Wall time of task containers, by runtime", m.duration.clone());
        register("task_containers_ended", "Task containers ended, by runtime and outcome", m.ended.clone());
        m
    })
}

fn label(kind: RuntimeKind) -> Runtime {
    Runtime {
        runtime: kind.to_string(),
    }
}

/// Counts a container as running until dropped.
pub(super) struct Running(RuntimeKind);

impl Running {
    pub(super) fn start(kind: RuntimeKind) -> Self {
        m().running.get_or_create(&label(kind)).inc();
        Running(kind)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        m().running.get_or_create(&label(self.0)).dec();
    }
}

pub(super) fn started(kind: RuntimeKind, took: Duration) {
    m().start
        .get_or_create(&label(kind))
        .observe(took.as_secs_f64());
}

pub(super) fn ended(kind: RuntimeKind, outcome: Option<&TaskOutcome>) {
    let outcome_name = match outcome {
        None => "error",
        Some(o) if !o.limits_hit.is_empty() => "limit",
        Some(o) if o.exit_code == Some(0) => "ok",
        Some(_) => "failed",
    };
    if let Some(o) = outcome {
        m().duration
            .get_or_create(&label(kind))
            .observe(o.wall_time.as_secs_f64());
    }
    m().ended
        .get_or_create(&Ended {
            runtime: kind.to_string(),
            outcome: outcome_name.to_string(),
        })
        .inc();
}
