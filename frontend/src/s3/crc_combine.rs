//! The checksum of a multipart object from its parts' checksums, as S3
//! makes it: `COMPOSITE` (the digest of the parts' raw digests, then
//! `-<parts>`) for any algorithm, `FULL_OBJECT` (the CRC of the whole
//! object) for the CRCs. A full-object CRC is combined from the parts'
//! CRCs and lengths without reading a byte, by zlib's method
//! (`crc32_combine`: multiply by x^(8·len) modulo the polynomial), which
//! holds for every reflected CRC whose init and xorout are equal, as for
//! CRC32, CRC32C and CRC64NVME.

use super::checksum::{b64, Algorithm};

/// `COMPOSITE` or `FULL_OBJECT`, as `x-amz-checksum-type` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Composite,
    FullObject,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Composite => "COMPOSITE",
            Kind::FullObject => "FULL_OBJECT",
        }
    }

    pub(crate) fn from_name(s: &str) -> Option<Kind> {
        [Kind::Composite, Kind::FullObject]
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s.trim()))
    }

    /// A stored object value's kind: composite values end in `-<parts>`.
    pub(crate) fn of_value(v: &str) -> Kind {
        if v.contains('-') {
            Kind::Composite
        } else {
            Kind::FullObject
        }
    }
}

/// The composite value of parts with base64 digests `parts`.
pub(crate) fn composite(a: Algorithm, parts: &[String]) -> Option<String> {
    let mut h = a.hasher();
    for p in parts {
        h.update(&a.decode(p)?);
    }
    Some(format!("{}-{}", h.finish(), parts.len()))
}

/// The CRC of the concatenation of parts given as (base64 CRC, length).
pub(crate) fn full_object(a: Algorithm, parts: &[(String, u64)]) -> Option<String> {
    let c = Combiner::new(a)?;
    let mut crc = 0u64;
    for (value, len) in parts {
        let raw = a.decode(value)?;
        let mut be = [0u8; 8];
        be[8 - raw.len()..].copy_from_slice(&raw);
        crc = c.combine(crc, u64::from_be_bytes(be), *len);
    }
    let be = crc.to_be_bytes();
    Some(b64(&be[8 - c.width as usize / 8..]))
}

/// GF(2) arithmetic modulo one reflected polynomial.
struct Combiner {
    width: u32,
    /// The polynomial, bit-reversed within `width`.
    rpoly: u64,
    /// x^(2^k) modulo the polynomial.
    x2n: [u64; 72],
}

impl Combiner {
    fn new(a: Algorithm) -> Option<Combiner> {
        let (width, poly) = match a {
            Algorithm::Crc32 => (32, 0x04c1_1db7u64),
            Algorithm::Crc32c => (32, 0x1edc_6f41),
            Algorithm::Crc64Nvme => (64, 0xad93_d235_94c9_3659),
            Algorithm::Sha1 | Algorithm::Sha256 => return None,
        };
        let rpoly = poly.reverse_bits() >> (64 - width);
        let mut c = Combiner {
            width,
            rpoly,
            x2n: [0; 72],
        };
        let mut p = 1u64 << (width - 2); // x^1
        for slot in 0..c.x2n.len() {
            c.x2n[slot] = p;
            p = c.mult(p, p);
        }
        Some(c)
    }

    /// a·b modulo the polynomial (reflected: x^0 is the top bit).
    fn mult(&self, a: u64, mut b: u64) -> u64 {
        let mut m = 1u64 << (self.width - 1);
        let mut p = 0u64;
        while m != 0 {
            if a & m != 0 {
                p ^= b;
            }
            m >>= 1;
            b = if b & 1 != 0 {
                (b >> 1) ^ self.rpoly
            } else {
                b >> 1
            };
        }
        p
    }

    /// x^(n·2^k) modulo the polynomial.
    fn x2n_mod(&self, mut n: u64, mut k: usize) -> u64 {
        let mut p = 1u64 << (self.width - 1); // x^0
        while n != 0 {
            if n & 1 != 0 {
                p = self.mult(self.x2n[k], p);
            }
            n >>= 1;
            k += 1;
        }
        p
    }

    /// The CRC of A·B from crc(A), crc(B) and B's length in bytes.
    fn combine(&self, crc_a: u64, crc_b: u64, len_b: u64) -> u64 {
        self.mult(self.x2n_mod(len_b, 3), crc_a) ^ crc_b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crc(a: Algorithm, data: &[u8]) -> String {
        let mut h = a.hasher();
        h.update(data);
        h.finish()
    }

    #[test]
    fn combined_equals_whole() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        for a in [Algorithm::Crc32, Algorithm::Crc32c, Algorithm::Crc64Nvme] {
            for cuts in [
                vec![0, 100_000],
                vec![0, 1, 65_537, 99_999, 100_000],
                vec![0, 0, 5, 5, 100_000],
            ] {
                let parts: Vec<(String, u64)> = cuts
                    .windows(2)
                    .map(|w| (crc(a, &data[w[0]..w[1]]), (w[1] - w[0]) as u64))
                    .collect();
                assert_eq!(
                    full_object(a, &parts).unwrap(),
                    crc(a, &data),
                    "{a:?} {cuts:?}"
                );
            }
        }
    }

    #[test]
    fn composite_is_digest_of_digests() {
        let a = Algorithm::Sha256;
        let (p1, p2) = (crc(a, b"one"), crc(a, b"two"));
        let mut raw = a.decode(&p1).unwrap();
        raw.extend(a.decode(&p2).unwrap());
        assert_eq!(
            composite(a, &[p1, p2]).unwrap(),
            format!("{}-2", crc(a, &raw))
        );
    }
}
