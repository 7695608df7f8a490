//! The image store under the state directory: image records by name and the
//! layer cache keyed by each layer's uncompressed digest (its `diff_id`), so
//! a layer shared by several images, in either format, is unpacked once.
//!
//! ```text
//! <state>/images/<name>.json   ImageRecord
//! <state>/layers/<hex>/        one unpacked layer (an overlayfs lower dir)
//! <state>/tmp/                 staging for imports and unpacks
//! ```

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::limits::{Budget, ImageLimits};
use super::unpack::unpack_layer;
use crate::digest::{Digest, HashingReader};
use crate::error::{json, IoContext};
use crate::{Error, Result};

/// Version marker of [`ImageRecord`] on disk.
const RECORD_VERSION: u32 = 1;

/// What a task needs from an image's config (OCI `config` / Docker
/// `container_config`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ImageConfig {
    /// `KEY=value` pairs.
    pub env: Vec<String>,
    pub(crate) working_dir: Option<String>,
    /// `uid[:gid]` or `name[:group]`, resolved against the image's
    /// `/etc/passwd` and `/etc/group`.
    pub user: Option<String>,
}

/// An imported image: its layers bottom-first and its config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    pub version: u32,
    pub name: String,
    /// Uncompressed layer digests, bottom layer first.
    pub layers: Vec<Digest>,
    pub(crate) config: ImageConfig,
    /// `docker-save`, `oci-layout`, `busybox+host-tools/<version>` or
    /// `busybox` (the default image).
    pub source: String,
}

impl ImageRecord {
    pub(crate) fn new(name: &str, layers: Vec<Digest>, config: ImageConfig, source: &str) -> Self {
        Self {
            version: RECORD_VERSION,
            name: name.to_owned(),
            layers,
            config,
            source: source.to_owned(),
        }
    }
}

/// Images and layers kept under one state directory.
#[derive(Clone, Debug)]
pub struct ImageStore {
    root: PathBuf,
    limits: ImageLimits,
}

impl ImageStore {
    /// Opens (creating if needed) the store under `state_dir`.
    ///
    /// # Errors
    /// I/O errors creating the directories.
    pub fn open(state_dir: impl Into<PathBuf>) -> Result<Self> {
        let root = state_dir.into();
        for sub in ["images", "layers", "tmp"] {
            let dir = root.join(sub);
            fs::create_dir_all(&dir).ctx("create directory", &dir)?;
        }
        // Bundle paths end up in OCI specs, where a relative path would be
        // taken relative to the bundle, not to where we started.
        let root = fs::canonicalize(&root).ctx("resolve state directory", &root)?;
        Ok(Self {
            root,
            limits: ImageLimits::default(),
        })
    }

