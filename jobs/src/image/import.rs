//! Importing `docker save` archives and OCI image layouts.
//!
//! An archive is first staged (its regular files only, paths checked) so
//! the two formats can be read in any entry order; an OCI layout directory
//! is read in place. Every blob is hashed before it is parsed or unpacked.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read};
use std::path::{Component, Path, PathBuf};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::format::{self, ConfigFile};
use super::limits::Budget;
use super::store::{validate_name, ImageRecord, ImageStore};
use crate::digest::{Digest, HashingReader};
use crate::error::IoContext;
use crate::safe_fs::{open_regular, OpenError};
use crate::{Error, Result};

/// Imports image `name` from a local file (a `docker save` archive or a tar
/// of an OCI layout) or an OCI layout directory, replacing any image of that
/// name.
///
/// # Errors
/// [`Error::InvalidArchive`], [`Error::DigestMismatch`], [`Error::UnsafeEntry`]
/// and I/O errors; nothing is recorded on error.
pub fn import_path(store: &ImageStore, path: &Path, name: &str) -> Result<ImageRecord> {
    validate_name(name)?;
    if path.is_dir() {
        let mut budget = Budget::new(store.limits());
        return import_dir(store, path, name, &mut budget, true).map_err(|e| budget.explain(e));
    }
    let file = File::open(path).ctx("open image archive", path)?;
    import_reader(store, file, name)
}

/// Imports image `name` from a stream holding a `docker save` archive or a
/// tar of an OCI layout, either possibly gzipped (for example an object's bytes from the store).
///
/// # Errors
/// As [`import_path`].
pub fn import_reader(store: &ImageStore, reader: impl Read, name: &str) -> Result<ImageRecord> {
    validate_name(name)?;
    let mut budget = Budget::new(store.limits());
    let staging = store.staging_path("import");
    // `docker save | gzip` is as common as the bare archive.
    let mut buffered = BufReader::new(budget.compressed(reader));
    let gzip = buffered
        .fill_buf()
        .ctx("read image archive", &staging)?
        .starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read> = if gzip {
        Box::new(budget.unpacked(flate2::read::MultiGzDecoder::new(buffered)))
    } else {
        Box::new(buffered)
    };
    // The layers were counted as compressed bytes with the archive.
    let result = stage_archive(reader, &staging, &mut budget)
        .and_then(|()| import_dir(store, &staging, name, &mut budget, false))
        .map_err(|e| budget.explain(e));
    let _ = fs::remove_dir_all(&staging);
    result
}

/// Async form of [`import_reader`]: spools `reader` to the state directory,
/// then imports on a blocking thread.
///
/// # Errors
/// As [`import_path`].
pub async fn import_async(
    store: &ImageStore,
    mut reader: impl AsyncRead + Unpin,
    name: &str,
) -> Result<ImageRecord> {
    validate_name(name)?;
    let spool = store.staging_path("spool");
    let max = store.limits().compressed_bytes;
    let copied = async {
        let mut file = tokio::fs::File::create(&spool).await?;
        let n = tokio::io::copy(&mut (&mut reader).take(max.saturating_add(1)), &mut file).await?;
        file.flush().await?;
        Ok(n)
    }
    .await
    .ctx("spool image archive", &spool);
    let result = match copied {
        Ok(n) if n > max => Err(Error::ImageLimit {
            what: "compressed size",
            limit: max,
        }),
        Ok(_) => {
            let (store2, spool2, name2) = (store.clone(), spool.clone(), name.to_owned());
            tokio::task::spawn_blocking(move || import_path(&store2, &spool2, &name2))
                .await
                .map_err(|e| Error::InvalidArchive(format!("import task failed: {e}")))?
        }
        Err(e) => Err(e),
    };
    let _ = fs::remove_file(&spool);
    result
}

/// Imports the image laid out in `dir`; `count_layers`: the layer blobs
/// count as compressed bytes (they were not counted as an archive's).
fn import_dir(
    store: &ImageStore,
    dir: &Path,
    name: &str,
    budget: &mut Budget,
    count_layers: bool,
) -> Result<ImageRecord> {
    let json_max = budget.limits().json_bytes;
    let (config, layers, source) = if dir.join("index.json").is_file() {
        let (config, layers) = format::oci_layout(dir, json_max)?;
        (config, layers, "oci-layout")
    } else if dir.join("manifest.json").is_file() {
        let (config, layers) = format::docker_save(dir, json_max)?;
        (config, layers, "docker-save")
    } else {
        return Err(Error::InvalidArchive(
            "neither index.json (OCI layout) nor manifest.json (docker save) found".into(),
        ));
    };
    let diff_ids = check_layer_count(&config, &layers)?;
    for (layer, diff_id) in layers.iter().zip(&diff_ids) {
        if let Some(expected) = &layer.digest {
            verify_file(&layer.path, expected)?;
        }
        let file = open_blob(&layer.path, u64::MAX)?;
        let file: Box<dyn Read> = if count_layers {
            Box::new(budget.compressed(file))
        } else {
            Box::new(file)
        };
        store.ensure_layer(diff_id, file, budget)?;
    }
    let record = ImageRecord::new(name, diff_ids, config.image_config(), source);
    store.put(&record)?;
    Ok(record)
}

