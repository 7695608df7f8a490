//! Properties of the SigV4 canonical forms, which parse what a request
//! carries: any path or query gives a canonical form, never a panic; the
//! forms are fixed points (canonicalising twice changes nothing), and the
//! pairs a client encodes come back from `query_pairs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::path::RFC3986;
use crate::presign;
use crate::prop::{config, edits, junk, mutate_str};
use crate::sigv4::{canonical_query, canonical_uri, query_pairs, uri_encode};
use percent_encoding::percent_encode;
use proptest::prelude::*;

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec((any::<String>(), any::<String>()), 0..6)
}

fn encoded(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", uri_encode(k), uri_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn junk_never_panics(s in junk(), e in edits()) {
        for s in [s.clone(), mutate_str("/a%20b/c?x=1&y", &e)] {
            let _ = canonical_uri(&s);
            let _ = canonical_query(Some(&s), true);
            let _ = query_pairs(Some(&s));
            let _ = presign::url_host(&s);
        }
    }

    /// A canonical URI is its own canonical URI: the server's view of a
    /// path the client canonicalised is the same.
    #[test]
    fn canonical_uri_is_a_fixed_point(s in junk()) {
        let c = canonical_uri(&s);
        prop_assert_eq!(canonical_uri(&c), c);
    }

    #[test]
    fn canonical_query_is_sorted_and_a_fixed_point(p in pairs()) {
        let q = encoded(&p);
        let c = canonical_query(Some(&q), false);
        prop_assert_eq!(canonical_query(Some(&c), false), c.clone());
        let keys: Vec<(String, String)> = query_pairs(Some(&c))
            .into_iter()
            .map(|(k, v)| (uri_encode(&k), uri_encode(&v)))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        prop_assert_eq!(keys, sorted);
    }

    /// Encoded pairs decode back to themselves, in order.
    #[test]
    fn query_pairs_round_trip(p in pairs()) {
        prop_assert_eq!(query_pairs(Some(&encoded(&p))), p);
    }

    /// AWS canonicalises the bytes a query carries, UTF-8 or not: `%FF`
    /// stays `%FF` (the client signed it so).
    #[test]
    fn canonical_query_keeps_raw_bytes(p in proptest::collection::vec((proptest::collection::vec(any::<u8>(), 0..6), proptest::collection::vec(any::<u8>(), 0..6)), 0..5)) {
        let enc = |b: &[u8]| percent_encode(b, RFC3986).to_string();
        let q = p.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&");
        let mut want: Vec<(String, String)> = p.iter().map(|(k, v)| (enc(k), enc(v))).collect();
        want.sort();
        let want = want.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
        prop_assert_eq!(canonical_query(Some(&q), false), want);
    }

    /// A presigned query leaves its signature out, wherever it is.
    #[test]
    fn presigned_query_drops_the_signature(p in pairs(), at in any::<prop::sample::Index>(), sig in "[0-9a-f]{64}") {
        let mut with = p.clone();
        with.insert(at.index(p.len() + 1), ("X-Amz-Signature".into(), sig));
        let without: Vec<_> = p.into_iter().filter(|(k, _)| k != "X-Amz-Signature").collect();
        prop_assert_eq!(
            canonical_query(Some(&encoded(&with)), true),
            canonical_query(Some(&encoded(&without)), true)
        );
    }
}

/// Found by `canonical_query_keeps_raw_bytes`: the query was decoded as
/// lossy UTF-8, so `%FF` was canonicalised as `%EF%BF%BD` and a request
/// AWS would accept failed its signature check.
#[test]
fn non_utf8_query_bytes_keep_their_encoding() {
    assert_eq!(canonical_query(Some("b=%FF&a=%C3"), false), "a=%C3&b=%FF");
}
