//! Properties of the storage node's `Range` resolution: any header gives
//! the whole blob, a part inside it or 416, never a panic; formatted ranges
//! resolve to themselves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::range::{resolve, Resolved};
use client_sdk::prop::{config, edits, junk, mutate_str};
use proptest::prelude::*;

/// The numbers of a used range are plain digits (RFC 9110's `1*DIGIT`).
fn digits_only(header: &str) -> bool {
    let Some((_, spec)) = header.split_once('=') else {
        return false;
    };
    let Some((a, b)) = spec.split_once('-') else {
        return false;
    };
    [a.trim(), b.trim()]
        .iter()
        .all(|s| s.bytes().all(|c| c.is_ascii_digit()))
}

fn check(header: &str, size: u64) -> Result<(), TestCaseError> {
    match resolve(header, size) {
        Resolved::Part { start, end } => {
            prop_assert!(start <= end && end < size, "{start}-{end} of {size}");
            prop_assert!(digits_only(header), "used {:?}", header);
        }
        Resolved::Unsatisfiable => prop_assert!(digits_only(header), "416 for {:?}", header),
        Resolved::Whole => {}
    }
    Ok(())
}

/// Mostly small numbers: short headers, so an edit often lands next to a
/// number, and ranges that fit the (mostly small) sizes.
fn number() -> impl Strategy<Value = u64> {
    prop_oneof![4 => 0u64..300, 1 => any::<u64>()]
}

fn valid_header() -> impl Strategy<Value = String> {
    prop_oneof![
        (number(), number()).prop_map(|(a, b)| format!("bytes={a}-{b}")),
        number().prop_map(|a| format!("bytes={a}-")),
        number().prop_map(|n| format!("bytes=-{n}")),
        (number(), number()).prop_map(|(a, b)| format!("Bytes = {a} - {b}")),
    ]
}

/// Headers put together from parts, good and bad: units, signs and
/// spaces before the numbers, one or two dashes, lists.
fn assembled() -> impl Strategy<Value = String> {
    let sel = |v: Vec<&'static str>| proptest::sample::select(v);
    (
        sel(vec!["bytes=", "Bytes = ", "items=", "bytes", "bytes=="]),
        sel(vec!["", "+", "-", " ", "0", "0x", "\t"]),
        proptest::option::of(number()),
        sel(vec!["-", "--", ",", "", " - "]),
        sel(vec!["", "+", " ", "-", "0"]),
        proptest::option::of(number()),
        sel(vec!["", ",0-1", " ", "-"]),
    )
        .prop_map(|(unit, s1, a, dash, s2, b, tail)| {
            let n = |x: Option<u64>| x.map(|x| x.to_string()).unwrap_or_default();
            format!("{unit}{s1}{}{dash}{s2}{}{tail}", n(a), n(b))
        })
}

fn size() -> impl Strategy<Value = u64> {
    prop_oneof![4 => 0u64..400, 1 => any::<u64>()]
}

proptest! {
    #![proptest_config(config(2048))]

    #[test]
    fn junk_never_panics(h in junk(), size in size()) {
        check(&h, size)?;
        check(&format!("bytes={h}"), size)?;
    }

    #[test]
    fn assembled_headers(h in assembled(), size in size()) {
        check(&h, size)?;
    }

    #[test]
    fn mutated_never_panics(h in valid_header(), e in edits(), size in size()) {
        check(&mutate_str(&h, &e), size)?;
    }

    #[test]
    fn ranges_round_trip(size in 1u64..u64::MAX, a in any::<u64>(), b in any::<u64>(), n in 1u64..u64::MAX) {
        let (a, b) = (a % size, b.max(a % size));
        prop_assert_eq!(resolve(&format!("bytes={a}-{b}"), size), Resolved::Part { start: a, end: b.min(size - 1) });
        prop_assert_eq!(resolve(&format!("bytes={a}-"), size), Resolved::Part { start: a, end: size - 1 });
        prop_assert_eq!(resolve(&format!("bytes=-{n}"), size), Resolved::Part { start: size - n.min(size), end: size - 1 });
        prop_assert_eq!(resolve(&format!("bytes={size}-"), size), Resolved::Unsatisfiable);
    }
}

/// Found by `assembled_headers` (and by `mutated_never_panics` in a long
/// run): `u64::from_str` takes a leading `+`, so
/// `bytes=+5-` was served as `bytes=5-`; a malformed range is ignored.
#[test]
fn signed_numbers_are_ignored() {
    for h in ["bytes=+5-", "bytes=-+5", "bytes=0-+9"] {
        assert_eq!(resolve(h, 100), Resolved::Whole, "{h}");
    }
}
