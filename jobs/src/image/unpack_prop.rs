//! Properties of layer unpacking: a tar of any entries (hostile names,
//! `..`, whiteouts, links out of the layer) or random and mutated tar bytes
//! never panics and never changes anything outside the layer directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::limits::Budget;
use super::unpack::unpack_layer;
use client_sdk::prop::{config, edits, mutate};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// One tar entry, with its name and link bytes written raw (the `tar`
/// crate's own setters refuse `..`, which is what we want to send).
#[derive(Debug, Clone)]
struct Entry {
    path: String,
    kind: u8,
    link: String,
    data: Vec<u8>,
    mode: u32,
}

fn component() -> impl Strategy<Value = String> {
    proptest::sample::select(vec![
        "a",
        "b",
        "..",
        ".",
        "",
        ".wh.a",
        ".wh.",
        ".wh..",
        ".wh...",
        ".wh..wh..opq",
        "etc",
    ])
    .prop_map(str::to_string)
}

fn rel_path() -> impl Strategy<Value = String> {
    (
        proptest::sample::select(vec!["", "/", "./", "../"]),
        proptest::collection::vec(component(), 1..4),
    )
        .prop_map(|(lead, parts)| format!("{lead}{}", parts.join("/")))
}

fn entry() -> impl Strategy<Value = Entry> {
    (
        rel_path(),
        // Regular, hard link, symlink, char, block, dir, fifo, pax, junk.
        proptest::sample::select(b"0012345xgZ".to_vec()),
        prop_oneof![
            rel_path(),
            Just("/etc".to_string()),
            Just("../../..".to_string())
        ],
        proptest::collection::vec(any::<u8>(), 0..64),
        prop_oneof![Just(0o755u32), Just(0o644), Just(0o4755), any::<u32>()],
    )
        .prop_map(|(path, kind, link, data, mode)| Entry {
            path,
            kind,
            link,
            data,
            mode,
        })
}

fn tar_bytes(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let mut h = tar::Header::new_gnu();
        let data: &[u8] = if e.kind == b'0' { &e.data } else { &[] };
        h.set_size(data.len() as u64);
        h.set_mode(e.mode & 0o7777);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        {
            let old = h.as_old_mut();
            let n = e.path.len().min(99);
            old.name[..n].copy_from_slice(&e.path.as_bytes()[..n]);
            let n = e.link.len().min(99);
            old.linkname[..n].copy_from_slice(&e.link.as_bytes()[..n]);
            old.linkflag[0] = e.kind;
        }
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0; 1024]);
    out
}

/// Everything under `root` but the layer: kind, and content of files.
fn snapshot(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p == root.join("layer") {
                continue;
            }
            let m = std::fs::symlink_metadata(&p).unwrap();
            let what = if m.is_dir() {
                stack.push(p.clone());
                "dir".to_string()
            } else if m.file_type().is_symlink() {
                format!("link {:?}", std::fs::read_link(&p).unwrap())
            } else if m.is_file() {
                format!("file {:?}", std::fs::read(&p).unwrap_or_default())
            } else {
                "special".to_string()
            };
            let what = format!("{what} {:o} {}:{}", m.mode(), m.uid(), m.gid());
            out.insert(p.strip_prefix(root).unwrap().display().to_string(), what);
        }
    }
    out
}

/// Unpacks `tar` into `<tmp>/root/layer`, next to files that must survive:
/// `root` stands for the layer cache around a layer and for the host
/// (`etc/passwd`, a symlink to it). Returns whether the unpack succeeded.
fn unpack_in_sandbox(tar: &[u8]) -> Result<bool, TestCaseError> {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let layer = root.join("layer");
    std::fs::create_dir_all(&layer).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/passwd"), "root:x:0:0").unwrap();
    std::fs::write(root.join("sentinel"), "keep").unwrap();
    std::os::unix::fs::symlink(root.join("etc"), root.join("to-etc")).unwrap();
    let before = snapshot(&root);
    let ok = unpack_layer(tar, &layer, &mut Budget::unlimited()).is_ok();
    prop_assert_eq!(
        snapshot(&root),
        before,
        "unpack changed files outside the layer"
    );
    prop_assert!(layer.is_dir(), "the layer directory itself is gone");
    Ok(ok)
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn hostile_entries_stay_inside(entries in proptest::collection::vec(entry(), 1..8)) {
        unpack_in_sandbox(&tar_bytes(&entries))?;
    }

    #[test]
    fn mutated_tars_stay_inside(entries in proptest::collection::vec(entry(), 1..5), e in edits()) {
        unpack_in_sandbox(&mutate(&tar_bytes(&entries), &e))?;
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        unpack_in_sandbox(&bytes)?;
    }

    /// Plain files and directories unpack to what the tar holds.
    #[test]
    fn plain_layers_round_trip(files in proptest::collection::btree_map("[a-z]{1,6}(/[a-z]{1,6}){0,2}", proptest::collection::vec(any::<u8>(), 0..100), 1..6)) {
        // A name that is also another's directory cannot be both.
        let names: Vec<&String> = files.keys().collect();
        prop_assume!(!names.iter().any(|a| names.iter().any(|b| b.starts_with(&format!("{a}/")))));
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in &files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, data.as_slice()).unwrap();
        }
        let tar = b.into_inner().unwrap();
        let tmp = tempfile::tempdir().unwrap();
        unpack_layer(tar.as_slice(), tmp.path(), &mut Budget::unlimited()).unwrap();
        for (name, data) in &files {
            prop_assert_eq!(&std::fs::read(tmp.path().join(name)).unwrap(), data);
        }
    }
}

