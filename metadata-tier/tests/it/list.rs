//! Directory listings on a real RocksDB: order, markers, limits, reverse,
//! and neighbouring directories that must not bleed in.

use crate::shard::{key, names, put1};
use metadata_tier::wire::{Condition, EntryKey, Keyspace, ListOptions};
use metadata_tier::Shard;
use serde_json::json;

#[tokio::test]
async fn listing_sorted_with_marker_limit_reverse_and_no_bleeding() {
    let dir = tempfile::tempdir().unwrap();
    let s = Shard::open(dir.path()).await.unwrap();
    for n in ["b", "a", "a b", "c", "é", "B"] {
        put1(&s, key("/u/stor", n), json!(n), Condition::None)
            .await
            .unwrap();
    }
    // Neighbouring directories and keyspaces must not show up.
    put1(&s, key("/u/stor2", "x"), json!(0), Condition::None)
        .await
        .unwrap();
    put1(&s, key("/u/stor/sub", "y"), json!(0), Condition::None)
        .await
        .unwrap();
    put1(&s, key("/u/sto", "z"), json!(0), Condition::None)
        .await
        .unwrap();
    put1(
        &s,
        EntryKey::new(Keyspace::Jobs, "/u/stor", "j"),
        json!(0),
        Condition::None,
    )
    .await
    .unwrap();

    let all = s
        .list(Keyspace::Objects, "/u/stor", &ListOptions::default())
        .await
        .unwrap();
    assert_eq!(names(&all.entries), ["B", "a", "a b", "b", "c", "é"]);
    assert_eq!(all.total, 6);
    assert!(all.now_ms > 0);

    let page = |marker: Option<&str>, inclusive, limit, reverse| ListOptions {
        marker: marker.map(str::to_string),
        inclusive,
        limit,
        reverse,
        by_mtime: false,
    };
    let l = s
        .list(
            Keyspace::Objects,
            "/u/stor",
            &page(Some("a b"), false, 2, false),
        )
        .await
        .unwrap();
    assert_eq!(names(&l.entries), ["b", "c"]);
    let l = s
        .list(
            Keyspace::Objects,
            "/u/stor",
            &page(Some("a b"), true, 2, false),
        )
        .await
        .unwrap();
    assert_eq!(names(&l.entries), ["a b", "b"]);
    let l = s
        .list(
            Keyspace::Objects,
            "/u/stor",
            &page(Some("aa"), false, 10, false),
        )
        .await
        .unwrap();
    assert_eq!(names(&l.entries), ["b", "c", "é"]);
    let l = s
        .list(Keyspace::Objects, "/u/stor", &page(None, false, 3, true))
        .await
        .unwrap();
    assert_eq!(names(&l.entries), ["é", "c", "b"]);
    let l = s
        .list(
            Keyspace::Objects,
            "/u/stor",
            &page(Some("b"), false, 10, true),
        )
        .await
        .unwrap();
    assert_eq!(names(&l.entries), ["a b", "a", "B"]);
    let l = s
        .list(
            Keyspace::Objects,
            "/u/stor",
            &page(Some("b"), true, 2, true),
        )
        .await
        .unwrap();
    assert_eq!(names(&l.entries), ["b", "a b"]);

    let l = s
        .list(Keyspace::Objects, "/u/none", &ListOptions::default())
        .await
        .unwrap();
    assert!(l.entries.is_empty());
    assert_eq!(l.total, 0);
    let l = s
        .list(Keyspace::Jobs, "/u/stor", &ListOptions::default())
        .await
        .unwrap();
    assert_eq!(names(&l.entries), ["j"]);
}