    /// The same store, importing under `limits`.
    #[must_use]
    pub fn with_limits(mut self, limits: ImageLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The caps of each import.
    pub fn limits(&self) -> ImageLimits {
        self.limits
    }

    /// The state directory this store lives in.
    pub(crate) fn state_dir(&self) -> &Path {
        &self.root
    }

    pub(crate) fn layer_dir(&self, digest: &Digest) -> PathBuf {
        self.root.join("layers").join(digest.hex())
    }

    /// A fresh, unique staging path under `<state>/tmp`.
    pub(crate) fn staging_path(&self, what: &str) -> PathBuf {
        self.root
            .join("tmp")
            .join(format!("{what}-{}", uuid::Uuid::new_v4()))
    }

    fn record_path(&self, name: &str) -> Result<PathBuf> {
        validate_name(name)?;
        Ok(self.root.join("images").join(format!("{name}.json")))
    }

    /// The record of image `name`.
    ///
    /// # Errors
    /// [`Error::ImageNotFound`], or I/O and JSON errors reading the record.
    pub fn get(&self, name: &str) -> Result<ImageRecord> {
        let path = self.record_path(name)?;
        let bytes = match fs::read(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::ImageNotFound(name.to_owned()))
            }
            other => other.ctx("read image record", &path)?,
        };
        serde_json::from_slice(&bytes).map_err(json(path.display().to_string()))
    }

    /// All images, sorted by name.
    ///
    /// # Errors
    /// I/O and JSON errors reading the records.
    pub fn list(&self) -> Result<Vec<ImageRecord>> {
        let dir = self.root.join("images");
        let mut out = Vec::new();
        for entry in fs::read_dir(&dir).ctx("list images", &dir)? {
            let entry = entry.ctx("list images", &dir)?;
            let file = entry.file_name().to_string_lossy().into_owned();
            if let Some(name) = file.strip_suffix(".json") {
                out.push(self.get(name)?);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Writes (or replaces) an image record atomically.
    pub(crate) fn put(&self, record: &ImageRecord) -> Result<()> {
        let path = self.record_path(&record.name)?;
        let tmp = self.staging_path("record");
        let bytes = serde_json::to_vec_pretty(record).map_err(json("image record"))?;
        fs::write(&tmp, bytes).ctx("write image record", &tmp)?;
        fs::rename(&tmp, &path).ctx("install image record", &path)
    }

    /// Removes image `name` and every cached layer no other image or
    /// running task uses.
    ///
    /// # Errors
    /// [`Error::ImageNotFound`], or I/O errors.
    pub fn remove(&self, name: &str) -> Result<()> {
        self.get(name)?;
        let path = self.record_path(name)?;
        fs::remove_file(&path).ctx("remove image record", &path)?;
        self.collect_garbage()
    }

    pub(crate) fn collect_garbage(&self) -> Result<()> {
        let mut keep: BTreeSet<String> = crate::runtime::layers_in_use(&self.root)?;
        for record in self.list()? {
            keep.extend(record.layers.iter().map(|d| d.hex().to_owned()));
        }
        let dir = self.root.join("layers");
        for entry in fs::read_dir(&dir).ctx("list layers", &dir)? {
            let entry = entry.ctx("list layers", &dir)?;
            let hex = entry.file_name().to_string_lossy().into_owned();
            if !keep.contains(&hex) {
                fs::remove_dir_all(entry.path()).ctx("remove layer", entry.path())?;
            }
        }
        Ok(())
    }

    /// Makes sure layer `diff_id` is in the cache, unpacking `layer` (a tar,
    /// gzipped or not) only when it is not; the uncompressed bytes must hash
    /// to `diff_id` and fit in `budget`, or nothing is kept.
    pub(crate) fn ensure_layer(
        &self,
        diff_id: &Digest,
        layer: impl Read,
        budget: &mut Budget,
    ) -> Result<()> {
        let final_dir = self.layer_dir(diff_id);
        if final_dir.is_dir() {
            return Ok(());
        }
        let tmp = self.staging_path("layer");
        fs::create_dir(&tmp).ctx("create directory", &tmp)?;
        let result = unpack_verified(layer, diff_id, &tmp, budget).map_err(|e| budget.explain(e));
        if let Err(e) = result {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
        if fs::rename(&tmp, &final_dir).is_err() {
            // Another import won the race; its copy is identical.
            let _ = fs::remove_dir_all(&tmp);
            if !final_dir.is_dir() {
                return Err(Error::InvalidArchive(format!(
                    "cannot cache layer {diff_id}"
                )));
            }
        }
        Ok(())
    }
}

fn unpack_verified(
    layer: impl Read,
    diff_id: &Digest,
    dest: &Path,
    budget: &mut Budget,
) -> Result<()> {
    let mut buffered = BufReader::with_capacity(1 << 16, layer);
    let head = buffered.fill_buf().ctx("read layer", dest)?;
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let zstd = head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]);
    if zstd {
        return Err(Error::InvalidArchive(format!(
            "layer {diff_id} is zstd-compressed; only tar and tar+gzip are supported"
        )));
    }
    // Capped as it is decompressed: a bomb stops here, not on a full disk.
    let plain: Box<dyn Read> = if gzip {
        Box::new(budget.unpacked(flate2::read::MultiGzDecoder::new(buffered)))
    } else {
        Box::new(budget.unpacked(buffered))
    };
    let mut hashing = HashingReader::new(plain);
    unpack_layer(&mut hashing, dest, budget)?;
    let (actual, _) = hashing.finish().ctx("read layer", dest)?;
    diff_id.verify(&actual, format!("layer {diff_id} (uncompressed)"))
}

/// Image names become file names: keep them to a safe alphabet.
pub(crate) fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidImageName(name.to_owned()))
    }
}
