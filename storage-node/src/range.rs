//! `Range: bytes=...` for a single range, resolved against a blob's size.
//!
//! Only one range is served: multi-range requests and malformed headers are
//! ignored (the whole blob is sent), which RFC 9110 section 14.2 permits.

/// What to send for a request's `Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    /// No usable range: send everything with 200.
    Whole,
    /// Send `[start, end]` (inclusive) with 206.
    Part { start: u64, end: u64 },
    /// A valid range that selects no byte: 416.
    Unsatisfiable,
}

/// Resolves `header` (the `Range` value) against `size` bytes.
pub fn resolve(header: &str, size: u64) -> Resolved {
    let Some(spec) = strip_unit(header.trim()) else {
        return Resolved::Whole;
    };
    if spec.contains(',') {
        return Resolved::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Resolved::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        return suffix(last, size);
    }
    let Some(start) = number(first) else {
        return Resolved::Whole;
    };
    let end = if last.is_empty() {
        u64::MAX
    } else {
        match number(last) {
            Some(end) if end >= start => end,
            _ => return Resolved::Whole,
        }
    };
    if start >= size {
        return Resolved::Unsatisfiable;
    }
    Resolved::Part {
        start,
        end: end.min(size - 1),
    }
}

/// `-n`: the last n bytes.
fn suffix(n: &str, size: u64) -> Resolved {
    match number(n) {
        Some(0) => Resolved::Unsatisfiable,
        Some(_) if size == 0 => Resolved::Unsatisfiable,
        Some(n) => Resolved::Part {
            start: size - n.min(size),
            end: size - 1,
        },
        None => Resolved::Whole,
    }
}

/// `1*DIGIT`: `u64::from_str` would also take a leading `+`.
fn number(s: &str) -> Option<u64> {
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn strip_unit(h: &str) -> Option<&str> {
    let (unit, rest) = h.split_once('=')?;
    unit.trim().eq_ignore_ascii_case("bytes").then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::Resolved::*;
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(resolve("bytes=0-9", 100), Part { start: 0, end: 9 });
        assert_eq!(resolve("bytes=90-200", 100), Part { start: 90, end: 99 });
        assert_eq!(resolve("bytes=10-", 100), Part { start: 10, end: 99 });
        assert_eq!(resolve("bytes=-10", 100), Part { start: 90, end: 99 });
        assert_eq!(resolve("bytes=-1000", 100), Part { start: 0, end: 99 });
        assert_eq!(resolve("Bytes = 5-5", 100), Part { start: 5, end: 5 });
    }

    #[test]
    fn unsatisfiable() {
        assert_eq!(resolve("bytes=100-", 100), Unsatisfiable);
        assert_eq!(resolve("bytes=100-200", 100), Unsatisfiable);
        assert_eq!(resolve("bytes=-0", 100), Unsatisfiable);
        assert_eq!(resolve("bytes=0-", 0), Unsatisfiable);
        assert_eq!(resolve("bytes=-5", 0), Unsatisfiable);
    }

    #[test]
    fn ignored() {
        for h in [
            "items=0-1",
            "bytes=5-1",
            "bytes=0-1,3-4",
            "bytes=x-",
            "bytes=-y",
            "bytes=",
            "bytes=5",
        ] {
            assert_eq!(resolve(h, 100), Whole, "{h}");
        }
    }
}
