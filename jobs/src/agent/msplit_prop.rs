//! Properties of `msplit` and of the spool records the utilities write: any
//! record text is refused or parsed, never a panic; a record written as
//! `spool.sh` writes it parses back to what was asked; and partitioning
//! puts every line, once, in the partition of its key's reducer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::msplit::{key, partition, route, SplitError};
use super::spool::{parse, Kind, SplitKey, SplitOptions};
use crate::agent::config::SpoolLimits;
use crate::safe_fs::Confined;
use client_sdk::prop::{config, edits, mutate_str};
use proptest::prelude::*;

/// `spool_meta KEY VALUE`: `printf '%s %s\n'`.
fn meta(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k} {v}\n")).collect()
}

/// Keys `msplit.sh` lets through: field numbers, JSON field names (one
/// line, no comma), or routed by `node`.
fn split_key() -> impl Strategy<Value = SplitKey> {
    prop_oneof![
        proptest::collection::vec(1usize..10, 1..4).prop_map(SplitKey::Fields),
        proptest::collection::vec("[^\n,]{0,6}", 1..4).prop_map(SplitKey::Json),
        Just(SplitKey::Routed),
    ]
}

/// What `msplit.sh` lets through: a delimiter is one non-empty line.
fn options() -> impl Strategy<Value = SplitOptions> {
    (
        1u32..=1024,
        "[^\n]{1,4}",
        split_key(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(count, delim, key, int, gzip)| SplitOptions {
            count,
            delim,
            key,
            int,
            gzip,
        })
}

/// Text options (field numbers), as most properties below need.
fn text_options() -> impl Strategy<Value = SplitOptions> {
    (options(), proptest::collection::vec(1usize..10, 1..4)).prop_map(|(mut o, fields)| {
        o.key = SplitKey::Fields(fields);
        o
    })
}

fn split_record(o: &SplitOptions) -> String {
    let count = o.count.to_string();
    let fields = match &o.key {
        SplitKey::Fields(f) => f.iter().map(usize::to_string).collect::<Vec<_>>().join(","),
        SplitKey::Json(names) => names.join(","),
        SplitKey::Routed => String::new(),
    };
    let mut pairs = vec![
        ("kind", "split"),
        ("count", count.as_str()),
        ("delim", o.delim.as_str()),
    ];
    match &o.key {
        SplitKey::Fields(_) => pairs.push(("fields", fields.as_str())),
        SplitKey::Json(_) => {
            pairs.push(("fields", fields.as_str()));
            pairs.push(("json", "true"));
        }
        SplitKey::Routed => pairs.push(("routed", "true")),
    }
    if o.int {
        pairs.push(("int", "true"));
    }
    if o.gzip {
        pairs.push(("gzip", "true"));
    }
    meta(&pairs)
}

fn check_record(text: &str) -> Result<(), TestCaseError> {
    if let Ok(r) = parse(text, Confined::new("/spool", "x.data").unwrap()) {
        if let Kind::Split(o) = r.kind {
            prop_assert!((1..=1024).contains(&o.count));
            match o.key {
                SplitKey::Fields(f) => prop_assert!(!f.is_empty() && f.iter().all(|&f| f >= 1)),
                SplitKey::Json(names) => prop_assert!(!names.is_empty()),
                SplitKey::Routed => {}
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn junk_records_never_panic(s in any::<String>()) {
        check_record(&s)?;
        check_record(&format!("kind split\n{s}"))?;
    }

    #[test]
    fn mutated_records_never_panic(o in options(), e in edits()) {
        check_record(&mutate_str(&split_record(&o), &e))?;
    }

    /// What `msplit.sh` writes is what the agent reads.
    #[test]
    fn split_records_round_trip(o in options()) {
        let r = parse(&split_record(&o), Confined::new("/spool", "x.data").unwrap()).unwrap();
        prop_assert_eq!(r.kind, Kind::Split(o));
    }

    /// `mpipe`/`mtee` records: the object path and headers come back as
    /// written (a path is any one line).
    #[test]
    fn output_records_round_trip(path in "/[^\n]{1,30}", name in "[A-Za-z-]{1,10}", value in "[^\n]{0,20}") {
        let header = format!("{name}: {value}");
        let text = meta(&[("kind", "output"), ("path", &path), ("header", &header)]);
        let r = parse(&text, Confined::new("/spool", "x.data").unwrap()).unwrap();
        prop_assert_eq!(r.path.as_deref(), Some(path.as_str()));
        prop_assert_eq!(r.headers, vec![(name.to_ascii_lowercase(), value.trim().to_string())]);
    }

    /// Any line routes to a reducer below `count`, or is refused as the
    /// user's: under `-i`, a `-j` line that is no JSON object, a routed
    /// line without its reducer.
    #[test]
    fn routes_stay_in_range(line in proptest::collection::vec(any::<u8>(), 0..64), o in options()) {
        match route(&line, &o) {
            Ok(r) => prop_assert!(r < o.count),
            Err(SplitError::User(_)) => prop_assert!(o.int || !matches!(o.key, SplitKey::Fields(_))),
            Err(e @ (SplitError::Io(_) | SplitError::LineTooLong(_) | SplitError::Open(_))) => {
                prop_assert!(false, "{e:?}")
            }
        }
        // Each selected field (a field may be selected twice) and the
        // delimiters between them.
        if let SplitKey::Fields(fields) = &o.key {
            let k = key(&line, &o).unwrap();
            let n = fields.len();
            prop_assert!(k.len() <= n * line.len() + (n - 1) * o.delim.len());
        }
    }

    /// A JSON line's key never panics, whatever the names and the line.
    #[test]
    fn json_keys_never_panic(
        line in "[\\[\\]{}\":,.a-c0-9 \\-]{0,40}",
        names in proptest::collection::vec("[a-c0-9.]{0,6}", 1..4),
    ) {
        let o = SplitOptions { count: 7, delim: ",".into(), key: SplitKey::Json(names), int: false, gzip: false };
        match route(line.as_bytes(), &o) {
            Ok(r) => prop_assert!(r < 7),
            Err(SplitError::User(m)) => prop_assert!(m.starts_with("msplit: ")),
            Err(e) => prop_assert!(false, "{e:?}"),
        }
    }

    /// Every line lands once, in order, in its reducer's partition.
    #[test]
    fn partition_keeps_every_line(
        lines in proptest::collection::vec("[a-c0-9\t,]{0,12}", 0..40),
        mut o in text_options(),
        trailing_newline in any::<bool>(),
    ) {
        o.int = false;
        o.gzip = false;
        o.count = o.count % 8 + 1;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let mut text = lines.join("\n");
        if trailing_newline && !lines.is_empty() {
            text.push('\n');
        }
        std::fs::write(&data, &text).unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let confined = Confined::new(dir.path(), "data").unwrap();
        let parts = partition(&confined, &out, &o, &SpoolLimits::default()).unwrap();
        // `"".split('\n')` has one empty line; an empty file has none.
        let expected_lines: Vec<&str> = if text.is_empty() { vec![] } else { text.strip_suffix('\n').unwrap_or(&text).split('\n').collect() };
        let mut seen = 0;
        for (reducer, path) in parts {
            let got = std::fs::read_to_string(out.join(&path)).unwrap();
            let want: String = expected_lines
                .iter()
                .filter(|l| route(l.as_bytes(), &o).unwrap() == reducer)
                .map(|l| format!("{l}\n"))
                .collect();
            prop_assert!(!got.is_empty());
            prop_assert_eq!(&got, &want);
            seen += got.lines().count();
        }
        prop_assert_eq!(seen, expected_lines.len());
    }
}

/// Found by `split_records_round_trip` and `output_records_round_trip`:
/// the record was split with `str::lines`, which also drops a `\r` before
/// each `\n`, so `msplit -d $'\r'` split on nothing and `mpipe '/u/stor/a\r'`
/// wrote `/u/stor/a`.
#[test]
fn carriage_returns_survive_the_record() {
    let o = SplitOptions {
        count: 2,
        delim: "\r".into(),
        key: SplitKey::Fields(vec![1]),
        int: false,
        gzip: false,
    };
    assert_eq!(
        parse(&split_record(&o), Confined::new("/spool", "x").unwrap())
            .unwrap()
            .kind,
        Kind::Split(o)
    );
    let r = parse(
        &meta(&[("kind", "output"), ("path", "/u/stor/a\r")]),
        Confined::new("/spool", "x").unwrap(),
    )
    .unwrap();
    assert_eq!(r.path.as_deref(), Some("/u/stor/a\r"));
}
