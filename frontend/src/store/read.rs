//! Reads: the bytes of a range of an object made of one or more parts,
//! each part's blob read from the first copy that answers.
//!
//! The first part is opened before the caller answers (an object with no
//! readable copy is an error, not a broken 200); a later failure can only
//! cut the stream short, never send wrong bytes.

use super::error::{Error, Result};
use super::placement::Target;
use super::range::ByteRange;
use super::stored::{BlobRef, Stored};
use super::ObjectStore;
use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

pub(crate) type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

/// A stretch of one part: its blob and the inclusive range within it.
#[derive(Debug, Clone, PartialEq)]
struct Segment {
    blob: BlobRef,
    start: u64,
    end: u64,
}

fn segments(parts: &[Stored], r: ByteRange) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut off = 0u64;
    for blob in parts.iter().filter_map(Stored::blob) {
        let (first, last) = (off, off + blob.size);
        off = last;
        if last <= r.start || first > r.end {
            continue;
        }
        out.push(Segment {
            blob: blob.clone(),
            start: r.start.max(first) - first,
            end: r.end.min(last - 1) - first,
        });
    }
    out
}

impl ObjectStore {
    /// Streams `range` (all of it when `None`) of the object whose bytes
    /// are `parts`, in order. `name` is how errors name the object.
    ///
    /// # Errors
    /// `NoReachableCopy` when no copy of the first part answers; metadata
    /// errors reading the node registry.
    pub(crate) async fn open_read(
        &self,
        name: &str,
        parts: &[Stored],
        range: Option<ByteRange>,
    ) -> Result<ByteStream> {
        let size: u64 = parts.iter().map(Stored::size).sum();
        if size == 0 {
            return Ok(stream::empty().boxed());
        }
        let r = range.unwrap_or(ByteRange {
            start: 0,
            end: size - 1,
        });
        let segs = segments(parts, r);
        let Some((first, rest)) = segs.split_first() else {
            return Ok(stream::empty().boxed());
        };
        let head = self.open_segment(name, first).await?;
        let store = self.clone();
        let name = name.to_string();
        let tail = stream::iter(rest.to_vec())
            .then(move |seg| {
                let (store, name) = (store.clone(), name.clone());
                async move {
                    store
                        .open_segment(&name, &seg)
                        .await
                        .map_err(std::io::Error::other)
                }
            })
            .try_flatten();
        Ok(head.chain(tail).boxed())
    }

    async fn open_segment(&self, name: &str, seg: &Segment) -> Result<ByteStream> {
        let whole = seg.start == 0 && seg.end + 1 == seg.blob.size;
        let range = (!whole).then_some((seg.start, seg.end));
        let hash = seg.blob.hash;
        for t in self.holders(&seg.blob).await? {
            match self.storage.get(&t.addr, &hash, range).await {
                Ok(resp) => return Ok(resp.bytes_stream().map_err(std::io::Error::other).boxed()),
                Err(e) => {
                    tracing::warn!(node = %t.id, blob = %hash, error = %e, "copy unreadable, trying next")
                }
            }
        }
        Err(Error::NoReachableCopy {
            name: name.to_string(),
        })
    }

    /// The nodes holding `blob`, in the order to read them: live ones in
    /// random order (spreading load), then those past their heartbeat.
    ///
    /// # Errors
    /// Metadata errors reading the node registry.
    pub(crate) async fn holders(&self, blob: &BlobRef) -> Result<Vec<Target>> {
        self.placement.read_order(&blob.copies).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ids::BlobHash;

    fn p(size: u64) -> Stored {
        if size == 0 {
            return Stored::Empty;
        }
        Stored::Blob(BlobRef {
            hash: BlobHash::of(&size.to_be_bytes()),
            size,
            copies: vec![],
        })
    }

    #[test]
    fn ranges_across_parts() {
        let parts = [p(10), p(0), p(10), p(5)];
        let s = segments(&parts, ByteRange { start: 5, end: 21 });
        let got: Vec<(u64, u64, u64)> = s.iter().map(|s| (s.blob.size, s.start, s.end)).collect();
        assert_eq!(got, vec![(10, 5, 9), (10, 0, 9), (5, 0, 1)]);
        let s = segments(&parts, ByteRange { start: 0, end: 24 });
        assert_eq!(s.len(), 3);
        let s = segments(&parts, ByteRange { start: 24, end: 24 });
        assert_eq!((s[0].start, s[0].end), (4, 4));
    }
}
