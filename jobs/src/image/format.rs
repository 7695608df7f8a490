//! The two on-disk formats: `docker save` (`manifest.json`) and the OCI
//! image layout (`oci-layout`, `index.json`, `blobs/sha256/`).

use std::io::Read;
use std::path::Path;

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest, MediaType};
use serde::Deserialize;

use super::import::{open_blob, safe_join, verify_file, LayerBlob};
use super::store::ImageConfig;
use crate::digest::Digest;
use crate::error::{json, IoContext};
use crate::{Error, Result};

/// The parts of an image config JSON (identical in both formats) we use.
#[derive(Debug, Deserialize)]
pub(crate) struct ConfigFile {
    #[serde(default)]
    config: Option<RunConfig>,
    rootfs: RootFs,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RunConfig {
    #[serde(default)]
    env: Option<Vec<String>>,
    #[serde(default)]
    working_dir: Option<String>,
    #[serde(default)]
    user: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RootFs {
    diff_ids: Vec<String>,
}

impl ConfigFile {
    pub(crate) fn diff_ids(&self) -> Result<Vec<Digest>> {
        self.rootfs
            .diff_ids
            .iter()
            .map(|d| Digest::parse(d))
            .collect()
    }

    pub(crate) fn image_config(&self) -> ImageConfig {
        let c = self.config.as_ref();
        let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        ImageConfig {
            env: c.and_then(|c| c.env.clone()).unwrap_or_default(),
            working_dir: c.and_then(|c| nonempty(&c.working_dir)),
            user: c.and_then(|c| nonempty(&c.user)),
        }
    }
}

/// A manifest, index or config: a regular file of at most `max` bytes.
fn read_small(path: &Path, max: u64) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open_blob(path, max)?
        .take(max)
        .read_to_end(&mut bytes)
        .ctx("read", path)?;
    Ok(bytes)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str, max: u64) -> Result<T> {
    let bytes = read_small(path, max)?;
    serde_json::from_slice(&bytes).map_err(json(what))
}

/// One entry of `docker save`'s `manifest.json`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifest {
    config: String,
    layers: Vec<String>,
}

/// Reads a staged `docker save` archive: its first image.
pub(crate) fn docker_save(dir: &Path, json_max: u64) -> Result<(ConfigFile, Vec<LayerBlob>)> {
    let manifests: Vec<DockerManifest> =
        read_json(&dir.join("manifest.json"), "manifest.json", json_max)?;
    let manifest = manifests
        .into_iter()
        .next()
        .ok_or_else(|| Error::InvalidArchive("manifest.json lists no image".into()))?;
    let config_path = safe_join(dir, &manifest.config)?;
    // Both the old (`<hex>.json`) and the new (`blobs/sha256/<hex>`) layouts
    // name the config by its digest; check it.
    let stem = config_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    let hex = stem
        .as_deref()
        .map(|n| n.trim_end_matches(".json"))
        .unwrap_or("");
    let config_digest = Digest::parse(&format!("sha256:{hex}")).map_err(|_| {
        Error::InvalidArchive(format!(
            "config {:?} is not named by its digest",
            manifest.config
        ))
    })?;
    verify_file(&config_path, &config_digest)?;
    let config: ConfigFile = read_json(&config_path, "image config", json_max)?;
    let layers = manifest
        .layers
        .iter()
        .map(|rel| {
            let path = safe_join(dir, rel)?;
            let digest = rel
                .strip_prefix("blobs/sha256/")
                .and_then(|hex| Digest::parse(&format!("sha256:{hex}")).ok());
            Ok(LayerBlob { path, digest })
        })
        .collect::<Result<_>>()?;
    Ok((config, layers))
}

fn blob_path(dir: &Path, digest: &str) -> Result<(std::path::PathBuf, Digest)> {
    let digest = Digest::parse(digest)?;
    Ok((dir.join("blobs/sha256").join(digest.hex()), digest))
}

/// A verified blob's bytes, checked against its descriptor's size too.
fn read_blob(dir: &Path, desc: &Descriptor, json_max: u64) -> Result<Vec<u8>> {
    let (path, digest) = blob_path(dir, desc.digest().as_ref())?;
    let bytes = read_small(&path, json_max)?;
    digest.verify(&Digest::of(&bytes), format!("blob {digest}"))?;
    if bytes.len() as u64 != desc.size() {
        return Err(Error::InvalidArchive(format!(
            "blob {digest} has the wrong size"
        )));
    }
    Ok(bytes)
}

fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(json(what))
}

/// Reads an OCI image layout: the first image manifest of `index.json`
/// (descending into a nested index, which `docker save` writes).
pub(crate) fn oci_layout(dir: &Path, json_max: u64) -> Result<(ConfigFile, Vec<LayerBlob>)> {
    if !dir.join("oci-layout").is_file() {
        return Err(Error::InvalidArchive(
            "index.json without oci-layout".into(),
        ));
    }
    let mut index: ImageIndex = read_json(&dir.join("index.json"), "index.json", json_max)?;
    let manifest: ImageManifest = loop {
        let desc = index
            .manifests()
            .first()
            .cloned()
            .ok_or_else(|| Error::InvalidArchive("index lists no manifest".into()))?;
        let bytes = read_blob(dir, &desc, json_max)?;
        if *desc.media_type() == MediaType::ImageIndex {
            index = parse(&bytes, "nested index")?;
            continue;
        }
        break parse(&bytes, "image manifest")?;
    };
    let config: ConfigFile = parse(
        &read_blob(dir, manifest.config(), json_max)?,
        "image config",
    )?;
    let layers = manifest
        .layers()
        .iter()
        .map(|desc| {
            check_layer_type(desc.media_type())?;
            let (path, digest) = blob_path(dir, desc.digest().as_ref())?;
            Ok(LayerBlob {
                path,
                digest: Some(digest),
            })
        })
        .collect::<Result<_>>()?;
    Ok((config, layers))
}

fn check_layer_type(media: &MediaType) -> Result<()> {
    let text = media.to_string();
    if text.ends_with("zstd") {
        return Err(Error::InvalidArchive(format!(
            "unsupported layer media type {text}"
        )));
    }
    Ok(())
}
