//! Unit tests of the scheduler, continued: feeding reducers, and replay
//! after a restart.

use super::*;

#[test]
fn map_outputs_feed_their_reducer_which_ends_when_the_maps_are_done() {
    // map -> reduce with two reducers.
    let mut s = scheduler(&[None, Some(2)], &["a", "b"], 4, 2);
    let cmds = add(&mut s, &["/u/x", "/u/y"], &["a"]);
    let maps: Vec<MapTask> = cmds
        .iter()
        .filter_map(|c| match c {
            Command::Dispatch { task, .. } => Some(task.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(maps.len(), 2);
    let found = |p: &str| object(p, &["a"], 5);

    // The first output for reducer 1 starts it, with that input.
    let cmds = s.on(done(&maps[0], "a", &[("/u/o/x.1", 1)]));
    let cmds = resolve_all(&mut s, cmds, &found);
    let [Command::StartReducer {
        task_id,
        phase: 1,
        reducer: 1,
        inputs,
        end: false,
        ..
    }] = cmds.as_slice()
    else {
        panic!("{cmds:?}");
    };
    assert_eq!(task_id, &reducer_id(JOB, 1, 1));
    assert_eq!(inputs.len(), 1);

    // The input closes while a map task still runs: no reducer ends yet.
    let cmds = s.on(Event::InputsEnded);
    assert!(cmds.is_empty(), "{cmds:?}");

    // The last map task's output is fed to the running reducer, then both
    // reducers learn their input is complete (reducer 0 starts with none).
    let cmds = s.on(done(&maps[1], "a", &[("/u/o/y.1", 1)]));
    let cmds = resolve_all(&mut s, cmds, &found);
    let fed: Vec<(String, usize, bool)> = cmds
        .iter()
        .filter_map(|c| match c {
            Command::FeedReducer {
                task_id,
                inputs,
                end,
            } => Some((task_id.clone(), inputs.len(), *end)),
            _ => None,
        })
        .collect();
    let r1 = reducer_id(JOB, 1, 1);
    assert_eq!(fed, vec![(r1.clone(), 1, false), (r1, 0, true)]);
    assert!(
        cmds.iter().any(|c| matches!(
            c,
            Command::StartReducer { reducer: 0, end: true, inputs, .. } if inputs.is_empty()
        )),
        "{cmds:?}"
    );

    // The job ends when both reducers are done.
    assert!(!is_archive(&s.on(reducer_done(1, 1))));
    assert!(is_archive(&s.on(reducer_done(1, 0))));
    assert_eq!(s.stats().outputs, 2);
    assert_eq!(s.stats().tasks, 4);
}

#[test]
fn a_lost_reducer_starts_again_with_every_input() {
    let mut s = scheduler(&[Some(1)], &["a", "b"], 4, 1);
    let first_seq = s.next_seq();
    let cmds = s.on(Event::InputsAdded {
        first_seq,
        paths: vec!["/u/x".into(), "/u/y".into()],
    });
    let cmds = resolve_all(&mut s, cmds, &|p| object(p, &["a"], 5));
    let Some(Command::StartReducer { node, .. }) = cmds.first() else {
        panic!("{cmds:?}");
    };
    let first = node.id.clone();
    let task_id = reducer_id(JOB, 0, 0);
    let lost = Event::TaskLost {
        task_id: task_id.clone(),
        reason: "node gone".into(),
    };
    let cmds = s.on(lost);
    let [Command::StartReducer {
        node,
        inputs,
        retries: 1,
        ..
    }] = cmds.as_slice()
    else {
        panic!("{cmds:?}");
    };
    assert_ne!(node.id, first);
    assert_eq!(inputs.len(), 2);
    // Past the retry limit it is the job's error.
    let cmds = s.on(Event::TaskLost {
        task_id,
        reason: "node gone".into(),
    });
    let [Command::FailTask(rec)] = cmds.as_slice() else {
        panic!("{cmds:?}");
    };
    assert_eq!(rec.reducer, Some(0));
    assert_eq!(s.stats().tasks, 1);
}

#[test]
fn replay_after_a_restart_redoes_only_unfinished_work() {
    // The first supervisor ran /u/x to completion and /u/y not.
    let mut first = scheduler(&[None, Some(1)], &["a"], 4, 2);
    let cmds = add(&mut first, &["/u/x", "/u/y"], &["a"]);
    let x = map_task(&cmds);
    let Event::TaskDone { done: x_done, .. } = done(&x, "a", &[("/u/o/x.0", 0)]) else {
        unreachable!()
    };

    // The new one reads the journal: both inputs, one done record.
    let mut s = scheduler(&[None, Some(1)], &["a", "b"], 4, 2);
    let inputs = vec![(0, "/u/x".to_string()), (1, "/u/y".to_string())];
    let records = [(x.task_id.clone(), *x_done)].into_iter().collect();
    let cmds = s.on(Event::Replayed {
        inputs,
        done: records,
    });
    assert_eq!(s.next_seq(), 2);
    let looked_up: Vec<String> = cmds
        .iter()
        .filter_map(|c| match c {
            Command::Resolve { item, .. } => Some(match item {
                Item::Map { input, .. } | Item::ReduceInput { input, .. } => input.clone(),
            }),
            _ => None,
        })
        .collect();
    // /u/x is not run again; its output flows to the reducer again.
    assert_eq!(looked_up, vec!["/u/y".to_string(), "/u/o/x.0".to_string()]);
    // The reducer the old supervisor may still run is stopped everywhere.
    let stale: Vec<String> = cmds
        .iter()
        .filter_map(|c| match c {
            Command::StopStale { task_id, node } => {
                assert_eq!(task_id, &reducer_id(JOB, 1, 0));
                Some(node.id.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(stale, vec!["a".to_string(), "b".to_string()]);
    let stats = s.stats();
    assert_eq!((stats.tasks, stats.tasks_done), (1, 1));
    assert_eq!(s.tails().inputs.len(), 2);

    // It carries on from there: /u/y runs, the reducer starts and ends.
    let cmds = resolve_all(&mut s, cmds, &|p| object(p, &["b"], 5));
    assert_eq!(dispatched(&cmds), vec![("/u/y".into(), "b".into())]);
    s.on(Event::InputsEnded);
    let y = map_task(&cmds);
    let cmds = s.on(done(&y, "b", &[]));
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::FeedReducer { end: true, .. })),
        "{cmds:?}"
    );
    assert!(is_archive(&s.on(reducer_done(1, 0))));
}

#[test]
fn replay_of_a_finished_reducer_does_not_feed_it_again() {
    let mut s = scheduler(&[None, Some(1)], &["a"], 4, 2);
    let x_id = crate::supervisor::records::task_id(JOB, &["in", "0"]);
    let x = MapTask {
        phase: 0,
        task_id: x_id.clone(),
        input: object("/u/x", &["a"], 5),
        p0input: "/u/x".into(),
        tried: vec![],
        retries: 0,
    };
    let Event::TaskDone { done: x_done, .. } = done(&x, "a", &[("/u/o/x.0", 0)]) else {
        unreachable!()
    };
    let Event::TaskDone { done: r_done, .. } = reducer_done(1, 0) else {
        unreachable!()
    };
    let records = [(x_id, *x_done), (reducer_id(JOB, 1, 0), *r_done)]
        .into_iter()
        .collect();
    let cmds = s.on(Event::Replayed {
        inputs: vec![(0, "/u/x".into())],
        done: records,
    });
    assert!(cmds.is_empty(), "{cmds:?}");
    assert!(is_archive(&s.on(Event::InputsEnded)));
    assert_eq!(s.stats().outputs, 1);
}
