//! The default image: the host's static busybox with a link per applet,
//! plus a layer of the host's GNU tools ([`super::host_tools`]), built on
//! first use so a job that names no image just works.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use super::limits::Budget;
use super::store::{ImageConfig, ImageRecord, ImageStore};
use crate::digest::Digest;
use crate::error::IoContext;
use crate::{Error, Result};

/// Name of the image used when a task names none.
pub const DEFAULT_IMAGE: &str = "default";

const BUSYBOX_PATHS: [&str; 2] = ["/bin/busybox", "/usr/bin/busybox"];
const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n";
const GROUP: &str = "root:x:0:\nnogroup:x:65534:\n";
/// `source` of a default image with the host tools layer; a record with
/// another `busybox...` source was built by an older version (or fell back
/// to busybox only) and is rebuilt.
const SOURCE: &str = "busybox+host-tools/1";
const BUSYBOX_ONLY: &str = "busybox";
/// Set when this process could not copy the host tools, so a busybox-only
/// default image is not rebuilt for every task.
static NO_HOST_TOOLS: AtomicBool = AtomicBool::new(false);

/// Builds the default image from the host's busybox-static and GNU tools
/// unless the store has one from this version; returns its record. An
/// image named `default` that the user imported is left alone.
///
/// # Errors
/// [`Error::BusyboxMissing`], [`Error::BusyboxNotStatic`] or I/O errors.
pub fn ensure_default_image(store: &ImageStore) -> Result<ImageRecord> {
    let old = match store.get(DEFAULT_IMAGE) {
        Err(Error::ImageNotFound(_)) => None,
        Ok(r) if r.source == SOURCE || !r.source.starts_with(BUSYBOX_ONLY) => return Ok(r),
        // Fell back earlier in this process: retried at the next start.
        Ok(r) if r.source == BUSYBOX_ONLY && NO_HOST_TOOLS.load(Ordering::Relaxed) => return Ok(r),
        Ok(r) => Some(r),
        Err(e) => return Err(e),
    };
    let busybox = find_busybox()?;
    let layer = busybox_layer(&busybox)?;
    let diff_id = Digest::of(&layer);
    // Built here from the host's own files: no cap applies.
    let mut budget = Budget::unlimited();
    store.ensure_layer(&diff_id, &layer[..], &mut budget)?;
    let mut layers = vec![diff_id];
    let mut source = BUSYBOX_ONLY;
    if let Some(tools) = super::host_tools::layer() {
        let diff_id = Digest::of(&tools);
        store.ensure_layer(&diff_id, &tools[..], &mut budget)?;
        layers.push(diff_id);
        source = SOURCE;
    } else {
        NO_HOST_TOOLS.store(true, Ordering::Relaxed);
    }
    let config = ImageConfig {
        env: vec!["PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin".into()],
        working_dir: Some("/".into()),
        user: None,
    };
    let record = ImageRecord::new(DEFAULT_IMAGE, layers, config, source);
    if old.as_ref() == Some(&record) {
        return Ok(record);
    }
    store.put(&record)?;
    if old.is_some() {
        // Drops the layers only the old default image used.
        store.collect_garbage()?;
    }
    Ok(record)
}

fn find_busybox() -> Result<PathBuf> {
    let path = BUSYBOX_PATHS
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or(Error::BusyboxMissing)?;
    let bytes = std::fs::read(&path).ctx("read busybox", &path)?;
    // A dynamically linked busybox would find no libc in the image.
    if has_interpreter(&bytes) {
        return Err(Error::BusyboxNotStatic(path));
    }
    Ok(path)
}

/// Whether a 64-bit little-endian ELF file has a `PT_INTERP` header.
fn has_interpreter(elf: &[u8]) -> bool {
    let u16_at = |o: usize| {
        elf.get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
    };
    let u64_at = |o: usize| {
        elf.get(o..o + 8)
            .and_then(|b| b.try_into().ok())
            .map(|b: [u8; 8]| u64::from_le_bytes(b) as usize)
    };
    let (Some(phoff), Some(size), Some(count)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38)) else {
        return true;
    };
    (0..count).any(|i| elf.get(phoff + i * size..phoff + i * size + 4) == Some(&[3, 0, 0, 0][..]))
}

fn applets(busybox: &Path) -> Result<Vec<String>> {
    let out = Command::new(busybox)
        .arg("--list")
        .output()
        .ctx("run busybox --list", busybox)?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|a| !a.is_empty() && !a.contains('/') && *a != "busybox")
        .map(str::to_owned)
        .collect())
}

/// The image's single layer as an in-memory tar (about 2 MiB).
fn busybox_layer(busybox: &Path) -> Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    let io = |e| Error::Io {
        action: "build default image",
        path: busybox.to_path_buf(),
        source: e,
    };
    for (dir, mode) in [
        ("bin", 0o755),
        ("etc", 0o755),
        ("root", 0o700),
        ("tmp", 0o1777),
    ] {
        let mut h = header(tar::EntryType::Directory, mode, 0);
        tar.append_data(&mut h, dir, std::io::empty()).map_err(io)?;
    }
    let binary = std::fs::read(busybox).ctx("read busybox", busybox)?;
    let mut h = header(tar::EntryType::Regular, 0o755, binary.len() as u64);
    tar.append_data(&mut h, "bin/busybox", &binary[..])
        .map_err(io)?;
    for (name, text) in [("etc/passwd", PASSWD), ("etc/group", GROUP)] {
        let mut h = header(tar::EntryType::Regular, 0o644, text.len() as u64);
        tar.append_data(&mut h, name, text.as_bytes()).map_err(io)?;
    }
    for applet in applets(busybox)? {
        let mut h = header(tar::EntryType::Symlink, 0o777, 0);
        tar.append_link(&mut h, format!("bin/{applet}"), "busybox")
            .map_err(io)?;
    }
    tar.into_inner().map_err(io)
}

pub(super) fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(0);
    h
}
