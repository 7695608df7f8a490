//! Checking a downloaded body against what its headers say it is: the
//! byte count (`Content-Length`) and, for a whole object, its BLAKE3
//! (`x-content-blake3`) or, from a server that sends no BLAKE3, its
//! `Content-MD5`.

use crate::error::{Error, Result};
use crate::info::ObjectInfo;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use md5::{Digest, Md5};

/// How a body differed from what its headers promised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    /// More or fewer bytes than `Content-Length`.
    #[error("expected {expected} bytes, received {received}")]
    Length { expected: u64, received: u64 },
    /// The bytes received do not hash to `x-content-blake3` (hex).
    #[error(
        "BLAKE3 mismatch: x-content-blake3 is {expected}, the bytes received hash to {computed}"
    )]
    Blake3 { expected: String, computed: String },
    /// The bytes received do not hash to `Content-MD5` (base64).
    #[error("MD5 mismatch: content-md5 is {expected}, the bytes received hash to {computed}")]
    Md5 { expected: String, computed: String },
}

/// The one hash a body is checked with: BLAKE3 when the server sent it
/// (it is cheaper and names the blob), else MD5.
enum Hash {
    // Boxed: the hasher keeps a stack of chaining values (~2 KiB).
    Blake3(Box<blake3::Hasher>, String),
    Md5(Md5, String),
}

/// Hashes and counts a body as it streams and checks it at the end;
/// holds no bytes.
pub struct Verifier {
    hash: Option<Hash>,
    expected_len: Option<u64>,
    got: u64,
}

impl Verifier {
    /// A verifier for a response with these headers. A 200 is checked
    /// against its length and hash; a 206 against its length only (a
    /// range carries no hash of its own); anything else (a 304) not at all.
    pub fn new(info: &ObjectInfo) -> Verifier {
        let whole = info.status == 200;
        let hash = match (&info.content_blake3, &info.md5) {
            _ if !whole => None,
            (Some(b3), _) => Some(Hash::Blake3(
                Box::new(blake3::Hasher::new()),
                b3.trim().to_ascii_lowercase(),
            )),
            (None, Some(md5)) => Some(Hash::Md5(Md5::new(), md5.trim().to_string())),
            (None, None) => None,
        };
        Verifier {
            hash,
            expected_len: if whole || info.status == 206 {
                info.size
            } else {
                None
            },
            got: 0,
        }
    }

    pub fn update(&mut self, chunk: &[u8]) {
        self.got += chunk.len() as u64;
        match &mut self.hash {
            Some(Hash::Blake3(h, _)) => {
                h.update(chunk);
            }
            Some(Hash::Md5(h, _)) => h.update(chunk),
            None => {}
        }
    }

    /// Bytes seen so far.
    pub fn received(&self) -> u64 {
        self.got
    }

    /// The mismatch, if the body seen was not the one promised.
    pub fn mismatch(self) -> Option<Mismatch> {
        if let Some(expected) = self.expected_len {
            if expected != self.got {
                return Some(Mismatch::Length {
                    expected,
                    received: self.got,
                });
            }
        }
        match self.hash? {
            Hash::Blake3(h, expected) => {
                let computed = h.finalize().to_hex().to_string();
                (computed != expected).then_some(Mismatch::Blake3 { expected, computed })
            }
            Hash::Md5(h, expected) => {
                let computed = B64.encode(h.finalize());
                (computed != expected).then_some(Mismatch::Md5 { expected, computed })
            }
        }
    }

    /// # Errors
    /// `Checksum` naming `path` when the length or hash differ.
    pub fn finish(self, path: &str) -> Result<()> {
        match self.mismatch() {
            None => Ok(()),
            Some(mismatch) => Err(Error::Checksum {
                path: path.to_string(),
                mismatch,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(status: u16, size: Option<u64>, b3: Option<&str>, md5: Option<&str>) -> ObjectInfo {
        ObjectInfo {
            status,
            size,
            content_blake3: b3.map(str::to_string),
            md5: md5.map(str::to_string),
            ..ObjectInfo::default()
        }
    }

    fn check(info: &ObjectInfo, body: &[u8]) -> Option<Mismatch> {
        let mut v = Verifier::new(info);
        for piece in body.chunks(3) {
            v.update(piece);
        }
        v.mismatch()
    }

    #[test]
    fn blake3_is_checked_incrementally_and_wins_over_md5() {
        let good = blake3::hash(b"hello world").to_hex().to_string();
        let i = info(200, Some(11), Some(&good.to_uppercase()), Some("bogus"));
        assert_eq!(check(&i, b"hello world"), None);
        let bad = check(&i, b"hello World");
        let computed = blake3::hash(b"hello World").to_hex().to_string();
        assert_eq!(
            bad,
            Some(Mismatch::Blake3 {
                expected: good,
                computed
            })
        );
    }

    #[test]
    fn md5_is_the_fallback() {
        let md5 = B64.encode(Md5::digest(b"abc"));
        let i = info(200, None, None, Some(&md5));
        assert_eq!(check(&i, b"abc"), None);
        assert!(matches!(check(&i, b"abd"), Some(Mismatch::Md5 { .. })));
    }

    #[test]
    fn a_short_body_is_a_length_mismatch() {
        let empty = blake3::hash(b"").to_hex().to_string();
        let i = info(200, Some(4), Some(&empty), None);
        assert_eq!(
            check(&i, b""),
            Some(Mismatch::Length {
                expected: 4,
                received: 0
            })
        );
        assert_eq!(check(&info(200, Some(0), Some(&empty), None), b""), None);
    }

    #[test]
    fn a_range_is_checked_for_length_only() {
        let i = info(206, Some(2), Some("not the range's hash"), Some("x"));
        assert_eq!(check(&i, b"ab"), None);
        assert!(matches!(check(&i, b"a"), Some(Mismatch::Length { .. })));
        assert_eq!(check(&info(304, None, None, Some("x")), b""), None);
    }
}
