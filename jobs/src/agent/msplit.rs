//! `msplit`'s routing, done by the agent after the task exits: each line
//! of the spooled data goes to the partition of its key's reducer.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::spool::SplitOptions;
use crate::model::naming::{msplit_reducer, msplit_reducer_int};

/// Why a split failed.
#[derive(Debug)]
pub(crate) enum SplitError {
    /// `-i` with a key that is not an integer (the user's data).
    NotAnInteger(String),
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

/// Splits `data` into files `<dir>/part.<reducer>`; returns the non-empty
/// ones by reducer. Every line ends with a newline in its partition.
///
/// # Errors
/// I/O errors, or a non-integer key under `-i`.
pub(crate) fn partition(
    data: &Path,
    dir: &Path,
    opts: &SplitOptions,
) -> Result<Vec<(u32, PathBuf)>, SplitError> {
    let mut reader = BufReader::new(std::fs::File::open(data)?);
    let mut parts: Vec<Option<(PathBuf, BufWriter<std::fs::File>)>> = Vec::new();
    parts.resize_with(opts.count as usize, || None);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        let reducer = route(body, opts)?;
        let Some(slot) = parts.get_mut(reducer as usize) else {
            continue;
        };
        if slot.is_none() {
            let path = dir.join(format!("part.{reducer}"));
            let file = std::fs::File::create(&path)?;
            *slot = Some((path, BufWriter::new(file)));
        }
        if let Some((_, out)) = slot {
            out.write_all(body)?;
            out.write_all(b"\n")?;
        }
    }
    let mut done = Vec::new();
    for (reducer, slot) in parts.into_iter().enumerate() {
        if let Some((path, mut out)) = slot {
            out.flush()?;
            done.push((reducer as u32, path));
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
        let data = dir.path().join("data");
        std::fs::write(&data, "apple\t1\npear\t2\napple\t3\nfig\t4").unwrap();
        let o = opts(vec![1], "\t");
        let parts = partition(&data, dir.path(), &o).unwrap();
        let mut lines = 0;
        for (reducer, path) in parts {
            let text = std::fs::read_to_string(path).unwrap();
            for line in text.lines() {
                let k = line.split('\t').next().unwrap();
                assert_eq!(reducer, msplit_reducer(k.as_bytes(), 3));
                lines += 1;
            }
        }
        assert_eq!(lines, 4);
    }
}
