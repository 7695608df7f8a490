//! Importing images: both formats, a real tool's output, digests, the
//! layer cache, whiteouts and refused layers.

use std::os::unix::fs::FileTypeExt;

use jobs::image::{import_path, import_reader, ImageStore};
use jobs::runtime::RuntimeKind;
use jobs::Error;

use crate::common::*;

/// Checks the image's config and its whiteouts inside a container.
async fn assert_runs_with_config(
    runner: &jobs::runtime::TaskRunner,
    name: &str,
    runtime: RuntimeKind,
) {
    let mut spec = task(runtime, "echo $GREETING; pwd; id -u; ls /data; ls /opaq");
    spec.image = Some(name.into());
    let (outcome, out) = run(runner, &spec).await;
    assert!(outcome.success(), "{runtime}: {}", stderr(&outcome));
    assert_eq!(
        out, "hello from the image\n/work\n1000\nkeep\nnew\n",
        "{runtime}"
    );
}

#[tokio::test]
async fn docker_save_and_oci_layout_share_layers_and_apply_whiteouts() {
    let (dir, runner) = runner();
    let store = runner.store().clone();
    let layers = standard_layers();
    let archive = docker_save(&layers);
    let record = import_reader(&store, &archive[..], "docker").unwrap();
    assert_eq!(record.source, "docker-save");
    assert_eq!(record.layers.len(), 3);
    let count = || {
        std::fs::read_dir(dir.path().join("layers"))
            .unwrap()
            .count()
    };
    assert_eq!(count(), 3);
    // The whiteout layer holds overlayfs's forms of the markers.
    let top = dir.path().join("layers").join(record.layers[2].hex());
    let gone = std::fs::symlink_metadata(top.join("data/gone")).unwrap();
    assert!(gone.file_type().is_char_device());
    assert_eq!(
        xattr::get(top.join("opaq"), "trusted.overlay.opaque").unwrap(),
        Some(b"y".to_vec())
    );

    let layout = tempfile::tempdir().unwrap();
    oci_layout(layout.path(), &layers);
    let oci = import_path(&store, layout.path(), "oci").unwrap();
    assert_eq!(oci.source, "oci-layout");
    assert_eq!(oci.layers, record.layers, "same diff_ids");
    assert_eq!(count(), 3, "shared layers are unpacked once");

    for (name, runtime) in [("docker", RuntimeKind::Runc), ("oci", RuntimeKind::Runsc)] {
        assert_runs_with_config(&runner, name, runtime).await;
    }
    store.remove("docker").unwrap();
    assert_eq!(count(), 3, "still used by `oci`");
    store.remove("oci").unwrap();
    assert_eq!(count(), 0);
}

#[tokio::test]
async fn skopeo_converted_image_runs() {
    let (_dir, runner) = runner();
    let work = tempfile::tempdir().unwrap();
    let archive = work.path().join("image.tar");
    std::fs::write(&archive, docker_save(&standard_layers())).unwrap();
    let oci = work.path().join("oci");
    let status = std::process::Command::new("skopeo")
        .arg("copy")
        .arg(format!("docker-archive:{}", archive.display()))
        .arg(format!("oci:{}:test", oci.display()))
        .status()
        .expect("skopeo (Debian package skopeo)");
    assert!(status.success());
    let record = import_path(runner.store(), &oci, "skopeo").unwrap();
    assert_eq!(record.source, "oci-layout");
    assert_runs_with_config(&runner, "skopeo", RuntimeKind::Runc).await;
    // The same as a tar of the layout (what `buildah push oci-archive:` writes).
    let oci_tar = work.path().join("oci.tar");
    let status = std::process::Command::new("skopeo")
        .arg("copy")
        .arg(format!("docker-archive:{}", archive.display()))
        .arg(format!("oci-archive:{}:test", oci_tar.display()))
        .status()
        .unwrap();
    assert!(status.success());
    let again = import_path(runner.store(), &oci_tar, "skopeo-tar").unwrap();
    assert_eq!(again.layers, record.layers);
}

