//! A shard on a real RocksDB in a temp dir.

use metadata_tier::wire::{Condition, EntryKey, Keyspace, ListOptions, Op, OpResult};
use metadata_tier::{Error, Shard};
use serde_json::json;

pub(crate) fn key(dir: &str, name: &str) -> EntryKey {
    EntryKey::new(Keyspace::Objects, dir, name)
}

pub(crate) fn put(k: EntryKey, v: serde_json::Value, cond: Condition) -> Op {
    Op::Put {
        key: k,
        value: v,
        cond,
    }
}

pub(crate) async fn put1(
    s: &Shard,
    k: EntryKey,
    v: serde_json::Value,
    cond: Condition,
) -> Result<String, Error> {
    match s.apply(vec![put(k, v, cond)]).await?.pop() {
        Some(OpResult::Put(e)) => Ok(e.etag),
        other => panic!("{other:?}"),
    }
}

pub(crate) fn names(entries: &[metadata_tier::wire::Entry]) -> Vec<&str> {
    entries.iter().map(|e| e.name.as_str()).collect()
}

#[tokio::test]
async fn put_get_delete_and_conditions() {
    let dir = tempfile::tempdir().unwrap();
    let s = Shard::open(dir.path()).await.unwrap();
    let k = key("/u/stor", "a");
    assert_eq!(s.get(&k).await.unwrap(), None);
    let e1 = put1(&s, k.clone(), json!({"n": 1}), Condition::Absent)
        .await
        .unwrap();
    let got = s.get(&k).await.unwrap().unwrap();
    assert_eq!((got.name.as_str(), got.etag.as_str()), ("a", e1.as_str()));
    assert_eq!(got.value, json!({"n": 1}));
    assert!(got.mtime_ms > 0);

    // Absent fails now; EtagMatches with the wrong etag fails and reports
    // the current entry.
    let err = put1(&s, k.clone(), json!(2), Condition::Absent)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::ConditionFailed { index: 0, current: Some(ref c) } if c.etag == e1)
    );
    let err = put1(
        &s,
        k.clone(),
        json!(2),
        Condition::EtagMatches("nope".into()),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::ConditionFailed { .. }));
    let e2 = put1(&s, k.clone(), json!(2), Condition::EtagMatches(e1.clone()))
        .await
        .unwrap();
    assert_ne!(e1, e2);
    assert!(put1(&s, key("/u/stor", "b"), json!(0), Condition::Exists)
        .await
        .is_err());
    put1(&s, k.clone(), json!(3), Condition::Exists)
        .await
        .unwrap();

    let del = |cond| {
        s.apply(vec![Op::Delete {
            key: k.clone(),
            cond,
        }])
    };
    assert!(matches!(
        del(Condition::EtagMatches(e1)).await,
        Err(Error::ConditionFailed { .. })
    ));
    let r = del(Condition::None).await.unwrap();
    assert!(matches!(&r[0], OpResult::Delete(Some(e)) if e.value == json!(3)));
    assert_eq!(s.get(&k).await.unwrap(), None);
    let r = del(Condition::None).await.unwrap();
    assert!(matches!(&r[0], OpResult::Delete(None)));
    assert!(matches!(
        del(Condition::Exists).await,
        Err(Error::ConditionFailed { .. })
    ));

    let bad = key("/u/st\0or", "x");
    assert!(matches!(s.get(&bad).await, Err(Error::InvalidKey(_))));
    assert!(matches!(
        put1(&s, key("/u", "a\0b"), json!(1), Condition::None).await,
        Err(Error::InvalidKey(_))
    ));
}

#[tokio::test]
async fn field_not_refuses_only_the_named_kind() {
    let dir = tempfile::tempdir().unwrap();
    let s = Shard::open(dir.path()).await.unwrap();
    let not_dir = || Condition::FieldNot {
        pointer: "/type".into(),
        value: json!("directory"),
    };
    let k = key("/u/stor", "x");
    // Absent, then an object: both replaced, whatever their etag.
    put1(&s, k.clone(), json!({"type": "object", "n": 1}), not_dir())
        .await
        .unwrap();
    put1(&s, k.clone(), json!({"type": "object", "n": 2}), not_dir())
        .await
        .unwrap();
    // A record without the field is not of that kind either.
    let plain = key("/b", "k");
    put1(&s, plain.clone(), json!({"n": 1}), Condition::None)
        .await
        .unwrap();
    put1(&s, plain, json!({"n": 2}), not_dir()).await.unwrap();
    // A directory is never replaced, and stays as it was.
    put1(&s, k.clone(), json!({"type": "directory"}), Condition::None)
        .await
        .unwrap();
    let err = put1(&s, k.clone(), json!({"type": "object"}), not_dir())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ConditionFailed { .. }));
    assert_eq!(
        s.get(&k).await.unwrap().unwrap().value,
        json!({"type": "directory"})
    );
}

