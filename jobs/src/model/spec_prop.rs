//! Properties of the CreateJob body parser: any bytes are refused or give a
//! spec that validates, never a panic; a valid spec serialised as the SDK
//! does parses back to itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::spec::{
    JobSpec, JobSpecExt, Phase, PhaseType, SpecError, DISK_GB_ALLOWED, MAX_REDUCERS,
    MEMORY_MB_ALLOWED,
};
use client_sdk::prop::{config, edits, mutate};
use proptest::prelude::*;
use serde_json::{json, Value};

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        // Finite floats: a user's `uarg` numbers must reach the task unchanged.
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ]
}

/// Found by `mutated_specs_never_panic`: without serde_json's
/// `float_roundtrip`, this number parsed one ulp off (as ...864e22).
#[test]
fn a_float_that_once_drifted_round_trips() {
    let body = br#"{"phases":[{"exec":"x","uarg":{"a":-1.8222862286823866e+22}}]}"#;
    let s = JobSpec::from_json(body).unwrap();
    let again = JobSpec::from_json(&serde_json::to_vec(&s).unwrap()).unwrap();
    assert_eq!(again, s);
    assert_eq!(
        s.phases[0].uarg.as_ref().unwrap()["a"].as_f64(),
        Some(-1.8222862286823866e22)
    );
}

/// A small JSON object (what `uarg` must be).
fn json_object() -> impl Strategy<Value = Value> {
    proptest::collection::btree_map("[a-z]{1,6}", json_leaf(), 0..4)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

fn phase() -> impl Strategy<Value = Phase> {
    (
        proptest::sample::select(vec![
            PhaseType::Map,
            PhaseType::Reduce,
            PhaseType::StorageMap,
        ]),
        "[^\u{0}]{1,40}",
        proptest::option::of("[ -~]{1,20}"),
        proptest::option::of(proptest::collection::vec(
            "/[a-z]{1,8}(/[a-z.]{1,8}){0,3}",
            0..3,
        )),
        proptest::option::of(1..=MAX_REDUCERS),
        proptest::option::of(proptest::sample::select(MEMORY_MB_ALLOWED.to_vec())),
        proptest::option::of(proptest::sample::select(DISK_GB_ALLOWED.to_vec())),
        proptest::option::of("[>=<0-9.* ]{0,5}[0-9]"),
        proptest::option::of(json_object()),
    )
        .prop_map(
            |(phase_type, exec, init, assets, count, memory, disk, image, uarg)| Phase {
                phase_type,
                exec,
                init,
                assets,
                count: if phase_type.is_map() { None } else { count },
                memory,
                disk,
                image,
                uarg,
                extra: Default::default(),
            },
        )
}

fn spec() -> impl Strategy<Value = JobSpec> {
    (
        proptest::option::of(any::<String>()),
        proptest::collection::vec(phase(), 1..4),
        any::<bool>(),
    )
        .prop_map(|(name, phases, transient)| JobSpec {
            name,
            phases,
            transient,
            extra: Default::default(),
        })
}

fn check(body: &[u8]) -> Result<(), TestCaseError> {
    match JobSpec::from_json(body) {
        Ok(s) => {
            prop_assert!(s.validate().is_ok());
            // What was accepted reads back the same once re-serialised.
            let again = JobSpec::from_json(&serde_json::to_vec(&s).unwrap()).unwrap();
            prop_assert_eq!(again, s);
        }
        Err(SpecError::Field { field, .. }) => prop_assert!(!field.is_empty()),
        Err(SpecError::Parse(_)) => {}
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn junk_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256), s in any::<String>()) {
        check(&bytes)?;
        check(s.as_bytes())?;
        check(format!("{{\"phases\":[{{\"exec\":{s:?}}}]}}").as_bytes())?;
    }

    #[test]
    fn mutated_specs_never_panic(spec in spec(), e in edits()) {
        check(&mutate(&serde_json::to_vec(&spec).unwrap(), &e))?;
    }

    #[test]
    fn valid_specs_round_trip(spec in spec()) {
        let body = serde_json::to_vec(&spec).unwrap();
        prop_assert_eq!(JobSpec::from_json(&body).unwrap(), spec);
    }

    /// An unknown property anywhere is refused (Marlin's
    /// `additionalProperties: false`).
    #[test]
    fn unknown_properties_are_refused(spec in spec(), key in "[a-z]{1,8}x", at_phase in any::<bool>()) {
        let mut v = serde_json::to_value(&spec).unwrap();
        if at_phase {
            v["phases"][0][&key] = json!(1);
        } else {
            v[&key] = json!(1);
        }
        prop_assert!(JobSpec::from_json(&serde_json::to_vec(&v).unwrap()).is_err());
    }
}
