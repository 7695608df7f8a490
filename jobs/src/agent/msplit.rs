//! `msplit`'s routing, done by the agent after the task exits: each line
//! of the spooled data goes to the partition of its key's reducer.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use super::config::SpoolLimits;
use super::spool::SplitOptions;
use crate::model::naming::{msplit_reducer, msplit_reducer_int};
use crate::safe_fs::{Confined, OpenError};

/// Why a split failed.
#[derive(Debug)]
pub(crate) enum SplitError {
    /// `-i` with a key that is not an integer (the user's data).
    NotAnInteger(String),
    /// A line longer than the cap (the user's data).
    LineTooLong(u64),
    /// The data file is not one the agent reads (the user's, unless it is
    /// an I/O error).
    Open(OpenError),
    Io(std::io::Error),
}

impl From<std::io::Error> for SplitError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// The key of `line`: its selected fields joined by the delimiter (a
/// missing field is empty).
pub(crate) fn key<'a>(line: &'a [u8], opts: &SplitOptions) -> Vec<u8> {
    let delim = opts.delim.as_bytes();
    let parts: Vec<&'a [u8]> = split(line, delim);
    let mut key = Vec::new();
    for (i, field) in opts.fields.iter().enumerate() {
        if i > 0 {
            key.extend_from_slice(delim);
        }
        if let Some(part) = field.checked_sub(1).and_then(|n| parts.get(n)) {
            key.extend_from_slice(part);
        }
    }
    key
}

fn split<'a>(line: &'a [u8], delim: &[u8]) -> Vec<&'a [u8]> {
    if delim.is_empty() {
        return vec![line];
    }
    let mut parts = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.windows(delim.len()).position(|w| w == delim) {
        parts.push(&rest[..at]);
        rest = &rest[at + delim.len()..];
    }
    parts.push(rest);
    parts
}

/// The reducer of `line`.
///
/// # Errors
/// [`SplitError::NotAnInteger`] for `-i` with a non-integer key.
pub(crate) fn route(line: &[u8], opts: &SplitOptions) -> Result<u32, SplitError> {
    let key = key(line, opts);
    if !opts.int {
        return Ok(msplit_reducer(&key, opts.count));
    }
    let text = String::from_utf8_lossy(&key);
    msplit_reducer_int(&text, opts.count).ok_or_else(|| SplitError::NotAnInteger(text.into()))
}

/// Splits `data` (a spool file, refused unless regular and within
/// `limits`) into files `<dir>/part.<reducer>`; returns the names of the
/// non-empty ones by reducer. Every line ends with a newline in its
/// partition.
///
/// # Errors
/// I/O errors, a refused data file, a line over the cap, or a non-integer
/// key under `-i`.
pub(crate) fn partition(
    data: &Confined,
    dir: &Path,
    opts: &SplitOptions,
    limits: &SpoolLimits,
) -> Result<Vec<(u32, String)>, SplitError> {
    let file = data
        .open_regular(limits.max_output_bytes)
        .map_err(SplitError::Open)?;
    let mut reader = BufReader::new(file.take(limits.max_output_bytes));
    let mut parts: Vec<Option<(String, BufWriter<std::fs::File>)>> = Vec::new();
    parts.resize_with(opts.count as usize, || None);
    let mut line = Vec::new();
    let max_line = limits.max_line_bytes;
    loop {
        line.clear();
        // Bounded: one line with no newline must not take all memory.
        let read = (&mut reader)
            .take(max_line.saturating_add(1))
            .read_until(b'\n', &mut line)?;
        if read == 0 {
            break;
        }
        // At most `max_line` bytes and the newline.
        if line.len() as u64 > max_line && line.last() != Some(&b'\n') {
            return Err(SplitError::LineTooLong(max_line));
        }
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        let reducer = route(body, opts)?;
        let Some(slot) = parts.get_mut(reducer as usize) else {
            continue;
        };
        if slot.is_none() {
            let name = format!("part.{reducer}");
            let file = std::fs::File::create(dir.join(&name))?;
            *slot = Some((name, BufWriter::new(file)));
        }
        if let Some((_, out)) = slot {
            out.write_all(body)?;
            out.write_all(b"\n")?;
        }
    }
    let mut done = Vec::new();
    for (reducer, slot) in parts.into_iter().enumerate() {
        if let Some((name, mut out)) = slot {
            out.flush()?;
            done.push((reducer as u32, name));
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(fields: Vec<usize>, delim: &str) -> SplitOptions {
        SplitOptions {
            count: 3,
            delim: delim.into(),
            fields,
            int: false,
        }
    }

    #[test]
    fn key_joins_selected_fields() {
        assert_eq!(key(b"a\tb\tc", &opts(vec![1], "\t")), b"a");
        assert_eq!(key(b"a,b,c", &opts(vec![3, 1], ",")), b"c,a");
        assert_eq!(key(b"a", &opts(vec![2], "\t")), b"");
    }

    #[test]
    fn int_keys_are_taken_modulo() {
        let mut o = opts(vec![1], " ");
        o.int = true;
        assert_eq!(route(b"7 x", &o).unwrap(), 1);
        assert!(matches!(
            route(b"x 7", &o),
            Err(SplitError::NotAnInteger(_))
        ));
    }

    #[test]
    fn partitions_by_md5_of_the_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("data"),
            "apple\t1\npear\t2\napple\t3\nfig\t4",
        )
        .unwrap();
        let data = Confined::new(dir.path(), "data").unwrap();
        let o = opts(vec![1], "\t");
        let parts = partition(&data, dir.path(), &o, &SpoolLimits::default()).unwrap();
        let mut lines = 0;
        for (reducer, name) in parts {
            let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
            for line in text.lines() {
                let k = line.split('\t').next().unwrap();
                assert_eq!(reducer, msplit_reducer(k.as_bytes(), 3));
                lines += 1;
            }
        }
        assert_eq!(lines, 4);
    }

    #[test]
    fn a_line_over_the_cap_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("data"), "short\n0123456789abcdef\n").unwrap();
        let data = Confined::new(dir.path(), "data").unwrap();
        let limits = SpoolLimits {
            max_line_bytes: 8,
            ..SpoolLimits::default()
        };
        let err = partition(&data, dir.path(), &opts(vec![1], "\t"), &limits).unwrap_err();
        assert!(matches!(err, SplitError::LineTooLong(8)), "{err:?}");
        std::os::unix::fs::symlink("/etc/hostname", dir.path().join("link")).unwrap();
        let link = Confined::new(dir.path(), "link").unwrap();
        let err = partition(&link, dir.path(), &opts(vec![1], "\t"), &limits).unwrap_err();
        assert!(
            matches!(&err, SplitError::Open(e) if e.is_refusal()),
            "{err:?}"
        );
    }
}