#[tokio::test]
async fn batches_are_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Shard::open(dir.path()).await.unwrap();
    put1(&s, key("/d", "exists"), json!(0), Condition::None)
        .await
        .unwrap();
    let err = s
        .apply(vec![
            put(key("/d", "new"), json!(1), Condition::Absent),
            put(key("/d", "exists"), json!(1), Condition::Absent),
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ConditionFailed { index: 1, .. }));
    assert_eq!(s.get(&key("/d", "new")).await.unwrap(), None);
    assert_eq!(s.count(Keyspace::Objects, "/d").await.unwrap(), 1);

    let ok = s
        .apply(vec![
            put(key("/d", "new"), json!(1), Condition::Absent),
            Op::Delete {
                key: key("/d", "exists"),
                cond: Condition::Exists,
            },
            put(key("/d", "new"), json!(2), Condition::Exists),
        ])
        .await
        .unwrap();
    assert_eq!(ok.len(), 3);
    assert_eq!(
        s.get(&key("/d", "new")).await.unwrap().unwrap().value,
        json!(2)
    );
    assert_eq!(s.count(Keyspace::Objects, "/d").await.unwrap(), 1);
}

#[tokio::test]
async fn counts_follow_creates_overwrites_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let s = Shard::open(dir.path()).await.unwrap();
    let c = || s.count(Keyspace::Objects, "/c");
    assert_eq!(c().await.unwrap(), 0);
    put1(&s, key("/c", "1"), json!(1), Condition::None)
        .await
        .unwrap();
    put1(&s, key("/c", "1"), json!(2), Condition::None)
        .await
        .unwrap();
    put1(&s, key("/c", "2"), json!(1), Condition::None)
        .await
        .unwrap();
    assert_eq!(c().await.unwrap(), 2);
    s.apply(vec![Op::Delete {
        key: key("/c", "1"),
        cond: Condition::None,
    }])
    .await
    .unwrap();
    s.apply(vec![Op::Delete {
        key: key("/c", "1"),
        cond: Condition::None,
    }])
    .await
    .unwrap();
    assert_eq!(c().await.unwrap(), 1);
}

#[tokio::test]
async fn data_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Shard::open(dir.path()).await.unwrap();
        put1(&s, key("/p", "kept"), json!("v"), Condition::None)
            .await
            .unwrap();
        s.close();
    }
    // The writer thread holds the DB until it has drained; wait for the lock.
    let mut reopened = None;
    for _ in 0..50 {
        match Shard::open(dir.path()).await {
            Ok(s) => {
                reopened = Some(s);
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
    let s = reopened.expect("reopen");
    assert_eq!(
        s.get(&key("/p", "kept")).await.unwrap().unwrap().value,
        json!("v")
    );
    assert_eq!(s.count(Keyspace::Objects, "/p").await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_are_all_acknowledged_and_present() {
    let dir = tempfile::tempdir().unwrap();
    let s = Shard::open(dir.path()).await.unwrap();
    let tasks: Vec<_> = (0..400)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                put1(
                    &s,
                    key("/many", &format!("k{i:04}")),
                    json!(i),
                    Condition::Absent,
                )
                .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(s.count(Keyspace::Objects, "/many").await.unwrap(), 400);
    let l = s
        .list(
            Keyspace::Objects,
            "/many",
            &ListOptions {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(l.entries.len(), 400);

    // Racing conditional creates of one name: exactly one wins.
    let racers: Vec<_> = (0..32)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(
                async move { put1(&s, key("/race", "one"), json!(i), Condition::Absent).await },
            )
        })
        .collect();
    let mut wins = 0;
    for r in racers {
        if r.await.unwrap().is_ok() {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
    assert_eq!(s.count(Keyspace::Objects, "/race").await.unwrap(), 1);
}
