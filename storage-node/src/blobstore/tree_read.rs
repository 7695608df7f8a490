//! Checking a range of a blob against its Bao outboard tree, 16 KiB at a
//! time.
//!
//! Bao's own decoder checks every 1 KiB chunk on its own, which keeps BLAKE3
//! from hashing chunks in parallel: it read about 4x slower than a plain
//! hash of the file. This walks the same tree (same format, same root) but
//! stops descending at subtrees of at most [`GROUP`] bytes and hashes each
//! in one call, which BLAKE3 spreads over SIMD lanes. A subtree's bytes are
//! handed out only once its hash matched the parent node above it, itself
//! checked up to the root, the blob's name.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use blake3::hazmat::{self, ChainingValue, HasherExt, Mode};

/// Largest subtree hashed in one call: the unit a read verifies.
pub(super) const GROUP: u64 = 16 * 1024;
const CHUNK: u64 = 1024;
const PARENT: u64 = 64;
const HEADER: u64 = 8;
/// Read-ahead on the tree, whose parent nodes a read visits in file order.
const TREE_BUF: usize = 16 * 1024;

/// What a subtree must hash to.
enum Expect {
    Root(blake3::Hash),
    Node(ChainingValue),
}

/// Verifies `[start, end)` of `blob` (`size` bytes, named `root`) against
/// its `tree`, handing the verified bytes to `emit` in order; `emit`
/// returns false to stop early. A blob of zero bytes is checked even for an
/// empty range.
///
/// # Errors
/// `InvalidData` if a hash does not match, `UnexpectedEof` if the blob or
/// the tree is shorter than the tree says, other I/O errors as they come.
pub(super) fn read_verified(
    blob: &File,
    tree: &File,
    size: u64,
    root: blake3::Hash,
    (start, end): (u64, u64),
    emit: &mut dyn FnMut(&[u8]) -> bool,
) -> io::Result<()> {
    if start >= end && size > 0 {
        return Ok(());
    }
    let mut walk = Walk {
        blob,
        tree: TreeCursor {
            file: tree,
            start: 0,
            buf: Vec::with_capacity(TREE_BUF),
        },
        start,
        end,
        group: vec![0; GROUP.min(size) as usize],
        emit,
    };
    walk.visit(0, size, HEADER, Expect::Root(root)).map(drop)
}

struct Walk<'a> {
    blob: &'a File,
    tree: TreeCursor<'a>,
    start: u64,
    end: u64,
    group: Vec<u8>,
    emit: &'a mut dyn FnMut(&[u8]) -> bool,
}

impl Walk<'_> {
    /// Checks the subtree of `len` bytes at `off`, whose first parent node
    /// (if any) is at `pos` in the tree, and emits its part of the range.
    /// Called only for subtrees that overlap the range. Ok(false): stopped.
    fn visit(&mut self, off: u64, len: u64, pos: u64, expect: Expect) -> io::Result<bool> {
        if len <= GROUP {
            return self.visit_group(off, len, &expect);
        }
        let parent = self.tree.parent(pos)?;
        let (mut l, mut r) = ([0u8; 32], [0u8; 32]);
        l.copy_from_slice(&parent[..32]);
        r.copy_from_slice(&parent[32..]);
        let ok = match expect {
            Expect::Root(h) => hazmat::merge_subtrees_root(&l, &r, Mode::Hash) == h,
            Expect::Node(cv) => hazmat::merge_subtrees_non_root(&l, &r, Mode::Hash) == cv,
        };
        if !ok {
            return Err(mismatch());
        }
        let left = hazmat::left_subtree_len(len);
        if self.start < off + left && !self.visit(off, left, pos + PARENT, Expect::Node(l))? {
            return Ok(false);
        }
        if self.end > off + left {
            // The left subtree's parents come first: one fewer than its chunks.
            let right_pos = pos + PARENT + PARENT * (chunks(left) - 1);
            return self.visit(off + left, len - left, right_pos, Expect::Node(r));
        }
        Ok(true)
    }

    fn visit_group(&mut self, off: u64, len: u64, expect: &Expect) -> io::Result<bool> {
        let buf = &mut self.group[..len as usize];
        self.blob.read_exact_at(buf, off)?;
        let ok = match expect {
            Expect::Root(h) => blake3::hash(buf) == *h,
            Expect::Node(cv) => {
                let mut hasher = blake3::Hasher::new();
                hasher.set_input_offset(off).update(buf);
                hasher.finalize_non_root() == *cv
            }
        };
        if !ok {
            return Err(mismatch());
        }
        let lo = (self.start.max(off) - off) as usize;
        let hi = (self.end.min(off + len) - off) as usize;
        Ok(lo >= hi || (self.emit)(&buf[lo..hi]))
    }
}

