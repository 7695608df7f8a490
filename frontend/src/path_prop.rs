//! Properties of Manta path parsing: any request path is refused or gives
//! a path whose parts obey the limits, and what `client_sdk::path::encode`
//! writes parses back to the same path.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::path::{valid_login, MantaPath, MAX_NAME_BYTES, MAX_PATH_BYTES, TREES};
use client_sdk::path::encode;
use client_sdk::prop::{config, edits, junk, mutate_str};
use proptest::prelude::*;

fn login() -> impl Strategy<Value = String> {
    "[a-zA-Z][a-zA-Z0-9_.@%-]{1,20}"
}

/// A name a user may create: anything but `/` and NUL, not `.` or `..`.
fn name() -> impl Strategy<Value = String> {
    "[^/\u{0}]{1,24}".prop_filter("dot names are refused", |s| s != "." && s != "..")
}

fn manta_path() -> impl Strategy<Value = MantaPath> {
    (
        login(),
        proptest::option::of(proptest::sample::select(TREES.to_vec())),
        proptest::collection::vec(name(), 0..6),
    )
        .prop_map(|(login, tree, parts)| MantaPath {
            login,
            parts: if tree.is_some() { parts } else { Vec::new() },
            tree: tree.map(str::to_string),
        })
}

/// Whatever `parse` accepts is a well-formed path.
fn check(raw: &str) -> Result<(), TestCaseError> {
    let Ok(p) = MantaPath::parse(raw) else {
        return Ok(());
    };
    prop_assert!(valid_login(&p.login));
    if let Some(t) = &p.tree {
        prop_assert!(TREES.contains(&t.as_str()));
    } else {
        prop_assert!(p.parts.is_empty());
    }
    for part in &p.parts {
        prop_assert!(!part.is_empty() && part != "." && part != "..");
        prop_assert!(!part.contains('/') && !part.contains('\0'));
        prop_assert!(part.len() <= MAX_NAME_BYTES);
    }
    prop_assert!(p.display().len() <= MAX_PATH_BYTES);
    // What the server shows, encoded as the client would send it, is the
    // same path again.
    prop_assert_eq!(MantaPath::parse(&encode(&p.display())).unwrap(), p);
    Ok(())
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn junk_never_panics(s in junk()) {
        check(&s)?;
        check(&format!("/bob/stor/{s}"))?;
    }

    #[test]
    fn mutated_never_panics(p in manta_path(), e in edits()) {
        check(&mutate_str(&encode(&p.display()), &e))?;
    }

    /// The client's encoding round-trips, with or without extra slashes.
    #[test]
    fn encoded_paths_round_trip(p in manta_path()) {
        let wire = encode(&p.display());
        prop_assert_eq!(MantaPath::parse(&wire).unwrap(), p.clone());
        let sloppy = format!("/{}/", wire.replace('/', "//"));
        prop_assert_eq!(MantaPath::parse(&sloppy).unwrap(), p.clone());
        if let Some(parent) = p.parent() {
            prop_assert_eq!(MantaPath::parse(&encode(&parent.display())).unwrap(), parent);
        }
    }
}
