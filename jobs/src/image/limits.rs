//! Caps on an image import, so an archive (a user's object) cannot fill
//! the node's disk or memory: a gzip bomb stops at the unpacked cap while
//! decompressing, not after.

use std::cell::Cell;
use std::io::Read;
use std::rc::Rc;

use crate::{Error, Result};

/// The caps of one import; [`ImageLimits::default`] suits a storage node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Bytes of the archive as given (gzipped or not), and of its layers
    /// as stored in it, together.
    pub compressed_bytes: u64,
    /// Bytes once decompressed: the archive's tar and every layer's tar.
    pub unpacked_bytes: u64,
    /// Entries of the archive and of all its layers.
    pub files: u64,
    /// Size of each manifest, index and config JSON.
    pub json_bytes: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self {
            compressed_bytes: 8 << 30,
            unpacked_bytes: 16 << 30,
            files: 1_000_000,
            json_bytes: 4 << 20,
        }
    }
}

/// What is left of an import's caps as it goes.
#[derive(Debug)]
pub(crate) struct Budget {
    limits: ImageLimits,
    compressed: Rc<Cell<u64>>,
    unpacked: Rc<Cell<u64>>,
    files: u64,
    /// The cap a reader ran into (its I/O error is wrapped by tar and
    /// flate2 beyond recognition, so it is recorded here).
    tripped: Rc<Cell<Option<(&'static str, u64)>>>,
}

impl Budget {
    pub(crate) fn new(limits: ImageLimits) -> Self {
        Self {
            limits,
            compressed: Rc::new(Cell::new(limits.compressed_bytes)),
            unpacked: Rc::new(Cell::new(limits.unpacked_bytes)),
            files: limits.files,
            tripped: Rc::new(Cell::new(None)),
        }
    }

    /// No cap: for the default image, made of the host's own files.
    pub(crate) fn unlimited() -> Self {
        Self::new(ImageLimits {
            compressed_bytes: u64::MAX,
            unpacked_bytes: u64::MAX,
            files: u64::MAX,
            json_bytes: u64::MAX,
        })
    }

    pub(crate) fn limits(&self) -> ImageLimits {
        self.limits
    }

    /// `reader`, counted against the compressed cap.
    pub(crate) fn compressed<R: Read>(&self, reader: R) -> Capped<R> {
        self.capped(
            reader,
            &self.compressed,
            "compressed size",
            self.limits.compressed_bytes,
        )
    }

    /// `reader` (decompressed bytes), counted against the unpacked cap.
    pub(crate) fn unpacked<R: Read>(&self, reader: R) -> Capped<R> {
        self.capped(
            reader,
            &self.unpacked,
            "unpacked size",
            self.limits.unpacked_bytes,
        )
    }

    fn capped<R: Read>(
        &self,
        inner: R,
        left: &Rc<Cell<u64>>,
        what: &'static str,
        limit: u64,
    ) -> Capped<R> {
        Capped {
            inner,
            left: left.clone(),
            what,
            limit,
            tripped: self.tripped.clone(),
        }
    }

    /// Counts one more archive or layer entry.
    ///
    /// # Errors
    /// [`Error::ImageLimit`] past the file cap.
    pub(crate) fn count_file(&mut self) -> Result<()> {
        match self.files.checked_sub(1) {
            Some(left) => {
                self.files = left;
                Ok(())
            }
            None => Err(Error::ImageLimit {
                what: "file count",
                limit: self.limits.files,
            }),
        }
    }

    /// `err`, unless a cap was met on the way: then that cap's error.
    pub(crate) fn explain(&self, err: Error) -> Error {
        match self.tripped.get() {
            Some((what, limit)) => Error::ImageLimit { what, limit },
            None => err,
        }
    }
}

/// A reader that fails once its budget is spent.
pub(crate) struct Capped<R> {
    inner: R,
    left: Rc<Cell<u64>>,
    what: &'static str,
    limit: u64,
    tripped: Rc<Cell<Option<(&'static str, u64)>>>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.left.get();
        // One byte past the budget is read to tell "exactly at" from "over".
        let want = buf
            .len()
            .min(usize::try_from(left.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        let n64 = n as u64;
        if n64 > left {
            self.tripped.set(Some((self.what, self.limit)));
            return Err(std::io::Error::other(format!(
                "image {} over the limit of {} bytes",
                self.what, self.limit
            )));
        }
        self.left.set(left - n64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_stops_past_its_cap() {
        let budget = Budget::new(ImageLimits {
            unpacked_bytes: 10,
            ..ImageLimits::default()
        });
        let mut out = Vec::new();
        assert_eq!(
            budget
                .unpacked(&[1u8; 10][..])
                .read_to_end(&mut out)
                .unwrap(),
            10
        );
        let mut more = budget.unpacked(&[1u8; 1][..]);
        let err = more.read_to_end(&mut out).unwrap_err();
        assert!(err.to_string().contains("unpacked size"), "{err}");
        let explained = budget.explain(Error::InvalidArchive("x".into()));
        assert!(
            matches!(explained, Error::ImageLimit { limit: 10, .. }),
            "{explained}"
        );
    }
}
