//! A metadata shard: synced puts one at a time and 16 at once (group commit
//! shares the WAL sync), point gets, and a 256-entry directory listing.

#![allow(clippy::unwrap_used)] // a benchmark aborts on any failure

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use metadata_tier::wire::{Condition, EntryKey, Keyspace, ListOptions, Op};
use metadata_tier::Shard;
use serde_json::json;

fn key(dir: &str, i: u64) -> EntryKey {
    EntryKey::new(Keyspace::Objects, dir, format!("obj-{i:010}"))
}

fn put_op(dir: &str, i: u64) -> Vec<Op> {
    vec![Op::Put {
        key: key(dir, i),
        value: json!({"size": i, "etag": "0123456789abcdef", "sharks": ["a", "b"]}),
        cond: Condition::None,
    }]
}

fn shard(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let shard = rt.block_on(Shard::open(dir.path())).unwrap();
    let mut g = c.benchmark_group("shard");
    g.sample_size(20);
    let mut i = 0u64;
    g.throughput(Throughput::Elements(1));
    g.bench_function("put_synced_1", |b| {
        b.iter(|| {
            i += 1;
            rt.block_on(shard.apply(put_op("/bench/one", i))).unwrap()
        })
    });
    g.throughput(Throughput::Elements(16));
    g.bench_function("put_synced_16_concurrent", |b| {
        b.iter(|| {
            rt.block_on(async {
                let futs = (0..16).map(|_| {
                    i += 1;
                    shard.apply(put_op("/bench/many", i))
                });
                for r in futures::future::join_all(futs).await {
                    r.unwrap();
                }
            })
        })
    });
    g.throughput(Throughput::Elements(1));
    g.bench_function("get", |b| {
        let k = key("/bench/one", 1);
        b.iter(|| rt.block_on(shard.get(&k)).unwrap())
    });
    g.bench_function("list_256", |b| {
        let opts = ListOptions {
            limit: 256,
            ..Default::default()
        };
        b.iter(|| {
            rt.block_on(shard.list(Keyspace::Objects, "/bench/many", &opts))
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, shard);
criterion_main!(benches);
