//! `msplit`'s routing, done by the agent after the task exits: each line
//! of the spooled data goes to the partition of its key's reducer, as
//! Manta's `msplit` (manta-compute-bin) routes it. Lines end at `\n`,
//! `\r\n` or a lone `\r` (Manta's `lstream`) and go out ending in `\n`.
//! The key: text fields (`-f 1,3`), JSON fields (`-j -f a,b`, built here
//! from the parsed line, `msplit_js.rs`), or, for `-e`, the reducer `node`
//! computed inside the container (the data lines are then `<reducer>
//! <line>`: the agent only checks and strips that prefix). The key is
//! hashed as it is built (MD5, first 32 bits modulo the reducers), or under
//! `-i` read as the reducer's index. `-z` gzips every partition.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use flate2::write::GzEncoder;
use md5::{Digest, Md5};

use super::config::SpoolLimits;
use super::msplit_js::{json_key, number, parse_int, JsonKeyError, KeySink, MAX_JSON_VALUES};
use super::spool::{SplitKey, SplitOptions};
use crate::model::naming::msplit_reducer_of_digest;
use crate::safe_fs::{Confined, OpenError};

/// Why a split failed.
#[derive(Debug)]
pub(crate) enum SplitError {
    /// The user's data: a message as Manta's `msplit` would print it.
    User(String),
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

/// How much of a line or key an error message shows.
const SHOWN: usize = 256;
/// How much of a key `-i` reads (`parseInt` stops at the first non-digit).
const KEY_HEAD: usize = 4096;

fn shown(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(SHOWN)];
    let mut s = String::from_utf8_lossy(cut).into_owned();
    if bytes.len() > SHOWN {
        s.push_str("...");
    }
    s
}

/// A key as routing needs it: hashed as it grows, with its first
/// [`KEY_HEAD`] bytes kept for `-i` and messages. A key can be far larger
/// than its line (`-f 1,1,1,...`), so it is never held whole.
struct HashedKey {
    md5: Md5,
    len: u64,
    head: Vec<u8>,
}

impl HashedKey {
    fn new() -> Self {
        Self {
            md5: Md5::new(),
            len: 0,
            head: Vec::new(),
        }
    }

    /// Whether only part of the key is in `head`.
    fn truncated(&self) -> bool {
        self.len > self.head.len() as u64
    }
}

