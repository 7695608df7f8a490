//! Reads: the bytes of a range of an object made of one or more parts,
//! each part's blob read from the first copy that answers.
//!
//! The first part is opened before the caller answers (an object with no
//! readable copy is an error, not a broken 200). A copy that fails in the
//! middle of its stream (a node gone, or a node that found its copy corrupt:
//! nodes verify every byte before sending it) is not the end of the
//! response: the read resumes from the next copy at the same offset. Only
//! when no copy can finish is the stream cut short, and the client sees a
//! failed transfer, never wrong bytes.

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
        let head = self.open_segment(name, first).await?.into_stream();
        let store = self.clone();
        let name = name.to_string();
        let tail = stream::iter(rest.to_vec())
            .then(move |seg| {
                let (store, name) = (store.clone(), name.clone());
                async move {
                    store
                        .open_segment(&name, &seg)
                        .await
                        .map(SegmentRead::into_stream)
                        .map_err(std::io::Error::other)
                }
            })
            .try_flatten();
        Ok(head.chain(tail).boxed())
    }

    /// Opens `seg` on the first copy that answers; the read fails over to
    /// the other copies later if it must.
    async fn open_segment(&self, name: &str, seg: &Segment) -> Result<SegmentRead> {
        let mut read = SegmentRead {
            store: self.clone(),
            name: name.to_string(),
            hash: seg.blob.hash,
            size: seg.blob.size,
            pos: seg.start,
            end: seg.end,
            targets: self.holders(&seg.blob).await?,
            next_target: 0,
            current: None,
        };
        read.open_next().await?;
        Ok(read)
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

/// One segment being read: the copies still to try and where the bytes
/// delivered so far end.
struct SegmentRead {
    store: ObjectStore,
    name: String,
    hash: super::ids::BlobHash,
    size: u64,
    /// The next byte to deliver, within the blob.
    pos: u64,
    /// The last byte to deliver (inclusive).
    end: u64,
    targets: Vec<Target>,
    next_target: usize,
    current: Option<ByteStream>,
}

impl SegmentRead {
    /// Opens `[pos, end]` on the next copy that answers.
    async fn open_next(&mut self) -> Result<()> {
        let whole = self.pos == 0 && self.end + 1 == self.size;
        let range = (!whole).then_some((self.pos, self.end));
        while let Some(t) = self.targets.get(self.next_target) {
            self.next_target += 1;
            match self.store.storage.get(&t.addr, &self.hash, range).await {
                Ok(resp) => {
                    self.current = Some(resp.bytes_stream().map_err(std::io::Error::other).boxed());
                    return Ok(());
                }
                Err(e) => {
                    tracing::warn!(node = %t.id, blob = %self.hash, error = %e, "copy unreadable, trying next")
                }
            }
        }
        Err(Error::NoReachableCopy {
            name: self.name.clone(),
        })
    }

    /// The next bytes, from whichever copy can give them.
    async fn next_bytes(&mut self) -> Option<std::io::Result<Bytes>> {
        while self.pos <= self.end {
            let Some(current) = self.current.as_mut() else {
                if let Err(e) = self.open_next().await {
                    return Some(Err(std::io::Error::other(e)));
                }
                continue;
            };
            let why = match current.next().await {
                Some(Ok(mut bytes)) => {
                    let wanted = self.end - self.pos + 1;
                    if bytes.len() as u64 > wanted {
                        // More than asked for: never pass on bytes past
                        // the range.
                        bytes.truncate(wanted as usize);
                    }
                    self.pos += bytes.len() as u64;
                    return Some(Ok(bytes));
                }
                Some(Err(e)) => e.to_string(),
                None => "the copy ended early".to_string(),
            };
            let node = self
                .targets
                .get(self.next_target.saturating_sub(1))
                .map(|t| t.id.to_string())
                .unwrap_or_default();
            tracing::warn!(%node, blob = %self.hash, at = self.pos, error = %why, "copy failed mid-read; resuming from the next copy");
            self.current = None;
        }
        None
    }

    fn into_stream(self) -> ByteStream {
        stream::unfold(self, |mut read| async move {
            let item = read.next_bytes().await?;
            // After an error nothing more is sent.
            let failed = item.is_err();
            if failed {
                read.pos = read.end.saturating_add(1);
            }
            Some((item, read))
        })
        .boxed()
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
            want: None,
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
