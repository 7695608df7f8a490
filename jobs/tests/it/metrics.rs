//! Containers show in the process's Prometheus registry by runtime: how
//! long they took to start, how they ended, none left counted as running.

use crate::common::*;

/// The value of the first series `name{labels...}` whose labels contain
/// every one of `labels`, in the registry's text.
fn value(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .find(|l| labels.iter().all(|want| l.contains(want)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn containers_are_counted_by_runtime_and_outcome() {
    let (_dir, runner) = runner();
    for runtime in BOTH {
        let before = metadata_tier::net::metrics::render();
        let rt = format!("runtime=\"{runtime}\"");
        let ok_before = value(
            &before,
            "mantad_task_containers_ended_total",
            &[&rt, "outcome=\"ok\""],
        );
        let failed_before = value(
            &before,
            "mantad_task_containers_ended_total",
            &[&rt, "outcome=\"failed\""],
        );
        let starts_before = value(&before, "mantad_task_container_start_seconds_count", &[&rt]);

        let (outcome, _) = run(&runner, &task(runtime, "echo hi")).await;
        assert_eq!(outcome.exit_code, Some(0));
        let (outcome, _) = run(&runner, &task(runtime, "exit 3")).await;
        assert_eq!(outcome.exit_code, Some(3));

        let after = metadata_tier::net::metrics::render();
        let ok = value(
            &after,
            "mantad_task_containers_ended_total",
            &[&rt, "outcome=\"ok\""],
        );
        let failed = value(
            &after,
            "mantad_task_containers_ended_total",
            &[&rt, "outcome=\"failed\""],
        );
        let starts = value(&after, "mantad_task_container_start_seconds_count", &[&rt]);
        // Other tests of this binary run containers at the same time, so
        // the counts grow by at least ours.
        assert!(
            ok >= ok_before + 1.0,
            "{runtime}: ok {ok_before} -> {ok}\n{after}"
        );
        assert!(
            failed >= failed_before + 1.0,
            "{runtime}: failed {failed_before} -> {failed}"
        );
        assert!(
            starts >= starts_before + 2.0,
            "{runtime}: starts {starts_before} -> {starts}"
        );
        assert!(
            after.contains(&format!("mantad_task_containers_running{{{rt}}}")),
            "{runtime}: no running gauge\n{after}"
        );
    }
}
