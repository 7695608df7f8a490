//! Properties of signed-URL (msign) checking: any query is refused or
//! checked, never a panic; a URL `client_sdk::Signer::sign_url` made is
//! accepted for its methods and its signature verifies over the string the
//! server rebuilds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::keys::{self, Algorithm};
use super::presign::{check, is_presigned, query_pairs};
use super::signature_prop::key;
use axum::http::{HeaderMap, HeaderValue, Method, Uri};
use client_sdk::presign::SignUrlOptions;
use client_sdk::prop::{config, edits, junk, mutate_str};
use proptest::prelude::*;

const NOW: u64 = 1_700_000_000;

fn host(h: &str) -> HeaderMap {
    let mut m = HeaderMap::new();
    m.insert("host", HeaderValue::from_str(h).unwrap());
    m
}

fn check_any(method: &Method, raw: &str) {
    if let Ok(uri) = raw.parse::<Uri>() {
        let pairs = query_pairs(&uri);
        if is_presigned(&pairs) {
            let _ = check(method, &uri, &host("h"), &pairs, NOW);
        }
    }
}

const METHODS: [&str; 5] = ["GET", "HEAD", "PUT", "POST", "DELETE"];

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn junk_queries_never_panic(q in junk()) {
        let enc: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
        check_any(&Method::GET, &format!("/u/stor/x?expires={enc}&keyId={enc}&algorithm=x&signature={enc}"));
        check_any(&Method::GET, &format!("/u/stor/x?{enc}=1&expires=1"));
    }

    #[test]
    fn mutated_urls_never_panic(e in edits(), login in "[a-z][a-z0-9]{1,8}") {
        let (signer, _) = key();
        let url = signer
            .sign_url("h", "/u/stor/x", &signer.key_id(&login, None), &SignUrlOptions::new(&["GET", "HEAD"], NOW + 60))
            .unwrap();
        check_any(&Method::GET, &mutate_str(&url, &e));
    }

    /// Sign a URL with the client, check it with the server.
    #[test]
    fn client_urls_verify(
        login in "[a-zA-Z][a-zA-Z0-9_.@-]{1,12}",
        host_name in "[a-z0-9.-]{1,20}(:[0-9]{1,5})?",
        names in proptest::collection::vec("[^/\u{0}]{1,10}", 1..4),
        methods in proptest::sample::subsequence(METHODS.to_vec(), 1..=METHODS.len()),
        expires in NOW..NOW + 7 * 86_400,
        role in proptest::option::of(any::<String>()),
        role_tag in proptest::option::of(any::<String>()),
    ) {
        let (signer, record) = key();
        let path = client_sdk::path::encode(&format!("/{login}/stor/{}", names.join("/")));
        let key_id = signer.key_id(&login, None);
        let mut opts = SignUrlOptions::new(&methods, expires);
        opts.role = role;
        opts.role_tag = role_tag;
        let url = signer.sign_url(&host_name, &path, &key_id, &opts).unwrap();
        let uri: Uri = url.parse().unwrap();
        prop_assert_eq!(uri.path(), path.as_str());
        let pairs = query_pairs(&uri);
        prop_assert!(is_presigned(&pairs));
        for m in METHODS {
            let method = Method::from_bytes(m.as_bytes()).unwrap();
            let r = check(&method, &uri, &host(&host_name), &pairs, NOW);
            if !methods.contains(&m) {
                // Refused outright when the URL lists its methods; with one
                // method the list is implicit, so the signature (made over
                // that method) is what fails.
                if let Ok(p) = r {
                    let alg = Algorithm::parse(&p.algorithm).unwrap();
                    prop_assert!(keys::verify(record, alg, p.signed.as_bytes(), &p.signature).is_err(), "{} was not signed for", m);
                }
                continue;
            }
            let p = r.unwrap();
            prop_assert_eq!(&p.key_id, &key_id);
            let alg = Algorithm::parse(&p.algorithm).unwrap();
            keys::verify(record, alg, p.signed.as_bytes(), &p.signature).unwrap();
        }
        // Expired a second after `expires`.
        let get = Method::from_bytes(methods[0].as_bytes()).unwrap();
        prop_assert!(check(&get, &uri, &host(&host_name), &pairs, expires + 1).is_err());
    }
}
