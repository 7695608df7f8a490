//! Whole-keyspace scans on a real RocksDB: every entry of the keyspace once,
//! in key order, across directories, resumable page by page, and nothing
//! of other keyspaces or of the directory counts.

use crate::shard::put1;
use metadata_tier::wire::{Condition, EntryKey, Keyspace};
use metadata_tier::Shard;
use serde_json::json;

#[tokio::test]
async fn scan_walks_a_keyspace_across_directories_in_pages() {
    let dir = tempfile::tempdir().unwrap();
    let s = Shard::open(dir.path()).await.unwrap();
    let mut want = Vec::new();
    for d in ["/a", "/a/b", "/b", ""] {
        for n in ["x", "y", "z z"] {
            put1(
                &s,
                EntryKey::new(Keyspace::Objects, d, n),
                json!([d, n]),
                Condition::None,
            )
            .await
            .unwrap();
            want.push((d.to_string(), n.to_string()));
        }
    }
    for space in [Keyspace::Nodes, Keyspace::Jobs, Keyspace::Buckets] {
        put1(
            &s,
            EntryKey::new(space, "/a", "other"),
            json!(0),
            Condition::None,
        )
        .await
        .unwrap();
    }
    want.sort_by(|a, b| {
        let k = |(d, n): &(String, String)| [d.as_bytes(), &[0], n.as_bytes()].concat();
        k(a).cmp(&k(b))
    });

    for page in [1, 2, 5, 1000] {
        let mut got = Vec::new();
        let mut after = None;
        loop {
            let r = s.scan(Keyspace::Objects, after, page).await.unwrap();
            assert!(r.entries.len() <= page);
            for e in &r.entries {
                assert_eq!(e.entry.value, json!([e.dir, e.entry.name]));
                got.push((e.dir.clone(), e.entry.name.clone()));
            }
            match r.next {
                Some(k) => after = Some(k),
                None => break,
            }
        }
        assert_eq!(got, want, "page size {page}");
    }

    let jobs = s.scan(Keyspace::Jobs, None, 10).await.unwrap();
    assert_eq!(jobs.entries.len(), 1);
    assert_eq!(jobs.entries[0].dir, "/a");
    assert_eq!(jobs.next, None);
    let empty = s.scan(Keyspace::Accounts, None, 10).await.unwrap();
    assert!(empty.entries.is_empty());
}
