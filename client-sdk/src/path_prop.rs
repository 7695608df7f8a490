//! Properties of the path helpers: the two encoders decode back to their
//! input and write only what they promise; normalisation is idempotent and
//! leaves no `.`, `..` or empty segment.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::path::{basename, encode, normalize, parent, resolve, rfc3986};
use crate::prop::{config, edits, mutate_str};
use percent_encoding::percent_decode_str;
use proptest::prelude::*;

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8().unwrap().into_owned()
}

/// `%XX` with upper-case hex, else one of `allowed`.
fn only(encoded: &str, allowed: &str) -> bool {
    let b = encoded.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = |c: u8| c.is_ascii_digit() || (b'A'..=b'F').contains(&c);
            if i + 2 >= b.len() {
                return false;
            }
            if !(hex(b[i + 1]) && hex(b[i + 2])) {
                return false;
            }
            i += 3;
        } else if b[i].is_ascii_alphanumeric() || allowed.as_bytes().contains(&b[i]) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

fn path() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            "[^/]{0,8}",
            Just(".".to_string()),
            Just("..".to_string()),
            Just("~~".to_string())
        ],
        0..6,
    )
    .prop_map(|v| v.join("/"))
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn rfc3986_round_trips(s in any::<String>()) {
        let e = rfc3986(&s);
        prop_assert!(only(&e, "-_.~"), "{:?}", e);
        prop_assert_eq!(decode(&e), s);
    }

    /// Segment by segment, like `encodeURIComponent`: slashes stay.
    #[test]
    fn encode_round_trips(p in path()) {
        let e = encode(&p);
        prop_assert!(only(&e, "-_.!~*'()/"), "{:?}", e);
        prop_assert_eq!(e.matches('/').count(), p.matches('/').count());
        prop_assert_eq!(decode(&e), p);
    }

    #[test]
    fn normalize_is_clean_and_idempotent(p in path()) {
        let n = normalize(&p);
        prop_assert!(n.starts_with('/'));
        prop_assert!(n == "/" || !n.ends_with('/'));
        prop_assert!(n == "/" || n[1..].split('/').all(|s| !s.is_empty() && s != "." && s != ".."));
        prop_assert_eq!(normalize(&n), n.clone());
        if let Some(up) = parent(&n) {
            prop_assert!(n.starts_with(up));
            prop_assert_eq!(normalize(up), up.to_string());
        }
        prop_assert!(n.ends_with(basename(&n)));
    }

    #[test]
    fn resolve_never_panics(p in path(), user in "[a-z]{1,8}", e in edits()) {
        for p in [p.clone(), format!("/{p}"), format!("~~{p}"), mutate_str(&p, &e)] {
            if let Ok(r) = resolve(&p, &user) {
                prop_assert_eq!(normalize(&r), r.clone());
                if p.starts_with("~~") {
                    // `~~` is the user's home, and `..` cannot climb above `/`.
                    prop_assert!(r.starts_with('/'));
                }
            }
        }
    }
}
