//! Reading the records the utilities left in a task's spool: `<id>.meta`
//! (`key value` lines, renamed into place last, so present means
//! complete) and `<id>.data`. Records are returned in commit order.

use std::time::SystemTime;

use super::config::SpoolLimits;
use super::failure::Failure;
use crate::model::JobErrorCode;
use crate::safe_fs::{read_capped, Confined};

/// What a record asks for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// `mpipe`: the data is an output.
    Output,
    /// `mcat`: `path` is an existing object emitted as an output.
    Reference,
    /// `mtee`: the data is saved at `path`, not an output.
    Save,
    /// `msplit`: the data is partitioned among reducers.
    Split(SplitOptions),
    /// A utility refused its arguments (a relative path).
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SplitOptions {
    pub count: u32,
    pub delim: String,
    /// 1-based field numbers forming the key.
    pub(crate) fields: Vec<usize>,
    /// `-i`: the key is an integer taken modulo `count`.
    pub(crate) int: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    pub kind: Kind,
    /// `<id>.data`, which the task may have replaced by anything.
    pub(crate) data: Confined,
    pub path: Option<String>,
    pub reducer: Option<u32>,
    pub mkdirs: bool,
    pub headers: Vec<(String, String)>,
}

/// More than any honest record's description.
const MAX_META: u64 = 1 << 20;

/// The committed records under `spool`, oldest commit first. Only
/// regular files are read: a symlinked, FIFO or directory `.meta` fails
/// the task, as do more than `limits.max_records` records.
///
/// # Errors
/// The spool cannot be listed (ours), or a record is malformed or refused
/// (the user's: only the utilities should write there).
pub(crate) fn read(spool: &Confined, limits: &SpoolLimits) -> Result<Vec<Record>, Failure> {
    let mut found: Vec<(SystemTime, String, Record)> = Vec::new();
    let names = spool
        .list()
        .map_err(|e| Failure::from_open("list the task spool", e))?;
    for (name, _) in names {
        let Some(id) = name.strip_suffix(".meta") else {
            continue;
        };
        if found.len() >= limits.max_records {
            return Err(Failure::user(
                JobErrorCode::UserTaskError,
                format!(
                    "the task left more than {} spool records",
                    limits.max_records
                ),
            ));
        }
        let refused = |e| Failure::from_open("read a spool record", e);
        let meta = spool.child(&name).map_err(refused)?;
        let file = meta.open_regular(MAX_META).map_err(refused)?;
        // Taken from the descriptor read, not from the name listed.
        let committed = file
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let text = read_capped(file, &meta.shown(), MAX_META)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map_err(refused)?;
        let data = spool.child(&format!("{id}.data")).map_err(refused)?;
        let record = parse(&text, data).map_err(|why| {
            Failure::user(
                JobErrorCode::InvalidArgumentError,
                format!("malformed spool record {name}: {why}"),
            )
        })?;
        found.push((committed, id.to_owned(), record));
    }
    found.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    Ok(found.into_iter().map(|(_, _, r)| r).collect())
}

/// Whether the task's stdout is still its output: not when it used
/// `mpipe`, `mcat` or `msplit`.
pub(crate) fn captures_stdout(records: &[Record]) -> bool {
    !records
        .iter()
        .any(|r| matches!(r.kind, Kind::Output | Kind::Reference | Kind::Split(_)))
}

pub(super) fn parse(text: &str, data: Confined) -> Result<Record, String> {
    let mut record = Record {
        kind: Kind::Output,
        data,
        path: None,
        reducer: None,
        mkdirs: false,
        headers: Vec::new(),
    };
    let (mut kind, mut message) = (None, String::new());
    let mut split = SplitOptions {
        count: 1,
        delim: "\t".into(),
        fields: vec![1],
        int: false,
    };
    // Lines end in `\n` only (`printf '%s %s\n'`): `str::lines` would also
    // eat a `\r` before it, the last byte of a delimiter or a path.
    for line in text.split('\n').filter(|l| !l.is_empty()) {
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        match key {
            "kind" => kind = Some(value.to_owned()),
            "path" => record.path = Some(value.to_owned()),
            "reducer" => record.reducer = Some(number(key, value)?),
            "mkdirs" => record.mkdirs = value == "true",
            "header" => record.headers.push(header(value)?),
            "message" => message = value.to_owned(),
            "count" => split.count = reducer_count(value)?,
            "delim" => split.delim = value.to_owned(),
            "fields" => split.fields = fields(value)?,
            "int" => split.int = value == "true",
            _ => return Err(format!("unknown key {key:?}")),
        }
    }
    record.kind = match kind.as_deref() {
        Some("output") => Kind::Output,
        Some("reference") => Kind::Reference,
        Some("save") => Kind::Save,
        Some("split") => Kind::Split(split),
        Some("invalid") => Kind::Invalid(message),
        other => return Err(format!("unknown kind {other:?}")),
    };
    Ok(record)
}

fn number(key: &str, value: &str) -> Result<u32, String> {
    value
        .parse()
        .map_err(|_| format!("{key}: not a number: {value:?}"))
}

/// More partitions than any phase has reducers would only waste files.
const MAX_REDUCERS: u32 = 1024;

fn reducer_count(value: &str) -> Result<u32, String> {
    match number("count", value)? {
        n @ 1..=MAX_REDUCERS => Ok(n),
        n => Err(format!("count {n} is not in 1..={MAX_REDUCERS}")),
    }
}

/// `Name: value` with the name lower-cased.
fn header(value: &str) -> Result<(String, String), String> {
    let (name, value) = value
        .split_once(':')
        .ok_or_else(|| format!("header {value:?} has no ':'"))?;
    let name = name.trim().to_ascii_lowercase();
    if name.is_empty() {
        return Err("empty header name".into());
    }
    Ok((name, value.trim().to_owned()))
}

fn fields(value: &str) -> Result<Vec<usize>, String> {
    value
        .split(',')
        .map(|f| match f.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(format!("bad field number {f:?}")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Confined {
        Confined::new("/spool", "x.data").unwrap()
    }

    #[test]
    fn parses_an_mpipe_record() {
        let text = "kind output\nmkdirs true\nreducer 2\nheader Content-Type: text/plain\npath /u/stor/a b\n";
        let r = parse(text, data()).unwrap();
        assert_eq!(r.kind, Kind::Output);
        assert_eq!(r.path.as_deref(), Some("/u/stor/a b"));
        assert_eq!(r.reducer, Some(2));
        assert!(r.mkdirs);
        assert_eq!(
            r.headers,
            vec![("content-type".into(), "text/plain".into())]
        );
    }

    #[test]
    fn parses_a_split_record_with_a_tab_delimiter() {
        let text = "kind split\ncount 3\ndelim \t\nfields 2,1\n";
        let r = parse(text, data()).unwrap();
        let Kind::Split(s) = r.kind else {
            panic!("not a split: {:?}", r.kind)
        };
        assert_eq!(
            (s.count, s.delim.as_str(), s.fields, s.int),
            (3, "\t", vec![2, 1], false)
        );
    }

    #[test]
    fn rejects_unknown_keys_and_kinds() {
        assert!(parse("kind output\nbogus 1\n", data()).is_err());
        assert!(parse("kind nope\n", data()).is_err());
    }
}
