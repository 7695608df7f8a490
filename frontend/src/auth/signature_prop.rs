//! Properties of the HTTP Signature parsers: any `Authorization` value or
//! keyId is refused or parsed, never a panic; what `client_sdk::Signer`
//! writes parses back to its keyId, algorithm and header list, and its
//! signature verifies over the string the server rebuilds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::keys::{self, Algorithm};
use super::signature::{parse_authorization, parse_key_id, signing_string};
use crate::error::Error;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use client_sdk::prop::{config, edits, junk, mutate_str};
use client_sdk::Signer;
use proptest::prelude::*;
use std::sync::OnceLock;

/// One Ed25519 key for every case (generating is cheap, verifying the same
/// key each time keeps the test about the parsers).
pub(super) fn key() -> &'static (Signer, crate::records::SshKeyRecord) {
    static KEY: OnceLock<(Signer, crate::records::SshKeyRecord)> = OnceLock::new();
    KEY.get_or_init(|| {
        let (private, public) = keys::generate_ed25519("prop").unwrap();
        (
            Signer::from_openssh(&private).unwrap(),
            keys::parse_public(&public).unwrap(),
        )
    })
}

fn login() -> impl Strategy<Value = String> {
    "[a-zA-Z][a-zA-Z0-9_.@-]{1,20}"
}

/// Signed header names: the pseudo-headers and a few real ones, in any
/// order, without repeats.
fn header_names() -> impl Strategy<Value = Vec<String>> {
    let all = [
        "(request-target)",
        "request-line",
        "date",
        "host",
        "content-md5",
        "x-amz-meta-a",
    ];
    proptest::sample::subsequence(all.to_vec(), 1..=all.len())
        .prop_shuffle()
        .prop_map(|v| v.into_iter().map(str::to_string).collect())
}

/// A header value as HTTP carries it: visible ASCII and inner spaces.
fn header_value() -> impl Strategy<Value = String> {
    "[!-~]([ -~]{0,30}[!-~])?"
}

fn target() -> impl Strategy<Value = String> {
    (
        "[^/\u{0}]{1,12}",
        proptest::option::of("[a-z]{1,5}=[a-z0-9]{0,5}(%20[a-z])?"),
    )
        .prop_map(|(name, q)| {
            let path = format!("/u/stor/{}", client_sdk::path::encode(&name));
            match q {
                Some(q) => format!("{path}?{q}"),
                None => path,
            }
        })
}

fn valid_header() -> impl Strategy<Value = String> {
    (login(), header_names(), header_value()).prop_map(|(login, names, value)| {
        let (signer, _) = key();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        signer
            .authorization_over(&signer.key_id(&login, None), &names, "GET", "/", |_| {
                Some(value.as_str())
            })
            .unwrap()
    })
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn junk_never_panics(s in junk()) {
        let _ = parse_authorization(&s);
        let _ = parse_authorization(&format!("Signature {s}"));
        let _ = parse_key_id(&s);
    }

    #[test]
    fn mutated_headers_never_panic(h in valid_header(), e in edits()) {
        let h = mutate_str(&h, &e);
        if let Ok(p) = parse_authorization(&h) {
            prop_assert!(!p.headers.is_empty() || h.contains("headers="));
            let _ = parse_key_id(&p.key_id);
        }
    }

    /// Algorithm names: accepted exactly when muskie's set has them, in
    /// any case.
    #[test]
    fn algorithms_are_the_allowed_set(s in prop_oneof![junk(), "(rsa|ecdsa|ed25519|dsa|x)-(sha1|sha256|sha384|sha512|md5)"]) {
        let allowed = [
            "rsa-sha1", "rsa-sha256", "rsa-sha384", "rsa-sha512",
            "ecdsa-sha256", "ecdsa-sha384", "ecdsa-sha512", "ed25519-sha512",
        ];
        let upper = s.to_ascii_uppercase();
        prop_assert_eq!(Algorithm::parse(&s).is_ok(), allowed.iter().any(|a| a.to_ascii_uppercase() == upper));
    }

    /// OpenSSH public key lines (what an account's keys are added from):
    /// junk and mutated lines never panic; an accepted line keeps its
    /// fingerprints' shapes.
    #[test]
    fn public_keys_never_panic(s in junk(), e in edits()) {
        let _ = keys::parse_public(&s);
        let line = key().1.openssh.clone();
        if let Ok(rec) = keys::parse_public(&mutate_str(&line, &e)) {
            prop_assert_eq!(rec.md5.len(), 47);
            prop_assert!(rec.sha256.starts_with("SHA256:"));
        }
    }

    #[test]
    fn mutated_key_ids_never_panic(login in login(), e in edits()) {
        let (signer, _) = key();
        let id = mutate_str(&signer.key_id(&login, None), &e);
        if let Ok(k) = parse_key_id(&id) {
            prop_assert!(crate::path::valid_login(&k.login));
            prop_assert!(!k.fingerprint.is_empty());
        }
    }

    /// Sign with the client, parse and verify with the server.
    #[test]
    fn client_signatures_parse_and_verify(
        login in login(),
        names in header_names(),
        method in proptest::sample::select(vec!["GET", "HEAD", "PUT", "POST", "DELETE"]),
        target in target(),
        values in proptest::collection::vec(header_value(), 6),
    ) {
        let (signer, record) = key();
        let mut headers = HeaderMap::new();
        for (name, value) in ["date", "host", "content-md5", "x-amz-meta-a"].iter().zip(&values) {
            headers.insert(
                HeaderName::from_static(name),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let key_id = signer.key_id(&login, None);
        let names_ref: Vec<&str> = names.iter().map(String::as_str).collect();
        let auth = signer
            .authorization_over(&key_id, &names_ref, method, &target, |n| {
                headers.get(n).and_then(|v| v.to_str().ok())
            })
            .unwrap();

        let p = parse_authorization(&auth).unwrap();
        prop_assert_eq!(&p.key_id, &key_id);
        prop_assert_eq!(&p.algorithm, signer.algorithm());
        prop_assert_eq!(&p.headers, &names);
        let kid = parse_key_id(&p.key_id).unwrap();
        prop_assert_eq!(&kid.login, &login);
        prop_assert_eq!(kid.fingerprint.as_str(), signer.fingerprint());

        let uri: Uri = target.parse().unwrap();
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let signed = signing_string(&p, &method, &uri, &headers).unwrap();
        let alg = Algorithm::parse(&p.algorithm).unwrap();
        keys::verify(record, alg, signed.as_bytes(), &p.signature).unwrap();
        // The same signature over another target does not verify.
        let other: Uri = format!("{target}x").parse().unwrap();
        let signed = signing_string(&p, &method, &other, &headers).unwrap();
        if names.iter().any(|n| n == "(request-target)" || n == "request-line") {
            prop_assert!(matches!(
                keys::verify(record, alg, signed.as_bytes(), &p.signature),
                Err(Error::InvalidSignature)
            ));
        }
    }
}
