//! A file behind one in-memory window, for bao's outboard encoder.
//!
//! The encoder writes a 64-byte parent node per KiB of blob, then flips the
//! whole tree into pre-order by seeking back 64 bytes at a time, reading and
//! writing a few KiB apart. Straight on a `File` that is several syscalls per
//! KiB of blob; `BufWriter` cannot read and `BufReader` cannot write. One
//! window that serves both, placed ahead of a forward access and behind a
//! backward one, turns them into one read and one write per window.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;

/// Window size used by the blob store.
pub(super) const WINDOW: usize = 256 * 1024;

pub(super) struct WindowFile {
    file: File,
    pos: u64,
    /// Logical length: the file's, plus bytes still in the window.
    len: u64,
    /// File offset of `buf[0]`.
    start: u64,
    /// The window's bytes; `buf.len()` of them are valid.
    buf: Vec<u8>,
    cap: usize,
    /// Written but not yet flushed: `buf[lo..hi]`.
    dirty: Option<(usize, usize)>,
}

impl WindowFile {
    /// Wraps `file` (positioned at 0, of length `len`).
    pub(super) fn new(file: File, len: u64, cap: usize) -> WindowFile {
        WindowFile {
            file,
            pos: 0,
            len,
            start: 0,
            buf: Vec::with_capacity(cap),
            cap,
            dirty: None,
        }
    }

    /// Flushes the window and returns the file.
    pub(super) fn into_file(mut self) -> io::Result<File> {
        self.flush_window()?;
        Ok(self.file)
    }

    fn flush_window(&mut self) -> io::Result<()> {
        if let Some((lo, hi)) = self.dirty.take() {
            self.file
                .write_all_at(&self.buf[lo..hi], self.start + lo as u64)?;
        }
        Ok(())
    }

    /// Moves the window so that `[pos, pos + n)` (n at most half the window)
    /// lies inside it, with room left in the direction of travel.
    fn place(&mut self, pos: u64, n: usize) -> io::Result<()> {
        self.flush_window()?;
        let slack = (self.cap / 4) as u64;
        self.start = if pos < self.start {
            // Going backwards: keep a little room above for a writer that
            // trails the reader (the encoder's flip does).
            (pos + n as u64 + slack).saturating_sub(self.cap as u64)
        } else {
            pos
        };
        let valid = self.len.saturating_sub(self.start).min(self.cap as u64) as usize;
        self.buf.resize(valid, 0);
        self.file.read_exact_at(&mut self.buf, self.start)
    }

    fn end(&self) -> u64 {
        self.start + self.buf.len() as u64
    }
}

impl Read for WindowFile {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() || self.pos >= self.len {
            return Ok(0);
        }
        if self.pos < self.start || self.pos >= self.end() {
            let n = out.len().min(self.cap / 2);
            self.place(self.pos, n)?;
        }
        let off = (self.pos - self.start) as usize;
        let n = out.len().min(self.buf.len() - off);
        out[..n].copy_from_slice(&self.buf[off..off + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Write for WindowFile {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len();
        let fits = |w: &WindowFile| {
            w.pos >= w.start && w.pos <= w.end() && w.pos + n as u64 <= w.start + w.cap as u64
        };
        if n > self.cap / 2 || self.pos > self.len {
            // Large or past the end: write through, and drop the window,
            // which may hold a stale copy of these bytes.
            self.flush_window()?;
            self.file.write_all_at(data, self.pos)?;
            self.buf.clear();
            self.start = self.pos + n as u64;
        } else {
            if !fits(self) {
                self.place(self.pos, n)?;
            }
            let off = (self.pos - self.start) as usize;
            if off + n > self.buf.len() {
                self.buf.resize(off + n, 0);
            }
            self.buf[off..off + n].copy_from_slice(data);
            let (lo, hi) = self.dirty.unwrap_or((off, off + n));
            self.dirty = Some((lo.min(off), hi.max(off + n)));
        }
        self.pos += n as u64;
        self.len = self.len.max(self.pos);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_window()
    }
}

impl Seek for WindowFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let base = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = base.ok_or_else(|| io::Error::other("seek out of range"))?;
        Ok(self.pos)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    /// The encoder's output through a window of `cap` bytes equals bao's
    /// in-memory outboard.
    fn same_outboard(n: usize, cap: usize) {
        let input = data(n);
        let file = tempfile::tempfile().unwrap();
        let mut enc = bao::encode::Encoder::new_outboard(WindowFile::new(file, 0, cap));
        for piece in input.chunks(3000) {
            enc.write_all(piece).unwrap();
        }
        let hash = enc.finalize().unwrap();
        let mut file = enc.into_inner().into_file().unwrap();
        let mut got = Vec::new();
        file.seek(SeekFrom::Start(0)).unwrap();
        file.read_to_end(&mut got).unwrap();
        let (want, want_hash) = bao::encode::outboard(&input);
        assert_eq!(hash, want_hash, "n={n} cap={cap}");
        assert_eq!(got, want, "n={n} cap={cap}");
    }

    #[test]
    fn outboards_match_bao() {
        for n in [0, 1, 1024, 1025, 16 * 1024 + 1, 300_000, 3 << 20] {
            for cap in [256, 4096, WINDOW] {
                same_outboard(n, cap);
            }
        }
    }
}
