//! `x-amz-checksum-*`: the five algorithms S3 offers (CRC32, CRC32C,
//! CRC64NVME, SHA1, SHA256), what a request asks for (a header, or an
//! `aws-chunked` trailer named by `x-amz-trailer`), and the running
//! digests. The body is checked as it streams ([`super::checksum_body`]);
//! multipart objects combine their parts' values ([`super::crc_combine`]).

use super::{S3Error, S3Result};
use axum::http::HeaderMap;
use base64::Engine;
use crc::{Crc, Digest, Table, CRC_32_ISCSI, CRC_64_NVME};
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

static CRC32C: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&CRC_32_ISCSI);
static CRC64NVME: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&CRC_64_NVME);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Algorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl Algorithm {
    pub(crate) const ALL: [Algorithm; 5] = [
        Algorithm::Crc32,
        Algorithm::Crc32c,
        Algorithm::Crc64Nvme,
        Algorithm::Sha1,
        Algorithm::Sha256,
    ];

    /// As `x-amz-checksum-algorithm` names it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "CRC32",
            Algorithm::Crc32c => "CRC32C",
            Algorithm::Crc64Nvme => "CRC64NVME",
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
        }
    }

    pub(crate) fn header(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "x-amz-checksum-crc32",
            Algorithm::Crc32c => "x-amz-checksum-crc32c",
            Algorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Algorithm::Sha1 => "x-amz-checksum-sha1",
            Algorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The XML element (`ChecksumCRC32`...).
    pub(crate) fn xml(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "ChecksumCRC32",
            Algorithm::Crc32c => "ChecksumCRC32C",
            Algorithm::Crc64Nvme => "ChecksumCRC64NVME",
            Algorithm::Sha1 => "ChecksumSHA1",
            Algorithm::Sha256 => "ChecksumSHA256",
        }
    }

    pub(crate) fn from_name(s: &str) -> Option<Algorithm> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s.trim()))
    }

    pub(crate) fn from_header(h: &str) -> Option<Algorithm> {
        Self::ALL
            .into_iter()
            .find(|a| a.header().eq_ignore_ascii_case(h.trim()))
    }

    /// Bytes of a raw digest.
    fn len(self) -> usize {
        match self {
            Algorithm::Crc32 | Algorithm::Crc32c => 4,
            Algorithm::Crc64Nvme => 8,
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
        }
    }

    pub(crate) fn is_crc(self) -> bool {
        matches!(
            self,
            Algorithm::Crc32 | Algorithm::Crc32c | Algorithm::Crc64Nvme
        )
    }

    pub(crate) fn hasher(self) -> Hasher {
        match self {
            Algorithm::Crc32 => Hasher::Crc32(crc32fast::Hasher::new()),
            Algorithm::Crc32c => Hasher::Crc32c(CRC32C.digest()),
            Algorithm::Crc64Nvme => Hasher::Crc64Nvme(CRC64NVME.digest()),
            Algorithm::Sha1 => Hasher::Sha1(Sha1::new()),
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
        }
    }

    /// The raw digest a base64 value holds, if it is one of this algorithm.
    pub(crate) fn decode(self, b64: &str) -> Option<Vec<u8>> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .ok()?;
        (raw.len() == self.len()).then_some(raw)
    }
}

/// A running digest and how its final value is written.
pub(crate) enum Hasher {
    Crc32(crc32fast::Hasher),
    Crc32c(Digest<'static, u32, Table<16>>),
    Crc64Nvme(Digest<'static, u64, Table<16>>),
    Sha1(Sha1),
    Sha256(Sha256),
    /// SHA-256 as lowercase hex (`x-amz-content-sha256`).
    Sha256Hex(Sha256),
}

impl Hasher {
    pub(crate) fn update(&mut self, b: &[u8]) {
        match self {
            Hasher::Crc32(h) => h.update(b),
            Hasher::Crc32c(h) => h.update(b),
            Hasher::Crc64Nvme(h) => h.update(b),
            Hasher::Sha1(h) => h.update(b),
            Hasher::Sha256(h) | Hasher::Sha256Hex(h) => h.update(b),
        }
    }

    /// The value as S3 writes it: base64 of the big-endian digest (hex for
    /// the payload hash).
    pub(crate) fn finish(self) -> String {
        let raw = match self {
            Hasher::Crc32(h) => h.finalize().to_be_bytes().to_vec(),
            Hasher::Crc32c(h) => h.finalize().to_be_bytes().to_vec(),
            Hasher::Crc64Nvme(h) => h.finalize().to_be_bytes().to_vec(),
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha256Hex(h) => return hex::encode(h.finalize()),
        };
        b64(&raw)
    }
}

pub(crate) fn b64(raw: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(raw)
}

/// Where the expected value of a checked body comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// The `x-amz-checksum-*` header's (base64) value.
    Header(String),
    /// The `aws-chunked` trailer of that name, read when the body ends.
    Trailer,
    /// Nothing to compare with: the value is computed (an upload created
    /// with an algorithm, whose part came without one).
    Compute,
}

/// A checksum a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Requested {
    pub(crate) algorithm: Algorithm,
    pub(crate) source: Source,
}