/// Found by `hostile_entries_stay_inside`: a whiteout named `.wh..` or
/// `.wh...` named the layer itself or its parent (`.` and `..` after the
/// prefix), so unpacking removed the layer directory or the whole cache
/// around it; `.wh.` alone named the layer too.
#[test]
fn whiteouts_of_dot_names_are_refused() {
    for name in [".wh.", ".wh..", ".wh...", "a/.wh..."] {
        let tar = tar_bytes(&[Entry {
            path: name.into(),
            kind: b'0',
            link: String::new(),
            data: Vec::new(),
            mode: 0o644,
        }]);
        assert!(!unpack_in_sandbox(&tar).unwrap(), "{name}");
    }
}

/// A `docker save` archive whose one layer is `layer`, with `extra` entries
/// (hostile names and links) in the outer tar, before or after the rest.
fn docker_save(layer: &[u8], extra: &[Entry], extra_first: bool) -> Vec<u8> {
    use crate::digest::Digest;
    let diff_id = Digest::of(layer);
    let config = format!(r#"{{"rootfs":{{"type":"layers","diff_ids":["{diff_id}"]}}}}"#);
    let config_name = format!("{}.json", Digest::of(config.as_bytes()).hex());
    let manifest = format!(r#"[{{"Config":"{config_name}","Layers":["l/layer.tar"]}}]"#);
    let file = |path: &str, data: &[u8]| Entry {
        path: path.into(),
        kind: b'0',
        link: String::new(),
        data: data.to_vec(),
        mode: 0o644,
    };
    let mut entries = vec![
        file("manifest.json", manifest.as_bytes()),
        file(&config_name, config.as_bytes()),
        file("l/layer.tar", layer),
    ];
    if extra_first {
        entries.splice(0..0, extra.iter().cloned());
    } else {
        entries.extend(extra.iter().cloned());
    }
    tar_bytes(&entries)
}

/// The same image as an OCI layout: `index.json` (through a nested index
/// when `nested`, as `docker save` writes it), manifest, config and layer
/// blobs named by their digests.
fn oci_layout(layer: &[u8], extra: &[Entry], nested: bool) -> Vec<u8> {
    use crate::digest::Digest;
    let mut blobs: Vec<Entry> = Vec::new();
    let mut put = |data: &[u8], media: &str| {
        let d = Digest::of(data);
        blobs.push(Entry {
            path: format!("blobs/sha256/{}", d.hex()),
            kind: b'0',
            link: String::new(),
            data: data.to_vec(),
            mode: 0o644,
        });
        serde_json::json!({"mediaType": media, "digest": d.to_string(), "size": data.len()})
    };
    let diff_id = Digest::of(layer);
    let config = format!(r#"{{"rootfs":{{"type":"layers","diff_ids":["{diff_id}"]}}}}"#);
    let config = put(
        config.as_bytes(),
        "application/vnd.oci.image.config.v1+json",
    );
    let layer = put(layer, "application/vnd.oci.image.layer.v1.tar");
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config,
        "layers": [layer],
    });
    let mut top = put(
        &serde_json::to_vec(&manifest).unwrap(),
        "application/vnd.oci.image.manifest.v1+json",
    );
    if nested {
        let inner = serde_json::json!({"schemaVersion": 2, "manifests": [top]});
        top = put(
            &serde_json::to_vec(&inner).unwrap(),
            "application/vnd.oci.image.index.v1+json",
        );
    }
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [top]});
    let file = |path: &str, data: Vec<u8>| Entry {
        path: path.into(),
        kind: b'0',
        link: String::new(),
        data,
        mode: 0o644,
    };
    let mut entries = vec![
        file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec()),
        file("index.json", serde_json::to_vec(&index).unwrap()),
    ];
    entries.extend(blobs);
    entries.extend(extra.iter().cloned());
    tar_bytes(&entries)
}

/// Imports `archive` into a store at `<tmp>/root/state`; everything else
/// under `root` must stay as it was.
fn import_in_sandbox(archive: &[u8]) -> Result<bool, TestCaseError> {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/passwd"), "root:x:0:0").unwrap();
    std::fs::write(root.join("sentinel"), "keep").unwrap();
    let store = super::ImageStore::open(root.join("layer")).unwrap();
    let before = snapshot(&root);
    let ok = super::import_reader(&store, archive, "prop").is_ok();
    prop_assert_eq!(
        snapshot(&root),
        before,
        "import changed files outside its state directory"
    );
    prop_assert!(root.join("layer/layers").is_dir() && root.join("layer/tmp").is_dir());
    Ok(ok)
}

proptest! {
    #![proptest_config(config(64))]

    /// The whole import (staging the archive, reading the format, unpacking
    /// the layer): hostile layers and outer entries, mutated archives.
    #[test]
    fn imports_stay_inside(
        layer in proptest::collection::vec(entry(), 1..6),
        extra in proptest::collection::vec(entry(), 0..4),
        extra_first in any::<bool>(),
        format in 0u8..3,
        e in proptest::option::of(edits()),
    ) {
        let archive = match format {
            0 => docker_save(&tar_bytes(&layer), &extra, extra_first),
            n => oci_layout(&tar_bytes(&layer), &extra, n == 2),
        };
        let archive = match e {
            Some(e) => mutate(&archive, &e),
            None => archive,
        };
        import_in_sandbox(&archive)?;
    }

    /// A plain layer imports, in either format.
    #[test]
    fn plain_archives_import(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let layer = tar_bytes(&[Entry { path: "bin/x".into(), kind: b'0', link: String::new(), data, mode: 0o755 }]);
        prop_assert!(import_in_sandbox(&docker_save(&layer, &[], false))?);
        prop_assert!(import_in_sandbox(&oci_layout(&layer, &[], false))?);
        prop_assert!(import_in_sandbox(&oci_layout(&layer, &[], true))?);
    }
}
