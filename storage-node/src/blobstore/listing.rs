//! Listing the committed blobs in hash order, a page at a time.
//!
//! The fan-out directories are walked in sorted order starting at the
//! caller's position, and only as many are read as the page needs: memory
//! is one fan-out directory's names (about blobs / 65536) plus the page.

use std::fs;
use std::io;
use std::path::Path;

use super::gc::age;
use super::BlobStore;
use crate::wire::{BlobEntry, BlobHash, BlobPage};
use crate::Result;

impl BlobStore {
    /// Up to `limit` committed blobs with hashes above `after` (all if
    /// `None`), in ascending order, each with its size and age by this
    /// node's clock. `next` is the last hash listed when more follow.
    /// Blobs that vanish while listed are left out.
    ///
    /// # Errors
    /// I/O errors reading the directories.
    pub async fn list(&self, after: Option<BlobHash>, limit: usize) -> Result<BlobPage> {
        let blobs = self.blobs_dir().to_path_buf();
        let page = tokio::task::spawn_blocking(move || list_page(&blobs, after, limit))
            .await
            .map_err(io::Error::other)??;
        Ok(page)
    }
}

fn list_page(blobs: &Path, after: Option<BlobHash>, limit: usize) -> io::Result<BlobPage> {
    let from = after.map(|h| h.to_hex());
    let (from1, from2) = match &from {
        Some(hex) => (&hex[0..2], &hex[2..4]),
        None => ("", ""),
    };
    let mut page = BlobPage {
        blobs: Vec::new(),
        next: None,
    };
    for l1 in fan_out(blobs, from1)? {
        // Only the directory of `after` itself starts midway.
        let l2_from = if l1 == from1 { from2 } else { "" };
        for l2 in fan_out(&blobs.join(&l1), l2_from)? {
            let dir = blobs.join(&l1).join(&l2);
            for hash in blob_names(&dir, &format!("{l1}{l2}"), after)? {
                if page.blobs.len() == limit {
                    page.next = page.blobs.last().map(|b| b.hash);
                    return Ok(page);
                }
                let meta = match fs::metadata(dir.join(hash.to_hex())) {
                    Ok(m) => m,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                };
                page.blobs.push(BlobEntry {
                    hash,
                    size: meta.len(),
                    age_ms: u64::try_from(age(&meta).as_millis()).unwrap_or(u64::MAX),
                });
            }
        }
    }
    Ok(page)
}

/// The fan-out subdirectories of `dir` (two lowercase hex digits) not
/// below `from`, sorted. A directory gone meanwhile has none.
fn fan_out(dir: &Path, from: &str) -> io::Result<Vec<String>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let hex2 = name.len() == 2 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if hex2 && name.as_str() >= from && entry.file_type()?.is_dir() {
            names.push(name);
        }
    }
    names.sort_unstable();
    Ok(names)
}

/// The blobs in fan-out directory `dir` (whose hashes start with
/// `prefix`) above `after`, sorted. Trees and strays are skipped.
fn blob_names(dir: &Path, prefix: &str, after: Option<BlobHash>) -> io::Result<Vec<BlobHash>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut hashes = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        // Only lowercase names sit in order with their directory's.
        let Some(hash) = BlobHash::from_hex(name).filter(|h| h.to_hex() == name) else {
            continue;
        };
        if name.starts_with(prefix) && after.is_none_or(|a| hash > a) {
            hashes.push(hash);
        }
    }
    hashes.sort_unstable();
    Ok(hashes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn touch(root: &Path, name: &str) {
        let dir = root.join(&name[0..2]).join(&name[2..4]);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(name), name.as_bytes()).unwrap();
    }

    #[test]
    fn walks_in_order_from_a_position_skipping_strays() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let names: Vec<String> = ["00", "0a", "a0", "ff"]
            .iter()
            .flat_map(|p| ["00", "7f"].map(|q| format!("{p}{q}{}", "5".repeat(60))))
            .collect();
        for n in &names {
            touch(root, n);
        }
        // Strays: a tree, an uppercase name, a blob in the wrong directory,
        // a non-hex directory.
        fs::write(root.join("00/00").join(format!("{}.obao", names[0])), b"").unwrap();
        let upper = format!("0a00{}", "B".repeat(60));
        fs::write(root.join("0a/00").join(upper), b"").unwrap();
        fs::write(
            root.join("0a/00").join(format!("a000{}", "1".repeat(60))),
            b"",
        )
        .unwrap();
        fs::create_dir_all(root.join("zz/00")).unwrap();

        let all = list_page(root, None, 100).unwrap();
        let got: Vec<String> = all.blobs.iter().map(|b| b.hash.to_hex()).collect();
        assert_eq!(got, names);
        assert_eq!(all.next, None);
        assert_eq!(all.blobs[0].size, 64);
        for (i, n) in names.iter().enumerate() {
            let h = BlobHash::from_hex(n);
            let page = list_page(root, h, 2).unwrap();
            let got: Vec<String> = page.blobs.iter().map(|b| b.hash.to_hex()).collect();
            assert_eq!(got, names[i + 1..(i + 3).min(names.len())], "after {n}");
            assert_eq!(page.next.is_some(), i + 3 < names.len(), "after {n}");
        }
        // A position that is not a stored blob, between directories.
        let between = BlobHash::from_hex(&format!("0b{}", "0".repeat(62)));
        let page = list_page(root, between, 1).unwrap();
        assert_eq!(page.blobs[0].hash.to_hex(), names[4]);
    }
}
