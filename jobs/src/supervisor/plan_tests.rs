//! Unit tests of the scheduling decisions: no cluster, no I/O.

use super::*;
use crate::supervisor::test_support::{node, nodes};

fn load(pairs: &[(&str, u32)]) -> Load {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[test]
fn map_waits_without_a_registry_view() {
    let p = place_map(&[], None, &[], &Load::new(), 4, "/a/stor/x");
    assert_eq!(p, MapPlace::Wait);
}

#[test]
fn map_goes_to_the_least_loaded_holder() {
    let live = nodes(&["a", "b", "c"]);
    let holders = nodes(&["b", "c"]);
    let l = load(&[("a", 0), ("b", 2), ("c", 1)]);
    let p = place_map(&live, Some(&holders), &[], &l, 4, "/u/stor/x");
    assert_eq!(p, MapPlace::Node(node("c")));
}

#[test]
fn empty_input_runs_anywhere() {
    let live = nodes(&["a", "b"]);
    let l = load(&[("a", 3)]);
    let p = place_map(&live, None, &[], &l, 4, "/u/stor/empty");
    assert_eq!(p, MapPlace::Node(node("b")));
}

#[test]
fn full_holders_keep_the_task_queued() {
    let live = nodes(&["a", "b"]);
    let holders = nodes(&["a"]);
    let l = load(&[("a", 4)]);
    assert_eq!(
        place_map(&live, Some(&holders), &[], &l, 4, "/u/stor/x"),
        MapPlace::Busy
    );
}

#[test]
fn no_live_holder_is_a_job_error() {
    let live = nodes(&["a"]);
    let holders = nodes(&["z"]);
    let p = place_map(&live, Some(&holders), &[], &Load::new(), 4, "/u/stor/x");
    assert_eq!(
        p,
        MapPlace::Fail("no live storage node holds a copy of /u/stor/x".into())
    );
}

#[test]
fn a_retry_avoids_nodes_that_failed_it() {
    let live = nodes(&["a", "b"]);
    let holders = nodes(&["a", "b"]);
    let tried = vec!["a".to_string()];
    let p = place_map(&live, Some(&holders), &tried, &Load::new(), 4, "/u/x");
    assert_eq!(p, MapPlace::Node(node("b")));
    let tried = vec!["a".to_string(), "b".to_string()];
    let p = place_map(&live, Some(&holders), &tried, &Load::new(), 4, "/u/x");
    assert_eq!(
        p,
        MapPlace::Fail("every node holding /u/x failed the task".into())
    );
}

#[test]
fn batches_only_when_the_queue_is_long() {
    // 2 nodes x 4 slots: a queue of 7 fills the slots one task each.
    assert_eq!(batch_extra(7, 2, 4), 0);
    assert_eq!(batch_extra(16, 2, 4), 2);
    assert_eq!(batch_extra(10_000, 2, 4), (MAX_BATCH - 1) as usize);
    // No registry view counts as one node.
    assert_eq!(batch_extra(8, 0, 4), 2);
    assert!(batchable(None));
    assert!(batchable(Some(BATCH_INPUT_MAX)));
    assert!(!batchable(Some(BATCH_INPUT_MAX + 1)));
}

#[test]
fn reducers_prefer_fresh_nodes_then_any() {
    let live = nodes(&["a", "b"]);
    let l = load(&[("a", 0), ("b", 5)]);
    assert_eq!(place_reducer(&live, &[], &l), Some(node("a")));
    let tried = vec!["a".to_string()];
    assert_eq!(place_reducer(&live, &tried, &l), Some(node("b")));
    let tried = vec!["a".to_string(), "b".to_string()];
    assert_eq!(place_reducer(&live, &tried, &l), Some(node("a")));
    assert_eq!(place_reducer(&[], &[], &l), None);
}

#[test]
fn retries_stop_at_the_limit() {
    assert_eq!(retry(0, 2), Retry::Again);
    assert_eq!(retry(1, 2), Retry::Again);
    assert_eq!(retry(2, 2), Retry::GiveUp);
    assert_eq!(retry(0, 0), Retry::GiveUp);
}

fn map(open: u64) -> PhaseView {
    PhaseView {
        is_map: true,
        open,
        reducers: Vec::new(),
    }
}

fn reduce(open: u64, reducers: &[(bool, bool)]) -> PhaseView {
    PhaseView {
        is_map: false,
        open,
        reducers: reducers.to_vec(),
    }
}

#[test]
fn reducers_end_only_after_input_closes_and_upstream_settles() {
    let phases = [map(0), reduce(0, &[(false, false), (false, false)])];
    assert_eq!(progress(&phases, false), Progress::default());
    let p = progress(&phases, true);
    assert_eq!(p.end, vec![(1, 0), (1, 1)]);
    assert!(!p.done);
    // A map task still open holds the reducers back.
    let phases = [map(1), reduce(0, &[(false, false)])];
    assert_eq!(progress(&phases, true), Progress::default());
}

#[test]
fn ended_reducers_are_not_ended_twice_and_the_job_ends() {
    let phases = [map(0), reduce(0, &[(true, false), (false, false)])];
    assert_eq!(progress(&phases, true).end, vec![(1, 1)]);
    let phases = [map(0), reduce(0, &[(true, true), (true, true)])];
    let p = progress(&phases, true);
    assert!(p.end.is_empty());
    assert!(p.done);
}

#[test]
fn a_second_reduce_phase_waits_for_the_first() {
    let phases = [reduce(0, &[(true, false)]), reduce(0, &[(false, false)])];
    assert!(progress(&phases, true).end.is_empty());
    let phases = [reduce(0, &[(true, true)]), reduce(0, &[(false, false)])];
    assert_eq!(progress(&phases, true).end, vec![(1, 0)]);
}

#[test]
fn a_map_only_job_is_done_when_nothing_is_open() {
    assert!(progress(&[map(0), map(0)], true).done);
    assert!(!progress(&[map(0), map(3)], true).done);
    assert!(!progress(&[map(0)], false).done);
}

#[test]
fn a_cancel_stops_local_work_then_every_running_task_then_archives() {
    let running = vec![("t2".to_string(), node("b")), ("t1".to_string(), node("a"))];
    assert_eq!(
        cancel(running),
        vec![
            CancelStep::AbortLocal,
            CancelStep::Forget {
                task_id: "t1".into(),
                node: node("a"),
            },
            CancelStep::Forget {
                task_id: "t2".into(),
                node: node("b"),
            },
            CancelStep::DropQueued,
            CancelStep::Archive,
        ]
    );
}

#[test]
fn a_cancel_with_nothing_running_still_drops_the_queue_and_archives() {
    assert_eq!(
        cancel(Vec::new()),
        vec![
            CancelStep::AbortLocal,
            CancelStep::DropQueued,
            CancelStep::Archive,
        ]
    );
}
