//! Unit tests of the replay plan: records in, rebuilt state out; no
//! cluster, no metadata tier.

use super::*;
use crate::supervisor::records::task_id;

const JOB: &str = "job-1";

fn input_id(seq: u64) -> String {
    task_id(JOB, &["in", &seq.to_string()])
}

fn reducer_id(p: u32, r: u32) -> String {
    task_id(JOB, &["reduce", &p.to_string(), &r.to_string()])
}

/// Reducer task ids as the actor names them.
fn reducers(counts: &[u32]) -> Vec<Vec<String>> {
    counts
        .iter()
        .enumerate()
        .map(|(p, n)| (0..*n).map(|r| reducer_id(p as u32, r)).collect())
        .collect()
}

fn inputs(paths: &[&str]) -> Vec<(u64, String)> {
    paths
        .iter()
        .enumerate()
        .map(|(i, p)| (i as u64, p.to_string()))
        .collect()
}

fn done(phase: u32, task: &str, input: Option<&str>, outs: &[(&str, u32)]) -> DoneRecord {
    crate::supervisor::test_support::map_done(phase, task, input, outs, "a")
}

fn records(ds: Vec<DoneRecord>) -> HashMap<String, DoneRecord> {
    ds.into_iter().map(|d| (d.task_id.clone(), d)).collect()
}

fn map_item(seq: u64, path: &str) -> Item {
    Item::Map {
        phase: 0,
        task_id: input_id(seq),
        input: path.into(),
        p0input: path.into(),
    }
}

#[test]
fn a_fresh_map_job_schedules_every_input_in_order() {
    let kinds = [true];
    let shape = Shape {
        job_id: JOB,
        is_map: &kinds,
    };
    let plan = replay(
        shape,
        &reducers(&[0]),
        inputs(&["/u/a", "/u/b"]),
        &records(vec![]),
    );
    assert_eq!(plan.next_seq, 2);
    assert_eq!(
        plan.steps,
        vec![
            ReplayStep::Schedule(map_item(0, "/u/a")),
            ReplayStep::Schedule(map_item(1, "/u/b")),
        ]
    );
    assert!(plan.forget.is_empty());
}

#[test]
fn done_map_tasks_are_counted_and_their_outputs_feed_the_reducer() {
    let kinds = [true, false];
    let shape = Shape {
        job_id: JOB,
        is_map: &kinds,
    };
    let d = done(0, &input_id(0), Some("/u/a"), &[("/u/out/a.0", 0)]);
    let plan = replay(
        shape,
        &reducers(&[0, 1]),
        inputs(&["/u/a", "/u/b"]),
        &records(vec![d]),
    );
    let fed = Item::ReduceInput {
        phase: 1,
        reducer: 0,
        task_id: task_id(JOB, &[&input_id(0), "0"]),
        input: "/u/out/a.0".into(),
        p0input: "/u/a".into(),
    };
    assert_eq!(
        plan.steps,
        vec![
            ReplayStep::Count(input_id(0)),
            ReplayStep::Schedule(map_item(1, "/u/b")),
            ReplayStep::Schedule(fed),
        ]
    );
    // The reducer did not finish: a previous supervisor may still run it.
    assert_eq!(plan.forget, vec![reducer_id(1, 0)]);
}

#[test]
fn a_finished_reducer_is_not_fed_again_nor_forgotten() {
    let kinds = [true, false];
    let shape = Shape {
        job_id: JOB,
        is_map: &kinds,
    };
    let ds = vec![
        done(0, &input_id(0), Some("/u/a"), &[("/u/out/a.0", 0)]),
        done(0, &input_id(1), Some("/u/b"), &[("/u/out/b.0", 1)]),
        done(1, &reducer_id(1, 0), None, &[("/u/out/r0", 0)]),
    ];
    let plan = replay(
        shape,
        &reducers(&[0, 2]),
        inputs(&["/u/a", "/u/b"]),
        &records(ds),
    );
    let fed_1 = Item::ReduceInput {
        phase: 1,
        reducer: 1,
        task_id: task_id(JOB, &[&input_id(1), "0"]),
        input: "/u/out/b.0".into(),
        p0input: "/u/b".into(),
    };
    assert_eq!(
        plan.steps,
        vec![
            ReplayStep::Count(input_id(0)),
            ReplayStep::Count(input_id(1)),
            ReplayStep::ReducerDone(1, 0),
            ReplayStep::Count(reducer_id(1, 0)),
            ReplayStep::Schedule(fed_1),
        ]
    );
    assert_eq!(plan.forget, vec![reducer_id(1, 1)]);
}

#[test]
fn a_reduce_first_job_feeds_inputs_to_reducer_zero() {
    let kinds = [false];
    let shape = Shape {
        job_id: JOB,
        is_map: &kinds,
    };
    let plan = replay(shape, &reducers(&[1]), inputs(&["/u/a"]), &records(vec![]));
    let item = Item::ReduceInput {
        phase: 0,
        reducer: 0,
        task_id: input_id(0),
        input: "/u/a".into(),
        p0input: "/u/a".into(),
    };
    assert_eq!(plan.steps, vec![ReplayStep::Schedule(item)]);
    assert_eq!(plan.forget, vec![reducer_id(0, 0)]);
}

#[test]
fn last_phase_outputs_and_errors_route_nowhere() {
    let kinds = [true, true];
    let shape = Shape {
        job_id: JOB,
        is_map: &kinds,
    };
    let mut failed = done(0, &input_id(0), Some("/u/a"), &[]);
    failed.ran = false;
    let mid = done(0, &input_id(1), Some("/u/b"), &[("/u/out/b.0", 0)]);
    let next = task_id(JOB, &[&input_id(1), "0"]);
    let last = done(1, &next, Some("/u/out/b.0"), &[("/u/out/final", 0)]);
    let plan = replay(
        shape,
        &reducers(&[0, 0]),
        inputs(&["/u/a", "/u/b"]),
        &records(vec![failed, mid, last]),
    );
    assert_eq!(
        plan.steps,
        vec![
            ReplayStep::Count(input_id(0)),
            ReplayStep::Count(input_id(1)),
            ReplayStep::Count(next),
        ]
    );
}

#[test]
fn no_inputs_start_at_sequence_zero() {
    let kinds = [true];
    let shape = Shape {
        job_id: JOB,
        is_map: &kinds,
    };
    let plan = replay(shape, &reducers(&[0]), Vec::new(), &records(vec![]));
    assert_eq!(plan, ReplayPlan::default());
    // Sequence numbers continue after the last recorded one.
    let plan = replay(
        shape,
        &reducers(&[0]),
        vec![(7, "/u/a".into())],
        &records(vec![]),
    );
    assert_eq!(plan.next_seq, 8);
}
