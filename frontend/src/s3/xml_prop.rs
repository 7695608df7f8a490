//! Properties of the S3 XML reader: any body is refused or read, never a
//! panic; what the writer writes reads back exactly, for any text, and the
//! CompleteMultipartUpload and DeleteObjects bodies a client builds give
//! back their parts and keys.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::multipart::requested_parts;
use super::xml::{self, elements, text, unescape, Xml};
use client_sdk::prop::{config, edits, junk, mutate_str};
use proptest::prelude::*;

/// DeleteObjects' reading of its body (`s3::copy::delete_objects`).
fn delete_keys(doc: &str) -> Result<(bool, Vec<String>), super::S3Error> {
    let quiet = xml::text(doc, "Quiet")?.is_some_and(|q| q.trim() == "true");
    let mut keys = Vec::new();
    for o in elements(doc, "Object")? {
        keys.push(text(o, "Key")?.ok_or(super::S3Error::MalformedXml)?);
    }
    Ok((quiet, keys))
}

fn delete_body(keys: &[String], quiet: bool) -> String {
    let mut x = Xml::doc();
    x.root("Delete");
    if quiet {
        x.elem("Quiet", "true");
    }
    for k in keys {
        x.open("Object");
        x.elem("Key", k);
        x.close("Object");
    }
    x.close("Delete");
    x.finish()
}

fn complete_body(parts: &[(u32, String)]) -> String {
    let mut x = Xml::doc();
    x.root("CompleteMultipartUpload");
    for (n, etag) in parts {
        x.open("Part");
        x.elem("PartNumber", &n.to_string());
        x.elem("ETag", &format!("\"{etag}\""));
        x.close("Part");
    }
    x.close("CompleteMultipartUpload");
    x.finish()
}

/// Any text, often made of what XML treats specially: markup, references,
/// whitespace and line ends.
fn text_like() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[ \t\r\na<>&;#x\"'\u{1}]{0,8}"]
}

fn parts() -> impl Strategy<Value = Vec<(u32, String)>> {
    proptest::collection::btree_map(1u32..10_000, "[0-9a-f]{32}(-[0-9]{1,3})?", 1..8)
        .prop_map(|m| m.into_iter().collect())
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn junk_never_panics(s in junk()) {
        let _ = unescape(&s);
        let _ = elements(&s, "Part");
        let _ = text(&s, "Key");
        let _ = delete_keys(&s);
        let _ = requested_parts(&s);
        let _ = delete_keys(&format!("<Delete><Object><Key>{s}</Key></Object></Delete>"));
    }

    #[test]
    fn mutated_bodies_never_panic(keys in proptest::collection::vec(any::<String>(), 1..5), p in parts(), e in edits()) {
        let _ = delete_keys(&mutate_str(&delete_body(&keys, true), &e));
        let _ = requested_parts(&mutate_str(&complete_body(&p), &e));
    }

    /// Any text written as an element reads back the same.
    #[test]
    fn element_text_round_trips(s in text_like()) {
        let mut x = Xml::doc();
        x.elem("Key", &s);
        prop_assert_eq!(text(&x.finish(), "Key").unwrap(), Some(s));
    }

    #[test]
    fn delete_objects_round_trips(keys in proptest::collection::vec(text_like(), 1..8), quiet in any::<bool>()) {
        prop_assert_eq!(delete_keys(&delete_body(&keys, quiet)).unwrap(), (quiet, keys));
    }

    #[test]
    fn complete_multipart_round_trips(p in parts()) {
        let got: Vec<(u32, String)> = requested_parts(&complete_body(&p))
            .unwrap()
            .into_iter()
            .map(|w| (w.number, w.etag))
            .collect();
        prop_assert_eq!(got, p);
    }
}

/// Found by `element_text_round_trips`: the reader trimmed line ends
/// around an element's text, so DeleteObjects with the key "\na" deleted
/// "a"; and a raw CR, which XML parsers read as LF, was written as is.
#[test]
fn line_ends_in_keys_survive() {
    for key in ["\na", "a\n", "\r\nb\r", "a\rb"] {
        let body = delete_body(&[key.to_string()], false);
        assert_eq!(delete_keys(&body).unwrap().1, vec![key.to_string()]);
    }
    assert!(!delete_body(&["a\rb".into()], false).contains('\r'));
    // Literal line ends in a body follow XML's end-of-line rule.
    let (_, keys) = delete_keys("<Delete><Object><Key>a\r\nb\rc</Key></Object></Delete>").unwrap();
    assert_eq!(keys, vec!["a\nb\nc".to_string()]);
}
