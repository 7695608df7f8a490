//! Unit tests of the scheduler: events in, commands out; no cluster, no
//! runtime, no clock.

use super::*;
use crate::agent::wire::BlobRef;
use crate::model::JobErrorCode;
use crate::supervisor::records::OutRef;
use crate::supervisor::test_support::{map_done, nodes};
use storage_node::BlobHash;

const JOB: &str = "job-1";

/// A scheduler for a job of `phases` (map, or reduce with that many
/// reducers) on live nodes `live`.
fn scheduler(phases: &[Option<u32>], live: &[&str], slots: u32, retries: u32) -> Scheduler {
    let mut s = Scheduler::new(Setup {
        job_id: JOB.into(),
        is_map: phases.iter().map(Option::is_none).collect(),
        reducers: phases.iter().map(|r| r.unwrap_or(0)).collect(),
        cfg: JobSettings {
            slots_per_node: slots,
            max_retries: retries,
            ..JobSettings::default()
        },
        copies: 2,
        stats: JobStats::default(),
        input_done: false,
    });
    s.set_phase_errors(vec![None; phases.len()]);
    let none = s.on(Event::NodesChanged { live: nodes(live) });
    assert!(none.is_empty(), "{none:?}");
    s
}

/// An object of `size` bytes whose copies are on `holders`.
fn object(path: &str, holders: &[&str], size: u64) -> InputObject {
    InputObject {
        path: path.into(),
        blob: Some(BlobRef {
            hash: BlobHash([0; 32]),
            size,
            nodes: nodes(holders),
        }),
    }
}

/// Answers every lookup in `cmds` with `found(path)`; returns the other
/// commands and those the answers led to.
fn resolve_all(
    s: &mut Scheduler,
    cmds: Vec<Command>,
    found: &dyn Fn(&str) -> InputObject,
) -> Vec<Command> {
    let mut out = Vec::new();
    for cmd in cmds {
        match cmd {
            Command::Resolve { item, .. } => {
                let path = match &item {
                    Item::Map { input, .. } | Item::ReduceInput { input, .. } => input.clone(),
                };
                let result = Ok(found(&path));
                let next = s.on(Event::Resolved { item, result });
                out.extend(resolve_all(s, next, found));
            }
            other => out.push(other),
        }
    }
    out
}

/// Adds job inputs (all held by `holders`) and answers their lookups.
fn add(s: &mut Scheduler, paths: &[&str], holders: &[&str]) -> Vec<Command> {
    let first_seq = s.next_seq();
    let paths = paths.iter().map(|p| p.to_string()).collect();
    let cmds = s.on(Event::InputsAdded { first_seq, paths });
    resolve_all(s, cmds, &|p| object(p, holders, 10))
}

/// (task id, node id) of each map dispatch.
fn dispatched(cmds: &[Command]) -> Vec<(String, String)> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Dispatch { task, node, .. } => {
                Some((task.input.path.clone(), node.id.clone()))
            }
            _ => None,
        })
        .collect()
}

