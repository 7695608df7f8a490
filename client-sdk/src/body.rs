//! [`ObjectBody`]: the body of a `GET`, checked end to end as it streams.
//!
//! Storage nodes verify every byte they serve against the blob's hash
//! tree, but bytes can still change between them and this process (a
//! frontend or proxy bug, a bad NIC, memory). So the body is hashed as it
//! arrives (see [`crate::verify`]) and, where the server said what the
//! bytes are, a body that differs ends with [`Error::Checksum`] instead of
//! its end: a caller that writes each chunk as it comes sees the error as
//! the last item and must discard what it wrote.

use crate::error::{Error, Result};
use crate::info::ObjectInfo;
use crate::objects::{ByteStream, GetResponse};
use crate::verify::Verifier;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// The body of a `GET`: a stream of chunks whose last item is an error if
/// the bytes were not the object's (see the module docs).
pub struct ObjectBody {
    raw: ByteStream,
    /// `None` once the end was reached and checked.
    check: Option<Verifier>,
    path: String,
    etag: Option<String>,
}

impl ObjectBody {
    /// Checks `raw`, the body of the response to a `GET` of `path` with
    /// these headers.
    pub(crate) fn new(path: &str, info: &ObjectInfo, raw: ByteStream) -> ObjectBody {
        ObjectBody {
            raw,
            check: Some(Verifier::new(info)),
            path: path.to_string(),
            etag: info.etag.clone(),
        }
    }

    /// Bytes received so far.
    pub fn received(&self) -> u64 {
        self.check.as_ref().map_or(0, Verifier::received)
    }

    /// Goes on with `next`, the answer to `Range: bytes=N-` (N being
    /// [`ObjectBody::received`]) and `If-Match` this body's etag, after
    /// this body failed with a connection error. The check at the end then
    /// covers the bytes of both, so a resumed download is verified whole.
    ///
    /// # Errors
    /// `Protocol` when `next` is not that range of the same object, or this
    /// body already ended.
    pub fn resume(&mut self, next: GetResponse) -> Result<()> {
        let Some(check) = &self.check else {
            return Err(Error::Protocol(format!(
                "{}: body already ended",
                self.path
            )));
        };
        let start = next.info.header("content-range").and_then(range_start);
        if next.info.status != 206 || start != Some(check.received()) {
            return Err(Error::Protocol(format!(
                "{}: resuming at byte {} got status {} with content-range {:?}",
                self.path,
                check.received(),
                next.info.status,
                next.info.header("content-range")
            )));
        }
        if self.etag.is_some() && next.info.etag != self.etag {
            return Err(Error::Protocol(format!(
                "{}: the object changed while it was being read",
                self.path
            )));
        }
        // `next` keeps its own length check, inside this body's.
        self.raw = Box::pin(next.body);
        Ok(())
    }
}

/// First byte of `Content-Range: bytes a-b/n`.
fn range_start(v: &str) -> Option<u64> {
    let (a, _) = v.strip_prefix("bytes ")?.split_once('-')?;
    a.trim().parse().ok()
}

impl Stream for ObjectBody {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes>>> {
        let this = &mut *self;
        let Some(check) = &mut this.check else {
            return Poll::Ready(None);
        };
        match ready!(this.raw.poll_next_unpin(cx)) {
            Some(Ok(chunk)) => {
                check.update(&chunk);
                Poll::Ready(Some(Ok(chunk)))
            }
            // A connection error leaves the check running, for `resume`.
            Some(Err(e)) => Poll::Ready(Some(Err(e))),
            None => {
                let done = this.check.take().map(|c| c.finish(&this.path));
                Poll::Ready(done.and_then(Result::err).map(Err))
            }
        }
    }
}

impl std::fmt::Debug for ObjectBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectBody")
            .field("path", &self.path)
            .field("received", &self.received())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;

    fn body(info: &ObjectInfo, chunks: &[&'static [u8]]) -> ObjectBody {
        let items: Vec<Result<Bytes>> = chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect();
        ObjectBody::new("/u/stor/x", info, Box::pin(futures::stream::iter(items)))
    }

    fn whole(data: &[u8]) -> ObjectInfo {
        ObjectInfo {
            status: 200,
            size: Some(data.len() as u64),
            content_blake3: Some(blake3::hash(data).to_hex().to_string()),
            etag: Some("e1".into()),
            ..ObjectInfo::default()
        }
    }

    #[tokio::test]
    async fn the_error_is_the_last_item() {
        let mut b = body(&whole(b"abcdef"), &[b"abc", b"dEf"]);
        assert_eq!(b.next().await.unwrap().unwrap().as_ref(), b"abc");
        assert_eq!(b.next().await.unwrap().unwrap().as_ref(), b"dEf");
        let e = b.next().await.unwrap().unwrap_err();
        assert_eq!(e.code(), "ChecksumError");
        assert!(
            e.to_string().starts_with("/u/stor/x: BLAKE3 mismatch"),
            "{e}"
        );
        assert!(b.next().await.is_none());
        let ok: Vec<Bytes> = body(&whole(b"abcdef"), &[b"abc", b"def"])
            .try_collect()
            .await
            .unwrap();
        assert_eq!(ok.concat(), b"abcdef");
    }

    #[tokio::test]
    async fn a_resumed_body_is_checked_whole() {
        let info = whole(b"abcdef");
        let mut b = body(&info, &[b"ab"]);
        b.next().await.unwrap().unwrap();
        let rest = |range: &str, data: &'static [u8]| {
            let i = ObjectInfo {
                status: 206,
                size: Some(data.len() as u64),
                etag: Some("e1".into()),
                headers: vec![("content-range".into(), range.into())],
                ..ObjectInfo::default()
            };
            GetResponse {
                body: body(&i, &[data]),
                info: i,
            }
        };
        assert!(
            b.resume(rest("bytes 3-5/6", b"def")).is_err(),
            "wrong offset"
        );
        b.resume(rest("bytes 2-5/6", b"cdef")).unwrap();
        let tail: Vec<Bytes> = b.try_collect().await.unwrap();
        assert_eq!(tail.concat(), b"cdef");

        let mut b = body(&info, &[b"ab"]);
        b.next().await.unwrap().unwrap();
        b.resume(rest("bytes 2-5/6", b"cdeF")).unwrap();
        let e = b.try_collect::<Vec<Bytes>>().await.unwrap_err();
        assert!(matches!(e, Error::Checksum { .. }), "{e}");
    }
}