/// The checksum a request carries: one `x-amz-checksum-*` header, or an
/// `x-amz-trailer` naming one.
///
/// # Errors
/// `InvalidRequest` for several checksums, a value that is not a digest of
/// its algorithm, or an unknown trailer.
pub(crate) fn requested(h: &HeaderMap) -> S3Result<Option<Requested>> {
    let mut found = None;
    for a in Algorithm::ALL {
        let Some(v) = h.get(a.header()) else {
            continue;
        };
        let invalid =
            || S3Error::InvalidRequest(format!("Value for {} header is invalid.", a.header()));
        let value = v.to_str().map_err(|_| invalid())?.trim().to_string();
        a.decode(&value).ok_or_else(invalid)?;
        if found.is_some() {
            return Err(several());
        }
        found = Some(Requested {
            algorithm: a,
            source: Source::Header(value),
        });
    }
    if let Some(t) = h.get("x-amz-trailer") {
        let name = t.to_str().unwrap_or_default();
        let a = Algorithm::from_header(name).ok_or_else(|| {
            S3Error::InvalidRequest(format!("the trailer {name:?} is not supported"))
        })?;
        if found.is_some() {
            return Err(several());
        }
        found = Some(Requested {
            algorithm: a,
            source: Source::Trailer,
        });
    }
    Ok(found)
}

fn several() -> S3Error {
    S3Error::InvalidRequest(
        "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
            .into(),
    )
}

/// The algorithm a request names in `x-amz-checksum-algorithm`, if any.
///
/// # Errors
/// `InvalidRequest` for an unknown one.
pub(crate) fn named_algorithm(h: &HeaderMap) -> S3Result<Option<Algorithm>> {
    match h.get("x-amz-checksum-algorithm") {
        None => Ok(None),
        Some(v) => {
            let name = v.to_str().unwrap_or_default();
            Algorithm::from_name(name).map(Some).ok_or_else(|| {
                S3Error::InvalidRequest(format!("Checksum algorithm {name:?} is not supported"))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(a: Algorithm, data: &[u8]) -> String {
        let mut h = a.hasher();
        h.update(data);
        h.finish()
    }

    #[test]
    fn known_values() {
        // The catalogue's check values, over "123456789".
        let check = |a, raw: &[u8]| assert_eq!(of(a, b"123456789"), b64(raw), "{a:?}");
        check(Algorithm::Crc32, &0xcbf4_3926u32.to_be_bytes());
        check(Algorithm::Crc32c, &0xe306_9283u32.to_be_bytes());
        check(
            Algorithm::Crc64Nvme,
            &0xae8b_1486_0a79_9888u64.to_be_bytes(),
        );
        // CRC32("hello") = 0x3610a686.
        assert_eq!(of(Algorithm::Crc32, b"hello"), "NhCmhg==");
    }

    #[test]
    fn requests() {
        let mut h = HeaderMap::new();
        assert_eq!(requested(&h).unwrap(), None);
        h.insert("x-amz-checksum-crc32c", "4waSgw==".parse().unwrap());
        let r = requested(&h).unwrap().unwrap();
        assert_eq!(r.algorithm, Algorithm::Crc32c);
        h.insert("x-amz-checksum-crc32", "NhCmhg==".parse().unwrap());
        assert!(requested(&h).is_err());
        let mut h = HeaderMap::new();
        h.insert("x-amz-checksum-crc64nvme", "NhCmhg==".parse().unwrap());
        assert!(requested(&h).is_err(), "4 bytes are no CRC64");
        let mut h = HeaderMap::new();
        h.insert("x-amz-trailer", "x-amz-checksum-crc64nvme".parse().unwrap());
        assert_eq!(requested(&h).unwrap().unwrap().source, Source::Trailer);
    }
}
