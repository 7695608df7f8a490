//! Shared pieces of every crate's property tests (`*_prop` modules): a
//! bounded case count that `PROPTEST_CASES` overrides, and byte-level
//! mutation of valid inputs. Built for this crate's tests and, with the
//! `prop` feature, for the other crates' (their dev-dependency turns it
//! on). See `docs/testing-properties.md`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;

/// `cases` by default (keeps CI fast); `PROPTEST_CASES=N` wins, for the long
/// run. `ProptestConfig::with_cases` alone would ignore the variable.
pub fn config(cases: u32) -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = cases;
    }
    c
}

/// Bytes that mean something to one of the parsers: separators, quotes,
/// escapes, digits, line ends.
const INTERESTING: &[u8] = b"=,;:\"'-/%&<>#?+ \t\r\n0123456789abcdefxAF.\\\0\xff";

/// One edit of a valid input; positions are taken modulo the length.
#[derive(Debug, Clone)]
pub enum Edit {
    Xor(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    /// Repeat a slice (start, len) in place: stretches numbers and fields.
    Repeat(usize, usize),
    Truncate(usize),
}

fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![any::<u8>(), proptest::sample::select(INTERESTING)]
}

/// One to eight edits.
pub fn edits() -> impl Strategy<Value = Vec<Edit>> {
    proptest::collection::vec(
        prop_oneof![
            (any::<usize>(), 1u8..=255).prop_map(|(i, b)| Edit::Xor(i, b)),
            (any::<usize>(), byte()).prop_map(|(i, b)| Edit::Insert(i, b)),
            any::<usize>().prop_map(Edit::Delete),
            (any::<usize>(), 1usize..16).prop_map(|(i, n)| Edit::Repeat(i, n)),
            any::<usize>().prop_map(Edit::Truncate),
        ],
        1..8,
    )
}

/// `input` with `edits` applied in order.
pub fn mutate(input: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut v = input.to_vec();
    for e in edits {
        match *e {
            Edit::Xor(i, b) if !v.is_empty() => {
                let i = i % v.len();
                v[i] ^= b;
            }
            Edit::Insert(i, b) => {
                let i = i % (v.len() + 1);
                v.insert(i, b);
            }
            Edit::Delete(i) if !v.is_empty() => {
                let i = i % v.len();
                v.remove(i);
            }
            Edit::Repeat(i, n) if !v.is_empty() => {
                let i = i % v.len();
                let end = (i + n).min(v.len());
                let piece = v[i..end].to_vec();
                v.splice(i..i, piece);
            }
            Edit::Truncate(i) => v.truncate(i % (v.len() + 1)),
            _ => {}
        }
    }
    v
}

/// `mutate` for the parsers of `&str`: invalid UTF-8 becomes U+FFFD, as a
/// header that reached `to_str` would never hold it anyway.
pub fn mutate_str(input: &str, edits: &[Edit]) -> String {
    String::from_utf8_lossy(&mutate(input.as_bytes(), edits)).into_owned()
}

/// Text drawn mostly from the bytes the parsers care about.
pub fn junk() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(byte(), 0..64)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}