fn map_task(cmds: &[Command]) -> MapTask {
    cmds.iter()
        .find_map(|c| match c {
            Command::Dispatch { task, .. } => Some(task.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no dispatch in {cmds:?}"))
}

/// What a task that ran on `node` commits.
fn done(t: &MapTask, node: &str, outputs: &[(&str, u32)]) -> Event {
    Event::TaskDone {
        task_id: t.task_id.clone(),
        done: Box::new(DoneRecord {
            input: Some(t.input.path.clone()),
            p0input: Some(t.p0input.clone()),
            retries: t.retries,
            ..map_done(t.phase, &t.task_id, None, outputs, node)
        }),
    }
}

fn reducer_done(phase: u32, r: u32) -> Event {
    let task_id = reducer_id(JOB, phase, r);
    Event::TaskDone {
        task_id: task_id.clone(),
        done: Box::new(DoneRecord {
            phase,
            task_id,
            input: None,
            reducer: Some(r),
            p0input: None,
            outputs: vec![OutRef {
                path: format!("/u/jobs/out/r{r}"),
                reducer: None,
            }],
            error: None,
            retries: 0,
            node: Some("a".into()),
            ran: true,
        }),
    }
}

fn is_archive(cmds: &[Command]) -> bool {
    matches!(cmds.last(), Some(Command::Archive))
}

#[test]
fn map_tasks_go_to_the_least_loaded_node_holding_their_input() {
    let mut s = scheduler(&[None], &["a", "b", "c"], 4, 2);
    let cmds = add(&mut s, &["/u/x", "/u/y", "/u/z"], &["b", "c"]);
    assert_eq!(
        dispatched(&cmds),
        vec![
            ("/u/x".to_string(), "b".to_string()),
            ("/u/y".to_string(), "c".to_string()),
            ("/u/z".to_string(), "b".to_string()),
        ]
    );
    // Outputs are copied to another live node (copies = 2).
    let Some(Command::Dispatch { node, replicas, .. }) = cmds.first() else {
        panic!("{cmds:?}");
    };
    assert_eq!(replicas.len(), 1);
    assert_ne!(replicas[0].id, node.id);
    assert_eq!(s.stats().tasks, 3);
}

#[test]
fn a_node_at_its_limit_gets_no_more_until_a_slot_frees() {
    let mut s = scheduler(&[None], &["a", "b"], 1, 2);
    let cmds = add(&mut s, &["/u/x", "/u/y"], &["a"]);
    assert_eq!(dispatched(&cmds), vec![("/u/x".into(), "a".into())]);
    // The beat changes nothing while the slot is taken.
    assert!(s.on(Event::Tick).is_empty());
    let next = s.on(done(&map_task(&cmds), "a", &[]));
    assert_eq!(dispatched(&next), vec![("/u/y".into(), "a".into())]);
}

#[test]
fn an_input_no_live_node_holds_is_the_jobs_error() {
    let mut s = scheduler(&[None], &["a"], 4, 2);
    let cmds = add(&mut s, &["/u/x"], &["z"]);
    let [Command::FailTask(rec)] = cmds.as_slice() else {
        panic!("{cmds:?}");
    };
    let err = rec.error.as_ref().map(|e| e.code.clone());
    assert_eq!(err, Some(JobErrorCode::ServiceUnavailableError));
    assert!(!rec.ran);
}

#[test]
fn work_waits_for_a_live_node_and_goes_on_the_beat() {
    let mut s = scheduler(&[None], &[], 4, 2);
    let cmds = add(&mut s, &["/u/x"], &["a"]);
    assert!(dispatched(&cmds).is_empty(), "{cmds:?}");
    s.on(Event::NodesChanged {
        live: nodes(&["a"]),
    });
    assert_eq!(
        dispatched(&s.on(Event::Tick)),
        vec![("/u/x".into(), "a".into())]
    );
}

#[test]
fn small_inputs_share_a_container_when_tasks_queue_up() {
    // One node with one slot: the first task runs alone, the rest queue
    // and go together once the slot frees.
    let mut s = scheduler(&[None], &["a"], 1, 2);
    let paths: Vec<String> = (0..5).map(|i| format!("/u/{i}")).collect();
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let cmds = add(&mut s, &refs, &["a"]);
    let first = map_task(&cmds);
    let next = s.on(done(&first, "a", &[]));
    let [Command::DispatchBatch { tasks, node, .. }] = next.as_slice() else {
        panic!("{next:?}");
    };
    assert_eq!(node.id, "a");
    assert_eq!(tasks.len(), 4);
    assert_eq!(s.stats().tasks, 5);
}

#[test]
fn a_lost_task_is_retried_elsewhere_then_fails_with_the_jobs_error() {
    let mut s = scheduler(&[None], &["a", "b", "c"], 4, 2);
    let cmds = add(&mut s, &["/u/x"], &["a", "b", "c"]);
    s.on(Event::InputsEnded);
    let mut t = map_task(&cmds);
    let mut seen = vec![];
    for _ in 0..2 {
        seen.push(t.tried.len());
        let lost = Event::TaskLost {
            task_id: t.task_id.clone(),
            reason: "node gone".into(),
        };
        let next = s.on(lost);
        t = map_task(&next);
    }
    // Each attempt avoids the nodes that lost it.
    assert_eq!(t.retries, 2);
    assert_eq!(t.tried, vec!["a".to_string(), "b".to_string()]);
    let lost = Event::TaskLost {
        task_id: t.task_id.clone(),
        reason: "node gone".into(),
    };
    let next = s.on(lost);
    let [Command::FailTask(rec)] = next.as_slice() else {
        panic!("{next:?}");
    };
    let err = rec.error.clone().unwrap_or_else(|| panic!("no error"));
    assert_eq!(err.code, JobErrorCode::InternalError);
    assert_eq!(err.message, "task failed 3 times; last: node gone");
    // The error, once journalled, settles the task and ends the job.
    let end = s.on(Event::TaskDone {
        task_id: rec.task_id.clone(),
        done: rec.clone(),
    });
    assert!(is_archive(&end), "{end:?}");
    let stats = s.stats();
    assert_eq!((stats.tasks, stats.retries, stats.errors), (1, 2, 1));
    assert_eq!(s.tails().failures.back().map(String::as_str), Some("/u/x"));
}

#[test]
fn a_lost_node_gets_no_new_work_and_its_tasks_run_elsewhere() {
    let mut s = scheduler(&[None], &["a", "b"], 4, 2);
    let cmds = add(&mut s, &["/u/x"], &["a", "b"]);
    let t = map_task(&cmds);
    assert_eq!(dispatched(&cmds), vec![("/u/x".into(), "a".into())]);
    s.on(Event::NodesChanged {
        live: nodes(&["b"]),
    });
    let cmds = add(&mut s, &["/u/y"], &["a", "b"]);
    assert_eq!(dispatched(&cmds), vec![("/u/y".into(), "b".into())]);
    let next = s.on(Event::TaskLost {
        task_id: t.task_id.clone(),
        reason: "node a: unreachable".into(),
    });
    assert_eq!(dispatched(&next), vec![("/u/x".into(), "b".into())]);
}

/// (retries, node id) of every map task placed, alone or in a batch.
fn placed(cmds: &[Command]) -> Vec<(u32, String)> {
    cmds.iter()
        .flat_map(|c| match c {
            Command::DispatchBatch { tasks, node, .. } => {
                tasks.iter().map(|t| (t.retries, node.id.clone())).collect()
            }
            Command::Dispatch { task, node, .. } => vec![(task.retries, node.id.clone())],
            _ => vec![],
        })
        .collect()
}

#[test]
fn a_lost_batch_retries_each_of_its_tasks_elsewhere() {
    // One slot on each of a and b.
    let mut s = scheduler(&[None], &["a", "b"], 1, 2);
    let paths: Vec<String> = (0..9).map(|i| format!("/u/{i}")).collect();
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let cmds = add(&mut s, &refs, &["a", "b"]);
    assert_eq!(
        dispatched(&cmds),
        vec![("/u/0".into(), "a".into()), ("/u/1".into(), "b".into())]
    );
    let on_b = cmds
        .iter()
        .find_map(|c| match c {
            Command::Dispatch { task, node, .. } if node.id == "b" => Some(task.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{cmds:?}"));
    let next = s.on(done(&map_task(&cmds), "a", &[]));
    let Some(Command::DispatchBatch {
        batch_id, tasks, ..
    }) = next.first()
    else {
        panic!("{next:?}");
    };
    let n = tasks.len() as u64;
    let again = s.on(Event::TaskLost {
        task_id: batch_id.clone(),
        reason: "node a: gone".into(),
    });
    assert_eq!(s.stats().retries, n);
    // Its tasks wait for b (fresh tasks may take a's free slot).
    assert!(
        placed(&again).iter().all(|(r, n)| *r == 0 || n == "b"),
        "{again:?}"
    );
    let after = s.on(done(&on_b, "b", &[]));
    let placed = placed(&after);
    assert!(placed.iter().any(|(r, n)| *r == 1 && n == "b"), "{after:?}");
    assert!(placed.iter().all(|(r, n)| *r == 0 || n == "b"), "{after:?}");
}

#[test]
fn a_reduce_input_for_a_missing_reducer_is_the_jobs_error() {
    let mut s = scheduler(&[None, Some(1)], &["a"], 4, 2);
    let cmds = add(&mut s, &["/u/x"], &["a"]);
    let cmds = s.on(done(&map_task(&cmds), "a", &[("/u/o/x.5", 5)]));
    let cmds = resolve_all(&mut s, cmds, &|p| object(p, &["a"], 5));
    let [Command::FailTask(rec)] = cmds.as_slice() else {
        panic!("{cmds:?}");
    };
    let err = rec.error.as_ref().map(|e| e.code.clone());
    assert_eq!(err, Some(JobErrorCode::InvalidArgumentError));
}

#[test]
fn a_phase_that_cannot_run_fails_its_tasks_without_dispatching() {
    let mut s = scheduler(&[None], &["a"], 4, 2);
    s.set_phase_errors(vec![Some(JobFault {
        code: JobErrorCode::TaskInitError,
        message: "failed to fetch asset /u/lib".into(),
    })]);
    let cmds = add(&mut s, &["/u/x"], &["a"]);
    let [Command::FailTask(rec)] = cmds.as_slice() else {
        panic!("{cmds:?}");
    };
    assert_eq!(
        rec.error.as_ref().map(|e| e.code.clone()),
        Some(JobErrorCode::TaskInitError)
    );
    assert_eq!(s.stats().tasks, 0);
}

#[test]
fn lookups_that_fail_on_our_side_are_retried_later() {
    let mut s = scheduler(&[None], &["a"], 4, 2);
    let cmds = s.on(Event::InputsAdded {
        first_seq: 0,
        paths: vec!["/u/x".into()],
    });
    let [Command::Resolve { item, after }] = cmds.as_slice() else {
        panic!("{cmds:?}");
    };
    assert_eq!(*after, Duration::ZERO);
    let result = Err(Fault::internal("metadata down"));
    let cmds = s.on(Event::Resolved {
        item: item.clone(),
        result,
    });
    let [Command::Resolve { after, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}");
    };
    assert!(*after > Duration::ZERO);
}

#[test]
fn cancel_stops_running_tasks_drops_the_queue_and_archives() {
    let mut s = scheduler(&[None, Some(1)], &["a", "b"], 1, 2);
    let cmds = add(&mut s, &["/u/x", "/u/y", "/u/z"], &["a", "b"]);
    let mut running: Vec<(String, String)> = cmds
        .iter()
        .filter_map(|c| match c {
            Command::Dispatch { task, node, .. } => Some((task.task_id.clone(), node.id.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(running.len(), 2, "one queued");
    running.sort();
    let cmds = s.on(Event::Cancel);
    assert!(
        matches!(cmds.first(), Some(Command::AbortLocal)),
        "{cmds:?}"
    );
    let forgot: Vec<(String, String)> = cmds
        .iter()
        .filter_map(|c| match c {
            Command::Forget { task_id, node } => Some((task_id.clone(), node.id.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(forgot, running);
    assert!(is_archive(&cmds));
    // Nothing runs after: not the queued task, not a late result's next
    // phase, not the beat.
    assert!(s.on(Event::Tick).is_empty());
    let late = Event::TaskLost {
        task_id: running[0].0.clone(),
        reason: "killed".into(),
    };
    assert!(s.on(late).is_empty());
}

#[path = "scheduler_reduce_tests.rs"]
mod reduce;