/// A layer blob found in the archive, with its compressed digest when the
/// format gives one.
pub(crate) struct LayerBlob {
    pub path: PathBuf,
    pub digest: Option<Digest>,
}

fn check_layer_count(config: &ConfigFile, layers: &[LayerBlob]) -> Result<Vec<Digest>> {
    let diff_ids = config.diff_ids()?;
    if diff_ids.len() != layers.len() {
        return Err(Error::InvalidArchive(format!(
            "{} layers but {} diff_ids in the image config",
            layers.len(),
            diff_ids.len()
        )));
    }
    Ok(diff_ids)
}

/// Hashes a staged file and compares it with the digest naming it.
pub(crate) fn verify_file(path: &Path, expected: &Digest) -> Result<()> {
    let file = open_blob(path, u64::MAX)?;
    let (actual, _) = HashingReader::new(file).finish().ctx("read blob", path)?;
    expected.verify(&actual, path.display().to_string())
}

/// Opens a file of an image (staged, or an OCI layout directory) only if
/// it is a regular file of at most `max` bytes (`max` is the JSON cap
/// where one applies).
pub(crate) fn open_blob(path: &Path, max: u64) -> Result<File> {
    open_regular(path, max).map_err(|e| match e {
        OpenError::Io { source, .. } => Error::Io {
            action: "open image file",
            path: path.to_path_buf(),
            source,
        },
        OpenError::TooLarge { max, .. } => Error::ImageLimit {
            what: "manifest or config JSON size",
            limit: max,
        },
        other => Error::InvalidArchive(other.to_string()),
    })
}

/// Joins an archive-relative path below `dir`, refusing `..` and absolute
/// paths.
pub(crate) fn safe_join(dir: &Path, rel: &str) -> Result<PathBuf> {
    let mut out = dir.to_path_buf();
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            _ => {
                return Err(Error::UnsafeEntry {
                    path: rel.to_owned(),
                    reason: "archive path leaves the archive",
                })
            }
        }
    }
    Ok(out)
}

/// Writes the archive's regular files under `dir`. Symlinks between files
/// (older `docker save` links shared `layer.tar`s) become hard links once
/// every file is there; other entry types are not needed and are skipped.
fn stage_archive(reader: impl Read, dir: &Path, budget: &mut Budget) -> Result<()> {
    fs::create_dir_all(dir).ctx("create directory", dir)?;
    let mut archive = tar::Archive::new(reader);
    let mut links = Vec::new();
    for entry in archive.entries().ctx("read image archive", dir)? {
        let mut entry = entry.ctx("read image archive", dir)?;
        budget.count_file()?;
        let rel = entry.path().ctx("read archive path", dir)?;
        let rel = rel.to_string_lossy().into_owned();
        let target = safe_join(dir, &rel)?;
        match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent).ctx("create directory", parent)?;
                }
                let mut file = File::create(&target).ctx("stage file", &target)?;
                std::io::copy(&mut entry, &mut file).ctx("stage file", &target)?;
            }
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let link = entry.link_name().ctx("read archive link", dir)?;
                let link = link.map(|l| l.to_string_lossy().into_owned());
                links.push((rel, entry.header().entry_type(), link.unwrap_or_default()));
            }
            _ => {}
        }
    }
    for (rel, kind, link) in links {
        let source = if kind == tar::EntryType::Symlink {
            let base = Path::new(&rel).parent().unwrap_or(Path::new(""));
            resolve_relative(base, &link, &rel)?
        } else {
            link
        };
        let from = safe_join(dir, &source)?;
        let to = safe_join(dir, &rel)?;
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).ctx("create directory", parent)?;
        }
        fs::hard_link(&from, &to).ctx("stage linked file", &to)?;
    }
    Ok(())
}

/// Resolves a relative symlink target lexically inside the archive.
fn resolve_relative(base: &Path, link: &str, rel: &str) -> Result<String> {
    let mut parts: Vec<String> = base
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    for c in Path::new(link).components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir if parts.pop().is_some() => {}
            _ => {
                return Err(Error::UnsafeEntry {
                    path: rel.to_owned(),
                    reason: "archive link leaves the archive",
                })
            }
        }
    }
    Ok(parts.join("/"))
}
