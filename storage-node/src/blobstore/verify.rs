//! Whole-blob reads that check the bytes against the blob's name.
//!
//! Bit rot or a stray write can change a blob file; since the name is the
//! BLAKE3 of the bytes, a whole read can prove them right at no extra I/O.
//! The hash is only known at the end, so a bad blob ends its stream with an
//! error: the receiver sees a broken transfer, never a silent bad copy.

use std::io;
use std::pin::Pin;

use bytes::Bytes;
use futures::{Stream, StreamExt};

use super::BlobStore;
use crate::wire::BlobHash;
use crate::Result;

impl BlobStore {
    /// Streams the whole blob, failing the stream at its end if the bytes do
    /// not hash to `hash`. Returns the size with the stream.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`] if absent, [`crate::Error::Io`] otherwise.
    pub async fn open_verified(
        &self,
        hash: &BlobHash,
    ) -> Result<(u64, impl Stream<Item = io::Result<Bytes>> + Send + 'static)> {
        let size = self.size(hash).await?;
        let inner = self.open_range(hash, 0, size).await?;
        Ok((size, verified(inner, *hash, size)))
    }
}

struct State<S> {
    inner: Pin<Box<S>>,
    hasher: blake3::Hasher,
    seen: u64,
    /// The newest chunk, held back until the next one arrives. With a
    /// content-length, the last bytes complete the response, and an error
    /// after them would be lost; holding them back until the hash is proven
    /// makes a bad blob a short (hence failed) transfer.
    held: Option<Bytes>,
}

fn verified<S>(
    inner: S,
    expected: BlobHash,
    size: u64,
) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static
where
    S: Stream<Item = io::Result<Bytes>> + Send + 'static,
{
    let start = State {
        inner: Box::pin(inner),
        hasher: blake3::Hasher::new(),
        seen: 0,
        held: None,
    };
    futures::stream::unfold(Some(start), move |state| async move {
        let mut st = state?;
        loop {
            match st.inner.next().await {
                Some(Ok(chunk)) => {
                    st.hasher.update(&chunk);
                    st.seen += chunk.len() as u64;
                    if let Some(prev) = st.held.replace(chunk) {
                        return Some((Ok(prev), Some(st)));
                    }
                }
                Some(Err(e)) => return Some((Err(e), None)),
                None => return finish(st, expected, size),
            }
        }
    })
}

/// Ends the stream: the held chunk if the bytes match the name, else an error.
fn finish<S>(
    mut st: State<S>,
    expected: BlobHash,
    size: u64,
) -> Option<(io::Result<Bytes>, Option<State<S>>)> {
    let got = BlobHash::from(st.hasher.finalize());
    if got == expected && st.seen == size {
        return st.held.take().map(|last| (Ok(last), None));
    }
    tracing::error!(blob = %expected, computed = %got, bytes = st.seen, "blob is corrupt: bytes do not match its name");
    let err = io::Error::new(
        io::ErrorKind::InvalidData,
        format!("blob {expected} is corrupt"),
    );
    Some((Err(err), None))
}