impl KeySink for HashedKey {
    fn push(&mut self, bytes: &[u8]) {
        self.md5.update(bytes);
        self.len += bytes.len() as u64;
        let room = KEY_HEAD.saturating_sub(self.head.len());
        self.head.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
    fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The text key of `line` (Manta's `parseLikeCut`): its selected fields
/// that exist and are not empty, joined by the delimiter.
fn text_key(line: &[u8], delim: &str, fields: &[usize], sink: &mut dyn KeySink) {
    let delim = delim.as_bytes();
    let parts = split(line, delim);
    for field in fields {
        let Some(part) = field.checked_sub(1).and_then(|n| parts.get(n)) else {
            continue;
        };
        if part.is_empty() {
            continue;
        }
        if !sink.is_empty() {
            sink.push(delim);
        }
        sink.push(part);
    }
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

/// Builds the key of `line` into `sink` (not for [`SplitKey::Routed`],
/// whose lines carry their reducer).
fn build_key(line: &[u8], opts: &SplitOptions, sink: &mut dyn KeySink) -> Result<(), SplitError> {
    match &opts.key {
        SplitKey::Fields(fields) => text_key(line, &opts.delim, fields, sink),
        SplitKey::Json(names) => json_key(line, names, &opts.delim, sink).map_err(|e| {
            SplitError::User(match e {
                JsonKeyError::NotJson => {
                    format!("msplit: error: input is not json: {}", shown(line))
                }
                JsonKeyError::Null(message) => format!("msplit: {message}"),
                JsonKeyError::TooBig => format!(
                    "msplit: a JSON record with more than {MAX_JSON_VALUES} values: {}",
                    shown(line)
                ),
            })
        })?,
        SplitKey::Routed => {}
    }
    Ok(())
}

/// The whole key of `line` (for tests; routing hashes it as it goes).
///
/// # Errors
/// A `-j` line that is not JSON or is `null`.
#[cfg(test)]
pub(crate) fn key(line: &[u8], opts: &SplitOptions) -> Result<Vec<u8>, SplitError> {
    let mut key = Vec::new();
    build_key(line, opts, &mut key)?;
    Ok(key)
}

/// `-i`: the key names the reducer (Manta's `selectReducerByInt`).
fn reducer_by_int(key: &HashedKey, line: &[u8], count: u32) -> Result<u32, SplitError> {
    let text = String::from_utf8_lossy(&key.head);
    let parsed = parse_int(&text);
    // A number longer than the kept head is out of range anyway.
    let digits_only = text
        .trim()
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'-' || b == b'+');
    match parsed {
        Some(n) if n >= 0.0 && n < f64::from(count) && !(key.truncated() && digits_only) => {
            Ok(n as u32)
        }
        _ => Err(SplitError::User(format!(
            "msplit: Parsed {} as {} out of line: {}\nWhich is not a number or not within the valid range of reducers.",
            shown(&key.head),
            parsed.map_or_else(|| "NaN".to_owned(), number),
            shown(line)
        ))),
    }
}

/// The reducer of `line` (a line of the split data, without its end).
///
/// # Errors
/// [`SplitError::User`] for a bad `-j` line, an `-i` key out of range, or
/// a `-e` line without a valid reducer prefix.
pub(crate) fn route(line: &[u8], opts: &SplitOptions) -> Result<u32, SplitError> {
    if opts.key == SplitKey::Routed {
        return routed(line, opts.count).map(|(r, _)| r);
    }
    let mut key = HashedKey::new();
    build_key(line, opts, &mut key)?;
    if opts.int {
        return reducer_by_int(&key, line, opts.count);
    }
    Ok(msplit_reducer_of_digest(
        key.md5.finalize().into(),
        opts.count,
    ))
}

/// A `-e` data line, `<reducer> <line>`: the reducer `node` chose in the
/// container, checked against `count`, and the line.
fn routed(line: &[u8], count: u32) -> Result<(u32, &[u8]), SplitError> {
    let bad = || SplitError::User(format!("msplit: malformed routed line: {}", shown(line)));
    let at = line.iter().position(|&b| b == b' ').ok_or_else(bad)?;
    let digits = &line[..at];
    if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let reducer: u32 = std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse().ok())
        .filter(|&r| r < count)
        .ok_or_else(bad)?;
    Ok((reducer, &line[at + 1..]))
}

/// Where one reducer's lines go.
enum Sink {
    Plain(BufWriter<File>),
    Gzip(GzEncoder<BufWriter<File>>),
}

impl Sink {
    fn create(path: &Path, gzip: bool) -> std::io::Result<Self> {
        let file = BufWriter::new(File::create(path)?);
        Ok(if gzip {
            // As node's zlib writes it: level 6, no name, mtime 0, OS unix.
            Self::Gzip(
                flate2::GzBuilder::new()
                    .operating_system(3)
                    .write(file, flate2::Compression::default()),
            )
        } else {
            Self::Plain(file)
        })
    }

    fn write_line(&mut self, line: &[u8]) -> std::io::Result<()> {
        let out: &mut dyn Write = match self {
            Self::Plain(w) => w,
            Self::Gzip(w) => w,
        };
        out.write_all(line)?;
        out.write_all(b"\n")
    }

    fn finish(self) -> std::io::Result<()> {
        match self {
            Self::Plain(mut w) => w.flush(),
            Self::Gzip(w) => w.finish()?.flush(),
        }
    }
}

/// Reads `reader` line by line as Manta's `lstream` did (`\n`, `\r\n` or
/// a lone `\r` end a line; a last line without an end counts unless
/// empty), each physical line (up to `\n`) at most `max_line` bytes, and
/// calls `f` on every line. `cr_lines`: whether `\r` ends lines (not in
/// routed data, whose lines `node` already split).
fn for_each_line(
    reader: &mut impl BufRead,
    max_line: u64,
    cr_lines: bool,
    mut f: impl FnMut(&[u8]) -> Result<(), SplitError>,
) -> Result<(), SplitError> {
    let mut line = Vec::new();
    loop {
        line.clear();
        // Bounded: one line with no newline must not take all memory.
        let read = (&mut *reader)
            .take(max_line.saturating_add(1))
            .read_until(b'\n', &mut line)?;
        if read == 0 {
            return Ok(());
        }
        // At most `max_line` bytes and the newline.
        let ended = line.last() == Some(&b'\n');
        if line.len() as u64 > max_line && !ended {
            return Err(SplitError::LineTooLong(max_line));
        }
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        if !cr_lines {
            if ended || !body.is_empty() {
                f(body)?;
            }
            continue;
        }
        let body = if ended {
            body.strip_suffix(b"\r").unwrap_or(body)
        } else {
            body
        };
        let mut pieces = body.split(|&b| b == b'\r').peekable();
        while let Some(piece) = pieces.next() {
            let last = pieces.peek().is_none();
            // Text after the last end of line is a line unless empty.
            if last && !ended && piece.is_empty() {
                continue;
            }
            f(piece)?;
        }
    }
}

/// Splits `data` (a spool file, refused unless regular and within
/// `limits`) into files `<dir>/part.<reducer>`; returns the names of the
/// non-empty ones by reducer (under `-z`, of all `count`: each is a gzip
/// stream, as Manta uploaded one per reducer, so a reducer never reads
/// an empty, invalid gzip input).
///
/// # Errors
/// I/O errors, a refused data file, a line over the cap, or the user's
/// data (a bad key, see [`route`]).
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
    let mut parts: Vec<Option<(String, Sink)>> = Vec::new();
    parts.resize_with(opts.count as usize, || None);
    let open = |reducer: usize| -> std::io::Result<(String, Sink)> {
        let name = format!("part.{reducer}");
        let sink = Sink::create(&dir.join(&name), opts.gzip)?;
        Ok((name, sink))
    };
    if opts.gzip {
        for (reducer, slot) in parts.iter_mut().enumerate() {
            *slot = Some(open(reducer)?);
        }
    }
    let is_routed = opts.key == SplitKey::Routed;
    for_each_line(&mut reader, limits.max_line_bytes, !is_routed, |line| {
        let (reducer, body) = if is_routed {
            routed(line, opts.count)?
        } else {
            (route(line, opts)?, line)
        };
        let Some(slot) = parts.get_mut(reducer as usize) else {
            return Ok(());
        };
        if slot.is_none() {
            *slot = Some(open(reducer as usize)?);
        }
        if let Some((_, out)) = slot {
            out.write_line(body)?;
        }
        Ok(())
    })?;
    let mut done = Vec::new();
    for (reducer, slot) in parts.into_iter().enumerate() {
        if let Some((name, out)) = slot {
            out.finish()?;
            done.push((reducer as u32, name));
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::naming::msplit_reducer;

    fn opts(fields: Vec<usize>, delim: &str) -> SplitOptions {
        SplitOptions {
            count: 3,
            delim: delim.into(),
            key: SplitKey::Fields(fields),
            int: false,
            gzip: false,
        }
    }

    fn json(fields: &[&str], count: u32) -> SplitOptions {
        SplitOptions {
            count,
            delim: "\t".into(),
            key: SplitKey::Json(fields.iter().map(|f| (*f).to_owned()).collect()),
            int: false,
            gzip: false,
        }
    }

    fn text(k: Result<Vec<u8>, SplitError>) -> String {
        String::from_utf8(k.unwrap()).unwrap()
    }

    #[test]
    fn text_keys_skip_missing_and_empty_fields_as_manta() {
        assert_eq!(text(key(b"a\tb\tc", &opts(vec![1], "\t"))), "a");
        assert_eq!(text(key(b"a,b,c", &opts(vec![3, 1], ","))), "c,a");
        assert_eq!(text(key(b"a", &opts(vec![2], "\t"))), "");
        // parseLikeCut: `if (!parts[i]) continue; if (key) key += delim`.
        assert_eq!(text(key(b"a", &opts(vec![1, 2], "\t"))), "a");
        assert_eq!(text(key(b"\tb", &opts(vec![1, 2], "\t"))), "b");
        assert_eq!(text(key(b"a\t\tc", &opts(vec![1, 2, 3], "\t"))), "a\tc");
    }

    #[test]
    fn json_keys_are_built_as_manta_builds_them() {
        let k = |line: &str, fields: &[&str]| text(key(line.as_bytes(), &json(fields, 2)));
        assert_eq!(k(r#"{"x":1}"#, &["x"]), "1");
        assert_eq!(k(r#"{"id":"a","type":"b"}"#, &["id", "type"]), "a\tb");
        assert_eq!(k(r#"{"id":"a"}"#, &["type", "id"]), "a");
        assert_eq!(k(r#"{"a":{"b":{"c":7}}}"#, &["a.b.c"]), "7");
        assert_eq!(k(r#"{"a":{"b":1}}"#, &["a.x"]), "");
        // Values as JavaScript writes them.
        assert_eq!(
            k(
                r#"{"n":1.0,"m":1e21,"s":1e-7,"t":0.1}"#,
                &["n", "m", "s", "t"]
            ),
            "1\t1e+21\t1e-7\t0.1"
        );
        assert_eq!(
            k(
                r#"{"v":null,"w":true,"o":{"a":1},"l":[1,null,[2,3]]}"#,
                &["v", "w", "o", "l"]
            ),
            "null\ttrue\t[object Object]\t1,,2,3"
        );
        assert_eq!(
            k(r#"{"big":12345678901234567890}"#, &["big"]),
            "12345678901234567000"
        );
        // A falsy value stops the walk and is the datum; an empty string
        // adds no delimiter.
        assert_eq!(k(r#"{"a":0}"#, &["a.b"]), "0");
        assert_eq!(k(r#"{"a":"","b":"x"}"#, &["a", "b"]), "x");
        // Strings and arrays have a length and indexed elements.
        assert_eq!(
            k(
                r#"{"s":"hello","l":[5,6]}"#,
                &["s.length", "s.1", "l.1", "l.length", "s.01"]
            ),
            "5\te\t6\t2"
        );
        assert_eq!(k(r#"[4,5]"#, &["1"]), "5");
        assert_eq!(k(r#""text""#, &["x"]), "");
        let err = |line: &str| match key(line.as_bytes(), &json(&["x"], 2)) {
            Err(SplitError::User(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(err("{x:1}"), "msplit: error: input is not json: {x:1}");
        assert!(err("null").contains("TypeError"), "{}", err("null"));
        assert!(err("").contains("TypeError"));
    }

    #[test]
    fn js_numbers_print_as_javascript_does() {
        for (x, s) in [
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (123_456_789.0, "123456789"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e300, "1.5e+300"),
            (0.000_001, "0.000001"),
            (1e-7, "1e-7"),
            (1.25e-8, "1.25e-8"),
            (0.1 + 0.2, "0.30000000000000004"),
            (5e-324, "5e-324"),
        ] {
            assert_eq!(number(x), s, "{x:e}");
        }
    }

    /// Manta's own `msplit` tests (manta-compute-bin test/msplit.test.js).
    #[test]
    fn routes_as_mantas_tests_expect() {
        let two = |mut o: SplitOptions| {
            o.count = 2;
            o
        };
        let r = |line: &str, o: &SplitOptions| route(line.as_bytes(), o).unwrap();
        // testBasic
        for (line, want) in [("1", 0), ("2", 1), ("3", 0), ("4", 1)] {
            assert_eq!(r(line, &two(opts(vec![1], "\t"))), want);
        }
        // testBasicAltField: -f 3 -d ,
        for (line, want) in [("1,2,3", 0), ("1,2,2", 1), ("1,1,1", 0), ("1,3,4", 1)] {
            assert_eq!(r(line, &two(opts(vec![3], ","))), want);
        }
        // testBasicJson: -j -f x
        for (line, want) in [
            (r#"{"x":1}"#, 0),
            (r#"{"x":2}"#, 1),
            (r#"{"x":3}"#, 0),
            (r#"{"x":4}"#, 1),
        ] {
            assert_eq!(r(line, &json(&["x"], 2)), want);
        }
    }

    #[test]
    fn int_keys_must_name_a_reducer() {
        let mut o = opts(vec![1], " ");
        o.int = true;
        assert_eq!(route(b"2 x", &o).unwrap(), 2);
        assert_eq!(route(b"1abc x", &o).unwrap(), 1);
        for bad in [&b"3 x"[..], b"x 1", b"-1", b""] {
            match route(bad, &o) {
                Err(SplitError::User(m)) => assert!(m.starts_with("msplit: Parsed "), "{m}"),
                other => panic!("{other:?}"),
            }
        }
        let mut j = json(&["r"], 4);
        j.int = true;
        assert_eq!(route(br#"{"r":3}"#, &j).unwrap(), 3);
        assert!(route(br#"{"r":4}"#, &j).is_err());
    }

    #[test]
    fn hashing_as_it_goes_equals_hashing_the_key() {
        let o = opts(vec![2, 1, 2, 3], ",");
        for line in ["a,b,c", "x", ",,", "k,v", "é,ü,ß"] {
            let k = key(line.as_bytes(), &o).unwrap();
            assert_eq!(
                route(line.as_bytes(), &o).unwrap(),
                msplit_reducer(&k, 3),
                "{line}"
            );
        }
    }

    fn split_file(body: &[u8], o: &SplitOptions) -> Vec<(u32, Vec<u8>)> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("data"), body).unwrap();
        let data = Confined::new(dir.path(), "data").unwrap();
        let parts = partition(&data, dir.path(), o, &SpoolLimits::default()).unwrap();
        parts
            .into_iter()
            .map(|(r, name)| (r, std::fs::read(dir.path().join(name)).unwrap()))
            .collect()
    }

    #[test]
    fn partitions_by_md5_of_the_key() {
        let parts = split_file(b"apple\t1\npear\t2\napple\t3\nfig\t4", &opts(vec![1], "\t"));
        let mut lines = 0;
        for (reducer, text) in parts {
            for line in String::from_utf8(text).unwrap().lines() {
                let k = line.split('\t').next().unwrap();
                assert_eq!(reducer, msplit_reducer(k.as_bytes(), 3));
                lines += 1;
            }
        }
        assert_eq!(lines, 4);
    }

    #[test]
    fn lines_end_as_lstream_ends_them() {
        let mut o = opts(vec![1], "\t");
        o.count = 1;
        let all = |body: &[u8]| {
            split_file(body, &o)
                .into_iter()
                .map(|(_, t)| t)
                .collect::<Vec<_>>()
                .concat()
        };
        assert_eq!(all(b"a\r\nb\rc\n\nd"), b"a\nb\nc\n\nd\n");
        assert_eq!(all(b"a\r"), b"a\n");
        assert_eq!(all(b"a\r\r\n"), b"a\n\n");
        assert_eq!(all(b""), b"");
        assert_eq!(all(b"\n"), b"\n");
    }

    #[test]
    fn routed_lines_go_where_node_said() {
        let o = SplitOptions {
            count: 2,
            delim: "\t".into(),
            key: SplitKey::Routed,
            int: false,
            gzip: false,
        };
        let parts = split_file(b"1 one\r\n0 zero\n1 \n0 a b\n", &o);
        assert_eq!(
            parts,
            vec![(0, b"zero\na b\n".to_vec()), (1, b"one\r\n\n".to_vec())]
        );
        for bad in [
            &b"2 x\n"[..],
            b"x\n",
            b" x\n",
            b"01234567890 x\n",
            b"-1 x\n",
        ] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("data"), bad).unwrap();
            let data = Confined::new(dir.path(), "data").unwrap();
            let err = partition(&data, dir.path(), &o, &SpoolLimits::default()).unwrap_err();
            assert!(
                matches!(&err, SplitError::User(m) if m.contains("malformed")),
                "{err:?}"
            );
        }
    }

    /// testBasicGzCompress: `-n 2 -z` over `1\n2\n3\n4\n` gives the bytes
    /// Manta's test expects (node's zlib), one gzip stream per reducer.
    #[test]
    fn gzip_partitions_match_mantas_test_data() {
        let mut o = opts(vec![1], "\t");
        o.count = 2;
        o.gzip = true;
        let parts = split_file(b"1\n2\n3\n4\n", &o);
        let gunzip = |z: &[u8]| {
            let mut s = String::new();
            flate2::read::GzDecoder::new(z)
                .read_to_string(&mut s)
                .unwrap();
            s
        };
        assert_eq!(parts.len(), 2);
        assert_eq!(gunzip(&parts[0].1), "1\n3\n");
        assert_eq!(gunzip(&parts[1].1), "2\n4\n");
        let manta0 = [
            0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03, 0x33, 0xe4, 0x32, 0xe6, 0x02, 0, 0x20, 0x49,
            0xfa, 0x70, 0x04, 0, 0, 0,
        ];
        assert_eq!(parts[0].1, manta0);
        // Every reducer gets a valid (here empty) gzip stream.
        o.count = 3;
        let parts = split_file(b"", &o);
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|(_, z)| gunzip(z).is_empty()));
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
