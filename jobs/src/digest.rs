//! SHA-256 content digests (`sha256:<hex>`) and a reader that computes one
//! while data streams through it.

use std::fmt;
use std::io::Read;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::{Error, Result};

/// A `sha256:<64 lowercase hex>` digest, validated so it is safe to use as
/// a file name in the layer cache.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest(String);

impl Digest {
    /// Parses `sha256:<hex>`; other algorithms are refused.
    ///
    /// # Errors
    /// [`Error::InvalidArchive`] when the text is not a sha256 digest.
    pub fn parse(text: &str) -> Result<Self> {
        let hex = text
            .strip_prefix("sha256:")
            .ok_or_else(|| Error::InvalidArchive(format!("unsupported digest {text:?}")))?;
        if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(Error::InvalidArchive(format!("malformed digest {text:?}")));
        }
        Ok(Self(text.to_owned()))
    }

    /// The hex part, used as the cache file name.
    pub fn hex(&self) -> &str {
        &self.0["sha256:".len()..]
    }

    fn from_hasher(hasher: Sha256) -> Self {
        Self(format!("sha256:{}", hex::encode(hasher.finalize())))
    }

    /// Digest of a byte slice.
    pub fn of(bytes: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(bytes);
        Self::from_hasher(h)
    }

    /// Fails with [`Error::DigestMismatch`] unless `actual` equals `self`.
    pub(crate) fn verify(&self, actual: &Digest, what: impl Into<String>) -> Result<()> {
        if self == actual {
            return Ok(());
        }
        Err(Error::DigestMismatch {
            what: what.into(),
            expected: self.0.clone(),
            actual: actual.0.clone(),
        })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Digest {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s)
    }
}

impl From<Digest> for String {
    fn from(d: Digest) -> String {
        d.0
    }
}

/// Hashes and counts every byte read through it.
pub(crate) struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    len: u64,
}

impl<R: Read> HashingReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }

    /// Reads to the end (tar streams leave padding unread) and returns the
    /// digest and length of everything that went through.
    pub(crate) fn finish(mut self) -> std::io::Result<(Digest, u64)> {
        std::io::copy(&mut self, &mut std::io::sink())?;
        Ok((Digest::from_hasher(self.hasher), self.len))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_hash() {
        let d = Digest::of(b"abc");
        assert_eq!(
            d.hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(Digest::parse("sha512:00").is_err());
        assert!(Digest::parse("sha256:../../etc").is_err());
        let mut r = HashingReader::new(&b"abc"[..]);
        let mut first = [0u8; 1];
        r.read_exact(&mut first).unwrap();
        assert_eq!(r.finish().unwrap(), (d, 3));
    }
}