#[test]
fn corrupt_blob_is_refused() {
    let state = tempfile::tempdir().unwrap();
    let store = ImageStore::open(state.path()).unwrap();
    let layout = tempfile::tempdir().unwrap();
    let layers = standard_layers();
    oci_layout(layout.path(), &layers);
    // Flip a byte in the largest blob (the busybox layer).
    let blobs = layout.path().join("blobs/sha256");
    let biggest = std::fs::read_dir(&blobs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    let mut bytes = std::fs::read(&biggest).unwrap();
    bytes[1000] ^= 1;
    std::fs::write(&biggest, bytes).unwrap();
    let err = import_path(&store, layout.path(), "bad").unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
    assert!(matches!(store.get("bad"), Err(Error::ImageNotFound(_))));

    // A docker-save layer whose content does not match its diff_id.
    let mut archive_layers = layers.clone();
    let config_layers = layers;
    archive_layers[1] = Layer::new().file("data/keep", b"evil").build();
    let archive = {
        let good = docker_save(&config_layers);
        let mut tar = tar::Archive::new(&good[..]);
        let mut out = tar::Builder::new(Vec::new());
        for entry in tar.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().into_owned();
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
            if path.to_str() == Some("layer1/layer.tar") {
                data = archive_layers[1].clone();
            }
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            out.append_data(&mut h, path, &data[..]).unwrap();
        }
        out.into_inner().unwrap()
    };
    let err = import_reader(&store, &archive[..], "bad").unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
}

#[test]
fn malicious_layers_are_refused() {
    use tar::EntryType::*;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "dotdot",
            Layer::new().raw(Regular, "../escape", "").build(),
            "'..'",
        ),
        (
            "absolute",
            Layer::new().raw(Regular, "/etc/evil", "").build(),
            "absolute",
        ),
        (
            "hardlink",
            Layer::new().raw(Link, "shadow", "/etc/shadow").build(),
            "absolute",
        ),
        (
            "hardlink-up",
            Layer::new().raw(Link, "shadow", "../../etc/shadow").build(),
            "'..'",
        ),
        (
            "device",
            Layer::new().raw(Block, "sda", "").build(),
            "device node",
        ),
        (
            "symlink",
            Layer::new().symlink("up", "../../..").build(),
            "outside the image",
        ),
        (
            "through-symlink",
            Layer::new()
                .symlink("etc", "/etc")
                .raw(Regular, "etc/cron.d/evil", "")
                .build(),
            "through a symlink",
        ),
    ];
    for (name, layer, reason) in cases {
        let state = tempfile::tempdir().unwrap();
        let store = ImageStore::open(state.path()).unwrap();
        let archive = docker_save(&[busybox_layer(), layer]);
        let err = import_reader(&store, &archive[..], name).unwrap_err();
        match &err {
            Error::UnsafeEntry { reason: r, .. } => assert!(r.contains(reason), "{name}: {err}"),
            other => panic!("{name}: unexpected {other}"),
        }
        assert!(matches!(store.get(name), Err(Error::ImageNotFound(_))));
        assert!(!std::path::Path::new("/etc/evil").exists());
    }
}

/// Older `docker save` writes a repeated layer once and symlinks the
/// other `layer.tar` to it.
#[test]
fn docker_save_with_symlinked_layer() {
    let state = tempfile::tempdir().unwrap();
    let store = ImageStore::open(state.path()).unwrap();
    let layers = vec![
        busybox_layer(),
        data_layer(),
        whiteout_layer(),
        data_layer(),
    ];
    let config = config_json(&layers);
    let config_name = format!("{}.json", sha256_hex(&config));
    let mut tar = tar::Builder::new(Vec::new());
    let add = |tar: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        tar.append_data(&mut h, path, data).unwrap();
    };
    for (i, layer) in layers.iter().enumerate().take(3) {
        add(&mut tar, &format!("l{i}/layer.tar"), layer);
    }
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    tar.append_link(&mut h, "l3/layer.tar", "../l1/layer.tar")
        .unwrap();
    add(&mut tar, &config_name, &config);
    let names = [
        "l0/layer.tar",
        "l1/layer.tar",
        "l2/layer.tar",
        "l3/layer.tar",
    ];
    let manifest = serde_json::json!([{"Config": config_name, "Layers": names}]);
    add(
        &mut tar,
        "manifest.json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    let archive = tar.into_inner().unwrap();
    let record = import_reader(&store, &archive[..], "linked").unwrap();
    assert_eq!(record.layers.len(), 4);
    assert_eq!(record.layers[1], record.layers[3]);
    assert_eq!(
        std::fs::read_dir(state.path().join("layers"))
            .unwrap()
            .count(),
        3
    );
}
