use crate::model::naming::*;
use crate::model::{Job, JobError, JobErrorCode, JobExt, JobSpec, JobSpecExt, JobState, JobStats};

const MANTA_JOB: &str = r#"{"id":"2b9dd3e6-0bb9-4b9b-a8a3-9b2c1f7a2e51","name":"wf","state":"done","cancelled":false,"inputDone":true,"transient":false,"stats":{"errors":1,"outputs":2,"retries":3,"tasks":4,"tasksDone":4},"timeCreated":"2014-05-01T00:00:00.000Z","timeDone":"2014-05-01T00:01:00.000Z","timeArchiveStarted":"2014-05-01T00:01:01.000Z","timeArchiveDone":"2014-05-01T00:01:02.000Z","phases":[{"type":"map","exec":"wc"},{"type":"reduce","exec":"cat","count":2}],"options":{}}"#;

#[test]
fn job_round_trips_with_manta_names() {
    let job: Job = serde_json::from_str(MANTA_JOB).unwrap();
    assert_eq!(job.state, JobState::Done);
    assert!(job.input_done);
    assert_eq!(
        job.stats,
        JobStats {
            errors: 1,
            outputs: 2,
            retries: 3,
            tasks: 4,
            tasks_done: 4
        }
    );
    assert_eq!(
        job.time_archive_done.as_deref(),
        Some("2014-05-01T00:01:02.000Z")
    );
    assert_eq!(job.phases[1].count, Some(2));
    // Byte-for-byte the same JSON back out.
    assert_eq!(serde_json::to_string(&job).unwrap(), MANTA_JOB);
}