/// Chunks in a subtree of `len` bytes (an empty blob is one empty chunk).
fn chunks(len: u64) -> u64 {
    len.div_ceil(CHUNK).max(1)
}

fn mismatch() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "hash mismatch")
}

/// Reads parent nodes through a forward buffer.
struct TreeCursor<'a> {
    file: &'a File,
    /// Tree offset of `buf[0]`.
    start: u64,
    buf: Vec<u8>,
}

impl TreeCursor<'_> {
    fn parent(&mut self, pos: u64) -> io::Result<[u8; PARENT as usize]> {
        let inside = pos >= self.start && pos + PARENT <= self.start + self.buf.len() as u64;
        if !inside {
            self.fill(pos)?;
        }
        let off = (pos - self.start) as usize;
        let mut node = [0u8; PARENT as usize];
        let Some(bytes) = self.buf.get(off..off + PARENT as usize) else {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "hash tree is truncated",
            ));
        };
        node.copy_from_slice(bytes);
        Ok(node)
    }

    fn fill(&mut self, pos: u64) -> io::Result<()> {
        self.start = pos;
        self.buf.resize(TREE_BUF, 0);
        let mut filled = 0;
        while filled < TREE_BUF {
            match self
                .file
                .read_at(&mut self.buf[filled..], pos + filled as u64)
            {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.buf.truncate(filled);
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::Write;

    use super::*;

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 13 + i / 1009) as u8).collect()
    }

    fn files(input: &[u8]) -> (File, File, blake3::Hash) {
        let (tree, hash) = bao::encode::outboard(input);
        let mut b = tempfile::tempfile().unwrap();
        b.write_all(input).unwrap();
        let mut t = tempfile::tempfile().unwrap();
        t.write_all(&tree).unwrap();
        (b, t, hash)
    }

    fn read(
        b: &File,
        t: &File,
        size: u64,
        h: blake3::Hash,
        range: (u64, u64),
    ) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        read_verified(b, t, size, h, range, &mut |s| {
            out.extend_from_slice(s);
            true
        })?;
        Ok(out)
    }

    #[test]
    fn ranges_of_many_sizes() {
        for n in [
            0,
            1,
            1023,
            1024,
            1025,
            16383,
            16384,
            16385,
            32769,
            100_000,
            1 << 20,
        ] {
            let input = data(n);
            let (b, t, h) = files(&input);
            let size = n as u64;
            let mut ranges = vec![(0, size)];
            if n > 0 {
                let last = size - 1;
                ranges.extend([(0, 1), (last, size), (last / 2, last / 2 + 1)]);
                ranges.extend([(size / 3, size), (1023.min(last), 1025.min(size))]);
                ranges.extend([(16383.min(last), 16385.min(size)), (size / 7, size / 2 + 1)]);
            }
            for (s, e) in ranges {
                let got = read(&b, &t, size, h, (s, e)).unwrap();
                assert_eq!(got, input[s as usize..e as usize], "n={n} {s}..{e}");
            }
        }
    }

    #[test]
    fn every_flipped_group_is_caught_only_where_read() {
        let n = 200_000usize;
        let input = data(n);
        for at in (0..n).step_by(9_999).chain([n - 1]) {
            let mut bad = input.clone();
            bad[at] ^= 1;
            let (_, t, h) = files(&input);
            let (b, _, _) = files(&bad);
            let e = read(&b, &t, n as u64, h, (0, n as u64)).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidData, "at {at}");
            let e = read(&b, &t, n as u64, h, (at as u64, at as u64 + 1)).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidData, "at {at}");
            // A range in another 16 KiB group still reads.
            let far = if at < n / 2 { n as u64 - 10 } else { 10 };
            let got = read(&b, &t, n as u64, h, (far - 10, far)).unwrap();
            assert_eq!(got, input[far as usize - 10..far as usize]);
        }
    }

    #[test]
    fn flipped_tree_or_wrong_name_is_caught() {
        let input = data(300_000);
        let (b, t, h) = files(&input);
        // The first parent node, checked by every read. (Nodes under 16 KiB
        // subtrees are never read: the bytes are hashed instead.)
        let mut tree = bao::encode::outboard(&input).0;
        tree[8] ^= 1;
        let mut bad = tempfile::tempfile().unwrap();
        bad.write_all(&tree).unwrap();
        let e = read(&b, &bad, 300_000, h, (0, 300_000)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        let other = blake3::hash(b"other");
        let e = read(&b, &t, 300_000, other, (5, 6)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        let e = read(&b, &t, 0, other, (0, 0)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }
}
