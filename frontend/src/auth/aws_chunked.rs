//! Streaming SigV4 uploads (`x-amz-content-sha256:
//! STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, `Content-Encoding: aws-chunked`):
//!
//! ```text
//! <hex size>;chunk-signature=<sig>\r\n<size bytes>\r\n ... 0;chunk-signature=<sig>\r\n\r\n
//! ```
//!
//! Each chunk's signature chains from the previous one (the first from the
//! request's seed signature). With `x-amz-trailer`, trailers follow the
//! final chunk (`0;chunk-signature=..\r\nname:value\r\n
//! x-amz-trailer-signature:..\r\n\r\n`, the last signature chained from
//! the final chunk's); `STREAMING-UNSIGNED-PAYLOAD-TRAILER` bodies carry
//! the same framing without any signature (`<hex size>\r\n`).
//! [`ChunkedDecoder`] checks each chunk as it
//! completes and only then hands its bytes on; [`verify_stream`] wraps a
//! body stream with it, so nothing unverified reaches storage.

use super::sigv4::{constant_time_eq, Verified, EMPTY_SHA256};
use crate::s3::checksum_body::Trailers;
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

    /// The signature of the trailers of a signed body
    /// (`x-amz-trailer-signature`), chained from the final chunk's.
    pub fn expected_trailer(&self, trailers: &[(String, String)]) -> String {
        let text: String = trailers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
        let sts = format!(
            "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{}\n{}",
            self.amz_date,
            self.scope,
            self.previous,
            hex::encode(Sha256::digest(text.as_bytes()))
        );
        hex::encode(hmac(&self.key, sts.as_bytes()))
    }

    fn verify_trailer(&self, trailers: &[(String, String)], claimed: &str) -> Result<(), S3Error> {
        let expected = self.expected_trailer(trailers);
        if !constant_time_eq(expected.as_bytes(), claimed.to_ascii_lowercase().as_bytes()) {
            return Err(S3Error::SignatureDoesNotMatch(
                "aws-chunked trailer signature".into(),
            ));
        }
        Ok(())
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
        signature: Option<String>,
    },
    /// After the final chunk of a body with trailers: `name:value` lines
    /// up to an empty one.
    Trailer,
    /// The final chunk (and trailers) were seen.
    Done,
}

/// Trailer lines accepted after the final chunk.
const MAX_TRAILERS: usize = 16;

/// An incremental decoder: feed it body bytes, take verified data out.
#[derive(Debug)]
pub(crate) struct ChunkedDecoder {
    /// `None`: unsigned chunks (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`).
    signer: Option<ChunkSigner>,
    /// Trailers follow the final chunk (`x-amz-trailer`).
    trailer: bool,
    trailers: Vec<(String, String)>,
    out: Option<Trailers>,
    buf: BytesMut,
    state: State,
    /// Payload bytes passed on so far.
    pub decoded: u64,
}

impl ChunkedDecoder {
    /// Signed chunks, no trailers (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`).
    #[cfg(test)]
    pub fn new(signer: ChunkSigner) -> Self {
        Self::with(Some(signer), false)
    }

    /// Chunks signed by `signer` (or unsigned), with or without trailers.
    pub fn with(signer: Option<ChunkSigner>, trailer: bool) -> Self {
        ChunkedDecoder {
            signer,
            trailer,
            trailers: Vec::new(),
            out: None,
            buf: BytesMut::new(),
            state: State::Header,
            decoded: 0,
        }
    }

    /// Where the trailers go once read (before the stream ends).
    pub(crate) fn trailers_into(mut self, out: Trailers) -> Self {
        self.out = Some(out);
        self
    }

    /// Takes more of the body; returns the chunks completed and verified.
    ///
    /// # Errors
    /// `SignatureDoesNotMatch` for a bad chunk or trailer, `IncompleteBody`
    /// for malformed framing or data after the final chunk.
    pub fn push(&mut self, input: &[u8]) -> Result<Vec<Bytes>, S3Error> {
        self.buf.extend_from_slice(input);
        let mut out = Vec::new();
        loop {
            match &self.state {
                State::Header => {
                    let Some(line) = self.take_line()? else { break };
                    self.state = parse_header(&line, self.signer.is_some())?;
                }
                State::Data { size, .. } if *size == 0 && self.trailer => {
                    self.verify_chunk(b"")?;
                    self.state = State::Trailer;
                }
                State::Data { size, .. } => {
                    let size = *size;
                    if self.buf.len() < size + 2 {
                        break;
                    }
                    let data = self.buf.split_to(size).freeze();
                    if &self.buf[..2] != b"\r\n" {
                        return Err(malformed("chunk data not followed by CRLF"));
                    }
                    self.buf.advance(2);
                    self.verify_chunk(&data)?;
                    self.decoded += size as u64;
                    if size == 0 {
                        self.state = State::Done;
                    } else {
                        out.push(data);
                        self.state = State::Header;
                    }
                }
                State::Trailer => {
                    let Some(line) = self.take_line()? else { break };
                    self.trailer_line(&line)?;
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

    fn verify_chunk(&mut self, data: &[u8]) -> Result<(), S3Error> {
        let State::Data { signature, .. } = &self.state else {
            return Ok(());
        };
        match (&mut self.signer, signature) {
            (Some(signer), Some(sig)) => signer.verify(data, sig),
            (None, _) => Ok(()),
            (Some(_), None) => Err(malformed("chunk header without signature")),
        }
    }

    /// One line after the final chunk: a trailer, the trailer signature
    /// (signed bodies), or the empty line that ends the body.
    fn trailer_line(&mut self, line: &str) -> Result<(), S3Error> {
        if line.is_empty() {
            if self.signer.is_some() {
                return Err(malformed("trailers without x-amz-trailer-signature"));
            }
            return self.done();
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| malformed("trailer without ':'"))?;
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_string());
        if name == "x-amz-trailer-signature" {
            let signer = self
                .signer
                .as_ref()
                .ok_or_else(|| malformed("trailer signature on an unsigned body"))?;
            signer.verify_trailer(&self.trailers, &value)?;
            // The signature is the last line before the empty one.
            self.signer = None;
            return Ok(());
        }
        if self.trailers.len() >= MAX_TRAILERS {
            return Err(malformed("too many trailers"));
        }
        self.trailers.push((name, value));
        Ok(())
    }

    fn done(&mut self) -> Result<(), S3Error> {
        if let Some(out) = &self.out {
            out.set(std::mem::take(&mut self.trailers));
        }
        self.state = State::Done;
        Ok(())
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

fn parse_header(line: &str, signed: bool) -> Result<State, S3Error> {
    let (size, ext) = match line.split_once(';') {
        Some((size, ext)) => (size, Some(ext)),
        None if signed => return Err(malformed("chunk header without signature")),
        None => (line, None),
    };
    // Hex digits only: `from_str_radix` would also take a leading `+`.
    let size = size.trim();
    if size.is_empty() || !size.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(malformed("bad chunk size"));
    }
    let size = usize::from_str_radix(size, 16).map_err(|_| malformed("bad chunk size"))?;
    if size > MAX_CHUNK {
        return Err(malformed("chunk too large"));
    }
    let signature = match ext {
        Some(ext) if signed => Some(
            ext.trim()
                .strip_prefix("chunk-signature=")
                .ok_or_else(|| malformed("chunk header without signature"))?
                .to_ascii_lowercase(),
        ),
        _ => None,
    };
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