#[test]
fn new_job_is_queued_and_omits_undefined_times() {
    let spec = JobSpec::from_json(br#"{"name":"","phases":[{"exec":"wc","type":"map"}]}"#).unwrap();
    let job = Job::new("id-1", &spec, "2026-01-01T00:00:00.000Z");
    let v = serde_json::to_value(&job).unwrap();
    assert_eq!(v["state"], "queued");
    assert_eq!(v["inputDone"], false);
    assert_eq!(v["stats"]["tasksDone"], 0);
    assert_eq!(v["timeCreated"], "2026-01-01T00:00:00.000Z");
    assert_eq!(v["options"], serde_json::json!({}));
    assert_eq!(v["phases"], serde_json::json!([{"exec":"wc","type":"map"}]));
    let obj = v.as_object().unwrap();
    for absent in ["timeDone", "timeArchiveStarted", "timeArchiveDone"] {
        assert!(!obj.contains_key(absent), "{absent}");
    }
}

#[test]
fn cancel_forces_input_done_and_live_posts_refused() {
    let spec = JobSpec::from_json(br#"{"phases":[{"exec":"wc"}]}"#).unwrap();
    let mut job = Job::new("j", &spec, "t");
    assert!(!job.refuses_live_post(true));
    job.input_done = true;
    assert!(job.refuses_live_post(true));
    assert!(!job.refuses_live_post(false));
    job.input_done = false;
    job.cancel();
    assert!(job.input_done && job.cancelled);
    assert!(job.refuses_live_post(false));
    job.cancelled = false;
    job.state = JobState::Done;
    assert!(job.refuses_live_post(false));
}

#[test]
fn job_error_as_muskie_writes_it() {
    let line = r#"{"phase":0,"what":"phase 0: input \"/u/stor/x\"","code":"UserTaskError","message":"user command exited with code 1","stderr":"/u/jobs/j/stor/u/stor/x.0.err.t","input":"/u/stor/x","p0input":"/u/stor/x"}"#;
    let e: JobError = serde_json::from_str(line).unwrap();
    assert_eq!(e.phase, 0);
    assert_eq!(e.code, JobErrorCode::UserTaskError);
    assert_eq!(e.what, JobError::what_map(0, "/u/stor/x"));
    assert_eq!(e.message, JobError::exit_message(1));
    assert_eq!(serde_json::to_string(&e).unwrap(), line);
}

#[test]
fn job_error_old_and_internal_shapes() {
    let old = r#"{"phase":"1","what":"phase 1: reduce","code":"TaskKilledError","message":"task killed (excessive resource usage)"}"#;
    let e: JobError = serde_json::from_str(old).unwrap();
    assert_eq!(
        (e.phase, e.code.clone()),
        (1, JobErrorCode::TaskKilledError)
    );
    assert_eq!(e.what, JobError::what_reduce(1));
    assert_eq!(e.stderr, None);
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["phase"], 1);
    assert!(!v.as_object().unwrap().contains_key("stderr"));

    let marlin =
        r#"{"phaseNum":2,"what":"w","code":"SomethingNewError","message":"m","p0key":"/u/stor/a"}"#;
    let e: JobError = serde_json::from_str(marlin).unwrap();
    assert_eq!(e.phase, 2);
    assert_eq!(e.code, JobErrorCode::Other("SomethingNewError".into()));
    assert_eq!(e.p0input.as_deref(), Some("/u/stor/a"));
    assert!(
        serde_json::from_str::<JobError>(r#"{"phase":"x","what":"","code":"","message":""}"#)
            .is_err()
    );
}

#[test]
fn error_codes_round_trip() {
    let all = [
        JobErrorCode::TaskInitError,
        JobErrorCode::UserTaskError,
        JobErrorCode::ResourceNotFoundError,
        JobErrorCode::AuthorizationError,
        JobErrorCode::InvalidArgumentError,
        JobErrorCode::InternalError,
        JobErrorCode::ServiceUnavailableError,
        JobErrorCode::TaskKilledError,
        JobErrorCode::JobCancelledError,
    ];
    for c in all {
        let s = serde_json::to_string(&c).unwrap();
        assert_eq!(s, format!("\"{c}\""));
        assert_eq!(serde_json::from_str::<JobErrorCode>(&s).unwrap(), c);
        assert!(!matches!(
            JobErrorCode::from(c.to_string()),
            JobErrorCode::Other(_)
        ));
    }
}

#[test]
fn output_names() {
    let (u, j) = ("u", "J");
    assert_eq!(job_stor_dir(u, j), "/u/jobs/J/stor");
    assert_eq!(
        map_output(u, j, "/u/stor/x.txt", 0, "T1"),
        "/u/jobs/J/stor/u/stor/x.txt.0.T1"
    );
    assert_eq!(
        map_output_base(u, j, "/u/stor/x", 0),
        "/u/jobs/J/stor/u/stor/x.0."
    );
    // An intermediate output of this job loses the job's stor prefix.
    let inter = map_output(u, j, "/u/stor/x", 0, "T1");
    assert_eq!(
        map_output(u, j, &inter, 1, "T2"),
        "/u/jobs/J/stor/u/stor/x.0.T1.1.T2"
    );
    // Another job's outputs, or a sibling dir, keep their full path.
    assert_eq!(map_base(u, j, "/u/jobs/K/stor/a"), "/u/jobs/K/stor/a");
    assert_eq!(map_base(u, j, "/u/jobs/J/stor2/a"), "/u/jobs/J/stor2/a");
    assert_eq!(reduce_output(u, j, 1, "T3"), "/u/jobs/J/stor/reduce.1.T3");
    assert_eq!(
        stderr_object(&map_output_base(u, j, "/u/stor/x", 0), "T1"),
        "/u/jobs/J/stor/u/stor/x.0.err.T1"
    );
    assert_eq!(
        stderr_object(&reduce_output_base(u, j, 2), "T"),
        "/u/jobs/J/stor/reduce.2.err.T"
    );
    assert_eq!(cores_dir(u, j, 0), "/u/jobs/J/stor/cores/0");
}

#[test]
fn msplit_routing_matches_md5_prefix() {
    // Expected values: int(md5(key).hexdigest()[:8], 16) % n.
    assert_eq!(msplit_reducer(b"apple", 3), 2);
    assert_eq!(msplit_reducer(b"apple", 7), 4);
    assert_eq!(msplit_reducer(b"banana", 3), 0);
    assert_eq!(msplit_reducer(b"banana", 7), 6);
    assert_eq!(msplit_reducer(b"the", 7), 1);
    assert_eq!(msplit_reducer(b"", 3), 1);
    assert_eq!(msplit_reducer(b"anything", 1), 0);
    assert_eq!(msplit_reducer(b"anything", 0), 0);
}
