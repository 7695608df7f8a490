//! Single byte ranges (`Range: bytes=a-b | a- | -n`), as Manta serves them:
//! several ranges are refused (501) and an unsatisfiable one gets 416.

use super::error::{Error, Result};

/// An inclusive byte range within an object of known size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ByteRange {
    pub(crate) start: u64,
    pub(crate) end: u64,
}

impl ByteRange {
    /// Bytes in the range (never zero: `start <= end`).
    pub(crate) fn count(&self) -> u64 {
        self.end - self.start + 1
    }
}

/// Parses a `Range` header against an object of `size` bytes. The end is
/// clamped to the last byte (node-manta's resume asks for `a-size`).
///
/// # Errors
/// `MultiRangeNotImplemented` for a list, `RangeNotSatisfiable` for a
/// malformed or unsatisfiable range.
pub(crate) fn parse(header: &str, size: u64) -> Result<ByteRange> {
    let unsatisfiable = || Error::RangeNotSatisfiable { size };
    let spec = header
        .trim()
        .strip_prefix("bytes=")
        .ok_or_else(unsatisfiable)?;
    if spec.contains(',') {
        return Err(Error::MultiRange);
    }
    let (a, b) = spec.split_once('-').ok_or_else(unsatisfiable)?;
    let (a, b) = (a.trim(), b.trim());
    // Digits only: `u64::from_str` would also take a leading `+`, which the
    // grammar (`1*DIGIT`) does not.
    let num = |s: &str| {
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(unsatisfiable());
        }
        s.parse::<u64>().map_err(|_| unsatisfiable())
    };
    let (start, end) = if a.is_empty() {
        let n = num(b)?;
        if n == 0 || size == 0 {
            return Err(unsatisfiable());
        }
        (size.saturating_sub(n), size - 1)
    } else {
        let start = num(a)?;
        let end = if b.is_empty() { u64::MAX } else { num(b)? };
        (start, end.min(size.saturating_sub(1)))
    };
    if start >= size || start > end {
        return Err(unsatisfiable());
    }
    Ok(ByteRange { start, end })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(
            parse("bytes=0-9", 100).unwrap(),
            ByteRange { start: 0, end: 9 }
        );
        assert_eq!(
            parse("bytes=90-", 100).unwrap(),
            ByteRange { start: 90, end: 99 }
        );
        assert_eq!(
            parse("bytes=-10", 100).unwrap(),
            ByteRange { start: 90, end: 99 }
        );
        assert_eq!(
            parse("bytes=-500", 100).unwrap(),
            ByteRange { start: 0, end: 99 }
        );
        assert_eq!(
            parse("bytes=5-100", 100).unwrap(),
            ByteRange { start: 5, end: 99 }
        );
    }

    #[test]
    fn refusals() {
        assert!(matches!(
            parse("bytes=0-1,3-4", 100),
            Err(Error::MultiRange)
        ));
        for bad in [
            "bytes=100-",
            "bytes=5-1",
            "bytes=x-1",
            "items=0-1",
            "bytes=-0",
        ] {
            assert!(
                matches!(
                    parse(bad, 100),
                    Err(Error::RangeNotSatisfiable { size: 100 })
                ),
                "{bad}"
            );
        }
        assert!(parse("bytes=0-0", 0).is_err());
    }
}
