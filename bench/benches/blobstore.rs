//! The storage node's write path: streaming a blob to a temp file, hashing,
//! fsync and rename; and a write of bytes already stored (dedup).

#![allow(clippy::unwrap_used)] // a benchmark aborts on any failure

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use storage_node::blobstore::PutExpect;
use storage_node::BlobStore;

fn chunks(size: usize, seed: u64) -> Vec<Result<Bytes, std::io::Error>> {
    let mut x = seed | 1;
    let data: Vec<u8> = (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    data.chunks(64 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect()
}

fn put(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = rt.block_on(BlobStore::open(dir.path())).unwrap();
    let mut g = c.benchmark_group("blobstore_put");
    g.sample_size(20);
    for size in [4 << 10, 1 << 20, 16 << 20] {
        g.throughput(Throughput::Bytes(size as u64));
        let mut seed = 1u64;
        g.bench_with_input(BenchmarkId::new("new", size), &size, |b, &size| {
            b.iter_batched(
                || {
                    seed += 1;
                    chunks(size, seed)
                },
                |body| {
                    rt.block_on(store.put(futures::stream::iter(body), PutExpect::default()))
                        .unwrap()
                },
                criterion::BatchSize::PerIteration,
            )
        });
        let same = chunks(size, 0);
        g.bench_with_input(BenchmarkId::new("existing", size), &size, |b, _| {
            b.iter_batched(
                || {
                    same.iter()
                        .map(|c| Ok::<_, std::io::Error>(c.as_ref().unwrap().clone()))
                        .collect::<Vec<_>>()
                },
                |body| {
                    rt.block_on(store.put(futures::stream::iter(body), PutExpect::default()))
                        .unwrap()
                },
                criterion::BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, put);
criterion_main!(benches);
