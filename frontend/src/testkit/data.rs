//! Test data: deterministic bytes (so a failure reproduces), and the files a
//! storage node keeps (to check what reached the disk).

use std::path::{Path, PathBuf};

/// Deterministic pseudo-random bytes.
pub fn bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Files under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            // A storage node's `jobs/` is the job agent's (images, task
            // state), not the blob store's.
            if p.file_name().is_some_and(|n| n == "jobs") {
                continue;
            }
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}
