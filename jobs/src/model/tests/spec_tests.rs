use crate::model::{JobSpec, JobSpecExt, PhaseExt, PhaseType, SpecError};

fn parse(body: &str) -> Result<JobSpec, SpecError> {
    JobSpec::from_json(body.as_bytes())
}

fn field_err(body: &str) -> (String, String) {
    match parse(body) {
        Err(SpecError::Field { field, reason }) => (field, reason),
        other => panic!("expected a field error for {body}, got {other:?}"),
    }
}

#[test]
fn node_manta_map_reduce_body() {
    let s = parse(
        r#"{"name":"","phases":[{"exec":"wc","type":"map"},{"exec":"cat","type":"reduce"}]}"#,
    )
    .unwrap();
    assert_eq!(s.name.as_deref().unwrap_or(""), "");
    assert!(!s.transient);
    assert_eq!(s.phases.len(), 2);
    assert_eq!(s.phases[0].phase_type, PhaseType::Map);
    assert_eq!(s.phases[0].exec, "wc");
    assert_eq!(s.phases[0].reducers(), 0);
    assert_eq!(s.phases[1].phase_type, PhaseType::Reduce);
    assert_eq!(s.phases[1].reducers(), 1);
}

#[test]
fn node_manta_full_phase() {
    let s = parse(
        r#"{"name":"wordfreq","phases":[
            {"exec":"tr -cs A-Za-z '\\n' | sort | uniq -c","type":"map",
             "init":"true","assets":["/u/stor/a.sh"],"memory":2048,"disk":16,
             "image":">=13.1.0"},
            {"exec":"awk '{s[$2]+=$1}'","type":"reduce","count":3,"uarg":{"k":1}}]}"#,
    )
    .unwrap();
    let m = &s.phases[0];
    assert_eq!(m.init.as_deref(), Some("true"));
    assert_eq!(m.assets.as_deref(), Some(&["/u/stor/a.sh".to_string()][..]));
    assert_eq!((m.memory_mb(), m.disk_gb()), (2048, 16));
    assert_eq!(m.image.as_deref(), Some(">=13.1.0"));
    assert_eq!(s.phases[1].reducers(), 3);
    assert_eq!(s.phases[1].uarg, Some(serde_json::json!({"k": 1})));
}

#[test]
fn defaults() {
    let s = parse(r#"{"phases":[{"exec":"wc"}]}"#).unwrap();
    assert_eq!(s.name.as_deref().unwrap_or(""), "");
    assert!(!s.transient);
    let p = &s.phases[0];
    assert_eq!(p.phase_type, PhaseType::Map);
    assert_eq!(p.memory_mb(), 1024);
    assert_eq!(p.disk_gb(), 8);
    assert_eq!(
        (p.init.as_ref(), p.assets.as_ref(), p.count),
        (None, None, None)
    );
    // Absent optional fields are not invented on the way back out.
    assert_eq!(
        serde_json::to_string(p).unwrap(),
        r#"{"type":"map","exec":"wc"}"#
    );
}

#[test]
fn legacy_storage_map_is_a_map() {
    let s = parse(r#"{"phases":[{"exec":"wc","type":"storage-map"}]}"#).unwrap();
    assert!(s.phases[0].phase_type.is_map());
}

#[test]
fn transient_round_trips() {
    let s = parse(r#"{"name":"x","transient":true,"phases":[{"exec":"sh"}]}"#).unwrap();
    assert!(s.transient);
    let back: JobSpec = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(back, s);
}

#[test]
fn unknown_fields_refused() {
    for body in [
        r#"{"phases":[{"exec":"wc"}],"bogus":1}"#,
        r#"{"phases":[{"exec":"wc","bogus":1}]}"#,
    ] {
        match parse(body) {
            Err(SpecError::Parse(m)) => assert!(m.contains("bogus"), "{m}"),
            other => panic!("{body}: {other:?}"),
        }
    }
}

#[test]
fn shape_errors_name_the_field() {
    let cases = [
        (r#"{}"#, "phases"),
        (r#"{"phases":[{"type":"map"}]}"#, "exec"),
        (r#"{"phases":[{"exec":"wc","type":"shuffle"}]}"#, "shuffle"),
        (r#"{"phases":[{"exec":"wc","memory":"big"}]}"#, "big"),
        (
            r#"{"phases":[{"exec":"wc","count":-1,"type":"reduce"}]}"#,
            "-1",
        ),
    ];
    for (body, needle) in cases {
        match parse(body) {
            Err(e @ SpecError::Parse(_)) => {
                assert!(e.to_string().contains(needle), "{body}: {e}");
                assert_eq!(e.rest_code(), "InvalidJob");
            }
            other => panic!("{body}: {other:?}"),
        }
    }
    assert!(parse("not json").is_err());
}

#[test]
fn every_validation_error() {
    let cases = [
        (r#"{"phases":[]}"#, "phases", "at least one"),
        (r#"{"phases":[{"exec":""}]}"#, "phases[0].exec", "non-empty"),
        (
            r#"{"phases":[{"exec":"wc"},{"exec":"cat","type":"map","count":2}]}"#,
            "phases[1].count",
            "reduce",
        ),
        (
            r#"{"phases":[{"exec":"cat","type":"reduce","count":0}]}"#,
            "phases[0].count",
            "between 1 and 1024",
        ),
        (
            r#"{"phases":[{"exec":"cat","type":"reduce","count":1025}]}"#,
            "phases[0].count",
            "1025",
        ),
        (
            r#"{"phases":[{"exec":"wc","memory":100}]}"#,
            "phases[0].memory",
            "128, 256",
        ),
        (
            r#"{"phases":[{"exec":"wc","disk":3}]}"#,
            "phases[0].disk",
            "2, 4, 8",
        ),
        (
            r#"{"phases":[{"exec":"wc","assets":["u/stor/a"]}]}"#,
            "phases[0].assets[0]",
            "absolute",
        ),
        (
            r#"{"phases":[{"exec":"wc","assets":["/u/stor/a","/"]}]}"#,
            "phases[0].assets[1]",
            "absolute",
        ),
        (
            r#"{"phases":[{"exec":"wc","image":" "}]}"#,
            "phases[0].image",
            "non-empty",
        ),
        (
            r#"{"phases":[{"exec":"wc","uarg":[1]}]}"#,
            "phases[0].uarg",
            "object",
        ),
    ];
    for (body, want_field, want_reason) in cases {
        let (field, reason) = field_err(body);
        assert_eq!(field, want_field, "{body}");
        assert!(reason.contains(want_reason), "{body}: {reason}");
        let msg = parse(body).unwrap_err().to_string();
        assert!(msg.starts_with(want_field), "{msg}");
    }
}

#[test]
fn limits_accepted_at_bounds() {
    for m in crate::model::spec::MEMORY_MB_ALLOWED {
        let body = format!(r#"{{"phases":[{{"exec":"wc","memory":{m}}}]}}"#);
        assert!(parse(&body).is_ok(), "{body}");
    }
    for d in crate::model::spec::DISK_GB_ALLOWED {
        let body = format!(r#"{{"phases":[{{"exec":"wc","disk":{d}}}]}}"#);
        assert!(parse(&body).is_ok(), "{body}");
    }
    for c in [1, 1024] {
        let body = format!(r#"{{"phases":[{{"exec":"cat","type":"reduce","count":{c}}}]}}"#);
        assert_eq!(parse(&body).unwrap().phases[0].reducers(), c);
    }
}
