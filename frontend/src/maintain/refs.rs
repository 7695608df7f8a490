//! The blobs a record names, wherever in the record they sit.
//!
//! Every API stores bytes the same way (`{blob, size, sharks}`, see
//! [`Stored`]): a Manta object at the record's top level, an S3 object's
//! parts in an array, an upload's part in a field. Walking the JSON for
//! that shape lets repair and garbage collection cover every kind of
//! record, today's and a later one's, without knowing their types.

use crate::store::{BlobRef, NodeId, Stored};
use serde_json::Value;

/// One blob a record names, and where (a JSON pointer) so it can be
/// rewritten in place.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FoundRef {
    pub(crate) pointer: String,
    pub(crate) blob: BlobRef,
}

/// Every non-empty blob `value` names, depth first. Records nest a few
/// levels at most; deeper values are not records and are not walked.
pub(crate) fn find(value: &Value) -> Vec<FoundRef> {
    let mut out = Vec::new();
    walk(value, &mut String::new(), 0, &mut out);
    out
}

const MAX_DEPTH: usize = 8;

fn walk(value: &Value, pointer: &mut String, depth: usize, out: &mut Vec<FoundRef>) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => {
            if map.get("blob").is_some_and(Value::is_string) && map.contains_key("sharks") {
                if let Ok(Stored::Blob(blob)) = serde_json::from_value::<Stored>(value.clone()) {
                    out.push(FoundRef {
                        pointer: pointer.clone(),
                        blob,
                    });
                }
                return;
            }
            for (k, v) in map {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&k.replace('~', "~0").replace('/', "~1"));
                walk(v, pointer, depth + 1, out);
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&i.to_string());
                walk(v, pointer, depth + 1, out);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

/// Sets the copies (and the wanted count) of the blob at `pointer`;
/// `false` if nothing blob-like is there any more.
pub(crate) fn rewrite(
    value: &mut Value,
    pointer: &str,
    copies: &[NodeId],
    want: Option<u32>,
) -> bool {
    let Some(Value::Object(map)) = value.pointer_mut(pointer) else {
        return false;
    };
    if !map.contains_key("blob") {
        return false;
    }
    let sharks = copies.iter().map(|n| Value::from(n.0.clone())).collect();
    map.insert("sharks".into(), Value::Array(sharks));
    match want {
        Some(w) => map.insert("want".into(), Value::from(w)),
        None => map.remove("want"),
    };
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ids::BlobHash;
    use serde_json::json;

    #[test]
    fn finds_blobs_at_any_depth_and_rewrites_them() {
        let a = BlobHash::of(b"a").to_hex();
        let b = BlobHash::of(b"b").to_hex();
        let mut v = json!({
            "type": "object", "blob": a, "size": 3, "sharks": ["n1", "n2"],
            "headers": {"blob": "not a record field"},
        });
        let found = find(&v);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].pointer, "");
        assert_eq!(
            found[0].blob.copies,
            vec![NodeId("n1".into()), NodeId("n2".into())]
        );
        assert!(rewrite(&mut v, "", &[NodeId("n3".into())], Some(2)));
        assert_eq!(v["sharks"], json!(["n3"]));
        assert_eq!(v["want"], json!(2));
        assert_eq!(find(&v)[0].blob.wanted(), 2);
        assert!(rewrite(
            &mut v,
            "",
            &[NodeId("n3".into()), NodeId("n4".into())],
            None
        ));
        assert!(v.get("want").is_none());

        let mut s3 = json!({"parts": [
            {"blob": a, "size": 5, "sharks": ["n1"]},
            {"blob": null, "size": 0, "sharks": []},
            {"blob": b, "size": 7, "sharks": ["n2"]},
        ], "meta/x": {"part": {"blob": b, "size": 7, "sharks": ["n9"]}}});
        let found = find(&s3);
        let mut pointers: Vec<&str> = found.iter().map(|f| f.pointer.as_str()).collect();
        pointers.sort();
        assert_eq!(pointers, ["/meta~1x/part", "/parts/0", "/parts/2"]);
        assert!(rewrite(&mut s3, "/parts/2", &[NodeId("n5".into())], None));
        assert_eq!(s3["parts"][2]["sharks"], json!(["n5"]));
        assert!(!rewrite(&mut s3, "/parts/9", &[], None));
        // An empty object names no blob; a malformed one is not a ref.
        assert!(find(&json!({"blob": "zz", "size": 3, "sharks": []})).is_empty());
        assert!(find(&json!({"blob": a, "size": 0, "sharks": ["n1"]})).is_empty());
    }
}
