//! The default image: busybox plus the host's GNU tools, rebuilt once when
//! an older version made it.

use std::time::Instant;

use jobs::image::{ensure_default_image, ImageStore, DEFAULT_IMAGE};

use crate::common::*;

#[tokio::test]
async fn default_image_has_the_hosts_gnu_tools() {
    let (_dir, runner) = runner();
    let script = r#"sort --version | head -n1 | grep -c 'GNU coreutils'
echo b a | tr ' ' '\n' | sort | uniq -c
printf 'x 1\ny 2\n' | awk '{ s += $2 } END { print NR, s }'
echo foo-bar | sed -E 's/(o+)-(b)/\2\1/'
echo abc123def45 | grep -o '[0-9]\+'
seq 1000 | gzip -c | gunzip | wc -l
seq 3 | gzip -c | zcat | tail -n1
printf 'a\nB\n' | egrep -c '^[a-z]$'
bash -c 'echo bash ${BASH_VERSINFO[0]:+ok}'
/bin/sh -c 'echo sh ok; sort --version | head -n1 | grep -c "GNU coreutils"'
/bin/sort --version | head -n1 | grep -c 'GNU coreutils'
ls -l /bin/busybox | grep -c busybox
stat -c %s /bin/busybox | grep -c '^[0-9]'"#;
    let expected =
        "1\n      1 a\n      1 b\n2 3\nfbooar\n123\n45\n1000\n3\n1\nbash ok\nsh ok\n1\n1\n1\n1\n";
    for runtime in BOTH {
        let (outcome, out) = run(&runner, &task(runtime, script)).await;
        assert!(outcome.success(), "{runtime}: {}", stderr(&outcome));
        assert_eq!(out, expected, "{runtime}: {}", stderr(&outcome));
    }
}

/// Rewrites the stored default record as `f` says (as an older version or
/// a user import would have left it).
fn rewrite_record(state: &std::path::Path, f: impl FnOnce(&mut serde_json::Value)) {
    let path = state.join("images").join(format!("{DEFAULT_IMAGE}.json"));
    let mut record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    f(&mut record);
    std::fs::write(&path, serde_json::to_vec(&record).unwrap()).unwrap();
}

#[test]
fn default_image_is_built_once_and_upgraded_from_busybox_only() {
    let state = tempfile::tempdir().unwrap();
    let store = ImageStore::open(state.path()).unwrap();
    let started = Instant::now();
    let record = ensure_default_image(&store).unwrap();
    eprintln!("default image built in {:?}", started.elapsed());
    assert_eq!(record.source, "busybox+host-tools/1");
    assert_eq!(record.layers.len(), 2);
    let record_file = state.path().join("images/default.json");
    let written = std::fs::metadata(&record_file).unwrap().modified().unwrap();
    let started = Instant::now();
    assert_eq!(ensure_default_image(&store).unwrap(), record);
    eprintln!("second ensure took {:?}", started.elapsed());
    let again = std::fs::metadata(&record_file).unwrap().modified().unwrap();
    assert_eq!(written, again, "a second ensure writes nothing");

    // What the previous version stored: busybox alone.
    let busybox_layer = record.layers[0].clone();
    rewrite_record(state.path(), |r| {
        r["source"] = "busybox".into();
        r["layers"] = serde_json::json!([busybox_layer]);
    });
    assert_eq!(ensure_default_image(&store).unwrap(), record);
    assert_eq!(store.get(DEFAULT_IMAGE).unwrap(), record);
    let layers = std::fs::read_dir(state.path().join("layers"))
        .unwrap()
        .count();
    assert_eq!(layers, 2);

    // A `default` the user imported is theirs.
    rewrite_record(state.path(), |r| r["source"] = "docker-save".into());
    let theirs = ensure_default_image(&store).unwrap();
    assert_eq!(theirs.source, "docker-save");
}
