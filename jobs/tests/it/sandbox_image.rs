//! An image attacks the host: its layers are unpacked by root on the host
//! and its `/etc/passwd` is read there. FIFOs and device nodes are
//! refused, setuid and setgid bits stripped, symlinks never written
//! through; a gzip bomb and oversized archives, file counts and JSON stop
//! at the import caps with a clear error, keeping nothing.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use jobs::image::{import_reader, ImageLimits, ImageStore};
use jobs::runtime::RuntimeKind;
use jobs::Error;

use crate::common::*;

/// Nothing of a refused import is left: no record, no staging, no layer.
#[track_caller]
fn assert_nothing_kept(state: &Path, store: &ImageStore, name: &str) {
    assert!(matches!(store.get(name), Err(Error::ImageNotFound(_))));
    let left = |sub: &str| std::fs::read_dir(state.join(sub)).unwrap().count();
    assert_eq!(left("tmp"), 0, "staging left behind");
    assert_eq!(left("layers"), 0, "a layer was kept");
}

#[test]
fn sandbox_fifos_and_devices_in_layers_are_refused() {
    use tar::EntryType::*;
    let cases = [
        (
            "fifo-passwd",
            Layer::new().dir("etc").raw(Fifo, "etc/passwd", ""),
            "FIFO",
        ),
        (
            "char-device",
            Layer::new().dir("dev").raw(Char, "dev/kmem", ""),
            "device node",
        ),
        (
            "block-device",
            Layer::new().raw(Block, "sda", ""),
            "device node",
        ),
    ];
    for (name, layer, reason) in cases {
        let state = tempfile::tempdir().unwrap();
        let store = ImageStore::open(state.path()).unwrap();
        let err = import_reader(&store, &docker_save(&[layer.build()])[..], name).unwrap_err();
        match &err {
            Error::UnsafeEntry { reason: r, .. } => assert!(r.contains(reason), "{name}: {err}"),
            other => panic!("{name}: unexpected {other}"),
        }
        assert_nothing_kept(state.path(), &store, name);
    }
}

#[tokio::test]
async fn sandbox_setuid_and_setgid_bits_are_stripped() {
    let (_dir, runner) = runner();
    let layer = Layer::new()
        .dir("bin")
        .file_mode("bin/suid", b"#!/bin/sh\n", 0o4755)
        .file_mode("bin/sgid", b"#!/bin/sh\n", 0o2755)
        .file_mode("bin/sticky", b"", 0o1777)
        .build();
    let archive = docker_save(&[busybox_layer(), layer]);
    import_reader(runner.store(), &archive[..], "suid").unwrap();
    let mut spec = task(
        RuntimeKind::Runc,
        "stat -c %a /bin/suid /bin/sgid /bin/sticky",
    );
    spec.image = Some("suid".into());
    let (outcome, out) = run(&runner, &spec).await;
    assert!(outcome.success(), "{}", stderr(&outcome));
    assert_eq!(out, "755\n755\n1777\n");
}

#[tokio::test]
async fn sandbox_layers_never_write_through_a_symlink() {
    let host_passwd = std::fs::read("/etc/passwd").unwrap();
    let stray = format!("sandbox-stray-{}", std::process::id());

    // Through a symlinked directory: refused.
    let state = tempfile::tempdir().unwrap();
    let store = ImageStore::open(state.path()).unwrap();
    let escape = Layer::new()
        .symlink("etc", "/etc")
        .file("etc/passwd", b"root::0:0::/:/bin/sh\n")
        .build();
    let err = import_reader(&store, &docker_save(&[escape])[..], "escape").unwrap_err();
    assert!(err.to_string().contains("through a symlink"), "{err}");
    assert_nothing_kept(state.path(), &store, "escape");

    // A file or directory entry over a symlink replaces the link inside
    // the layer; the host file it pointed at is untouched.
    let (_dir, runner) = runner();
    let replace = Layer::new()
        .symlink("passwd-link", "/etc/passwd")
        .file("passwd-link", b"pwned\n")
        .symlink("d", "/tmp")
        .dir("d")
        .file(&format!("d/{stray}"), b"x")
        .build();
    let archive = docker_save(&[busybox_layer(), replace]);
    import_reader(runner.store(), &archive[..], "replace").unwrap();
    let mut spec = task(RuntimeKind::Runc, "cat /passwd-link; ls /d");
    spec.image = Some("replace".into());
    let (outcome, out) = run(&runner, &spec).await;
    assert!(outcome.success(), "{}", stderr(&outcome));
    assert_eq!(out, format!("pwned\n{stray}\n"));
    assert_eq!(std::fs::read("/etc/passwd").unwrap(), host_passwd);
    assert!(!Path::new("/tmp").join(&stray).exists());
}

/// A gzipped layer tar holding one file of `size` zeros, made as a stream
/// (the bytes never all exist at once).
fn gzip_bomb(size: u64) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut header = tar::Header::new_gnu();
    header.set_path("zeros").unwrap();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o644);
    header.set_size(size);
    header.set_cksum();
    gz.write_all(header.as_bytes()).unwrap();
    let chunk = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64);
        gz.write_all(&chunk[..n as usize]).unwrap();
        left -= n;
    }
    // Padding to the block (none: size is a multiple of 512) and the end.
    gz.write_all(&[0u8; 1024]).unwrap();
    gz.finish().unwrap()
}

