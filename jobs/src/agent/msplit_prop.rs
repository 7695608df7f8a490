//! Properties of `msplit` and of the spool records the utilities write: any
//! record text is refused or parsed, never a panic; a record written as
//! `spool.sh` writes it parses back to what was asked; and partitioning
//! puts every line, once, in the partition of its key's reducer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::msplit::{key, partition, route, SplitError};
use super::spool::{parse, Kind, SplitOptions};
use crate::agent::config::SpoolLimits;
use crate::safe_fs::Confined;
use client_sdk::prop::{config, edits, mutate_str};
use proptest::prelude::*;

/// `spool_meta KEY VALUE`: `printf '%s %s\n'`.
fn meta(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k} {v}\n")).collect()
}

/// What `msplit.sh` lets through: a delimiter is one non-empty line.
fn options() -> impl Strategy<Value = SplitOptions> {
    (
        1u32..=1024,
        "[^\n]{1,4}",
        proptest::collection::vec(1usize..10, 1..4),
        any::<bool>(),
    )
        .prop_map(|(count, delim, fields, int)| SplitOptions {
            count,
            delim,
            fields,
            int,
        })
}

fn split_record(o: &SplitOptions) -> String {
    let fields: Vec<String> = o.fields.iter().map(usize::to_string).collect();
    let count = o.count.to_string();
    let fields = fields.join(",");
    let mut pairs = vec![
        ("kind", "split"),
        ("count", count.as_str()),
        ("delim", o.delim.as_str()),
        ("fields", fields.as_str()),
    ];
    if o.int {
        pairs.push(("int", "true"));
    }
    meta(&pairs)
}

fn check_record(text: &str) -> Result<(), TestCaseError> {
    if let Ok(r) = parse(text, Confined::new("/spool", "x.data").unwrap()) {
        if let Kind::Split(o) = r.kind {
            prop_assert!((1..=1024).contains(&o.count));
            prop_assert!(o.fields.iter().all(|&f| f >= 1));
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

    /// Any line routes to a reducer below `count`, or is refused under `-i`.
    #[test]
    fn routes_stay_in_range(line in proptest::collection::vec(any::<u8>(), 0..64), o in options()) {
        match route(&line, &o) {
            Ok(r) => prop_assert!(r < o.count),
            Err(SplitError::NotAnInteger(_)) => prop_assert!(o.int),
            Err(e @ (SplitError::Io(_) | SplitError::LineTooLong(_) | SplitError::Open(_))) => {
                prop_assert!(false, "{e:?}")
            }
        }
        // Each selected field (a field may be selected twice) and the
        // delimiters between them.
        let k = key(&line, &o);
        let n = o.fields.len();
        prop_assert!(k.len() <= n * line.len() + (n - 1) * o.delim.len());
    }

    /// Every line lands once, in order, in its reducer's partition.
    #[test]
    fn partition_keeps_every_line(
        lines in proptest::collection::vec("[a-c0-9\t,]{0,12}", 0..40),
        mut o in options(),
        trailing_newline in any::<bool>(),
    ) {
        o.int = false;
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
        fields: vec![1],
        int: false,
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
