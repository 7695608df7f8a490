//! `x-amz-checksum-crc32` and `x-amz-checksum-sha256` on PutObject: the
//! body is checked as it streams (a mismatch fails the upload with
//! `BadDigest`, nothing committed) and the value is kept with the object and
//! returned on a whole-object GET/HEAD with `x-amz-checksum-mode: ENABLED`.
//! Other algorithms (CRC32C, CRC64NVME) are accepted unchecked.

use super::{S3Error, S3Result};
use crate::store::Rejected;
use axum::body::Body;
use axum::http::HeaderMap;
use base64::Engine;
use futures::StreamExt;
use sha2::{Digest, Sha256};

/// A checksum header and its base64 value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Checksum {
    pub(crate) header: &'static str,
    pub(crate) value: String,
}

/// A running digest and how its final value is written.
pub(crate) enum Hasher {
    Crc32(crc32fast::Hasher),
    Sha256(Sha256),
    /// SHA-256 as lowercase hex (`x-amz-content-sha256`).
    Sha256Hex(Sha256),
}

impl Hasher {
    fn update(&mut self, b: &[u8]) {
        match self {
            Hasher::Crc32(h) => h.update(b),
            Hasher::Sha256(h) | Hasher::Sha256Hex(h) => h.update(b),
        }
    }

    fn finish(self) -> String {
        let raw = match self {
            Hasher::Crc32(h) => h.finalize().to_be_bytes().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha256Hex(h) => return hex::encode(h.finalize()),
        };
        base64::engine::general_purpose::STANDARD.encode(raw)
    }
}

const HEADERS: [&str; 2] = ["x-amz-checksum-crc32", "x-amz-checksum-sha256"];

/// The checksum the client sent, if it is one we check.
///
/// # Errors
/// `InvalidDigest` for a value that is not text.
pub(crate) fn requested(h: &HeaderMap) -> S3Result<Option<Checksum>> {
    for header in HEADERS {
        if let Some(v) = h.get(header) {
            let value = v.to_str().map_err(|_| S3Error::InvalidDigest)?;
            return Ok(Some(Checksum {
                header,
                value: value.trim().to_string(),
            }));
        }
    }
    Ok(None)
}

/// The body, failing at its end unless it has checksum `want`.
pub(crate) fn checked(body: Body, want: &Checksum) -> Body {
    let hasher = if want.header == HEADERS[0] {
        Hasher::Crc32(crc32fast::Hasher::new())
    } else {
        Hasher::Sha256(Sha256::new())
    };
    verified_at_end(body, hasher, want.value.clone(), || S3Error::BadDigest)
}

/// The body as it streams, hashed; at its end, unless the digest is `want`,
/// the body fails with `mismatch()` as its [`Rejected`] cause, so nothing
/// is committed and the operation answers with that error.
pub(crate) fn verified_at_end(
    body: Body,
    hasher: Hasher,
    want: String,
    mismatch: fn() -> S3Error,
) -> Body {
    let state = Some((body.into_data_stream(), hasher));
    let stream = futures::stream::unfold(state, move |state| {
        let want = want.clone();
        async move {
            let (mut inner, mut hasher) = state?;
            match inner.next().await {
                Some(Ok(b)) => {
                    hasher.update(&b);
                    Some((Ok(b), Some((inner, hasher))))
                }
                Some(Err(e)) => Some((Err(std::io::Error::other(e)), None)),
                None if hasher.finish() == want => None,
                None => Some((Err(Rejected::new(mismatch()).into_io()), None)),
            }
        }
    });
    Body::from_stream(stream.boxed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        let mut h = Hasher::Crc32(crc32fast::Hasher::new());
        h.update(b"hello");
        // CRC32("hello") = 0x3610a686.
        assert_eq!(h.finish(), "NhCmhg==");
    }
}
