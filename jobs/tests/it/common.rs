//! Test images built in code: layer tars, `docker save` archives and OCI
//! layouts.

use std::io::Write;
use std::path::Path;

use jobs::image::ImageStore;
use jobs::runtime::{Limits, RuntimeKind, TaskOutcome, TaskRunner, TaskSpec};
use sha2::{Digest as _, Sha256};

pub const BOTH: [RuntimeKind; 2] = [RuntimeKind::Runc, RuntimeKind::Runsc];

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A layer tar under construction.
pub struct Layer(tar::Builder<Vec<u8>>);

impl Layer {
    pub fn new() -> Self {
        Self(tar::Builder::new(Vec::new()))
    }

    fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(size);
        h
    }

    pub fn dir(mut self, path: &str) -> Self {
        let mut h = Self::header(tar::EntryType::Directory, 0o755, 0);
        self.0.append_data(&mut h, path, std::io::empty()).unwrap();
        self
    }

    pub fn file(mut self, path: &str, data: &[u8]) -> Self {
        let mut h = Self::header(tar::EntryType::Regular, 0o755, data.len() as u64);
        self.0.append_data(&mut h, path, data).unwrap();
        self
    }

    pub fn file_mode(mut self, path: &str, data: &[u8], mode: u32) -> Self {
        let mut h = Self::header(tar::EntryType::Regular, mode, data.len() as u64);
        self.0.append_data(&mut h, path, data).unwrap();
        self
    }

    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        let mut h = Self::header(tar::EntryType::Symlink, 0o777, 0);
        self.0.append_link(&mut h, path, target).unwrap();
        self
    }

    /// An entry written byte by byte, so paths the `tar` crate would refuse
    /// (`..`, absolute) get in.
    pub fn raw(mut self, kind: tar::EntryType, path: &str, link: &str) -> Self {
        let mut h = Self::header(kind, 0o644, 0);
        let gnu = h.as_gnu_mut().unwrap();
        gnu.name[..path.len()].copy_from_slice(path.as_bytes());
        gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
        h.set_cksum();
        self.0.append(&h, std::io::empty()).unwrap();
        self
    }

    pub fn build(self) -> Vec<u8> {
        self.0.into_inner().unwrap()
    }
}

/// busybox and a link per applet, plus a user `app` (uid 1000).
pub fn busybox_layer() -> Vec<u8> {
    let bin = std::fs::read("/bin/busybox").unwrap();
    let mut layer = Layer::new()
        .dir("bin")
        .dir("etc")
        .dir("tmp")
        .file("bin/busybox", &bin);
    layer = layer.file(
        "etc/passwd",
        b"root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/work:/bin/sh\n",
    );
    let list = std::process::Command::new("/bin/busybox")
        .arg("--list")
        .output()
        .unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" {
            layer = layer.symlink(&format!("bin/{applet}"), "busybox");
        }
    }
    layer.build()
}

/// Files for the whiteout and opaque-directory checks.
pub fn data_layer() -> Vec<u8> {
    Layer::new()
        .dir("data")
        .file("data/keep", b"k")
        .file("data/gone", b"g")
        .dir("opaq")
        .file("opaq/old", b"o")
        .build()
}

/// Deletes `data/gone` and hides `opaq/old` behind an opaque directory.
pub fn whiteout_layer() -> Vec<u8> {
    Layer::new()
        .file("data/.wh.gone", b"")
        .dir("opaq")
        .file("opaq/.wh..wh..opq", b"")
        .file("opaq/new", b"n")
        .dir("work")
        .build()
}

pub fn standard_layers() -> Vec<Vec<u8>> {
    vec![busybox_layer(), data_layer(), whiteout_layer()]
}

pub fn config_json(layers: &[Vec<u8>]) -> Vec<u8> {
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| format!("sha256:{}", sha256_hex(l)))
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/bin", "GREETING=hello from the image"], "WorkingDir": "/work", "User": "app"},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap()
}

fn append(tar: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.set_mode(0o644);
    h.set_size(data.len() as u64);
    tar.append_data(&mut h, path, data).unwrap();
}

/// A legacy `docker save` archive (`<id>/layer.tar`, `<hex>.json`).
pub fn docker_save(layers: &[Vec<u8>]) -> Vec<u8> {
    let config = config_json(layers);
    let config_name = format!("{}.json", sha256_hex(&config));
    let mut tar = tar::Builder::new(Vec::new());
    let mut names = Vec::new();
    for (i, layer) in layers.iter().enumerate() {
        let name = format!("layer{i}/layer.tar");
        append(&mut tar, &name, layer);
        names.push(name);
    }
    append(&mut tar, &config_name, &config);
    let manifest =
        serde_json::json!([{"Config": config_name, "RepoTags": ["test:latest"], "Layers": names}]);
    append(
        &mut tar,
        "manifest.json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    tar.into_inner().unwrap()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// An OCI image layout directory with gzipped layers.
pub fn oci_layout(dir: &Path, layers: &[Vec<u8>]) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |data: &[u8]| {
        let hex = sha256_hex(data);
        std::fs::write(blobs.join(&hex), data).unwrap();
        serde_json::json!({"digest": format!("sha256:{hex}"), "size": data.len()})
    };
    let config = put(&config_json(layers));
    let layer_descs: Vec<_> = layers
        .iter()
        .map(|l| {
            let mut d = put(&gzip(l));
            d["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip".into();
            d
        })
        .collect();
    let mut config = config;
    config["mediaType"] = "application/vnd.oci.image.config.v1+json".into();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config,
        "layers": layer_descs,
    });
    let mut mdesc = put(&serde_json::to_vec(&manifest).unwrap());
    mdesc["mediaType"] = "application/vnd.oci.image.manifest.v1+json".into();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [mdesc]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

/// A fresh state directory and runner.
pub fn runner() -> (tempfile::TempDir, TaskRunner) {
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(dir.path()).unwrap();
    (dir, TaskRunner::new(store))
}

pub fn task(runtime: RuntimeKind, command: &str) -> TaskSpec {
    TaskSpec {
        command: command.into(),
        runtime,
        limits: Limits::default(),
        ..TaskSpec::default()
    }
}

/// Runs a task, collecting stdout in memory.
pub async fn run(runner: &TaskRunner, spec: &TaskSpec) -> (TaskOutcome, String) {
    let mut out = Vec::new();
    let outcome = runner.run(spec, &mut out).await.unwrap();
    (outcome, String::from_utf8_lossy(&out).into_owned())
}

pub fn stderr(outcome: &TaskOutcome) -> String {
    String::from_utf8_lossy(&outcome.stderr).into_owned()
}
