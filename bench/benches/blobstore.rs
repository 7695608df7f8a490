//! The storage node's write path: streaming a blob to a temp file, hashing
//! (with its hash tree), fsync and rename; a write of bytes already stored
//! (dedup); and the verified read path against a plain read and hash of
//! the same file (the cost of checking every byte before it is sent).

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

fn read(c: &mut Criterion) {
    use futures::TryStreamExt;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = rt.block_on(BlobStore::open(dir.path())).unwrap();
    let mut g = c.benchmark_group("blobstore_read");
    g.sample_size(10);
    for size in [1 << 20, 64 << 20] {
        let body = futures::stream::iter(chunks(size, 7));
        let put = rt.block_on(store.put(body, PutExpect::default())).unwrap();
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("verified", size), &size, |b, _| {
            b.iter(|| {
                rt.block_on(async {
                    let (_, stream) = store.open_verified(&put.hash).await.unwrap();
                    stream
                        .try_fold(0u64, |n, c| async move { Ok(n + c.len() as u64) })
                        .await
                        .unwrap()
                })
            })
        });
        let path = store.path(&put.hash);
        g.bench_with_input(
            BenchmarkId::new("plain_read_and_hash", size),
            &size,
            |b, _| {
                b.iter(|| {
                    let mut f = std::fs::File::open(&path).unwrap();
                    let mut h = blake3::Hasher::new();
                    std::io::copy(&mut f, &mut h).unwrap();
                    h.finalize()
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, put, read);
criterion_main!(benches);