#[tokio::test]
async fn listing_edges_clamp_and_out_of_range_markers() {
    let dir = tempfile::tempdir().unwrap();
    let s = Shard::open(dir.path()).await.unwrap();
    for n in ["m1", "m2", "m3"] {
        put1(&s, key("/e", n), json!(n), Condition::None)
            .await
            .unwrap();
    }
    // Keys right after the directory's range, to check the bounds hold.
    put1(&s, key("/e\u{1}", "zz"), json!(0), Condition::None)
        .await
        .unwrap();
    put1(&s, key("/d", "zz"), json!(0), Condition::None)
        .await
        .unwrap();
    let list = |marker: Option<&str>, limit, reverse| {
        let opts = ListOptions {
            marker: marker.map(str::to_string),
            inclusive: false,
            limit,
            reverse,
            by_mtime: false,
        };
        let s = s.clone();
        async move { s.list(Keyspace::Objects, "/e", &opts).await.unwrap() }
    };
    // limit 0 is clamped to 1 rather than returning an empty page forever.
    assert_eq!(names(&list(None, 0, false).await.entries), ["m1"]);
    assert_eq!(names(&list(None, 0, true).await.entries), ["m3"]);
    assert!(list(Some("z"), 10, false).await.entries.is_empty());
    assert_eq!(
        names(&list(Some("z"), 10, true).await.entries),
        ["m3", "m2", "m1"]
    );
    assert!(list(Some("a"), 10, true).await.entries.is_empty());
    assert_eq!(
        names(&list(Some("a"), 10, false).await.entries),
        ["m1", "m2", "m3"]
    );
    assert_eq!(
        names(&list(None, 10, true).await.entries),
        ["m3", "m2", "m1"]
    );
    // The empty directory "" is a directory like any other.
    put1(&s, key("", "root"), json!(0), Condition::None)
        .await
        .unwrap();
    let l = s
        .list(Keyspace::Objects, "", &ListOptions::default())
        .await
        .unwrap();
    assert_eq!((names(&l.entries), l.total), (vec!["root"], 1));
    assert!(s.apply(Vec::new()).await.unwrap().is_empty());
}

/// The mtime index: newest first, reverse, inclusive ms markers; a rewrite
/// moves an entry, a delete removes it.
#[tokio::test]
async fn listing_by_mtime() {
    let dir = tempfile::tempdir().unwrap();
    let s = Shard::open(dir.path()).await.unwrap();
    let mut mtimes = Vec::new();
    for n in ["a", "b", "c", "d"] {
        put1(&s, key("/u/t", n), json!(n), Condition::None)
            .await
            .unwrap();
        let e = s.get(&key("/u/t", n)).await.unwrap().unwrap();
        mtimes.push(e.mtime_ms);
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    put1(&s, key("/u/t2", "x"), json!(0), Condition::None)
        .await
        .unwrap();
    let by = |marker: Option<u64>, limit, reverse| ListOptions {
        marker: marker.map(|m| m.to_string()),
        inclusive: true,
        limit,
        reverse,
        by_mtime: true,
    };
    let list = |o: ListOptions| {
        let s = s.clone();
        async move {
            let page = s.list(Keyspace::Objects, "/u/t", &o).await.unwrap();
            page.entries.into_iter().map(|e| e.name).collect::<Vec<_>>()
        }
    };
    assert_eq!(list(by(None, 10, false)).await, ["d", "c", "b", "a"]);
    assert_eq!(list(by(None, 10, true)).await, ["a", "b", "c", "d"]);
    assert_eq!(list(by(None, 2, false)).await, ["d", "c"]);
    assert_eq!(list(by(Some(mtimes[2]), 2, false)).await, ["c", "b"]);
    assert_eq!(list(by(Some(mtimes[1]), 10, true)).await, ["b", "c", "d"]);
    // Rewriting "a" makes it the newest; deleting "c" removes it.
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    put1(&s, key("/u/t", "a"), json!("a2"), Condition::None)
        .await
        .unwrap();
    s.apply(vec![metadata_tier::wire::Op::Delete {
        key: key("/u/t", "c"),
        cond: Condition::None,
    }])
    .await
    .unwrap();
    assert_eq!(list(by(None, 10, false)).await, ["a", "d", "b"]);
    drop(s);
}
