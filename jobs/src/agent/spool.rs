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
    /// Joins the key's parts (and splits a text line into fields).
    pub delim: String,
    /// What a line's key is made of.
    pub(crate) key: SplitKey,
    /// `-i`: the key is the reducer's index, not hashed.
    pub(crate) int: bool,
    /// `-z`: every partition is gzip-compressed (all `count` of them).
    pub(crate) gzip: bool,
}

/// How `msplit` finds a line's key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SplitKey {
    /// Text (`-f 1,3`): 1-based field numbers.
    Fields(Vec<usize>),
    /// `-j -f a,b.c`: fields of the line's JSON object (a dotted name
    /// walks into nested objects, as Manta's).
    Json(Vec<String>),
    /// `-e`: `node` computed each line's reducer inside the container;
    /// every data line is `<reducer> <line>`.
    Routed,
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
        key: SplitKey::Routed,
        int: false,
        gzip: false,
    };
    let (mut fields, mut json, mut routed) = (None, false, false);
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
            "fields" => fields = Some(value.to_owned()),
            "json" => json = value == "true",
            "routed" => routed = value == "true",
            "int" => split.int = value == "true",
            "gzip" => split.gzip = value == "true",
            _ => return Err(format!("unknown key {key:?}")),
        }
    }
    record.kind = match kind.as_deref() {
        Some("output") => Kind::Output,
        Some("reference") => Kind::Reference,
        Some("save") => Kind::Save,
        Some("split") => {
            split.key = split_key(fields.as_deref(), json, routed)?;
            Kind::Split(split)
        }
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

/// More key fields than anyone names; each costs a lookup per line.
pub(crate) const MAX_FIELDS: usize = 1024;

/// The key of a split record: `routed` (`-e`) needs no fields, `json`
/// (`-j`) needs names, text takes numbers (default field 1).
fn split_key(fields: Option<&str>, json: bool, routed: bool) -> Result<SplitKey, String> {
    if routed {
        return Ok(SplitKey::Routed);
    }
    let list: Vec<&str> = fields.map_or_else(Vec::new, |f| f.split(',').collect());
    if list.len() > MAX_FIELDS {
        return Err(format!("more than {MAX_FIELDS} fields"));
    }
    if json {
        if list.is_empty() {
            return Err("-j without fields".into());
        }
        return Ok(SplitKey::Json(
            list.into_iter().map(str::to_owned).collect(),
        ));
    }
    if list.is_empty() {
        return Ok(SplitKey::Fields(vec![1]));
    }
    list.into_iter()
        .map(|f| match f.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(format!("bad field number {f:?}")),
        })
        .collect::<Result<_, _>>()
        .map(SplitKey::Fields)
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
            (s.count, s.delim.as_str(), s.key, s.int, s.gzip),
            (3, "\t", SplitKey::Fields(vec![2, 1]), false, false)
        );
    }

    #[test]
    fn parses_json_routed_and_gzip_split_records() {
        let split = |text: &str| match parse(text, data()).map(|r| r.kind) {
            Ok(Kind::Split(s)) => Ok(s),
            Ok(other) => panic!("not a split: {other:?}"),
            Err(e) => Err(e),
        };
        let s = split("kind split\ncount 2\nfields id,a.b c\njson true\ngzip true\n").unwrap();
        assert_eq!(s.key, SplitKey::Json(vec!["id".into(), "a.b c".into()]));
        assert!(s.gzip);
        let s = split("kind split\ncount 2\nrouted true\nfields x\n").unwrap();
        assert_eq!(s.key, SplitKey::Routed);
        assert_eq!(
            split("kind split\n").unwrap().key,
            SplitKey::Fields(vec![1])
        );
        assert!(split("kind split\njson true\n").is_err());
        assert!(split("kind split\nfields a\n").is_err());
        let many = vec!["1"; MAX_FIELDS + 1].join(",");
        assert!(split(&format!("kind split\nfields {many}\n")).is_err());
    }

    #[test]
    fn rejects_unknown_keys_and_kinds() {
        assert!(parse("kind output\nbogus 1\n", data()).is_err());
        assert!(parse("kind nope\n", data()).is_err());
    }
}
