//! Streaming SigV4 uploads (`x-amz-content-sha256:
//! STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, `Content-Encoding: aws-chunked`):
//!
//! ```text
//! <hex size>;chunk-signature=<sig>\r\n<size bytes>\r\n ... 0;chunk-signature=<sig>\r\n\r\n
//! ```
//!
//! Each chunk's signature chains from the previous one (the first from the
//! request's seed signature). [`ChunkedDecoder`] checks each chunk as it
//! completes and only then hands its bytes on; [`verify_stream`] wraps a
//! body stream with it, so nothing unverified reaches storage.

use super::sigv4::{constant_time_eq, Verified, EMPTY_SHA256};
use crate::s3::S3Error;
use bytes::{Buf, Bytes, BytesMut};
use client_sdk::sigv4::hmac;
use futures::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;

/// Largest chunk accepted (the SDKs send 64 KiB to 8 MiB).
pub(crate) const MAX_CHUNK: usize = 16 << 20;
const MAX_HEADER_LINE: usize = 4096;

/// The chain of chunk signatures of one upload.
#[derive(Debug, Clone)]
pub struct ChunkSigner {
    key: [u8; 32],
    amz_date: String,
    scope: String,
    previous: String,
}

impl ChunkSigner {
    pub fn new(v: &Verified) -> Self {
        ChunkSigner {
            key: v.signing_key,
            amz_date: v.amz_date.clone(),
            scope: v.scope.clone(),
            previous: v.seed_signature.clone(),
        }
    }

    /// The signature the next chunk must carry.
    pub fn expected(&self, data: &[u8]) -> String {
        let sts = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{EMPTY_SHA256}\n{}",
            self.amz_date,
            self.scope,
            self.previous,
            hex::encode(Sha256::digest(data))
        );
        hex::encode(hmac(&self.key, sts.as_bytes()))
    }

    /// Checks the next chunk and advances the chain.
    ///
    /// # Errors
    /// `SignatureDoesNotMatch`.
    pub fn verify(&mut self, data: &[u8], claimed: &str) -> Result<(), S3Error> {
        let expected = self.expected(data);
        if !constant_time_eq(expected.as_bytes(), claimed.as_bytes()) {
            return Err(S3Error::SignatureDoesNotMatch(
                "aws-chunked chunk signature".into(),
            ));
        }
        self.previous = expected;
        Ok(())
    }
}

#[derive(Debug)]
enum State {
    Header,
    Data {
        size: usize,
        signature: String,
    },
    /// The final, empty chunk was seen.
    Done,
}

/// An incremental decoder: feed it body bytes, take verified data out.
#[derive(Debug)]
pub(crate) struct ChunkedDecoder {
    signer: ChunkSigner,
    buf: BytesMut,
    state: State,
    /// Payload bytes passed on so far.
    pub decoded: u64,
}

impl ChunkedDecoder {
    pub fn new(signer: ChunkSigner) -> Self {
        ChunkedDecoder {
            signer,
            buf: BytesMut::new(),
            state: State::Header,
            decoded: 0,
        }
    }

    /// Takes more of the body; returns the chunks completed and verified.
    ///
    /// # Errors
    /// `SignatureDoesNotMatch` for a bad chunk, `IncompleteBody` for
    /// malformed framing or data after the final chunk.
    pub fn push(&mut self, input: &[u8]) -> Result<Vec<Bytes>, S3Error> {
        self.buf.extend_from_slice(input);
        let mut out = Vec::new();
        loop {
            match &self.state {
                State::Header => {
                    let Some(line) = self.take_line()? else { break };
                    self.state = parse_header(&line)?;
                }
                State::Data { size, signature } => {
                    let (size, signature) = (*size, signature.clone());
                    if self.buf.len() < size + 2 {
                        break;
                    }
                    let data = self.buf.split_to(size).freeze();
                    if &self.buf[..2] != b"\r\n" {
                        return Err(malformed("chunk data not followed by CRLF"));
                    }
                    self.buf.advance(2);
                    self.signer.verify(&data, &signature)?;
                    self.decoded += size as u64;
                    if size == 0 {
                        self.state = State::Done;
                    } else {
                        out.push(data);
                        self.state = State::Header;
                    }
                }
                State::Done => {
                    if !self.buf.is_empty() {
                        return Err(malformed("data after the final chunk"));
                    }
                    break;
                }
            }
        }
        Ok(out)
    }

    /// A `<size>;chunk-signature=<sig>` line, once complete.
    fn take_line(&mut self) -> Result<Option<String>, S3Error> {
        // The limit holds however the body arrives: a read holding a whole
        // long line must not pass what several short reads would refuse
        // (the `+ 1` leaves room for a CR whose LF is still to come).
        match self.buf.windows(2).position(|w| w == b"\r\n") {
            Some(i) if i > MAX_HEADER_LINE => Err(malformed("chunk header too long")),
            Some(i) => {
                let line = self.buf.split_to(i);
                self.buf.advance(2);
                String::from_utf8(line.to_vec())
                    .map(Some)
                    .map_err(|_| malformed("chunk header is not text"))
            }
            None if self.buf.len() > MAX_HEADER_LINE + 1 => Err(malformed("chunk header too long")),
            None => Ok(None),
        }
    }

    /// The body ended: was the final chunk seen?
    ///
    /// # Errors
    /// `IncompleteBody`.
    pub(crate) fn finish(&self) -> Result<(), S3Error> {
        match self.state {
            State::Done => Ok(()),
            _ => Err(S3Error::IncompleteChunkedBody(
                "the aws-chunked body ended before its final chunk".into(),
            )),
        }
    }
}

fn malformed(what: &str) -> S3Error {
    S3Error::IncompleteChunkedBody(format!("malformed aws-chunked body: {what}"))
}

fn parse_header(line: &str) -> Result<State, S3Error> {
    let (size, ext) = line
        .split_once(';')
        .ok_or_else(|| malformed("chunk header without signature"))?;
    // Hex digits only: `from_str_radix` would also take a leading `+`.
    let size = size.trim();
    if !size.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(malformed("bad chunk size"));
    }
    let size = usize::from_str_radix(size, 16).map_err(|_| malformed("bad chunk size"))?;
    if size > MAX_CHUNK {
        return Err(malformed("chunk too large"));
    }
    let signature = ext
        .trim()
        .strip_prefix("chunk-signature=")
        .ok_or_else(|| malformed("chunk header without signature"))?
        .to_ascii_lowercase();
    Ok(State::Data { size, signature })
}

/// Wraps a body stream: yields only verified chunk data; ends with an error
/// on a bad signature, bad framing, a body cut short or an inner error.
pub(crate) fn verify_stream<S, E>(
    inner: S,
    decoder: ChunkedDecoder,
) -> impl Stream<Item = Result<Bytes, S3Error>>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let state = Some((inner, decoder, VecDeque::new()));
    futures::stream::unfold(state, |state| async move {
        let (mut inner, mut dec, mut queue) = state?;
        loop {
            if let Some(b) = queue.pop_front() {
                return Some((Ok(b), Some((inner, dec, queue))));
            }
            match inner.next().await {
                Some(Ok(bytes)) => match dec.push(&bytes) {
                    Ok(chunks) => queue.extend(chunks),
                    Err(e) => return Some((Err(e), None)),
                },
                Some(Err(e)) => {
                    let e = S3Error::IncompleteChunkedBody(format!("body: {e}"));
                    return Some((Err(e), None));
                }
                None => {
                    return match dec.finish() {
                        Ok(()) => None,
                        Err(e) => Some((Err(e), None)),
                    }
                }
            }
        }
    })
}
