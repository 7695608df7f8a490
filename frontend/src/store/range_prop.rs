//! Properties of the `Range` parser: any text gives a range inside the
//! object or an error, never a panic; formatted ranges parse back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::error::Error;
use super::range::{parse, ByteRange};
use client_sdk::prop::{config, edits, junk, mutate_str};
use proptest::prelude::*;

/// The numbers of an accepted header are plain digits (RFC 9110's
/// `1*DIGIT`), whatever surrounds them.
fn digits_only(header: &str) -> bool {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
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
    match parse(header, size) {
        Ok(r) => {
            prop_assert!(r.start <= r.end && r.end < size, "{r:?} of {size}");
            prop_assert_eq!(r.count(), r.end - r.start + 1);
            prop_assert!(digits_only(header), "accepted {:?}", header);
        }
        Err(Error::MultiRange) => prop_assert!(header.contains(',')),
        Err(Error::RangeNotSatisfiable { size: s }) => prop_assert_eq!(s, size),
        Err(e) => prop_assert!(false, "unexpected error {e:?}"),
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
        (number(), number()).prop_map(|(a, b)| format!(" bytes= {a} - {b} ")),
    ]
}

/// Headers put together from parts, good and bad: units, signs and
/// spaces before the numbers, one or two dashes, lists.
fn assembled() -> impl Strategy<Value = String> {
    let sel = |v: Vec<&'static str>| proptest::sample::select(v);
    (
        sel(vec!["bytes=", " bytes= ", "items=", "bytes", "bytes=="]),
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

    /// `bytes=a-b` within the object is exactly `[a, b]`; an end past the
    /// object is clamped to its last byte.
    #[test]
    fn first_last_round_trips(size in 1u64..u64::MAX, a in any::<u64>(), b in any::<u64>()) {
        let (a, b) = (a % size, b.max(a % size));
        let r = parse(&format!("bytes={a}-{b}"), size).unwrap();
        prop_assert_eq!(r, ByteRange { start: a, end: b.min(size - 1) });
        let r = parse(&format!("bytes={a}-"), size).unwrap();
        prop_assert_eq!(r, ByteRange { start: a, end: size - 1 });
    }

    /// `bytes=-n` is the last `n` bytes (all of them when `n >= size`).
    #[test]
    fn suffix_round_trips(size in 1u64..u64::MAX, n in 1u64..u64::MAX) {
        let r = parse(&format!("bytes=-{n}"), size).unwrap();
        prop_assert_eq!(r, ByteRange { start: size - n.min(size), end: size - 1 });
    }
}

/// Found by `assembled_headers` (and by `mutated_never_panics` in a long
/// run): `u64::from_str` takes a leading `+`, so
/// `bytes=+5-` was served as `bytes=5-`; the grammar has digits only.
#[test]
fn signed_numbers_are_refused() {
    for h in ["bytes=+5-", "bytes=-+5", "bytes=0-+9"] {
        assert!(
            matches!(parse(h, 100), Err(Error::RangeNotSatisfiable { .. })),
            "{h}"
        );
    }
}
