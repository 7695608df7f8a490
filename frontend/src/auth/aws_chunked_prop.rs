//! Properties of the aws-chunked decoder: a body encoded with any chunk
//! sizes decodes to its payload however the stream is split; random or
//! mutated bodies never panic and never let an unverified byte out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::aws_chunked::{ChunkSigner, ChunkedDecoder};
use super::sigv4::{Payload, Verified};
use client_sdk::prop::{config, edits, mutate};
use proptest::prelude::*;

fn signer() -> ChunkSigner {
    ChunkSigner::new(&Verified {
        access_key_id: "AKIDEXAMPLE".into(),
        payload: Payload::Streaming,
        seed_signature: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9".into(),
        signing_key: [7; 32],
        amz_date: "20130524T000000Z".into(),
        scope: "20130524/us-east-1/s3/aws4_request".into(),
    })
}

/// `payload` cut into chunks of `sizes` (cycled), each signed in the chain,
/// then the final empty chunk.
fn encode(payload: &[u8], sizes: &[usize]) -> Vec<u8> {
    encode_with(payload, sizes, "")
}

/// As [`encode`], with `size_prefix` before each chunk's hex size.
fn encode_with(payload: &[u8], sizes: &[usize], size_prefix: &str) -> Vec<u8> {
    let mut s = signer();
    let mut out = Vec::new();
    let mut rest = payload;
    let mut chunk = |data: &[u8], out: &mut Vec<u8>| {
        let sig = s.expected(data);
        s.verify(data, &sig).unwrap();
        out.extend_from_slice(
            format!("{size_prefix}{:x};chunk-signature={sig}\r\n", data.len()).as_bytes(),
        );
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    };
    for &n in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (data, tail) = rest.split_at(n.min(rest.len()));
        chunk(data, &mut out);
        rest = tail;
    }
    chunk(b"", &mut out);
    out
}

/// Feeds `body` in pieces of `splits` (cycled); the bytes let out and
/// whether the body was accepted whole.
fn decode(body: &[u8], splits: &[usize]) -> (Vec<u8>, bool) {
    let mut dec = ChunkedDecoder::new(signer());
    let mut out = Vec::new();
    let mut rest = body;
    for &n in splits.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, tail) = rest.split_at(n.min(rest.len()));
        rest = tail;
        match dec.push(piece) {
            Ok(chunks) => chunks.iter().for_each(|c| out.extend_from_slice(c)),
            Err(_) => return (out, false),
        }
    }
    let ok = dec.finish().is_ok();
    assert_eq!(dec.decoded, out.len() as u64);
    (out, ok)
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..2048)
}

fn sizes() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(1usize..700, 1..6)
}

fn splits() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(1usize..300, 1..8)
}

proptest! {
    #![proptest_config(config(256))]

    /// Encode, split anyhow, decode: the payload comes back.
    #[test]
    fn round_trips_under_any_split(p in payload(), sizes in sizes(), splits in splits()) {
        let body = encode(&p, &sizes);
        let (out, ok) = decode(&body, &splits);
        prop_assert!(ok);
        prop_assert_eq!(out, p);
    }

    /// Random bytes: no panic, nothing let out (no chunk can carry the
    /// right signature by chance).
    #[test]
    fn junk_never_panics(body in proptest::collection::vec(any::<u8>(), 0..512), splits in splits()) {
        let (out, ok) = decode(&body, &splits);
        prop_assert!(out.is_empty() && !ok);
        let framed = [b"10;chunk-signature=".as_slice(), &body].concat();
        let (out, ok) = decode(&framed, &splits);
        prop_assert!(out.is_empty() && !ok);
    }

    /// Chunk sizes are hex digits (leading zeros allowed), and a header
    /// line's length limit holds however the body arrives.
    #[test]
    fn chunk_headers_are_strict(p in payload(), sizes in sizes(), zeros in 0usize..6000, splits in splits()) {
        let padded = encode_with(&p, &sizes, &"0".repeat(zeros));
        let (_, whole) = decode(&padded, &[padded.len()]);
        let (_, split) = decode(&padded, &splits);
        prop_assert_eq!(whole, split, "{} leading zeros", zeros);
        for sign in ["+", "-", "0x"] {
            let (out, ok) = decode(&encode_with(&p, &sizes, sign), &splits);
            prop_assert!(!ok && out.is_empty(), "size with {:?} accepted", sign);
        }
    }

    /// A corrupted body lets out only a prefix of the true payload, is
    /// accepted only when it still carries the whole payload, and gets the
    /// same verdict however it is split.
    #[test]
    fn mutated_bodies_leak_nothing_unverified(
        p in payload(),
        sizes in sizes(),
        e in edits(),
        a in splits(),
        b in splits(),
    ) {
        let body = mutate(&encode(&p, &sizes), &e);
        let (out, ok) = decode(&body, &a);
        prop_assert!(p.starts_with(&out), "{} bytes out are not the payload's", out.len());
        if ok {
            prop_assert_eq!(&out, &p);
        }
        let (out_b, ok_b) = decode(&body, &b);
        prop_assert_eq!(ok, ok_b);
        if ok {
            prop_assert_eq!(out_b, p);
        }
    }
}

/// Found by `chunk_headers_are_strict`: a chunk size took a leading `+`
/// (`usize::from_str_radix`), and a header line over the limit was refused
/// only when it arrived in pieces, not when one read held it whole.
#[test]
fn chunk_header_regressions() {
    let body = encode_with(b"abc", &[3], "+");
    assert!(!decode(&body, &[body.len()]).1);
    let body = encode_with(b"abc", &[3], &"0".repeat(5000));
    assert!(!decode(&body, &[body.len()]).1);
    assert!(!decode(&body, &[100]).1);
}