#[test]
fn sandbox_a_gzip_bomb_layer_stops_at_the_unpacked_cap() {
    let bomb = gzip_bomb(1 << 30);
    assert!(bomb.len() < 8 << 20, "{} bytes compressed", bomb.len());
    let state = tempfile::tempdir().unwrap();
    let limits = ImageLimits {
        unpacked_bytes: 64 << 20,
        ..ImageLimits::default()
    };
    let store = ImageStore::open(state.path()).unwrap().with_limits(limits);
    let started = std::time::Instant::now();
    let err = import_reader(&store, &docker_save(&[bomb])[..], "bomb").unwrap_err();
    assert!(
        matches!(err, Error::ImageLimit { what: "unpacked size", limit } if limit == 64 << 20),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "image refused: its unpacked size is over the limit of 67108864"
    );
    // Stopped at the cap, not after inflating the whole gigabyte.
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_nothing_kept(state.path(), &store, "bomb");
}

#[test]
fn sandbox_image_imports_are_capped() {
    let small = Layer::new().file("a", b"a").file("b", b"b").build();
    let many = (0..20).fold(Layer::new(), |l, i| l.file(&format!("f{i}"), b"x"));
    let cases = [
        (
            "files",
            ImageLimits {
                files: 10,
                ..ImageLimits::default()
            },
            docker_save(&[many.build()]),
            "file count",
        ),
        (
            "compressed",
            ImageLimits {
                compressed_bytes: 10_000,
                ..ImageLimits::default()
            },
            docker_save(&[small.clone(), vec![0u8; 8192]]),
            "compressed size",
        ),
        (
            "gzipped-archive",
            ImageLimits {
                unpacked_bytes: 4096,
                ..ImageLimits::default()
            },
            gzip(&docker_save(&[vec![0u8; 8192]])),
            "unpacked size",
        ),
        (
            "json",
            ImageLimits {
                json_bytes: 64,
                ..ImageLimits::default()
            },
            docker_save(std::slice::from_ref(&small)),
            "manifest or config JSON size",
        ),
    ];
    for (name, limits, archive, what) in cases {
        let state = tempfile::tempdir().unwrap();
        let store = ImageStore::open(state.path()).unwrap().with_limits(limits);
        let err = import_reader(&store, &archive[..], name).unwrap_err();
        match &err {
            Error::ImageLimit { what: w, .. } => assert_eq!(w, &what, "{name}: {err}"),
            other => panic!("{name}: unexpected {other}"),
        }
        assert_nothing_kept(state.path(), &store, name);
        // Within the caps, the same store imports.
        let ok = docker_save(&[Layer::new().file("a", b"a").build()]);
        if name != "json" {
            import_reader(&store, &ok[..], "ok").unwrap();
        }
    }
}

/// Even a FIFO that got into the layer cache some other way (an older
/// version of the unpacker) cannot hang the runner resolving the user.
#[tokio::test]
async fn sandbox_a_fifo_passwd_in_the_rootfs_is_refused_without_hanging() {
    let (dir, runner) = runner();
    let layers = standard_layers();
    let archive = docker_save(&layers);
    import_reader(runner.store(), &archive[..], "std").unwrap();
    let passwd = dir
        .path()
        .join("layers")
        .join(sha256_hex(&layers[0]))
        .join("etc/passwd");
    let honest = std::fs::read(&passwd).unwrap();
    std::fs::remove_file(&passwd).unwrap();
    nix::unistd::mkfifo(&passwd, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();

    let mut spec = task(RuntimeKind::Runc, "id -u");
    spec.image = Some("std".into());
    let mut out = Vec::new();
    let ran = tokio::time::timeout(Duration::from_secs(60), runner.run(&spec, &mut out))
        .await
        .expect("resolving the image user hung on a FIFO");
    let err = ran.unwrap_err();
    assert!(matches!(err, Error::ImageFile(_)), "{err}");
    assert!(err.to_string().contains("etc/passwd is a FIFO"), "{err}");

    std::fs::remove_file(&passwd).unwrap();
    std::fs::write(&passwd, honest).unwrap();
    let (outcome, out) = run(&runner, &spec).await;
    assert!(outcome.success(), "{}", stderr(&outcome));
    assert_eq!(out, "1000\n");
}

/// An image object over the compressed cap is refused before it is
/// fetched, as the task's error; the node still runs tasks.
#[tokio::test]
async fn sandbox_an_oversized_image_object_is_refused() {
    use crate::agent::{assert_ok, assert_user_error, input, map, Cluster};
    use jobs::agent::wire::ImageRef;
    use jobs::agent::SandboxLimits;
    use jobs::model::JobErrorCode;

    let limits = SandboxLimits {
        image: ImageLimits {
            compressed_bytes: 1000,
            ..ImageLimits::default()
        },
        ..SandboxLimits::default()
    };
    let c = Cluster::start_with(RuntimeKind::Runc, limits).await;
    let archive = docker_save(&standard_layers());
    let image = c.put(&archive, &[&c.a]).await;
    let mut req = map("big-image", None, "true");
    req.image = ImageRef::Object {
        object: input("/u/stor/image.tar", Some(image)),
    };
    let result = c.run(&c.a, &req).await;
    assert_user_error(
        &result,
        JobErrorCode::InvalidArgumentError,
        "image object /u/stor/image.tar: image refused: its compressed size is over the limit of 1000",
    );
    assert_eq!(c.agent_status(&c.a).await.asset_bytes, 0, "it was fetched");
    assert_ok(&c.run(&c.a, &map("after", None, "true")).await);
}
